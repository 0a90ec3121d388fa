package provider_test

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestQuotaCheck(t *testing.T) {
	tests := []struct {
		name  string
		q     provider.Quota
		field string // "" when valid
	}{
		{"zero is the default", provider.Quota{}, ""},
		{"unlimited", provider.Quota{Unlimited: true}, ""},
		{"10 a day", provider.Quota{Calls: 10, Per: 24 * time.Hour}, ""},
		{"negative calls", provider.Quota{Calls: -1, Per: time.Minute}, "q.calls"},
		{"negative per", provider.Quota{Calls: 1, Per: -time.Minute}, "q.per"},
		{"calls without per", provider.Quota{Calls: 5}, "q.per"},
		{"per without calls", provider.Quota{Per: time.Minute}, "q.calls"},
		{"unlimited with calls", provider.Quota{Calls: 5, Per: time.Minute, Unlimited: true}, "q"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.q.Check("q")
			if tt.field == "" {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Equal(t, tt.field, provider.FieldOf(err))
		})
	}
}

func TestQuotaOrAndString(t *testing.T) {
	def := provider.Quota{Calls: 5, Per: time.Minute}
	assert.Equal(t, def, provider.Quota{}.Or(def))
	off := provider.Quota{Unlimited: true}
	assert.Equal(t, off, off.Or(def))
	assert.Equal(t, "5/1m0s", def.String())
	assert.Equal(t, "unlimited", off.String())
}

// TestLimiterTake empties a bucket of 5 a minute, finds the wait for the
// next token (12s), and that it is there at that time and not before.
func TestLimiterTake(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	l := provider.NewLimiter(provider.Quota{Calls: 5, Per: time.Minute})
	for i := range 5 {
		_, ok := l.Take(t0)
		require.True(t, ok, "call %d", i+1)
	}
	wait, ok := l.Take(t0)
	require.False(t, ok)
	assert.InDelta(t, float64(12*time.Second), float64(wait), float64(time.Millisecond))
	_, ok = l.Take(t0.Add(wait - 10*time.Millisecond))
	assert.False(t, ok, "not before the token")
	_, ok = l.Take(t0.Add(wait))
	assert.True(t, ok, "the token is there after the wait")
	_, ok = l.Take(t0.Add(wait))
	assert.False(t, ok, "and only one")
}

func TestLimiterUnlimited(t *testing.T) {
	t0 := time.Now()
	for _, l := range []*provider.Limiter{nil, provider.NewLimiter(provider.Quota{}), provider.NewLimiter(provider.Quota{Unlimited: true})} {
		for range 1000 {
			wait, ok := l.Take(t0)
			require.True(t, ok)
			require.Zero(t, wait)
		}
	}
}

// TestLimitersConcurrent takes tokens from many goroutines at one instant:
// exactly the bucket's size get through, per key.
func TestLimitersConcurrent(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	ls := provider.NewLimiters(func(k string) provider.Quota {
		if k == "broadcast" {
			return provider.Quota{Calls: 10, Per: 24 * time.Hour}
		}
		return provider.Quota{Calls: 5, Per: time.Minute}
	})
	var got [2]atomic.Int64
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			k := []string{"broadcast", "groupcast"}[i%2]
			if _, ok := ls.Take(k, t0); ok {
				got[i%2].Add(1)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(10), got[0].Load())
	assert.Equal(t, int64(5), got[1].Load())
}

func TestQuotaError(t *testing.T) {
	err := provider.QuotaError("umeng", "send", "android broadcast", provider.Quota{Calls: 10, Per: 24 * time.Hour}, 2*time.Hour)
	assert.ErrorIs(t, err, provider.RateLimited)
	assert.Equal(t, 2*time.Hour, provider.RetryAfterOf(err))
	assert.False(t, provider.KindOf(err).SpendsAttempt())
	assert.Contains(t, err.Error(), "android broadcast quota 10/24h0m0s")
}

// TestTakeAll: a token is taken from every bucket or from none; the wait
// is the longest of the empty buckets'.
func TestTakeAll(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	day := provider.NewLimiter(provider.Quota{Calls: 3, Per: 24 * time.Hour})
	minute := provider.NewLimiter(provider.Quota{Calls: 2, Per: time.Minute})
	for range 2 {
		_, ok := provider.TakeAll(now, day, minute, nil, provider.NewLimiter(provider.Quota{Unlimited: true}))
		require.True(t, ok)
	}
	wait, ok := provider.TakeAll(now, day, minute)
	require.False(t, ok)
	assert.Equal(t, 30*time.Second, wait, "the minute's bucket refills a token in 30 s")
	// Nothing was taken from the day's bucket by the refused call: its
	// last token is still there once the minute's refills.
	now = now.Add(wait)
	_, ok = provider.TakeAll(now, day, minute)
	require.True(t, ok)
	now = now.Add(time.Minute)
	wait, ok = provider.TakeAll(now, day, minute)
	require.False(t, ok)
	assert.InDelta(t, float64(8*time.Hour-90*time.Second), float64(wait), float64(time.Second), "the day's bucket is the longer wait")
	_, ok = day.Take(now)
	assert.False(t, ok)
	_, ok = minute.Take(now)
	assert.True(t, ok, "the refused call took nothing from the minute's bucket")
}

// TestLimiterBooksRefusedCalls: calls refused by an empty bucket are each
// told of a token of their own, a token's time apart, so that all of them
// find one when they come back as told; the bookings end with the quiet.
func TestLimiterBooksRefusedCalls(t *testing.T) {
	t0 := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	l := provider.NewLimiter(provider.Quota{Calls: 5, Per: time.Minute})
	for range 5 {
		_, ok := l.Take(t0)
		require.True(t, ok)
	}
	var waits []time.Duration
	for range 3 {
		wait, ok := l.Take(t0)
		require.False(t, ok)
		waits = append(waits, wait.Round(time.Millisecond))
	}
	assert.Equal(t, []time.Duration{12 * time.Second, 24 * time.Second, 36 * time.Second}, waits)
	for _, w := range waits {
		_, ok := l.Take(t0.Add(w))
		assert.True(t, ok, "the call told to wait %v finds its token", w)
	}
	// After a quiet minute the bucket is full, and the next refusal waits
	// for the next token only.
	t1 := t0.Add(2 * time.Minute)
	for range 5 {
		_, ok := l.Take(t1)
		require.True(t, ok)
	}
	wait, ok := l.Take(t1)
	require.False(t, ok)
	assert.InDelta(t, float64(12*time.Second), float64(wait), float64(time.Millisecond))
}

// TestTakeAllBooksTheLongestWaitOnly: a call both a day's and a minute's
// bucket refuse comes back when the day's refills; booking the minute's
// too would only push its own later refusals further out.
func TestTakeAllBooksTheLongestWaitOnly(t *testing.T) {
	now := time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)
	day := provider.NewLimiter(provider.Quota{Calls: 1, Per: 24 * time.Hour})
	minute := provider.NewLimiter(provider.Quota{Calls: 1, Per: time.Minute})
	_, ok := provider.TakeAll(now, day, minute)
	require.True(t, ok)
	for range 3 {
		wait, ok := provider.TakeAll(now, day, minute)
		require.False(t, ok)
		assert.Greater(t, wait, time.Hour, "the day's wait")
	}
	assert.False(t, day.Ready(now))
	assert.False(t, minute.Ready(now))
	wait, ok := minute.Take(now)
	require.False(t, ok)
	assert.Equal(t, time.Minute, wait.Round(time.Second), "the minute's bucket booked nothing for the refused calls")
	assert.True(t, minute.Ready(now.Add(time.Minute)))
}
