package jpushtest

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"sync"
	"time"
)

// Fault is a failure to inject. It must do something: at least one of
// HTTPStatus, Code, Delay, Timeout and NumericMsgID is set.
type Fault struct {
	// Path limits the fault to one API: "/v3/push", "/v3/push/validate",
	// "/v3/push/{msg_id}" (withdraw), "/v3/received/detail" or
	// "/v3/status/message". Empty means any.
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
	case "", pathPush, pathValidate, pathWithdraw, pathReceived, pathStatusMessage:
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

type pendingFault struct {
	fault Fault
	left  int
}

type rateFault struct {
	fault Fault
	p     float64
	rng   *rand.Rand
}

// FailNext makes the next n requests matching f.Path fail with f. Queued
// faults are used in order, before a FailRate fault.
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
// p, drawn from a generator seeded with seed. p = 0 turns it off.
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

// SetLatency delays every request by d (wall time) before it is processed.
func (s *Server) SetLatency(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%w: SetLatency d must not be negative, got %v", ErrInvalidArgument, d)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.latency = d
	return nil
}

// ClearFaults drops queued faults, the FailRate fault and the latency.
func (s *Server) ClearFaults() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.failNext, s.failRate, s.latency = nil, nil, 0
}

// Stall holds every request, before it is processed, until the returned
// release is called, the client gives up or the server closes. Stalls
// nest; calling a release twice is harmless.
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

// Stalled returns how many requests Stall holds right now.
func (s *Server) Stalled() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.stalledCount
}

// WaitStalled blocks until at least n requests are held by Stall, or ctx
// ends.
func (s *Server) WaitStalled(ctx context.Context, n int) error {
	for {
		s.mu.Lock()
		count := s.stalledCount
		if s.stallNotify == nil {
			s.stallNotify = make(chan struct{})
		}
		changed := s.stallNotify
		s.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("jpushtest: waiting for %d stalled requests, have %d: %w", n, count, ctx.Err())
		}
	}
}

func (s *Server) addStalled(delta int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stalledCount += delta
	if s.stallNotify != nil {
		close(s.stallNotify)
		s.stallNotify = nil
	}
}

// waitStall blocks while a Stall is in force; false when the client gave up
// or the server is closing.
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

// hold waits d (forever when 0); false when the client gave up or the
// server is closing.
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

func (s *Server) applyDelay(ctx context.Context, rec *Request, f *Fault) {
	if f.Timeout {
		s.hold(ctx, f.Delay)
		abandon(rec, "connection dropped by an injected timeout")
	}
	if f.Delay > 0 && !s.hold(ctx, f.Delay) {
		abandon(rec, "abandoned during an injected delay")
	}
}
