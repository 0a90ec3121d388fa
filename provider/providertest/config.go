package providertest

import (
	"fmt"
	"maps"
	"slices"

	"github.com/tuisong/push/provider"
)

// DefaultMockName is the name a Mock reports when MockConfig.Name is empty.
const DefaultMockName = "mock"

// DefaultMaxTokens is the MaxTokens of DefaultCapabilities, the same as
// Umeng's listcast limit so that host code batching for Umeng is exercised.
const DefaultMaxTokens = 500

// MockConfig configures a Mock. The zero value is valid: a Mock named "mock"
// that accepts every audience kind on both platforms, 500 tokens a call and
// content of any size, and answers with message ids that cannot be polled.
type MockConfig struct {
	// Name is what Name returns and what receipts and errors carry.
	// Default DefaultMockName. It must be lower case ASCII letters, digits,
	// '-' or '_', because providers' names are stored in the database.
	//
	// The push Service routes devices by this name (a device's
	// push_platform), and devices registered without one are "umeng"'s: a
	// Mock standing in for Umeng in a host test must be named "umeng".
	Name string
	// Capabilities sets what the Mock reports, and enforces, per platform.
	// A platform missing from the map gets DefaultCapabilities.
	// MaxTokens, Audiences and NeedsAliasType are enforced by Send and
	// Validate. The other declarations (Polling, TokenFailures,
	// CallsPerSend, SendTimeout, MaxTimeToLive) are reported as they are,
	// for the caller under test to follow; a SendFunc makes the Mock keep
	// them (name refused tokens in provider.Error.Failures, say). So is
	// MaxPayloadBytes when positive, against ContentBytes (title, subtitle,
	// body, extras keys and values), because the Mock encodes no payload;
	// content over it is refused naming its largest part, as
	// "notification.body", "notification.title", "notification.subtitle"
	// or "notification.extras".
	Capabilities map[provider.Platform]provider.Capabilities
	// Pollable lists the audience kinds whose generated receipts are task
	// ids that Status answers and Cancel cancels, as Umeng does for
	// broadcast, filter and file casts. Default none: every generated
	// receipt is a message id, final once accepted.
	Pollable []provider.AudienceKind
	// Validate, when set, is one more check of Mock.Validate and Send, run
	// after the built-in ones on the caller's request, to imitate a vendor's
	// own rules (a reserved extras key, say). It must not modify or retain
	// the request, must have no side effect and must be safe for concurrent
	// use. To refuse, return provider.Invalid(field, reason) with the field
	// named by its Request path; the Mock puts its name on the error. A
	// *provider.Error of another Kind is passed on the same way; any other
	// error is wrapped in an InvalidRequest *provider.Error, which then
	// names no field. Default nil: no further check.
	Validate func(r *provider.Request) error
	// IssueRetryToken, when set, answers the Mock's IssueRetryToken
	// (provider.RetryTokenIssuer), to imitate a vendor whose retries are
	// deduplicated by an id taken before the first try, as JPush's cid. It
	// must be safe for concurrent use. Default nil: IssueRetryToken
	// returns "", and the caller sends without a token.
	IssueRetryToken func(r *provider.Request) (string, error)
}

// DefaultCapabilities returns the capabilities of a platform that
// MockConfig.Capabilities does not mention: DefaultMaxTokens tokens a call,
// no payload limit, every audience kind, and alias audiences that need an
// AliasType, as Umeng's do. Every other declaration is zero: one call per
// Send bounded by the caller's timeout, receipts polled at the caller's
// interval until the push expires, no per-token failures named and no
// limit on the time to live.
func DefaultCapabilities() provider.Capabilities {
	return provider.Capabilities{MaxTokens: DefaultMaxTokens, Audiences: audienceKinds(), NeedsAliasType: true}
}

// audienceKinds lists every audience kind the provider package defines.
func audienceKinds() []provider.AudienceKind {
	return []provider.AudienceKind{
		provider.AudienceTokens,
		provider.AudienceBroadcast,
		provider.AudienceAliases,
		provider.AudienceFilter,
		provider.AudienceFile,
	}
}

// withDefaults returns a copy of c with every default filled in, owning its
// slices and maps so later changes to the caller's config do not reach the
// Mock.
func (c MockConfig) withDefaults() MockConfig {
	if c.Name == "" {
		c.Name = DefaultMockName
	}
	caps := make(map[provider.Platform]provider.Capabilities, len(provider.Platforms()))
	for _, p := range provider.Platforms() {
		caps[p] = DefaultCapabilities()
	}
	for p, pc := range c.Capabilities {
		pc.Audiences = slices.Clone(pc.Audiences)
		caps[p] = pc
	}
	c.Capabilities = caps
	c.Pollable = slices.Clone(c.Pollable)
	return c
}

// validate reports the first field of c that a Mock cannot work with. It is
// called on the result of withDefaults.
func (c MockConfig) validate() error {
	if !validName(c.Name) {
		return fmt.Errorf("providertest: MockConfig.Name: must be lower case letters, digits, '-' or '_', got %q", c.Name)
	}
	for _, p := range slices.Sorted(maps.Keys(c.Capabilities)) {
		pc := c.Capabilities[p]
		field := fmt.Sprintf("MockConfig.Capabilities[%q]", p)
		if !p.Valid() {
			return fmt.Errorf("providertest: %s: unknown platform", field)
		}
		if pc.MaxTokens <= 0 {
			return fmt.Errorf("providertest: %s.MaxTokens: must be positive, got %d", field, pc.MaxTokens)
		}
		if err := pc.Validate(); err != nil {
			return fmt.Errorf("providertest: %s.%w", field, err)
		}
		if len(pc.Audiences) == 0 {
			return fmt.Errorf("providertest: %s.Audiences: must list at least one audience kind", field)
		}
		if err := checkKinds(field+".Audiences", pc.Audiences); err != nil {
			return err
		}
	}
	return checkKinds("MockConfig.Pollable", c.Pollable)
}

// checkKinds reports an unknown or repeated audience kind in kinds.
func checkKinds(field string, kinds []provider.AudienceKind) error {
	for i, k := range kinds {
		if !slices.Contains(audienceKinds(), k) {
			return fmt.Errorf("providertest: %s[%d]: unknown audience kind %q", field, i, k)
		}
		if slices.Contains(kinds[:i], k) {
			return fmt.Errorf("providertest: %s[%d]: audience kind %q listed twice", field, i, k)
		}
	}
	return nil
}

// validName reports whether s is a usable provider name.
func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, r := range s {
		if !('a' <= r && r <= 'z' || '0' <= r && r <= '9' || r == '-' || r == '_') {
			return false
		}
	}
	return true
}
