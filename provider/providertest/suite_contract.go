package providertest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// testDeclarations checks the declarations of Capabilities beyond the
// limits: none negative, a polling policy only from a provider that can
// poll and whose horizon leaves room for a poll, a send timeout covering
// at least one call, and, in Receipt and in errors, per-token failures
// that name only tokens of the request.
func (s *suite) testDeclarations(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		c := h.Provider.Capabilities(p)
		require.NoError(t, c.Validate(), "Capabilities(%q)", p)
		require.GreaterOrEqual(t, c.Calls(), 1, "Capabilities(%q).CallsPerSend", p)
		pol := c.Polling
		if pol.Interval != 0 || pol.Horizon != 0 {
			_, ok := h.Provider.(provider.StatusQuerier)
			require.Truef(t, ok, "Capabilities(%q).Polling declares an interval or a horizon, but %s cannot poll (no provider.StatusQuerier)", p, h.Provider.Name())
			require.Falsef(t, pol.Disabled, "Capabilities(%q).Polling is Disabled and yet declares an interval or a horizon", p)
		}
		if pol.Interval > 0 {
			require.Positive(t, pol.Interval, "Capabilities(%q).Polling.Interval", p)
		}
		if pol.Horizon > 0 && pol.Interval > 0 {
			require.GreaterOrEqualf(t, pol.Horizon, pol.Interval,
				"Capabilities(%q).Polling.Horizon is shorter than its Interval: no receipt would be polled", p)
		}
	})
}

// testAliasType checks NeedsAliasType against what the provider does
// with an alias audience that has no AliasType: a provider that needs it
// refuses, before any delivering call, naming "audience.alias_type"; one
// that does not accepts it in Validate (when it is a provider.Validator).
func (s *suite) testAliasType(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		c := h.Provider.Capabilities(p)
		if !c.Supports(provider.AudienceAliases) {
			t.Skipf("Capabilities(%q) lists no alias audience", p)
		}
		r := request(p, nil)
		r.Audience = provider.Audience{Kind: provider.AudienceAliases, Aliases: []string{"providertest"}}
		require.NoError(t, r.Validate(), "providertest: Request.Validate must not require an alias type")
		if c.NeedsAliasType {
			before := h.Calls()
			rc, err := h.Provider.Send(t.Context(), r)
			requireInvalid(t, rc, err)
			require.Equal(t, "audience.alias_type", provider.FieldOf(err),
				"Capabilities(%q).NeedsAliasType: an alias audience without AliasType must be refused naming it", p)
			require.Equal(t, before, h.Calls(), "a missing alias type must be refused before any delivering call")
			if v, ok := h.Provider.(provider.Validator); ok {
				require.Equal(t, "audience.alias_type", provider.FieldOf(v.Validate(r)), "Validate must refuse what Send refuses")
			}
			return
		}
		v, ok := h.Provider.(provider.Validator)
		if !ok {
			t.Skip("the provider does not implement provider.Validator")
		}
		require.NoError(t, v.Validate(r), "Capabilities(%q).NeedsAliasType is false: an alias audience without AliasType is valid", p)
	})
}

// testTokenFailures sends three tokens, the middle one dead at the backend
// (Harness.Invalidate). Whatever the provider declares, no valid token may
// be reported as failed. A provider that declares TokenFailures must name
// the dead token, as an InvalidToken failure: in Receipt.Failures when the
// vendor accepted the rest, or in Error.Failures of an InvalidToken error.
func (s *suite) testTokenFailures(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		if h.Invalidate == nil {
			t.Skip("the harness cannot make a token dead (Harness.Invalidate)")
		}
		c := h.Provider.Capabilities(p)
		if c.MaxTokens < 3 {
			t.Skipf("Capabilities(%q).MaxTokens = %d: a batch of three does not fit", p, c.MaxTokens)
		}
		toks := h.tokens(t, p, 3)
		dead := toks[1]
		h.Invalidate(p, dead)
		rc, err := h.Provider.Send(t.Context(), request(p, slices.Clone(toks)))
		var failures []provider.TokenFailure
		if err != nil {
			requireProviderError(t, err)
			failures = provider.FailuresOf(err)
			if c.TokenFailures {
				requireKind(t, err, provider.InvalidToken)
			}
		} else {
			requireReceipt(t, h, p, rc, err)
			failures = rc.Failures
		}
		for _, f := range failures {
			require.Equalf(t, dead, f.Token, "a per-token failure names %q, a valid token (only %q is dead)", f.Token, dead)
		}
		if c.TokenFailures {
			require.Lenf(t, failures, 1, "Capabilities(%q).TokenFailures: the dead token must be named, once", p)
			require.Equal(t, provider.InvalidToken.String(), failures[0].Kind.String(), "the dead token's failure kind")
		}
	})
}
