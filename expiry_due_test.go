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

// TestDeliveryDueAtItsExpiryIsNotSent: a retry whose turn comes at the
// very instant its push expires makes no vendor call: the vendor would
// not show it. The delivery fails, expired.
func TestDeliveryDueAtItsExpiryIsNotSent(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.Expiry = time.Hour })
	f.register(t, "u1", "d1", "android", "atok")
	f.mock.FailNext(1, f.mock.Err(provider.Temporary, ""))
	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Pending())
	require.Equal(t, 1, f.mock.Calls())

	f.clk.Advance(time.Hour) // exactly the expiry
	n, err := f.svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	require.Equal(t, 1, n, "due, and claimed")
	assert.Equal(t, 1, f.mock.Calls(), "no call at the push's expiry")
	ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, registry.DeliveryFailed, ds[0].State)
	assert.Equal(t, string(provider.StateExpired), ds[0].VendorState)
}
