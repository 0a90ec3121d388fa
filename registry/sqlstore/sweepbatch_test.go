package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestSweepOfMoreUnreadableTimesThanOneBatch: on PostgreSQL a sweep takes
// the deliveries whose next_attempt_at is 'infinity' SweepBatch at a
// time, until none is left: one claim makes them all due, not one batch
// of them a minute.
func TestSweepOfMoreUnreadableTimesThanOneBatch(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	s, db := newStore(t, sqlstore.DialectPostgres)
	ctx := t.Context()
	n := sqlstore.SweepBatch + 1
	ds := make([]*registry.Delivery, n)
	for i := range ds {
		ds[i] = delivery(fmt.Sprint("inf-", i), registry.PlatformIOS, base, fmt.Sprint("t", i))
	}
	require.NoError(t, s.CreatePushMessage(ctx, &registry.PushMessage{Title: "x"}, ds))
	_, err := db.ExecContext(ctx, "UPDATE sys_push_deliveries SET next_attempt_at = 'infinity'")
	require.NoError(t, err)
	got, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Kind: registry.ClaimSend, Now: base, Limit: 2 * n, Lease: time.Minute})
	require.NoError(t, err)
	assert.Len(t, got, n, "every unreadable time is swept by one claim")
}
