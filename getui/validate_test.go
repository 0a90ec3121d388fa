package getui_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

// TestValidateRefusesNamingTheField: each request is refused by Validate
// and by Send with the same error, before any call (auth included).
func TestValidateRefusesNamingTheField(t *testing.T) {
	clk := newClock(start)
	opts := func(o any) func(r *provider.Request) {
		return func(r *provider.Request) { r.Overrides = map[string]any{getui.Name: o} }
	}
	tokens := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = cid(provider.Android, i)
		}
		return out
	}
	tests := []struct {
		name     string
		platform provider.Platform
		edit     func(r *provider.Request)
		field    string
	}{
		{"no platform", provider.Android, func(r *provider.Request) { r.Platform = "" }, "platform"},
		{"201 cids", provider.Android, func(r *provider.Request) { r.Audience.Tokens = tokens(201) }, "audience.tokens"},
		{"cid with space", provider.Android, func(r *provider.Request) { r.Audience.Tokens = []string{"a b"} }, "audience.tokens[0]"},
		{"201 aliases", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: tokens(201)}
		}, "audience.aliases"},
		{"blank alias", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: []string{"u1", " "}}
		}, "audience.aliases[1]"},
		{"group id", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceFilter, GroupID: "g1"}
		}, "audience.group_id"},
		{"filter object", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"tag":["vip"]}`)}
		}, "audience.filter"},
		{"filter bad opt_type", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`[{"key":"custom_tag","values":["a"],"opt_type":"xor"}]`)}
		}, "audience.filter"},
		{"blank tag", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip", ""}}
		}, "audience.tags[1]"},
		{"file", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceFile, FileID: "f"}
		}, "audience.kind"},
		{"android without title", provider.Android, func(r *provider.Request) { r.Notification.Title = "" }, "notification.title"},
		{"android without body", provider.Android, func(r *provider.Request) { r.Notification.Body = "" }, "notification.body"},
		{"title of 51", provider.Android, func(r *provider.Request) { r.Notification.Title = strings.Repeat("标", 51) }, "notification.title"},
		{"title of 26 emoji, 52 UTF-16 units", provider.Android, func(r *provider.Request) { r.Notification.Title = strings.Repeat("😀", 26) }, "notification.title"},
		{"body of 255 and an emoji, 257 UTF-16 units", provider.Android, func(r *provider.Request) { r.Notification.Body = strings.Repeat("字", 255) + "😀" }, "notification.body"},
		{"body of 257", provider.Android, func(r *provider.Request) { r.Notification.Body = strings.Repeat("字", 257) }, "notification.body"},
		{"silent transmission of 3073 bytes", provider.Android, func(r *provider.Request) {
			// {"body":"…"} takes 11 bytes besides the body.
			r.Notification = provider.Notification{Silent: true, Body: strings.Repeat("x", getui.MaxPayloadBytes-11+1)}
		}, "notification.body"},
		{"alias of 41 characters", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: []string{strings.Repeat("用", 41)}}
		}, "audience.aliases[0]"},
		{"silent over 3072", provider.Android, func(r *provider.Request) {
			r.Notification.Silent = true
			r.Notification.Extras = map[string]string{"big": strings.Repeat("x", 3100)}
		}, "notification.extras"},
		{"ios body over 3072", provider.IOS, func(r *provider.Request) { r.Notification.Body = strings.Repeat("x", 3073) }, "notification.body"},
		{"ios negative badge", provider.IOS, func(r *provider.Request) { r.Notification.Badge = new(int); *r.Notification.Badge = -1 }, "notification.badge"},
		{"blank extras key", provider.Android, func(r *provider.Request) { r.Notification.Extras = map[string]string{" ": "x"} }, "notification.extras"},
		{"extras with click url", provider.Android, func(r *provider.Request) {
			r.Notification.Extras = map[string]string{"a": "b"}
			opts(&getui.Options{ClickType: getui.ClickURL, URL: "https://x.example"})(r)
		}, "notification.extras"},
		{"expired", provider.Android, func(r *provider.Request) { r.ExpireTime = start.Add(-time.Second) }, "expire_time"},
		{"scheduled single", provider.Android, func(r *provider.Request) { r.StartTime = start.Add(time.Hour) }, "start_time"},
		{"broadcast scheduled beyond 7 days", provider.Android, func(r *provider.Request) {
			r.Audience = provider.Audience{Kind: provider.AudienceBroadcast}
			r.StartTime = start.Add(getui.MaxScheduleAhead + time.Second)
		}, "start_time"},
		{"wrong override type", provider.Android, opts("nope"), "overrides.getui"},
		{"override JSON unknown field", provider.Android, opts(json.RawMessage(`{"clicktype":"url"}`)), "overrides.getui"},
		{"click type", provider.Android, opts(&getui.Options{ClickType: "open"}), "overrides.getui.click_type"},
		{"intent missing", provider.Android, opts(&getui.Options{ClickType: getui.ClickIntent}), "overrides.getui.intent"},
		{"intent malformed", provider.Android, opts(&getui.Options{ClickType: getui.ClickIntent, Intent: "app://x"}), "overrides.getui.intent"},
		{"url missing", provider.Android, opts(&getui.Options{ClickType: getui.ClickURL}), "overrides.getui.url"},
		{"url not http", provider.Android, opts(&getui.Options{ClickType: getui.ClickURL, URL: "ftp://x"}), "overrides.getui.url"},
		{"payload without extras", provider.Android, func(r *provider.Request) {
			r.Notification.Extras = nil
			opts(&getui.Options{ClickType: getui.ClickPayload})(r)
		}, "overrides.getui.payload"},
		{"payload too long", provider.Android, opts(&getui.Options{Payload: strings.Repeat("p", 3073)}), "overrides.getui.payload"},
		{"collapse id", provider.IOS, opts(&getui.Options{APNsCollapseID: strings.Repeat("c", 65)}), "overrides.getui.apns_collapse_id"},
		{"auto badge", provider.IOS, opts(&getui.Options{AutoBadge: "++1"}), "overrides.getui.auto_badge"},
		{"strategy value", provider.Android, opts(&getui.Options{Strategy: map[string]int{"hw": 5}}), `overrides.getui.strategy["hw"]`},
		{"strategy key", provider.Android, opts(&getui.Options{Strategy: map[string]int{"HW": 1}}), `overrides.getui.strategy["HW"]`},
		{"ups maker", provider.Android, opts(&getui.Options{UpsOptions: map[string]map[string]any{"APPLE": {"k": "v"}}}), `overrides.getui.ups_options["APPLE"]`},
		{"ups value", provider.Android, opts(&getui.Options{UpsOptions: map[string]map[string]any{"HW": {"k": []string{"v"}}}}), `overrides.getui.ups_options["HW"]["k"]`},
		{"vivo category in lower case", provider.Android, opts(&getui.Options{UpsOptions: map[string]map[string]any{"VV": {"/category": "im"}}}), `overrides.getui.ups_options["VV"]["/category"]`},
		{"vivo category in lower case for every maker", provider.Android, opts(&getui.Options{UpsOptions: map[string]map[string]any{"ALL": {"/category": "im"}}}), `overrides.getui.ups_options["ALL"]["/category"]`},
		{"vivo system category, every maker's operational classification", provider.Android, opts(&getui.Options{UpsOptions: map[string]map[string]any{
			"ALL": {"/classification": 0}, "VV": {"/category": "IM"}}}), `overrides.getui.ups_options["VV"]["/category"]`},
		{"vivo category not a string", provider.Android, opts(&getui.Options{UpsOptions: map[string]map[string]any{"VV": {"/category": 1}}}), `overrides.getui.ups_options["VV"]["/category"]`},
		{"vivo operational category of a service push", provider.Android, func(r *provider.Request) {
			r.Notification.Class = provider.ClassService
			opts(&getui.Options{UpsOptions: map[string]map[string]any{"VV": {"/category": "NEWS"}}})(r)
		}, `overrides.getui.ups_options["VV"]["/category"]`},
		{"vivo system category, operational classification, silent", provider.Android, func(r *provider.Request) {
			r.Notification.Silent = true
			opts(&getui.Options{UpsOptions: map[string]map[string]any{"VV": {"/category": "IM", "/classification": 0}}})(r)
		}, `overrides.getui.ups_options["VV"]["/category"]`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
			r := &provider.Request{Platform: tt.platform,
				Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(tt.platform, 0)}},
				Notification: provider.Notification{Title: "Order shipped", Body: "On its way", Extras: map[string]string{"order_id": "42"}}}
			tt.edit(r)
			verr := c.Validate(r)
			require.ErrorIs(t, verr, provider.InvalidRequest)
			assert.Equal(t, tt.field, provider.FieldOf(verr), "%v", verr)
			rc, err := c.Send(context.Background(), r)
			assert.Nil(t, rc)
			require.Error(t, err)
			assert.Equal(t, verr.Error(), err.Error(), "Validate and Send refuse alike")
			assert.Zero(t, len(fake.Requests()), "no call at all, auth included")
		})
	}
}

// TestAcceptedEdgeCases: what Getui allows, the client sends.
func TestAcceptedEdgeCases(t *testing.T) {
	clk := newClock(start)
	tests := []struct {
		name string
		r    *provider.Request
	}{
		{"title of 50 runes, body of 256", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
			Notification: provider.Notification{Title: strings.Repeat("标", 50), Body: strings.Repeat("字", 256)}}},
		{"title of 25 emoji, body of 254 and an emoji: 50 and 256 UTF-16 units", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
			Notification: provider.Notification{Title: strings.Repeat("😀", 25), Body: strings.Repeat("字", 254) + "😀"}}},
		{"ios body only", &provider.Request{Platform: provider.IOS,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.IOS, 0)}},
			Notification: provider.Notification{Body: "body only"}}},
		{"silent android without text", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
			Notification: provider.Notification{Silent: true, Extras: map[string]string{"k": "v"}}}},
		{"expire in ten days, clamped", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
			Notification: provider.Notification{Title: "t", Body: "b"}, ExpireTime: start.Add(240 * time.Hour)}},
		{"broadcast scheduled 7 days ahead", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceBroadcast},
			Notification: provider.Notification{Title: "t", Body: "b"}, StartTime: start.Add(getui.MaxScheduleAhead)}},
		{"silent transmission of 3072 bytes", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
			Notification: provider.Notification{Silent: true, Body: strings.Repeat("x", getui.MaxPayloadBytes-11)}}},
		{"an alias of 40 characters", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: []string{strings.Repeat("用", 40), "u1"}},
			Notification: provider.Notification{Title: "t", Body: "b"}}},
		{"200 aliases", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: manyCIDs(200)},
			Notification: provider.Notification{Title: "t", Body: "b"}}},
		{"200 cids", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: manyCIDs(200)},
			Notification: provider.Notification{Title: "t", Body: "b"}}},
		{"options by value", &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
			Notification: provider.Notification{Title: "t", Body: "b"},
			Overrides:    map[string]any{getui.Name: getui.Options{ClickType: getui.ClickNone}, "jpush": 42}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
			require.NoError(t, c.Validate(tt.r))
			rc, err := c.Send(context.Background(), tt.r)
			require.NoError(t, err)
			assert.Empty(t, rc.Failures)
			for _, rec := range fake.Requests() {
				assert.Zero(t, rec.Code, "%s: %s", rec.API, rec.Msg)
			}
		})
	}
}

func manyCIDs(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = cid(provider.Android, i)
	}
	return out
}

// TestOptionsRoundTripJSON: Options encoded as JSON and handed back as a
// json.RawMessage produce the same request body.
func TestOptionsRoundTripJSON(t *testing.T) {
	o := getui.Options{ClickType: getui.ClickIntent, Intent: "intent:#Intent;end", ChannelID: "c", AutoBadge: "+1",
		APNsCollapseID: "x", Strategy: map[string]int{"default": 1},
		UpsOptions: map[string]map[string]any{"HW": {"/message/android/category": "IM", "n": 2, "b": true}}, AllDevices: true}
	raw, err := json.Marshal(o)
	require.NoError(t, err)
	var back getui.Options
	require.NoError(t, json.Unmarshal(raw, &back))
	again, err := json.Marshal(back)
	require.NoError(t, err)
	assert.JSONEq(t, string(raw), string(again))

	bodies := map[string]string{}
	for name, v := range map[string]any{"struct": &o, "decoded": &back, "raw": json.RawMessage(raw)} {
		clk := newClock(start)
		c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
		_, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android, IdempotencyKey: "k-1",
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
			Notification: provider.Notification{Title: "t", Body: "b"}, Overrides: map[string]any{getui.Name: v}})
		require.NoError(t, err)
		bodies[name] = string(fake.RequestsTo("/push/single/cid")[0].Body)
	}
	assert.Equal(t, bodies["struct"], bodies["decoded"])
	assert.Equal(t, bodies["struct"], bodies["raw"])
}

// TestRequestID: 32 hex digits, stable per key, random without one.
func TestRequestID(t *testing.T) {
	a := getui.RequestID("push-7-chunk-0")
	assert.Len(t, a, 32)
	assert.Equal(t, a, getui.RequestID("push-7-chunk-0"))
	assert.NotEqual(t, a, getui.RequestID("push-7-chunk-1"))
	r1, r2 := getui.RequestID(""), getui.RequestID("")
	assert.Len(t, r1, 32)
	assert.NotEqual(t, r1, r2)
}

// TestSign is the documented formula on a fixed vector.
func TestSign(t *testing.T) {
	// sha256("key" + "1600000000000" + "secret"), computed independently.
	assert.Equal(t, "0693c2c934a9691baaebd57c46fe48999154f68da7e364ff3444f0610bd8c844", getui.Sign("key", "1600000000000", "secret"))
	assert.Len(t, getui.Sign("k", "1", "s"), 64)
	assert.Equal(t, strings.ToLower(getui.Sign("K", "1", "S")), getui.Sign("K", "1", "S"))
}
