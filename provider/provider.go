package provider

import "context"

// Provider sends push requests to one vendor. See the package documentation
// for the contract every implementation keeps.
type Provider interface {
	// Name is the stable, lower-case vendor name ("umeng", "jpush", "getui").
	// It is the value stored in sys_devices.push_platform.
	Name() string
	// Capabilities describes what the vendor accepts for platform p.
	Capabilities(p Platform) Capabilities
	// Send delivers r with one delivering vendor call, preceded by at most
	// Capabilities(r.Platform).CallsPerSend-1 auxiliary ones (auth, upload,
	// task creation), and returns the vendor's receipt. It never retries a
	// delivering call. It returns an error wrapping *Error on failure.
	// Returning neither a receipt nor an error, or panicking, is a bug the
	// push Service survives: it takes the first as an error of kind
	// Unknown, a panic (logged with its stack) as Indeterminate, since the
	// vendor may have taken the push first, and retries the delivery with
	// its idempotency key.
	Send(ctx context.Context, r *Request) (*Receipt, error)
}

// StatusQuerier is implemented by providers that can report the progress of
// a pollable receipt (Receipt.Pollable).
type StatusQuerier interface {
	// Status returns the vendor's state of the task id on platform p. Polling
	// a non-pollable id is an InvalidRequest error. A task the vendor no
	// longer knows (expired, or forgotten after its retention) is an error
	// of a kind that is not Retryable (InvalidRequest): the Service then
	// stops polling and the push stays accepted; a Retryable kind is polled
	// again at the next interval, until the push's expiry. As with Send, neither a
	// status nor an error, or a panic, is taken as an error of kind Unknown:
	// the receipt is polled again.
	Status(ctx context.Context, p Platform, id string) (*Status, error)
}

// BatchStatusQuerier is implemented by providers whose status call can
// report many receipts at once (JPush's received/detail takes 100
// msg_ids). The push Service polls the due receipts of one provider and
// platform together through it, at most MaxStatusIDs a call.
type BatchStatusQuerier interface {
	StatusQuerier
	// MaxStatusIDs is the most ids one Statuses call takes (at least 1).
	MaxStatusIDs() int
	// Statuses reports each of ids on platform p with at most one vendor
	// call: the i-th result is what Status(ctx, p, ids[i]) would return,
	// its Status or its Err. An error is the call's own (the vendor could
	// not be reached, or refused the call): it applies to every id, and the
	// results are nil. More ids than MaxStatusIDs is an InvalidRequest
	// error without a call.
	Statuses(ctx context.Context, p Platform, ids []string) ([]StatusResult, error)
}

// StatusResult is one id's answer of BatchStatusQuerier.Statuses: its
// Status, or the error Status would return for it alone.
type StatusResult struct {
	Status *Status
	Err    error
}

// RetryTokenIssuer is implemented by providers whose retries are
// deduplicated by an id taken before the first try (JPush's cid). The
// push Service asks for the token before every try, stores it with the
// delivery when it changed (and its Store implements registry.RetryTokens)
// and only then sends, with the token in Request.RetryToken: a retry made
// after the instance died in the middle of the call finds the token and
// is deduplicated too, where the token an error carries
// (Error.RetryToken) would have been lost with the instance.
type RetryTokenIssuer interface {
	// IssueRetryToken returns the RetryToken Send will use for r, taking
	// it now if r's IdempotencyKey has none (a vendor call may fetch it),
	// or "" when r will be sent without one. A token in r.RetryToken that
	// the provider can read is the one it returns. An error means no
	// token: Send is made all the same.
	IssueRetryToken(ctx context.Context, r *Request) (string, error)
}

// Canceler is implemented by providers that can cancel a queued task.
type Canceler interface {
	// Cancel stops the task id on platform p if the vendor still can.
	Cancel(ctx context.Context, p Platform, id string) error
}

// TokenChecker is implemented by providers whose vendor refuses device
// tokens that do not have the shape of its own. push.Service asks it
// before it stores a registered device, so that a token the vendor would
// refuse is refused then, and not found out at the device's first push.
type TokenChecker interface {
	// CheckToken returns nil when token has the shape of the vendor's
	// device tokens of platform p, else an error that says which shape
	// (and not the token).
	CheckToken(p Platform, token string) error
}

// TokenCanonicalizer is implemented by providers whose vendor takes one
// device token in more than one spelling: Umeng's iOS token, the APNs
// token in hex, in either case. push.Service stores a registered token
// in the one spelling CanonicalToken returns, so that two registrations of
// one phone are one token, and the newer takes it over from the older
// (two spellings stored would be two phones: the older user shown the
// newer one's pushes, and each push shown twice).
type TokenCanonicalizer interface {
	// CanonicalToken returns the spelling of token, a device token of
	// platform p, that push.Service stores and compares. It changes only
	// what the vendor takes as the same token (Umeng's iOS tokens: their
	// case; any other string it is given is changed likewise, and left to
	// TokenChecker to refuse), and is safe for concurrent use.
	CanonicalToken(p Platform, token string) string
}

// BuildChecker is implemented by providers whose zero value, or nil
// pointer, is not usable: a value their constructor did not make. push.New
// asks it, and refuses such a provider with an error naming the field
// "providers", rather than take a value whose first call would fail. The
// umeng, jpush and getui Clients implement it.
type BuildChecker interface {
	// CheckBuilt returns nil when the provider's constructor made it, else
	// an error matching ErrNotBuilt that names the constructor. It makes
	// no call, has no side effect and is safe for concurrent use.
	CheckBuilt() error
}

// Validator is implemented by providers that can check a request without
// sending it.
type Validator interface {
	// Validate returns nil when Send would not refuse r for its content.
	// Otherwise it returns the error Send would return for r before calling
	// the vendor: for the content, an InvalidRequest error wrapping a
	// *FieldError that names the field by its Request path (see "Field
	// paths" in the package documentation). It may also return the other
	// errors Send finds before any vendor call, such as Auth for a platform
	// the provider has no credentials for; callers that only judge content
	// match errors.Is(err, InvalidRequest).
	//
	// Validate makes the same checks Send makes before its first vendor
	// call, through the same code, so that:
	//   - a request Validate refuses, Send refuses with the same Kind and
	//     the same field, before any vendor call;
	//   - a request Validate accepts, Send does not refuse for a reason
	//     Validate could have found. The vendor may still refuse it for
	//     what only it knows: a dead token, a rate, a quota, an empty
	//     audience.
	//
	// Checks against the clock (an ExpireTime already past) use the
	// provider's clock at the moment of the call, so a request valid now
	// may be refused later.
	//
	// Validate makes no network call and no other I/O, has no side effect
	// (nothing is sent, uploaded, recorded or counted), does not modify or
	// retain r, never blocks, and is safe for concurrent use.
	Validate(r *Request) error
}
