package umengtest

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Fault is a failure to inject into requests. A Fault must do something: at
// least one of HTTPStatus, Code, Delay and Timeout is set.
type Fault struct {
	// Path limits the fault to one API: "/api/send", "/api/status",
	// "/api/cancel" or "/upload". Empty means any of them.
	Path string

	// HTTPStatus is the status to answer with. With Code empty the body is
	// plain text, like a gateway's error page; with Code set and HTTPStatus
	// 0 the status is 400, as the real service answers its codes.
	HTTPStatus int

	// Code is a vendor error code answered in the real FAIL envelope,
	// {"ret":"FAIL","data":{"error_code":Code,"error_msg":Message}}.
	Code string

	// Message is the error_msg sent with Code. Default: "injected fault".
	Message string

	// Delay holds the request this long (wall time, not Config.Now: it
	// stands for the network) before it is answered, or before Timeout
	// drops it. A client that gives up first sees its own timeout.
	Delay time.Duration

	// Timeout never answers: the connection is dropped once the client
	// gives up, once Delay has passed (when set) or when the server closes.
	// The drop uses http.ErrAbortHandler, so the Handler must run under an
	// http.Server, as it does after Start.
	Timeout bool

	// AfterAccept processes the request first — a send is validated,
	// accepted, delivered and recorded — and applies the fault to the
	// answer only: the "sent, but the answer was lost" case behind the
	// Indeterminate error kind. Default false: the fault replaces the
	// processing and nothing changes on the server.
	AfterAccept bool
}

// validate names the first bad field of f.
func (f Fault) validate() error {
	switch f.Path {
	case "", pathSend, pathStatus, pathCancel, pathUpload:
	default:
		return fmt.Errorf("%w: Fault.Path %q is not an API path of the server", ErrInvalidArgument, f.Path)
	}
	if f.HTTPStatus != 0 && (f.HTTPStatus < 200 || f.HTTPStatus > 599) {
		return fmt.Errorf("%w: Fault.HTTPStatus %d is not a status from 200 to 599", ErrInvalidArgument, f.HTTPStatus)
	}
	if f.Code != "" && !allDigits(f.Code) {
		return fmt.Errorf("%w: Fault.Code %q is not a vendor code of digits", ErrInvalidArgument, f.Code)
	}
	if f.Delay < 0 {
		return fmt.Errorf("%w: Fault.Delay must not be negative, got %v", ErrInvalidArgument, f.Delay)
	}
	if !f.hasResponse() && f.Delay == 0 && !f.Timeout {
		return fmt.Errorf("%w: Fault sets none of HTTPStatus, Code, Delay, Timeout", ErrInvalidArgument)
	}
	return nil
}

func (f Fault) matches(path string) bool { return f.Path == "" || f.Path == path }

func (f Fault) hasResponse() bool { return f.HTTPStatus != 0 || f.Code != "" }

// response is the answer f replaces the real one with.
func (f Fault) response() response {
	if f.Code == "" {
		return plain(f.HTTPStatus, http.StatusText(f.HTTPStatus))
	}
	status := f.HTTPStatus
	if status == 0 {
		status = http.StatusBadRequest
	}
	msg := f.Message
	if msg == "" {
		msg = "injected fault"
	}
	return failure(status, &refusal{code: f.Code, msg: msg})
}

// FailNext makes the next n requests matching f.Path fail with f. Calls
// queue up: a request takes the first queued fault whose Path matches.
// FailNext faults are used before a FailRate fault.
func (s *Server) FailNext(n int, f Fault) error { return s.faults.FailNext(n, f) }

// FailRate makes each request matching f.Path fail with f with probability
// p, drawn from a generator seeded with seed, so a run is reproducible for
// the same sequence of requests. p = 0 turns random faults off; a later call
// replaces an earlier one.
func (s *Server) FailRate(p float64, f Fault, seed uint64) error {
	return s.faults.FailRate(p, f, seed)
}

// SetLatency delays every request by d (wall time) before it is processed;
// 0 removes the latency. A client that gives up first sees its own timeout
// and the request is not processed.
func (s *Server) SetLatency(d time.Duration) error { return s.gate.SetLatency(d) }

// ClearFaults drops queued FailNext faults, the FailRate fault and the
// latency. Stalls and tokens marked invalid stay.
func (s *Server) ClearFaults() {
	s.faults.Clear()
	s.gate.ClearLatency()
}

// Stall blocks every request, before it is processed, until the returned
// release func is called, the request's client gives up or the server
// closes. It is meant for crash tests: a request held by Stall has changed
// nothing. Stalls nest: requests flow again once every release has been
// called. Calling a release more than once is harmless.
func (s *Server) Stall() (release func()) { return s.gate.Stall() }

// Stalled returns how many requests are blocked by Stall right now.
func (s *Server) Stalled() int { return s.gate.Stalled() }

// WaitStalled blocks until at least n requests are blocked by Stall, so a
// test knows its request reached the server, or until ctx ends.
func (s *Server) WaitStalled(ctx context.Context, n int) error { return s.gate.WaitStalled(ctx, n) }

// pickFault returns the fault the request to path suffers, or nil.
func (s *Server) pickFault(path string) *Fault { return s.faults.Pick(path) }

// applyDelay carries out f's Delay and Timeout. When the request must end
// unanswered (a Timeout, or the client gone during the Delay) it drops the
// connection and does not return.
func (s *Server) applyDelay(ctx context.Context, rec *Request, f *Fault) {
	if why := s.gate.Delay(ctx, f.Delay, f.Timeout); why != "" {
		abandon(rec, why)
	}
}
