package getui

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/tuisong/push/internal/redacted"
	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// DefaultBaseURL is Getui's RestAPI v2 root. Every path is BaseURL + "/" +
// AppID + the API path.
const DefaultBaseURL = "https://restapi.getui.com/v2"

// DefaultTimeout bounds one HTTP call when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// DefaultTokenRefreshAhead is how long before its expiry a cached auth token
// is replaced when Config.TokenRefreshAhead is zero.
const DefaultTokenRefreshAhead = 10 * time.Minute

// Config configures a Client. AppID, AppKey and MasterSecret are required;
// every other field has a documented default.
//
// No fmt verb and no slog handler prints the master secret of a Config:
// Config implements fmt.Formatter and slog.LogValuer, and the secret is a
// Secret, which even fmt's reflection (a verb it cannot apply, a Config
// inside another struct) shows as an address at most.
type Config struct {
	// AppID is the Getui application id, the first segment of every path.
	// Getui runs one app for iOS and Android, so one Client serves both.
	// Required.
	AppID string
	// AppKey is the app's key, sent with auth and hashed into its sign.
	// Required.
	AppKey string
	// MasterSecret is the app's server secret, wrapped by NewSecret so that
	// no printer reaches it. It is only ever hashed into the auth sign: it
	// is never sent, logged or put in an error. Required, of at least 8
	// characters: New refuses a shorter one, which could not be scrubbed
	// from answers without mangling them, and is no Getui master secret.
	MasterSecret Secret
	// BaseURL is scheme, host and path prefix of the API. Default
	// DefaultBaseURL; Getui's host with another path than /v2 is refused.
	// Tests point it at package getuitest. Getui may move
	// an app to another host with code 301; the Client then uses the host
	// Getui names for the rest of its life (see the package documentation).
	BaseURL string
	// HTTPClient carries the requests. Default: a new client with its own
	// transport, which keeps up to 64 idle connections to the vendor (so that
	// concurrent sends reuse them). A client without a Transport gets that one. It is copied, never modified. Ignored when Resty is set.
	HTTPClient *http.Client
	// Resty, when set, is used instead of a client built from HTTPClient.
	// The Client sets headers, body and context per request and never
	// changes the resty client itself, whose retry count should be 0.
	Resty *resty.Client
	// Timeout bounds each HTTP call, including reading the answer.
	// Default DefaultTimeout; negative values, and values under a
	// millisecond (Timeout: 30 is 30 ns, not seconds), are rejected.
	Timeout time.Duration
	// Now is the clock for auth timestamps, token expiry, settings.ttl and
	// the status mapping. Default time.Now.
	Now func() time.Time
	// Logger receives one debug record per call (operation, platform, path,
	// HTTP status, error kind and code), never credentials, tokens or
	// bodies. Default: discard.
	Logger *slog.Logger
	// TokenRefreshAhead is how long before its expire_time a cached token is
	// replaced by a new auth call. Default DefaultTokenRefreshAhead; it must
	// lie in [0, 12h).
	TokenRefreshAhead time.Duration
	// DefaultTimeToLive is settings.ttl for a request without an
	// ExpireTime. Zero leaves settings.ttl out and Getui applies its own
	// default. It must lie in [0, MaxTimeToLive].
	DefaultTimeToLive time.Duration
	// HuaweiServiceCategory is the Huawei category Huawei granted the
	// Android app for its service messages (自分类权益), one of
	// provider.HuaweiServiceCategories ("EXPRESS", "IM", …). An Android
	// notification of provider.ClassService is sent with it as HW's
	// "/message/android/category", and one of provider.ClassMarketing with
	// "MARKETING" (a key the push's own Options.UpsOptions sets wins).
	// Empty: a service push carries no Huawei category, and Huawei counts
	// it as marketing (silent, and 2 or 5 a day per device).
	HuaweiServiceCategory string
	// ClassUpsOptions are push_channel.android.ups.options of the Android
	// notifications of one class (provider.ClassService or
	// provider.ClassMarketing), per maker as Options.UpsOptions: the phone
	// makers give each class a channel or category of its own, and drop
	// or cap a push that names none or the wrong one. Set here, for each
	// class, Xiaomi's channel (such as "XM": {"/extra.channel_id":
	// "orders"}), OPPO's channel and category ("OP": {"/channel_id": …,
	// "/category": …}) and vivo's category ("VV": {"/category": …}). A
	// push's own UpsOptions win key by key; a class's Huawei category
	// wins over HuaweiServiceCategory. New checks each class's as a push's
	// own, naming the field under "class_ups_options.<class>".
	ClassUpsOptions map[provider.Class]map[string]map[string]any
	// AuthQuota limits the auth calls that fetch a token. The goroutines of
	// a Client share one token and one auth call in flight, so the limit is
	// only met when tokens keep failing; a call that needs a new token then
	// makes no call and fails with a RateLimited error whose RetryAfter is
	// the wait for the next allowed auth. Default DefaultAuthQuota;
	// provider.Quota{Unlimited: true} switches it off.
	AuthQuota provider.Quota
	// TaskQuota limits the pushes to every device or to a tag (/push/all
	// and /push/tag: broadcasts and filters), which share one limit at
	// Getui: 100 a day per app, over which it answers 30007 or 30010. A
	// push over it makes no call and fails with a RateLimited error whose
	// RetryAfter is the wait for the next allowed push. Default
	// DefaultTaskQuota; provider.Quota{Unlimited: true} switches it off
	// (for an app whose limit Getui raised, set its own).
	TaskQuota provider.Quota
	// TaskRate limits the same pushes by the minute: Getui takes 5 a
	// minute per app (over it, codes 30012–30015). A push takes a token of
	// both or of neither. Default DefaultTaskRate; provider.Quota{Unlimited:
	// true} switches it off.
	TaskRate provider.Quota
}

// DefaultAuthQuota returns Getui's documented limit on auth: 100 calls a
// minute per app (RestAPI v2, "鉴权" — auth is limited to 100/min, and
// over it Getui answers code 10003).
func DefaultAuthQuota() provider.Quota { return provider.Quota{Calls: 100, Per: time.Minute} }

// DefaultTaskQuota returns Getui's documented limit on the pushes to
// every device and to a tag together: 100 a day per app (codes 30007 and
// 30010).
func DefaultTaskQuota() provider.Quota { return provider.Quota{Calls: 100, Per: 24 * time.Hour} }

// DefaultTaskRate returns Getui's documented rate for the pushes to every
// device and to a tag together: 5 a minute per app.
func DefaultTaskRate() provider.Quota { return provider.Quota{Calls: 5, Per: time.Minute} }

// String renders c with the master secret redacted.
func (c Config) String() string {
	return fmt.Sprintf("{AppID:%s AppKey:%s MasterSecret:%s BaseURL:%s Timeout:%v}",
		c.AppID, c.AppKey, c.MasterSecret.String(), c.BaseURL, c.Timeout)
}

// GoString renders c for %#v with the master secret redacted.
func (c Config) GoString() string { return "getui.Config" + c.String() }

// Format prints String for every verb (GoString for %#v, a quoted String
// for %q), so no verb or flag reaches the master secret.
func (c Config) Format(f fmt.State, verb rune) {
	redacted.Format(f, verb, c)
}

// LogValue makes slog record c without its master secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("app_id", c.AppID),
		slog.String("app_key", c.AppKey),
		slog.Bool("master_secret_set", !c.MasterSecret.IsZero()),
		slog.String("base_url", c.BaseURL),
	)
}

// MarshalJSON encodes LogValue's attributes, so that c nested where slog
// does not call LogValue (a slice, a field of the host's config) is
// logged by slog's JSON handler without its master secret. The encoding
// is for logs: it does not decode back into a Config.
func (c Config) MarshalJSON() ([]byte, error) { return redacted.JSON(c.LogValue()) }

// withDefaults returns c with every unset field given its documented default.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.Timeout == 0 {
		c.Timeout = DefaultTimeout
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	if c.TokenRefreshAhead == 0 {
		c.TokenRefreshAhead = DefaultTokenRefreshAhead
	}
	c.AuthQuota = c.AuthQuota.Or(DefaultAuthQuota())
	c.TaskQuota = c.TaskQuota.Or(DefaultTaskQuota())
	c.TaskRate = c.TaskRate.Or(DefaultTaskRate())
	return c
}

// validate checks a Config that has been through withDefaults and names
// the first bad field.
func (c Config) validate() error {
	for _, f := range []struct{ name, v string }{{"app_id", c.AppID}, {"app_key", c.AppKey}, {"master_secret", c.MasterSecret.value()}} {
		switch {
		case f.v == "":
			return configError(f.name, "is required")
		case strings.TrimSpace(f.v) != f.v || strings.ContainsAny(f.v, " \t\r\n/?#"):
			return configError(f.name, "has white space or a URL delimiter")
		}
	}
	if len(c.MasterSecret.value()) < minSecretLen {
		// Getui issues longer ones; one this short could not be scrubbed
		// from answers and errors without mangling them (see minSecretLen).
		return configError("master_secret", fmt.Sprintf("is shorter than %d characters: not a Getui master secret", minSecretLen))
	}
	if err := checkBaseURL("base_url", c.BaseURL); err != nil {
		return err
	}
	if p := vendorhttp.TimeoutProblem(c.Timeout); p != "" {
		return configError("timeout", p)
	}
	switch {
	case c.TokenRefreshAhead < 0 || c.TokenRefreshAhead >= 12*time.Hour:
		return configError("token_refresh_ahead", "must lie within [0, 12h)")
	case c.DefaultTimeToLive < 0 || c.DefaultTimeToLive > MaxTimeToLive:
		return configError("default_time_to_live", fmt.Sprintf("must lie within [0, %v]", MaxTimeToLive))
	}
	if err := c.AuthQuota.Check("auth_quota"); err != nil {
		return fmt.Errorf("getui: invalid config: %w", err)
	}
	if err := c.TaskQuota.Check("task_quota"); err != nil {
		return fmt.Errorf("getui: invalid config: %w", err)
	}
	if err := c.TaskRate.Check("task_rate"); err != nil {
		return fmt.Errorf("getui: invalid config: %w", err)
	}
	if err := provider.CheckHuaweiServiceCategory("huawei_service_category", c.HuaweiServiceCategory); err != nil {
		return fmt.Errorf("getui: invalid config: %w", err)
	}
	for _, class := range slices.Sorted(maps.Keys(c.ClassUpsOptions)) {
		if err := provider.CheckClassKey("class_ups_options", class); err != nil {
			return fmt.Errorf("getui: invalid config: %w", err)
		}
		if err := (&Options{UpsOptions: c.ClassUpsOptions[class]}).check(); err != nil {
			return fmt.Errorf("getui: invalid config: %w", provider.Refield(err, optionsField+".ups_options", "class_ups_options."+string(class)))
		}
		if err := checkClassUps(class, c.ClassUpsOptions[class]); err != nil {
			return fmt.Errorf("getui: invalid config: %w", err)
		}
	}
	return nil
}

// checkClassUps refuses the makers' options of class that contradict it
// (provider.CheckClassChannel): Huawei's category and importance, Honor's
// importance, vivo's classification (its own, and the one every maker
// reads, ALL's); and vivo's category, its own and ALL's, as
// provider.CheckVivoCategory checks it against the class.
func checkClassUps(class provider.Class, ups map[string]map[string]any) error {
	f := func(maker, key string) string { return entry(entry("class_ups_options."+string(class), maker), key) }
	str := func(maker, key string) string { s, _ := ups[maker][key].(string); return s }
	classification := func(maker string) (*int, error) {
		n, err := classificationIn(ups, maker)
		if err != nil {
			return nil, &provider.FieldError{Field: f(maker, vivoClassification), Reason: err.Error()}
		}
		return n, nil
	}
	vivo, err := classification(MakerVivo)
	if err != nil {
		return err
	}
	if err := provider.CheckClassChannel(class, provider.ClassChannelFields{HuaweiCategory: f(MakerHuawei, huaweiCategory),
		HuaweiImportance: f(MakerHuawei, huaweiImportance), VivoClassification: f(MakerVivo, vivoClassification)},
		str(MakerHuawei, huaweiCategory), str(MakerHuawei, huaweiImportance), vivo); err != nil {
		return err
	}
	// The classification every maker reads (ALL) is vivo's too where its
	// own has none: it must not contradict the class either.
	if vivo == nil {
		all, err := classification(MakerAll)
		if err != nil {
			return err
		}
		if err := provider.CheckClassChannel(class, provider.ClassChannelFields{VivoClassification: f(MakerAll, vivoClassification)}, "", "", all); err != nil {
			return err
		}
	}
	if err := checkVivoCategoryIn("class_ups_options."+string(class), ups, provider.VivoClassification(class)); err != nil {
		return err
	}
	return provider.CheckClassChannel(class, provider.ClassChannelFields{HuaweiImportance: f(MakerHonor, honorImportance)},
		"", str(MakerHonor, honorImportance), nil)
}

// checkBaseURL reports a base URL field that vendorhttp.BaseURLProblem
// refuses, or that names Getui's own host without the API's version
// (https://restapi.getui.com, whose every call Getui would answer 404).
func checkBaseURL(field, raw string) error {
	if p := vendorhttp.BaseURLProblem(raw); p != "" {
		return configError(field, p)
	}
	if u, _ := url.Parse(raw); strings.EqualFold(strings.TrimSuffix(u.Hostname(), "."), getuiHost) && strings.TrimRight(u.Path, "/") != "/v2" {
		return configError(field, fmt.Sprintf("names Getui's host with the path %q: its RestAPI v2 is at %s, and the Client adds each call's path to it", u.Path, DefaultBaseURL))
	}
	return nil
}

// getuiHost is the host of DefaultBaseURL.
const getuiHost = "restapi.getui.com"

// configError reports a bad Config field, wrapping a *provider.FieldError so
// that provider.FieldOf finds it.
func configError(field, reason string) error {
	return fmt.Errorf("getui: invalid config: %w", &provider.FieldError{Field: field, Reason: reason})
}
