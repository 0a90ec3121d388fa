package getui_test

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

var update = flag.Bool("update", false, "rewrite the golden request bodies under testdata/")

type goldenCase struct {
	name      string
	platforms []provider.Platform // default: both
	audience  provider.Audience
	edit      func(*provider.Request)
	config    func(*getui.Config)
}

func intPtr(n int) *int { return &n }

func goldenCases() []goldenCase {
	cids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = getuitest.CID("golden-" + string(rune('a'+i)))
		}
		return out
	}
	return []goldenCase{
		// One case per route, on both platforms.
		{name: "tokens_one", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: cids(1)}},
		{name: "tokens_many", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: cids(3)}},
		{name: "broadcast", audience: provider.Audience{Kind: provider.AudienceBroadcast}},
		{name: "broadcast_all_devices", platforms: []provider.Platform{provider.Android}, audience: provider.Audience{Kind: provider.AudienceBroadcast},
			edit: func(r *provider.Request) { r.Overrides = map[string]any{getui.Name: &getui.Options{AllDevices: true}} }},
		{name: "alias_one", audience: provider.Audience{Kind: provider.AudienceAliases, AliasType: "ignored", Aliases: []string{"u1001"}}},
		{name: "aliases_many", audience: provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"u1001", "u1002"}}},
		{name: "filter_tags", audience: provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip", "beta"}}},
		{name: "filter_conditions", audience: provider.Audience{Kind: provider.AudienceFilter,
			Filter: json.RawMessage(`[{"key":"region","values":["11000000"],"opt_type":"or"},{"key":"custom_tag","values":["muted"],"opt_type":"not"}]`),
			Tags:   []string{"vip"}}},

		// Payload and settings variants.
		{name: "silent", audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: cids(1)},
			edit: func(r *provider.Request) {
				r.Notification.Silent = true
				r.Notification.Badge = intPtr(5)
				r.ExpireTime = goldenNow.Add(90*time.Minute + 500*time.Microsecond)
			}},
		{name: "scheduled", audience: provider.Audience{Kind: provider.AudienceBroadcast},
			edit: func(r *provider.Request) {
				r.StartTime = goldenNow.Add(2 * time.Hour)
				r.ExpireTime = goldenNow.Add(3 * time.Hour)
			}},
		{
			name:      "android_full",
			platforms: []provider.Platform{provider.Android},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: cids(1)},
			edit: func(r *provider.Request) {
				r.Notification.Extras = nil
				r.ExpireTime = goldenNow.Add(30 * 24 * time.Hour) // clamped to three days
				r.Overrides = map[string]any{getui.Name: &getui.Options{
					ClickType: getui.ClickIntent,
					Intent:    "intent:#Intent;component=com.example/.OrderActivity;S.order=42;end",
					ChannelID: "orders",
					Strategy:  map[string]int{"default": 1, "hw": 4},
					UpsOptions: map[string]map[string]any{
						getui.MakerHuawei: {"/message/android/category": "EXPRESS", "/message/android/notification/importance": "NORMAL"},
						getui.MakerXiaomi: {"/extra.channel_id": "high_system"},
						getui.MakerVivo:   {"/classification": 1},
						getui.MakerAll:    {"notify_level": 4},
					},
				}}
			},
		},
		// A message class sets vivo's classification and Huawei's
		// importance; an explicit maker option wins over the class.
		{name: "class_marketing", platforms: []provider.Platform{provider.Android, provider.IOS},
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: cids(1)},
			edit:     func(r *provider.Request) { r.Notification.Class = provider.ClassMarketing }},
		{name: "class_service", platforms: []provider.Platform{provider.Android},
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: cids(1)},
			edit: func(r *provider.Request) {
				r.Notification.Class = provider.ClassService
				r.Overrides = map[string]any{getui.Name: &getui.Options{UpsOptions: map[string]map[string]any{
					getui.MakerHuawei: {"/message/android/notification/importance": "LOW", "/message/android/category": "MARKETING"},
					getui.MakerXiaomi: {"/extra.channel_id": "orders"},
				}}}
			}},
		{
			name:      "android_url",
			platforms: []provider.Platform{provider.Android},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: cids(2)},
			edit: func(r *provider.Request) {
				r.Notification.Extras = nil
				r.Overrides = map[string]any{getui.Name: getui.Options{ClickType: getui.ClickURL, URL: "https://shop.example.com/orders/42?tab=ship&x=1"}}
			},
		},
		{
			name:      "ios_full",
			platforms: []provider.Platform{provider.IOS},
			audience:  provider.Audience{Kind: provider.AudienceTokens, Tokens: cids(1)},
			config:    func(c *getui.Config) { c.DefaultTimeToLive = 3 * time.Hour },
			edit: func(r *provider.Request) {
				r.Notification.Subtitle = "Tracking number ready"
				r.Notification.Badge = intPtr(0)
				r.Notification.Sound = "default"
				r.Notification.Category = "ORDER"
				r.Notification.ThreadID = "orders"
				r.StartTime = goldenNow.Add(-time.Minute) // passed: sent at once
				r.Overrides = map[string]any{getui.Name: json.RawMessage(`{"auto_badge":"+1","apns_collapse_id":"order-42"}`)}
			},
		},
	}
}

var goldenNow = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

// recordedCall is one delivering or task-creating call of a golden case.
type recordedCall struct {
	Path string          `json:"path"`
	Body json.RawMessage `json:"body"`
}

// TestGoldenRequestBodies pins the exact bodies of every route on both
// platforms and of the payload variants, as the fake received them (which
// also proves the fake accepts each). go test ./getui -update rewrites the
// files.
func TestGoldenRequestBodies(t *testing.T) {
	for _, gc := range goldenCases() {
		platforms := gc.platforms
		if platforms == nil {
			platforms = provider.Platforms()
		}
		for _, p := range platforms {
			name := gc.name + "_" + string(p)
			t.Run(name, func(t *testing.T) {
				c, fake := newAgainstFake(t, getuitest.Config{Now: func() time.Time { return goldenNow }}, gc.config)
				app := getuitest.DefaultApps()[0].AppID
				require.NoError(t, fake.AddDevice(app, getuitest.Device{CID: getuitest.CID("golden-a"), Platform: string(p), Alias: "u1001", Tags: []string{"vip"}}))
				require.NoError(t, fake.AddDevice(app, getuitest.Device{CID: getuitest.CID("golden-b"), Platform: string(p), Alias: "u1002", Tags: []string{"beta"}}))
				r := &provider.Request{
					Platform: p,
					Audience: gc.audience,
					Notification: provider.Notification{Title: "Order shipped", Body: "Your order 42 is on its way",
						Extras: map[string]string{"order_id": "42", "screen": "orders"}},
					IdempotencyKey: "push-7-chunk-0",
				}
				if gc.edit != nil {
					gc.edit(r)
				}
				require.NoError(t, c.Validate(r))
				rc, err := c.Send(context.Background(), r)
				require.NoError(t, err)
				require.Empty(t, rc.Failures)
				var calls []recordedCall
				for _, rec := range fake.Requests() {
					if rec.API == "/auth" {
						continue
					}
					require.Zero(t, rec.Code, "the fake refused %s: %s", rec.API, rec.Msg)
					var compact bytes.Buffer
					require.NoError(t, json.Compact(&compact, rec.Body))
					require.Equal(t, compact.String(), string(rec.Body), "bodies are sent compact")
					body := rec.Body
					if rec.API == "/push/list/message" {
						// A list task's creating call has a new random
						// request_id each time, never the key's.
						require.Regexp(t, `^[0-9a-f]{32}$`, rec.RequestID)
						require.NotEqual(t, getui.RequestID(r.IdempotencyKey), rec.RequestID)
						body = bytes.Replace(body, []byte(rec.RequestID), []byte("(random)"), 1)
					}
					calls = append(calls, recordedCall{Path: rec.API, Body: body})
				}
				compareGolden(t, filepath.Join("testdata", name+".json"), calls)
			})
		}
	}
}

// compareGolden compares calls, indented, with the golden file.
func compareGolden(t *testing.T, path string, calls []recordedCall) {
	t.Helper()
	raw, err := json.Marshal(calls)
	require.NoError(t, err)
	var buf bytes.Buffer
	require.NoError(t, json.Indent(&buf, raw, "", "  "))
	buf.WriteByte('\n')
	if *update {
		require.NoError(t, os.WriteFile(path, buf.Bytes(), 0o644))
		return
	}
	want, err := os.ReadFile(path)
	require.NoError(t, err, "missing golden file; run go test ./getui -update")
	require.Equal(t, strings.TrimSpace(string(want)), strings.TrimSpace(buf.String()), "bodies differ from %s", path)
}
