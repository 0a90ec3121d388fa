package getui

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/tuisong/push/internal/expiring"
	"github.com/tuisong/push/internal/redacted"
	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// Name is the provider name: the value of Provider.Name, of
// provider.Error.Provider and the key of Request.Overrides.
const Name = "getui"

// Limits of one push, from Getui's RestAPI v2 documentation.
const (
	// MaxCIDs is the most cids one Send takes: the limit of audience.cid on
	// /push/list/cid. The team's protocol notes say 200, some Getui pages 1000; the
	// client keeps to the lower figure, which every account accepts.
	MaxCIDs = 200
	// MaxAliases is the most aliases one Send takes (/push/list/alias).
	MaxAliases = 200
	// MaxTitleRunes and MaxBodyRunes bound a notification's title and body,
	// counted in characters as Java counts a string's length (Getui's
	// servers and SDKs are Java): UTF-16 code units, so that a character
	// outside the Basic Multilingual Plane, as most emoji are, counts two.
	// Getui's pages say characters without naming the unit; of the two
	// readings this one is never the smaller, so no title or body Getui
	// could refuse passes.
	MaxTitleRunes = 50
	MaxBodyRunes  = 256
	// MaxPayloadBytes bounds a transmission, a click payload and the iOS
	// payload: 3072 bytes each.
	MaxPayloadBytes = 3072
	// MaxTimeToLive is the longest settings.ttl Getui accepts: three days.
	// Longer ExpireTimes are clamped to it.
	MaxTimeToLive = 3 * 24 * time.Hour
	// MaxScheduleAhead is how far ahead Getui schedules a push
	// (settings.schedule_time): seven days. A later StartTime is refused
	// ("start_time") before anything is sent.
	MaxScheduleAhead = 7 * 24 * time.Hour
	// CallsPerSend is the calls a Send is given time for: auth, task
	// creation, a second auth after a 10001, and the delivering call.
	// Each of a list push's two calls may be repeated once after a 10001,
	// with an auth before it, so a Send may make up to seven; one whose
	// calls run past CallsPerSend times Config.Timeout is cut short by
	// the Service's bound (SendTimeout) and tried again as an answer lost,
	// its request_id or task deduplicating it.
	CallsPerSend = 4
)

// Polling of Getui receipts (Capabilities.Polling). Getui's task report
// gives counts, never a final state, and is readable for 90 days (RestAPI
// v2, "Statistics API"), so polling is a choice of cost: every
// PollInterval, for PollHorizon after the send (or until the push expires,
// if sooner; Getui keeps a push at most MaxTimeToLive).
const (
	// PollInterval is the wait between two polls of a task: counts grow as
	// devices come online and would barely move in a minute.
	PollInterval = 10 * time.Minute
	// PollHorizon is how long after the send a task is polled: the day in
	// which Getui reaches the devices that come online; later counts stay
	// readable in Getui's console and report API.
	PollHorizon = 24 * time.Hour
)

// Client is a Getui RestAPI v2 client. It implements provider.Provider,
// provider.Validator, provider.StatusQuerier and provider.Canceler and may be
// used by many goroutines at once; they share one auth token.
//
// No formatting of a Client shows the master secret or the token: *Client
// implements fmt.Formatter and slog.LogValuer, and both sit in closures,
// which fmt and reflection-based printers show as an address at most.
type Client struct {
	appID      string
	appKey     string
	secret     func() string // the master secret, out of reach of printers
	base       atomic.Pointer[string]
	timeout    time.Duration
	refresh    time.Duration
	now        func() time.Time
	defaultTTL time.Duration
	http       *resty.Client
	log        *slog.Logger
	tokens     tokenCache
	authQuota  provider.Quota
	authLimit  *provider.Limiter
	taskQuota  provider.Quota
	taskLimit  *provider.Limiter // /push/all and /push/tag together, a day
	taskRate   provider.Quota
	rateLimit  *provider.Limiter // the same, a minute

	// sent remembers what Status needs about tasks this Client created:
	// when Getui stops delivering them and whether Cancel stopped them.
	mu   sync.Mutex
	sent map[string]*sentTask
	// lists holds the task each list push created, by idempotency key,
	// until the task's time to live (see createdTask).
	lists *expiring.Map[listTask]
	// keyLocks holds the list pushes of one key one at a time (lockKey).
	keyLocks map[string]*keyLock
	// huawei is Config.HuaweiServiceCategory.
	huawei string
	// classUps are Config.ClassUpsOptions, copied at New.
	classUps map[provider.Class]map[string]map[string]any
}

type sentTask struct {
	start    time.Time // schedule_time; zero when sent at once
	deadline time.Time
	canceled bool
}

var (
	_ provider.Provider      = (*Client)(nil)
	_ provider.Validator     = (*Client)(nil)
	_ provider.StatusQuerier = (*Client)(nil)
	_ provider.Canceler      = (*Client)(nil)
)

// New returns a Client for cfg, after applying the documented defaults. It
// fails, naming the field, when cfg is invalid. It makes no network call:
// the first call that needs a token fetches one.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rc := cfg.Resty
	if rc == nil {
		rc = resty.NewWithClient(vendorhttp.Client(cfg.HTTPClient)).SetLogger(discardLogger{}).SetDisableWarn(true).SetRetryCount(0)
	}
	secret := cfg.MasterSecret.value()
	c := &Client{
		appID:      cfg.AppID,
		appKey:     cfg.AppKey,
		secret:     func() string { return secret },
		timeout:    cfg.Timeout,
		refresh:    cfg.TokenRefreshAhead,
		now:        cfg.Now,
		defaultTTL: cfg.DefaultTimeToLive,
		huawei:     cfg.HuaweiServiceCategory,
		classUps:   cloneClassUps(cfg.ClassUpsOptions),
		http:       rc,
		log:        cfg.Logger,
		authQuota:  cfg.AuthQuota,
		authLimit:  provider.NewLimiter(cfg.AuthQuota),
		taskQuota:  cfg.TaskQuota,
		taskLimit:  provider.NewLimiter(cfg.TaskQuota),
		taskRate:   cfg.TaskRate,
		rateLimit:  provider.NewLimiter(cfg.TaskRate),
		sent:       make(map[string]*sentTask),
		lists:      expiring.New[listTask](maxListKeys),
		keyLocks:   make(map[string]*keyLock),
	}
	base := strings.TrimRight(cfg.BaseURL, "/")
	c.base.Store(&base)
	return c, nil
}

// Name returns "getui".
func (c *Client) Name() string { return Name }

// Capabilities describes what Send accepts for p: up to MaxCIDs cids,
// MaxPayloadBytes of transmission or payload, and token, broadcast, alias
// and filter (tags) audiences. Getui has no file audience. An unknown
// platform, or any platform of a Client New did not make, gets the zero
// Capabilities.
//
// It also declares: up to CallsPerSend calls per Send, each bounded by
// Config.Timeout, so SendTimeout is four times Timeout; at most
// MaxTimeToLive (three days) of settings.ttl; task receipts polled every
// PollInterval for PollHorizon; aliases without a type; and per-token
// failures (TokenFailures), since list pushes answer a status per cid.
func (c *Client) Capabilities(p provider.Platform) provider.Capabilities {
	if !p.Valid() || c.unbuilt() {
		return provider.Capabilities{}
	}
	return provider.Capabilities{
		MaxTokens:       MaxCIDs,
		MaxPayloadBytes: MaxPayloadBytes,
		Audiences: []provider.AudienceKind{
			provider.AudienceTokens,
			provider.AudienceBroadcast,
			provider.AudienceAliases,
			provider.AudienceFilter,
		},
		Polling:       provider.Polling{Interval: PollInterval, Horizon: PollHorizon, DoneAtExpiry: true},
		TokenFailures: true,
		CallsPerSend:  CallsPerSend,
		SendTimeout:   CallsPerSend * c.timeout,
		MaxTimeToLive: MaxTimeToLive,
	}
}

// BaseURL returns the API root the Client calls now: Config.BaseURL, or
// the host Getui named in a 301 answer. It is "" for a Client New did not
// make.
func (c *Client) BaseURL() string {
	if c.unbuilt() || c.base.Load() == nil {
		return ""
	}
	return *c.base.Load()
}

// String describes c by its base URL, app id and app key; never the master
// secret or the token.
func (c *Client) String() string {
	if c == nil {
		return "getui.Client(nil)"
	}
	if c.unbuilt() {
		return unbuiltString
	}
	return fmt.Sprintf("getui.Client{BaseURL:%s AppID:%s AppKey:%s}", c.BaseURL(), c.appID, c.appKey)
}

// GoString is String for %#v.
func (c *Client) GoString() string {
	if c == nil {
		return "(*getui.Client)(nil)"
	}
	return "&" + c.String()
}

// Format makes every fmt verb print String (GoString for %#v, a quoted
// String for %q), so no verb or flag reaches the credentials.
func (c *Client) Format(f fmt.State, verb rune) {
	redacted.Format(f, verb, c)
}

// LogValue makes slog record c without its secret or token.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("getui.Client(nil)")
	}
	if c.unbuilt() {
		return slog.StringValue(unbuiltString)
	}
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL()),
		slog.String("app_id", c.appID),
		slog.String("app_key", c.appKey),
	)
}

// call describes one HTTP exchange with Getui.
type call struct {
	op       string
	platform provider.Platform
	method   string
	path     string // after /{appId}, e.g. "/push/single/cid"
	logPath  string // path with ids replaced, for logs
	body     []byte // nil: no body
	// byCID says the call names its targets by cid (a single push, or the
	// cids of a list push), which decides how 20001 is classified.
	byCID bool
	// secrets are scrubbed from answers and errors besides the master
	// secret and the token (the auth sign).
	secrets []string
}

// exchange makes one HTTP call with token (empty for auth). It never
// retries; it follows no redirect.
func (c *Client) exchange(ctx context.Context, x call, token string) (*answer, error) {
	if err := ctx.Err(); err != nil {
		e := transportError(x.op, err, false)
		c.logCall(ctx, x, 0, e)
		return nil, e
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Once the whole request is written Getui may act on it, so a failure
	// after that point is Indeterminate rather than Temporary.
	ctx, written := provider.TraceWrite(ctx)
	req := c.http.R().SetContext(ctx).SetHeader("Accept", "application/json")
	if token != "" {
		req.SetHeader("token", token)
	}
	if x.body != nil {
		req.SetHeader("Content-Type", "application/json;charset=utf-8").SetBody(x.body)
	}
	resp, err := req.Execute(x.method, c.BaseURL()+"/"+c.appID+x.path)
	secrets := append([]string{c.secret(), token}, x.secrets...)
	if err != nil {
		e := transportError(x.op, err, written(), secrets...)
		c.logCall(ctx, x, 0, e)
		return nil, e
	}
	a, err := c.decode(x, resp.StatusCode(), resp.Body(), secrets...)
	c.logCall(ctx, x, resp.StatusCode(), err)
	return a, err
}

// do makes an authenticated call: it takes the shared token (fetching one
// when there is none or it is about to expire) and, when Getui answers
// 10001 (token expired or invalid), fetches a new token once and repeats
// the call once. A second 10001 is an Auth error.
func (c *Client) do(ctx context.Context, x call) (*answer, error) {
	tok, err := c.token(ctx)
	if err != nil {
		return nil, err
	}
	a, err := c.exchange(ctx, x, tok)
	if provider.CodeOf(err) != strconv.Itoa(CodeTokenExpired) {
		return a, err
	}
	c.tokens.invalidate(tok)
	if tok, err = c.token(ctx); err != nil {
		return nil, err
	}
	a, err = c.exchange(ctx, x, tok)
	if provider.CodeOf(err) == strconv.Itoa(CodeTokenExpired) {
		err = withKind(err, provider.Auth, "Getui refused a freshly issued token")
	}
	return a, err
}

// logCall records one call at debug level: never bodies or credentials.
func (c *Client) logCall(ctx context.Context, x call, status int, err error) {
	path := x.logPath
	if path == "" {
		path = x.path
	}
	attrs := []slog.Attr{
		slog.String("op", x.op),
		slog.String("platform", string(x.platform)),
		slog.String("path", path),
		slog.Int("http_status", status),
	}
	if err == nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "getui call succeeded", attrs...)
		return
	}
	attrs = append(attrs, slog.String("kind", provider.KindOf(err).String()), slog.String("code", provider.CodeOf(err)))
	c.log.LogAttrs(ctx, slog.LevelDebug, "getui call failed", attrs...)
}

// discardLogger silences resty, whose messages may quote requests.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

// cloneClassUps copies m and its maps, so that the caller's later changes
// do not reach the sends.
func cloneClassUps(m map[provider.Class]map[string]map[string]any) map[provider.Class]map[string]map[string]any {
	out := make(map[provider.Class]map[string]map[string]any, len(m))
	for class, makers := range m {
		cp := make(map[string]map[string]any, len(makers))
		for maker, kv := range makers {
			cp[maker] = maps.Clone(kv)
		}
		out[class] = cp
	}
	return out
}

// CloseIdleConnections closes the connections to the vendor that the
// client keeps open for its next calls, and the goroutines that serve
// them. Calls in flight are not affected, and later calls open new
// connections. push.Service.Close calls it.
func (c *Client) CloseIdleConnections() {
	if c.unbuilt() {
		return
	}
	c.http.GetClient().CloseIdleConnections()
}
