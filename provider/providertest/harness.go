package providertest

import (
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// Harness connects the conformance suite to one provider and to the backend,
// usually a fake vendor server, that the provider talks to. Run builds a
// fresh Harness for every subtest, so a fault or a stall never leaks from one
// subtest into another; release resources with t.Cleanup in the factory.
//
// A "delivering call" below is a backend call that would deliver a push
// (Umeng /api/send, JPush /v3/push), as opposed to auxiliary calls such as
// token uploads or auth.
type Harness struct {
	// Provider is the provider under test, configured to talk to the
	// backend. Required.
	Provider provider.Provider

	// Platforms lists the platforms Provider is configured for; the suite
	// sends to these only. Required, non-empty, no repeats.
	Platforms []provider.Platform

	// Token returns the i-th valid token of platform p: one the backend
	// accepts without a per-token failure. Distinct i give distinct tokens;
	// the suite asks for up to MaxTokens+1 of them (MaxFileTokens+1 with a
	// FileThreshold). Required.
	Token func(p provider.Platform, i int) string

	// Calls reports how many delivering calls the backend has received since
	// the Harness was built, failed ones included. The suite compares it
	// before and after a Send to prove one call per Send and no internal
	// retry. Required.
	Calls func() int

	// Fault arranges that the next delivering call fails so that the
	// provider must report Kind k, and reports whether the backend can do
	// that; the suite skips kinds it cannot. The fault affects that one call
	// only. Optional: nil skips every fault subtest.
	Fault func(k provider.Kind) bool

	// Invalidate makes the backend treat token (one of Token's) of
	// platform p as dead, as after the app was uninstalled, for the rest
	// of the Harness's life. Optional: nil skips the TokenFailures
	// subtest.
	Invalidate func(p provider.Platform, token string)

	// Stall makes the backend hold every delivering call until release is
	// called or the caller gives up on it (its ctx ends, its connection
	// closes). stalled is closed once a call is being held. The suite calls
	// release exactly once. Optional: nil skips the stall subtests.
	Stall func() (stalled <-chan struct{}, release func())
}

// waitLimit bounds how long the suite waits for something that should
// happen at once, so a hung provider fails its subtest instead of hanging
// the whole test binary. It is a safety net, not a timing assertion.
const waitLimit = 10 * time.Second

// concurrentWorkers and concurrentSends size the concurrency subtest:
// enough overlapping calls for the race detector to see shared state.
const (
	concurrentWorkers = 16
	concurrentSends   = 8
)

// checkHarness fails t when h lacks what every subtest relies on.
func checkHarness(t *testing.T, h *Harness) {
	t.Helper()
	require.NotNil(t, h, "providertest: newHarness returned nil")
	require.NotNil(t, h.Provider, "providertest: Harness.Provider is required")
	require.NotEmpty(t, h.Platforms, "providertest: Harness.Platforms is required")
	for i, p := range h.Platforms {
		require.Truef(t, p.Valid(), "providertest: Harness.Platforms[%d] = %q is not a platform", i, p)
		require.NotContainsf(t, h.Platforms[:i], p, "providertest: Harness.Platforms[%d] = %q is repeated", i, p)
	}
	require.NotNil(t, h.Token, "providertest: Harness.Token is required")
	require.NotNil(t, h.Calls, "providertest: Harness.Calls is required")
}

// tokens returns n valid tokens of p from the harness, failing t when the
// harness repeats one or returns an empty one.
func (h *Harness) tokens(t *testing.T, p provider.Platform, n int) []string {
	t.Helper()
	out := make([]string, n)
	seen := make(map[string]int, n)
	for i := range out {
		tok := h.Token(p, i)
		require.NotEmptyf(t, tok, "providertest: Harness.Token(%q, %d) is empty", p, i)
		if j, dup := seen[tok]; dup {
			require.Failf(t, "providertest: Harness.Token repeats a token", "Token(%q, %d) == Token(%q, %d)", p, i, p, j)
		}
		seen[tok] = i
		out[i] = tok
	}
	return out
}

// request returns a valid visible notification to tokens on p.
func request(p provider.Platform, tokens []string) *provider.Request {
	return &provider.Request{
		Platform:     p,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens},
		Notification: provider.Notification{Title: "providertest", Body: "conformance suite"},
	}
}

// knownStates lists every State the provider package defines.
func knownStates() []provider.State {
	return []provider.State{
		provider.StateQueued, provider.StateScheduled, provider.StateSending,
		provider.StateDone, provider.StateFailed, provider.StateCanceled,
		provider.StateExpired, provider.StateEmpty, provider.StateAccepted,
	}
}

// isKnownState reports whether s is a State the provider package defines.
func isKnownState(s provider.State) bool { return slices.Contains(knownStates(), s) }
