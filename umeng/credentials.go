package umeng

import (
	"fmt"
	"io"
	"log/slog"

	"github.com/tuisong/push/internal/redacted"
	"github.com/tuisong/push/provider"
)

// credentials holds the apps of both platforms, each sealed in a closure:
// fmt prints the fields of a struct it meets by value, even unexported ones
// and even on a bad verb (%s of a Client value), but it cannot look inside
// a func. The Client also keeps it behind a pointer.
type credentials struct {
	ios, android sealedApp
	// others is what otherSecrets returns, worked out once: the apps do not
	// change after New.
	others func() []string
}

// newCredentials seals ios and android, and the secrets every call scrubs.
func newCredentials(ios, android App) *credentials {
	c := &credentials{ios: seal(ios), android: seal(android)}
	others := scrubbedSecrets(c.ios(), c.android())
	c.others = func() []string { return others }
	return c
}

// sealedApp hands out an App that no fmt verb or reflection-based printer
// can reach.
type sealedApp func() App

func seal(a App) sealedApp {
	// Copied whole: a class the caller adds later is not sent, and a map or
	// pointer the caller changes later changes no send (see cloneOptions).
	a.Defaults = cloneOptions(a.Defaults)
	if a.ClassDefaults != nil {
		classes := make(map[provider.Class]Options, len(a.ClassDefaults))
		for class, o := range a.ClassDefaults {
			classes[class] = cloneOptions(o)
		}
		a.ClassDefaults = classes
	}
	return func() App { return a }
}

// app returns the credentials for p; the zero App for an unknown platform.
func (c *credentials) app(p provider.Platform) App {
	var s sealedApp
	switch p {
	case provider.IOS:
		s = c.ios
	case provider.Android:
		s = c.android
	}
	if s == nil {
		return App{}
	}
	return s()
}

// Format prints nothing of the credentials, whatever the verb, for the code
// of this package that might one day print them directly.
func (c *credentials) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "umeng.credentials{REDACTED}")
}

// String describes c by its base URL, the appkey of each configured
// platform, the mode and the strategy. It never contains an App Master
// Secret.
func (c *Client) String() string {
	if c == nil {
		return "umeng.Client(nil)"
	}
	if c.unbuilt() {
		return unbuiltString
	}
	return fmt.Sprintf("umeng.Client{BaseURL:%s IOS:%s Android:%s TestMode:%t Strategy:%s}",
		c.baseURL, c.creds.app(provider.IOS), c.creds.app(provider.Android), c.testMode, c.strategy)
}

// GoString is String for %#v; it never contains an App Master Secret.
func (c *Client) GoString() string {
	if c == nil {
		return "(*umeng.Client)(nil)"
	}
	return "&" + c.String()
}

// Format makes every fmt verb print String (GoString for %#v, a quoted
// String for %q), so that no verb or flag can reach the credentials.
func (c *Client) Format(f fmt.State, verb rune) {
	redacted.Format(f, verb, c)
}

// LogValue makes slog record c as its base URL, the appkeys, the mode and
// the strategy; never a secret.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("umeng.Client(nil)")
	}
	if c.unbuilt() {
		return slog.StringValue(unbuiltString)
	}
	return slog.GroupValue(
		slog.String("base_url", c.baseURL),
		slog.Any("ios", c.creds.app(provider.IOS)),
		slog.Any("android", c.creds.app(provider.Android)),
		slog.Bool("test_mode", c.testMode),
		slog.String("strategy", c.strategy.String()),
	)
}
