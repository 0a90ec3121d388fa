package getui_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/internal/zerocall"
	"github.com/tuisong/push/provider"
)

// TestClientNotBuiltByNew: every exported method of a Client New did not
// make, a zero Client{} or a nil *Client, returns an error matching
// provider.ErrNotBuilt and naming getui.New (of Kind Auth for the vendor
// operations), or a harmless answer, instead of panicking; and every fmt
// verb prints it without panicking (zerocall.CheckClient).
func TestClientNotBuiltByNew(t *testing.T) {
	zerocall.CheckClient(t, zerocall.Client{New: "getui.New", Zero: &getui.Client{}, Nil: (*getui.Client)(nil),
		Print: "getui.Client{not made by getui.New}", Harmless: []string{"CheckToken"},
		VendorOps: []string{"Send", "Validate", "Status", "Cancel", "IssueRetryToken"}})
}

// TestCheckBuilt: CheckBuilt is nil for a Client New made.
func TestCheckBuilt(t *testing.T) {
	c, err := getui.New(getui.Config{AppID: "app", AppKey: "key", MasterSecret: getui.NewSecret("0123456789abcdef0123")})
	require.NoError(t, err)
	assert.NoError(t, c.CheckBuilt())
	assert.ErrorIs(t, (&getui.Client{}).CheckBuilt(), provider.ErrNotBuilt)
}
