package sqlstore_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestPendingMigrations: a fresh database has every migration pending
// (and reading that creates nothing), a migrated one none, and one whose
// record of 0007 is gone has 0007 pending again.
func TestPendingMigrations(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
		require.NoError(t, err)
		pending, err := s.PendingMigrations(t.Context())
		require.NoError(t, err)
		var want []string
		for _, v := range wantVersions {
			_, name, _ := strings.Cut(v, " ")
			want = append(want, name)
		}
		assert.Equal(t, want, pending, "a fresh database")
		_, err = db.ExecContext(t.Context(), "SELECT COUNT(*) FROM push_schema_migrations")
		require.Error(t, err, "PendingMigrations created no version table")

		require.NoError(t, s.Migrate(t.Context()))
		pending, err = s.PendingMigrations(t.Context())
		require.NoError(t, err)
		assert.Empty(t, pending, "a migrated database")

		_, err = db.ExecContext(t.Context(), "DELETE FROM push_schema_migrations WHERE component = 'push' AND version = 7")
		require.NoError(t, err)
		pending, err = s.PendingMigrations(t.Context())
		require.NoError(t, err)
		assert.Equal(t, []string{"0007_trace_parent"}, pending)
	})
}
