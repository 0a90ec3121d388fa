package sqlstore_test

import (
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
// instances would.
func TestConformance(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		registrytest.Run(t, registrytest.Factory{
			New: func(t *testing.T) registry.Store {
				s, _ := newStore(t, d)
				return s
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
