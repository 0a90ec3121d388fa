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

// TestRetryAfterEndingAtTheExpiryEndsTheDelivery: a vendor that asks to
// be called again exactly when the push expires asks for a try no vendor
// would show: the delivery ends there, expired, rather than pending until
// a call at its expiry.
func TestRetryAfterEndingAtTheExpiryEndsTheDelivery(t *testing.T) {
	for _, kind := range []provider.Kind{provider.RateLimited, provider.Temporary} {
		t.Run(kind.String(), func(t *testing.T) {
			f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.Expiry = 24 * time.Hour })
			f.register(t, "u1", "d1", "android", "atok")
			f.mock.FailNext(1, &provider.Error{Provider: "umeng", Op: "send", Kind: kind, RetryAfter: 24 * time.Hour})
			res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.Len(t, res.Deliveries, 1)
			assert.Equal(t, registry.DeliveryFailed, res.Deliveries[0].State)
			ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Equal(t, registry.DeliveryFailed, ds[0].State)
			assert.Equal(t, string(provider.StateExpired), ds[0].VendorState)
			assert.Contains(t, ds[0].Response, "expired")
		})
	}
}
