package main

import (
	"context"
	"net/http"
	"sync"
)

// gate counts the API requests in flight and, once closed (a shutdown
// began), refuses new ones with 503 while /healthz, /readyz, /metrics and
// the vendors' receipt paths keep answering on the same listener: a liveness probe sees the process
// alive through a drain that may take the Service's DrainTimeout, and is
// not led to kill it with outcomes unrecorded.
type gate struct {
	mu     sync.Mutex
	n      int           // requests in flight
	closed bool          // a shutdown began
	idle   chan struct{} // closed when closed and n is 0
}

// enter admits a request, or reports false once the gate is closed.
func (g *gate) enter() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closed {
		return false
	}
	g.n++
	return true
}

func (g *gate) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.n--
	if g.closed && g.n == 0 {
		close(g.idle)
	}
}

// close refuses the requests to come and returns a channel closed once
// those in flight have been answered.
func (g *gate) close() <-chan struct{} {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.closed {
		g.closed, g.idle = true, make(chan struct{})
		if g.n == 0 {
			close(g.idle)
		}
	}
	return g.idle
}

// draining reports whether the gate is closed.
func (g *gate) draining() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closed
}

// guard is h behind g: a request admitted runs with a context that also
// ends when stop does (a shutdown: see app.stopping), and one that comes
// once the gate is closed is answered 503 shutting_down, its connection
// closed, for the client to try another instance.
func (g *gate) guard(stop context.Context, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !g.enter() {
			w.Header().Set("Connection", "close")
			w.Header().Set("Retry-After", "1")
			writeJSON(w, http.StatusServiceUnavailable, map[string]any{"error": map[string]string{
				"code": "shutting_down", "message": "the server is shutting down: send the request to another instance"}})
			return
		}
		defer g.leave()
		ctx, cancel := context.WithCancel(r.Context())
		defer cancel()
		defer context.AfterFunc(stop, cancel)()
		h.ServeHTTP(w, r.WithContext(ctx))
	})
}
