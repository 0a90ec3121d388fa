package messagecenter_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// TestARowWhosePushTheStopInterruptedSpendsNoAttempt: a push row whose
// push the Scanner's stop kept from being recorded is given back
// (interrupted) with its claim's attempt refunded: it was never tried, and
// a host restarted often must not use up a row's attempts.
func TestARowWhosePushTheStopInterruptedSpendsNoAttempt(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	var armed atomic.Bool
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	// The Service's clock stops the pass once the rows are claimed: the
	// push is stopped before anything is recorded.
	svc, err := push.New(push.Config{Store: ms, Providers: []provider.Provider{m}, Now: func() time.Time {
		if armed.Load() {
			cancel()
		}
		return clk.Now()
	}})
	require.NoError(t, err)
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, Store: armedClaims{ms, &armed}, Now: clk.Now})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "ios", PushToken: "tok-1"})
	require.NoError(t, err)
	row := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}
	require.NoError(t, ms.EnqueueCenterMessage(t.Context(), row))

	rep, err := sc.RunOnce(ctx)
	require.NoError(t, err)
	require.Error(t, ctx.Err(), "the pass was stopped")
	assert.Equal(t, messagecenter.Report{Claimed: 1, Released: 1}, rep)
	got, err := ms.GetCenterMessage(t.Context(), row.ID)
	require.NoError(t, err)
	assert.Equal(t, registry.SendStateUnsent, got.SendState)
	assert.Contains(t, got.Remark, "interrupted")
	assert.Zero(t, got.Attempts, "never tried: its attempt refunded")
	assert.Empty(t, got.ClaimToken, "given back")
	assert.Zero(t, m.Calls())
}
