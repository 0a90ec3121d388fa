package sqlstore_test

import (
	"database/sql"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/registrytest"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestConformance runs the registry's conformance suite on every dialect:
// SQLite always, MySQL/MariaDB and PostgreSQL when their DSNs are set.
// NewShared opens n separate pools on one fresh database, as n host
// instances would. ForgetTallies sets a message's tally columns to NULL.
func TestConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		var dbs sync.Map // *sqlstore.Store → its *sql.DB, for ForgetTallies
		registrytest.Run(t, registrytest.Factory{
			RequireOptional: true,
			New: func(t *testing.T) registry.Store {
				s, db := newStore(t, d)
				dbs.Store(s, db)
				return s
			},
			// The tally columns of a row from before migration 0004.
			ForgetTallies: func(t *testing.T, s registry.Store, id int64) {
				db, ok := dbs.Load(s)
				require.True(t, ok, "a store of Factory.New")
				_, err := db.(*sql.DB).ExecContext(t.Context(),
					dbtest.Rebind(d, "UPDATE sys_push_messages SET ios_tally = NULL, android_tally = NULL WHERE id = ?"), id)
				require.NoError(t, err)
			},
			NewShared: func(t *testing.T, n int) []registry.Store {
				first, dsn := dbtest.Open(t, d)
				stores := make([]registry.Store, n)
				for i := range stores {
					db := first
					if i > 0 {
						db = dbtest.OpenPool(t, d, dsn)
					}
					s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
					require.NoError(t, err)
					if i == 0 {
						require.NoError(t, s.Migrate(t.Context()))
					}
					stores[i] = s
				}
				return stores
			},
		})
	})
}
