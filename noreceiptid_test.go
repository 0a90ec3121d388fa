package push_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
)

// TestPollableReceiptWithoutAnIDIsNotPolled: a receipt that says it can
// be polled but carries no id cannot be: there is nothing to ask the
// vendor about. The delivery is done at once, accepted, and no poll
// claims it.
func TestPollableReceiptWithoutAnIDIsNotPolled(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "atok")
	f.mock.Enqueue(providertest.Result{Receipt: &provider.Receipt{Pollable: true}})
	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	assert.Equal(t, registry.DeliveryDone, res.Deliveries[0].State)
	ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.False(t, ds[0].Pollable)
	assert.Equal(t, registry.DeliveryDone, ds[0].State)
	assert.Equal(t, string(provider.StateAccepted), ds[0].VendorState)
	n, err := f.svc.PollReceipts(t.Context(), 10)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing to poll")
}
