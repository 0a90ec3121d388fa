package serverenv

import (
	"encoding/json"
	"fmt"
	"maps"
	"net"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"
	_ "time/tzdata" // PUSH_DB_TIMEZONE on hosts without a zone database
	"unicode"
	"unicode/utf8"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
)

// Config is the configuration of examples/server and cmd/pushctl, read
// from the environment variables of the README's table.
type Config struct {
	Addr     string
	DBDriver string
	DBDSN    string
	// DBLocation is sqlstore.Options.Location (PUSH_DB_TIMEZONE): the
	// zone of the wall-clock times the tables hold, the zone of the NOW()
	// of the other programs that write them. Default UTC.
	DBLocation   *time.Location
	ScanInterval time.Duration
	RetryBase    time.Duration
	// CenterDefaultTitle is messagecenter.Config.DefaultTitle
	// (PUSH_CENTER_DEFAULT_TITLE): the title of a push row whose title is
	// NULL or blank, as the product brief's table allows; empty fails such
	// rows.
	CenterDefaultTitle string
	// CenterLeaveModes is messagecenter.Config.LeaveModes
	// (PUSH_CENTER_LEAVE_MODES, comma-separated): the notify modes another
	// program delivers from the same sys_message_center. Default none: the
	// server has no sms or email sender, and fails such rows.
	CenterLeaveModes []string
	APIToken         string
	UmengBaseURL     string
	AndroidKey       string
	AndroidSecret    string
	IOSKey           string
	IOSSecret        string
	ProductionMode   bool
	// FilecastThreshold is umeng.Config.FilecastThreshold: audiences of
	// at least this many tokens on a platform go by file; 0 never.
	FilecastThreshold int
	// AndroidChannelActivity and AndroidMainActivity are the Android app's
	// default channel_properties.channel_activity and main_activity, sent
	// with every Android push (see umeng.App.Defaults).
	AndroidChannelActivity string
	AndroidMainActivity    string
	// AndroidServiceChannels and AndroidMarketingChannels are the Android
	// app's channel_properties for the notifications of each class (see
	// umeng.App.ClassDefaults): the phone makers' channel ids and
	// categories of service and of marketing messages.
	AndroidServiceChannels   umeng.ChannelProperties
	AndroidMarketingChannels umeng.ChannelProperties
	// JPushClassChannels and GetuiClassUpsOptions are the phone makers'
	// channels of each class for JPush (jpush.Config.ClassChannels) and
	// Getui (getui.Config.ClassUpsOptions); nil when none is set.
	JPushClassChannels   map[provider.Class]map[string]jpush.ThirdPartyChannel
	GetuiClassUpsOptions map[provider.Class]map[string]map[string]any
	// ReceiptURL is the public URL of this server's receipt endpoint
	// (PathUmengReceipt), sent as receipt_url with every Umeng push (see
	// umeng.App.Defaults), and ReceiptSecret the shared secret the
	// endpoint requires in its query string: Umeng cannot send our bearer
	// token, so the endpoint is outside PUSH_API_TOKEN.
	ReceiptURL    string
	ReceiptSecret string
	// HuaweiServiceCategory is the Huawei category Huawei granted the
	// Android app for its service messages, given to every provider
	// (umeng, jpush and getui's Config.HuaweiServiceCategory).
	HuaweiServiceCategory string

	// JPush: one app for both platforms.
	JPushAppKey       string
	JPushMasterSecret string
	JPushBaseURL      string
	// JPushAPNsProduction is the negation of the JPush client's
	// APNsSandbox.
	JPushAPNsProduction bool
	// JPushVIP is the JPush client's VIP: the app keeps offline messages
	// for up to ten days instead of three.
	JPushVIP bool

	// Getui: one app for both platforms.
	GetuiAppID        string
	GetuiAppKey       string
	GetuiMasterSecret string
	GetuiBaseURL      string
}

// minReceiptSecret is the fewest characters UMENG_RECEIPT_SECRET may have:
// umeng.ReceiptHandler's.
const minReceiptSecret = umeng.MinReceiptSecret

// AndroidDefaults are the Options every Android push starts from.
func (c Config) AndroidDefaults() umeng.Options {
	o := c.IOSDefaults()
	o.ChannelProperties = umeng.ChannelProperties{
		ChannelActivity: c.AndroidChannelActivity,
		MainActivity:    c.AndroidMainActivity,
	}
	return o
}

// AndroidClassDefaults are the Options the Android pushes of each class
// start from, over AndroidDefaults; nil when neither class has any.
func (c Config) AndroidClassDefaults() map[provider.Class]umeng.Options {
	out := map[provider.Class]umeng.Options{}
	for class, cp := range map[provider.Class]umeng.ChannelProperties{
		provider.ClassService: c.AndroidServiceChannels, provider.ClassMarketing: c.AndroidMarketingChannels,
	} {
		if !reflect.ValueOf(cp).IsZero() {
			out[class] = umeng.Options{ChannelProperties: cp}
		}
	}
	if len(out) == 0 {
		return nil
	}
	return out
}

// strictJSON decodes the JSON object in the variable name into dst,
// strictly: a misspelt key is refused, not lost. what says what the
// object holds, for the error. An empty value leaves dst as it is.
func strictJSON(name, v, what string, dst any) error {
	if v == "" {
		return nil
	}
	dec := json.NewDecoder(strings.NewReader(v))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		return fmt.Errorf("%s: is not a JSON object of %s: %v", name, what, err)
	}
	if dec.More() {
		return fmt.Errorf("%s: has data after its JSON object", name)
	}
	return nil
}

// classVariables reads the variables of the phone makers' channels of each
// class into c.
func (c *Config) classVariables(getenv func(string) string) error {
	const umengWhat = "channel_properties (keys such as xiaomi_channel_id, oppo_channel_id, oppo_category, vivo_category)"
	for _, v := range []struct {
		name string
		dst  *umeng.ChannelProperties
	}{
		{"UMENG_ANDROID_SERVICE_CHANNEL_PROPERTIES", &c.AndroidServiceChannels},
		{"UMENG_ANDROID_MARKETING_CHANNEL_PROPERTIES", &c.AndroidMarketingChannels},
	} {
		if err := strictJSON(v.name, getenv(v.name), umengWhat, v.dst); err != nil {
			return err
		}
	}
	for _, class := range []provider.Class{provider.ClassService, provider.ClassMarketing} {
		upper := strings.ToUpper(string(class))
		var entries map[string]json.RawMessage
		name := "JPUSH_" + upper + "_CHANNELS"
		const jpushWhat = `third_party_channel entries by maker (such as {"xiaomi":{"channel_id":"orders"}})`
		if err := strictJSON(name, getenv(name), jpushWhat, &entries); err != nil {
			return err
		}
		var chs map[string]jpush.ThirdPartyChannel
		for _, maker := range slices.Sorted(maps.Keys(entries)) {
			// A maker first: a wrapper such as {"third_party_channel": …}
			// would otherwise be read as a maker whose fields are unknown.
			if !slices.Contains(jpush.Channels(), maker) {
				return fmt.Errorf("%s: %q is not a maker JPush knows (%s): give the %s", name, maker, strings.Join(jpush.Channels(), ", "), jpushWhat)
			}
			var ch jpush.ThirdPartyChannel
			if err := strictJSON(name, string(entries[maker]), "a third_party_channel entry of "+maker, &ch); err != nil {
				return err
			}
			if chs == nil {
				chs = map[string]jpush.ThirdPartyChannel{}
			}
			chs[maker] = ch
		}
		if chs != nil {
			if c.JPushClassChannels == nil {
				c.JPushClassChannels = map[provider.Class]map[string]jpush.ThirdPartyChannel{}
			}
			c.JPushClassChannels[class] = chs
		}
		var ups map[string]map[string]any
		name = "GETUI_" + upper + "_UPS_OPTIONS"
		if err := strictJSON(name, getenv(name), `makers' options (such as {"XM":{"/extra.channel_id":"orders"}})`, &ups); err != nil {
			return err
		}
		if ups != nil {
			if c.GetuiClassUpsOptions == nil {
				c.GetuiClassUpsOptions = map[provider.Class]map[string]map[string]any{}
			}
			c.GetuiClassUpsOptions[class] = ups
		}
	}
	return nil
}

// IOSDefaults are the Options every iOS push starts from: the receipt_url,
// with the secret in its query string, when UMENG_RECEIPT_URL is set.
func (c Config) IOSDefaults() umeng.Options {
	if c.ReceiptURL == "" {
		return umeng.Options{}
	}
	u := c.ReceiptURL
	if c.ReceiptSecret != "" {
		u, _ = umeng.ReceiptURLWithSecret(u, c.ReceiptSecret) // Load parsed it
	}
	return umeng.Options{ReceiptURL: u, ReceiptType: umeng.ReceiptArrivalAndClick}
}

// Umeng reports whether Umeng credentials are set (Load has checked
// that no set is half set).
func (c Config) Umeng() bool { return c.AndroidKey != "" || c.IOSKey != "" }

// JPush reports whether the JPush credentials are set.
func (c Config) JPush() bool { return c.JPushAppKey != "" }

// Getui reports whether the Getui credentials are set.
func (c Config) Getui() bool { return c.GetuiAppID != "" }

// Demo reports whether no provider has credentials: examples/server then
// starts the built-in fakes of all three, and cmd/pushctl refuses to push.
func (c Config) Demo() bool {
	return !c.Umeng() && !c.JPush() && !c.Getui()
}

// DefaultProvider is the push_platform of devices registered without one
// (push.Config.DefaultProvider): "umeng" when Umeng is configured or in demo
// mode, else "jpush" when JPush is, else "getui".
func (c Config) DefaultProvider() string {
	switch {
	case c.Demo() || c.Umeng():
		return umeng.Name
	case c.JPush():
		return jpush.Name
	default:
		return getui.Name
	}
}

// together checks that the variables of one credential set are all set or
// all empty, naming the missing ones (never a value).
func together(getenv func(string) string, names ...string) error {
	var set, missing []string
	for _, n := range names {
		if getenv(n) != "" {
			set = append(set, n)
		} else {
			missing = append(missing, n)
		}
	}
	if len(set) == 0 || len(missing) == 0 {
		return nil
	}
	all := strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
	verb := "is"
	if len(missing) > 1 {
		verb = "are"
	}
	return fmt.Errorf("%s must be set together: %s %s not set", all, strings.Join(missing, ", "), verb)
}

// ServerOnly are the variables only the server reads: its listener, its
// bearer token and its Scanner's interval. ToolEnv hides them from a
// command such as pushctl.
var ServerOnly = []string{"PUSH_ADDR", "PUSH_API_TOKEN", "PUSH_SCAN_INTERVAL"}

// ToolEnv returns getenv with the ServerOnly variables unset, so that a
// command that serves nothing runs whatever the server's own settings
// say: an operator can still migrate or inspect the database while the
// server refuses to start over a bad PUSH_ADDR.
func ToolEnv(getenv func(string) string) func(string) string {
	return envWhere(getenv, func(name string) bool { return !slices.Contains(ServerOnly, name) })
}

// DatabaseVars are the variables that choose and open the database.
var DatabaseVars = []string{"PUSH_DB_DRIVER", "PUSH_DB_DSN", "PUSH_DB_TIMEZONE"}

// DatabaseEnv returns getenv with only the DatabaseVars set, for a command
// that uses the database alone: Load then reads no vendor setting, and a
// bad one does not stop it.
func DatabaseEnv(getenv func(string) string) func(string) string {
	return envWhere(getenv, func(name string) bool { return slices.Contains(DatabaseVars, name) })
}

// envWhere returns getenv with the variables keep refuses unset.
func envWhere(getenv func(string) string, keep func(name string) bool) func(string) string {
	return func(name string) string {
		if !keep(name) {
			return ""
		}
		return getenv(name)
	}
}

// Load reads the configuration through getenv, applying defaults and
// naming the variable of any bad value (never a secret's value).
func Load(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Addr:     get("PUSH_ADDR", "127.0.0.1:8080"),
		DBDriver: get("PUSH_DB_DRIVER", "sqlite"),
		DBDSN:    get("PUSH_DB_DSN", "push.db"),
		APIToken: getenv("PUSH_API_TOKEN"),

		CenterDefaultTitle: getenv("PUSH_CENTER_DEFAULT_TITLE"),
		CenterLeaveModes:   splitList(getenv("PUSH_CENTER_LEAVE_MODES")),

		UmengBaseURL:  get("UMENG_BASE_URL", "https://msgapi.umeng.com"),
		AndroidKey:    getenv("UMENG_ANDROID_APPKEY"),
		AndroidSecret: getenv("UMENG_ANDROID_APP_MASTER_SECRET"),
		IOSKey:        getenv("UMENG_IOS_APPKEY"),
		IOSSecret:     getenv("UMENG_IOS_APP_MASTER_SECRET"),

		AndroidChannelActivity: getenv("UMENG_ANDROID_CHANNEL_ACTIVITY"),
		AndroidMainActivity:    getenv("UMENG_ANDROID_MAIN_ACTIVITY"),
		ReceiptURL:             getenv("UMENG_RECEIPT_URL"),
		ReceiptSecret:          getenv("UMENG_RECEIPT_SECRET"),
		HuaweiServiceCategory:  getenv("PUSH_HUAWEI_SERVICE_CATEGORY"),

		JPushAppKey:       getenv("JPUSH_APPKEY"),
		JPushMasterSecret: getenv("JPUSH_MASTER_SECRET"),
		JPushBaseURL:      get("JPUSH_BASE_URL", jpush.DefaultBaseURL),

		GetuiAppID:        getenv("GETUI_APPID"),
		GetuiAppKey:       getenv("GETUI_APPKEY"),
		GetuiMasterSecret: getenv("GETUI_MASTER_SECRET"),
		GetuiBaseURL:      get("GETUI_BASE_URL", getui.DefaultBaseURL),
	}
	if err := c.classVariables(getenv); err != nil {
		return c, err
	}
	for name, v := range map[string]string{
		"UMENG_ANDROID_CHANNEL_ACTIVITY": c.AndroidChannelActivity, "UMENG_ANDROID_MAIN_ACTIVITY": c.AndroidMainActivity,
	} {
		if strings.ContainsFunc(v, unicode.IsSpace) {
			return c, fmt.Errorf("%s: %q is not a class name: it contains white space", name, v)
		}
	}
	// A token HTTP cannot carry whole (a header's value loses its
	// surrounding white space, as a token file's last newline) would
	// refuse every request: refused at start, its value not shown.
	if t := c.APIToken; t != "" && (strings.TrimSpace(t) != t ||
		strings.ContainsFunc(t, func(r rune) bool { return r < 0x20 || r > 0x7e })) {
		return c, fmt.Errorf("PUSH_API_TOKEN: must be printable ASCII without surrounding white space (a trailing newline?), or no client can send it")
	}
	if c.ReceiptURL != "" {
		// Not shown: the URL may carry a secret of its own.
		if u, err := url.Parse(c.ReceiptURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("UMENG_RECEIPT_URL: is not an http(s) URL with a host")
		}
		if c.ReceiptSecret == "" && c.APIToken != "" {
			return c, fmt.Errorf("UMENG_RECEIPT_SECRET: required with UMENG_RECEIPT_URL when PUSH_API_TOKEN is set, since Umeng cannot send the token")
		}
	} else if c.ReceiptSecret != "" {
		return c, fmt.Errorf("UMENG_RECEIPT_SECRET: set without UMENG_RECEIPT_URL")
	}
	// The receipt endpoint takes no other credential, and a short secret
	// can be guessed, or scrubbed from Umeng's answers only where it
	// follows "secret=" (umeng.Client.Redact). Not shown.
	if n := utf8.RuneCountInString(c.ReceiptSecret); c.ReceiptSecret != "" && n < minReceiptSecret {
		return c, fmt.Errorf("UMENG_RECEIPT_SECRET: must be at least %d characters (a random one: openssl rand -hex 16), has %d", minReceiptSecret, n)
	}
	// Checked before anything starts (migrations, fakes), not when the
	// listener is opened.
	if _, port, err := net.SplitHostPort(c.Addr); err != nil || !validPort(port) {
		return c, fmt.Errorf("PUSH_ADDR: %q is not a host:port to listen on, such as 127.0.0.1:8080 or :8080", c.Addr)
	}
	switch c.DBDriver {
	case "sqlite":
		// A server's DSN with PUSH_DB_DRIVER left unset would be taken
		// for a file: a key=value DSN names one SQLite creates, password
		// and all, and the server would run on it.
		if driver, kind := OtherDriverDSN(c.DBDSN); driver != "" {
			how := "defaults to sqlite"
			if getenv("PUSH_DB_DRIVER") != "" {
				how = "is sqlite"
			}
			return c, fmt.Errorf("PUSH_DB_DSN: looks like %s, and PUSH_DB_DRIVER %s: set PUSH_DB_DRIVER=%s", kind, how, driver)
		}
	case "mysql", "postgres":
		// push.db, the SQLite default, is no server's DSN.
		if getenv("PUSH_DB_DSN") == "" {
			return c, fmt.Errorf("PUSH_DB_DSN: required with PUSH_DB_DRIVER=%s (the default push.db is a SQLite file)", c.DBDriver)
		}
	default:
		return c, fmt.Errorf("PUSH_DB_DRIVER: %q is not sqlite, mysql or postgres", c.DBDriver)
	}
	// Checked whether or not the vendor's credentials are set: a URL
	// given without them is a mistake to say, not a value to ignore. Not
	// shown: a gateway URL may carry credentials of its own.
	for _, v := range []struct{ name, value string }{
		{"UMENG_BASE_URL", c.UmengBaseURL}, {"JPUSH_BASE_URL", c.JPushBaseURL}, {"GETUI_BASE_URL", c.GetuiBaseURL},
	} {
		if u, err := url.Parse(v.value); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return c, fmt.Errorf("%s: is not an http(s) URL with a host", v.name)
		}
	}
	var err error
	for _, d := range []struct {
		name     string
		dst      *time.Duration
		def      string
		min, max time.Duration
	}{
		// A pass more often than a second spins over an idle database; a
		// first retry later than a day is a typo (1000000h).
		{"PUSH_SCAN_INTERVAL", &c.ScanInterval, "1m", time.Second, 24 * time.Hour},
		{"PUSH_RETRY_BASE", &c.RetryBase, "30s", time.Millisecond, 24 * time.Hour},
	} {
		if *d.dst, err = time.ParseDuration(get(d.name, d.def)); err != nil || *d.dst <= 0 {
			return c, fmt.Errorf("%s: %q is not a positive Go duration such as %s", d.name, get(d.name, d.def), d.def)
		}
		if *d.dst < d.min || *d.dst > d.max {
			return c, fmt.Errorf("%s: %q is not between %v and %v", d.name, get(d.name, d.def), d.min, d.max)
		}
	}
	if err := provider.CheckHuaweiServiceCategory("PUSH_HUAWEI_SERVICE_CATEGORY", c.HuaweiServiceCategory); err != nil {
		return c, fmt.Errorf("PUSH_HUAWEI_SERVICE_CATEGORY: %q is not one of Huawei's service categories %v", c.HuaweiServiceCategory, provider.HuaweiServiceCategories)
	}
	// The zone database is embedded (time/tzdata): a container without
	// one still knows Asia/Shanghai.
	if c.DBLocation, err = time.LoadLocation(get("PUSH_DB_TIMEZONE", "UTC")); err != nil {
		return c, fmt.Errorf("PUSH_DB_TIMEZONE: %q is not an IANA time zone such as Asia/Shanghai", getenv("PUSH_DB_TIMEZONE"))
	}
	if c.ProductionMode, err = strconv.ParseBool(get("UMENG_PRODUCTION_MODE", "true")); err != nil {
		return c, fmt.Errorf("UMENG_PRODUCTION_MODE: %q is not true or false", getenv("UMENG_PRODUCTION_MODE"))
	}
	if v := get("UMENG_FILECAST_THRESHOLD", "0"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || (n != 0 && n <= umeng.MaxTokens) {
			return c, fmt.Errorf("UMENG_FILECAST_THRESHOLD: %q is not 0 or a whole number above %d", v, umeng.MaxTokens)
		}
		c.FilecastThreshold = n
	}
	if c.JPushAPNsProduction, err = strconv.ParseBool(get("JPUSH_APNS_PRODUCTION", "true")); err != nil {
		return c, fmt.Errorf("JPUSH_APNS_PRODUCTION: %q is not true or false", getenv("JPUSH_APNS_PRODUCTION"))
	}
	if c.JPushVIP, err = strconv.ParseBool(get("JPUSH_VIP", "false")); err != nil {
		return c, fmt.Errorf("JPUSH_VIP: %q is not true or false", getenv("JPUSH_VIP"))
	}
	for _, set := range [][]string{
		{"UMENG_ANDROID_APPKEY", "UMENG_ANDROID_APP_MASTER_SECRET"},
		{"UMENG_IOS_APPKEY", "UMENG_IOS_APP_MASTER_SECRET"},
		{"JPUSH_APPKEY", "JPUSH_MASTER_SECRET"},
		{"GETUI_APPID", "GETUI_APPKEY", "GETUI_MASTER_SECRET"},
	} {
		if err := together(getenv, set...); err != nil {
			return c, err
		}
	}
	return c, nil
}

// validPort reports whether p is a port number or a service name a
// listener accepts ("0" picks a free one).
func validPort(p string) bool {
	if n, err := strconv.Atoi(p); err == nil {
		return n >= 0 && n <= 65535
	}
	return p != "" && !strings.ContainsFunc(p, func(r rune) bool { return !unicode.IsLetter(r) && r != '-' })
}

// splitList is the comma-separated entries of v, trimmed, without empty
// ones.
func splitList(v string) []string {
	var out []string
	for _, e := range strings.Split(v, ",") {
		if e = strings.TrimSpace(e); e != "" {
			out = append(out, e)
		}
	}
	return out
}

// OtherDriverDSN returns, for a DSN that looks like a MySQL DSN
// (user:pass@tcp(host:3306)/db, @unix(…)/db, user@/db) or a PostgreSQL
// URL or key=value DSN, the PUSH_DB_DRIVER it needs and what it looks
// like; "" for anything else, a SQLite path or URI among them. Neither
// names any part of the DSN.
func OtherDriverDSN(dsn string) (driver, kind string) {
	switch lower := strings.ToLower(dsn); {
	case strings.HasPrefix(lower, "postgres://"), strings.HasPrefix(lower, "postgresql://"):
		return "postgres", "a PostgreSQL URL"
	case postgresKeywords.MatchString(dsn):
		return "postgres", "a PostgreSQL DSN"
	case mysqlAddress.MatchString(dsn):
		return "mysql", "a MySQL DSN"
	}
	return "", ""
}

// mysqlAddress finds the address part of a MySQL DSN
// (user:pass@tcp(host:3306)/db, @unix(/run/mysqld.sock)/db, @/db for the
// default address), which no SQLite path has.
var mysqlAddress = regexp.MustCompile(`@(tcp[46]?|unix)(\([^)]*\))?/|^[^/]*@/`)

// postgresKeywords finds a libpq key=value DSN (host=db user=push
// password=… dbname=push).
var postgresKeywords = regexp.MustCompile(`(?i)(^|\s)(host|hostaddr|port|dbname|user|password|sslmode)\s*=`)
