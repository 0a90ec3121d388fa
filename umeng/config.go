package umeng

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/tuisong/push/internal/redacted"
	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// DefaultBaseURL is Umeng's production API host.
const DefaultBaseURL = "https://msgapi.umeng.com"

// DefaultTimeout bounds one HTTP call when Config.Timeout is zero. Umeng
// recommends a one-minute timeout for its send API.
const DefaultTimeout = time.Minute

// Strategy chooses the cast type for a token audience.
type Strategy int

const (
	// StrategyListcast sends one token as a unicast and 2–500 tokens as a
	// listcast. Umeng does not rate-limit these casts, but answers with a
	// msg_id that its status API cannot report on, so receipts are not
	// pollable. It is the default.
	StrategyListcast Strategy = iota
	// StrategyFilecast uploads the tokens with /upload and sends a filecast.
	// The receipt carries a pollable task id, at the cost of a second call and
	// Umeng's production limit of 300 file casts per hour.
	StrategyFilecast
)

// String returns "listcast" or "filecast".
func (s Strategy) String() string {
	switch s {
	case StrategyListcast:
		return "listcast"
	case StrategyFilecast:
		return "filecast"
	}
	return fmt.Sprintf("strategy(%d)", int(s))
}

// App holds the server credentials of one Umeng app. Umeng runs iOS and
// Android as separate apps, each with its own appkey and App Master Secret
// (the "Umeng Message Secret" belongs to the device SDK and is not used here).
//
// The zero App means "not configured". String, GoString and LogValue never
// reveal the secret, so an App may be printed or logged safely.
type App struct {
	AppKey          string
	AppMasterSecret string
	// Defaults are Options every send of this app starts from: each
	// request's own Options (Request.Overrides["umeng"]) are laid over them
	// field by field, the request winning. A field the request sets
	// replaces the default; maps merge key by key; ChannelProperties and
	// LocalProperties merge field by field; SetBadge and AddBadge are taken
	// together from the request when it sets either; a default IOSBadge
	// yields to the request's Notification.Badge; a bool can only be
	// switched on. The merged Options are checked like a request's own.
	// Above all set ChannelProperties.ChannelActivity here: Umeng's
	// documentation calls it required for the phone makers' channels.
	// New checks the Defaults with a sample notification and refuses them,
	// naming the field under "<platform>.defaults.", if that fails.
	Defaults Options
	// ClassDefaults are Options for the notifications of one class
	// (provider.ClassService or provider.ClassMarketing), laid over
	// Defaults as a request's own Options are, the request winning over
	// both. The phone makers give each class a channel of its own: set
	// here Xiaomi's xiaomi_channel_id, OPPO's oppo_channel_id and
	// oppo_category and vivo's vivo_category of each class, rather than
	// one in Defaults that would send both classes through the same
	// channel. A class's huawei_channel_category wins over
	// Config.HuaweiServiceCategory and the marketing category. A
	// notification without a class uses Defaults alone. New checks each
	// class's Options laid over Defaults with a sample notification of
	// that class, naming the field under "<platform>.class_defaults.<class>.".
	// New copies Defaults and ClassDefaults whole, maps and pointers
	// inside them included: what the caller changes in its own after New
	// changes no send.
	ClassDefaults map[provider.Class]Options
}

// configured reports whether a has credentials at all; validate rejects a
// half-filled App.
func (a App) configured() bool { return a.AppKey != "" && a.AppMasterSecret != "" }

// String renders a with its secret redacted.
func (a App) String() string {
	secret := ""
	if a.AppMasterSecret != "" {
		secret = "REDACTED"
	}
	return fmt.Sprintf("{AppKey:%s AppMasterSecret:%s}", a.AppKey, secret)
}

// GoString renders a for %#v with its secret redacted.
func (a App) GoString() string { return "umeng.App" + a.String() }

// Format prints String for every verb (GoString for %#v, a quoted String
// for %q), so no verb or flag reaches the secret.
func (a App) Format(f fmt.State, verb rune) { redacted.Format(f, verb, a) }

// LogValue makes slog print a without its secret.
func (a App) LogValue() slog.Value {
	return slog.GroupValue(slog.String("app_key", a.AppKey), slog.Bool("secret_set", a.AppMasterSecret != ""))
}

// MarshalJSON encodes LogValue's attributes, so that an App nested where
// slog does not call LogValue (a slice, a field of the host's config) is
// logged by slog's JSON handler without its secret. The encoding is for
// logs: it does not decode back into an App.
func (a App) MarshalJSON() ([]byte, error) { return redacted.JSON(a.LogValue()) }

func (a App) validate(prefix string) error {
	if err := checkPlatformOptions(provider.Platform(prefix), prefix+".defaults.", a.Defaults); err != nil {
		return err
	}
	for _, c := range slices.Sorted(maps.Keys(a.ClassDefaults)) {
		if err := provider.CheckClassKey(prefix+".class_defaults", c); err != nil {
			return fmt.Errorf("umeng: invalid config: %w", err)
		}
		if err := checkPlatformOptions(provider.Platform(prefix), prefix+".class_defaults."+string(c)+".", a.ClassDefaults[c]); err != nil {
			return err
		}
		cp := a.ClassDefaults[c].ChannelProperties
		f := prefix + ".class_defaults." + string(c) + ".channel_properties."
		if err := provider.CheckClassChannel(c, provider.ClassChannelFields{HuaweiCategory: f + "huawei_channel_category",
			HuaweiImportance: f + "huawei_channel_importance"}, cp.HuaweiChannelCategory, string(cp.HuaweiChannelImportance), nil); err != nil {
			return fmt.Errorf("umeng: invalid config: %w", err)
		}
		if err := provider.CheckVivoCategory(f+"vivo_category", cp.VivoCategory, provider.VivoClassification(c)); err != nil {
			return fmt.Errorf("umeng: invalid config: %w", err)
		}
	}
	switch {
	case a.AppKey == "" && a.AppMasterSecret == "":
		return nil
	case a.AppKey == "":
		return configError(prefix+".app_key", "is required when app_master_secret is set")
	case a.AppMasterSecret == "":
		return configError(prefix+".app_master_secret", "is required when app_key is set")
	case strings.TrimSpace(a.AppKey) != a.AppKey:
		return configError(prefix+".app_key", "has leading or trailing white space")
	case strings.TrimSpace(a.AppMasterSecret) != a.AppMasterSecret:
		return configError(prefix+".app_master_secret", "has leading or trailing white space")
	case !vendorhttp.Printable(a.AppKey):
		return configError(prefix+".app_key", "holds a control character or is not valid UTF-8")
	case !vendorhttp.Printable(a.AppMasterSecret):
		// A paste error: Umeng's secrets are 32 letters and digits. The
		// secret itself is never echoed.
		return configError(prefix+".app_master_secret", "holds a control character or is not valid UTF-8")
	case len(a.AppMasterSecret) < minSecretLen:
		// Every answer is scrubbed of the secret before it is read: one
		// this short would mangle the answers of accepted sends, which
		// would then be taken for lost and sent again.
		return configError(prefix+".app_master_secret", fmt.Sprintf("is shorter than %d characters: not an Umeng App Master Secret", minSecretLen))
	}
	return nil
}

// checkPlatformOptions refuses, in the Options of p's App (its Defaults
// or a class's), an option that only the other platform's sends carry
// (see [Options]: a request's Options serve both platforms, an App's only
// its own), since there it would silently do nothing. field prefixes the
// option's JSON name in the error.
func checkPlatformOptions(p provider.Platform, field string, o Options) error {
	v := reflect.ValueOf(o)
	for _, f := range reflect.VisibleFields(v.Type()) {
		only, ok := platformOptions[f.Name]
		if !ok || only == p || v.FieldByIndex(f.Index).IsZero() {
			continue
		}
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		return configError(field+name, fmt.Sprintf("is an %s option: the %s app's sends do not carry it", platformName(only), platformName(p)))
	}
	return nil
}

// platformName is how errors name p.
func platformName(p provider.Platform) string {
	if p == provider.IOS {
		return "iOS"
	}
	return "Android"
}

// platformOptions names, by Options field, the options of one platform
// only (marked "Android." or "iOS." in their documentation).
var platformOptions = map[string]provider.Platform{
	"DisplayType": provider.Android, "AfterOpen": provider.Android, "URL": provider.Android, "Activity": provider.Android,
	"Custom": provider.Android, "Ticker": provider.Android, "Icon": provider.Android, "LargeIcon": provider.Android,
	"Img": provider.Android, "BigBody": provider.Android, "ExpandImage": provider.Android, "RePop": provider.Android,
	"BuilderID": provider.Android, "PlayVibrate": provider.Android, "PlayLights": provider.Android, "PlaySound": provider.Android,
	"SetBadge": provider.Android, "AddBadge": provider.Android, "ChannelProperties": provider.Android,
	"LocalProperties": provider.Android, "NotificationClosedFilter": provider.Android, "MiPush": provider.Android,
	"MiActivity":       provider.Android,
	"ContentAvailable": provider.IOS, "InterruptionLevel": provider.IOS, "IOSBadge": provider.IOS,
	"APNsCollapseID": provider.IOS, "IOSKeys": provider.IOS,
}

// Config configures a Client. The zero value of every field but the
// credentials is usable; at least one of IOS and Android must be set.
// Config implements fmt.Formatter, slog.LogValuer and json.Marshaler
// without the App Master Secrets, as App does, so that a host may log it
// whole: the base URL, the appkeys, the mode, timeout and strategy (not
// the apps' default options, the quotas or the HTTP client).
type Config struct {
	// BaseURL is scheme and host (and an optional path prefix) of the API.
	// Default DefaultBaseURL. Tests point it at a fake such as umengtest.
	BaseURL string
	// IOS and Android are the credentials of the two Umeng apps. A platform
	// whose App is zero is not configured: Send and the other calls for it
	// fail with an Auth error naming the platform.
	IOS     App
	Android App
	// TestMode sends production_mode "false". On Android, Umeng's test
	// mode narrows broadcast and groupcast to the app's registered test
	// devices; every other cast (unicast, listcast, filecast,
	// customizedcast) still reaches its devices, so TestMode does not keep
	// those from real users. On iOS, test mode is the APNs sandbox: every
	// cast goes through Apple's development gateway with the app's
	// development certificate, and so reaches only builds signed for
	// development (production tokens fail). Umeng's send limits (broadcast
	// 10 a day and so on) are production limits. Default false, that is
	// production.
	TestMode bool
	// HTTPClient carries the requests. Default: a new client with its own
	// transport, which keeps up to 64 idle connections to the vendor (so that
	// concurrent sends reuse them). A client without a Transport gets that one. The client is copied, never modified; its Timeout, if set,
	// applies on top of Timeout.
	HTTPClient *http.Client
	// Timeout bounds each HTTP call, including reading the answer.
	// Default DefaultTimeout; negative values, and values under a
	// millisecond (Timeout: 30 is 30 ns, not seconds), are rejected.
	Timeout time.Duration
	// Now is the clock for timestamps, schedule checks and Retry-After
	// dates. Default time.Now.
	Now func() time.Time
	// Logger receives debug records of each call (operation, platform, path,
	// HTTP status, error kind and code), never credentials, signs or
	// bodies. Default: discard.
	Logger *slog.Logger
	// Strategy chooses how token audiences are sent. Default
	// StrategyListcast.
	Strategy Strategy
	// FilecastThreshold, when set, sends a platform's token audience of at
	// least this many tokens by file: the push.Service makes batches of up
	// to MaxFileTokens (and 10 MB of file), and each is uploaded and sent
	// as one filecast (two calls, a pollable task) instead of up to 80
	// listcasts; a last batch of MaxTokens or fewer goes as a listcast. Filecasts
	// count against Quotas.Filecast (Umeng's 300 an hour per app), so set
	// it for the large audiences only. It must be 0 (never, the default)
	// or more than MaxTokens. Deliveries recorded by file while it was set
	// are refused if it is unset before they are sent.
	FilecastThreshold int
	// HuaweiServiceCategory is the Huawei category Huawei granted the
	// Android app for its service messages (自分类权益), one of
	// provider.HuaweiServiceCategories ("EXPRESS" for orders and
	// deliveries, "IM" for chats, …). An Android notification of
	// provider.ClassService is sent with it as
	// channel_properties.huawei_channel_category, and one of
	// provider.ClassMarketing with "MARKETING" (a category set in the
	// push's own ChannelProperties wins). Empty: a service push carries no
	// category, and Huawei counts it as marketing (silent, and 2 or 5 a
	// day per device), whatever its importance.
	HuaweiServiceCategory string
	// Quotas limit the task casts of each app (iOS and Android apart) to
	// Umeng's production limits. A send that would exceed one makes no
	// call and fails with a RateLimited error whose RetryAfter is the wait
	// for the next allowed call. Default DefaultQuotas, field by field;
	// with TestMode, which Umeng does not limit, a zero field is
	// unlimited.
	Quotas Quotas
}

// Quotas are the limits of Umeng's task casts, one token bucket per app
// and field. A zero field takes its default from DefaultQuotas;
// provider.Quota{Unlimited: true} switches it off (for an app whose limits
// Umeng raised, or a test against a fake). Unicast, listcast and
// customizedcast by alias are not limited.
type Quotas struct {
	// Broadcast limits broadcasts. Default 10 a day.
	Broadcast provider.Quota
	// Groupcast limits groupcasts (filter, group id or tags). Default 5 a
	// minute.
	Groupcast provider.Quota
	// Filecast limits filecasts, and customizedcasts by file_id in a
	// bucket of their own. Default 300 an hour.
	Filecast provider.Quota
}

// DefaultQuotas returns Umeng's documented production limits per app:
// broadcast 10 a day, groupcast 5 a minute, filecast and customizedcast by
// file 300 an hour, unicast and listcast unlimited (Umeng's U-Push server
// API documentation, its call limits, as recorded in the team's protocol
// notes).
func DefaultQuotas() Quotas {
	return Quotas{
		Broadcast: provider.Quota{Calls: 10, Per: 24 * time.Hour},
		Groupcast: provider.Quota{Calls: 5, Per: time.Minute},
		Filecast:  provider.Quota{Calls: 300, Per: time.Hour},
	}
}

// withDefaults returns q with every zero field taken from DefaultQuotas,
// or, in test mode, which Umeng does not limit, made Unlimited.
func (q Quotas) withDefaults(testMode bool) Quotas {
	def := DefaultQuotas()
	if testMode {
		off := provider.Quota{Unlimited: true}
		def = Quotas{Broadcast: off, Groupcast: off, Filecast: off}
	}
	q.Broadcast = q.Broadcast.Or(def.Broadcast)
	q.Groupcast = q.Groupcast.Or(def.Groupcast)
	q.Filecast = q.Filecast.Or(def.Filecast)
	return q
}

func (q Quotas) validate() error {
	for _, f := range []struct {
		name string
		q    provider.Quota
	}{{"quotas.broadcast", q.Broadcast}, {"quotas.groupcast", q.Groupcast}, {"quotas.filecast", q.Filecast}} {
		if err := f.q.Check(f.name); err != nil {
			return fmt.Errorf("umeng: invalid config: %w", err)
		}
	}
	return nil
}

// String renders c's settings with the App Master Secrets redacted.
func (c Config) String() string {
	return fmt.Sprintf("{BaseURL:%s IOS:%s Android:%s TestMode:%t Timeout:%s Strategy:%s FilecastThreshold:%d HuaweiServiceCategory:%s}",
		c.BaseURL, c.IOS, c.Android, c.TestMode, c.Timeout, c.Strategy, c.FilecastThreshold, c.HuaweiServiceCategory)
}

// GoString renders c for %#v with the App Master Secrets redacted.
func (c Config) GoString() string { return "umeng.Config" + c.String() }

// Format prints String for every verb (GoString for %#v, a quoted String
// for %q), so no verb or flag reaches a secret.
func (c Config) Format(f fmt.State, verb rune) { redacted.Format(f, verb, c) }

// LogValue makes slog record c without the App Master Secrets (and
// without its HTTPClient, Logger and Now, which slog's JSON handler cannot
// encode).
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("base_url", c.BaseURL),
		slog.String("ios_app_key", c.IOS.AppKey),
		slog.Bool("ios_secret_set", c.IOS.AppMasterSecret != ""),
		slog.String("android_app_key", c.Android.AppKey),
		slog.Bool("android_secret_set", c.Android.AppMasterSecret != ""),
		slog.Bool("test_mode", c.TestMode),
		slog.Duration("timeout", c.Timeout),
		slog.String("strategy", c.Strategy.String()),
		slog.Int("filecast_threshold", c.FilecastThreshold),
		slog.String("huawei_service_category", c.HuaweiServiceCategory),
	)
}

// MarshalJSON encodes LogValue's attributes, so that c nested where slog
// does not call LogValue (a slice, a field of the host's config) is
// logged by slog's JSON handler without its secrets. The encoding is for
// logs: it does not decode back into a Config.
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
	c.Quotas = c.Quotas.withDefaults(c.TestMode)
	return c
}

// validate checks a Config that has been through withDefaults.
func (c Config) validate() error {
	if p := vendorhttp.BaseURLProblem(c.BaseURL); p != "" {
		return configError("base_url", p)
	}
	if err := c.IOS.validate("ios"); err != nil {
		return err
	}
	if err := c.Android.validate("android"); err != nil {
		return err
	}
	if !c.IOS.configured() && !c.Android.configured() {
		return configError("ios/android", "at least one platform needs an app key and app master secret")
	}
	if c.IOS.configured() && c.IOS.AppKey == c.Android.AppKey {
		// A paste error: receipts and status answers name the app by its
		// key, and could not tell the platforms apart.
		return configError("android.app_key", "is the iOS app's key: Umeng runs iOS and Android as two apps, each with its own appkey")
	}
	if p := vendorhttp.TimeoutProblem(c.Timeout); p != "" {
		return configError("timeout", p)
	}
	if c.Strategy != StrategyListcast && c.Strategy != StrategyFilecast {
		return configError("strategy", fmt.Sprintf("unknown strategy %d", int(c.Strategy)))
	}
	if c.FilecastThreshold != 0 && c.FilecastThreshold <= MaxTokens {
		return configError("filecast_threshold", fmt.Sprintf("must be 0 or more than %d (one listcast's tokens), got %d", MaxTokens, c.FilecastThreshold))
	}
	if err := provider.CheckHuaweiServiceCategory("huawei_service_category", c.HuaweiServiceCategory); err != nil {
		return fmt.Errorf("umeng: invalid config: %w", err)
	}
	return c.Quotas.validate()
}

// configError reports a bad Config field. It wraps a *provider.FieldError so
// callers can find the field with provider.FieldOf.
func configError(field, reason string) error {
	return fmt.Errorf("umeng: invalid config: %w", &provider.FieldError{Field: field, Reason: reason})
}

// minSecretLen is the shortest App Master Secret New accepts. Umeng's are
// 32 characters; a secret of a few letters would be scrubbed out of every
// word of an answer that holds them.
const minSecretLen = 8
