package sqlstore_test

import (
	"database/sql"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry/sqlstore"
)

// TestMigrateRefusesASQLitePoolThatCannotWait: a SQLite file opened by its
// bare path has no busy timeout, and under load a read that meets a write
// failed with SQLITE_BUSY ("database is locked"): 71 of 480 pushes in a new
// user's trial. Migrate refuses it, naming SQLiteDSN, and changes nothing;
// a pool of one connection, or the DSN SQLiteDSN builds, is taken.
func TestMigrateRefusesASQLitePoolThatCannotWait(t *testing.T) {
	dir := t.TempDir()
	open := func(dsn string) *sql.DB {
		db, err := sql.Open("sqlite", dsn)
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		return db
	}
	migrate := func(db *sql.DB) error {
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
		require.NoError(t, err)
		return s.Migrate(t.Context())
	}

	bare := open(filepath.Join(dir, "bare.db"))
	err := migrate(bare)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sqlstore: Migrate: the SQLite database was opened with no busy timeout")
	assert.Contains(t, err.Error(), "sqlstore.SQLiteDSN(path)")
	var tables int
	require.NoError(t, bare.QueryRow("SELECT COUNT(*) FROM sqlite_master").Scan(&tables))
	assert.Zero(t, tables, "nothing created")

	single := open(filepath.Join(dir, "single.db"))
	single.SetMaxOpenConns(1)
	assert.NoError(t, migrate(single), "one connection never meets another")

	assert.NoError(t, migrate(open(sqlstore.SQLiteDSN(filepath.Join(dir, "dsn.db")))))
}
