package fakeserver

import (
	"fmt"
	"math/rand/v2"
	"sync"
)

// Faults holds the faults a fake injects: those queued by FailNext and the
// one random fault of FailRate. F is the fake's own Fault type. Make one
// with NewFaults; it is safe for concurrent use.
type Faults[F any] struct {
	id       Identity
	validate func(F) error
	matches  func(f F, key string) bool

	mu   sync.Mutex
	next []*pendingFault[F] // in the order FailNext was called
	rate *rateFault[F]
}

type pendingFault[F any] struct {
	fault F
	left  int
}

type rateFault[F any] struct {
	fault F
	p     float64
	rng   *rand.Rand
}

// NewFaults returns an empty Faults for the fake id. validate names the
// first bad field of a fault, wrapping Identity.Invalid; matches reports
// whether a fault applies to the request keyed key.
func NewFaults[F any](id Identity, validate func(F) error, matches func(f F, key string) bool) *Faults[F] {
	return &Faults[F]{id: id, validate: validate, matches: matches}
}

// FailNext queues f for the next n requests it matches. A request takes the
// first queued fault that matches it, and queued faults come before the
// FailRate fault. n below 1 and an invalid f are refused and change
// nothing.
func (q *Faults[F]) FailNext(n int, f F) error {
	if n < 1 {
		return fmt.Errorf("%w: FailNext n must be at least 1, got %d", q.id.Invalid, n)
	}
	if err := q.validate(f); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next = append(q.next, &pendingFault[F]{fault: f, left: n})
	return nil
}

// FailRate makes each request that f matches fail with f with probability
// p, drawn from a generator seeded with seed, so a run is reproducible for
// the same sequence of requests. p = 0 turns random faults off whatever f
// is; a later call replaces an earlier one. p outside [0, 1] (NaN
// included) and, with p > 0, an invalid f are refused and change nothing.
func (q *Faults[F]) FailRate(p float64, f F, seed uint64) error {
	if !(p >= 0 && p <= 1) {
		return fmt.Errorf("%w: FailRate p must be within [0, 1], got %v", q.id.Invalid, p)
	}
	if p == 0 {
		q.mu.Lock()
		q.rate = nil
		q.mu.Unlock()
		return nil
	}
	if err := q.validate(f); err != nil {
		return err
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	q.rate = &rateFault[F]{fault: f, p: p, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))}
	return nil
}

// Clear drops the queued faults and the FailRate fault.
func (q *Faults[F]) Clear() {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.next, q.rate = nil, nil
}

// Pick returns a copy of the fault the request keyed key suffers, or nil,
// and uses it up: a queued fault counts down, and the FailRate fault draws
// from its generator.
func (q *Faults[F]) Pick(key string) *F {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i, pf := range q.next {
		if !q.matches(pf.fault, key) {
			continue
		}
		f := pf.fault
		if pf.left--; pf.left == 0 {
			q.next = append(q.next[:i], q.next[i+1:]...)
		}
		return &f
	}
	if rf := q.rate; rf != nil && q.matches(rf.fault, key) && rf.rng.Float64() < rf.p {
		f := rf.fault
		return &f
	}
	return nil
}
