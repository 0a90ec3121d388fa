package sqlstore_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// pushCycle registers a device, records a push to it, claims its delivery
// and finishes it: the statements of a Scanner's row.
func pushCycle(ctx context.Context, t *testing.T, s *sqlstore.Store, i int) {
	t.Helper()
	_, _, err := s.RegisterDevice(ctx, device(fmt.Sprintf("uuid-%d", i), registry.PlatformAndroid, fmt.Sprintf("token%d", i)), fmt.Sprintf("user%d", i))
	require.NoError(t, err)
	m := &registry.PushMessage{Title: "t", Content: "c", PushType: registry.PushTypeUsers, UserNums: []string{fmt.Sprintf("user%d", i)}}
	d := delivery(fmt.Sprintf("key-%d", i), registry.PlatformAndroid, base, fmt.Sprintf("token%d", i))
	require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{d}))
	ds, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: at(time.Hour), Lease: time.Minute, Limit: 10, Kind: registry.ClaimSend})
	require.NoError(t, err)
	require.Len(t, ds, 1)
	ds[0].State, ds[0].Ret = registry.DeliveryAccepted, registry.RetSuccess
	require.NoError(t, s.FinishDelivery(ctx, &ds[0]))
}

// A SQLite Store prepares the statements it runs once and reuses them,
// those of its transactions included; other dialects leave it to their
// drivers (pgx caches statements itself).
func TestStatementCache(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		for i := range 3 {
			pushCycle(t.Context(), t, s, i)
		}
		cached := s.CachedStatements()
		if d != sqlstore.DialectSQLite {
			assert.Empty(t, cached)
			return
		}
		has := func(prefix string) bool {
			return slices.ContainsFunc(cached, func(q string) bool { return strings.HasPrefix(strings.TrimSpace(q), prefix) })
		}
		// Met in transactions first, prepared before a later one.
		assert.True(t, has("INSERT INTO sys_push_messages"), "the insert of a push message is prepared: %q", cached)
		assert.True(t, has("INSERT INTO sys_push_deliveries"), "the insert of a delivery is prepared")
		assert.True(t, has("UPDATE sys_push_deliveries SET state"), "the finish of a delivery is prepared")
		n := len(cached)
		pushCycle(t.Context(), t, s, 3)
		assert.Len(t, s.CachedStatements(), n, "the same statements again prepare nothing new")
	})
}

// The cache never prepares on the pool while one of the Store's
// transactions holds a connection: with a pool of one connection every
// operation still completes.
func TestStatementCacheOneConnection(t *testing.T) {
	s, db := newStore(t, sqlstore.DialectSQLite)
	db.SetMaxOpenConns(1)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	for i := range 4 {
		pushCycle(ctx, t, s, i)
	}
	require.NoError(t, ctx.Err(), "no operation waited for a connection it held")
}

// The cache is bounded: queries beyond MaxCachedStmts (IN-lists of many
// lengths) run unprepared, and still run.
func TestStatementCacheBound(t *testing.T) {
	s, _ := newStore(t, sqlstore.DialectSQLite)
	for i := range sqlstore.MaxCachedStmts + 20 {
		q := "SELECT id FROM sys_devices WHERE id IN (" + strings.TrimSuffix(strings.Repeat("?,", i+1), ",") + ")"
		args := make([]any, i+1)
		for j := range args {
			args[j] = j
		}
		require.NoError(t, s.Query(t, q, args...))
	}
	assert.Len(t, s.CachedStatements(), sqlstore.MaxCachedStmts)
}
