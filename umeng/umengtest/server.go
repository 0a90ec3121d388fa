package umengtest

import (
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
	"github.com/tuisong/push/umeng"
)

// Server is a fake Umeng push service. Its zero value is not usable; make
// one with New or NewServer. All methods are safe for concurrent use.
type Server struct {
	// URL is the base URL of a started server, such as
	// "http://127.0.0.1:54321", without a trailing slash. It is empty until
	// Start returns. Give it to the client under test as its base URL.
	URL string

	cfg      Config
	apps     map[string]App
	log      *slog.Logger
	life     *fakeserver.Lifecycle
	closing  <-chan struct{} // closed by Close: releases every stalled or held request
	gate     *fakeserver.Gate
	faults   *fakeserver.Faults[Fault]
	recorder *fakeserver.Recorder[Request]

	mu sync.Mutex

	deliveries []Delivery

	receiptTargets  map[string]receiptTarget // by msg_id: sends with a receipt_url
	receiptOrder    []string                 // the msg_ids of receiptTargets, oldest first
	pendingReceipts []pendingReceipt         // arrivals waiting for PostReceipts
	receiptPosts    []ReceiptPost

	tasks    map[string]*task
	taskList []*task // creation order, so simultaneous completions deliver in order
	dedupe   map[dedupeKey]string
	files    map[string]*file
	devices  map[string]*deviceSet
	invalid  map[string]bool
	issued   map[string]bool
	// issuedOrder is issued's ids, oldest first, when Config.Keep bounds
	// them.
	issuedOrder []string
	seq         uint64
	sendLog     map[rateKey][]time.Time
}

// New validates cfg and returns an unstarted Server. Call Start to serve it
// on a loopback port, or mount Handler on a listener of your own. A bad
// Config yields an error wrapping ErrInvalidConfig that names the field.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	id := fakeserver.Identity{Name: "umengtest", Invalid: ErrInvalidArgument, Closed: ErrClosed}
	life := fakeserver.NewLifecycle(id, false)
	s := &Server{
		cfg:      cfg,
		apps:     make(map[string]App, len(cfg.Apps)),
		log:      cfg.Logger,
		life:     life,
		closing:  life.Closing(),
		gate:     fakeserver.NewGate(id, life.Closing()),
		faults:   fakeserver.NewFaults(id, Fault.validate, Fault.matches),
		recorder: fakeserver.NewRecorder(Request.clone, func(r *Request, seq int) { r.Seq = seq }, cfg.Keep),
		tasks:    make(map[string]*task),
		dedupe:   make(map[dedupeKey]string),
		files:    make(map[string]*file),
		devices:  make(map[string]*deviceSet),
		invalid:  make(map[string]bool),
		issued:   make(map[string]bool),
		sendLog:  make(map[rateKey][]time.Time),

		receiptTargets: make(map[string]receiptTarget),
	}
	for _, a := range cfg.Apps {
		s.apps[a.AppKey] = a
	}
	return s, nil
}

// NewServer is the test helper: it starts a Server for cfg on a loopback
// port and closes it when the test ends. A bad cfg or a failure to listen
// fails the test through tb.Fatalf.
func NewServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	return fakeserver.Started(tb, "umengtest.NewServer", func() (*Server, error) { return New(cfg) })
}

// Start serves s on 127.0.0.1 (or [::1] where IPv4 loopback is missing) at a
// free port and sets URL. It fails if s was started or closed before, or if
// no loopback port can be opened.
func (s *Server) Start() error { return s.life.Start(s.Handler(), &s.URL) }

// Close stops s. Requests that are stalled or held by a fault are released
// first (their clients see the connection end); Close then waits for every
// in-flight request to finish, like httptest.Server.Close. It is safe to
// call more than once and on a server that was never started; a server
// mounted elsewhere through Handler answers later requests with 503.
func (s *Server) Close() { s.life.Close() }

// Handler returns the fake's HTTP handler, for mounting on a listener or
// router of the caller's own (the demo server does this). It serves POST
// /api/send, /api/status, /api/cancel and /upload; it also works under
// http.StripPrefix, because the sign is checked against the path the client
// called. A request that must end unanswered (its client gone, a Timeout
// fault, Close while stalled) drops its connection by panicking with
// http.ErrAbortHandler, which an http.Server handles silently; the waiting
// for in-flight requests on Close is then the host http.Server's.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

// now reads the configured clock.
func (s *Server) now() time.Time { return s.cfg.Now() }

// ClientConfig returns the umeng.Config of a client of s: its URL as the
// BaseURL and, for each platform, the credentials of the first of s's apps
// on it (DefaultApps unless Config.Apps says otherwise). Call it after s
// started; set the other fields on the copy it returns. On a server not
// started (one mounted with Handler, whose address only its host knows)
// it panics: the empty BaseURL would make the client call the real Umeng.
// Use ClientConfigAt there.
func (s *Server) ClientConfig() umeng.Config {
	if s.URL == "" {
		panic("umengtest: ClientConfig of a Server not started: its URL is unknown, and an empty BaseURL means the real Umeng; call Start first, or, for a Handler mounted on a server of yours, use ClientConfigAt(its URL)")
	}
	return s.ClientConfigAt(s.URL)
}

// ClientConfigAt is ClientConfig for a server reached at baseURL: one
// mounted with Handler on a host's own http.Server. It panics on an empty
// baseURL, which would make the client call the real Umeng.
func (s *Server) ClientConfigAt(baseURL string) umeng.Config {
	if baseURL == "" {
		panic("umengtest: ClientConfigAt with an empty base URL, which means the real Umeng")
	}
	cfg := umeng.Config{BaseURL: baseURL}
	for _, a := range s.cfg.Apps {
		app := umeng.App{AppKey: a.AppKey, AppMasterSecret: a.AppMasterSecret}
		switch {
		case a.Platform == PlatformIOS && cfg.IOS.AppKey == "":
			cfg.IOS = app
		case a.Platform == PlatformAndroid && cfg.Android.AppKey == "":
			cfg.Android = app
		}
	}
	return cfg
}
