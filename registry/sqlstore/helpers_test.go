package sqlstore_test

import (
	"database/sql"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// base is the tests' clock reading: UTC, on a whole second.
var base = time.Date(2030, time.June, 15, 8, 0, 0, 0, time.UTC)

func at(d time.Duration) time.Time { return base.Add(d) }

func ptr[T any](v T) *T { return &v }

// fixedClock is a Store clock that always reads t.
func fixedClock(t time.Time) func() time.Time { return func() time.Time { return t } }

// forEachDialect runs fn as a parallel subtest per dialect, each on
// databases of its own; the SQL servers' ones skip when their DSN is not
// set.
func forEachDialect(t *testing.T, fn func(t *testing.T, d sqlstore.Dialect)) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			fn(t, d)
		})
	}
}

// newStore opens a fresh database of dialect d and returns a migrated
// Store on it, with the tests' clock, and the pool under it.
func newStore(t *testing.T, d sqlstore.Dialect) (*sqlstore.Store, *sql.DB) {
	t.Helper()
	db, _ := dbtest.Open(t, d)
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: fixedClock(base)})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	return s, db
}

func device(uuid, platform, token string) *registry.Device {
	return &registry.Device{UUID: uuid, Platform: platform, PushToken: token, Name: "phone " + uuid, OS: platform, OSVersion: "17.1"}
}

func delivery(key, platform string, next time.Time, tokens ...string) *registry.Delivery {
	return &registry.Delivery{
		Provider: "umeng", Platform: platform, Audience: registry.AudienceTokens, Tokens: tokens,
		IdempotencyKey: key, State: registry.DeliveryPending, NextAttemptAt: next,
	}
}

// count returns the number of rows of table.
func count(t *testing.T, db *sql.DB, table string) int {
	t.Helper()
	var n int
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM "+table).Scan(&n))
	return n
}
