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

// armedClaims is a store that arms a flag once a claim has returned rows.
type armedClaims struct {
	registry.Store
	armed *atomic.Bool
}

func (s armedClaims) ClaimCenterMessages(ctx context.Context, p registry.ClaimParams) ([]registry.CenterMessage, error) {
	rows, err := s.Store.ClaimCenterMessages(ctx, p)
	if len(rows) > 0 {
		s.armed.Store(true)
	}
	return rows, err
}

// passStoppedOnceClaimed runs a Scanner pass over one push row of title
// to user u1 (who has a device) that is stopped once the row is claimed:
// the Service's clock cancels the pass, so the push is made, or refused,
// with the pass's ctx ended. It returns the pass's report and the row as
// the pass left it, and the provider.
func passStoppedOnceClaimed(t *testing.T, title string) (messagecenter.Report, registry.CenterMessage, *providertest.Mock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	var armed atomic.Bool
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
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
	row := &registry.CenterMessage{Title: title, Content: "c", NotifyMode: "push", Receivers: "u1"}
	require.NoError(t, ms.EnqueueCenterMessage(t.Context(), row))

	rep, err := sc.RunOnce(ctx)
	require.NoError(t, err)
	require.Error(t, ctx.Err(), "the pass was stopped")
	got, err := ms.GetCenterMessage(t.Context(), row.ID)
	require.NoError(t, err)
	return rep, got, m
}

// TestARowRefusedAsTheScannerStopsFails: a push row whose push is refused
// for good (no title, no DefaultTitle) while the Scanner is stopping fails
// with its reason, as it would have a moment earlier; before, it was given
// back ("interrupted: permanent failure: …") to fail on the next pass, as
// if the stop had kept its push from being made.
func TestARowRefusedAsTheScannerStopsFails(t *testing.T) {
	rep, got, m := passStoppedOnceClaimed(t, "")
	assert.Equal(t, messagecenter.Report{Claimed: 1, Failed: 1}, rep)
	assert.Equal(t, registry.SendStateFailed, got.SendState)
	assert.Equal(t, "permanent failure: push: title: is required", got.Remark)
	assert.Zero(t, m.Calls())
}

// TestARowWhosePushTheStopInterruptedSpendsNoAttempt: a push row whose
// push the Scanner's stop kept from being recorded is given back
// (interrupted) with its claim's attempt refunded: it was never tried, and
// a host restarted often must not use up a row's attempts.
func TestARowWhosePushTheStopInterruptedSpendsNoAttempt(t *testing.T) {
	rep, got, m := passStoppedOnceClaimed(t, "t")
	assert.Equal(t, messagecenter.Report{Claimed: 1, Released: 1}, rep)
	assert.Equal(t, registry.SendStateUnsent, got.SendState)
	assert.Contains(t, got.Remark, "interrupted")
	assert.Zero(t, got.Attempts, "never tried: its attempt refunded")
	assert.Empty(t, got.ClaimToken, "given back")
	assert.Zero(t, m.Calls())
}
