package jpush_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
)

func quotaPush(i int) *provider.Request {
	return &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{rid(provider.Android, i)}},
		Notification: provider.Notification{Title: "t", Body: "b"}, IdempotencyKey: fmt.Sprint("quota-", i)}
}

// TestQuotaDefault: 600 pushes a minute per appkey by default, sent by 16
// goroutines at one instant of the clock; the 601st and later make no call and
// are RateLimited, each told of a token of its own: 100ms, 200ms, … 4s
// (provider.Limiter books them); ValidateRemote draws on the same bucket; a
// minute later the bucket is full again.
func TestQuotaDefault(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, nil)
	var ok, limited atomic.Int64
	var mu sync.Mutex
	var waits []time.Duration
	// 16 senders share the 640 pushes: concurrent, yet few enough HTTP
	// calls at once for a loaded machine under -race.
	next := make(chan int)
	var wg sync.WaitGroup
	for range 16 {
		wg.Go(func() {
			for i := range next {
				_, err := c.Send(ctx, quotaPush(i))
				switch {
				case err == nil:
					ok.Add(1)
				case provider.KindOf(err) == provider.RateLimited && provider.CodeOf(err) == "":
					limited.Add(1)
					mu.Lock()
					waits = append(waits, provider.RetryAfterOf(err).Round(time.Millisecond))
					mu.Unlock()
				default:
					t.Errorf("push %d: %v", i, err)
				}
			}
		})
	}
	for i := range 640 {
		next <- i
	}
	close(next)
	wg.Wait()
	assert.Equal(t, int64(600), ok.Load())
	assert.Equal(t, int64(40), limited.Load())
	assert.Equal(t, 600, fake.Arrived("/v3/push"), "nothing sent over the quota")
	slices.Sort(waits)
	want := make([]time.Duration, 40)
	for i := range want {
		want[i] = time.Duration(i+1) * 100 * time.Millisecond
	}
	assert.Equal(t, want, waits, "each refused push is told of a token of its own")

	err := c.ValidateRemote(ctx, quotaPush(1000))
	require.ErrorIs(t, err, provider.RateLimited)
	assert.Zero(t, fake.Arrived("/v3/push/validate"))

	clk.Advance(time.Minute)
	_, err = c.Send(ctx, quotaPush(1001))
	require.NoError(t, err)
}

// TestQuotaConfigured: a paid plan's higher limit, or none, lets the
// 601st push through.
func TestQuotaConfigured(t *testing.T) {
	ctx := context.Background()
	for _, q := range []provider.Quota{{Calls: 1000, Per: time.Minute}, {Unlimited: true}} {
		t.Run(q.String(), func(t *testing.T) {
			clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
			c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, func(cfg *jpush.Config) { cfg.Quota = q })
			for i := range 601 {
				_, err := c.Send(ctx, quotaPush(i))
				require.NoError(t, err, "push %d", i+1)
			}
			assert.Equal(t, 601, fake.Arrived("/v3/push"))
		})
	}
}
