package sqlstore_test

import (
	"context"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/zerocall"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestStoreNotBuiltByNew: every exported method of a Store New did not
// make, a zero Store{} or a nil *Store (what a readiness probe holds after
// an ignored New error), returns an error matching registry.ErrNotBuilt
// that names the method and sqlstore.New, or (Dialect, WithTx) a harmless
// answer, instead of panicking.
func TestStoreNotBuiltByNew(t *testing.T) {
	for name, st := range map[string]*sqlstore.Store{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			errs := zerocall.Call(t, st, zerocall.Declared(t, ".", "Store"))
			require.NotEmpty(t, errs)
			for method, err := range errs {
				switch method {
				case "Dialect", "WithTx":
					continue
				}
				require.ErrorIs(t, err, registry.ErrNotBuilt, method)
				assert.Contains(t, err.Error(), "sqlstore.New", method)
			}
			for _, method := range []string{"PendingMigrations", "Migrate", "MigrationStatus", "CheckConnection", "RegisterDevice"} {
				require.Error(t, errs[method], method)
				assert.Contains(t, errs[method].Error(), "Store."+method+" needs a Store made by sqlstore.New", method)
			}
			assert.Empty(t, st.Dialect())
			assert.ErrorIs(t, st.WithTx(nil).Migrate(context.Background()), registry.ErrNotBuilt)
			assert.ErrorIs(t, st.CheckBuilt(), registry.ErrNotBuilt)
		})
	}
}

// TestCheckBuilt: CheckBuilt is nil for a Store New made, and for its
// WithTx copies.
func TestCheckBuilt(t *testing.T) {
	db, mock, err := sqlmock.New()
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	st, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
	require.NoError(t, err)
	assert.NoError(t, st.CheckBuilt())
	mock.ExpectBegin()
	tx, err := db.Begin()
	require.NoError(t, err)
	assert.NoError(t, st.WithTx(tx).CheckBuilt())

	// A nil transaction makes no usable Store either: its methods fail,
	// and push.New refuses it.
	none := st.WithTx(nil)
	require.ErrorIs(t, none.CheckBuilt(), registry.ErrNotBuilt)
	require.NotPanics(t, func() {
		_, _, err = none.RegisterDevice(t.Context(), &registry.Device{UUID: "u", Platform: "ios", PushToken: "t"}, "u1")
	})
	require.ErrorIs(t, err, registry.ErrNotBuilt)
}
