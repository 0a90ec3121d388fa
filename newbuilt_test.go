package push_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng"
)

// TestNewRefusesValuesNotMadeByTheirConstructor: New refuses a provider or
// a store that its constructor did not make (a zero Client{} or Store{}),
// naming the field and the constructor, instead of panicking in New or
// accepting a value whose first use panics.
func TestNewRefusesValuesNotMadeByTheirConstructor(t *testing.T) {
	mem, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	mock, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	for _, tc := range []struct {
		name      string
		store     registry.Store
		providers []provider.Provider
		field     string
		reason    string
	}{
		{"zero umeng.Client", mem, []provider.Provider{&umeng.Client{}}, "providers", "provider 0: provider: not built by its constructor: the umeng.Client was not made by umeng.New"},
		{"zero jpush.Client", mem, []provider.Provider{&jpush.Client{}}, "providers", "the jpush.Client was not made by jpush.New"},
		{"zero getui.Client", mem, []provider.Provider{&getui.Client{}}, "providers", "the getui.Client was not made by getui.New"},
		{"second provider zero", mem, []provider.Provider{mock, &jpush.Client{}}, "providers", "provider 1: "},
		{"zero sqlstore.Store", &sqlstore.Store{}, []provider.Provider{mock}, "store", "the sqlstore.Store was not made by sqlstore.New"},
		{"zero memstore.Store", &memstore.Store{}, []provider.Provider{mock}, "store", "the memstore.Store was not made by memstore.New"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var svc *push.Service
			require.NotPanics(t, func() { svc, err = push.New(push.Config{Store: tc.store, Providers: tc.providers}) })
			require.ErrorIs(t, err, push.ErrInvalid)
			var fe *push.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tc.field, fe.Field)
			assert.Contains(t, fe.Reason, tc.reason)
			assert.Nil(t, svc)
		})
	}
}
