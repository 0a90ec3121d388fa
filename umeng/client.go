package umeng

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// Name is the provider name: the value of Provider.Name, of
// provider.Error.Provider and the key of Request.Overrides.
const Name = "umeng"

// Payload limits, in bytes of the encoded payload object, as Umeng's current
// API documentation gives them: "Android最大为2048B", "iOS最大为2012B".
const (
	MaxAndroidPayloadBytes = 2048
	MaxIOSPayloadBytes     = 2012
)

// MaxTokens is the most tokens (or aliases) one Send accepts: Umeng's
// listcast and alias limit (but see MaxFileTokens).
const MaxTokens = 500

// MaxFileTokens is the most tokens one Send accepts by file, when
// Config.FilecastThreshold is set, in a file of at most Umeng's 10 MB
// (Capabilities.MaxFileBytes): 40,000 tokens of up to 255 bytes, each on
// its line, fit.
const MaxFileTokens = 40000

// MaxTimeToLive is the longest Umeng keeps a push: policy.expire_time may
// be at most seven days after the start (or now).
const MaxTimeToLive = 7 * 24 * time.Hour

// Client is an Umeng U-Push server API client. It implements
// provider.Provider, provider.StatusQuerier, provider.Canceler and
// provider.Validator, and may be used by many goroutines at once.
//
// No formatting of a Client shows a secret: *Client implements fmt.Formatter
// and slog.LogValuer, and the credentials sit behind a pointer, which fmt
// prints as an address when it meets it inside a value.
type Client struct {
	creds    *credentials
	baseURL  string
	timeout  time.Duration
	now      func() time.Time
	testMode bool
	strategy Strategy
	// fileFrom is Config.FilecastThreshold: token audiences of more than
	// MaxTokens are sent by file when it is set.
	fileFrom int
	// huawei is Config.HuaweiServiceCategory.
	huawei string
	quotas Quotas
	limits *provider.Limiters[quotaKey]
	http   *resty.Client
	log    *slog.Logger
}

var (
	_ provider.Provider      = (*Client)(nil)
	_ provider.StatusQuerier = (*Client)(nil)
	_ provider.Canceler      = (*Client)(nil)
	_ provider.Validator     = (*Client)(nil)
)

// canonicalBaseURL returns a base URL validate accepted with its scheme and
// host in lower case and no trailing slash. The sign covers the URL as
// Umeng sees it, and Umeng sees the scheme and host in lower case: an
// "HTTPS://MsgAPI.umeng.com" signed as written would be refused (2027).
func canonicalBaseURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return strings.TrimRight(raw, "/")
	}
	return strings.ToLower(u.Scheme) + "://" + strings.ToLower(u.Host) + strings.TrimRight(u.EscapedPath(), "/")
}

// New returns a Client for cfg, after applying the documented defaults. It
// fails, naming the field, when cfg is invalid.
func New(cfg Config) (*Client, error) {
	cfg = cfg.withDefaults()
	if err := cfg.validate(); err != nil {
		return nil, err
	}
	// A copy of the caller's client, with a transport that keeps enough
	// idle connections when it has none (see vendorhttp.Client).
	rc := resty.NewWithClient(vendorhttp.Client(cfg.HTTPClient)).
		SetLogger(discardLogger{}).
		SetDisableWarn(true).
		SetRetryCount(0)
	c := &Client{
		creds:    newCredentials(cfg.IOS, cfg.Android),
		baseURL:  canonicalBaseURL(cfg.BaseURL),
		timeout:  cfg.Timeout,
		now:      cfg.Now,
		testMode: cfg.TestMode,
		strategy: cfg.Strategy,
		fileFrom: cfg.FilecastThreshold,
		huawei:   cfg.HuaweiServiceCategory,
		quotas:   cfg.Quotas,
		limits:   provider.NewLimiters(cfg.Quotas.quota),
		http:     rc,
		log:      cfg.Logger,
	}
	for _, p := range provider.Platforms() {
		if err := c.checkDefaults(p); err != nil {
			return nil, err
		}
	}
	if d := cfg.Android.Defaults; cfg.Android.configured() && d.ChannelProperties.ChannelActivity == "" && !d.MiPush {
		// Umeng requires it for the phone makers' channels: without it a
		// notification reaches those phones only while the app runs.
		if everyClassHasActivity(cfg.Android) {
			c.log.Warn("umeng: the Android app's Defaults set no channel_properties.channel_activity, only its ClassDefaults do: a notification without a class reaches Xiaomi, Huawei, Honor, OPPO, vivo and Meizu phones only while the app runs, unless it sets one")
		} else {
			c.log.Warn("umeng: the Android app's Defaults set no channel_properties.channel_activity: notifications reach Xiaomi, Huawei, Honor, OPPO, vivo and Meizu phones only while the app runs, unless each push sets one")
		}
	}
	return c, nil
}

// everyClassHasActivity reports whether the ClassDefaults of both classes
// set channel_properties.channel_activity (a notification without a class
// still has none).
func everyClassHasActivity(a App) bool {
	for _, class := range []provider.Class{provider.ClassService, provider.ClassMarketing} {
		if a.ClassDefaults[class].ChannelProperties.ChannelActivity == "" {
			return false
		}
	}
	return true
}

// checkDefaults builds a sample send of a configured platform with its
// App.Defaults, so that Defaults that no send could use fail New rather
// than every send. The error names the field under "<platform>.defaults.".
func (c *Client) checkDefaults(p provider.Platform) error {
	app := c.creds.app(p)
	if !app.configured() {
		return nil
	}
	check := func(class provider.Class, prefix string) error {
		sample := &provider.Request{
			Platform:     p,
			Audience:     provider.Audience{Kind: provider.AudienceBroadcast},
			Notification: provider.Notification{Title: "title", Body: "body", Class: class},
		}
		if _, _, err := c.buildSend(sample, app); err != nil {
			return fmt.Errorf("umeng: invalid config: %w", provider.Refield(err, "overrides.umeng.", prefix))
		}
		return nil
	}
	if !reflect.ValueOf(app.Defaults).IsZero() {
		if err := check("", string(p)+".defaults."); err != nil {
			return err
		}
	}
	for _, class := range []provider.Class{provider.ClassService, provider.ClassMarketing} {
		if _, ok := app.ClassDefaults[class]; ok {
			if err := check(class, string(p)+".class_defaults."+string(class)+"."); err != nil {
				return err
			}
		}
	}
	return nil
}

// Name returns "umeng".
func (c *Client) Name() string { return Name }

// Capabilities describes what Send accepts for p. A platform without
// credentials, an unknown one, or any platform of a Client New did not
// make, gets the zero Capabilities: it supports no audience.
//
// Beyond the limits it declares: alias audiences need an AliasType
// (customizedcast's alias_type); a Send makes one call, or two with an
// upload (StrategyFilecast, or a batch by file with FilecastThreshold),
// each bounded by Config.Timeout, so SendTimeout is Timeout times that; Umeng keeps a push at most seven days
// (policy.expire_time, MaxTimeToLive); and task receipts, which reach a
// final status, are polled at the caller's interval until the push
// expires (the zero Polling). Umeng names no token it refuses
// (TokenFailures false): a listcast with dead tokens is accepted.
func (c *Client) Capabilities(p provider.Platform) provider.Capabilities {
	if c.unbuilt() || !c.creds.app(p).configured() {
		return provider.Capabilities{}
	}
	limit := MaxAndroidPayloadBytes
	if p == provider.IOS {
		limit = MaxIOSPayloadBytes
	}
	calls, maxFile, maxFileBytes := 1, 0, 0
	if c.strategy == StrategyFilecast || c.fileFrom > 0 {
		calls = 2 // an upload, then the send
	}
	if c.fileFrom > 0 {
		maxFile, maxFileBytes = MaxFileTokens, maxUploadBytes
	}
	return provider.Capabilities{
		MaxTokens:       MaxTokens,
		FileThreshold:   c.fileFrom,
		MaxFileTokens:   maxFile,
		MaxFileBytes:    maxFileBytes,
		MaxPayloadBytes: limit,
		Audiences: []provider.AudienceKind{
			provider.AudienceTokens,
			provider.AudienceBroadcast,
			provider.AudienceAliases,
			provider.AudienceFilter,
			provider.AudienceFile,
		},
		NeedsAliasType: true,
		CallsPerSend:   calls,
		SendTimeout:    time.Duration(calls) * c.timeout,
		MaxTimeToLive:  MaxTimeToLive,
	}
}

// Post signs body with the App Master Secret of p and posts it, byte for
// byte, to path under BaseURL. It returns the "data" of a SUCCESS answer.
// It is the building block of Send, Status, Cancel and Upload, exported for
// the Umeng endpoints they do not wrap (/api/task/stat, /api/quota/query,
// /api/tag/…). body must be a JSON object and normally carries appkey and
// timestamp; Post does not add them.
//
// Errors are *provider.Error with Op "post", classified like Send's.
func (c *Client) Post(ctx context.Context, p provider.Platform, path string, body []byte) (json.RawMessage, error) {
	if c.unbuilt() {
		return nil, notBuilt(opPost)
	}
	app, err := c.appFor(opPost, p)
	if err != nil {
		return nil, err
	}
	if !strings.HasPrefix(path, "/") || strings.ContainsAny(path, "?#") {
		return nil, invalid("path", "must start with / and carry no query or fragment")
	}
	if t := bytes.TrimSpace(body); !json.Valid(t) || t[0] != '{' {
		return nil, invalid("body", "is not a JSON object")
	}
	a, err := c.post(ctx, opPost, p, app, path, body)
	if err != nil {
		return nil, err
	}
	return a.data, nil
}

// appFor returns the credentials for p, or the error for an unknown or
// unconfigured platform.
func (c *Client) appFor(op string, p provider.Platform) (App, error) {
	if !p.Valid() {
		return App{}, invalid("platform", "must be \"ios\" or \"android\", got \""+string(p)+"\"")
	}
	app := c.creds.app(p)
	if !app.configured() {
		return App{}, notConfigured(op, p)
	}
	return app, nil
}

// timestamp is Umeng's "timestamp" field: milliseconds, as a string.
func (c *Client) timestamp() string { return strconv.FormatInt(c.now().UnixMilli(), 10) }

// post makes one signed call. It never retries. The body is signed and sent
// exactly as given.
func (c *Client) post(ctx context.Context, op string, p provider.Platform, app App, path string, body []byte) (*answer, error) {
	if err := ctx.Err(); err != nil {
		e := transportError(op, err, false)
		c.logCall(ctx, op, p, path, 0, e)
		return nil, e
	}
	endpoint := c.baseURL + path
	sign := Sign(http.MethodPost, endpoint, body, app.AppMasterSecret)

	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	// Once the whole request is written Umeng may act on it, so a failure
	// after that point is Indeterminate rather than Temporary.
	ctx, written := provider.TraceWrite(ctx)

	resp, err := c.http.R().
		SetContext(ctx).
		SetHeader("Content-Type", "application/json").
		SetHeader("Accept", "application/json").
		SetQueryParam("sign", sign).
		SetBody(body).
		Post(endpoint)
	if err != nil {
		e := transportError(op, err, written(), append([]string{sign, app.AppMasterSecret}, c.otherSecrets()...)...)
		c.logCall(ctx, op, p, path, 0, e)
		return nil, e
	}
	a, err := decodeAnswer(op, resp.StatusCode(), resp.Header(), resp.Body(), c.now(), append([]string{sign, app.AppMasterSecret}, c.otherSecrets()...)...)
	if err != nil {
		c.logCall(ctx, op, p, path, resp.StatusCode(), err)
		return nil, err
	}
	c.logCall(ctx, op, p, path, resp.StatusCode(), nil)
	return a, nil
}

// logCall records one call at debug level. It never logs bodies, signs,
// URLs with their query or credentials.
func (c *Client) logCall(ctx context.Context, op string, p provider.Platform, path string, status int, err error) {
	attrs := []slog.Attr{
		slog.String("op", op),
		slog.String("platform", string(p)),
		slog.String("path", path),
		slog.Int("http_status", status),
	}
	if err == nil {
		c.log.LogAttrs(ctx, slog.LevelDebug, "umeng call succeeded", attrs...)
		return
	}
	attrs = append(attrs,
		slog.String("kind", provider.KindOf(err).String()),
		slog.String("code", provider.CodeOf(err)),
	)
	c.log.LogAttrs(ctx, slog.LevelDebug, "umeng call failed", attrs...)
}

// discardLogger silences resty, whose messages may quote request URLs.
type discardLogger struct{}

func (discardLogger) Errorf(string, ...any) {}
func (discardLogger) Warnf(string, ...any)  {}
func (discardLogger) Debugf(string, ...any) {}

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
