package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestSweepOfUnreadableTimesRunsOnceAMinuteOfTheClaimsClock: a claim
// makes due the deliveries whose next_attempt_at it cannot compare (see
// ClaimDeliveries) at most once a minute by ClaimParams.Now: not 59
// seconds after the last sweep, again a minute after it, and at once when
// Now reads before the last sweep (another instance's clock). MySQL, whose
// DATETIME always compares, has no sweep.
func TestSweepOfUnreadableTimesRunsOnceAMinuteOfTheClaimsClock(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		if d == sqlstore.DialectMySQL {
			t.Skip("MySQL has no sweep")
		}
		s, db := newStore(t, d)
		ctx := t.Context()
		later := at(24 * time.Hour) // due only once swept
		first := delivery("first", registry.PlatformIOS, later, "t1")
		second := delivery("second", registry.PlatformIOS, later, "t2")
		require.NoError(t, s.CreatePushMessage(ctx, &registry.PushMessage{Title: "x"}, []*registry.Delivery{first, second}))
		claim := func(now time.Time) []string {
			t.Helper()
			got, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Kind: registry.ClaimSend, Now: now, Limit: 10, Lease: time.Minute})
			require.NoError(t, err)
			var keys []string
			for _, c := range got {
				keys = append(keys, c.IdempotencyKey)
			}
			return keys
		}
		require.Empty(t, claim(at(0)), "nothing is due; the sweep ran")
		spoil(t, db, d, "sys_push_deliveries", "next_attempt_at", first.ID)
		assert.Empty(t, claim(at(59*time.Second)), "no sweep within the minute")
		assert.Equal(t, []string{"first"}, claim(at(time.Minute)), "a sweep a minute after the last")
		spoil(t, db, d, "sys_push_deliveries", "next_attempt_at", second.ID)
		assert.Equal(t, []string{"second"}, claim(at(-time.Hour)), "a sweep at once on a clock behind the last sweep's")
	})
}
