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

// TestCenterLeaseWithoutAClaimIsNoLease: a lease_until another program
// wrote on a center row without a claim token (NULL or empty) is no
// lease, however far ahead: nobody would ever finish the row. Such rows
// are claimed; a row with a token and a lease running is not.
func TestCenterLeaseWithoutAClaimIsNoLease(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		until := base.Add(time.Minute).Format("2006-01-02 15:04:05") // within registry.MaxCenterLease
		ids := map[int64]string{}
		for _, token := range []string{"NULL", "''", "'theirs'"} {
			m := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}
			require.NoError(t, s.EnqueueCenterMessage(ctx, m))
			ids[m.ID] = token
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET claim_token = "+token+", lease_until = ? WHERE id = ?"),
				until, m.ID)
			require.NoError(t, err)
		}
		got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		var tokens []string
		for _, m := range got {
			tokens = append(tokens, ids[m.ID])
		}
		assert.ElementsMatch(t, []string{"NULL", "''"}, tokens, "the leases without a token are no leases")
	})
}
