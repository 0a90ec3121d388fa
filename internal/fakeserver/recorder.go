package fakeserver

import "sync"

// Recorder keeps the requests a fake answered or abandoned, in the order
// they finished, and counts requests on arrival. R is the fake's own
// Request type. Make one with NewRecorder; it is safe for concurrent use.
type Recorder[R any] struct {
	clone  func(R) R
	setSeq func(r *R, seq int)
	keep   int // most requests kept, the newest; 0 keeps every one

	mu       sync.Mutex
	recorded int // requests recorded so far, for the sequence numbers
	requests []R
	arrived  map[string]int // requests per key, counted on arrival
}

// NewRecorder returns an empty Recorder. clone deep-copies a request, so
// callers can keep and change what they get; setSeq stores a request's
// sequence number in it. keep, when positive, bounds the requests kept to
// the newest keep (a long-running fake, as in a demo server, would
// otherwise grow without end); 0 keeps every one, as a test wants.
// Sequence numbers and arrival counts are not bounded by keep.
func NewRecorder[R any](clone func(R) R, setSeq func(r *R, seq int), keep int) *Recorder[R] {
	return &Recorder[R]{clone: clone, setSeq: setSeq, keep: keep, arrived: make(map[string]int)}
}

// Record numbers rec (1 for the first request recorded, then 2, 3, …;
// Reset does not restart the count), setting its number in *rec too, and
// keeps a copy of it, forgetting the oldest request kept when that would
// keep more than the Recorder's bound.
func (r *Recorder[R]) Record(rec *R) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.recorded++
	r.setSeq(rec, r.recorded)
	r.requests = KeepNewest(append(r.requests, *rec), r.keep)
}

// Filter returns a deep copy of each recorded request keep accepts, in the
// order they finished; nil when there is none.
func (r *Recorder[R]) Filter(keep func(R) bool) []R {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []R
	for _, rec := range r.requests {
		if keep(rec) {
			out = append(out, r.clone(rec))
		}
	}
	return out
}

// Reset forgets the recorded requests. Sequence numbers and arrival counts
// go on.
func (r *Recorder[R]) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests = nil
}

// Arrive counts a request keyed key the moment it arrives.
func (r *Recorder[R]) Arrive(key string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.arrived[key]++
}

// Arrived returns how many requests keyed one of keys have arrived so far,
// in flight or finished, recorded or not.
func (r *Recorder[R]) Arrived(keys ...string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, k := range keys {
		n += r.arrived[k]
	}
	return n
}
