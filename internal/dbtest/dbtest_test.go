package dbtest_test

import (
	"database/sql"
	"os"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry/sqlstore"
)

func TestOpen(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			// Without its server the whole dialect is skipped here, not only
			// the subtest: the checks after it talk to the server too.
			dbtest.SkipUnlessAvailable(t, d)
			var dsn string
			var name string
			t.Run("fresh and shared", func(t *testing.T) {
				a, dsnA := dbtest.Open(t, d)
				b, dsnB := dbtest.Open(t, d)
				assert.NotEqual(t, dsnA, dsnB, "each Open gets its own database")
				_, err := a.ExecContext(t.Context(), "CREATE TABLE probe (id INTEGER PRIMARY KEY)")
				require.NoError(t, err)
				_, err = b.ExecContext(t.Context(), "CREATE TABLE probe (id INTEGER PRIMARY KEY)")
				require.NoError(t, err, "the second database is empty")

				other := dbtest.OpenPool(t, d, dsnA)
				_, err = other.ExecContext(t.Context(), "INSERT INTO probe (id) VALUES (1)")
				require.NoError(t, err)
				var n int
				require.NoError(t, a.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM probe").Scan(&n))
				assert.Equal(t, 1, n, "OpenPool reaches the same database")
				dsn, name = dsnA, currentDatabase(t, a, d)
			})
			if d == sqlstore.DialectSQLite {
				return
			}
			// The subtest's cleanups have run: its databases are gone.
			admin := openServer(t, d)
			var n int
			query := "SELECT COUNT(*) FROM information_schema.schemata WHERE schema_name = ?"
			if d == sqlstore.DialectPostgres {
				query = "SELECT COUNT(*) FROM pg_database WHERE datname = $1"
			}
			require.NoError(t, admin.QueryRowContext(t.Context(), query, name).Scan(&n))
			assert.Zero(t, n, "database %s of %s dropped", name, dsn)
		})
	}
}

func TestNewStore(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			s := dbtest.NewStore(t, d)
			assert.Equal(t, d, s.Dialect())
			require.NoError(t, s.Migrate(t.Context()), "migrated already")
		})
	}
}

func TestDriverName(t *testing.T) {
	assert.Equal(t, "sqlite", dbtest.DriverName(sqlstore.DialectSQLite))
	assert.Equal(t, "mysql", dbtest.DriverName(sqlstore.DialectMySQL))
	assert.Equal(t, "pgx", dbtest.DriverName(sqlstore.DialectPostgres))
}

func currentDatabase(t *testing.T, db *sql.DB, d sqlstore.Dialect) string {
	t.Helper()
	var name string
	switch d {
	case sqlstore.DialectMySQL:
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT DATABASE()").Scan(&name))
	case sqlstore.DialectPostgres:
		require.NoError(t, db.QueryRowContext(t.Context(), "SELECT current_database()").Scan(&name))
	}
	return name
}

func openServer(t *testing.T, d sqlstore.Dialect) *sql.DB {
	t.Helper()
	env := dbtest.EnvMySQL
	if d == sqlstore.DialectPostgres {
		env = dbtest.EnvPostgres
	}
	db, err := sql.Open(dbtest.DriverName(d), os.Getenv(env))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return db
}

func TestSkipUnlessAvailable(t *testing.T) {
	t.Setenv(dbtest.EnvMySQL, "")
	t.Setenv(dbtest.EnvPostgres, "")
	for _, d := range []sqlstore.Dialect{sqlstore.DialectMySQL, sqlstore.DialectPostgres} {
		var skipped bool
		t.Run(string(d), func(t *testing.T) {
			defer func() { skipped = t.Skipped() }()
			dbtest.SkipUnlessAvailable(t, d)
			t.Errorf("%s ran without its DSN", d)
		})
		assert.True(t, skipped, "%s skipped", d)
	}
	var ran bool
	t.Run("sqlite", func(t *testing.T) {
		dbtest.SkipUnlessAvailable(t, sqlstore.DialectSQLite)
		ran = true
	})
	assert.True(t, ran, "SQLite needs no server")
}
