package jpush_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/zerocall"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/provider"
)

// TestClientNotBuiltByNew: every exported method of a Client New did not
// make, a zero Client{} or a nil *Client, returns an error matching
// provider.ErrNotBuilt and naming jpush.New (of Kind Auth for the vendor
// operations), or a harmless answer, instead of panicking; and every fmt
// verb prints it without panicking (zerocall.CheckClient).
func TestClientNotBuiltByNew(t *testing.T) {
	zerocall.CheckClient(t, zerocall.Client{New: "jpush.New", Zero: &jpush.Client{}, Nil: (*jpush.Client)(nil),
		Print: "jpush.Client{not made by jpush.New}", Harmless: []string{"CheckToken"},
		VendorOps: []string{"Send", "Validate", "ValidateRemote", "Status", "Statuses", "MessageStatus", "Cancel", "IssueRetryToken"}})
}

// TestCheckBuilt: CheckBuilt is nil for a Client New made.
func TestCheckBuilt(t *testing.T) {
	c, err := jpush.New(jpush.Config{AppKey: "appkey", MasterSecret: "0123456789abcdef"})
	require.NoError(t, err)
	assert.NoError(t, c.CheckBuilt())
	assert.ErrorIs(t, (&jpush.Client{}).CheckBuilt(), provider.ErrNotBuilt)
}
