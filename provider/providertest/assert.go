package providertest

import (
	"errors"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// requireReceipt fails t unless Send succeeded with a receipt that names
// the provider and echoes platform p.
func requireReceipt(t *testing.T, h *Harness, p provider.Platform, rc *provider.Receipt, err error) {
	t.Helper()
	require.NoError(t, err, "Send")
	require.NotNil(t, rc, "Send returned neither a receipt nor an error")
	require.NotEmpty(t, rc.ID, "Receipt.ID")
	require.Equal(t, h.Provider.Name(), rc.Provider, "Receipt.Provider must be Name()")
	require.Equal(t, p, rc.Platform, "Receipt.Platform must echo the request's platform")
}

// requireKind fails t unless err is, or wraps, a *provider.Error of kind k
// that both errors.Is and provider.KindOf recognise. It returns that error.
func requireKind(t *testing.T, err error, k provider.Kind) *provider.Error {
	t.Helper()
	pe := requireProviderError(t, err)
	require.Truef(t, errors.Is(err, k), "errors.Is(err, kind %s) is false for %q", k.String(), err)
	require.Equalf(t, k.String(), provider.KindOf(err).String(), "provider.KindOf(%q)", err)
	return pe
}

// requireProviderError fails t unless err is non-nil and is, or wraps, a
// *provider.Error, as the contract demands of every error.
func requireProviderError(t *testing.T, err error) *provider.Error {
	t.Helper()
	require.Error(t, err)
	var pe *provider.Error
	require.Truef(t, errors.As(err, &pe), "error %q (%T) does not wrap a *provider.Error", err, err)
	return pe
}

// requireInvalid fails t unless Send refused with an InvalidRequest error
// that names the offending field.
func requireInvalid(t *testing.T, rc *provider.Receipt, err error) {
	t.Helper()
	require.Nil(t, rc, "a refused Send must not return a receipt")
	requireKind(t, err, provider.InvalidRequest)
	require.NotEmptyf(t, provider.FieldOf(err), "InvalidRequest error %q must wrap a *provider.FieldError naming the field", err)
}
