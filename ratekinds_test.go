package push_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
)

// TestRateAndQuotaRefusalsSpendNoAttempt: a rate refusal and a quota
// refusal alike are not the delivery's fault: each is rescheduled after
// RateLimitDelay (no Retry-After given) without spending an attempt, so
// that however many the vendor answers, the delivery never fails for them.
func TestRateAndQuotaRefusalsSpendNoAttempt(t *testing.T) {
	for _, kind := range []provider.Kind{provider.RateLimited, provider.QuotaExceeded} {
		t.Run(kind.String(), func(t *testing.T) {
			f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.Retry.RateLimitDelay = 7 * time.Minute })
			f.register(t, "u1", "d1", "android", "atok")
			f.mock.FailNext(4, &provider.Error{Provider: "umeng", Op: "send", Kind: kind})
			res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.Len(t, res.Deliveries, 1)
			assert.Equal(t, registry.DeliveryPending, res.Deliveries[0].State)
			for try := 1; try <= 4; try++ {
				ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
				require.NoError(t, err)
				require.Len(t, ds, 1)
				assert.Equal(t, registry.DeliveryPending, ds[0].State, "try %d", try)
				assert.Equal(t, 0, ds[0].Attempts, "try %d: no attempt spent", try)
				assert.Equal(t, f.clk.Now().Add(7*time.Minute), ds[0].NextAttemptAt, "try %d: after RateLimitDelay, not a backoff", try)
				f.clk.Advance(7 * time.Minute)
				n, err := f.svc.RetryPending(t.Context(), 10)
				require.NoError(t, err)
				require.Equal(t, 1, n)
			}
			ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
			require.NoError(t, err)
			assert.Equal(t, registry.DeliveryDone, ds[0].State, "sent once the vendor took it, MaxAttempts (3) never spent")
			assert.Equal(t, 1, ds[0].Attempts)
		})
	}
}
