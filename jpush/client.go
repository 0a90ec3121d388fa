package jpush

import (
	"context"
	"encoding/base64"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/tuisong/push/internal/redacted"
	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// Name is the provider name: the value of Provider.Name, of
// provider.Error.Provider and the key of Request.Overrides.
const Name = "jpush"

// Limits of one push, from JPush's Push API v3 documentation.
const (
	// MaxRegistrationIDs is the most registration ids one push may target.
	MaxRegistrationIDs = 1000
	// MaxAliases is the most aliases one push may target.
	MaxAliases = 1000
	// MaxTags is the most tags in each of tag, tag_and and tag_not.
	MaxTags = 20
	// MaxTagBytes and MaxAliasBytes bound each tag and alias, in UTF-8
	// bytes, as JPush documents them.
	MaxTagBytes, MaxAliasBytes = 40, 40
	// MaxPayloadBytes bounds the encoded notification and message objects
	// together: JPush refuses more than 4000 bytes of an Android
	// notification and message, or of an iOS message, with 1005. The
	// client counts the compact JSON of both objects in UTF-8, which is at
	// least what JPush counts.
	MaxPayloadBytes = 4000
	// MaxIOSNotificationBytes bounds an iOS notification: JPush counts
	// "ios":{…}, its key and braces included, in UTF-8, and refuses more
	// than 2000 bytes with 1005 (its Push API v3 documentation and its
	// official Java client's MAX_IOS_PAYLOAD_LENGTH).
	MaxIOSNotificationBytes = 2000
	// MaxTimeToLive is the longest offline retention JPush gives an app
	// with its VIP service (Config.VIP): options.time_to_live of ten days.
	MaxTimeToLive = 10 * 24 * time.Hour
	// MaxTimeToLiveOrdinary is the longest an app without it gets: three
	// days (JPush's official Java SDK documents both). Whether JPush
	// clamps a longer value or refuses it is not documented, so the client
	// never sends more than its app's limit: longer ExpireTimes are
	// clamped to it rather than refused.
	MaxTimeToLiveOrdinary = 3 * 24 * time.Hour
	// MaxBadge is the largest iOS badge JPush takes (notification.ios.badge,
	// 0 to 99999).
	MaxBadge = 99999
	// defaultTTL is JPush's own time_to_live when none is sent: one day.
	defaultTTL = 24 * time.Hour
)

// Polling of JPush receipts (Capabilities.Polling). JPush reports delivery
// counts, never a final state, and keeps them about a month after the
// last delivery (Report API v3, "Delivery statistics"), so polling is a
// choice of cost, not of availability: every PollInterval, for
// PollHorizon after the send (or until the push expires, if sooner).
const (
	// PollInterval is the wait between two polls of a msg_id: counts grow
	// as devices come online, and a poll a minute would spend the Report
	// API's rate on numbers that barely move.
	PollInterval = 10 * time.Minute
	// PollHorizon is how long after the send a msg_id is polled: JPush's
	// default time_to_live, the day in which it delivers to the devices
	// that come online; later counts stay readable in JPush's console.
	PollHorizon = 24 * time.Hour
)

// Client is a JPush Push API v3 client. It implements provider.Provider,
// provider.Validator, provider.StatusQuerier and provider.Canceler, and may
// be used by many goroutines at once.
//
// No formatting of a Client shows the master secret: *Client implements
// fmt.Formatter and slog.LogValuer, and the credentials sit behind a
// pointer whose Format prints nothing of them.
type Client struct {
	creds       *credentials
	baseURL     string
	reportURL   string
	timeout     time.Duration
	now         func() time.Time
	apnsSandbox bool
	defaultTTL  time.Duration
	maxTTL      time.Duration
	quota       provider.Quota
	limit       *provider.Limiter
	http        *resty.Client
	log         *slog.Logger

	// sent remembers when each message this Client sent was sent and stops
	// being delivered (send time + time_to_live), for Status and
	// MessageStatus.
	mu   sync.Mutex
	sent map[string]sentMsg

	// noCID is Config.DisableCID; cids hands out the cids of idempotency
	// keys.
	noCID bool
	// huawei is Config.HuaweiServiceCategory.
	huawei string
	// classChannels are Config.ClassChannels, copied at New.
	classChannels map[provider.Class]map[string]ThirdPartyChannel
	cids          cidBook
}

var (
	_ provider.Provider      = (*Client)(nil)
	_ provider.Validator     = (*Client)(nil)
	_ provider.StatusQuerier = (*Client)(nil)
	_ provider.Canceler      = (*Client)(nil)
)

// New returns a Client for cfg, after applying the documented defaults. It
// fails, naming the field, when cfg is invalid.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	rc := cfg.Resty
	if rc == nil {
		rc = resty.NewWithClient(vendorhttp.Client(cfg.HTTPClient)).
			SetLogger(discardLogger{}).
			SetDisableWarn(true).
			SetRetryCount(0)
	}
	return &Client{
		creds:         newCredentials(cfg.AppKey, cfg.MasterSecret),
		baseURL:       strings.TrimRight(cfg.BaseURL, "/"),
		reportURL:     strings.TrimRight(cfg.ReportBaseURL, "/"),
		timeout:       cfg.Timeout,
		now:           cfg.Now,
		apnsSandbox:   cfg.APNsSandbox,
		defaultTTL:    cfg.DefaultTimeToLive,
		maxTTL:        cfg.maxTimeToLive(),
		quota:         cfg.Quota,
		limit:         provider.NewLimiter(cfg.Quota),
		http:          rc,
		log:           cfg.Logger,
		sent:          make(map[string]sentMsg),
		noCID:         cfg.DisableCID,
		huawei:        cfg.HuaweiServiceCategory,
		classChannels: cloneClassChannels(cfg.ClassChannels),
	}, nil
}

// Name returns "jpush".
func (c *Client) Name() string { return Name }

// Capabilities describes what Send accepts for p: up to 1000 registration
// ids, MaxIOSNotificationBytes of an iOS notification or MaxPayloadBytes of
// an Android notification and message, and token, broadcast,
// alias and filter (tags or a segment) audiences. JPush has no file
// audience on /v3/push. An unknown platform, or any platform of a Client
// New did not make, gets the zero Capabilities.
//
// It also declares: one call per Send (two with cids: a fetch of cids may
// come first), each bounded by Config.Timeout, so SendTimeout is Timeout
// times that; at most MaxTimeToLiveOrdinary (three days) of offline
// retention, or MaxTimeToLive (ten days) with Config.VIP;
// receipts polled every PollInterval for PollHorizon; aliases without a
// type (NeedsAliasType false); and no per-token failures, since JPush
// sends to the registration ids of a batch it knows without a word about
// the others (a dead id among live ones goes unnoticed; a batch of dead
// ones only is 1011), and refuses a whole batch with a malformed id
// (1003), naming that id in its message (reported in the error's
// Failures when it is one of the batch's).
func (c *Client) Capabilities(p provider.Platform) provider.Capabilities {
	if !p.Valid() || c.unbuilt() {
		return provider.Capabilities{}
	}
	return provider.Capabilities{
		MaxTokens:       MaxRegistrationIDs,
		MaxPayloadBytes: maxPayloadBytes(p),
		Audiences: []provider.AudienceKind{
			provider.AudienceTokens,
			provider.AudienceBroadcast,
			provider.AudienceAliases,
			provider.AudienceFilter,
		},
		Polling:       provider.Polling{Interval: PollInterval, Horizon: PollHorizon, DoneAtExpiry: true},
		CallsPerSend:  c.callsPerSend(),
		SendTimeout:   time.Duration(c.callsPerSend()) * c.timeout,
		MaxTimeToLive: c.maxTTL,
	}
}

// maxPayloadBytes is the payload limit JPush holds a push on p to: an iOS
// notification's, or an Android notification and message's.
func maxPayloadBytes(p provider.Platform) int {
	if p == provider.IOS {
		return MaxIOSNotificationBytes
	}
	return MaxPayloadBytes
}

// callsPerSend is Capabilities.CallsPerSend: the push, and before it, now
// and then, the fetch of cids.
func (c *Client) callsPerSend() int {
	if c.noCID {
		return 1
	}
	return 2
}

// credentials holds the app key and, inside a closure, the master secret
// and the Basic credential derived from it. fmt and reflection-based
// printers (testify's diffs, spew) print a func as an address, so no way of
// printing a Client, or a copy of one, reaches the secret.
type credentials struct {
	appKey string
	secret func() (secret, basic string)
}

func newCredentials(appKey, secret string) *credentials {
	basic := base64.StdEncoding.EncodeToString([]byte(appKey + ":" + secret))
	return &credentials{appKey: appKey, secret: func() (string, string) { return secret, basic }}
}

// Format prints nothing of the credentials, whatever the verb.
func (c *credentials) Format(f fmt.State, _ rune) {
	_, _ = io.WriteString(f, "jpush.credentials{REDACTED}")
}

// String describes c by its base URLs, app key and APNs environment; never
// the master secret.
func (c *Client) String() string {
	if c == nil {
		return "jpush.Client(nil)"
	}
	if c.unbuilt() {
		return unbuiltString
	}
	return fmt.Sprintf("jpush.Client{BaseURL:%s ReportBaseURL:%s AppKey:%s APNsSandbox:%t}",
		c.baseURL, c.reportURL, c.creds.appKey, c.apnsSandbox)
}

// GoString is String for %#v.
func (c *Client) GoString() string {
	if c == nil {
		return "(*jpush.Client)(nil)"
	}
	return "&" + c.String()
}

// Format makes every fmt verb print String (GoString for %#v, a quoted
// String for %q), so no verb or flag can reach the credentials.
func (c *Client) Format(f fmt.State, verb rune) {
	redacted.Format(f, verb, c)
}

// LogValue makes slog record c without its master secret.
func (c *Client) LogValue() slog.Value {
	if c == nil {
		return slog.StringValue("jpush.Client(nil)")
	}
	if c.unbuilt() {
		return slog.StringValue(unbuiltString)
	}
	return slog.GroupValue(
		slog.String("base_url", c.baseURL),
		slog.String("report_base_url", c.reportURL),
		slog.String("app_key", c.creds.appKey),
		slog.Bool("apns_sandbox", c.apnsSandbox),
	)
}

// call describes one HTTP exchange.
type call struct {
	op       string
	platform provider.Platform
	method   string
	url      string
	path     string // for logs
	body     []byte // nil: no body
	// tokens are the registration ids of a token audience (nil for any
	// other), which decide how code 1011 is classified and who is named.
	tokens []string
}

// do makes one authenticated call. It never retries.
func (c *Client) do(ctx context.Context, x call) (*answer, error) {
	if err := ctx.Err(); err != nil {
		e := transportError(x.op, err, false)
		c.logCall(ctx, x, 0, e)
		return nil, e
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Once the whole request is written JPush may act on it, so a failure
	// after that point is Indeterminate rather than Temporary.
	ctx, written := provider.TraceWrite(ctx)
	secret, basic := c.creds.secret()
	req := c.http.R().
		SetContext(ctx).
		SetBasicAuth(c.creds.appKey, secret).
		SetHeader("Accept", "application/json")
	if x.body != nil {
		req.SetHeader("Content-Type", "application/json").SetBody(x.body)
	}
	resp, err := req.Execute(x.method, x.url)
	if err != nil {
		e := transportError(x.op, err, written(), secret, basic)
		c.logCall(ctx, x, 0, e)
		return nil, e
	}
	a, err := decodeAnswer(x.op, resp.StatusCode(), resp.Header(), resp.Body(), x.tokens, secret, basic)
	c.logCall(ctx, x, resp.StatusCode(), err)
	return a, err
}

// logCall records one call at debug level: never bodies or credentials.
func (c *Client) logCall(ctx context.Context, x call, status int, err error) {
	attrs := []slog.Attr{
		slog.String("op", x.op),
		slog.String("platform", string(x.platform)),
		slog.String("path", x.path),
		slog.Int("http_status", status),
	}
	if err == nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "jpush call succeeded", attrs...)
		return
	}
	attrs = append(attrs,
		slog.String("kind", provider.KindOf(err).String()),
		slog.String("code", provider.CodeOf(err)),
	)
	c.log.LogAttrs(ctx, slog.LevelDebug, "jpush call failed", attrs...)
}

// discardLogger silences resty, whose messages may quote requests.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

// clonePtr returns a pointer to a copy of *p; nil for nil.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// cloneClassChannels copies m, its maps and the values its entries point
// to, so that the caller's later
// changes do not reach the sends.
func cloneClassChannels(m map[provider.Class]map[string]ThirdPartyChannel) map[provider.Class]map[string]ThirdPartyChannel {
	out := make(map[provider.Class]map[string]ThirdPartyChannel, len(m))
	for class, chs := range m {
		cp := make(map[string]ThirdPartyChannel, len(chs))
		for maker, ch := range chs {
			ch.Classification, ch.SkipQuota, ch.NotifyLevel = clonePtr(ch.Classification), clonePtr(ch.SkipQuota), clonePtr(ch.NotifyLevel)
			cp[maker] = ch
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
