package jpushtest

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// Fault is a failure to inject. It must do something: at least one of
// HTTPStatus, Code, Delay, Timeout and NumericMsgID is set.
type Fault struct {
	// Path limits the fault to one API: "/v3/push", "/v3/push/validate",
	// "/v3/push/{msg_id}" (withdraw), "/v3/received/detail",
	// "/v3/status/message" or "/v3/push/cid". Empty means any.
	Path string
	// HTTPStatus is the status to answer with. With Code 0 the body is
	// plain text, like a gateway's error page; with Code set and HTTPStatus
	// 0 the status is the one JPush uses for that code (400 unless listed
	// in the package documentation).
	HTTPStatus int
	// Code is a JPush error code, answered as
	// {"error":{"code":Code,"message":Message}}.
	Code int
	// Message is the error message. Default "injected fault".
	Message string
	// WithMsgID adds a msg_id to the error body, as JPush sometimes does:
	// a client must still treat the answer as a failure.
	WithMsgID bool
	// Reset is the X-Rate-Limit-Reset sent with a 429 or code 2002 answer,
	// in whole seconds. Default 60.
	Reset time.Duration
	// Headers is the rate-limit header family of that answer. Default
	// HeadersDocs.
	Headers HeaderFamily
	// NumericMsgID makes an otherwise successful push answer carry msg_id
	// (and sendno) as JSON numbers, as Config.NumericMsgID does for every
	// answer.
	NumericMsgID bool
	// Delay holds the request this long (wall time) before it is answered,
	// or before Timeout drops it.
	Delay time.Duration
	// Timeout never answers: the connection is dropped once the client
	// gives up, once Delay has passed (when set) or when the server closes.
	Timeout bool
	// AfterAccept lets the request take effect first (a push is accepted,
	// delivered and recorded) and applies the fault to the answer only: the
	// "sent, answer lost" case behind the Indeterminate kind.
	AfterAccept bool
}

func (f Fault) validate() error {
	switch f.Path {
	case "", pathPush, pathValidate, pathWithdraw, pathReceived, pathStatusMessage, pathCID:
	default:
		return fmt.Errorf("%w: Fault.Path %q is not an API path of the server", ErrInvalidArgument, f.Path)
	}
	if f.HTTPStatus != 0 && (f.HTTPStatus < 200 || f.HTTPStatus > 599) {
		return fmt.Errorf("%w: Fault.HTTPStatus %d is not a status from 200 to 599", ErrInvalidArgument, f.HTTPStatus)
	}
	if f.Code < 0 || f.Delay < 0 || f.Reset < 0 {
		return fmt.Errorf("%w: Fault.Code, Delay and Reset must not be negative", ErrInvalidArgument)
	}
	if f.Headers < HeadersDocs || f.Headers > HeadersBoth {
		return fmt.Errorf("%w: Fault.Headers %d is not a HeaderFamily", ErrInvalidArgument, f.Headers)
	}
	if !f.hasResponse() && f.Delay == 0 && !f.Timeout && !f.NumericMsgID {
		return fmt.Errorf("%w: Fault sets none of HTTPStatus, Code, Delay, Timeout, NumericMsgID", ErrInvalidArgument)
	}
	return nil
}

func (f Fault) matches(path string) bool { return f.Path == "" || f.Path == path }

func (f Fault) hasResponse() bool { return f.HTTPStatus != 0 || f.Code != 0 }

// statusForCode is the HTTP status JPush answers a code with.
func statusForCode(code int) int {
	switch code {
	case CodeInternal:
		return http.StatusInternalServerError
	case CodeMethod:
		return http.StatusMethodNotAllowed
	case CodeAuth:
		return http.StatusUnauthorized
	case CodeInternalTimeout:
		return http.StatusServiceUnavailable
	case CodeRateLimited:
		return http.StatusTooManyRequests
	case 2003, 2004, 2005, 2006, 2007:
		return http.StatusForbidden
	}
	return http.StatusBadRequest
}

// response is the answer f replaces the real one with.
func (f Fault) response(s *Server) response {
	var resp response
	if f.Code == 0 {
		resp = plain(f.HTTPStatus, http.StatusText(f.HTTPStatus))
	} else {
		status := f.HTTPStatus
		if status == 0 {
			status = statusForCode(f.Code)
		}
		msg := f.Message
		if msg == "" {
			msg = "injected fault"
		}
		resp = failure(refuse(status, f.Code, "%s", msg))
		if f.WithMsgID {
			s.mu.Lock()
			id := s.newMsgIDLocked()
			s.mu.Unlock()
			resp = failureWithMsgID(refuse(status, f.Code, "%s", msg), id)
		}
	}
	if resp.status == http.StatusTooManyRequests || f.Code == CodeRateLimited {
		reset := f.Reset
		if reset == 0 {
			reset = time.Minute
		}
		resp.header = rateHeaders(f.Headers, 0, 0, int(reset/time.Second))
	}
	return resp
}

// FailNext makes the next n requests matching f.Path fail with f. Queued
// faults are used in order, before a FailRate fault.
func (s *Server) FailNext(n int, f Fault) error { return s.faults.FailNext(n, f) }

// FailRate makes each request matching f.Path fail with f with probability
// p, drawn from a generator seeded with seed. p = 0 turns it off.
func (s *Server) FailRate(p float64, f Fault, seed uint64) error {
	return s.faults.FailRate(p, f, seed)
}

// SetLatency delays every request by d (wall time) before it is processed.
func (s *Server) SetLatency(d time.Duration) error { return s.gate.SetLatency(d) }

// ClearFaults drops queued faults, the FailRate fault and the latency.
func (s *Server) ClearFaults() {
	s.faults.Clear()
	s.gate.ClearLatency()
}

// Stall holds every request, before it is processed, until the returned
// release is called, the client gives up or the server closes. Stalls
// nest; calling a release twice is harmless.
func (s *Server) Stall() (release func()) { return s.gate.Stall() }

// Stalled returns how many requests Stall holds right now.
func (s *Server) Stalled() int { return s.gate.Stalled() }

// WaitStalled blocks until at least n requests are held by Stall, or ctx
// ends.
func (s *Server) WaitStalled(ctx context.Context, n int) error { return s.gate.WaitStalled(ctx, n) }

func (s *Server) pickFault(api string) *Fault { return s.faults.Pick(api) }

func (s *Server) applyDelay(ctx context.Context, rec *Request, f *Fault) {
	if why := s.gate.Delay(ctx, f.Delay, f.Timeout); why != "" {
		abandon(rec, why)
	}
}
