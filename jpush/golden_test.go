package jpush

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

var update = flag.Bool("update", false, "rewrite the golden request bodies under testdata/")

type goldenCase struct {
	name      string
	platforms []provider.Platform // default: both
	audience  provider.Audience
	edit      func(*provider.Request)
	config    func(*Config)
}

func intPtr(n int) *int { return &n }

// skip is a SkipQuota value.
var skip = true

func goldenCases() []goldenCase {
	return []goldenCase{
		// One case per audience kind, on both platforms.
		{name: "tokens_one", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}},
		{name: "tokens_many", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(3)}},
		{name: "broadcast", audience: provider.Audience{Kind: provider.AudienceBroadcast}},
		{name: "aliases", audience: provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"u1001", "u1002"}}},
		{name: "filter_tags", audience: provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip", "beta"}}},
		{name: "filter_object", audience: provider.Audience{Kind: provider.AudienceFilter,
			Filter: json.RawMessage(`{"tag": ["shenzhen"], "tag_and": ["vip"], "tag_not": ["muted"]}`), Tags: []string{"beijing"}}},
		{name: "filter_segment", audience: provider.Audience{Kind: provider.AudienceFilter, GroupID: "seg-0001"}},

		// The message class: options.classification on Android only, an
		// explicit Options.Classification winning.
		{name: "class_service", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)},
			edit: func(r *provider.Request) { r.Notification.Class = provider.ClassService }},
		{name: "class_marketing", platforms: []provider.Platform{provider.Android}, audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)},
			edit: func(r *provider.Request) { r.Notification.Class = provider.ClassMarketing }},
		{name: "class_overridden", platforms: []provider.Platform{provider.Android}, audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)},
			edit: func(r *provider.Request) {
				r.Notification.Class = provider.ClassMarketing
				r.Overrides = map[string]any{Name: &Options{Classification: intPtr(1)}}
			}},

		// Payload and options variants.
		{name: "silent", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(2)},
			edit: func(r *provider.Request) {
				r.Notification.Silent = true
				r.Notification.Badge = intPtr(5)
				r.ExpireTime = fixedNow.Add(90*time.Minute + 500*time.Millisecond)
			}},
		{
			name:      "android_full",
			platforms: []provider.Platform{provider.Android},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)},
			config:    func(c *Config) { c.VIP = true },
			edit: func(r *provider.Request) {
				r.Notification.Sound = "ding"
				r.ExpireTime = fixedNow.Add(30 * 24 * time.Hour) // clamped to a VIP app's ten days
				r.Overrides = map[string]any{Name: &Options{
					BuilderID: intPtr(2), ChannelID: "orders", Category: "msg", Priority: intPtr(1),
					Style: StyleBigText, BigText: "Your order 42 left the warehouse & is on its way",
					LargeIcon: "https://img.example.com/icon.png", IntentURL: "intent:#Intent;component=com.example/.Main;end",
					BadgeAddNum: intPtr(1), AlertType: intPtr(-1), Classification: intPtr(1), OverrideMsgID: 1828256700,
					ThirdPartyChannel: map[string]ThirdPartyChannel{
						ChannelXiaomi: {Distribution: DistributionSecondaryPush, ChannelID: "high_system"},
						ChannelHuawei: {Distribution: DistributionOSPush, Importance: "NORMAL", Category: "EXPRESS"},
						ChannelVivo:   {Distribution: DistributionFirstOSPush, Classification: intPtr(1), Category: "ORDER"},
						ChannelOPPO:   {ChannelID: "orders", Category: "ORDER", NotifyLevel: intPtr(OPPONotifyAll), SkipQuota: &skip},
						ChannelFCM:    {DistributionFCM: DistributionFCMSecondaryFCM},
						ChannelHMOS:   {Distribution: DistributionFirstOSPush},
					},
				}}
			},
		},
		{
			name:      "android_image",
			platforms: []provider.Platform{provider.Android},
			audience:  provider.Audience{Kind: provider.AudienceBroadcast},
			edit: func(r *provider.Request) {
				r.Notification.Image = "https://img.example.com/ship.png"
				r.Notification.Body = ""
			},
		},
		{
			name:      "ios_full",
			platforms: []provider.Platform{provider.IOS},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)},
			config:    func(c *Config) { c.APNsSandbox = true; c.DefaultTimeToLive = 3 * time.Hour },
			edit: func(r *provider.Request) {
				r.Notification.Subtitle = "Tracking number ready"
				r.Notification.Badge = intPtr(0)
				r.Notification.Sound = "default"
				r.Notification.Category = "ORDER"
				r.Notification.ThreadID = "orders"
				r.Notification.MutableContent = true
				r.StartTime = fixedNow.Add(-time.Minute) // passed: sent at once
				r.Overrides = map[string]any{Name: Options{ContentAvailable: true, InterruptionLevel: "time-sensitive",
					APNsCollapseID: "order-42", OverrideMsgID: 1828256700}} // Android's alone: not sent
			},
		},
		{
			name:      "ios_alert_string",
			platforms: []provider.Platform{provider.IOS},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)},
			edit: func(r *provider.Request) {
				r.Notification.Title = ""
				r.Notification.Extras = nil
				r.IdempotencyKey = ""
			},
		},
	}
}

// TestGoldenRequestBodies pins the exact body of every audience kind on
// both platforms and of the payload variants. go test ./jpush -update
// rewrites the files.
func TestGoldenRequestBodies(t *testing.T) {
	for _, gc := range goldenCases() {
		platforms := gc.platforms
		if platforms == nil {
			platforms = provider.Platforms()
		}
		for _, p := range platforms {
			name := gc.name + "_" + string(p)
			t.Run(name, func(t *testing.T) {
				mods := []func(*Config){}
				if gc.config != nil {
					mods = append(mods, gc.config)
				}
				h := newHarness(t, mods...)
				h.respondPush(http.StatusOK, okPush)
				r := request(p, gc.audience)
				if gc.edit != nil {
					gc.edit(r)
				}
				_, err := h.client.Send(context.Background(), r)
				require.NoError(t, err)
				call := h.only(t)
				require.Equal(t, testAppKey, call.user)
				require.Equal(t, testSecret, call.pass)
				compareGolden(t, filepath.Join("testdata", name+".json"), call.body)
			})
		}
	}
}

// compareGolden compares body, indented, with the golden file.
func compareGolden(t *testing.T, path string, body []byte) {
	t.Helper()
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, body, "", "  "), "the body must be JSON")
	buf.WriteByte('\n')
	var compact bytes.Buffer
	require.NoError(t, json.Compact(&compact, body))
	require.Equal(t, compact.String(), string(body), "the body must be sent compact")
	if *update {
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./jpush -update")
	require.Equal(t, strings.TrimSpace(string(want)), strings.TrimSpace(buf.String()), "body differs from %s", path)
}

// TestHuaweiCategoryFollowsTheClass: with the app's granted service
// category configured, a service push carries it as
// third_party_channel.huawei.category and a marketing push MARKETING; a
// category the push sets wins; a Classification override decides the
// class; iOS carries none; New refuses a category Huawei does not have.
func TestHuaweiCategoryFollowsTheClass(t *testing.T) {
	zero, one := 0, 1
	for _, tt := range []struct {
		name     string
		granted  string
		platform provider.Platform
		class    provider.Class
		opts     *Options
		want     string
	}{
		{"service", "EXPRESS", provider.Android, provider.ClassService, nil, "EXPRESS"},
		{"service, none granted", "", provider.Android, provider.ClassService, nil, ""},
		{"marketing", "EXPRESS", provider.Android, provider.ClassMarketing, nil, "MARKETING"},
		{"unset class", "EXPRESS", provider.Android, "", nil, ""},
		{"own category wins", "EXPRESS", provider.Android, provider.ClassService,
			&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelHuawei: {Category: "IM", Importance: "NORMAL"}}}, "IM"},
		{"classification 1 overrides marketing", "EXPRESS", provider.Android, provider.ClassMarketing, &Options{Classification: &one}, "EXPRESS"},
		{"classification 0 overrides service", "EXPRESS", provider.Android, provider.ClassService, &Options{Classification: &zero}, "MARKETING"},
		{"ios", "EXPRESS", provider.IOS, provider.ClassService, nil, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.HuaweiServiceCategory = tt.granted })
			assert.Equal(t, tt.want, sentChannels(t, h, tt.platform, tt.class, tt.opts)[ChannelHuawei].Category)
		})
	}
	_, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, HuaweiServiceCategory: "urgent"})
	assert.Equal(t, "huawei_service_category", provider.FieldOf(err), "%v", err)
}

// sentChannels sends a push of platform and class, with opts as its own
// Options (nil: none), through h, and returns the third_party_channel of
// its body.
func sentChannels(t *testing.T, h *harness, platform provider.Platform, class provider.Class, opts *Options) map[string]ThirdPartyChannel {
	t.Helper()
	h.respondPush(http.StatusOK, okPush)
	r := request(platform, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1"}})
	r.Notification.Class = class
	if opts != nil {
		r.Overrides = map[string]any{Name: opts}
	}
	_, err := h.client.Send(context.Background(), r)
	require.NoError(t, err)
	var body struct {
		Options struct {
			ThirdPartyChannel map[string]ThirdPartyChannel `json:"third_party_channel"`
		} `json:"options"`
	}
	require.NoError(t, json.Unmarshal(h.only(t).body, &body))
	return body.Options.ThirdPartyChannel
}

// TestClassChannels: an Android push carries the third_party_channel
// entries of its class (the one Classification names, when set), with its
// own entries laid over them maker by maker and field by field; a push
// without a class, and iOS, carry none; a class's Huawei category wins
// over the granted one; New copies the map and refuses an unknown class or
// an entry no push could carry, naming the field.
func TestClassChannels(t *testing.T) {
	zero, one := 0, 1
	classes := map[provider.Class]map[string]ThirdPartyChannel{
		provider.ClassService: {ChannelXiaomi: {ChannelID: "orders"}, ChannelOPPO: {ChannelID: "orders", Category: "ORDER"},
			ChannelVivo: {Category: "ORDER"}, ChannelHuawei: {Category: "IM"}},
		provider.ClassMarketing: {ChannelXiaomi: {ChannelID: "promotions"}, ChannelOPPO: {Category: "MARKETING"}, ChannelVivo: {Category: "MARKETING"}},
	}
	for _, tt := range []struct {
		name     string
		platform provider.Platform
		class    provider.Class
		opts     *Options
		want     map[string]ThirdPartyChannel
	}{
		{"service", provider.Android, provider.ClassService, nil, map[string]ThirdPartyChannel{ChannelXiaomi: {ChannelID: "orders"},
			ChannelOPPO: {ChannelID: "orders", Category: "ORDER"}, ChannelVivo: {Category: "ORDER"}, ChannelHuawei: {Category: "IM"}}},
		{"marketing", provider.Android, provider.ClassMarketing, nil, map[string]ThirdPartyChannel{ChannelXiaomi: {ChannelID: "promotions"},
			ChannelOPPO: {Category: "MARKETING"}, ChannelVivo: {Category: "MARKETING"}, ChannelHuawei: {Category: "MARKETING"}}},
		{"classification 0 picks marketing", provider.Android, provider.ClassService, &Options{Classification: &zero}, map[string]ThirdPartyChannel{
			ChannelXiaomi: {ChannelID: "promotions"}, ChannelOPPO: {Category: "MARKETING"}, ChannelVivo: {Category: "MARKETING"},
			ChannelHuawei: {Category: "MARKETING"}}},
		{"own entries win field by field", provider.Android, provider.ClassService, &Options{ThirdPartyChannel: map[string]ThirdPartyChannel{
			ChannelXiaomi: {ChannelID: "chat", Distribution: DistributionOSPush}, ChannelMeizu: {Distribution: DistributionJPush}}},
			map[string]ThirdPartyChannel{ChannelXiaomi: {ChannelID: "chat", Distribution: DistributionOSPush},
				ChannelOPPO: {ChannelID: "orders", Category: "ORDER"}, ChannelVivo: {Category: "ORDER"}, ChannelHuawei: {Category: "IM"},
				ChannelMeizu: {Distribution: DistributionJPush}}},
		{"no class", provider.Android, "", nil, nil},
		{"ios", provider.IOS, provider.ClassService, nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.HuaweiServiceCategory = "EXPRESS"; c.ClassChannels = classes })
			assert.Equal(t, tt.want, sentChannels(t, h, tt.platform, tt.class, tt.opts))
		})
	}

	// A push's own entry is checked laid over its class's: its
	// notify_level counts on the class's OPPO category.
	h0 := newHarness(t, func(c *Config) { c.ClassChannels = classes })
	sixteen := OPPONotifyAll
	assert.Equal(t, ThirdPartyChannel{ChannelID: "orders", Category: "ORDER", NotifyLevel: &sixteen},
		sentChannels(t, h0, provider.Android, provider.ClassService, &Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelOPPO: {NotifyLevel: &sixteen}}})[ChannelOPPO])

	// The classes are the Config's as New saw them, the values their
	// entries point to included.
	level := OPPONotifyBar
	mine := map[provider.Class]map[string]ThirdPartyChannel{provider.ClassService: {ChannelXiaomi: {ChannelID: "orders"},
		ChannelOPPO: {Category: "ORDER", NotifyLevel: &level}}}
	h := newHarness(t, func(c *Config) { c.ClassChannels = mine })
	mine[provider.ClassService][ChannelXiaomi] = ThirdPartyChannel{ChannelID: "late"}
	mine[provider.ClassMarketing] = map[string]ThirdPartyChannel{ChannelXiaomi: {ChannelID: "late"}}
	level = 99
	bar := OPPONotifyBar
	assert.Equal(t, map[string]ThirdPartyChannel{ChannelXiaomi: {ChannelID: "orders"}, ChannelOPPO: {Category: "ORDER", NotifyLevel: &bar}},
		sentChannels(t, h, provider.Android, provider.ClassService, nil))

	for field, cc := range map[string]map[provider.Class]map[string]ThirdPartyChannel{
		"class_channels":                                  {"urgent": {}},
		`class_channels.service["samsung"]`:               {provider.ClassService: {"samsung": {}}},
		`class_channels.marketing["oppo"].notify_level`:   {provider.ClassMarketing: {ChannelOPPO: {NotifyLevel: &zero}}},
		`class_channels.service["huawei"].importance`:     {provider.ClassService: {ChannelHuawei: {Importance: "URGENT"}}},
		`class_channels.marketing["huawei"].category`:     {provider.ClassMarketing: {ChannelHuawei: {Category: "IM"}}},
		`class_channels.service["huawei"].category`:       {provider.ClassService: {ChannelHuawei: {Category: "MARKETING"}}},
		`class_channels.service["honor"].importance`:      {provider.ClassService: {ChannelHonor: {Importance: "LOW"}}},
		`class_channels.marketing["vivo"].classification`: {provider.ClassMarketing: {ChannelVivo: {Classification: &one}}},
		`class_channels.marketing["vivo"].category`:       {provider.ClassMarketing: {ChannelVivo: {Category: "IM"}}},
		`class_channels.service["vivo"].category`:         {provider.ClassService: {ChannelVivo: {Category: "order"}}},
	} {
		_, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, ClassChannels: cc})
		require.Error(t, err, field)
		assert.Equal(t, field, provider.FieldOf(err), "%v", err)
	}
}
