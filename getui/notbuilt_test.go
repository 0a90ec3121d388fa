package getui_test

import (
	"context"
	"fmt"
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
// verb prints it without panicking.
func TestClientNotBuiltByNew(t *testing.T) {
	// Methods without an error result, or (CheckToken) a pure check of
	// their arguments that needs nothing New makes.
	harmless := map[string]bool{"Name": true, "Capabilities": true, "CloseIdleConnections": true, "String": true,
		"GoString": true, "LogValue": true, "Redact": true, "CheckToken": true, "MaxStatusIDs": true, "BaseURL": true}
	for _, tc := range []struct {
		name  string
		c     *getui.Client
		print string
	}{
		{"zero", &getui.Client{}, "getui.Client{not made by getui.New}"},
		{"nil", nil, "(nil)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			// Format needs a fmt.State: the verbs below call it.
			errs := zerocall.Call(t, tc.c, zerocall.Without(zerocall.Declared(t, ".", "Client"), "Format"))
			require.NotEmpty(t, errs)
			for method, err := range errs {
				if harmless[method] {
					continue
				}
				require.ErrorIs(t, err, provider.ErrNotBuilt, method)
				assert.Contains(t, err.Error(), "was not made by getui.New", method)
			}
			for _, method := range []string{"Send", "Validate", "Status", "Cancel", "IssueRetryToken"} {
				require.Contains(t, errs, method)
				assert.Equal(t, provider.Auth, provider.KindOf(errs[method]), method)
			}
			for _, p := range provider.Platforms() {
				assert.Zero(t, tc.c.Capabilities(p), p)
				// A request Send would take from a Client New made, as
				// push.Service sends one.
				r := &provider.Request{Platform: p, Audience: provider.Audience{Kind: provider.AudienceBroadcast},
					Notification: provider.Notification{Title: "t", Body: "b"}, IdempotencyKey: "k1"}
				require.NotPanics(t, func() { err = tc.c.Validate(r) }, p)
				require.ErrorIs(t, err, provider.ErrNotBuilt, p)
				require.NotPanics(t, func() { _, err = tc.c.Send(context.Background(), r) }, p)
				require.ErrorIs(t, err, provider.ErrNotBuilt, p)
				assert.Equal(t, provider.Auth, provider.KindOf(err), p)
			}
			assert.Equal(t, "a b", tc.c.Redact("a b"))
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
				var s string
				require.NotPanics(t, func() { s = fmt.Sprintf(verb, tc.c) }, verb)
				assert.NotContains(t, s, "PANIC", verb)
				assert.Contains(t, s, tc.print, verb)
			}
		})
	}
}

// TestCheckBuilt: CheckBuilt is nil for a Client New made.
func TestCheckBuilt(t *testing.T) {
	c, err := getui.New(getui.Config{AppID: "app", AppKey: "key", MasterSecret: getui.NewSecret("0123456789abcdef0123")})
	require.NoError(t, err)
	assert.NoError(t, c.CheckBuilt())
	assert.ErrorIs(t, (&getui.Client{}).CheckBuilt(), provider.ErrNotBuilt)
}
