package umeng

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// sentPayload sends r and returns the payload object Umeng received.
func sentPayload(t *testing.T, r *provider.Request) map[string]any {
	t.Helper()
	h := newHarness(t)
	h.respond("/api/send", http.StatusOK, okMsg)
	_, err := h.client.Send(context.Background(), r)
	require.NoError(t, err)
	var body struct {
		Payload map[string]any `json:"payload"`
	}
	require.NoError(t, json.Unmarshal(h.only(t).body, &body))
	return body.Payload
}

func unicast(p provider.Platform) *provider.Request {
	return request(p, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1"}})
}

func TestAndroidPayload(t *testing.T) {
	tests := []struct {
		name string
		edit func(*provider.Request)
		want string
	}{
		{
			name: "notification defaults",
			want: `{"display_type":"notification","body":{"ticker":"Order shipped","title":"Order shipped",
				"text":"Your order 42 is on its way","after_open":"go_app"},"extra":{"order_id":"42"}}`,
		},
		{
			name: "go_activity",
			edit: func(r *provider.Request) {
				r.Notification.Extras = nil
				r.Overrides = map[string]any{Name: &Options{AfterOpen: AfterOpenActivity, Activity: "com.example.Main"}}
			},
			want: `{"display_type":"notification","body":{"ticker":"Order shipped","title":"Order shipped",
				"text":"Your order 42 is on its way","after_open":"go_activity","activity":"com.example.Main"}}`,
		},
		{
			name: "custom string rides along with go_app",
			edit: func(r *provider.Request) {
				r.Overrides = map[string]any{Name: &Options{Custom: json.RawMessage(`"hello"`), Img: "http://img.example.com/a.png"}}
				r.Notification.Image = "https://ignored.example.com/b.png"
			},
			want: `{"display_type":"notification","body":{"ticker":"Order shipped","title":"Order shipped",
				"text":"Your order 42 is on its way","img":"http://img.example.com/a.png","after_open":"go_app","custom":"hello"},
				"extra":{"order_id":"42"}}`,
		},
		{
			name: "silent message carries the body in custom",
			edit: func(r *provider.Request) {
				r.Notification = provider.Notification{Silent: true, Body: "sync-orders"}
			},
			want: `{"display_type":"message","body":{"custom":"{\"body\":\"sync-orders\"}"}}`,
		},
		{
			name: "silent message carries title, body and extras in custom, not in extra",
			edit: func(r *provider.Request) { r.Notification.Silent = true },
			want: `{"display_type":"message","body":{"custom":
				"{\"title\":\"Order shipped\",\"body\":\"Your order 42 is on its way\",\"extras\":{\"order_id\":\"42\"}}"}}`,
		},
		{
			name: "silent message of extras alone",
			edit: func(r *provider.Request) {
				r.Notification = provider.Notification{Silent: true, Extras: map[string]string{"sync": "orders", "url": "a?b=1&c=2"}}
			},
			want: `{"display_type":"message","body":{"custom":"{\"extras\":{\"sync\":\"orders\",\"url\":\"a?b=1&c=2\"}}"}}`,
		},
		{
			name: "display type forced to message",
			edit: func(r *provider.Request) {
				r.Notification.Extras = nil
				r.Overrides = map[string]any{Name: &Options{DisplayType: DisplayMessage, Custom: json.RawMessage(`{"a":1}`)}}
			},
			want: `{"display_type":"message","body":{"custom":{"a":1}}}`,
		},
		{
			name: "nil options pointer is no options",
			edit: func(r *provider.Request) {
				r.Notification.Extras = nil
				r.Overrides = map[string]any{Name: (*Options)(nil), "jpush": 42}
			},
			want: `{"display_type":"notification","body":{"ticker":"Order shipped","title":"Order shipped",
				"text":"Your order 42 is on its way","after_open":"go_app"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := unicast(provider.Android)
			if tt.edit != nil {
				tt.edit(r)
			}
			got, err := json.Marshal(sentPayload(t, r))
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(got))
		})
	}
}

func TestIOSPayload(t *testing.T) {
	tests := []struct {
		name string
		edit func(*provider.Request)
		want string
	}{
		{
			name: "title and body make an alert object",
			want: `{"aps":{"alert":{"title":"Order shipped","body":"Your order 42 is on its way"},"sound":"default"},"order_id":"42"}`,
		},
		{
			name: "a named sound is sent",
			edit: func(r *provider.Request) { r.Notification.Sound = "chime.caf" },
			want: `{"aps":{"alert":{"title":"Order shipped","body":"Your order 42 is on its way"},"sound":"chime.caf"},"order_id":"42"}`,
		},
		{
			name: "NoSound sends no sound",
			edit: func(r *provider.Request) { r.Notification.Sound = provider.NoSound },
			want: `{"aps":{"alert":{"title":"Order shipped","body":"Your order 42 is on its way"}},"order_id":"42"}`,
		},
		{
			name: "a bare body is an alert string",
			edit: func(r *provider.Request) { r.Notification.Title = "" },
			want: `{"aps":{"alert":"Your order 42 is on its way","sound":"default"},"order_id":"42"}`,
		},
		{
			name: "silent drops alert and sound",
			edit: func(r *provider.Request) {
				r.Notification.Silent = true
				r.Notification.Sound = "default"
				r.Notification.Extras = nil
			},
			want: `{"aps":{"content-available":1}}`,
		},
		{
			name: "string raw keys sit next to the extras",
			edit: func(r *provider.Request) {
				r.Overrides = map[string]any{Name: &Options{IOSKeys: map[string]json.RawMessage{
					"deeplink": json.RawMessage(` "{\"path\":\"/orders/42\"}" `),
				}}}
			},
			want: `{"aps":{"alert":{"title":"Order shipped","body":"Your order 42 is on its way"},"sound":"default"},
				"deeplink":"{\"path\":\"/orders/42\"}","order_id":"42"}`,
		},
		{
			name: "Android options are ignored",
			edit: func(r *provider.Request) {
				r.Notification.Extras = nil
				r.Overrides = map[string]any{Name: &Options{AfterOpen: "bogus", Img: "ftp://x",
					ChannelProperties: ChannelProperties{Extra: map[string]string{"": ""}, OppoNotifyLevel: 3},
					BigBody:           strings.Repeat("x", 200), NotificationClosedFilter: boolPtr(true)}}
			},
			want: `{"aps":{"alert":{"title":"Order shipped","body":"Your order 42 is on its way"},"sound":"default"}}`,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := unicast(provider.IOS)
			if tt.edit != nil {
				tt.edit(r)
			}
			got, err := json.Marshal(sentPayload(t, r))
			require.NoError(t, err)
			assert.JSONEq(t, tt.want, string(got))
		})
	}
}

func TestSendRejectsBadPayloads(t *testing.T) {
	opts := func(o Options) func(*provider.Request) {
		return func(r *provider.Request) { r.Overrides = map[string]any{Name: &o} }
	}
	long := strings.Repeat("x", 2100)
	tests := []struct {
		name     string
		platform provider.Platform
		edit     func(*provider.Request)
		field    string
	}{
		{"nil request", provider.Android, nil, "request"},
		{"bad platform", provider.Android, func(r *provider.Request) { r.Platform = "web" }, "platform"},
		{"nothing to show", provider.Android, func(r *provider.Request) { r.Notification = provider.Notification{} }, "notification.body"},
		{"overrides of the wrong type", provider.Android, func(r *provider.Request) { r.Overrides = map[string]any{Name: "go_url"} }, "overrides.umeng"},
		{"overrides of the wrong type on iOS", provider.IOS, func(r *provider.Request) { r.Overrides = map[string]any{Name: 1} }, "overrides.umeng"},
		{"android title missing", provider.Android, func(r *provider.Request) { r.Notification.Title = "" }, "notification.title"},
		{"android text missing", provider.Android, func(r *provider.Request) { r.Notification.Body = "" }, "notification.body"},
		{"android empty extra key", provider.Android, func(r *provider.Request) { r.Notification.Extras = map[string]string{"": "x"} }, "notification.extras"},
		{"android unknown display type", provider.Android, opts(Options{DisplayType: "popup"}), "overrides.umeng.display_type"},
		{"android message with nothing to carry", provider.Android, func(r *provider.Request) {
			r.Notification = provider.Notification{Silent: true}
		}, "overrides.umeng.custom"},
		{"android message with array custom", provider.Android, func(r *provider.Request) {
			r.Notification.Extras = nil
			r.Overrides = map[string]any{Name: &Options{DisplayType: DisplayMessage, Custom: json.RawMessage(`[1]`)}}
		}, "overrides.umeng.custom"},
		{"android message with custom and extras", provider.Android, func(r *provider.Request) {
			r.Notification.Silent = true
			r.Overrides = map[string]any{Name: &Options{Custom: json.RawMessage(`{"a":1}`)}}
		}, "notification.extras"},
		{"android custom not JSON", provider.Android, opts(Options{Custom: json.RawMessage(`{`)}), "overrides.umeng.custom"},
		{"android go_url without url", provider.Android, opts(Options{AfterOpen: AfterOpenURL}), "overrides.umeng.url"},
		{"android go_url with ftp url", provider.Android, opts(Options{AfterOpen: AfterOpenURL, URL: "ftp://example.com/a"}), "overrides.umeng.url"},
		{"android go_activity without activity", provider.Android, opts(Options{AfterOpen: AfterOpenActivity}), "overrides.umeng.activity"},
		{"android go_custom without custom", provider.Android, opts(Options{AfterOpen: AfterOpenCustom}), "overrides.umeng.custom"},
		{"android unknown after_open", provider.Android, opts(Options{AfterOpen: "go_home"}), "overrides.umeng.after_open"},
		{"android image not http", provider.Android, func(r *provider.Request) { r.Notification.Image = "file:///a.png" }, "notification.image"},
		{"android img override not http", provider.Android, opts(Options{Img: "/a.png"}), "overrides.umeng.img"},
		{"android negative builder id", provider.Android, opts(Options{BuilderID: intPtr(-1)}), "overrides.umeng.builder_id"},
		{"android both badges", provider.Android, opts(Options{SetBadge: intPtr(1), AddBadge: intPtr(1)}), "overrides.umeng.set_badge"},
		{"android empty channel property key", provider.Android, opts(Options{ChannelProperties: ChannelProperties{Extra: map[string]string{" ": "x"}}}), "overrides.umeng.channel_properties.extra"},
		{"android channel property extra names a typed one", provider.Android, opts(Options{ChannelProperties: ChannelProperties{Extra: map[string]string{"oppo_channel_id": "x"}}}), `overrides.umeng.channel_properties.extra["oppo_channel_id"]`},
		{"android channel activity with a space", provider.Android, opts(Options{ChannelProperties: ChannelProperties{ChannelActivity: "com.example. A"}}), "overrides.umeng.channel_properties.channel_activity"},
		{"android vivo category in lower case", provider.Android, opts(Options{ChannelProperties: ChannelProperties{VivoCategory: "order"}}), "overrides.umeng.channel_properties.vivo_category"},
		{"android vivo operational category of a service push", provider.Android, func(r *provider.Request) {
			r.Notification.Class = provider.ClassService
			opts(Options{ChannelProperties: ChannelProperties{VivoCategory: "NEWS"}})(r)
		}, "overrides.umeng.channel_properties.vivo_category"},
		{"android vivo system category of a marketing push", provider.Android, func(r *provider.Request) {
			r.Notification.Class = provider.ClassMarketing
			opts(Options{ChannelProperties: ChannelProperties{VivoCategory: "IM"}})(r)
		}, "overrides.umeng.channel_properties.vivo_category"},
		{"android main activity with a newline", provider.Android, opts(Options{ChannelProperties: ChannelProperties{MainActivity: "com.example.A\n"}}), "overrides.umeng.channel_properties.main_activity"},
		{"android unknown huawei importance", provider.Android, opts(Options{ChannelProperties: ChannelProperties{HuaweiChannelImportance: "HIGH"}}), "overrides.umeng.channel_properties.huawei_channel_importance"},
		{"android lower-case huawei importance", provider.Android, opts(Options{ChannelProperties: ChannelProperties{HuaweiChannelImportance: "low"}}), "overrides.umeng.channel_properties.huawei_channel_importance"},
		{"android unknown oppo notify level", provider.Android, opts(Options{ChannelProperties: ChannelProperties{OppoCategory: "IM", OppoNotifyLevel: 4}}), "overrides.umeng.channel_properties.oppo_notify_level"},
		{"android oppo notify level without category", provider.Android, opts(Options{ChannelProperties: ChannelProperties{OppoNotifyLevel: OppoNotifyTray}}), "overrides.umeng.channel_properties.oppo_notify_level"},
		{"android oppo template without id", provider.Android, opts(Options{ChannelProperties: ChannelProperties{OppoPrivateMsgTemplate: &OppoPrivateMsgTemplate{}}}), "overrides.umeng.channel_properties.oppo_private_msg_template.private_msg_template_id"},
		{"android oppo template empty parameter key", provider.Android, opts(Options{ChannelProperties: ChannelProperties{OppoPrivateMsgTemplate: &OppoPrivateMsgTemplate{TemplateID: "t1", ContentParameters: map[string]string{"": "x"}}}}), "overrides.umeng.channel_properties.oppo_private_msg_template.private_content_parameters"},
		{"android xiaomi extra empty key", provider.Android, opts(Options{ChannelProperties: ChannelProperties{XiaomiExtraProperties: map[string]string{"": "x"}}}), "overrides.umeng.channel_properties.xiaomi_extra_properties"},
		{"android meizu msg type 2", provider.Android, opts(Options{ChannelProperties: ChannelProperties{MeizuMsgType: intPtr(2)}}), "overrides.umeng.channel_properties.meizu_msg_type"},
		{"android local importance without category", provider.Android, opts(Options{LocalProperties: LocalProperties{Importance: "IMPORTANCE_MIN"}}), "overrides.umeng.local_properties.importance"},
		{"android local category with a space", provider.Android, opts(Options{LocalProperties: LocalProperties{Category: "CATEGORY PROMO"}}), "overrides.umeng.local_properties.category"},
		{"android big body too long", provider.Android, opts(Options{BigBody: strings.Repeat("长", MaxBigBodyChars+1)}), "overrides.umeng.big_body"},
		{"android expand image not http", provider.Android, opts(Options{ExpandImage: "ship.png"}), "overrides.umeng.expand_image"},
		{"uapp arg with a space", provider.Android, opts(Options{UappArg: "plan 1"}), "overrides.umeng.uapp_arg"},
		{"android mi_activity without mipush", provider.Android, opts(Options{MiActivity: "com.example.A"}), "overrides.umeng.mi_activity"},
		{"android payload too long for its body", provider.Android, func(r *provider.Request) { r.Notification.Body = long }, "notification.body"},
		{"ios payload too long for its body", provider.IOS, func(r *provider.Request) { r.Notification.Body = long }, "notification.body"},
		{"android payload too long for its title", provider.Android, func(r *provider.Request) { r.Notification.Title = long[:1000] }, "notification.title"},
		{"ios payload too long for its title", provider.IOS, func(r *provider.Request) { r.Notification.Title = long }, "notification.title"},
		{"ios payload too long for its subtitle", provider.IOS, func(r *provider.Request) { r.Notification.Subtitle = long }, "notification.subtitle"},
		{"android payload too long for its extras", provider.Android, func(r *provider.Request) {
			r.Notification.Extras = map[string]string{"a": long[:1000], "b": long[:1000]}
		}, "notification.extras"},
		{"android message too long for its extras", provider.Android, func(r *provider.Request) {
			r.Notification.Silent = true
			r.Notification.Extras = map[string]string{"a": long[:1000], "b": long[:1000]}
		}, "notification.extras"},
		{"ios payload too long for its extras", provider.IOS, func(r *provider.Request) {
			r.Notification.Extras = map[string]string{"a": long[:1100], "b": long[:1100]}
		}, "notification.extras"},
		{"android payload too long for its custom", provider.Android, opts(Options{Custom: json.RawMessage(`"` + long + `"`)}), "overrides.umeng.custom"},
		{"ios payload too long for its raw keys", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`"` + long + `"`)}}), "overrides.umeng.ios_keys"},
		{"ios negative badge", provider.IOS, func(r *provider.Request) { r.Notification.Badge = intPtr(-1) }, "notification.badge"},
		{"ios badge string not a number", provider.IOS, opts(Options{IOSBadge: strPtr("one")}), "overrides.umeng.ios_badge"},
		{"ios badge string with two signs", provider.IOS, opts(Options{IOSBadge: strPtr("+-1")}), "overrides.umeng.ios_badge"},
		{"ios badge string sign only", provider.IOS, opts(Options{IOSBadge: strPtr("+")}), "overrides.umeng.ios_badge"},
		{"ios badge string and number", provider.IOS, func(r *provider.Request) {
			r.Notification.Badge = intPtr(1)
			r.Overrides = map[string]any{Name: &Options{IOSBadge: strPtr("+1")}}
		}, "overrides.umeng.ios_badge"},
		{"ios unknown interruption level", provider.IOS, opts(Options{InterruptionLevel: "urgent"}), "overrides.umeng.interruption_level"},
		{"ios collapse id too long", provider.IOS, opts(Options{APNsCollapseID: strings.Repeat("c", MaxAPNsCollapseIDBytes+1)}), "overrides.umeng.apns_collapse_id"},
		{"ios reserved extra d", provider.IOS, func(r *provider.Request) { r.Notification.Extras = map[string]string{"d": "x"} }, `notification.extras["d"]`},
		{"ios reserved extra p", provider.IOS, func(r *provider.Request) { r.Notification.Extras = map[string]string{"p": "x"} }, `notification.extras["p"]`},
		{"ios extra aps", provider.IOS, func(r *provider.Request) { r.Notification.Extras = map[string]string{"aps": "x"} }, `notification.extras["aps"]`},
		{"ios empty extra key", provider.IOS, func(r *provider.Request) { r.Notification.Extras = map[string]string{"": "x"} }, "notification.extras"},
		{"ios reserved raw key", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"p": json.RawMessage(`1`)}}), `overrides.umeng.ios_keys["p"]`},
		{"ios raw key not JSON", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`{`)}}), `overrides.umeng.ios_keys["k"]`},
		{"ios raw key an object", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`{"path":"/a"}`)}}), `overrides.umeng.ios_keys["k"]`},
		{"ios raw key an array", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`["a"]`)}}), `overrides.umeng.ios_keys["k"]`},
		{"ios raw key a number", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`2`)}}), `overrides.umeng.ios_keys["k"]`},
		{"ios raw key a boolean", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`true`)}}), `overrides.umeng.ios_keys["k"]`},
		{"ios raw key null", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`null`)}}), `overrides.umeng.ios_keys["k"]`},
		{"ios raw key empty", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": nil}}), `overrides.umeng.ios_keys["k"]`},
		{"ios raw key a string with trailing data", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"k": json.RawMessage(`"a" "b"`)}}), `overrides.umeng.ios_keys["k"]`},
		{"ios raw key duplicates an extra", provider.IOS, opts(Options{IOSKeys: map[string]json.RawMessage{"order_id": json.RawMessage(`"1"`)}}), `overrides.umeng.ios_keys["order_id"]`},
		{"negative max_send_num", provider.IOS, opts(Options{MaxSendNum: -1}), "overrides.umeng.max_send_num"},
		{"receipt url not http", provider.Android, opts(Options{ReceiptURL: "hooks"}), "overrides.umeng.receipt_url"},
		{"unknown receipt type", provider.IOS, opts(Options{ReceiptURL: "https://h.example.com", ReceiptType: 4}), "overrides.umeng.receipt_type"},
		{"receipt type without url", provider.Android, opts(Options{ReceiptType: ReceiptClick}), "overrides.umeng.receipt_type"},
		{"callback params a string", provider.Android, opts(Options{CallbackParams: json.RawMessage(`"push=7"`)}), "overrides.umeng.callback_params"},
		{"callback params an array", provider.IOS, opts(Options{CallbackParams: json.RawMessage(`[1]`)}), "overrides.umeng.callback_params"},
		{"callback params not JSON", provider.IOS, opts(Options{CallbackParams: json.RawMessage(`{`)}), "overrides.umeng.callback_params"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := unicast(tt.platform)
			if tt.edit != nil {
				tt.edit(r)
			}
			if tt.field == "request" {
				r = nil
			}
			h.requireRefused(t, r, tt.field)
		})
	}
}

// TestPayloadLimitIsInclusive sends payloads of exactly the limit and one
// byte more.
func TestPayloadLimitIsInclusive(t *testing.T) {
	tests := []struct {
		platform provider.Platform
		limit    int
	}{
		{provider.Android, MaxAndroidPayloadBytes},
		{provider.IOS, MaxIOSPayloadBytes},
	}
	for _, tt := range tests {
		t.Run(string(tt.platform), func(t *testing.T) {
			r := unicast(tt.platform)
			size := func() int {
				o, err := optionsFrom(r.Overrides)
				require.NoError(t, err)
				p, err := buildPayload(r, o)
				require.NoError(t, err)
				return len(p)
			}
			r.Notification.Body = "x"
			r.Notification.Body = strings.Repeat("x", tt.limit-size()+1)
			require.Equal(t, tt.limit, size())

			h := newHarness(t)
			h.respond("/api/send", http.StatusOK, okMsg)
			_, err := h.client.Send(context.Background(), r)
			require.NoError(t, err)

			require.NoError(t, h.client.Validate(r))
			r.Notification.Body += "x"
			requireField(t, h.client.Validate(r), "notification.body")
			_, err = h.client.Send(context.Background(), r)
			requireField(t, err, "notification.body")
			assert.Len(t, h.requests(), 1)
		})
	}
}
