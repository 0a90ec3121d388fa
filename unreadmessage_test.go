package push_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// messageReadsFail is a store whose reads of a push message fail while
// failing is set.
type messageReadsFail struct {
	registry.Store
	failing *atomic.Bool
}

func (s messageReadsFail) GetPushMessage(ctx context.Context, id int64) (registry.PushMessage, error) {
	if s.failing.Load() {
		return registry.PushMessage{}, errors.New("the database is unreachable")
	}
	return s.Store.GetPushMessage(ctx, id)
}

// TestRetryWhoseMessageCannotBeReadIsDueAfterABackoff: a retry whose push
// message cannot be read is given back untried (its attempt refunded), due
// after the retry policy's backoff, not at once: a read that fails every
// time is made again once a backoff, not by every pass.
func TestRetryWhoseMessageCannotBeReadIsDueAfterABackoff(t *testing.T) {
	clk := newClock()
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	var failing atomic.Bool
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: messageReadsFail{ms, &failing}, Providers: []provider.Provider{m}, Now: clk.Now,
		Retry: push.RetryPolicy{Base: 30 * time.Second, Jitter: -1, MaxAttempts: 5}})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: "tok1"})
	require.NoError(t, err)
	m.FailNext(1, m.Err(provider.Temporary, ""))
	res, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Pending())

	clk.Advance(30 * time.Second)
	failing.Store(true)
	n, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	assert.Equal(t, 1, m.Calls(), "not sent")
	ds, err := ms.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, registry.DeliveryPending, ds[0].State)
	assert.Equal(t, 1, ds[0].Attempts, "the claim's attempt refunded")
	assert.Equal(t, clk.Now().Add(time.Minute), ds[0].NextAttemptAt, "due after the backoff for its attempts, not at once")
	assert.Empty(t, ds[0].ClaimToken, "given back")

	n, err = svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Zero(t, n, "not claimed again before the backoff")
}
