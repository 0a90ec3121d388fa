package sqlstore_test

import (
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestDeliveryClaimTiesComeByID: deliveries due at the same time come
// lowest id first, whatever order the database returned them in.
func TestDeliveryClaimTiesComeByID(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		var ds []*registry.Delivery
		for i := range 40 {
			ds = append(ds, delivery(fmt.Sprint("tie-", i), registry.PlatformIOS, base, fmt.Sprint("t", i)))
		}
		require.NoError(t, s.CreatePushMessage(ctx, &registry.PushMessage{Title: "x"}, ds))
		// Rewritten, the lower ids' rows move behind the others (a new
		// row version on PostgreSQL).
		_, err := db.ExecContext(ctx, "UPDATE sys_push_deliveries SET updated_at = updated_at WHERE id % 2 = 0")
		require.NoError(t, err)
		got, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Kind: registry.ClaimSend, Now: base, Limit: 100, Lease: time.Minute})
		require.NoError(t, err)
		require.Len(t, got, len(ds))
		ids := make([]int64, len(got))
		for i, c := range got {
			ids[i] = c.ID
		}
		assert.True(t, slices.IsSorted(ids), "ids %v", ids)
	})
}
