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
	var failing atomic.Bool
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.Store = messageReadsFail{c.Store, &failing}
		c.Retry.MaxAttempts = 5
	})
	svc, ms, m, clk := f.svc, f.store, f.mock, f.clk
	f.register(t, "u1", "d1", "android", "tok1")
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
