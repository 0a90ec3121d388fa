package provider

import (
	"context"
	"net/http/httptrace"
	"sync/atomic"
)

// TraceWrite returns ctx with an HTTP client trace that notes when a
// request made with it has been written in full, and a function that
// reports whether it was. A provider makes its vendor call with that ctx
// and, when the call fails, gives TransportError what the function says:
// once the whole request is written the vendor may act on it, so the
// failure is Indeterminate (the push Service retries it with the same
// idempotency key), before that Temporary (nothing reached the vendor).
func TraceWrite(ctx context.Context) (context.Context, func() bool) {
	var written atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteRequest: func(info httptrace.WroteRequestInfo) {
			if info.Err == nil {
				written.Store(true)
			}
		},
	})
	return ctx, written.Load
}

// TransportError returns the error of a failed HTTP exchange with the
// vendor of provider providerName during op: kind Indeterminate, "request
// sent, answer lost", when the request had been written in full (see
// TraceWrite), else Temporary, "request not sent". err is kept as the
// cause: remove any secret its text holds (a sign in a URL) first.
func TransportError(providerName, op string, err error, written bool) *Error {
	kind, msg := Temporary, "request not sent"
	if written {
		kind, msg = Indeterminate, "request sent, answer lost"
	}
	return &Error{Provider: providerName, Op: op, Kind: kind, Message: msg, Err: err}
}
