package umengtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
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

type pendingFault struct {
	fault Fault
	left  int
}

type rateFault struct {
	fault Fault
	p     float64
	rng   *rand.Rand
}

// FailNext makes the next n requests matching f.Path fail with f. Calls
// queue up: a request takes the first queued fault whose Path matches.
// FailNext faults are used before a FailRate fault.
func (s *Server) FailNext(n int, f Fault) error {
	if n < 1 {
		return fmt.Errorf("%w: FailNext n must be at least 1, got %d", ErrInvalidArgument, n)
	}
	if err := f.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext = append(s.failNext, &pendingFault{fault: f, left: n})
	return nil
}

// FailRate makes each request matching f.Path fail with f with probability
// p, drawn from a generator seeded with seed, so a run is reproducible for
// the same sequence of requests. p = 0 turns random faults off; a later call
// replaces an earlier one.
func (s *Server) FailRate(p float64, f Fault, seed uint64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%w: FailRate p must be within [0, 1], got %v", ErrInvalidArgument, p)
	}
	if p == 0 {
		s.mu.Lock()
		s.failRate = nil
		s.mu.Unlock()
		return nil
	}
	if err := f.validate(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failRate = &rateFault{fault: f, p: p, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	return nil
}

// SetLatency delays every request by d (wall time) before it is processed;
// 0 removes the latency. A client that gives up first sees its own timeout
// and the request is not processed.
func (s *Server) SetLatency(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%w: SetLatency d must not be negative, got %v", ErrInvalidArgument, d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
	return nil
}

// ClearFaults drops queued FailNext faults, the FailRate fault and the
// latency. Stalls and tokens marked invalid stay.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failRate, s.latency = nil, nil, 0
}

// Stall blocks every request, before it is processed, until the returned
// release func is called, the request's client gives up or the server
// closes. It is meant for crash tests: a request held by Stall has changed
// nothing. Stalls nest: requests flow again once every release has been
// called. Calling a release more than once is harmless.
func (s *Server) Stall() (release func()) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.gate == nil {
		s.gate = make(chan struct{})
	}
	s.stalls++
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			defer s.mu.Unlock()
			s.stalls--
			if s.stalls == 0 {
				close(s.gate)
				s.gate = nil
			}
		})
	}
}

// Stalled returns how many requests are blocked by Stall right now.
func (s *Server) Stalled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stalledCount
}

// WaitStalled blocks until at least n requests are blocked by Stall, so a
// test knows its request reached the server, or until ctx ends.
func (s *Server) WaitStalled(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		count, changed := s.stalledCount, s.stallChanged()
		s.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("umengtest: waiting for %d stalled requests, have %d: %w", n, count, ctx.Err())
		}
	}
}

// stallChanged returns the channel closed at the next change of
// stalledCount. The caller holds s.mu.
func (s *Server) stallChanged() chan struct{} {
	if s.stallNotify == nil {
		s.stallNotify = make(chan struct{})
	}
	return s.stallNotify
}

// addStalled moves stalledCount by delta and wakes WaitStalled callers.
func (s *Server) addStalled(delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalledCount += delta
	if s.stallNotify != nil {
		close(s.stallNotify)
		s.stallNotify = nil
	}
}

// waitStall blocks while a Stall is in force. It reports false when the
// client gave up or the server is closing.
func (s *Server) waitStall(ctx context.Context) bool {
	s.mu.Lock()
	gate := s.gate
	s.mu.Unlock()
	if gate == nil {
		return true
	}
	s.addStalled(1)
	defer s.addStalled(-1)
	select {
	case <-gate:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

func (s *Server) currentLatency() time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.latency
}

// pickFault returns the fault the request to path suffers, or nil.
func (s *Server) pickFault(path string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, pf := range s.failNext {
		if !pf.fault.matches(path) {
			continue
		}
		f := pf.fault
		if pf.left--; pf.left == 0 {
			s.failNext = append(s.failNext[:i], s.failNext[i+1:]...)
		}
		return &f
	}
	if rf := s.failRate; rf != nil && rf.fault.matches(path) && rf.rng.Float64() < rf.p {
		f := rf.fault
		return &f
	}
	return nil
}

// hold waits d of wall time, or without limit when d is 0, and reports
// whether it ran its course; false means the client gave up or the server
// is closing.
func (s *Server) hold(ctx context.Context, d time.Duration) bool {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	select {
	case <-timeout:
		return true
	case <-ctx.Done():
		return false
	case <-s.closing:
		return false
	}
}

// applyDelay carries out f's Delay and Timeout. When the request must end
// unanswered (a Timeout, or the client gone during the Delay) it drops the
// connection and does not return.
func (s *Server) applyDelay(ctx context.Context, rec *Request, f *Fault) {
	if f.Timeout {
		s.hold(ctx, f.Delay)
		abandon(rec, "connection dropped by an injected timeout")
	}
	if f.Delay > 0 && !s.hold(ctx, f.Delay) {
		abandon(rec, "abandoned during an injected delay")
	}
}
