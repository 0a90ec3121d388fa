package provider

import (
	"errors"
	"fmt"
	"strings"
	"time"
)

// ErrNotBuilt is matched (errors.Is) by the error of CheckBuilt (see
// BuildChecker) and of every method of a provider its constructor did not
// make, such as a zero umeng.Client{} or a nil *jpush.Client: the method
// does nothing else. Such an error from Send, Status, Cancel or Validate
// is an *Error of Kind Auth, since no retry can succeed until the host
// makes the provider with its constructor.
var ErrNotBuilt = errors.New("provider: not built by its constructor")

// Kind classifies an error by what the caller should do about it. The enum is
// append-only: values are never renumbered or reused.
type Kind uint8

const (
	// Unknown is an error no table classified. Callers treat it like
	// Temporary but spend an attempt on each retry, so it cannot loop forever.
	Unknown Kind = iota
	// Temporary means the vendor did not act on the request (network error
	// before sending, HTTP 5xx, vendor "busy" codes); retrying is safe.
	Temporary
	// Indeterminate means the request was sent but the answer was lost (a
	// timeout after the body went out). The vendor may have acted on it, so a
	// retry must carry the same idempotency key.
	Indeterminate
	// RateLimited means the vendor refused the call for its rate; retry after
	// RetryAfter (when set) without counting it as a failed attempt.
	RateLimited
	// QuotaExceeded means a daily/hourly quota is spent; retry later without
	// counting an attempt.
	QuotaExceeded
	// InvalidToken means the device token(s) are unknown to the vendor or dead;
	// the device's token must be disabled until it registers again.
	InvalidToken
	// InvalidRequest means the request itself is wrong (missing field, payload
	// too long, bad value). Retrying the same request cannot succeed.
	InvalidRequest
	// Auth means the credentials, sign, IP whitelist or app state are wrong.
	// Retrying cannot succeed until an operator fixes the configuration.
	Auth
)

var kindNames = [...]string{
	Unknown:        "unknown",
	Temporary:      "temporary",
	Indeterminate:  "indeterminate",
	RateLimited:    "rate_limited",
	QuotaExceeded:  "quota_exceeded",
	InvalidToken:   "invalid_token",
	InvalidRequest: "invalid_request",
	Auth:           "auth",
}

// String returns the snake_case name of k, as stored in the database.
func (k Kind) String() string {
	if int(k) < len(kindNames) {
		return kindNames[k]
	}
	return fmt.Sprintf("kind(%d)", uint8(k))
}

// Error makes a Kind usable as an errors.Is target:
// errors.Is(err, provider.InvalidToken). It returns the same text as
// String, so that fmt prints a Kind by its name either way.
func (k Kind) Error() string { return k.String() }

// Retryable reports whether a later retry of the same request may succeed.
// Unknown counts as retryable: losing a push is worse than a bounded number
// of extra attempts.
func (k Kind) Retryable() bool {
	switch k {
	case Unknown, Temporary, Indeterminate, RateLimited, QuotaExceeded:
		return true
	}
	return false
}

// SpendsAttempt reports whether a failure of this kind counts against the
// caller's maximum number of attempts. Rate and quota refusals do not.
func (k Kind) SpendsAttempt() bool { return k != RateLimited && k != QuotaExceeded }

// ParseKind returns the Kind whose String is s, or Unknown.
func ParseKind(s string) Kind {
	for k, n := range kindNames {
		if n == s {
			return Kind(k)
		}
	}
	return Unknown
}

// Error is the one error type providers return. Match it with errors.As, or
// its Kind with errors.Is.
type Error struct {
	Provider   string        // "umeng", "jpush", …
	Op         string        // "send", "status", "cancel", "upload", "auth", "validate"
	Kind       Kind          // what the caller should do
	Code       string        // the vendor's own error code, verbatim ("2027"); empty when none
	Message    string        // the vendor's message, never containing secrets
	HTTPStatus int           // HTTP status of the vendor's answer; 0 when none arrived
	RetryAfter time.Duration // how long the vendor asked us to wait; 0 when it did not say
	Err        error         // the underlying cause, if any
	// Failures names, where the vendor says, the tokens for which it
	// refused a multi-token request as a whole (Kind InvalidToken), in
	// the order the tokens were given. Empty when the vendor did not say
	// which; see Capabilities.TokenFailures.
	Failures []TokenFailure
	// RetryToken is what a retry of the request needs to be deduplicated
	// by the vendor (see Request.RetryToken): set by a provider whose
	// sends carry a vendor-issued id, on every error of a Send that had
	// one. The caller keeps it for the key's next try, in whatever process
	// that runs; an error without one tells the caller to drop what it
	// kept. It is an id, never a secret, and at most MaxRetryToken bytes.
	RetryToken string
}

// MaxRetryToken bounds Error.RetryToken and Request.RetryToken.
const MaxRetryToken = 255

// RetryTokenOf returns the RetryToken of the first *Error in err's chain,
// and whether there is one such *Error: an error of another type (a
// cancelled context before the provider ran, say) says nothing of the
// token.
func RetryTokenOf(err error) (token string, ok bool) {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryToken, true
	}
	return "", false
}

// Error renders the error for logs. It never contains credentials.
func (e *Error) Error() string {
	var b strings.Builder
	if e.Provider != "" {
		b.WriteString(e.Provider)
		b.WriteByte(' ')
	}
	if e.Op != "" {
		b.WriteString(e.Op)
		b.WriteString(": ")
	}
	b.WriteString(e.Kind.String())
	if e.Code != "" {
		b.WriteString(" (code ")
		b.WriteString(e.Code)
		b.WriteByte(')')
	}
	if e.HTTPStatus != 0 {
		fmt.Fprintf(&b, " (http %d)", e.HTTPStatus)
	}
	if e.Message != "" {
		b.WriteString(": ")
		b.WriteString(e.Message)
	}
	if e.Err != nil {
		b.WriteString(": ")
		b.WriteString(e.Err.Error())
	}
	return b.String()
}

// Unwrap returns the underlying cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is the Kind of e, so that
// errors.Is(err, provider.Temporary) works through any wrapping.
func (e *Error) Is(target error) bool {
	k, ok := target.(Kind)
	return ok && k == e.Kind
}

// KindOf returns the Kind of the first *Error in err's chain, or Unknown when
// there is none. A nil err has Kind Unknown too; check for nil first.
func KindOf(err error) Kind {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Kind
	}
	return Unknown
}

// IsRetryable reports whether err is non-nil and retrying may succeed
// (see Kind.Retryable).
func IsRetryable(err error) bool { return err != nil && KindOf(err).Retryable() }

// CodeOf returns the vendor code of the first *Error in err's chain.
func CodeOf(err error) string {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Code
	}
	return ""
}

// RetryAfterOf returns the RetryAfter of the first *Error in err's chain.
func RetryAfterOf(err error) time.Duration {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.RetryAfter
	}
	return 0
}

// FailuresOf returns the Failures of the first *Error in err's chain: the
// tokens the vendor named when it refused a request.
func FailuresOf(err error) []TokenFailure {
	var pe *Error
	if errors.As(err, &pe) {
		return pe.Failures
	}
	return nil
}

// FieldError names the field of a request that failed validation.
type FieldError struct {
	Field  string // Request path, e.g. "audience.tokens[3]" or "notification.title"; see "Field paths" in the package documentation
	Reason string // what is wrong, e.g. "is required"
}

func (e *FieldError) Error() string { return e.Field + ": " + e.Reason }

// Invalid returns an InvalidRequest *Error (Op "validate") wrapping a
// *FieldError for field.
func Invalid(field, reason string) error {
	return &Error{Op: "validate", Kind: InvalidRequest, Err: &FieldError{Field: field, Reason: reason}}
}

// Refield returns the first *FieldError in err's chain with the prefix
// from of its field replaced by to: how a provider names, in its Config's
// terms, what it checked as a request's. An err without one becomes a
// *FieldError of field to, with err's text as its reason.
func Refield(err error, from, to string) *FieldError {
	var fe *FieldError
	if !errors.As(err, &fe) {
		return &FieldError{Field: to, Reason: err.Error()}
	}
	return &FieldError{Field: to + strings.TrimPrefix(fe.Field, from), Reason: fe.Reason}
}

// FieldOf returns the field named by the first *FieldError in err's chain.
func FieldOf(err error) string {
	var fe *FieldError
	if errors.As(err, &fe) {
		return fe.Field
	}
	return ""
}
