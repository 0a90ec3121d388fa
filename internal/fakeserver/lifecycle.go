package fakeserver

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Lifecycle starts a fake's handler on a loopback port and stops it the way
// httptest.Server.Close does. Make one with NewLifecycle; it is safe for
// concurrent use.
type Lifecycle struct {
	id         Identity
	closeFresh bool
	closing    chan struct{} // closed by Close: releases every stalled or held request
	closeOnce  sync.Once

	mu      sync.Mutex
	httpSrv *http.Server
	served  chan struct{} // closed when Serve returns
	url     string
	closed  bool
	fresh   map[net.Conn]bool // connections accepted that have not sent a request yet
}

// NewLifecycle returns an unstarted Lifecycle for the fake id. With
// closeFresh, Close also closes at once the connections that were accepted
// but never carried a request (a client's spare dial), which
// http.Server.Shutdown would otherwise wait up to five seconds for.
func NewLifecycle(id Identity, closeFresh bool) *Lifecycle {
	return &Lifecycle{id: id, closeFresh: closeFresh, closing: make(chan struct{})}
}

// Closing returns a channel closed when Close is first called. Every wait
// of a request watches it, so that no request can hold Close up.
func (l *Lifecycle) Closing() <-chan struct{} { return l.closing }

// Start serves h on 127.0.0.1 (or [::1] where IPv4 loopback is missing) at a
// free port and stores its base URL, such as "http://127.0.0.1:54321", in
// *url (the fake's exported URL field) before it returns; read it later
// through URL under the same lock. Start fails with Identity.Closed after
// Close, with an error wrapping Identity.Invalid when already started, and
// when no loopback port can be opened; *url is then left alone.
func (l *Lifecycle) Start(h http.Handler, url *string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	switch {
	case l.closed:
		return l.id.Closed
	case l.httpSrv != nil:
		return fmt.Errorf("%w: Start: server already started at %s", l.id.Invalid, l.url)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		var err6 error
		if ln, err6 = net.Listen("tcp", "[::1]:0"); err6 != nil {
			return fmt.Errorf("%s: listen on loopback: %w", l.id.Name, errors.Join(err, err6))
		}
	}
	l.httpSrv = &http.Server{Handler: h, ReadHeaderTimeout: time.Minute}
	if l.closeFresh {
		l.fresh = make(map[net.Conn]bool)
		l.httpSrv.ConnState = l.trackConn
	}
	l.served = make(chan struct{})
	l.url = "http://" + ln.Addr().String()
	*url = l.url
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		// Serve returns ErrServerClosed after Close; nothing else ends it.
		_ = srv.Serve(ln)
	}(l.httpSrv, l.served)
	return nil
}

// URL returns the base URL of a started server; "" before Start.
func (l *Lifecycle) URL() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.url
}

// Started is a fake's NewServer test helper: it makes a server with
// newServer, starts it and closes it when the test ends. An error fails
// the test through tb.Fatalf, prefixed with name (such as
// "umengtest.NewServer"); with a testing.TB whose Fatalf returns, the
// result is then the zero S.
func Started[S interface {
	Start() error
	Close()
}](tb testing.TB, name string, newServer func() (S, error)) S {
	tb.Helper()
	s, err := newServer()
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		tb.Fatalf("%s: %v", name, err)
		var zero S
		return zero
	}
	tb.Cleanup(s.Close)
	return s
}

// Close closes the Closing channel, so stalled and held requests are
// released, then shuts the server down and waits for every in-flight
// request to finish. It is safe to call more than once and on a Lifecycle
// that was never started.
func (l *Lifecycle) Close() {
	l.closeOnce.Do(func() { close(l.closing) })
	l.mu.Lock()
	l.closed = true
	srv, served := l.httpSrv, l.served
	for c := range l.fresh {
		_ = c.Close()
	}
	l.mu.Unlock()
	if srv == nil {
		return
	}
	// Shutdown waits for active handlers; every wait in a handler also
	// watches l.closing, so none can hold it up.
	_ = srv.Shutdown(context.Background())
	<-served
}

// trackConn keeps the set of connections that have not sent a request, and
// closes a connection that arrives after Close.
func (l *Lifecycle) trackConn(c net.Conn, state http.ConnState) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if state == http.StateNew && !l.closed {
		l.fresh[c] = true
		return
	}
	if state == http.StateNew {
		_ = c.Close()
		return
	}
	delete(l.fresh, c)
}
