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

// TestClaimFanoutsWaitsForARowAFinishHolds: a push whose fanout is due is
// claimed even while another transaction (a finish of one of its
// deliveries, which locks the message row) holds its row: the claim waits
// for that commit rather than skip the push. Skipping it made every pass
// that ran beside the push's own finishes miss its fanout. Two claimers
// that wait for the same row still get it once.
func TestClaimFanoutsWaitsForARowAFinishHolds(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		if d == sqlstore.DialectSQLite {
			t.Skip("SQLite has no row locks: its write lock orders the claim after the finish")
		}
		s, db := newStore(t, d)
		ctx := t.Context()
		lease := base.Add(time.Minute)
		m := registry.PushMessage{Title: "held", Content: "c", PushType: registry.PushTypeUsers, UserNums: []string{"u1", "u2"},
			Fanout: &registry.Fanout{ClaimToken: "lister", LeaseUntil: lease}}
		dl := delivery("held-0", registry.PlatformAndroid, base, "held-tok")
		dl.ClaimToken, dl.LeaseUntil = "claim", &lease
		require.NoError(t, s.CreatePushMessage(ctx, &m, []*registry.Delivery{dl}))

		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		var id int64
		require.NoError(t, tx.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT id FROM sys_push_messages WHERE id = ? FOR UPDATE"), m.ID).Scan(&id))

		type claim struct {
			ms  []registry.PushMessage
			err error
		}
		done := make(chan claim, 2)
		for range 2 {
			go func() {
				ms, err := s.ClaimFanouts(ctx, registry.ClaimParams{Now: base.Add(2 * time.Minute), Limit: 10, Lease: time.Minute})
				done <- claim{ms, err}
			}()
		}
		// Give the claims time to reach the lock; should they come later,
		// they find the row free, and the test still holds.
		time.Sleep(200 * time.Millisecond)
		require.NoError(t, tx.Commit())
		var got []registry.PushMessage
		for range 2 {
			c := <-done
			require.NoError(t, c.err)
			got = append(got, c.ms...)
		}
		require.Len(t, got, 1, "claimed once, by one of the two")
		assert.Equal(t, m.ID, got[0].ID)
		assert.Equal(t, 1, got[0].Fanout.Claims)
	})
}
