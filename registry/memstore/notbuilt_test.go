package memstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/zerocall"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// TestStoreNotBuiltByNew: every exported method of a Store New did not
// make, a zero Store{} or a nil *Store, returns an error matching
// registry.ErrNotBuilt that names the method and memstore.New instead of
// panicking.
func TestStoreNotBuiltByNew(t *testing.T) {
	for name, st := range map[string]*memstore.Store{"zero": {}, "nil": nil} {
		t.Run(name, func(t *testing.T) {
			errs := zerocall.Call(t, st, zerocall.Declared(t, ".", "Store"))
			require.NotEmpty(t, errs)
			for method, err := range errs {
				require.ErrorIs(t, err, registry.ErrNotBuilt, method)
				assert.Contains(t, err.Error(), "memstore.New", method)
			}
			require.Error(t, errs["RegisterDevice"])
			assert.Contains(t, errs["RegisterDevice"].Error(), "Store.RegisterDevice needs a Store made by memstore.New")
		})
	}
}

// TestCheckBuilt: CheckBuilt is nil for a Store New made.
func TestCheckBuilt(t *testing.T) {
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	assert.NoError(t, st.CheckBuilt())
}
