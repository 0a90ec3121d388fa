package sqlstore_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestALockedDueRowHoldsUpNoClaim: a due row that another session holds
// locked (another instance's claim, or a program's transaction left open)
// is skipped by a claim, which takes the other due rows without waiting
// for the lock, for deliveries and center messages alike. (No row locks
// on SQLite.)
func TestALockedDueRowHoldsUpNoClaim(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		if d == sqlstore.DialectSQLite {
			t.Skip("SQLite has no row locks")
		}
		s, db := newStore(t, d)
		ctx := t.Context()
		held := delivery("held", registry.PlatformIOS, base, "t1")
		free := delivery("free", registry.PlatformIOS, base, "t2")
		require.NoError(t, s.CreatePushMessage(ctx, &registry.PushMessage{Title: "x"}, []*registry.Delivery{held, free}))
		var centers []int64
		for range 2 {
			m := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}
			require.NoError(t, s.EnqueueCenterMessage(ctx, m))
			centers = append(centers, m.ID)
		}

		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		_, err = tx.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_push_deliveries SET updated_at = updated_at WHERE id = ?"), held.ID)
		require.NoError(t, err)
		_, err = tx.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET title = 'ops' WHERE id = ?"), centers[0])
		require.NoError(t, err)

		// Bounded, so that a claim that waits for the lock fails the test
		// instead of hanging it.
		bounded, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		ds, err := s.ClaimDeliveries(bounded, registry.ClaimParams{Kind: registry.ClaimSend, Now: base, Limit: 10, Lease: time.Minute})
		require.NoError(t, err, "the delivery claim does not wait for the held row")
		require.Len(t, ds, 1)
		assert.Equal(t, "free", ds[0].IdempotencyKey)
		ms, err := s.ClaimCenterMessages(bounded, registry.ClaimParams{Now: base, Limit: 10, Lease: time.Minute})
		require.NoError(t, err, "the center claim does not wait for the held row")
		require.Len(t, ms, 1)
		assert.Equal(t, centers[1], ms[0].ID)
	})
}
