package jpushtest

import (
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/tuisong/push/internal/fakeserver"
	"github.com/tuisong/push/jpush"
)

// Server is a fake JPush service: Push API v3 and the Report API on one
// URL. Make one with New or NewServer. All methods are safe for concurrent
// use.
type Server struct {
	// URL is the base URL of a started server, such as
	// "http://127.0.0.1:54321", without a trailing slash; empty until Start
	// returns. Give it to the client as both its push and report base URL.
	URL string

	cfg      Config
	apps     map[string]App
	log      *slog.Logger
	life     *fakeserver.Lifecycle
	closing  <-chan struct{}
	gate     *fakeserver.Gate
	faults   *fakeserver.Faults[Fault]
	recorder *fakeserver.Recorder[Request]

	mu         sync.Mutex
	deliveries []Delivery
	messages   map[string]*pushed // by msg_id
	cids       map[string]*cidUse // issued by GET /v3/push/cid, by cid
	devices    map[string][]Device
	invalid    map[string]bool
	seq        uint64
	rateLog    map[string][]time.Time
}

// New validates cfg and returns an unstarted Server: Start it, or mount
// Handler on a listener of your own. A bad Config yields an error wrapping
// ErrInvalidConfig that names the field.
func New(cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	id := fakeserver.Identity{Name: "jpushtest", Invalid: ErrInvalidArgument, Closed: ErrClosed}
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
		messages: make(map[string]*pushed),
		cids:     make(map[string]*cidUse),
		devices:  make(map[string][]Device),
		invalid:  make(map[string]bool),
		rateLog:  make(map[string][]time.Time),
	}
	for _, a := range cfg.Apps {
		s.apps[a.AppKey] = a
	}
	return s, nil
}

// NewServer starts a Server for cfg on a loopback port and closes it when
// the test ends. A bad cfg or a failure to listen fails the test.
func NewServer(tb testing.TB, cfg Config) *Server {
	tb.Helper()
	return fakeserver.Started(tb, "jpushtest.NewServer", func() (*Server, error) { return New(cfg) })
}

// ClientConfig returns the jpush.Config of a client of s: its URL as both
// the BaseURL and the ReportBaseURL, and the credentials of s's first app
// (DefaultApps unless Config.Apps says otherwise). Call it after s
// started; set the other fields on the copy it returns. On a server not
// started (one mounted with Handler, whose address only its host knows)
// it panics: an empty BaseURL would make the client call the real JPush.
// Use ClientConfigAt there.
func (s *Server) ClientConfig() jpush.Config {
	if s.URL == "" {
		panic("jpushtest: ClientConfig of a Server not started: its URL is unknown, and an empty BaseURL means the real JPush; call Start first, or, for a Handler mounted on a server of yours, use ClientConfigAt(its URL)")
	}
	return s.ClientConfigAt(s.URL)
}

// ClientConfigAt is ClientConfig for a server reached at baseURL: one
// mounted with Handler on a host's own http.Server. It panics on an empty
// baseURL, which would make the client call the real JPush.
func (s *Server) ClientConfigAt(baseURL string) jpush.Config {
	if baseURL == "" {
		panic("jpushtest: ClientConfigAt with an empty base URL, which means the real JPush")
	}
	a := s.cfg.Apps[0]
	return jpush.Config{AppKey: a.AppKey, MasterSecret: a.MasterSecret, BaseURL: baseURL, ReportBaseURL: baseURL}
}

// Start serves s on a free loopback port and sets URL.
func (s *Server) Start() error { return s.life.Start(s.Handler(), &s.URL) }

// Close stops s: stalled and held requests are released (their clients see
// the connection end), then Close waits for in-flight requests, like
// httptest.Server.Close. It is safe to call more than once.
func (s *Server) Close() { s.life.Close() }

// Handler returns the fake's HTTP handler, for mounting on a listener of
// the caller's own. Requests that must end unanswered panic with
// http.ErrAbortHandler, which an http.Server handles silently.
func (s *Server) Handler() http.Handler { return http.HandlerFunc(s.serveHTTP) }

func (s *Server) now() time.Time { return s.cfg.Now() }
