package getuitest

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"testing"
	"time"
)

// Server is a fake Getui RestAPI v2. Make one with New or NewServer. All
// methods are safe for concurrent use.
type Server struct {
	// URL is the scheme and host of a started server, such as
	// "http://127.0.0.1:54321"; empty until Start returns. The client's
	// BaseURL is URL + BasePath (see BaseURL).
	URL string

	cfg     Config
	apps    map[string]App
	log     *slog.Logger
	closing chan struct{}

	closeOnce sync.Once

	mu      sync.Mutex
	httpSrv *http.Server
	served  chan struct{}
	closed  bool
	fresh   map[net.Conn]bool // connections accepted that have not sent a request yet

	basePath   string // the prefix the apps live under; MoveHost changes it
	moved      bool
	recorded   int
	requests   []Request
	arrived    map[string]int
	deliveries []Delivery
	tokens     map[string]issuedToken
	authLog    map[string][]time.Time
	callLog    map[string][]time.Time
	requestIDs map[string]response // app id + "/" + request_id → first answer
	tasks      map[string]*task
	devices    map[string]map[string]Device // app id → cid → device
	invalid    map[string]bool
	seq        uint64

	failNext []*pendingFault
	failRate *rateFault
	latency  time.Duration
	stalls   []*stall

	stalledCount int
	stallNotify  chan struct{}
}

type issuedToken struct {
	appID   string
	expires time.Time
}

// New validates cfg and returns an unstarted Server: Start it, or mount
// Handler on a listener of your own. A bad Config yields an error wrapping
// ErrInvalidConfig that names the field.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	s := &Server{
		cfg:        cfg,
		apps:       make(map[string]App, len(cfg.Apps)),
		log:        cfg.Logger,
		closing:    make(chan struct{}),
		basePath:   BasePath,
		arrived:    make(map[string]int),
		tokens:     make(map[string]issuedToken),
		authLog:    make(map[string][]time.Time),
		callLog:    make(map[string][]time.Time),
		requestIDs: make(map[string]response),
		tasks:      make(map[string]*task),
		devices:    make(map[string]map[string]Device),
		invalid:    make(map[string]bool),
	}
	for _, a := range cfg.Apps {
		s.apps[a.AppID] = a
	}
	return s, nil
}

// NewServer starts a Server for cfg on a loopback port and closes it when
// the test ends. A bad cfg or a failure to listen fails the test.
func NewServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	s, err := New(cfg)
	if err == nil {
		err = s.Start()
	}
	if err != nil {
		tb.Fatalf("getuitest.NewServer: %v", err)
		return nil
	}
	tb.Cleanup(s.Close)
	return s
}

// Start serves s on a free loopback port and sets URL.
func (s *Server) Start() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case s.closed:
		return ErrClosed
	case s.httpSrv != nil:
		return fmt.Errorf("%w: Start: server already started at %s", ErrInvalidArgument, s.URL)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		var err6 error
		if ln, err6 = net.Listen("tcp", "[::1]:0"); err6 != nil {
			return fmt.Errorf("getuitest: listen on loopback: %w", errors.Join(err, err6))
		}
	}
	s.fresh = make(map[net.Conn]bool)
	s.httpSrv = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: time.Minute, ConnState: s.trackConn}
	s.served = make(chan struct{})
	s.URL = "http://" + ln.Addr().String()
	go func(srv *http.Server, done chan struct{}) {
		defer close(done)
		_ = srv.Serve(ln)
	}(s.httpSrv, s.served)
	return nil
}

// BaseURL returns the client's BaseURL for this server: URL + the base
// path the apps live under now (BasePath until MoveHost). A server mounted
// through Handler has no URL, so BaseURL is the path alone and a 301's
// host list names no host; MoveHost is for started servers.
func (s *Server) BaseURL() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.URL + s.basePath
}

// Close stops s: stalled and held requests are released (their clients see
// the connection end), connections that carry no request are closed, then
// Close waits for in-flight requests, like httptest.Server.Close. It is
// safe to call more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() { close(s.closing) })
	s.mu.Lock()
	s.closed = true
	srv, served := s.httpSrv, s.served
	// http.Server.Shutdown waits up to five seconds for a connection that
	// was accepted but never sent a request (a client's spare dial);
	// httptest closes those at once, and so does the fake.
	for c := range s.fresh {
		_ = c.Close()
	}
	s.mu.Unlock()
	if srv == nil {
		return
	}
	_ = srv.Shutdown(context.Background())
	<-served
}

// trackConn keeps the set of connections that have not sent a request.
func (s *Server) trackConn(c net.Conn, state http.ConnState) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if state == http.StateNew && !s.closed {
		s.fresh[c] = true
		return
	}
	if state == http.StateNew {
		_ = c.Close()
		return
	}
	delete(s.fresh, c)
}

// Handler returns the fake's HTTP handler, for mounting on a listener of
// the caller's own. Requests that must end unanswered panic with
// http.ErrAbortHandler, which an http.Server handles silently.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) now() time.Time { return s.cfg.Now() }

// ExpireTokens makes every token issued so far invalid, so the next call
// with one is refused with 10001: the hook for a client's refresh path.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.tokens)
}

// MoveHost moves every app to the base path prefix (such as "/v2-east"):
// from then on a request under any other base path is answered 301 with
// data.host_list[0].domain_list[0] = URL + prefix, the way Getui sends a
// client to the host that serves its app.
func (s *Server) MoveHost(prefix string) error {
	if len(prefix) < 2 || prefix[0] != '/' || !alnumDash(prefix[1:]) {
		return fmt.Errorf("%w: MoveHost prefix %q is not \"/\" and letters, digits or '-'", ErrInvalidArgument, prefix)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.basePath, s.moved = prefix, true
	return nil
}

func alnumDash(s string) bool {
	for _, c := range []byte(s) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || c == '-') {
			return false
		}
	}
	return s != ""
}

// MarkInvalid makes cids dead: a single push to one is refused with 20001
// "target user is invalid", a list push reports that status for it, and
// nothing is delivered to it.
func (s *Server) MarkInvalid(cids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cids {
		s.invalid[c] = true
	}
}

// Device is a device the fake knows, for alias, tag and broadcast pushes.
type Device struct {
	CID      string
	Platform string   // "android" or "ios": its phone_type
	Alias    string   // bound alias; empty for none
	Tags     []string // custom tags
}

// AddDevice registers d with the app appID.
func (s *Server) AddDevice(appID string, d Device) error {
	if _, ok := s.apps[appID]; !ok {
		return fmt.Errorf("%w: AddDevice: unknown app %q", ErrInvalidArgument, appID)
	}
	if !wellFormedCID(d.CID) && !s.cfg.AcceptAnyCID {
		return fmt.Errorf("%w: AddDevice: cid %q is not 32 lowercase hex digits", ErrInvalidArgument, d.CID)
	}
	if d.Platform != "android" && d.Platform != "ios" {
		return fmt.Errorf("%w: AddDevice: platform %q is not android or ios", ErrInvalidArgument, d.Platform)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.devices[appID] == nil {
		s.devices[appID] = make(map[string]Device)
	}
	d.Tags = append([]string(nil), d.Tags...)
	s.devices[appID][d.CID] = d
	return nil
}
