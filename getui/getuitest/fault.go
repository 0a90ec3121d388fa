package getuitest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"time"
)

// Fault is a failure to inject. It must do something: at least one of
// HTTPStatus, Code, Delay and Timeout is set.
type Fault struct {
	// API limits the fault to one API, named as in Request.API ("/auth",
	// "/push/single/cid", …). Empty means any.
	API string
	// HTTPStatus is the status to answer with. With Code 0 the body is
	// plain text, like a gateway's error page; with Code set and
	// HTTPStatus 0 the status is the one the fake pairs the code with.
	HTTPStatus int
	// Code is a Getui code, answered as {"code":Code,"msg":Msg,"data":Data}.
	Code int
	// Msg is the envelope's msg. Default "injected fault".
	Msg string
	// Data is the envelope's data; with Code 301 and no Data, the fake
	// names its current base URL as the host.
	Data json.RawMessage
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
	if f.API != "" && !slices.Contains(apis(), f.API) {
		return fmt.Errorf("%w: Fault.API %q is not an API of the server", ErrInvalidArgument, f.API)
	}
	if f.HTTPStatus != 0 && (f.HTTPStatus < 200 || f.HTTPStatus > 599) {
		return fmt.Errorf("%w: Fault.HTTPStatus %d is not a status from 200 to 599", ErrInvalidArgument, f.HTTPStatus)
	}
	if f.Code < 0 || f.Delay < 0 {
		return fmt.Errorf("%w: Fault.Code and Delay must not be negative", ErrInvalidArgument)
	}
	if len(f.Data) > 0 && !json.Valid(f.Data) {
		return fmt.Errorf("%w: Fault.Data is not JSON", ErrInvalidArgument)
	}
	if !f.hasResponse() && f.Delay == 0 && !f.Timeout {
		return fmt.Errorf("%w: Fault sets none of HTTPStatus, Code, Delay, Timeout", ErrInvalidArgument)
	}
	return nil
}

func (f Fault) matches(api string) bool { return f.API == "" || f.API == api }

func (f Fault) hasResponse() bool { return f.HTTPStatus != 0 || f.Code != 0 }

// response is the answer f replaces the real one with.
func (f Fault) response(s *Server) response {
	if f.Code == 0 {
		return plain(f.HTTPStatus, http.StatusText(f.HTTPStatus))
	}
	status := f.HTTPStatus
	if status == 0 {
		status = statusForCode(f.Code)
	}
	msg := f.Msg
	if msg == "" {
		msg = "injected fault"
	}
	data := f.Data
	if f.Code == CodeWrongHost && len(data) == 0 {
		data = s.hostListData()
	}
	return envelopeResponse(status, f.Code, msg, data)
}

// FailNext makes the next n requests matching f.API fail with f. Queued
// faults are used in order, before a FailRate fault.
func (s *Server) FailNext(n int, f Fault) error { return s.faults.FailNext(n, f) }

// FailRate makes each request matching f.API fail with f with probability
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

// Stall holds every request to one of apis (every request when none is
// given), before it is processed, until the returned release is called,
// the client gives up or the server closes. Calling a release twice is
// harmless. An unknown API name is ignored.
func (s *Server) Stall(apis ...string) (release func()) { return s.gate.Stall(apis...) }

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
