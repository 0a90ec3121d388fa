package umeng

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

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

var update = flag.Bool("update", false, "rewrite the golden request bodies under testdata/")

type goldenCase struct {
	name      string
	platforms []provider.Platform // default: both
	strategy  Strategy
	testMode  bool
	audience  provider.Audience
	edit      func(*provider.Request)
}

func intPtr(n int) *int       { return &n }
func boolPtr(b bool) *bool    { return &b }
func strPtr(s string) *string { return &s }

func goldenCases() []goldenCase {
	aliases := provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"u1001", "u1002"}}
	return []goldenCase{
		// One case per cast type, on both platforms.
		{name: "unicast", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(1)}},
		{name: "listcast", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(3)}},
		{name: "filecast_by_upload", strategy: StrategyFilecast, audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(3)}},
		{name: "filecast", audience: provider.Audience{Kind: provider.AudienceFile, FileID: "PF0000000000000001"}},
		{name: "broadcast", audience: provider.Audience{Kind: provider.AudienceBroadcast}},
		{name: "groupcast_filter", audience: provider.Audience{Kind: provider.AudienceFilter,
			Filter: json.RawMessage(`{"where": {"and": [{"app_version": "2.1.0"}, {"not": {"tag": "muted"}}]}}`)}},
		{name: "groupcast_group", audience: provider.Audience{Kind: provider.AudienceFilter, GroupID: "G000001"}},
		{name: "groupcast_tags", audience: provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip", "beta"}}},
		{name: "customizedcast_alias", audience: aliases},
		{name: "customizedcast_file", audience: provider.Audience{Kind: provider.AudienceFile, AliasType: "user_num", FileID: "PF0000000000000002"}},

		// Payload and policy variants.
		{
			name:      "android_notification_full",
			platforms: []provider.Platform{provider.Android},
			// A task cast: Umeng honours start_time on nothing else.
			audience: provider.Audience{Kind: provider.AudienceBroadcast},
			edit: func(r *provider.Request) {
				r.Notification.Sound = "ding"
				r.Notification.Image = "https://img.example.com/ship.png"
				r.StartTime = fixedNow.Add(time.Hour)
				r.ExpireTime = fixedNow.Add(48 * time.Hour)
				r.Overrides = map[string]any{Name: &Options{
					AfterOpen:         AfterOpenURL,
					URL:               "https://shop.example.com/orders/42?tab=track&src=push",
					Ticker:            "Shipped!",
					Icon:              "ic_ship",
					LargeIcon:         "ic_ship_large",
					BuilderID:         intPtr(2),
					PlayVibrate:       boolPtr(false),
					PlayLights:        boolPtr(false),
					PlaySound:         boolPtr(true),
					SetBadge:          intPtr(3),
					ChannelProperties: ChannelProperties{ChannelActivity: "com.example.shop.PushActivity", XiaomiChannelID: "orders"},
					MiPush:            true,
					MiActivity:        "com.example.shop.MiPushActivity",
					MaxSendNum:        5000,
					ReceiptURL:        "https://hooks.example.com/umeng",
					ReceiptType:       ReceiptArrivalAndClick,
					CallbackParams:    json.RawMessage(`{"push":7}`),
				}}
			},
		},
		{
			name:      "android_go_custom",
			platforms: []provider.Platform{provider.Android},
			audience:  aliases,
			edit: func(r *provider.Request) {
				r.Overrides = map[string]any{Name: Options{
					AfterOpen: AfterOpenCustom,
					Custom:    json.RawMessage(`{"screen": "order", "id": 42}`),
					AddBadge:  intPtr(1),
				}}
			},
		},
		{
			name:      "android_message",
			platforms: []provider.Platform{provider.Android},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(2)},
			edit: func(r *provider.Request) {
				// Title, body and extras travel in body.custom: Umeng
				// drops payload.extra on messages.
				r.Notification.Silent = true
			},
		},
		{
			name:      "ios_alert_full",
			platforms: []provider.Platform{provider.IOS},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(1)},
			edit: func(r *provider.Request) {
				r.Notification.Subtitle = "Tracking number ready"
				r.Notification.Badge = intPtr(0)
				r.Notification.Sound = "default"
				r.Notification.Category = "ORDER"
				r.Notification.ThreadID = "orders"
				r.Notification.MutableContent = true
				r.StartTime = fixedNow.Add(-time.Minute) // passed: sent at once
				r.ExpireTime = fixedNow.Add(7 * 24 * time.Hour)
				r.Overrides = map[string]any{Name: &Options{
					ContentAvailable: true,
					IOSKeys:          map[string]json.RawMessage{"deeplink": json.RawMessage(`"{\"path\":\"/orders/42\"}"`), "v": json.RawMessage(`"2"`)},
					MaxSendNum:       1000,
				}}
			},
		},
		{
			// Every channel property, the local properties, the new body
			// and policy fields, and the message class: what a push needs
			// to reach closed apps on Xiaomi, Huawei, Honor, OPPO, vivo
			// and Meizu phones.
			name:      "android_vendor_channels",
			platforms: []provider.Platform{provider.Android},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(2)},
			edit: func(r *provider.Request) {
				r.Notification.Class = provider.ClassService
				r.Overrides = map[string]any{Name: &Options{
					AfterOpen:   AfterOpenActivity,
					Activity:    "com.example.shop.OrderActivity",
					BigBody:     "Your order 42 left the warehouse at 10:03 and arrives tomorrow.",
					ExpandImage: "https://img.example.com/ship-876x324.png",
					RePop:       boolPtr(true),
					AddBadge:    intPtr(-1),
					ChannelProperties: ChannelProperties{
						ChannelActivity:       "com.example.shop.PushActivity",
						MainActivity:          "com.example.shop.MainActivity",
						XiaomiChannelID:       "orders",
						XiaomiExtraProperties: map[string]string{"template_id": "tpl-1", "template_param": `{"order":"42"}`},
						HuaweiChannelCategory: "EXPRESS",
						OppoChannelID:         "orders",
						OppoCategory:          "ORDER",
						OppoNotifyLevel:       OppoNotifyTrayLockScreen,
						OppoPrivateMsgTemplate: &OppoPrivateMsgTemplate{
							TemplateID:        "oppo-tpl-9",
							TitleParameters:   map[string]string{"shop": "Example"},
							ContentParameters: map[string]string{"order": "42"},
						},
						VivoCategory: "ORDER",
						VivoAddBadge: boolPtr(true),
						MeizuMsgType: intPtr(1),
						ChannelFCM:   boolPtr(false),
						Extra:        map[string]string{"honor_channel_importance": "NORMAL"},
					},
					LocalProperties: LocalProperties{
						Category: "CATEGORY_REMINDER", Importance: "IMPORTANCE_DEFAULT",
						ChannelID: "orders", ChannelName: "Orders",
					},
					NotificationClosedFilter: boolPtr(true),
					UappArg:                  "plan-3",
					CallbackParams:           json.RawMessage(`{"push":7,"chunk":"0"}`),
				}}
			},
		},
		{
			name:      "ios_alert_new_fields",
			platforms: []provider.Platform{provider.IOS},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(1)},
			edit: func(r *provider.Request) {
				// Umeng documents category for Android only: the class
				// sends nothing on iOS.
				r.Notification.Class = provider.ClassMarketing
				r.Overrides = map[string]any{Name: &Options{
					IOSBadge:          strPtr("+1"),
					InterruptionLevel: InterruptionTimeSensitive,
					APNsCollapseID:    "order-42",
					UappArg:           "plan-3",
					CallbackParams:    json.RawMessage(`{"push":7}`),
				}}
			},
		},
		{
			name:      "ios_alert_string",
			platforms: []provider.Platform{provider.IOS},
			testMode:  true,
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(1)},
			edit: func(r *provider.Request) {
				r.Notification.Title = ""
				r.Notification.Extras = nil
			},
		},
		{
			name:      "ios_silent",
			platforms: []provider.Platform{provider.IOS},
			audience:  provider.Audience{Kind: provider.AudienceBroadcast},
			edit: func(r *provider.Request) {
				r.Notification = provider.Notification{Silent: true, Badge: intPtr(5), Extras: map[string]string{"sync": "orders"}}
			},
		},
	}
}

// TestGoldenRequestBodies pins the exact body of every cast type on both
// platforms, and of the payload variants. go test ./umeng -update rewrites
// the files.
func TestGoldenRequestBodies(t *testing.T) {
	for _, gc := range goldenCases() {
		platforms := gc.platforms
		if platforms == nil {
			platforms = provider.Platforms()
		}
		for _, p := range platforms {
			name := gc.name + "_" + string(p)
			t.Run(name, func(t *testing.T) {
				h := newHarness(t, func(c *Config) {
					c.Strategy = gc.strategy
					c.TestMode = gc.testMode
				})
				h.respond("/upload", http.StatusOK, okUpload)
				h.respond("/api/send", http.StatusOK, okTask)

				r := request(p, gc.audience)
				if gc.edit != nil {
					gc.edit(r)
				}
				_, err := h.client.Send(context.Background(), r)
				require.NoError(t, err)

				for _, call := range h.requests() {
					file := name + ".json"
					if call.path == "/upload" {
						file = name + ".upload.json"
					}
					compareGolden(t, filepath.Join("testdata", file), call.body)
				}
			})
		}
	}
}

// compareGolden compares body, indented for review, with the golden file.
// Indenting keeps every key, value and their order, so the comparison pins
// the bytes sent up to white space.
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
	require.NoError(t, err, "missing golden file; run go test ./umeng -update")
	require.Equal(t, strings.TrimSpace(string(want)), strings.TrimSpace(buf.String()), "body differs from %s", path)
}
