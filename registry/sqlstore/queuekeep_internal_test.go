package sqlstore

import (
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestQueuesKeepOnlyOutcomes: the group-commit queues of a Store keep a
// call whose caller gave up (see groupQueue.keep) for outcomes only: a
// delivery's or a center row's outcome is still written, later, under its
// claim (one recorded late beats one left to a lease's end), while a
// push whose CreatePushMessage was reported failed is never written
// later.
func TestQueuesKeepOnlyOutcomes(t *testing.T) {
	for _, d := range []Dialect{DialectSQLite, DialectMySQL, DialectPostgres} {
		db, _, err := sqlmock.New()
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		s, err := New(db, Options{Dialect: d})
		require.NoError(t, err)
		assert.True(t, s.finishes.keep, "%s: FinishDelivery", d)
		assert.True(t, s.centerFinishes.keep, "%s: FinishCenterMessage", d)
		assert.False(t, s.creates.keep, "%s: CreatePushMessage", d)
	}
}
