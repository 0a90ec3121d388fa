package umeng

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// sentTop sends r through a harness and returns the top-level fields of
// the body sent.
func sentTop(t *testing.T, h *harness, r *provider.Request) map[string]any {
	t.Helper()
	h.respond("/api/send", http.StatusOK, okMsg)
	_, err := h.client.Send(context.Background(), r)
	require.NoError(t, err)
	calls := h.requests()
	require.NotEmpty(t, calls)
	var body map[string]any
	require.NoError(t, json.Unmarshal(calls[len(calls)-1].body, &body))
	return body
}

// TestClassOnTheWire checks the mapping of provider.Class to Umeng's
// category and the Huawei importance, and that an explicit importance wins.
func TestClassOnTheWire(t *testing.T) {
	tests := []struct {
		name       string
		platform   provider.Platform
		class      provider.Class
		importance HuaweiImportance // explicit Options value
		category   any              // nil: absent
		huawei     any              // nil: absent
	}{
		{"android unset", provider.Android, "", "", nil, nil},
		{"android marketing", provider.Android, provider.ClassMarketing, "", float64(0), "LOW"},
		{"android service", provider.Android, provider.ClassService, "", float64(1), "NORMAL"},
		{"android explicit importance wins", provider.Android, provider.ClassMarketing, HuaweiImportanceNormal, float64(0), "NORMAL"},
		{"android explicit importance without class", provider.Android, "", HuaweiImportanceLow, nil, "LOW"},
		{"ios marketing sends nothing", provider.IOS, provider.ClassMarketing, "", nil, nil},
		{"ios service sends nothing", provider.IOS, provider.ClassService, "", nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := unicast(tt.platform)
			r.Notification.Class = tt.class
			r.Overrides = map[string]any{Name: &Options{ChannelProperties: ChannelProperties{HuaweiChannelImportance: tt.importance}}}
			body := sentTop(t, newHarness(t), r)
			assert.Equal(t, tt.category, body["category"])
			var huawei any
			if cp, ok := body["channel_properties"].(map[string]any); ok {
				huawei = cp["huawei_channel_importance"]
			}
			assert.Equal(t, tt.huawei, huawei)
		})
	}
}

// TestHuaweiCategoryFollowsTheClass: with the app's granted service
// category configured, a service push carries it and a marketing push
// carries MARKETING (Huawei counts a push without a category as
// marketing); a category in the push's own options wins; iOS and an unset
// class carry none; a category Huawei does not have is refused by New.
func TestHuaweiCategoryFollowsTheClass(t *testing.T) {
	for _, tt := range []struct {
		name     string
		granted  string
		platform provider.Platform
		class    provider.Class
		own      string
		want     any // nil: absent
	}{
		{"service", "EXPRESS", provider.Android, provider.ClassService, "", "EXPRESS"},
		{"service, none granted", "", provider.Android, provider.ClassService, "", nil},
		{"marketing", "EXPRESS", provider.Android, provider.ClassMarketing, "", "MARKETING"},
		{"marketing, none granted", "", provider.Android, provider.ClassMarketing, "", "MARKETING"},
		{"unset class", "EXPRESS", provider.Android, "", "", nil},
		{"the push's own wins", "EXPRESS", provider.Android, provider.ClassService, "IM", "IM"},
		{"ios", "EXPRESS", provider.IOS, provider.ClassService, "", nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := unicast(tt.platform)
			r.Notification.Class = tt.class
			r.Overrides = map[string]any{Name: &Options{ChannelProperties: ChannelProperties{HuaweiChannelCategory: tt.own}}}
			body := sentTop(t, newHarness(t, func(c *Config) { c.HuaweiServiceCategory = tt.granted }), r)
			var got any
			if cp, ok := body["channel_properties"].(map[string]any); ok {
				got = cp["huawei_channel_category"]
			}
			assert.Equal(t, tt.want, got)
		})
	}
	_, err := New(Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret}, HuaweiServiceCategory: "URGENT"})
	assert.Equal(t, "huawei_service_category", provider.FieldOf(err), "%v", err)

	// A category in the app's Defaults yields to the class: a marketing
	// push does not go out as a service one. With no class it applies.
	withDefault := func(c *Config) {
		c.HuaweiServiceCategory = "EXPRESS"
		c.Android.Defaults.ChannelProperties.HuaweiChannelCategory = "EXPRESS"
	}
	for class, want := range map[provider.Class]string{provider.ClassMarketing: "MARKETING", provider.ClassService: "EXPRESS", "": "EXPRESS"} {
		r := unicast(provider.Android)
		r.Notification.Class = class
		body := sentTop(t, newHarness(t, withDefault), r)
		cp, _ := body["channel_properties"].(map[string]any)
		assert.Equal(t, want, cp["huawei_channel_category"], "class %q", class)
	}
}

// TestClassRefused checks that an unknown class is refused before the
// network, by Validate and Send alike.
func TestClassRefused(t *testing.T) {
	r := unicast(provider.Android)
	r.Notification.Class = "urgent"
	newHarness(t).requireRefused(t, r, "notification.class")
}

// TestNotificationOnlyFieldsLeaveMessages checks that channel_activity and
// notification_closed_filter, which Umeng applies to notifications only,
// are left out of a message, so App defaults do not break silent pushes.
func TestNotificationOnlyFieldsLeaveMessages(t *testing.T) {
	r := unicast(provider.Android)
	r.Notification.Silent = true
	r.Notification.Class = provider.ClassService
	r.Overrides = map[string]any{Name: &Options{
		ChannelProperties:        ChannelProperties{ChannelActivity: "com.example.PushActivity", XiaomiChannelID: "orders"},
		NotificationClosedFilter: boolPtr(true),
	}}
	body := sentTop(t, newHarness(t), r)
	assert.Equal(t, map[string]any{"xiaomi_channel_id": "orders", "huawei_channel_importance": "NORMAL"}, body["channel_properties"])
	assert.NotContains(t, body, "policy")
	assert.Equal(t, float64(1), body["category"])
}

// TestBadgesOnTheWire checks Android badges as Umeng's own channel takes
// them (any number) and iOS badges as numbers or Umeng's strings.
func TestBadgesOnTheWire(t *testing.T) {
	payloadOf := func(t *testing.T, r *provider.Request) map[string]any {
		body := sentTop(t, newHarness(t), r)
		return body["payload"].(map[string]any)
	}
	t.Run("android", func(t *testing.T) {
		for _, n := range []int{-1, 0, 150} {
			r := unicast(provider.Android)
			r.Overrides = map[string]any{Name: &Options{SetBadge: intPtr(n)}}
			assert.Equal(t, float64(n), payloadOf(t, r)["body"].(map[string]any)["set_badge"])
		}
	})
	t.Run("ios", func(t *testing.T) {
		for _, s := range []string{"3", "+1", "-2", ""} {
			r := unicast(provider.IOS)
			r.Overrides = map[string]any{Name: &Options{IOSBadge: strPtr(s)}}
			assert.Equal(t, s, payloadOf(t, r)["aps"].(map[string]any)["badge"], "badge %q", s)
		}
		r := unicast(provider.IOS)
		r.Notification.Badge = intPtr(4)
		assert.Equal(t, float64(4), payloadOf(t, r)["aps"].(map[string]any)["badge"])
	})
}

// TestOptionsJSONRoundTrip checks that Options survives encoding/json, so
// the Service can store it with a push message.
func TestOptionsJSONRoundTrip(t *testing.T) {
	full := Options{
		DisplayType: DisplayNotification, AfterOpen: AfterOpenCustom, URL: "https://e.example.com/a",
		Activity: "com.example.A", Custom: json.RawMessage(`{"screen":"order","id":42}`),
		Ticker: "t", Icon: "ic", LargeIcon: "ic_large", Img: "https://img.example.com/a.png",
		BigBody: "big", ExpandImage: "https://img.example.com/b.png", RePop: boolPtr(false),
		BuilderID: intPtr(0), PlayVibrate: boolPtr(true), PlayLights: boolPtr(false), PlaySound: boolPtr(true),
		SetBadge: intPtr(-1), AddBadge: intPtr(2),
		ChannelProperties: ChannelProperties{
			ChannelActivity: "com.example.P", MainActivity: "com.example.M", XiaomiChannelID: "x",
			XiaomiExtraProperties: map[string]string{"template_id": "1"}, HuaweiChannelImportance: HuaweiImportanceLow,
			HuaweiChannelCategory: "MARKETING", OppoChannelID: "o", OppoCategory: "NEWS", OppoNotifyLevel: OppoNotifyAll,
			OppoPrivateMsgTemplate: &OppoPrivateMsgTemplate{TemplateID: "t", TitleParameters: map[string]string{"a": "b"}},
			VivoCategory:           "NEWS", VivoAddBadge: boolPtr(false), MeizuMsgType: intPtr(0), ChannelFCM: boolPtr(true),
			Extra: map[string]string{"honor_channel_importance": "LOW"},
		},
		LocalProperties:          LocalProperties{Category: "CATEGORY_PROMO", Importance: "IMPORTANCE_MIN", ChannelID: "c", ChannelName: "n"},
		NotificationClosedFilter: boolPtr(false), MiPush: true, MiActivity: "com.example.Mi",
		ContentAvailable: true, InterruptionLevel: InterruptionCritical, IOSBadge: strPtr(""),
		APNsCollapseID: "c1", IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`"v"`)},
		MaxSendNum: 1000, UappArg: "plan", ReceiptURL: "https://h.example.com", ReceiptType: ReceiptClick,
		CallbackParams: json.RawMessage(`{"push":7}`),
	}
	for name, o := range map[string]Options{"zero": {}, "full": full} {
		t.Run(name, func(t *testing.T) {
			b, err := json.Marshal(o)
			require.NoError(t, err)
			var back Options
			require.NoError(t, json.Unmarshal(b, &back))
			assert.Equal(t, o, back)
		})
	}
	b, err := json.Marshal(Options{})
	require.NoError(t, err)
	assert.Equal(t, `{}`, string(b), "unset fields are left out")
	b, err = json.Marshal(Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example.P"}, BigBody: "x"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"big_body":"x","channel_properties":{"channel_activity":"com.example.P"}}`, string(b),
		"JSON names are the field paths errors use")
}

// TestMergeOptions checks the merge rules of App.Defaults field by field.
func TestMergeOptions(t *testing.T) {
	def := &Options{
		AfterOpen: AfterOpenActivity, Activity: "com.example.Default", SetBadge: intPtr(1),
		PlaySound: boolPtr(false), MiPush: true,
		ChannelProperties: ChannelProperties{
			ChannelActivity: "com.example.Push", XiaomiChannelID: "default",
			Extra: map[string]string{"a": "def", "b": "def"},
		},
		LocalProperties: LocalProperties{Category: "CATEGORY_PROMO"},
		IOSKeys:         map[string]json.RawMessage{"k": json.RawMessage(`"def"`)},
	}
	req := &Options{
		Activity: "com.example.Request", AddBadge: intPtr(2), PlaySound: boolPtr(true),
		ChannelProperties: ChannelProperties{XiaomiChannelID: "request", Extra: map[string]string{"b": "req", "c": "req"}},
		LocalProperties:   LocalProperties{ChannelID: "orders"},
	}
	got := mergeOptions(def, req)
	assert.Equal(t, AfterOpenActivity, got.AfterOpen, "unset in the request: the default")
	assert.Equal(t, "com.example.Request", got.Activity, "set in the request: the request's")
	assert.Nil(t, got.SetBadge, "a request badge replaces the default badge choice whole")
	assert.Equal(t, intPtr(2), got.AddBadge)
	assert.Equal(t, boolPtr(true), got.PlaySound)
	assert.True(t, got.MiPush)
	assert.Equal(t, "com.example.Push", got.ChannelProperties.ChannelActivity, "nested fields merge one by one")
	assert.Equal(t, "request", got.ChannelProperties.XiaomiChannelID)
	assert.Equal(t, map[string]string{"a": "def", "b": "req", "c": "req"}, got.ChannelProperties.Extra, "maps merge key by key")
	assert.Equal(t, LocalProperties{Category: "CATEGORY_PROMO", ChannelID: "orders"}, got.LocalProperties)
	assert.Equal(t, def.IOSKeys, got.IOSKeys)

	// Neither input changed.
	assert.Equal(t, map[string]string{"a": "def", "b": "def"}, def.ChannelProperties.Extra)
	assert.Equal(t, map[string]string{"b": "req", "c": "req"}, req.ChannelProperties.Extra)
	assert.Equal(t, intPtr(1), def.SetBadge)
}

// TestAppDefaults checks that App.Defaults reach every send of the app,
// under the request's own Options, through Send and Validate alike.
func TestAppDefaults(t *testing.T) {
	h := newHarness(t, func(c *Config) {
		c.Android.Defaults = Options{ChannelProperties: ChannelProperties{
			ChannelActivity: "com.example.PushActivity", MainActivity: "com.example.MainActivity",
		}}
		c.IOS.Defaults = Options{IOSBadge: strPtr("+1")}
	})

	body := sentTop(t, h, unicast(provider.Android))
	assert.Equal(t, map[string]any{"channel_activity": "com.example.PushActivity", "main_activity": "com.example.MainActivity"},
		body["channel_properties"])

	r := unicast(provider.Android)
	r.Overrides = map[string]any{Name: Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example.Other"}}}
	body = sentTop(t, h, r)
	assert.Equal(t, map[string]any{"channel_activity": "com.example.Other", "main_activity": "com.example.MainActivity"},
		body["channel_properties"], "the request wins")

	body = sentTop(t, h, unicast(provider.IOS))
	assert.Equal(t, "+1", body["payload"].(map[string]any)["aps"].(map[string]any)["badge"])
	r = unicast(provider.IOS)
	r.Notification.Badge = intPtr(0)
	body = sentTop(t, h, r)
	assert.Equal(t, float64(0), body["payload"].(map[string]any)["aps"].(map[string]any)["badge"],
		"a default relative badge yields to the request's absolute one")

	// A request that breaks a merged rule is refused like its own.
	r = unicast(provider.Android)
	r.Overrides = map[string]any{Name: &Options{ChannelProperties: ChannelProperties{MainActivity: "bad name"}}}
	h2 := newHarness(t, func(c *Config) {
		c.Android.Defaults = Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example.P"}}
	})
	h2.requireRefused(t, r, "overrides.umeng.channel_properties.main_activity")
}

// TestAppDefaultsChecked checks that New refuses Defaults no send could
// use, naming the field under the platform's defaults.
func TestAppDefaultsChecked(t *testing.T) {
	tests := []struct {
		name  string
		edit  func(*Config)
		field string
	}{
		{"android activity with a space", func(c *Config) {
			c.Android.Defaults.ChannelProperties.ChannelActivity = "com.example. P"
		}, "android.defaults.channel_properties.channel_activity"},
		{"android go_url without url", func(c *Config) { c.Android.Defaults.AfterOpen = AfterOpenURL }, "android.defaults.url"},
		{"ios interruption level", func(c *Config) { c.IOS.Defaults.InterruptionLevel = "loud" }, "ios.defaults.interruption_level"},
		{"ios uapp arg in test mode", func(c *Config) { c.TestMode = true; c.IOS.Defaults.UappArg = "plan" }, "ios.defaults.uapp_arg"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := Config{
				Android: App{AppKey: androidKey, AppMasterSecret: androidSecret},
				IOS:     App{AppKey: iosKey, AppMasterSecret: iosSecret},
			}
			tt.edit(&cfg)
			_, err := New(cfg)
			require.Error(t, err)
			assert.Equal(t, tt.field, provider.FieldOf(err))
		})
	}
}

// TestNewWarnsWithoutChannelActivity: an Android app whose Defaults set no
// channel_activity (nor the legacy mipush) is warned of at New: the phone
// makers' channels need it.
func TestNewWarnsWithoutChannelActivity(t *testing.T) {
	for _, tt := range []struct {
		name     string
		defaults Options
		warns    bool
	}{
		{"none", Options{}, true},
		{"channel activity", Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example.PushActivity"}}, false},
		{"legacy mipush", Options{MiPush: true, MiActivity: "com.example.PushActivity"}, false},
	} {
		var logs bytes.Buffer
		_, err := New(Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret, Defaults: tt.defaults},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		assert.Equal(t, tt.warns, strings.Contains(logs.String(), "level=WARN"), "%s: %s", tt.name, logs.String())
	}
	var logs bytes.Buffer
	_, err := New(Config{IOS: App{AppKey: iosKey, AppMasterSecret: iosSecret}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	assert.Empty(t, logs.String(), "no Android app, nothing to warn of")
}

// TestClassDefaults: each class's defaults are laid over the app's
// Defaults, and the push's own Options over both: a service push goes out
// on the service channels, a marketing push on the marketing ones, a push
// without a class on the app's Defaults alone. A class's Huawei category
// wins over the granted service category; the push's own wins over it.
func TestClassDefaults(t *testing.T) {
	withClasses := func(c *Config) {
		c.HuaweiServiceCategory = "EXPRESS"
		c.Android.Defaults = Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example.Push", XiaomiChannelID: "default"}}
		c.Android.ClassDefaults = map[provider.Class]Options{
			provider.ClassService: {ChannelProperties: ChannelProperties{XiaomiChannelID: "orders", OppoChannelID: "orders",
				OppoCategory: "ORDER", VivoCategory: "ORDER", HuaweiChannelCategory: "IM"}},
			provider.ClassMarketing: {ChannelProperties: ChannelProperties{XiaomiChannelID: "promotions", OppoCategory: "MARKETING",
				VivoCategory: "MARKETING"}},
		}
	}
	for _, tt := range []struct {
		name  string
		class provider.Class
		own   ChannelProperties
		want  map[string]any
	}{
		{"service", provider.ClassService, ChannelProperties{}, map[string]any{
			"channel_activity": "com.example.Push", "xiaomi_channel_id": "orders", "oppo_channel_id": "orders", "oppo_category": "ORDER",
			"vivo_category": "ORDER", "huawei_channel_category": "IM", "huawei_channel_importance": "NORMAL"}},
		{"marketing", provider.ClassMarketing, ChannelProperties{}, map[string]any{
			"channel_activity": "com.example.Push", "xiaomi_channel_id": "promotions", "oppo_category": "MARKETING",
			"vivo_category": "MARKETING", "huawei_channel_category": "MARKETING", "huawei_channel_importance": "LOW"}},
		{"no class", "", ChannelProperties{}, map[string]any{"channel_activity": "com.example.Push", "xiaomi_channel_id": "default"}},
		{"the push's own wins", provider.ClassService, ChannelProperties{XiaomiChannelID: "chat", HuaweiChannelCategory: "WORK"}, map[string]any{
			"channel_activity": "com.example.Push", "xiaomi_channel_id": "chat", "oppo_channel_id": "orders", "oppo_category": "ORDER",
			"vivo_category": "ORDER", "huawei_channel_category": "WORK", "huawei_channel_importance": "NORMAL"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := unicast(provider.Android)
			r.Notification.Class = tt.class
			r.Overrides = map[string]any{Name: &Options{ChannelProperties: tt.own}}
			body := sentTop(t, newHarness(t, withClasses), r)
			assert.Equal(t, tt.want, body["channel_properties"])
		})
	}

	// The map is the App's as New saw it: a class added later is not sent.
	cfg := Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret, ClassDefaults: map[provider.Class]Options{}}}
	h := newHarness(t, func(c *Config) { *c = Config{Android: cfg.Android, HTTPClient: c.HTTPClient, BaseURL: c.BaseURL} })
	cfg.Android.ClassDefaults[provider.ClassService] = Options{ChannelProperties: ChannelProperties{XiaomiChannelID: "late"}}
	r := unicast(provider.Android)
	r.Notification.Class = provider.ClassService
	body := sentTop(t, h, r)
	cp, _ := body["channel_properties"].(map[string]any)
	assert.Nil(t, cp["xiaomi_channel_id"])
}

// TestDefaultsCopiedAtNew: an App's Defaults and ClassDefaults are
// copied whole at New, maps and pointers included, so that what the
// caller changes in its own after New changes no send.
func TestDefaultsCopiedAtNew(t *testing.T) {
	on := true
	defaults := Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example.Push",
		XiaomiExtraProperties: map[string]string{"channel_name": "orders"}, VivoAddBadge: &on}}
	classes := map[provider.Class]Options{provider.ClassService: {ChannelProperties: ChannelProperties{
		Extra: map[string]string{"honor_importance": "NORMAL"}}}}
	h := newHarness(t, func(c *Config) { c.Android.Defaults, c.Android.ClassDefaults = defaults, classes })
	defaults.ChannelProperties.XiaomiExtraProperties["channel_name"] = "changed"
	*defaults.ChannelProperties.VivoAddBadge = false
	classes[provider.ClassService].ChannelProperties.Extra["honor_importance"] = "LOW"

	r := unicast(provider.Android)
	r.Notification.Class = provider.ClassService
	cp, _ := sentTop(t, h, r)["channel_properties"].(map[string]any)
	assert.Equal(t, map[string]any{"channel_name": "orders"}, cp["xiaomi_extra_properties"])
	assert.Equal(t, "true", cp["vivo_addbadge"])
	assert.Equal(t, "NORMAL", cp["honor_importance"])
}

// TestCloneOptions: cloneOptions copies every field, and every map,
// slice and pointer of it is a new one.
func TestCloneOptions(t *testing.T) {
	var o Options
	require.NoError(t, json.Unmarshal([]byte(`{"custom":{"a":1},"re_pop":true,"set_badge":2,"ios_badge":"+1",
		"ios_keys":{"k":"\"v\""},"callback_params":{"c":"d"},
		"channel_properties":{"xiaomi_extra_properties":{"x":"y"},"extra":{"e":"f"},"vivo_addbadge":true,"meizu_msg_type":1,
			"oppo_private_msg_template":{"private_msg_template_id":"t","private_title_parameters":{"p":"q"}}},
		"local_properties":{"channel_id":"c"}}`), &o))
	c := cloneOptions(o)
	assert.Equal(t, o, c)
	o.Custom[0] = ' '
	o.IOSKeys["k"][0] = ' '
	*o.RePop, *o.SetBadge, *o.IOSBadge = false, 3, "-1"
	o.ChannelProperties.XiaomiExtraProperties["x"] = "z"
	o.ChannelProperties.Extra["e"] = "g"
	*o.ChannelProperties.MeizuMsgType = 0
	o.ChannelProperties.OppoPrivateMsgTemplate.TitleParameters["p"] = "r"
	o.ChannelProperties.OppoPrivateMsgTemplate.TemplateID = "u"
	b, err := json.Marshal(c)
	require.NoError(t, err)
	assert.JSONEq(t, `{"custom":{"a":1},"re_pop":true,"set_badge":2,"ios_badge":"+1","ios_keys":{"k":"\"v\""},"callback_params":{"c":"d"},
		"channel_properties":{"xiaomi_extra_properties":{"x":"y"},"extra":{"e":"f"},"vivo_addbadge":true,"meizu_msg_type":1,
			"oppo_private_msg_template":{"private_msg_template_id":"t","private_title_parameters":{"p":"q"}}},
		"local_properties":{"channel_id":"c"}}`, string(b))
}

// TestClassDefaultsRefused: New refuses a class it does not know and a
// class's Options that no send could use, naming the field.
func TestClassDefaultsRefused(t *testing.T) {
	for _, tt := range []struct {
		name    string
		classes map[provider.Class]Options
		field   string
	}{
		{"unknown class", map[provider.Class]Options{"urgent": {}}, "android.class_defaults"},
		{"no class", map[provider.Class]Options{"": {}}, "android.class_defaults"},
		{"notify level without category", map[provider.Class]Options{provider.ClassService: {ChannelProperties: ChannelProperties{OppoNotifyLevel: OppoNotifyAll}}},
			"android.class_defaults.service.channel_properties.oppo_notify_level"},
		{"white space", map[provider.Class]Options{provider.ClassMarketing: {ChannelProperties: ChannelProperties{XiaomiChannelID: "a b"}}},
			"android.class_defaults.marketing.channel_properties.xiaomi_channel_id"},
		{"a service category for marketing", map[provider.Class]Options{provider.ClassMarketing: {ChannelProperties: ChannelProperties{HuaweiChannelCategory: "IM"}}},
			"android.class_defaults.marketing.channel_properties.huawei_channel_category"},
		{"the marketing category for service", map[provider.Class]Options{provider.ClassService: {ChannelProperties: ChannelProperties{HuaweiChannelCategory: "MARKETING"}}},
			"android.class_defaults.service.channel_properties.huawei_channel_category"},
		{"a category Huawei does not have", map[provider.Class]Options{provider.ClassService: {ChannelProperties: ChannelProperties{HuaweiChannelCategory: "URGENT"}}},
			"android.class_defaults.service.channel_properties.huawei_channel_category"},
		{"marketing's importance for service", map[provider.Class]Options{provider.ClassService: {ChannelProperties: ChannelProperties{HuaweiChannelImportance: HuaweiImportanceLow}}},
			"android.class_defaults.service.channel_properties.huawei_channel_importance"},
		{"service's importance for marketing", map[provider.Class]Options{provider.ClassMarketing: {ChannelProperties: ChannelProperties{HuaweiChannelImportance: HuaweiImportanceNormal}}},
			"android.class_defaults.marketing.channel_properties.huawei_channel_importance"},
		{"a vivo system category for marketing", map[provider.Class]Options{provider.ClassMarketing: {ChannelProperties: ChannelProperties{VivoCategory: "ORDER"}}},
			"android.class_defaults.marketing.channel_properties.vivo_category"},
		{"a vivo operational category for service", map[provider.Class]Options{provider.ClassService: {ChannelProperties: ChannelProperties{VivoCategory: "NEWS"}}},
			"android.class_defaults.service.channel_properties.vivo_category"},
		{"a vivo category in lower case", map[provider.Class]Options{provider.ClassService: {ChannelProperties: ChannelProperties{VivoCategory: "im"}}},
			"android.class_defaults.service.channel_properties.vivo_category"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret, ClassDefaults: tt.classes}})
			require.Error(t, err)
			assert.Equal(t, tt.field, provider.FieldOf(err), "%v", err)
		})
	}
}

// TestNewWarnsOfPushesWithoutAnActivity: channel_activity in both
// classes' defaults, not in the Defaults, still leaves a push without a
// class without one, which New warns of as such; in one class only, the
// warning is the general one.
func TestNewWarnsOfPushesWithoutAnActivity(t *testing.T) {
	activity := Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example.Push"}}
	for _, tt := range []struct {
		name    string
		classes map[provider.Class]Options
		want    string
	}{
		{"both", map[provider.Class]Options{provider.ClassService: activity, provider.ClassMarketing: activity}, "a notification without a class"},
		{"service only", map[provider.Class]Options{provider.ClassService: activity}, "unless each push sets one"},
	} {
		var logs bytes.Buffer
		_, err := New(Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret, ClassDefaults: tt.classes},
			Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		assert.Contains(t, logs.String(), "level=WARN", tt.name)
		assert.Contains(t, logs.String(), tt.want, tt.name)
	}
}

// TestAppDefaultVivoCategoryAgainstTheClass: a vivo category in an app's
// Defaults, which every push of the app carries, is checked against each
// push's class as the push's own is: a marketing push that would carry a
// system category is refused before any call, a service push goes.
func TestAppDefaultVivoCategoryAgainstTheClass(t *testing.T) {
	c, err := New(Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret,
		Defaults: Options{ChannelProperties: ChannelProperties{VivoCategory: "IM"}}}})
	require.NoError(t, err)
	r := request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(1)})
	r.Notification.Class = provider.ClassMarketing
	err = c.Validate(r)
	require.ErrorIs(t, err, provider.InvalidRequest)
	assert.Equal(t, "overrides.umeng.channel_properties.vivo_category", provider.FieldOf(err))
	r.Notification.Class = provider.ClassService
	assert.NoError(t, c.Validate(r))
}
