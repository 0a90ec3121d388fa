package umeng_test

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// syncClock is a clock tests move while sends run.
type syncClock struct{ ns atomic.Int64 }

func newSyncClock(t time.Time) *syncClock {
	c := &syncClock{}
	c.ns.Store(t.UnixNano())
	return c
}

func (c *syncClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *syncClock) Add(d time.Duration) { c.ns.Add(int64(d)) }
func sendsOfType(s []umengtest.Request, typ string) int {
	n := 0
	for _, r := range s {
		if r.Type == typ {
			n++
		}
	}
	return n
}

func quotaRequest(p provider.Platform, a provider.Audience, i int) *provider.Request {
	return &provider.Request{Platform: p, Audience: a, Notification: provider.Notification{Title: "t", Body: "b"},
		IdempotencyKey: fmt.Sprint("quota-", i)}
}

// TestQuotasDefault: with no Quotas configured, the 11th broadcast of a
// day and the 6th groupcast of a minute make no call; the error is
// RateLimited with the wait for the next token; each app has its own
// buckets; the next token comes after that wait.
func TestQuotasDefault(t *testing.T) {
	ctx := context.Background()
	clk := newSyncClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, nil)
	broadcast := provider.Audience{Kind: provider.AudienceBroadcast}
	for i := range 10 {
		_, err := c.Send(ctx, quotaRequest(provider.Android, broadcast, i))
		require.NoError(t, err, "broadcast %d", i+1)
	}
	_, err := c.Send(ctx, quotaRequest(provider.Android, broadcast, 10))
	require.ErrorIs(t, err, provider.RateLimited)
	assert.Empty(t, provider.CodeOf(err), "refused here, not by Umeng")
	assert.InDelta(t, float64(24*time.Hour/10), float64(provider.RetryAfterOf(err)), float64(time.Second))
	assert.Equal(t, 10, sendsOfType(fake.Sends(), "broadcast"), "nothing sent for the 11th")

	_, err = c.Send(ctx, quotaRequest(provider.IOS, broadcast, 11))
	require.NoError(t, err, "iOS is another app with its own bucket")

	// The bucket has a token again after the wait, but Umeng counts its
	// 10 in any day (the fake too), so this test waits a whole day.
	clk.Add(24*time.Hour + time.Second)
	_, err = c.Send(ctx, quotaRequest(provider.Android, broadcast, 12))
	require.NoError(t, err, "a new day")

	group := provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}}
	for i := range 5 {
		_, err := c.Send(ctx, quotaRequest(provider.Android, group, 100+i))
		require.NoError(t, err, "groupcast %d", i+1)
	}
	_, err = c.Send(ctx, quotaRequest(provider.Android, group, 105))
	require.ErrorIs(t, err, provider.RateLimited)
	assert.InDelta(t, float64(12*time.Second), float64(provider.RetryAfterOf(err)), float64(time.Millisecond))
	assert.Equal(t, 5, sendsOfType(fake.Sends(), "groupcast"))

	for i := range 20 {
		_, err := c.Send(ctx, quotaRequest(provider.Android, provider.Audience{Kind: provider.AudienceTokens,
			Tokens: []string{umengtest.AndroidToken(fmt.Sprint(i))}}, 200+i))
		require.NoError(t, err, "unicast is not limited")
	}
}

// TestQuotasFileCasts: filecasts and customizedcasts by file_id each
// have a bucket of Quotas.Filecast; the upload of StrategyFilecast is not
// made when the filecast bucket is empty.
func TestQuotasFileCasts(t *testing.T) {
	ctx := context.Background()
	clk := newSyncClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, func(cfg *umeng.Config) {
		cfg.Strategy = umeng.StrategyFilecast
		cfg.Quotas.Filecast = provider.Quota{Calls: 2, Per: time.Hour}
	})
	tokens := provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{umengtest.AndroidToken("1")}}
	for i := range 2 {
		_, err := c.Send(ctx, quotaRequest(provider.Android, tokens, i))
		require.NoError(t, err)
	}
	calls := len(fake.Requests())
	_, err := c.Send(ctx, quotaRequest(provider.Android, tokens, 3))
	require.ErrorIs(t, err, provider.RateLimited)
	assert.InDelta(t, float64(30*time.Minute), float64(provider.RetryAfterOf(err)), float64(time.Second))
	assert.Len(t, fake.Requests(), calls, "no upload, no send")

	fileID, err := c.Upload(ctx, provider.Android, []string{"alias-1"})
	require.NoError(t, err)
	byFile := provider.Audience{Kind: provider.AudienceFile, FileID: fileID, AliasType: "uid"}
	for i := range 2 {
		_, err = c.Send(ctx, quotaRequest(provider.Android, byFile, 10+i))
		require.NoError(t, err, "customizedcast by file has its own bucket")
	}
	_, err = c.Send(ctx, quotaRequest(provider.Android, byFile, 12))
	require.ErrorIs(t, err, provider.RateLimited)
	assert.Equal(t, 2, sendsOfType(fake.Sends(), "customizedcast"))
}

// TestQuotasConfigured: a higher limit lets the 11th broadcast and the
// 6th groupcast through; Unlimited switches the limit off; TestMode,
// which Umeng does not limit, has no default limits.
func TestQuotasConfigured(t *testing.T) {
	ctx := context.Background()
	broadcast := provider.Audience{Kind: provider.AudienceBroadcast}
	group := provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}}
	tests := []struct {
		name string
		mod  func(*umeng.Config)
	}{
		{"higher limits", func(cfg *umeng.Config) {
			cfg.Quotas = umeng.Quotas{Broadcast: provider.Quota{Calls: 20, Per: 24 * time.Hour},
				Groupcast: provider.Quota{Calls: 10, Per: time.Minute}}
		}},
		{"unlimited", func(cfg *umeng.Config) {
			cfg.Quotas = umeng.Quotas{Broadcast: provider.Quota{Unlimited: true}, Groupcast: provider.Quota{Unlimited: true}}
		}},
		{"test mode", func(cfg *umeng.Config) { cfg.TestMode = true }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The fake's own limits (10 a day, 5 a minute) are lifted with
			// the client's, so that the client's decision is what is seen.
			c, fake := newAgainstFake(t, umengtest.Config{NoRateLimits: true}, tt.mod)
			for i := range 11 {
				_, err := c.Send(ctx, quotaRequest(provider.Android, broadcast, i))
				require.NoError(t, err, "broadcast %d", i+1)
			}
			for i := range 6 {
				_, err := c.Send(ctx, quotaRequest(provider.Android, group, 100+i))
				require.NoError(t, err, "groupcast %d", i+1)
			}
			assert.Equal(t, 11, sendsOfType(fake.Sends(), "broadcast"))
			assert.Equal(t, 6, sendsOfType(fake.Sends(), "groupcast"))
		})
	}
}

// TestQuotasConcurrent: 40 goroutines groupcast at one instant; exactly 5
// reach Umeng, the rest are RateLimited before any call.
func TestQuotasConcurrent(t *testing.T) {
	ctx := context.Background()
	clk := newSyncClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, nil)
	group := provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}}
	var ok, limited atomic.Int64
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			_, err := c.Send(ctx, quotaRequest(provider.Android, group, i))
			switch {
			case err == nil:
				ok.Add(1)
			case provider.KindOf(err) == provider.RateLimited && provider.CodeOf(err) == "":
				limited.Add(1)
			default:
				t.Errorf("send %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(5), ok.Load())
	assert.Equal(t, int64(35), limited.Load())
	assert.Equal(t, 5, sendsOfType(fake.Sends(), "groupcast"))
}
