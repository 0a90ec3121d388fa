package messagecenter_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestNewRefusesAStoreNotMadeByItsConstructor: a Config.Store its
// constructor did not make (a zero Store{}) is refused by New, naming the
// field and the constructor, rather than making a Scanner whose RunOnce
// panics.
func TestNewRefusesAStoreNotMadeByItsConstructor(t *testing.T) {
	mem, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	mock, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: mem, Providers: []provider.Provider{mock}})
	require.NoError(t, err)
	for _, tc := range []struct {
		name   string
		store  registry.Store
		reason string
	}{
		{"zero sqlstore.Store", &sqlstore.Store{}, "the sqlstore.Store was not made by sqlstore.New"},
		{"zero memstore.Store", &memstore.Store{}, "the memstore.Store was not made by memstore.New"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var s *messagecenter.Scanner
			require.NotPanics(t, func() { s, err = messagecenter.New(messagecenter.Config{Service: svc, Store: tc.store}) })
			require.ErrorIs(t, err, push.ErrInvalid)
			var fe *messagecenter.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "store", fe.Field)
			assert.Contains(t, fe.Reason, tc.reason)
			assert.Nil(t, s)
		})
	}
}
