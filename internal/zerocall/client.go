package zerocall

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// Client describes a vendor client for CheckClient: its package's Client
// type not made by New, zero and nil.
type Client struct {
	New       string            // the constructor the errors name: "jpush.New"
	Zero, Nil provider.Provider // &jpush.Client{} and (*jpush.Client)(nil)
	Print     string            // what fmt shows of Zero
	// Harmless are the methods, beyond those without an error result
	// that every client has, that need nothing New makes (CheckToken, a
	// pure check of its arguments).
	Harmless []string
	// VendorOps are the methods that call the vendor: their errors are of
	// Kind Auth.
	VendorOps []string
}

// CheckClient checks, for the zero and the nil Client of the package in
// the current directory, that every exported method it declares returns
// an error matching provider.ErrNotBuilt and naming c.New (of Kind Auth
// for the vendor operations), or is harmless, instead of panicking; that
// Send and Validate refuse a request a Client New made would send; and
// that every fmt verb prints it without panicking.
func CheckClient(t *testing.T, c Client) {
	harmless := append([]string{"Name", "Capabilities", "CloseIdleConnections", "String", "GoString", "LogValue", "Redact",
		"MaxStatusIDs", "BaseURL"}, c.Harmless...)
	for _, tc := range []struct {
		name  string
		c     provider.Provider
		print string
	}{
		{"zero", c.Zero, c.Print},
		{"nil", c.Nil, "(nil)"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			// Format needs a fmt.State: the verbs below call it.
			errs := Call(t, tc.c, Without(Declared(t, ".", "Client"), "Format"))
			require.NotEmpty(t, errs)
			for method, err := range errs {
				if slices.Contains(harmless, method) {
					continue
				}
				require.ErrorIs(t, err, provider.ErrNotBuilt, method)
				assert.Contains(t, err.Error(), "was not made by "+c.New, method)
			}
			for _, method := range c.VendorOps {
				require.Contains(t, errs, method)
				assert.Equal(t, provider.Auth, provider.KindOf(errs[method]), method)
			}
			v := tc.c.(provider.Validator)
			for _, p := range provider.Platforms() {
				assert.Zero(t, tc.c.Capabilities(p), p)
				// A request Send would take from a Client New made, as
				// push.Service sends one.
				r := &provider.Request{Platform: p, Audience: provider.Audience{Kind: provider.AudienceBroadcast},
					Notification: provider.Notification{Title: "t", Body: "b"}, IdempotencyKey: "k1"}
				require.NotPanics(t, func() { err = v.Validate(r) }, p)
				require.ErrorIs(t, err, provider.ErrNotBuilt, p)
				require.NotPanics(t, func() { _, err = tc.c.Send(context.Background(), r) }, p)
				require.ErrorIs(t, err, provider.ErrNotBuilt, p)
				assert.Equal(t, provider.Auth, provider.KindOf(err), p)
			}
			assert.Equal(t, "a b", tc.c.(interface{ Redact(string) string }).Redact("a b"))
			for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%d", "%x"} {
				var s string
				require.NotPanics(t, func() { s = fmt.Sprintf(verb, tc.c) }, verb)
				assert.NotContains(t, s, "PANIC", verb)
				assert.Contains(t, s, tc.print, verb)
			}
		})
	}
}
