package providertest_test

import (
	"context"
	"errors"
	"os"
	"os/exec"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
)

// brokenEnv names, in a child test process, the broken provider that
// TestRunFailsBrokenProviders runs the suite against.
const brokenEnv = "PROVIDERTEST_BROKEN"

// broken wraps a Mock and breaks one promise of the contract. Each hook is
// optional; a nil hook keeps the Mock's behaviour.
type broken struct {
	*providertest.Mock
	send     func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error)
	caps     func(b *broken, p provider.Platform) provider.Capabilities
	status   func(b *broken, ctx context.Context, p provider.Platform, id string) (*provider.Status, error)
	cancel   func(b *broken, ctx context.Context, p provider.Platform, id string) error
	validate func(b *broken, r *provider.Request) error
	name     func(b *broken) string
	shared   []provider.AudienceKind
}

func (b *broken) Name() string {
	if b.name != nil {
		return b.name(b)
	}
	return b.Mock.Name()
}

func (b *broken) Send(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
	if b.send != nil {
		return b.send(b, ctx, r)
	}
	return b.Mock.Send(ctx, r)
}

func (b *broken) Capabilities(p provider.Platform) provider.Capabilities {
	if b.caps != nil {
		return b.caps(b, p)
	}
	return b.Mock.Capabilities(p)
}

func (b *broken) Status(ctx context.Context, p provider.Platform, id string) (*provider.Status, error) {
	if b.status != nil {
		return b.status(b, ctx, p, id)
	}
	return b.Mock.Status(ctx, p, id)
}

func (b *broken) Cancel(ctx context.Context, p provider.Platform, id string) error {
	if b.cancel != nil {
		return b.cancel(b, ctx, p, id)
	}
	return b.Mock.Cancel(ctx, p, id)
}

func (b *broken) Validate(r *provider.Request) error {
	if b.validate != nil {
		return b.validate(b, r)
	}
	return b.Mock.Validate(r)
}

// brokenCase is a broken provider, or a broken harness, and the subtest of
// Run that must catch it.
type brokenCase struct {
	name     string
	wantFail string // path of the failing subtest under Run
	wantMsg  string // part of the failure message
	wrap     broken
	harness  func(h *providertest.Harness) // breaks the harness when set
}

func brokenCases() []brokenCase {
	edit := func(f func(rc *provider.Receipt)) func(*broken, context.Context, *provider.Request) (*provider.Receipt, error) {
		return func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
			rc, err := b.Mock.Send(ctx, r)
			if rc != nil {
				f(rc)
			}
			return rc, err
		}
	}
	return []brokenCase{
		{name: "has no name", wantFail: "Name", wantMsg: "want a non-empty lower-case name", wrap: broken{
			name: func(*broken) string { return "" },
		}},
		{name: "has an upper-case name", wantFail: "Name", wantMsg: `Name() = "Mock"`, wrap: broken{
			name: func(*broken) string { return "Mock" },
		}},
		{name: "retries", wantFail: "Faults/ios/temporary", wantMsg: "providers never retry", wrap: broken{
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				rc, err := b.Mock.Send(ctx, r)
				if provider.IsRetryable(err) {
					return b.Mock.Send(ctx, r)
				}
				return rc, err
			},
		}},
		{name: "sends twice", wantFail: "Send/android", wantMsg: "exactly one delivering call", wrap: broken{
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				_, _ = b.Mock.Send(ctx, r)
				return b.Mock.Send(ctx, r)
			},
		}},
		{name: "ignores MaxTokens", wantFail: "MaxTokens/ios/OneTooMany", wantMsg: "a refused Send must not return a receipt", wrap: broken{
			caps: func(b *broken, p provider.Platform) provider.Capabilities {
				c := b.Mock.Capabilities(p)
				c.MaxTokens = 2
				return c
			},
		}},
		{name: "shares its Audiences slice", wantFail: "Capabilities/ios", wantMsg: "fresh Audiences slice", wrap: broken{
			caps: func(b *broken, p provider.Platform) provider.Capabilities {
				c := b.Mock.Capabilities(p)
				c.Audiences = b.shared
				return c
			},
		}},
		{name: "echoes the wrong platform", wantFail: "Send/ios", wantMsg: "Receipt.Platform must echo", wrap: broken{
			send: edit(func(rc *provider.Receipt) { rc.Platform = provider.Android }),
		}},
		{name: "forgets its name", wantFail: "Send/ios", wantMsg: "Receipt.Provider must be Name()", wrap: broken{
			send: edit(func(rc *provider.Receipt) { rc.Provider = "" }),
		}},
		{name: "repeats receipt ids", wantFail: "Concurrent", wantMsg: "receipt ids must be distinct", wrap: broken{
			send: edit(func(rc *provider.Receipt) { rc.ID = "same" }),
		}},
		{name: "modifies the request", wantFail: "RequestNotModified/ios/Success", wantMsg: "Send must not modify the request", wrap: broken{
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				r.Audience.Tokens[0] = strings.ToUpper(r.Audience.Tokens[0])
				return b.Mock.Send(ctx, r)
			},
		}},
		{name: "ignores ctx", wantFail: "ContextDoneBefore/ios/Canceled", wantMsg: "a Send whose ctx is done must not succeed", wrap: broken{
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				return b.Mock.Send(context.WithoutCancel(ctx), r)
			},
		}},
		{name: "claims success when cancelled", wantFail: "ContextCanceledWhileStalled/ios", wantMsg: "a Send cancelled in flight must not succeed", wrap: broken{
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				rc, err := b.Mock.Send(ctx, r)
				if err != nil && ctx.Err() != nil {
					return &provider.Receipt{Provider: b.Name(), Platform: r.Platform, ID: "pretend"}, nil
				}
				return rc, err
			},
		}},
		{name: "returns plain errors", wantFail: "Faults/android/auth", wantMsg: "does not wrap a *provider.Error", wrap: broken{
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				rc, err := b.Mock.Send(ctx, r)
				if err != nil {
					return nil, errors.New(err.Error())
				}
				return rc, nil
			},
		}},
		{name: "loses the field", wantFail: "Invalid/EmptyToken", wantMsg: "must wrap a *provider.FieldError", wrap: broken{
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				rc, err := b.Mock.Send(ctx, r)
				if err != nil {
					return nil, &provider.Error{Provider: b.Name(), Kind: provider.KindOf(err)}
				}
				return rc, nil
			},
		}},
		{name: "misreports status", wantFail: "Status/android/Pollable", wantMsg: "is not a provider.State", wrap: broken{
			status: func(_ *broken, _ context.Context, _ provider.Platform, id string) (*provider.Status, error) {
				return &provider.Status{ID: id, State: "almost"}, nil
			},
		}},
		{name: "polls message ids", wantFail: "Status/android/NotPollable", wantMsg: "Status of a non-pollable receipt must fail", wrap: broken{
			status: func(_ *broken, _ context.Context, _ provider.Platform, id string) (*provider.Status, error) {
				return &provider.Status{ID: id, State: provider.StateAccepted}, nil
			},
		}},
		{name: "cancels with plain errors", wantFail: "Cancel/ios/ContextDone", wantMsg: "does not wrap a *provider.Error", wrap: broken{
			cancel: func(_ *broken, ctx context.Context, _ provider.Platform, _ string) error {
				return ctx.Err()
			},
		}},
		{name: "ignores its payload limit", wantFail: "PayloadLimit/android", wantMsg: "a refused Send must not return a receipt", wrap: broken{
			caps: func(b *broken, p provider.Platform) provider.Capabilities {
				c := b.Mock.Capabilities(p)
				c.MaxPayloadBytes = 100
				return c
			},
		}},
		{name: "validates nothing", wantFail: "Validate/ios/Refused/EmptyToken", wantMsg: "Validate accepted a request that Send refuses", wrap: broken{
			validate: func(*broken, *provider.Request) error { return nil },
		}},
		{name: "validates against the wrong limit", wantFail: "Validate/android/Refused/OneTokenTooMany", wantMsg: "Validate accepted a request that Send refuses", wrap: broken{
			validate: func(b *broken, r *provider.Request) error {
				if r != nil && len(r.Audience.Tokens) > 1 {
					r = &provider.Request{Platform: r.Platform, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: r.Audience.Tokens[:1]}, Notification: r.Notification}
				}
				return b.Mock.Validate(r)
			},
		}},
		{name: "validates naming another field", wantFail: "Validate/ios/Refused/NoContent", wantMsg: "Send must refuse naming the field Validate named", wrap: broken{
			validate: func(b *broken, r *provider.Request) error {
				if err := b.Mock.Validate(r); err != nil {
					return provider.Invalid("request", "refused")
				}
				return nil
			},
		}},
		{name: "validates with a plain error", wantFail: "Validate/android/Refused/NoPlatform", wantMsg: "does not wrap a *provider.Error", wrap: broken{
			validate: func(b *broken, r *provider.Request) error {
				if err := b.Mock.Validate(r); err != nil {
					return errors.New(err.Error())
				}
				return nil
			},
		}},
		{name: "refuses valid requests in Validate", wantFail: "Validate/ios/Valid", wantMsg: "Validate refused a request that Send must accept", wrap: broken{
			validate: func(*broken, *provider.Request) error { return provider.Invalid("request", "refused") },
		}},
		{name: "sends from Validate", wantFail: "Validate/ios/Valid", wantMsg: "Validate must not make a delivering call", wrap: broken{
			validate: func(b *broken, r *provider.Request) error {
				_, _ = b.Mock.Send(context.Background(), r)
				return b.Mock.Validate(r)
			},
		}},
		{name: "modifies the request in Validate", wantFail: "Validate/android/Valid", wantMsg: "Validate must not modify the request", wrap: broken{
			validate: func(b *broken, r *provider.Request) error {
				r.Notification.Extras["providertest"] = "changed"
				return b.Mock.Validate(r)
			},
		}},
		{name: "declares token failures it does not name", wantFail: "TokenFailures/ios", wantMsg: "the dead token must be named", wrap: broken{
			caps: func(b *broken, p provider.Platform) provider.Capabilities {
				c := b.Mock.Capabilities(p)
				c.TokenFailures = true
				return c
			},
		}},
		{name: "names a valid token as failed", wantFail: "TokenFailures/android", wantMsg: "a valid token", wrap: broken{
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				rc, err := b.Mock.Send(ctx, r)
				if err == nil && len(r.Audience.Tokens) == 3 {
					rc.Failures = []provider.TokenFailure{{Token: r.Audience.Tokens[0], Kind: provider.InvalidToken}}
				}
				if err != nil && len(r.Audience.Tokens) == 3 {
					return &provider.Receipt{Provider: b.Name(), Platform: r.Platform, ID: "x",
						Failures: []provider.TokenFailure{{Token: r.Audience.Tokens[0], Kind: provider.InvalidToken}}}, nil
				}
				return rc, err
			},
		}},
		{name: "needs an alias type it does not declare", wantFail: "AliasType/ios", wantMsg: "NeedsAliasType is false", wrap: broken{
			caps: func(b *broken, p provider.Platform) provider.Capabilities {
				c := b.Mock.Capabilities(p)
				c.NeedsAliasType = false
				return c
			},
		}},
		{name: "declares an alias type it does not need", wantFail: "AliasType/ios", wantMsg: "a refused Send must not return a receipt", wrap: broken{
			validate: func(b *broken, r *provider.Request) error {
				if r != nil && r.Audience.Kind == provider.AudienceAliases {
					return nil
				}
				return b.Mock.Validate(r)
			},
			send: func(b *broken, ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				if r.Audience.Kind == provider.AudienceAliases {
					return &provider.Receipt{Provider: b.Name(), Platform: r.Platform, ID: "alias"}, nil
				}
				return b.Mock.Send(ctx, r)
			},
		}},
		{name: "polls past its horizon", wantFail: "Declarations/ios", wantMsg: "shorter than its Interval", wrap: broken{
			caps: func(b *broken, p provider.Platform) provider.Capabilities {
				c := b.Mock.Capabilities(p)
				c.Polling = provider.Polling{Interval: time.Hour, Horizon: time.Minute}
				return c
			},
		}},
		{name: "declares a negative timeout", wantFail: "Declarations/android", wantMsg: "SendTimeout: must not be negative", wrap: broken{
			caps: func(b *broken, p provider.Platform) provider.Capabilities {
				c := b.Mock.Capabilities(p)
				c.SendTimeout = -time.Second
				return c
			},
		}},
		{name: "harness without Calls", wantFail: "Name", wantMsg: "Harness.Calls is required",
			harness: func(h *providertest.Harness) { h.Calls = nil }},
		{name: "harness without platforms", wantFail: "Send", wantMsg: "Harness.Platforms is required",
			harness: func(h *providertest.Harness) { h.Platforms = nil }},
		{name: "harness with an unknown platform", wantFail: "Send", wantMsg: `Harness.Platforms[2] = "windows" is not a platform`,
			harness: func(h *providertest.Harness) { h.Platforms = append(h.Platforms, "windows") }},
		{name: "harness repeating a platform", wantFail: "Send", wantMsg: `Harness.Platforms[1] = "ios" is repeated`,
			harness: func(h *providertest.Harness) { h.Platforms = []provider.Platform{provider.IOS, provider.IOS} }},
		{name: "harness repeating tokens", wantFail: "MaxTokens/ios", wantMsg: "Harness.Token repeats a token",
			harness: func(h *providertest.Harness) { h.Token = func(provider.Platform, int) string { return "same" } }},
		{name: "harness with empty tokens", wantFail: "Send/ios", wantMsg: `Harness.Token("ios", 0) is empty`,
			harness: func(h *providertest.Harness) { h.Token = func(provider.Platform, int) string { return "" } }},
	}
}

// TestRunFailsBrokenProviders proves that the suite catches each broken
// promise: it runs the suite against a broken provider in a child process
// (a failing subtest cannot be contained in-process) and expects that child
// to fail in the right subtest with the right message.
func TestRunFailsBrokenProviders(t *testing.T) {
	cases := brokenCases()
	if name := os.Getenv(brokenEnv); name != "" {
		runBroken(t, cases, name)
		return
	}
	for _, bc := range cases {
		t.Run(bc.name, func(t *testing.T) {
			pattern := "^" + regexp.QuoteMeta(t.Name()[:strings.IndexByte(t.Name(), '/')]) + "$"
			for elem := range strings.SplitSeq(bc.wantFail, "/") {
				pattern += "/^" + regexp.QuoteMeta(elem) + "$"
			}
			cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run="+pattern, "-test.count=1")
			cmd.Env = append(os.Environ(), brokenEnv+"="+bc.name)
			out, err := cmd.CombinedOutput()

			var exit *exec.ExitError
			require.ErrorAsf(t, err, &exit, "the suite passed a provider that %s:\n%s", bc.name, out)
			assert.Contains(t, string(out), "--- FAIL: TestRunFailsBrokenProviders/"+bc.wantFail+" (")
			assert.Contains(t, string(out), bc.wantMsg)
		})
	}
}

// runBroken runs the suite, in the child process, against the broken
// provider called name.
func runBroken(t *testing.T, cases []brokenCase, name string) {
	for _, bc := range cases {
		if bc.name != name {
			continue
		}
		providertest.Run(t, func(t *testing.T) *providertest.Harness {
			m := newMock(t, providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceBroadcast}})
			b := bc.wrap
			b.Mock = m
			b.shared = m.Capabilities(provider.IOS).Audiences
			h := mockHarness(m, &b)
			if bc.harness != nil {
				bc.harness(h)
			}
			return h
		})
		return
	}
	t.Fatalf("%s=%q names no broken provider", brokenEnv, name)
}
