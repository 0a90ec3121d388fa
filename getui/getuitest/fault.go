package getuitest

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"sync"
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

type pendingFault struct {
	fault Fault
	left  int
}

type rateFault struct {
	fault Fault
	p     float64
	rng   *rand.Rand
}

// FailNext makes the next n requests matching f.API fail with f. Queued
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

// FailRate makes each request matching f.API fail with f with probability
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

// stall is one Stall in force.
type stall struct {
	apis []string // empty: every API
	gate chan struct{}
}

// Stall holds every request to one of apis (every request when none is
// given), before it is processed, until the returned release is called,
// the client gives up or the server closes. Calling a release twice is
// harmless. An unknown API name is ignored.
func (s *Server) Stall(apis ...string) (release func()) {
	st := &stall{apis: append([]string(nil), apis...), gate: make(chan struct{})}
	s.mu.Lock()
	s.stalls = append(s.stalls, st)
	s.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			s.mu.Lock()
			s.stalls = slices.DeleteFunc(s.stalls, func(x *stall) bool { return x == st })
			s.mu.Unlock()
			close(st.gate)
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
			return fmt.Errorf("getuitest: waiting for %d stalled requests, have %d: %w", n, count, ctx.Err())
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

// waitStall blocks while a Stall covering api is in force; false when the
// client gave up or the server is closing.
func (s *Server) waitStall(ctx context.Context, api string) bool {
	for {
		s.mu.Lock()
		var gate chan struct{}
		for _, st := range s.stalls {
			if len(st.apis) == 0 || slices.Contains(st.apis, api) {
				gate = st.gate
				break
			}
		}
		s.mu.Unlock()
		if gate == nil {
			return true
		}
		s.addStalled(1)
		select {
		case <-gate:
			s.addStalled(-1)
		case <-ctx.Done():
			s.addStalled(-1)
			return false
		case <-s.closing:
			s.addStalled(-1)
			return false
		}
	}
}

func (s *Server) pickFault(api string) *Fault {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, pf := range s.failNext {
		if !pf.fault.matches(api) {
			continue
		}
		f := pf.fault
		if pf.left--; pf.left == 0 {
			s.failNext = append(s.failNext[:i], s.failNext[i+1:]...)
		}
		return &f
	}
	if rf := s.failRate; rf != nil && rf.fault.matches(api) && rf.rng.Float64() < rf.p {
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
