package fakeserver

import (
	"context"
	"fmt"
	"math"
	"slices"
	"sync"
	"time"
)

// Gate holds requests before a fake processes them: while a Stall covering
// them is in force, then for the latency. Every wait also ends when the
// request's client gives up or the server closes. Make one with NewGate;
// it is safe for concurrent use.
type Gate struct {
	id      Identity
	closing <-chan struct{}

	mu      sync.Mutex
	latency time.Duration
	stalls  []*stall      // in force, in the order Stall was called
	clock   uint64        // ticks at every Stall and every release
	stalled int           // requests held by a stall now
	notify  chan struct{} // closed at the next change of stalled
}

// stall is one Stall.
type stall struct {
	keys  []string      // empty: every request
	gate  chan struct{} // closed by its release
	made  uint64        // Gate.clock when Stall made it
	freed uint64        // Gate.clock at its release; set before gate closes
}

func (st *stall) covers(key string) bool { return len(st.keys) == 0 || slices.Contains(st.keys, key) }

// NewGate returns a Gate with no latency and no stall whose waits end when
// closing is closed.
func NewGate(id Identity, closing <-chan struct{}) *Gate {
	return &Gate{id: id, closing: closing}
}

// SetLatency delays every request by d (wall time) before it is processed;
// 0 removes the latency. A negative d is refused with an error wrapping
// Identity.Invalid.
func (g *Gate) SetLatency(d time.Duration) error {
	if d < 0 {
		return fmt.Errorf("%w: SetLatency d must not be negative, got %v", g.id.Invalid, d)
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.latency = d
	return nil
}

// ClearLatency removes the latency.
func (g *Gate) ClearLatency() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.latency = 0
}

// Latency returns the latency SetLatency set.
func (g *Gate) Latency() time.Duration {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.latency
}

// Stall holds every request whose key is one of keys (every request when
// none is given) until the returned release is called. Stalls nest: a
// request flows again at the first moment no stall covering it is in
// force, and a stall made after that moment does not catch it again, even
// if the request has not yet run on. Calling a release more than once is
// harmless.
func (g *Gate) Stall(keys ...string) (release func()) {
	st := &stall{keys: slices.Clone(keys), gate: make(chan struct{})}
	g.mu.Lock()
	g.clock++
	st.made = g.clock
	g.stalls = append(g.stalls, st)
	g.mu.Unlock()
	var once sync.Once
	return func() {
		once.Do(func() {
			g.mu.Lock()
			g.clock++
			st.freed = g.clock
			g.stalls = slices.DeleteFunc(g.stalls, func(x *stall) bool { return x == st })
			g.mu.Unlock()
			close(st.gate)
		})
	}
}

// Stalled returns how many requests a Stall holds right now.
func (g *Gate) Stalled() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.stalled
}

// WaitStalled blocks until at least n requests are held by a Stall, or ctx
// ends; the error then says how many were held and wraps ctx.Err().
func (g *Gate) WaitStalled(ctx context.Context, n int) error {
	for {
		g.mu.Lock()
		count := g.stalled
		if g.notify == nil {
			g.notify = make(chan struct{})
		}
		changed := g.notify
		g.mu.Unlock()
		if count >= n {
			return nil
		}
		select {
		case <-changed:
		case <-ctx.Done():
			return fmt.Errorf("%s: waiting for %d stalled requests, have %d: %w", g.id.Name, n, count, ctx.Err())
		}
	}
}

// Pass holds the request keyed key while a Stall covers it, then for the
// latency. It returns "" when the request may go on, or why it must end
// unanswered: its client gave up (ctx ended) or the server is closing.
func (g *Gate) Pass(ctx context.Context, key string) (abandoned string) {
	if !g.waitStall(ctx, key) {
		return "abandoned while stalled"
	}
	if lat := g.Latency(); lat > 0 && !g.Hold(ctx, lat) {
		return "abandoned during latency"
	}
	return ""
}

// Delay carries out a fault's delay d and timeout. It returns "" when the
// request may go on, or why it must end unanswered: a timeout never
// answers (it ends once d, when set, has passed), and a client that gives
// up during d is not answered either.
func (g *Gate) Delay(ctx context.Context, d time.Duration, timeout bool) (abandoned string) {
	if timeout {
		g.Hold(ctx, d)
		return "connection dropped by an injected timeout"
	}
	if d > 0 && !g.Hold(ctx, d) {
		return "abandoned during an injected delay"
	}
	return ""
}

// Hold waits d of wall time, or without limit when d is 0, and reports
// whether it ran its course; false means ctx ended or the server is
// closing.
func (g *Gate) Hold(ctx context.Context, d time.Duration) bool {
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
	case <-g.closing:
		return false
	}
}

// waitStall blocks while a Stall covering key is in force; false when ctx
// ended or the server is closing. Woken by the release of one stall, the
// request waits on for the stalls covering it that were already in force
// then, and only those. It counts as stalled once, from its first stall
// to its last, so that releasing one of nested stalls does not make it
// look free for a moment.
func (g *Gate) waitStall(ctx context.Context, key string) bool {
	counted := false
	defer func() {
		if counted {
			g.mu.Lock()
			g.addStalledLocked(-1)
			g.mu.Unlock()
		}
	}()
	before := uint64(math.MaxUint64) // stalls made before this tick can hold the request
	for {
		st := g.coveringStall(key, before, !counted)
		if st == nil {
			return true
		}
		counted = true
		select {
		case <-st.gate:
			before = st.freed // written before the gate closed
		case <-ctx.Done():
			return false
		case <-g.closing:
			return false
		}
	}
}

// coveringStall returns the first stall in force made before the tick
// before that covers key, or nil. With count, a request found stalled is
// counted in the same step.
func (g *Gate) coveringStall(key string, before uint64, count bool) *stall {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, st := range g.stalls {
		if st.made < before && st.covers(key) {
			if count {
				g.addStalledLocked(1)
			}
			return st
		}
	}
	return nil
}

// addStalledLocked moves the stalled count by delta and wakes WaitStalled
// callers. The caller holds g.mu.
func (g *Gate) addStalledLocked(delta int) {
	g.stalled += delta
	if g.notify != nil {
		close(g.notify)
		g.notify = nil
	}
}
