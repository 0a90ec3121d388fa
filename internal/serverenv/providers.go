package serverenv

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
)

// CredentialVariables names the variables that configure a provider, for
// an error that asks for them.
const CredentialVariables = "UMENG_IOS_APPKEY and UMENG_IOS_APP_MASTER_SECRET, UMENG_ANDROID_APPKEY and " +
	"UMENG_ANDROID_APP_MASTER_SECRET, JPUSH_APPKEY and JPUSH_MASTER_SECRET, or GETUI_APPID, GETUI_APPKEY and GETUI_MASTER_SECRET"

// Providers builds a client for every provider whose credentials c holds,
// Umeng first, then JPush, then Getui; none when c.Demo(). An error names
// the provider's variables, never a secret.
func Providers(c Config, log *slog.Logger) ([]provider.Provider, error) {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	var ps []provider.Provider
	if c.Umeng() {
		ucfg := umeng.Config{BaseURL: c.UmengBaseURL, TestMode: !c.ProductionMode, Logger: log, FilecastThreshold: c.FilecastThreshold,
			HuaweiServiceCategory: c.HuaweiServiceCategory,
			IOS:                   umeng.App{AppKey: c.IOSKey, AppMasterSecret: c.IOSSecret, Defaults: c.IOSDefaults()},
			Android: umeng.App{AppKey: c.AndroidKey, AppMasterSecret: c.AndroidSecret, Defaults: c.AndroidDefaults(),
				ClassDefaults: c.AndroidClassDefaults()}}
		um, err := umeng.New(ucfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", variableOf(err, umengVariables, "android.class_defaults.", "UMENG_ANDROID_%s_CHANNEL_PROPERTIES", "umeng (UMENG_*)"), err)
		}
		for _, pl := range provider.Platforms() {
			if um.Capabilities(pl).MaxTokens == 0 {
				log.Warn("no Umeng app for this platform: its devices on umeng are registered but skipped by pushes",
					slog.String("platform", string(pl)))
			}
		}
		ps = append(ps, um)
	}
	if c.JPush() {
		// A JPUSH_BASE_URL other than the default (a fake, or a gateway)
		// serves the Report API too: jpush.Config's default.
		jcfg := jpush.Config{AppKey: c.JPushAppKey, MasterSecret: c.JPushMasterSecret, BaseURL: c.JPushBaseURL,
			APNsSandbox: !c.JPushAPNsProduction, VIP: c.JPushVIP, Logger: log, HuaweiServiceCategory: c.HuaweiServiceCategory,
			ClassChannels: c.JPushClassChannels}
		jp, err := jpush.New(jcfg)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", variableOf(err, jpushVariables, "class_channels.", "JPUSH_%s_CHANNELS", "jpush (JPUSH_*)"), err)
		}
		ps = append(ps, jp)
	}
	if c.Getui() {
		gt, err := getui.New(getui.Config{AppID: c.GetuiAppID, AppKey: c.GetuiAppKey,
			MasterSecret: getui.NewSecret(c.GetuiMasterSecret), BaseURL: c.GetuiBaseURL, Logger: log,
			HuaweiServiceCategory: c.HuaweiServiceCategory, ClassUpsOptions: c.GetuiClassUpsOptions})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", variableOf(err, getuiVariables, "class_ups_options.", "GETUI_%s_UPS_OPTIONS", "getui (GETUI_*)"), err)
		}
		ps = append(ps, gt)
	}
	return ps, nil
}

// The variables that set a provider's Config fields, by the field's name
// in its New errors (provider.FieldOf).
var (
	umengVariables = map[string]string{
		"base_url":                  "UMENG_BASE_URL",
		"ios.app_key":               "UMENG_IOS_APPKEY",
		"ios.app_master_secret":     "UMENG_IOS_APP_MASTER_SECRET",
		"android.app_key":           "UMENG_ANDROID_APPKEY",
		"android.app_master_secret": "UMENG_ANDROID_APP_MASTER_SECRET",
		"filecast_threshold":        "UMENG_FILECAST_THRESHOLD",
	}
	jpushVariables = map[string]string{"app_key": "JPUSH_APPKEY", "master_secret": "JPUSH_MASTER_SECRET", "base_url": "JPUSH_BASE_URL"}
	getuiVariables = map[string]string{"app_id": "GETUI_APPID", "app_key": "GETUI_APPKEY", "master_secret": "GETUI_MASTER_SECRET",
		"base_url": "GETUI_BASE_URL"}
)

// variableOf names the variable of a provider's New error: the one vars
// gives for the error's field, the class's variable (format with the
// class in upper case) when the field is under prefix and a class,
// otherwise other.
func variableOf(err error, vars map[string]string, prefix, format, other string) string {
	field := provider.FieldOf(err)
	if v, ok := vars[field]; ok {
		return v
	}
	for _, class := range []provider.Class{provider.ClassService, provider.ClassMarketing} {
		if strings.HasPrefix(field, prefix+string(class)) {
			return fmt.Sprintf(format, strings.ToUpper(string(class)))
		}
	}
	return other
}
