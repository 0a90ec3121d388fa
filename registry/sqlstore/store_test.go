package sqlstore_test

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

func TestNew(t *testing.T) {
	db, _, err := sqlmock.New()
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	tests := []struct {
		name    string
		db      sqlstore.DBTX
		opts    sqlstore.Options
		wantErr string
	}{
		{"mysql", db, sqlstore.Options{Dialect: sqlstore.DialectMySQL}, ""},
		{"postgres", db, sqlstore.Options{Dialect: sqlstore.DialectPostgres}, ""},
		{"sqlite", db, sqlstore.Options{Dialect: sqlstore.DialectSQLite}, ""},
		{"nil db", nil, sqlstore.Options{Dialect: sqlstore.DialectSQLite}, "sqlstore: db is nil"},
		{"nil *sql.DB", (*sql.DB)(nil), sqlstore.Options{Dialect: sqlstore.DialectSQLite}, "sqlstore: db is nil"},
		{"no dialect", db, sqlstore.Options{}, "sqlstore: Options.Dialect is required (mysql, postgres or sqlite)"},
		{"unknown dialect", db, sqlstore.Options{Dialect: "oracle"}, `sqlstore: Options.Dialect "oracle" is not one of mysql, postgres, sqlite`},
		{"driver name is not a dialect", db, sqlstore.Options{Dialect: "pgx"}, `sqlstore: Options.Dialect "pgx" is not one of mysql, postgres, sqlite`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := sqlstore.New(tt.db, tt.opts)
			if tt.wantErr != "" {
				require.EqualError(t, err, tt.wantErr)
				assert.ErrorIs(t, err, registry.ErrInvalid, "checked as the Store's refusals are")
				assert.Nil(t, s)
				return
			}
			require.NoError(t, err)
			assert.Equal(t, tt.opts.Dialect, s.Dialect())
		})
	}
}

// TestSQLiteDSNOpens: the DSN opens the file named by an awkward path,
// and the pragmas it asks for are in force.
func TestSQLiteDSNOpens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "a b?#%.db")
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	_, err = os.Stat(path)
	require.NoError(t, err, "the database is the file at the path given")
	var mode string
	var timeout int
	require.NoError(t, db.QueryRowContext(t.Context(), "PRAGMA journal_mode").Scan(&mode))
	require.NoError(t, db.QueryRowContext(t.Context(), "PRAGMA busy_timeout").Scan(&timeout))
	assert.Equal(t, "wal", mode)
	assert.Equal(t, 10000, timeout)
}
