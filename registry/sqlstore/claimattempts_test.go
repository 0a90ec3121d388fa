package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestClaimOfANegativeAttemptsCountsOne: a negative attempts another
// program wrote counts as none: the claim makes it 1, on a center row and
// on a delivery alike.
func TestClaimOfANegativeAttemptsCountsOne(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		c := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}
		require.NoError(t, s.EnqueueCenterMessage(ctx, c))
		m := &registry.PushMessage{Title: "t", Content: "c", PushType: registry.PushTypeUsers}
		require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{delivery("negative", registry.PlatformIOS, base, "tok")}))
		for _, table := range []string{"sys_message_center", "sys_push_deliveries"} {
			_, err := db.ExecContext(ctx, "UPDATE "+table+" SET attempts = -5")
			require.NoError(t, err)
		}
		centers, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		require.Len(t, centers, 1)
		assert.Equal(t, 1, centers[0].Attempts, "center row")
		ds, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Kind: registry.ClaimSend, Now: base, Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Equal(t, 1, ds[0].Attempts, "delivery")
	})
}
