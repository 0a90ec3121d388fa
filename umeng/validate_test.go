package umeng_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// arrivals counts every call the fake received that could send or stage a
// push.
func arrivals(fake *umengtest.Server) int { return fake.Arrived("/api/send") + fake.Arrived("/upload") }

// largestBody returns the longest body of repeated unit that Validate
// accepts in r, found with Validate itself, so that the table below can
// probe the payload limit from both sides.
func largestBody(t *testing.T, c *umeng.Client, r *provider.Request, unit string) string {
	t.Helper()
	lo, hi := 0, 4096 // lo fits, hi does not
	for hi-lo > 1 {
		mid := (lo + hi) / 2
		r.Notification.Body = strings.Repeat(unit, mid)
		if c.Validate(r) == nil {
			lo = mid
		} else {
			hi = mid
		}
	}
	require.Positive(t, lo, "no body fits")
	return strings.Repeat(unit, lo)
}

// TestValidateAgreesWithFake is the property Validate promises, checked
// against the independent fake Umeng: for every request of the table,
// Validate accepts it exactly when Send gets it accepted, and a request
// Validate refuses is refused by Send with the same error before anything
// reaches the fake. Validate itself never reaches the fake.
func TestValidateAgreesWithFake(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	long := strings.Repeat("长", 800) // 2400 bytes of UTF-8
	opts := func(o umeng.Options) func(*provider.Request) {
		return func(r *provider.Request) { r.Overrides = map[string]any{umeng.Name: &o} }
	}
	extras := func(kv ...string) func(*provider.Request) {
		return func(r *provider.Request) {
			r.Notification.Extras = map[string]string{}
			for i := 0; i+1 < len(kv); i += 2 {
				r.Notification.Extras[kv[i]] = kv[i+1]
			}
		}
	}
	tests := []struct {
		name     string
		strategy umeng.Strategy
		edit     func(t *testing.T, c *umeng.Client, r *provider.Request)
		// ios and android are the field Validate names on each platform;
		// empty when the request is valid there.
		ios, android string
	}{
		{name: "unicast"},
		{name: "listcast", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			r.Audience.Tokens = []string{token(r.Platform, 0), token(r.Platform, 1), token(r.Platform, 2)}
		}},
		{name: "filecast by upload", strategy: umeng.StrategyFilecast},
		{name: "broadcast scheduled", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceBroadcast}
			r.StartTime = clk.t.Add(time.Hour)
		}},
		{name: "groupcast by tags", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip", "new"}}
		}},
		{name: "customizedcast by alias", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"u1001"}}
		}},
		{name: "silent", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { r.Notification.Silent = true }},
		{name: "body only", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { r.Notification.Title = "" },
			android: "notification.title"},
		{name: "subtitle", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { r.Notification.Subtitle = "副标题" }},
		{name: "largest body that fits", edit: func(t *testing.T, c *umeng.Client, r *provider.Request) {
			r.Notification.Body = largestBody(t, c, r, "x")
		}},
		{name: "largest multi-byte body that fits", edit: func(t *testing.T, c *umeng.Client, r *provider.Request) {
			r.Notification.Body = largestBody(t, c, r, "货")
		}},
		{name: "one byte over the limit", edit: func(t *testing.T, c *umeng.Client, r *provider.Request) {
			r.Notification.Body = largestBody(t, c, r, "x") + "x"
		}, ios: "notification.body", android: "notification.body"},
		{name: "body too long", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { r.Notification.Body = long },
			ios: "notification.body", android: "notification.body"},
		{name: "title too long", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { r.Notification.Title = long },
			ios: "notification.title", android: "notification.title"},
		{name: "extras too large", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			extras("a", long[:1500], "b", long[:1500])(r)
		}, ios: "notification.extras", android: "notification.extras"},
		{name: "extra aps", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { extras("aps", "x")(r) },
			ios: `notification.extras["aps"]`},
		{name: "extra d", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { extras("page", "goods", "d", "x")(r) },
			ios: `notification.extras["d"]`},
		{name: "extra p", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { extras("p", "x")(r) },
			ios: `notification.extras["p"]`},
		{name: "extra with an empty key", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { extras("", "x")(r) },
			ios: "notification.extras", android: "notification.extras"},
		{name: "raw iOS key that is not a string", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			opts(umeng.Options{IOSKeys: map[string]json.RawMessage{"n": json.RawMessage(`1`)}})(r)
		}, ios: `overrides.umeng.ios_keys["n"]`},
		{name: "go_url without url", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			opts(umeng.Options{AfterOpen: umeng.AfterOpenURL})(r)
		}, android: "overrides.umeng.url"},
		{name: "expiry in the past", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { r.ExpireTime = clk.t.Add(-time.Minute) },
			ios: "expire_time", android: "expire_time"},
		{name: "start on a unicast", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { r.StartTime = clk.t.Add(time.Hour) },
			ios: "start_time", android: "start_time"},
		{name: "too many tokens", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			r.Audience.Tokens = make([]string, umeng.MaxTokens+1)
			for i := range r.Audience.Tokens {
				r.Audience.Tokens[i] = token(r.Platform, i)
			}
		}, ios: "audience.tokens", android: "audience.tokens"},
		{name: "token with a comma", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			r.Audience.Tokens = []string{token(r.Platform, 0) + "," + token(r.Platform, 1)}
		}, ios: "audience.tokens[0]", android: "audience.tokens[0]"},
		{name: "small max_send_num", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			opts(umeng.Options{MaxSendNum: 10})(r)
		}, ios: "overrides.umeng.max_send_num", android: "overrides.umeng.max_send_num"},
		{name: "marketing class", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			r.Notification.Class = provider.ClassMarketing
		}},
		{name: "service class on a silent message", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			r.Notification.Class, r.Notification.Silent = provider.ClassService, true
		}},
		{name: "unknown class", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) { r.Notification.Class = "urgent" },
			ios: "notification.class", android: "notification.class"},
		{name: "every vendor option", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			yes, no, one, minus := true, false, 1, "-1"
			opts(umeng.Options{
				BigBody: strings.Repeat("长", umeng.MaxBigBodyChars), ExpandImage: "https://img.example.com/e.png", RePop: &yes, AddBadge: &one,
				ChannelProperties: umeng.ChannelProperties{
					ChannelActivity: "com.example.Push", MainActivity: "com.example.Main", XiaomiChannelID: "x",
					XiaomiExtraProperties: map[string]string{"template_id": "t"}, HuaweiChannelImportance: umeng.HuaweiImportanceNormal,
					HuaweiChannelCategory: "IM", OppoChannelID: "o", OppoCategory: "IM", OppoNotifyLevel: umeng.OppoNotifyAll,
					OppoPrivateMsgTemplate: &umeng.OppoPrivateMsgTemplate{TemplateID: "t", ContentParameters: map[string]string{"a": "b"}},
					VivoCategory:           "IM", VivoAddBadge: &no, MeizuMsgType: &one, ChannelFCM: &no,
					Extra: map[string]string{"honor_channel_importance": "NORMAL"},
				},
				LocalProperties:          umeng.LocalProperties{Category: "CATEGORY_PROMO", Importance: "IMPORTANCE_MIN"},
				NotificationClosedFilter: &yes,
				InterruptionLevel:        umeng.InterruptionPassive, IOSBadge: &minus, APNsCollapseID: strings.Repeat("c", umeng.MaxAPNsCollapseIDBytes),
				UappArg: "plan-1", CallbackParams: json.RawMessage(`{"push":7}`),
			})(r)
		}},
		{name: "huawei importance in lower case", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			opts(umeng.Options{ChannelProperties: umeng.ChannelProperties{HuaweiChannelImportance: "normal"}})(r)
		}, android: "overrides.umeng.channel_properties.huawei_channel_importance"},
		{name: "oppo notify level without category", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			opts(umeng.Options{ChannelProperties: umeng.ChannelProperties{OppoNotifyLevel: umeng.OppoNotifyTray}})(r)
		}, android: "overrides.umeng.channel_properties.oppo_notify_level"},
		{name: "big body over the limit", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			opts(umeng.Options{BigBody: strings.Repeat("长", umeng.MaxBigBodyChars+1)})(r)
		}, android: "overrides.umeng.big_body"},
		{name: "relative badge malformed", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			bad := "++1"
			opts(umeng.Options{IOSBadge: &bad})(r)
		}, ios: "overrides.umeng.ios_badge"},
		{name: "collapse id over the limit", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			opts(umeng.Options{APNsCollapseID: strings.Repeat("c", umeng.MaxAPNsCollapseIDBytes+1)})(r)
		}, ios: "overrides.umeng.apns_collapse_id"},
		{name: "callback params a string", edit: func(_ *testing.T, _ *umeng.Client, r *provider.Request) {
			opts(umeng.Options{CallbackParams: json.RawMessage(`"push=7"`)})(r)
		}, ios: "overrides.umeng.callback_params", android: "overrides.umeng.callback_params"},
	}
	for _, p := range provider.Platforms() {
		for _, tt := range tests {
			t.Run(string(p)+"/"+tt.name, func(t *testing.T) {
				c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, func(cfg *umeng.Config) { cfg.Strategy = tt.strategy })
				require.NoError(t, fake.AddDevice(appKey(p), umengtest.Device{Token: token(p, 0),
					Tags: []string{"vip"}, Aliases: map[string]string{"user_num": "u1001"}}))
				r := &provider.Request{
					Platform:       p,
					Audience:       provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token(p, 0)}},
					Notification:   provider.Notification{Title: "到货提醒", Body: "您关注的商品已到货", Extras: map[string]string{"page": "goods"}},
					ExpireTime:     clk.t.Add(24 * time.Hour),
					IdempotencyKey: "pm-1-0",
				}
				if tt.edit != nil {
					tt.edit(t, c, r)
				}
				want := map[provider.Platform]string{provider.IOS: tt.ios, provider.Android: tt.android}[p]

				verr := c.Validate(r)
				assert.Zero(t, arrivals(fake), "Validate must not reach Umeng")
				rc, serr := c.Send(ctx, r)
				if want == "" {
					require.NoError(t, verr, "Validate")
					require.NoError(t, serr, "a request Validate accepts must be accepted by the fake")
					assert.NotEmpty(t, rc.ID)
					require.Len(t, fake.Sends(), 1)
					assert.Empty(t, fake.Sends()[0].Ignored, "the client sends nothing the fake would ignore")
					return
				}
				require.ErrorIs(t, verr, provider.InvalidRequest)
				assert.Equal(t, want, provider.FieldOf(verr), "field of %v", verr)
				assert.Nil(t, rc)
				require.ErrorIs(t, serr, provider.InvalidRequest)
				assert.Equal(t, want, provider.FieldOf(serr), "Send must name the field Validate named")
				assert.Equal(t, verr.Error(), serr.Error())
				assert.Zero(t, arrivals(fake), "a request Validate refuses must not reach Umeng")
			})
		}
	}
}

// TestValidateConcurrent runs Validate from many goroutines against one
// Client under -race: it keeps no state.
func TestValidateConcurrent(t *testing.T) {
	c, fake := newAgainstFake(t, umengtest.Config{}, nil)
	done := make(chan error)
	for i := range 16 {
		go func() {
			r := &provider.Request{
				Platform:     provider.Platforms()[i%2],
				Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token(provider.Platforms()[i%2], i)}},
				Notification: provider.Notification{Title: "t", Body: "b", Extras: map[string]string{"k": "v"}},
			}
			done <- c.Validate(r)
		}()
	}
	for range 16 {
		assert.NoError(t, <-done)
	}
	assert.Zero(t, arrivals(fake))
}
