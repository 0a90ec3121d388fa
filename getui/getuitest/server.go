package getuitest

import (
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/internal/fakeserver"
)

// Server is a fake Getui RestAPI v2. Make one with New or NewServer. All
// methods are safe for concurrent use.
type Server struct {
	// URL is the scheme and host of a started server, such as
	// "http://127.0.0.1:54321"; empty until Start returns. The client's
	// BaseURL is URL + BasePath (see BaseURL).
	URL string

	cfg      Config
	apps     map[string]App
	log      *slog.Logger
	life     *fakeserver.Lifecycle
	closing  <-chan struct{}
	gate     *fakeserver.Gate
	faults   *fakeserver.Faults[Fault]
	recorder *fakeserver.Recorder[Request]

	mu           sync.Mutex
	basePath     string // the prefix the apps live under; MoveHost changes it
	moved        bool
	deliveries   []Delivery
	receipted    int // deliveries[:receipted] had their arrival posted
	forgotten    int // deliveries dropped under Config.Keep since New or Reset: deliveries[0] is the forgotten-th
	receiptPosts []ReceiptPost
	tokens       map[string]issuedToken
	authLog      map[string][]time.Time
	callLog      map[string][]time.Time
	taskDays     map[string]taskDay     // by app id: the pushes to all and to a tag of a day
	taskTimes    map[string][]time.Time // by app id: when its pushes to all and to a tag of the last minute came
	requestIDs   map[string]response    // app id + "/" + request_id → first answer
	tasks        map[string]*task
	devices      map[string]map[string]Device // app id → cid → device
	invalid      map[string]bool
	inactive     map[string]bool
	seq          uint64
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
	id := fakeserver.Identity{Name: "getuitest", Invalid: ErrInvalidArgument, Closed: ErrClosed}
	// http.Server.Shutdown waits up to five seconds for a connection that
	// was accepted but never sent a request (a client's spare dial);
	// httptest closes those at once, and so does the fake.
	life := fakeserver.NewLifecycle(id, true)
	s := &Server{
		cfg:        cfg,
		apps:       make(map[string]App, len(cfg.Apps)),
		log:        cfg.Logger,
		life:       life,
		closing:    life.Closing(),
		gate:       fakeserver.NewGate(id, life.Closing()),
		faults:     fakeserver.NewFaults(id, Fault.validate, Fault.matches),
		recorder:   fakeserver.NewRecorder(Request.clone, func(r *Request, seq int) { r.Seq = seq }, cfg.Keep),
		basePath:   BasePath,
		tokens:     make(map[string]issuedToken),
		authLog:    make(map[string][]time.Time),
		callLog:    make(map[string][]time.Time),
		taskDays:   make(map[string]taskDay),
		taskTimes:  make(map[string][]time.Time),
		requestIDs: make(map[string]response),
		tasks:      make(map[string]*task),
		devices:    make(map[string]map[string]Device),
		invalid:    make(map[string]bool),
		inactive:   make(map[string]bool),
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
	return fakeserver.Started(tb, "getuitest.NewServer", func() (*Server, error) { return New(cfg) })
}

// Start serves s on a free loopback port and sets URL.
func (s *Server) Start() error { return s.life.Start(s.Handler(), &s.URL) }

// BaseURL returns the client's BaseURL for this server: URL + the base
// path the apps live under now (BasePath until MoveHost). A server mounted
// through Handler has no URL, so BaseURL is the path alone and a 301's
// host list names no host; MoveHost is for started servers.
func (s *Server) BaseURL() string { return s.life.URL() + s.currentBasePath() }

// currentBasePath is the path the apps live under now.
func (s *Server) currentBasePath() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.basePath
}

// ClientConfig returns the getui.Config of a client of s: BaseURL() as its
// BaseURL and the credentials of s's first app (DefaultApps unless
// Config.Apps says otherwise). Call it after s started; set the other
// fields on the copy it returns. On a server not started (one mounted
// with Handler, whose address only its host knows) it panics: the
// BaseURL would be a bare path. Use ClientConfigAt there.
func (s *Server) ClientConfig() getui.Config {
	if s.life.URL() == "" {
		panic("getuitest: ClientConfig of a Server not started: its URL is unknown; call Start first, or, for a Handler mounted on a server of yours, use ClientConfigAt(its URL)")
	}
	return s.ClientConfigAt(s.life.URL())
}

// ClientConfigAt is ClientConfig for a server reached at url (scheme and
// host, and the prefix Handler is mounted under, if any): one mounted with
// Handler on a host's own http.Server. The BaseURL it returns is url +
// the base path the apps live under. It panics on an empty url, which
// would make the client call the real Getui.
func (s *Server) ClientConfigAt(url string) getui.Config {
	if url == "" {
		panic("getuitest: ClientConfigAt with an empty URL, which means the real Getui")
	}
	a := s.cfg.Apps[0]
	return getui.Config{AppID: a.AppID, AppKey: a.AppKey, MasterSecret: getui.NewSecret(a.MasterSecret),
		BaseURL: strings.TrimRight(url, "/") + s.currentBasePath()}
}

// Close stops s: stalled and held requests are released (their clients see
// the connection end), connections that carry no request are closed, then
// Close waits for in-flight requests, like httptest.Server.Close. It is
// safe to call more than once.
func (s *Server) Close() { s.life.Close() }

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

// MarkInactive makes cids inactive for Getui's 90 days: a push to one is
// answered with the status "successed_ignore" for it, and nothing is
// delivered to it.
func (s *Server) MarkInactive(cids ...string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, c := range cids {
		s.inactive[c] = true
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
