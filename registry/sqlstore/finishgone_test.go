package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestFinishOfADeliveryWhosePushIsGone: another program may delete a push
// message while its deliveries are claimed. A finish written alone (a
// batch of one) still records the delivery's outcome and releases its
// claim: there is no summary left to keep.
func TestFinishOfADeliveryWhosePushIsGone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		m := &registry.PushMessage{Title: "x"}
		require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{delivery("gone", registry.PlatformIOS, base, "t1")}))
		claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Kind: registry.ClaimSend, Now: base, Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		_, err = db.ExecContext(ctx, dbtest.Rebind(d, "DELETE FROM sys_push_messages WHERE id = ?"), m.ID)
		require.NoError(t, err)

		c := claimed[0]
		c.State, c.ReceiptID = registry.DeliveryAccepted, "r1"
		errs := s.FinishDeliveryBatch([]*registry.Delivery{&c})
		require.NoError(t, errs[0], "the outcome is written without a summary")
		list, err := s.ListDeliveries(ctx, m.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		got := list[0]
		assert.Equal(t, registry.DeliveryAccepted, got.State)
		assert.Equal(t, "r1", got.ReceiptID)
		assert.Empty(t, got.ClaimToken, "the claim is released")
	})
}
