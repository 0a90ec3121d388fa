package jpush

import (
	"fmt"
	"log/slog"
	"maps"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/go-resty/resty/v2"

	"github.com/tuisong/push/internal/redacted"
	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// DefaultBaseURL is the host of JPush's Push API v3.
const DefaultBaseURL = "https://api.jpush.cn"

// DefaultReportBaseURL is the host of JPush's Report API v3.
const DefaultReportBaseURL = "https://report.jpush.cn"

// DefaultTimeout bounds one HTTP call when Config.Timeout is zero.
const DefaultTimeout = 30 * time.Second

// Config configures a Client. AppKey and MasterSecret are required; every
// other field has a documented default.
//
// A Config printed with any fmt verb or logged with slog never shows the
// master secret.
type Config struct {
	// AppKey identifies the JPush application. JPush runs one app for every
	// platform, so one key serves iOS and Android alike. Required; New
	// refuses one with leading or trailing white space, a colon or a
	// control character, or not valid UTF-8.
	AppKey string
	// MasterSecret is the app's server secret, the password of HTTP Basic
	// authentication. Required, and at least 8 characters (JPush's are
	// 24): New refuses a shorter one as no master secret, and one with
	// leading or trailing white space or a control character, or not
	// valid UTF-8, as a paste error. It never appears in errors, logs or
	// receipts.
	MasterSecret string
	// BaseURL is scheme and host (and an optional path prefix) of the Push
	// API. Default DefaultBaseURL. Tests point it at jpushtest.
	BaseURL string
	// ReportBaseURL is scheme and host of the Report API that Status and
	// MessageStatus call. Default: DefaultReportBaseURL when BaseURL is
	// unset or one of JPush's hosts (under jpush.cn or jiguang.cn), else
	// BaseURL, so that a client pointed at jpushtest (which serves both
	// APIs on one URL) or at a gateway of the host's never polls the real
	// Report API with its credentials unless told to. A gateway that
	// forwards only the Push API needs ReportBaseURL set.
	ReportBaseURL string
	// HTTPClient carries the requests. Default: a new client with its own
	// transport, which keeps up to 64 idle connections to the vendor (so that
	// concurrent sends reuse them). A client without a Transport gets that one. The client is copied, never modified; its Timeout, if set,
	// applies on top of Timeout. Ignored when Resty is set.
	HTTPClient *http.Client
	// Resty, when set, is the resty client used instead of one built from
	// HTTPClient. The Client sets the request's auth, headers, body and
	// context on each call and never changes the resty client itself, so
	// its retry count should be 0: providers never retry. Default nil.
	Resty *resty.Client
	// Timeout bounds each HTTP call, including reading the answer.
	// Default DefaultTimeout; negative values, and values under a
	// millisecond (Timeout: 30 is 30 ns, not seconds), are rejected.
	Timeout time.Duration
	// Now is the clock for time_to_live, schedule checks and the status
	// mapping. Default time.Now.
	Now func() time.Time
	// Logger receives one debug record per call (operation, platform, path,
	// HTTP status, error kind and code), never credentials or bodies.
	// Default: discard.
	Logger *slog.Logger
	// APNsSandbox sends iOS notifications through the APNs sandbox
	// (options.apns_production false, sent on every push), for development
	// builds of the app. Default false: production APNs, which is also what
	// JPush does when the field is left out. (JPush's own server SDKs
	// default to the sandbox, so App Store builds received nothing from a
	// host that forgot the setting while every push was answered
	// success.)
	APNsSandbox bool
	// DefaultTimeToLive is options.time_to_live for a request without an
	// ExpireTime, and the lifetime Status assumes for the messages it sent.
	// Zero leaves time_to_live out, and JPush keeps offline messages for
	// its own default, one day, which Status then assumes. It must lie in
	// [0, MaxTimeToLiveOrdinary], or [0, MaxTimeToLive] with VIP.
	DefaultTimeToLive time.Duration
	// VIP says the app has JPush's VIP service, which keeps offline
	// messages for up to MaxTimeToLive (ten days) instead of
	// MaxTimeToLiveOrdinary (three). It raises the longest time_to_live the
	// client sends (ExpireTimes further off are clamped to it) and the
	// Capabilities.MaxTimeToLive it declares.
	VIP bool
	// Quota limits the pushes of the app (Send and ValidateRemote, which
	// JPush counts alike): a push over it makes no call and fails with a
	// RateLimited error whose RetryAfter is the wait for the next allowed
	// push. Default DefaultQuota; provider.Quota{Unlimited: true} switches
	// it off, and a paid plan's higher limit is set here.
	Quota provider.Quota
	// DisableCID stops Send from giving pushes a cid. With it unset (the
	// default), every request with an IdempotencyKey carries the key's cid,
	// fetched from GET /v3/push/cid ten at a time, and JPush answers a
	// retry of an accepted push with its first result instead of pushing
	// again. Set it for an app whose credentials may not call that API.
	DisableCID bool
	// HuaweiServiceCategory is the Huawei category Huawei granted the
	// Android app for its service messages (自分类权益), one of
	// provider.HuaweiServiceCategories ("EXPRESS", "IM", …). An Android
	// notification of provider.ClassService is sent with it as
	// third_party_channel.huawei.category, and one of
	// provider.ClassMarketing with "MARKETING" (a category the push's own
	// Options.ThirdPartyChannel["huawei"] sets wins). Empty: a service push
	// carries no Huawei category, and Huawei counts it as marketing
	// (silent, and 2 or 5 a day per device).
	HuaweiServiceCategory string
	// ClassChannels are the options.third_party_channel entries of the
	// Android notifications of one class (provider.ClassService or
	// provider.ClassMarketing; the class Options.Classification names,
	// when set): the phone makers give each class a channel of its own,
	// and drop or cap a push that names none or the wrong one. Set here
	// Xiaomi's and OPPO's channel_id and vivo's and OPPO's category of
	// each class. A push's own Options.ThirdPartyChannel wins, maker by
	// maker and field by field; a class's huawei category wins over
	// HuaweiServiceCategory. New checks each class's entries as a push's
	// own, naming the field under "class_channels.<class>".
	ClassChannels map[provider.Class]map[string]ThirdPartyChannel
}

// DefaultQuota returns JPush's documented limit of the free plan: 600
// pushes a minute per appkey ("API 频率控制" in JPush's REST API
// documentation; the X-Rate-Limit-Quota header of every answer gives an
// app's own limit).
func DefaultQuota() provider.Quota { return provider.Quota{Calls: 600, Per: time.Minute} }

// String renders c with the master secret redacted.
func (c Config) String() string {
	secret := ""
	if c.MasterSecret != "" {
		secret = "REDACTED"
	}
	return fmt.Sprintf("{AppKey:%s MasterSecret:%s BaseURL:%s ReportBaseURL:%s APNsSandbox:%t}",
		c.AppKey, secret, c.BaseURL, c.ReportBaseURL, c.APNsSandbox)
}

// GoString renders c for %#v with the master secret redacted.
func (c Config) GoString() string { return "jpush.Config" + c.String() }

// Format prints String for every verb (GoString for %#v, a quoted String
// for %q), so no verb or flag reaches the master secret.
func (c Config) Format(f fmt.State, verb rune) { redacted.Format(f, verb, c) }

// LogValue makes slog record c without its master secret.
func (c Config) LogValue() slog.Value {
	return slog.GroupValue(
		slog.String("app_key", c.AppKey),
		slog.Bool("master_secret_set", c.MasterSecret != ""),
		slog.String("base_url", c.BaseURL),
		slog.String("report_base_url", c.ReportBaseURL),
		slog.Bool("apns_sandbox", c.APNsSandbox),
		slog.Bool("vip", c.VIP),
	)
}

// MarshalJSON encodes LogValue's attributes, so that c nested where slog
// does not call LogValue (a slice, a field of the host's config) is
// logged by slog's JSON handler without its master secret. The encoding
// is for logs: it does not decode back into a Config.
func (c Config) MarshalJSON() ([]byte, error) { return redacted.JSON(c.LogValue()) }

// jpushHost reports whether base is one of JPush's own hosts (under
// jpush.cn or jiguang.cn, such as api.jpush.cn or a data centre's
// bjapi.push.jiguang.cn), whose Report API is DefaultReportBaseURL; an
// unparsable base is left to validate.
func jpushHost(base string) bool {
	u, err := url.Parse(base)
	if err != nil {
		return true
	}
	h := strings.ToLower(u.Hostname())
	for _, d := range []string{"jpush.cn", "jiguang.cn"} {
		if h == d || strings.HasSuffix(h, "."+d) {
			return true
		}
	}
	return false
}

// withDefaults returns c with every unset field given its documented default.
func (c Config) withDefaults() Config {
	if c.BaseURL == "" {
		c.BaseURL = DefaultBaseURL
	}
	if c.ReportBaseURL == "" {
		c.ReportBaseURL = DefaultReportBaseURL
		if !jpushHost(c.BaseURL) {
			// A fake or a gateway: polls go where the pushes go, never
			// to the real Report API with a test's credentials.
			c.ReportBaseURL = c.BaseURL
		}
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
	c.Quota = c.Quota.Or(DefaultQuota())
	return c
}

// minSecretLen is the shortest master secret New accepts: a secret of a
// few letters would be scrubbed out of every word of an answer that holds
// them.
const minSecretLen = 8

// validate checks a Config that has been through withDefaults and names
// the first bad field.
func (c Config) validate() error {
	switch {
	case c.AppKey == "":
		return configError("app_key", "is required")
	case strings.TrimSpace(c.AppKey) != c.AppKey || strings.ContainsAny(c.AppKey, ":"):
		return configError("app_key", "has white space or a colon")
	case !vendorhttp.Printable(c.AppKey):
		return configError("app_key", "holds a control character or is not valid UTF-8")
	case c.MasterSecret == "":
		return configError("master_secret", "is required")
	case strings.TrimSpace(c.MasterSecret) != c.MasterSecret:
		return configError("master_secret", "has leading or trailing white space")
	case !vendorhttp.Printable(c.MasterSecret):
		// A paste error: JPush's master secrets are 24 letters and
		// digits, and one with a tab in it would fail every call as a wrong
		// secret. The secret itself is never echoed.
		return configError("master_secret", "holds a control character or is not valid UTF-8")
	case len(c.MasterSecret) < minSecretLen:
		// Answers and errors are scrubbed of the secret: one this short
		// would mangle them (JPush's master secrets are 24 characters).
		return configError("master_secret", fmt.Sprintf("is shorter than %d characters: not a JPush master secret", minSecretLen))
	}
	if err := checkBaseURL("base_url", c.BaseURL); err != nil {
		return err
	}
	if err := checkBaseURL("report_base_url", c.ReportBaseURL); err != nil {
		return err
	}
	if p := vendorhttp.TimeoutProblem(c.Timeout); p != "" {
		return configError("timeout", p)
	}
	if limit := c.maxTimeToLive(); c.DefaultTimeToLive < 0 || c.DefaultTimeToLive > limit {
		why := fmt.Sprintf("must lie within [0, %v]", limit)
		if !c.VIP && c.DefaultTimeToLive > limit && c.DefaultTimeToLive <= MaxTimeToLive {
			why += " (JPush keeps offline messages longer only for VIP apps: see vip)"
		}
		return configError("default_time_to_live", why)
	}
	if err := c.Quota.Check("quota"); err != nil {
		return fmt.Errorf("jpush: invalid config: %w", err)
	}
	if err := provider.CheckHuaweiServiceCategory("huawei_service_category", c.HuaweiServiceCategory); err != nil {
		return fmt.Errorf("jpush: invalid config: %w", err)
	}
	for _, class := range slices.Sorted(maps.Keys(c.ClassChannels)) {
		prefix := "class_channels." + string(class)
		if err := provider.CheckClassKey("class_channels", class); err != nil {
			return fmt.Errorf("jpush: invalid config: %w", err)
		}
		chs := c.ClassChannels[class]
		for _, maker := range []string{ChannelHuawei, ChannelHonor, ChannelVivo} {
			ch := chs[maker]
			f := prefix + "[" + strconv.Quote(maker) + "]."
			if err := provider.CheckClassChannel(class, provider.ClassChannelFields{HuaweiCategory: f + "category", HuaweiImportance: f + "importance",
				VivoClassification: f + "classification"}, huaweiOnly(maker, ch.Category), ch.Importance, ch.Classification); err != nil {
				return fmt.Errorf("jpush: invalid config: %w", err)
			}
			if maker == ChannelVivo {
				if err := provider.CheckVivoCategory(f+"category", ch.Category, provider.VivoClassification(class)); err != nil {
					return fmt.Errorf("jpush: invalid config: %w", err)
				}
			}
		}
		if err := (&Options{ThirdPartyChannel: chs}).checkCommon(); err != nil {
			return fmt.Errorf("jpush: invalid config: %w", provider.Refield(err, optionsField+".third_party_channel", prefix))
		}
	}
	return nil
}

// huaweiOnly is category when maker is Huawei's channel (the others'
// categories are their own, such as vivo's), else "".
func huaweiOnly(maker, category string) string {
	if maker != ChannelHuawei {
		return ""
	}
	return category
}

// checkBaseURL reports a base URL field that vendorhttp.BaseURLProblem
// refuses.
func checkBaseURL(field, raw string) error {
	if p := vendorhttp.BaseURLProblem(raw); p != "" {
		return configError(field, p)
	}
	return nil
}

// configError reports a bad Config field. It wraps a *provider.FieldError so
// callers can find the field with provider.FieldOf.
func configError(field, reason string) error {
	return fmt.Errorf("jpush: invalid config: %w", &provider.FieldError{Field: field, Reason: reason})
}

// maxTimeToLive is the longest time_to_live JPush gives the app.
func (c Config) maxTimeToLive() time.Duration {
	if c.VIP {
		return MaxTimeToLive
	}
	return MaxTimeToLiveOrdinary
}
