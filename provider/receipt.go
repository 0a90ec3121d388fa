package provider

import (
	"encoding/json"
	"fmt"
	"time"
)

// Receipt is what the vendor answered to an accepted Send.
type Receipt struct {
	Provider string   // Provider.Name() of the sender
	Platform Platform // the request's platform
	// ID is the vendor's id: a task id when Pollable, otherwise a message id.
	ID string
	// Pollable reports whether ID can be given to StatusQuerier.Status. When
	// false the push is final as soon as it is accepted.
	Pollable bool
	// Raw is the vendor's response body, with any secret removed.
	Raw json.RawMessage
	// Failures lists tokens the vendor refused inside an accepted request,
	// in the order the tokens were given. The push Service disables those
	// of kind InvalidToken; it does not retry a token of any other kind (the
	// request was accepted: a retry would send to the others again). A
	// delivery whose every token is listed is recorded as failed, with the
	// first failure's kind, and not retried: the request was taken, but
	// nothing was sent.
	Failures []TokenFailure
}

// TokenFailure is one token that an accepted request could not reach.
type TokenFailure struct {
	Token   string
	Kind    Kind   // InvalidToken for dead or unknown tokens
	Code    string // the vendor's code, verbatim
	Message string
}

// Capabilities describes what a vendor accepts for one platform, and how
// its sends and receipts behave. The zero value of every field after
// Audiences means the behaviour the contract assumed before the field
// existed (one call per Send, bounded by the caller's timeout; receipts
// polled at the caller's interval until the push expires; no per-token
// failures named; no limit on the time to live), so a provider declares
// only where it differs.
type Capabilities struct {
	// MaxTokens is the largest AudienceTokens batch one Send accepts (but
	// see FileThreshold).
	MaxTokens int
	// FileThreshold, when set, is the size from which a caller sends a
	// platform's token audience by file: in batches of up to MaxFileTokens
	// tokens, each of which the provider uploads and casts as one task
	// (Umeng's filecast), rather than in batches of MaxTokens. A Send of
	// more than MaxTokens tokens is then accepted, up to MaxFileTokens.
	// 0 means never.
	FileThreshold int
	// MaxFileTokens is the largest AudienceTokens batch one Send accepts
	// by file; it is more than MaxTokens when FileThreshold is set.
	MaxFileTokens int
	// MaxFileBytes bounds the file of one Send by file: the bytes of its
	// tokens, each followed by a newline. A caller cuts a batch by file
	// before it reaches either MaxFileTokens or MaxFileBytes. 0: no limit
	// but MaxFileTokens.
	MaxFileBytes int
	// MaxPayloadBytes is the vendor's limit on the encoded payload; 0 if none.
	MaxPayloadBytes int
	// Audiences lists the audience kinds the vendor supports.
	Audiences []AudienceKind

	// Polling says how often and for how long the receipts of this
	// platform are worth polling (StatusQuerier). See Polling.
	Polling Polling
	// TokenFailures reports that the vendor names the tokens it refuses: in
	// Receipt.Failures of an accepted multi-token request, or in
	// Error.Failures of a request refused as a whole for InvalidToken. A
	// caller then disables exactly those tokens and sends to the rest; for
	// a vendor that does not name them, it finds a refused batch's dead
	// token by halving the batch.
	TokenFailures bool
	// NeedsAliasType reports that AudienceAliases (and an AudienceFile of
	// aliases) needs Audience.AliasType: Umeng's alias_type. Vendors whose
	// aliases have no type (JPush, Getui) leave it false and ignore
	// AliasType. A provider that needs it refuses its absence with an
	// InvalidRequest error naming "audience.alias_type", from Validate
	// and Send alike; Request.Validate does not require it.
	NeedsAliasType bool
	// CallsPerSend is the most vendor calls one Send may make, all
	// included: an auth call, an upload or a task creation before the
	// delivering call, a repeat after an expired token. 0 means 1.
	CallsPerSend int
	// SendTimeout is how long one Send may take, all its calls included,
	// as the provider's own per-call timeouts bound it. A caller bounds
	// each Send by it (and keeps its claim on the send that long); 0
	// leaves the bound to the caller.
	SendTimeout time.Duration
	// MaxTimeToLive is the longest a vendor keeps trying a push, counted
	// from the send (or its start time): a caller clamps ExpireTime to
	// the send time plus MaxTimeToLive, and stops polling by then. 0 means
	// the provider states no limit.
	MaxTimeToLive time.Duration
}

// Polling is a provider's policy for polling the receipts of one platform.
// The zero value polls at the caller's interval until the push expires, as
// suits a vendor whose tasks reach a final State (Umeng).
type Polling struct {
	// Interval is the wait between two polls of a receipt; 0 leaves it to
	// the caller. A vendor that reports counts rather than a final state
	// (JPush, Getui) sets it longer, so that its report API is not asked
	// every minute for numbers that change slowly.
	Interval time.Duration
	// Horizon bounds how long after the send a receipt is worth polling:
	// a caller stops at the earlier of the push's expiry and the send
	// time plus Horizon, and keeps the last counts it got; a state not
	// final by then (sending) ends as StateAccepted. 0 means until the
	// push's expiry.
	Horizon time.Duration
	// DoneAtExpiry reports that the vendor stops trying a push at its
	// expiry and reports counts, never a final state of its own (JPush,
	// Getui): a receipt still followed when the push expires ends
	// StateDone (the vendor did what it would), not StateExpired. The
	// caller decides it from the push's stored expiry, so that every
	// instance, and one restarted, ends it alike.
	DoneAtExpiry bool
	// Disabled reports that receipts are not worth polling at all: a
	// caller treats a Pollable receipt as final once accepted, as it does
	// a receipt that is not Pollable.
	Disabled bool
}

// Validate reports the first field of c that no caller can work with: a
// negative count or duration. It names the field by its Go name.
func (c Capabilities) Validate() error {
	for _, f := range []struct {
		name string
		bad  bool
	}{
		{"MaxTokens", c.MaxTokens < 0},
		{"FileThreshold", c.FileThreshold < 0},
		{"MaxFileTokens", c.MaxFileTokens < 0},
		{"MaxFileBytes", c.MaxFileBytes < 0},
		{"MaxPayloadBytes", c.MaxPayloadBytes < 0},
		{"CallsPerSend", c.CallsPerSend < 0},
		{"SendTimeout", c.SendTimeout < 0},
		{"MaxTimeToLive", c.MaxTimeToLive < 0},
		{"Polling.Interval", c.Polling.Interval < 0},
		{"Polling.Horizon", c.Polling.Horizon < 0},
	} {
		if f.bad {
			return &FieldError{Field: f.name, Reason: "must not be negative"}
		}
	}
	if c.FileThreshold > 0 && c.MaxFileTokens <= c.MaxTokens {
		return &FieldError{Field: "MaxFileTokens", Reason: fmt.Sprintf("must be more than MaxTokens (%d) when FileThreshold is set", c.MaxTokens)}
	}
	return nil
}

// FileBytes is the size of a file of tokens, one per line: what
// Capabilities.MaxFileBytes bounds.
func FileBytes(tokens []string) int {
	n := 0
	for _, t := range tokens {
		n += len(t) + 1 // and its newline
	}
	return n
}

// MaxSendTokens is the largest AudienceTokens batch one Send accepts:
// MaxFileTokens when FileThreshold is set, MaxTokens otherwise.
func (c Capabilities) MaxSendTokens() int {
	if c.FileThreshold > 0 {
		return c.MaxFileTokens
	}
	return c.MaxTokens
}

// BatchSize is how many tokens a caller puts in one Send, of a platform's
// audience of n tokens: MaxFileTokens when FileThreshold is set and n
// reaches it, MaxTokens otherwise.
func (c Capabilities) BatchSize(n int) int {
	if c.FileThreshold > 0 && n >= c.FileThreshold {
		return c.MaxFileTokens
	}
	return c.MaxTokens
}

// Calls returns CallsPerSend, or 1 when it is not set.
func (c Capabilities) Calls() int { return max(c.CallsPerSend, 1) }

// Supports reports whether k is among c.Audiences.
func (c Capabilities) Supports(k AudienceKind) bool {
	for _, a := range c.Audiences {
		if a == k {
			return true
		}
	}
	return false
}
