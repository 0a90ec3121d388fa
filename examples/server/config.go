package main

import (
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tuisong/push/umeng"
)

// config is the server's configuration, read from the environment
// variables of the README's table.
type config struct {
	Addr           string
	DBDriver       string
	DBDSN          string
	ScanInterval   time.Duration
	RetryBase      time.Duration
	APIToken       string
	UmengBaseURL   string
	AndroidKey     string
	AndroidSecret  string
	IOSKey         string
	IOSSecret      string
	ProductionMode bool
	// AndroidChannelActivity and AndroidMainActivity are the Android app's
	// default channel_properties.channel_activity and main_activity, sent
	// with every Android push (see umeng.App.Defaults).
	AndroidChannelActivity string
	AndroidMainActivity    string
}

// androidDefaults are the Options every Android push starts from.
func (c config) androidDefaults() umeng.Options {
	return umeng.Options{ChannelProperties: umeng.ChannelProperties{
		ChannelActivity: c.AndroidChannelActivity,
		MainActivity:    c.AndroidMainActivity,
	}}
}

// demo reports whether no Umeng app is configured, so the built-in fake
// Umeng must serve instead.
func (c config) demo() bool {
	return c.AndroidKey == "" && c.IOSKey == ""
}

// loadConfig reads the configuration through getenv, applying defaults and
// naming the variable of any bad value.
func loadConfig(getenv func(string) string) (config, error) {
	get := func(name, def string) string {
		if v := getenv(name); v != "" {
			return v
		}
		return def
	}
	c := config{
		Addr:          get("PUSH_ADDR", "127.0.0.1:8080"),
		DBDriver:      get("PUSH_DB_DRIVER", "sqlite"),
		DBDSN:         get("PUSH_DB_DSN", "push.db"),
		APIToken:      getenv("PUSH_API_TOKEN"),
		UmengBaseURL:  get("UMENG_BASE_URL", "https://msgapi.umeng.com"),
		AndroidKey:    getenv("UMENG_ANDROID_APPKEY"),
		AndroidSecret: getenv("UMENG_ANDROID_APP_MASTER_SECRET"),
		IOSKey:        getenv("UMENG_IOS_APPKEY"),
		IOSSecret:     getenv("UMENG_IOS_APP_MASTER_SECRET"),

		AndroidChannelActivity: getenv("UMENG_ANDROID_CHANNEL_ACTIVITY"),
		AndroidMainActivity:    getenv("UMENG_ANDROID_MAIN_ACTIVITY"),
	}
	for name, v := range map[string]string{
		"UMENG_ANDROID_CHANNEL_ACTIVITY": c.AndroidChannelActivity, "UMENG_ANDROID_MAIN_ACTIVITY": c.AndroidMainActivity,
	} {
		if strings.ContainsFunc(v, unicode.IsSpace) {
			return c, fmt.Errorf("%s: %q is not a class name: it contains white space", name, v)
		}
	}
	switch c.DBDriver {
	case "sqlite", "mysql", "postgres":
	default:
		return c, fmt.Errorf("PUSH_DB_DRIVER: %q is not sqlite, mysql or postgres", c.DBDriver)
	}
	var err error
	for _, d := range []struct {
		name string
		dst  *time.Duration
		def  string
	}{{"PUSH_SCAN_INTERVAL", &c.ScanInterval, "1m"}, {"PUSH_RETRY_BASE", &c.RetryBase, "30s"}} {
		if *d.dst, err = time.ParseDuration(get(d.name, d.def)); err != nil || *d.dst <= 0 {
			return c, fmt.Errorf("%s: %q is not a positive Go duration such as %s", d.name, get(d.name, d.def), d.def)
		}
	}
	if c.ProductionMode, err = strconv.ParseBool(get("UMENG_PRODUCTION_MODE", "true")); err != nil {
		return c, fmt.Errorf("UMENG_PRODUCTION_MODE: %q is not true or false", getenv("UMENG_PRODUCTION_MODE"))
	}
	if (c.AndroidKey == "") != (c.AndroidSecret == "") {
		return c, fmt.Errorf("UMENG_ANDROID_APPKEY and UMENG_ANDROID_APP_MASTER_SECRET must be set together")
	}
	if (c.IOSKey == "") != (c.IOSSecret == "") {
		return c, fmt.Errorf("UMENG_IOS_APPKEY and UMENG_IOS_APP_MASTER_SECRET must be set together")
	}
	return c, nil
}
