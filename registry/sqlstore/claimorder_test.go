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

// TestCenterClaimTakesTheHighestLevelsFirst: a claim of fewer rows than
// are due takes the highest notify_level first (ties by id), a NULL level
// (another program's) last, on every database: the order is the
// statement's, not only the sort of the rows it returned.
func TestCenterClaimTakesTheHighestLevelsFirst(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		levels := map[int64]string{}
		for _, level := range []int{-1, 1, 5, 3, 5} { // -1: NULL
			m := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1", NotifyLevel: max(level, 0)}
			require.NoError(t, s.EnqueueCenterMessage(ctx, m))
			if level < 0 {
				_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET notify_level = NULL WHERE id = ?"), m.ID)
				require.NoError(t, err)
			}
			levels[m.ID] = map[int]string{-1: "null", 1: "1", 3: "3", 5: "5"}[level]
		}
		var got []string
		for _, limit := range []int{2, 1, 1, 1} {
			claimed, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: limit, Lease: time.Minute})
			require.NoError(t, err)
			require.Len(t, claimed, limit, "after %v", got)
			for _, m := range claimed {
				got = append(got, levels[m.ID])
			}
		}
		assert.Equal(t, []string{"5", "5", "3", "1", "null"}, got)
	})
}
