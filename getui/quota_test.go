package getui_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

func quotaPush(i int) *provider.Request {
	return &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, i)}},
		Notification: provider.Notification{Title: "t", Body: "b"}, IdempotencyKey: fmt.Sprintf("quota-%010d", i)}
}

// TestAuthQuotaDefault: auth calls that keep failing spend the default
// bucket of 100 a minute; the next send then makes no call at all and is
// RateLimited (Op auth) with the wait for the next token (600ms), which a
// caller retries later without spending an attempt. When a token comes
// back, auth succeeds and the send goes out.
func TestAuthQuotaDefault(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	require.NoError(t, fake.FailNext(100, getuitest.Fault{API: "/auth", HTTPStatus: 502}))
	for i := range 100 {
		_, err := c.Send(ctx, quotaPush(i))
		require.ErrorIs(t, err, provider.Temporary, "send %d: auth fails at the fake", i+1)
	}
	require.Equal(t, 100, fake.Arrived("/auth"))

	_, err := c.Send(ctx, quotaPush(100))
	require.ErrorIs(t, err, provider.RateLimited)
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "auth", pe.Op)
	assert.InDelta(t, float64(600*time.Millisecond), float64(pe.RetryAfter), float64(time.Millisecond))
	assert.Equal(t, 100, fake.Arrived("/auth"), "no auth call over the quota")
	assert.Zero(t, fake.Arrived("/push/single/cid"))

	clk.Advance(pe.RetryAfter)
	_, err = c.Send(ctx, quotaPush(101))
	require.NoError(t, err)
	assert.Equal(t, 101, fake.Arrived("/auth"))
}

// TestAuthQuotaSharedToken: concurrent senders share one token, so 50 of
// them spend one auth call, even with a bucket of one.
func TestAuthQuotaSharedToken(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{}, func(cfg *getui.Config) {
		cfg.AuthQuota = provider.Quota{Calls: 1, Per: time.Hour}
	})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, err := c.Send(ctx, quotaPush(i))
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, fake.Arrived("/auth"))
}

// TestAuthQuotaUnlimited: switched off, the 101st failing auth is still
// tried.
func TestAuthQuotaUnlimited(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, func(cfg *getui.Config) {
		cfg.AuthQuota = provider.Quota{Unlimited: true}
	})
	require.NoError(t, fake.FailNext(101, getuitest.Fault{API: "/auth", HTTPStatus: 502}))
	for i := range 101 {
		_, err := c.Send(ctx, quotaPush(i))
		require.ErrorIs(t, err, provider.Temporary, "send %d", i+1)
	}
	assert.Equal(t, 101, fake.Arrived("/auth"))
}
