package providertest

import (
	"slices"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// Run runs the conformance suite against the provider that newHarness
// builds, as subtests of t. Every provider package calls it from a test
// against its fake backend; it must pass under -race.
//
// The suite checks that a provider:
//   - names itself with a stable lower-case name and reports sane
//     Capabilities (MaxTokens > 0, token audiences supported) in fresh
//     slices;
//   - answers a single-token and a MaxTokens batch with one delivering call
//     and a receipt carrying a non-empty ID, its Name and the platform;
//   - rejects MaxTokens+1 tokens (MaxFileTokens+1 with a FileThreshold),
//     every Request.Validate failure and unsupported audiences as
//     InvalidRequest errors naming a field, before any delivering call;
//   - refuses, before any delivering call, a body one byte over
//     Capabilities.MaxPayloadBytes (when positive) as InvalidRequest naming
//     "notification.body", its largest part;
//   - when it is a provider.Validator: accepts with Validate, without a
//     delivering call and without modifying it, a request Send accepts;
//     refuses with Validate, without a delivering call, every request above
//     that Send must refuse, and Send then refuses it as InvalidRequest
//     naming the same field; and serves Validate from 16 goroutines at once;
//   - reports every fault the backend can produce with the matching Kind,
//     through errors.Is and provider.KindOf, after exactly one delivering
//     call (no internal retry), and recovers on the next Send;
//   - fails with Temporary when ctx is already done, without calling the
//     backend, and returns promptly with Temporary or Indeterminate when ctx
//     is cancelled while the backend holds the call;
//   - answers Status for pollable receipts and rejects non-pollable ids
//     (when it is a provider.StatusQuerier), and keeps the error contract in
//     Cancel (when it is a provider.Canceler);
//   - does not modify a Request, and does not read its slices and maps
//     after Send returns (the suite overwrites them; -race reports a reader);
//   - serves 16 goroutines sending at once with distinct receipt ids;
//   - declares sane Capabilities beyond the limits: nothing negative, a
//     polling interval or horizon only when it can poll (horizon no
//     shorter than interval), and keeps them: an alias audience without
//     AliasType is refused naming "audience.alias_type" exactly when it
//     declares NeedsAliasType (accepted by Validate otherwise), and a batch
//     holding a dead token (Harness.Invalidate) names that token as an
//     InvalidToken failure, in Receipt.Failures or Error.Failures, when it
//     declares TokenFailures; no provider reports a valid token as failed.
//
// Subtests the harness cannot support (no Fault, no Stall, a kind Fault
// declines, an optional interface not implemented) are skipped with the
// reason.
func Run(t *testing.T, newHarness func(t *testing.T) *Harness) {
	t.Helper()
	require.NotNil(t, newHarness, "providertest: Run needs a newHarness function")
	s := &suite{newHarness: newHarness}
	t.Run("Name", s.testName)
	t.Run("Capabilities", s.testCapabilities)
	t.Run("Send", s.testSend)
	t.Run("MaxTokens", s.testMaxTokens)
	t.Run("Invalid", s.testInvalid)
	t.Run("Unsupported", s.testUnsupported)
	t.Run("PayloadLimit", s.testPayloadLimit)
	t.Run("Validate", s.testValidate)
	t.Run("Faults", s.testFaults)
	t.Run("ContextDoneBefore", s.testContextDoneBefore)
	t.Run("ContextCanceledWhileStalled", s.testCanceledWhileStalled)
	t.Run("Status", s.testStatus)
	t.Run("Cancel", s.testCancel)
	t.Run("RequestNotModified", s.testRequestNotModified)
	t.Run("Concurrent", s.testConcurrent)
	t.Run("Declarations", s.testDeclarations)
	t.Run("AliasType", s.testAliasType)
	t.Run("TokenFailures", s.testTokenFailures)
}

// suite holds what every subtest needs: the way to build a fresh harness.
type suite struct {
	newHarness func(t *testing.T) *Harness
}

// harness builds and checks a fresh Harness for t.
func (s *suite) harness(t *testing.T) *Harness {
	t.Helper()
	h := s.newHarness(t)
	checkHarness(t, h)
	return h
}

// perPlatform runs fn in one subtest per configured platform, each with a
// fresh harness so that nothing one platform's run arranges reaches another.
func (s *suite) perPlatform(t *testing.T, fn func(t *testing.T, h *Harness, p provider.Platform)) {
	t.Helper()
	for _, p := range s.harness(t).Platforms {
		t.Run(string(p), func(t *testing.T) {
			h := s.harness(t)
			require.Containsf(t, h.Platforms, p, "providertest: newHarness configured different platforms on another call")
			fn(t, h, p)
		})
	}
}

func (s *suite) testName(t *testing.T) {
	h := s.harness(t)
	name := h.Provider.Name()
	require.Truef(t, validName(name), "Name() = %q: want a non-empty lower-case name of letters, digits, '-' or '_' (it is stored in the database)", name)
	require.Equal(t, name, h.Provider.Name(), "Name() must be stable")
}

func (s *suite) testCapabilities(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		c := h.Provider.Capabilities(p)
		require.Positive(t, c.MaxTokens, "Capabilities(%q).MaxTokens", p)
		require.GreaterOrEqual(t, c.MaxPayloadBytes, 0, "Capabilities(%q).MaxPayloadBytes", p)
		require.Truef(t, c.Supports(provider.AudienceTokens), "Capabilities(%q).Audiences = %v: every provider must support %q", p, c.Audiences, provider.AudienceTokens)
		require.NoError(t, checkKinds("Audiences", c.Audiences), "Capabilities(%q)", p)

		again := h.Provider.Capabilities(p)
		require.Equal(t, c, again, "Capabilities(%q) must be stable", p)

		// A caller that edits the returned slice must not change what the
		// provider reports to every other goroutine.
		want := slices.Clone(c.Audiences)
		saved := again.Audiences[0]
		again.Audiences[0] = "providertest-overwritten"
		after := slices.Clone(h.Provider.Capabilities(p).Audiences)
		again.Audiences[0] = saved // undo the damage if the slice was shared
		require.Equal(t, want, after, "Capabilities(%q) must return a fresh Audiences slice on every call", p)
	})
}

func (s *suite) testSend(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		before := h.Calls()
		rc, err := h.Provider.Send(t.Context(), request(p, h.tokens(t, p, 1)))
		requireReceipt(t, h, p, rc, err)
		require.Empty(t, rc.Failures, "a valid token must not be reported as a per-token failure")
		require.Equal(t, before+1, h.Calls(), "one Send must make exactly one delivering call")
	})
}

func (s *suite) testMaxTokens(t *testing.T) {
	s.perPlatform(t, func(t *testing.T, h *Harness, p provider.Platform) {
		caps := h.Provider.Capabilities(p)
		limit := caps.MaxTokens
		require.Positive(t, limit, "Capabilities(%q).MaxTokens", p)
		toks := h.tokens(t, p, caps.MaxSendTokens()+1)

		t.Run("Full", func(t *testing.T) {
			before := h.Calls()
			rc, err := h.Provider.Send(t.Context(), request(p, toks[:limit:limit]))
			requireReceipt(t, h, p, rc, err)
			require.Empty(t, rc.Failures, "valid tokens must not be reported as per-token failures")
			require.Equal(t, before+1, h.Calls(), "a batch of MaxTokens must take exactly one delivering call")
		})
		t.Run("OneTooMany", func(t *testing.T) {
			before := h.Calls()
			rc, err := h.Provider.Send(t.Context(), request(p, toks))
			requireInvalid(t, rc, err)
			require.Equal(t, before, h.Calls(), "MaxSendTokens()+1 tokens must be rejected before any delivering call")
		})
	})
}
