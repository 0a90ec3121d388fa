package umeng_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/zerocall"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
)

// TestClientNotBuiltByNew: every exported method of a Client New did not
// make, a zero Client{} or a nil *Client, returns an error matching
// provider.ErrNotBuilt and naming umeng.New (of Kind Auth for the vendor
// operations), or a harmless answer, instead of panicking; and every fmt
// verb prints it without panicking (zerocall.CheckClient).
func TestClientNotBuiltByNew(t *testing.T) {
	zerocall.CheckClient(t, zerocall.Client{New: "umeng.New", Zero: &umeng.Client{}, Nil: (*umeng.Client)(nil),
		// CanonicalToken, as CheckToken, is a pure function of its arguments.
		Print: "umeng.Client{not made by umeng.New}", Harmless: []string{"CheckToken", "CanonicalToken"},
		VendorOps: []string{"Send", "Validate", "Status", "Cancel", "Upload", "Post"}})
}

// TestCheckBuilt: CheckBuilt is nil for a Client New made.
func TestCheckBuilt(t *testing.T) {
	c, err := umeng.New(umeng.Config{Android: umeng.App{AppKey: "appkey", AppMasterSecret: "0123456789abcdef"}})
	require.NoError(t, err)
	assert.NoError(t, c.CheckBuilt())
	assert.ErrorIs(t, (&umeng.Client{}).CheckBuilt(), provider.ErrNotBuilt)
}
