package jpush

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestRefusedBeforeNetwork checks every JPush-specific rule: Validate and
// Send refuse with the same error, naming the field, without a call.
func TestRefusedBeforeNetwork(t *testing.T) {
	tok := provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}
	with := func(p provider.Platform, a provider.Audience, edit func(*provider.Request)) *provider.Request {
		r := request(p, a)
		if edit != nil {
			edit(r)
		}
		return r
	}
	opts := func(o *Options) func(*provider.Request) {
		return func(r *provider.Request) { r.Overrides = map[string]any{Name: o} }
	}
	many := func(n int, s string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = s + strings.Repeat("x", i%7) + string(rune('a'+i%26))
		}
		return out
	}
	tests := []struct {
		name  string
		req   *provider.Request
		field string
	}{
		{"request invalid", with(provider.IOS, provider.Audience{Kind: provider.AudienceTokens}, nil), "audience.tokens"},
		{"1001 tokens", with(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: many(1001, "r")}, nil), "audience.tokens"},
		{"token with space", with(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"ok12345678901", "a b"}}, nil), "audience.tokens[1]"},
		{"1001 aliases", with(provider.Android, provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: many(1001, "u")}, nil), "audience.aliases"},
		{"blank alias", with(provider.Android, provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: []string{"u1", " "}}, nil), "audience.aliases[1]"},
		{"21 tags", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Tags: many(21, "t")}, nil), "audience.tags"},
		{"21 tag_and", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter,
			Filter: json.RawMessage(`{"tag_and":["a","b","c","d","e","f","g","h","i","j","k","l","m","n","o","p","q","r","s","t","u"]}`)}, nil), "audience.filter"},
		{"filter unknown key", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"where":{}}`)}, nil), "audience.filter"},
		{"filter not an object", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`["vip"]`)}, nil), "audience.filter"},
		{"filter tag not strings", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"tag":[1]}`)}, nil), "audience.filter"},
		{"filter empty", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{}`)}, nil), "audience.filter"},
		{"tag_not alone", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"tag_not":["muted"]}`)}, nil), "audience.filter"},
		{"empty tag", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip", ""}}, nil), "audience.tags"},
		// JPush bounds each tag and alias to 40 bytes of UTF-8: 14 CJK
		// characters are 42.
		{"tag of 41 bytes", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Tags: []string{strings.Repeat("t", 41)}}, nil), "audience.tags"},
		{"tag_not of 42 bytes", with(provider.Android, provider.Audience{Kind: provider.AudienceFilter,
			Filter: json.RawMessage(`{"tag":["vip"],"tag_not":["` + strings.Repeat("标", 14) + `"]}`)}, nil), "audience.filter"},
		{"alias of 42 bytes", with(provider.Android, provider.Audience{Kind: provider.AudienceAliases, Aliases: []string{"u1", strings.Repeat("用", 14)}}, nil), "audience.aliases[1]"},
		{"alias of 41 bytes", with(provider.Android, provider.Audience{Kind: provider.AudienceAliases, Aliases: []string{strings.Repeat("u", 41)}}, nil), "audience.aliases[0]"},
		{"file audience", with(provider.Android, provider.Audience{Kind: provider.AudienceFile, FileID: "f1"}, nil), "audience.kind"},
		{"overrides wrong type", with(provider.Android, tok, func(r *provider.Request) { r.Overrides = map[string]any{Name: "x"} }), "overrides.jpush"},
		{"classification", with(provider.IOS, tok, opts(&Options{Classification: intPtr(2)})), "overrides.jpush.classification"},
		{"collapse id", with(provider.IOS, tok, opts(&Options{APNsCollapseID: strings.Repeat("c", 65)})), "overrides.jpush.apns_collapse_id"},
		{"override msg id", with(provider.IOS, tok, opts(&Options{OverrideMsgID: -1})), "overrides.jpush.override_msg_id"},
		{"unknown maker", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{"nokia": {}}})), `overrides.jpush.third_party_channel["nokia"]`},
		{"distribution", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelXiaomi: {Distribution: "first"}}})), `overrides.jpush.third_party_channel["xiaomi"].distribution`},
		{"importance", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelHuawei: {Importance: "URGENT"}}})), `overrides.jpush.third_party_channel["huawei"].importance`},
		{"vivo category in lower case", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelVivo: {Category: "im"}}})), `overrides.jpush.third_party_channel["vivo"].category`},
		{"vivo system category, operational classification", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelVivo: {Category: "IM", Classification: intPtr(0)}}})), `overrides.jpush.third_party_channel["vivo"].category`},
		{"vivo operational category, options.classification system", with(provider.Android, tok, opts(&Options{Classification: intPtr(1), ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelVivo: {Category: "NEWS", Classification: intPtr(0)}}})), `overrides.jpush.third_party_channel["vivo"].category`},
		{"vivo operational category of a service push", with(provider.Android, tok, func(r *provider.Request) {
			r.Notification.Class = provider.ClassService
			opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelVivo: {Category: "MARKETING"}}})(r)
		}), `overrides.jpush.third_party_channel["vivo"].category`},
		{"vivo classification", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelVivo: {Classification: intPtr(3)}}})), `overrides.jpush.third_party_channel["vivo"].classification`},
		{"distribution_fcm", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelFCM: {DistributionFCM: "fcm_first"}}})), `overrides.jpush.third_party_channel["fcm"].distribution_fcm`},
		{"oppo notify_level", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelOPPO: {Category: "IM", NotifyLevel: intPtr(4)}}})), `overrides.jpush.third_party_channel["oppo"].notify_level`},
		{"oppo notify_level without category", with(provider.Android, tok, opts(&Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelOPPO: {NotifyLevel: intPtr(2)}}})), `overrides.jpush.third_party_channel["oppo"].notify_level`},
		{"builder id", with(provider.Android, tok, opts(&Options{BuilderID: intPtr(-1)})), "overrides.jpush.builder_id"},
		{"priority", with(provider.Android, tok, opts(&Options{Priority: intPtr(3)})), "overrides.jpush.priority"},
		{"alert type", with(provider.Android, tok, opts(&Options{AlertType: intPtr(8)})), "overrides.jpush.alert_type"},
		{"badge add", with(provider.Android, tok, opts(&Options{BadgeAddNum: intPtr(0)})), "overrides.jpush.badge_add_num"},
		{"inbox style", with(provider.Android, tok, opts(&Options{Style: StyleInbox})), "overrides.jpush.style"},
		{"unknown style", with(provider.Android, tok, opts(&Options{Style: 9})), "overrides.jpush.style"},
		{"big text missing", with(provider.Android, tok, opts(&Options{Style: StyleBigText})), "overrides.jpush.big_text"},
		{"big picture missing", with(provider.Android, tok, opts(&Options{Style: StyleBigPicture})), "overrides.jpush.big_pic_path"},
		{"image not http", with(provider.Android, tok, func(r *provider.Request) { r.Notification.Image = "ftp://x/y.png" }), "notification.image"},
		{"large icon not http", with(provider.Android, tok, opts(&Options{LargeIcon: "file:///x.png"})), "overrides.jpush.large_icon"},
		{"silent android without content", with(provider.Android, tok, func(r *provider.Request) {
			r.Notification = provider.Notification{Silent: true, Extras: map[string]string{"k": "v"}}
		}), "notification.body"},
		{"negative badge", with(provider.IOS, tok, func(r *provider.Request) { r.Notification.Badge = intPtr(-1) }), "notification.badge"},
		{"badge over 99999", with(provider.IOS, tok, func(r *provider.Request) { r.Notification.Badge = intPtr(MaxBadge + 1) }), "notification.badge"},
		{"interruption level", with(provider.IOS, tok, opts(&Options{InterruptionLevel: "loud"})), "overrides.jpush.interruption_level"},
		{"empty extras key", with(provider.IOS, tok, func(r *provider.Request) { r.Notification.Extras = map[string]string{"": "v"} }), "notification.extras"},
		{"start in the future", with(provider.IOS, tok, func(r *provider.Request) { r.StartTime = fixedNow.Add(time.Minute) }), "start_time"},
		{"expire past", with(provider.IOS, tok, func(r *provider.Request) { r.ExpireTime = fixedNow }), "expire_time"},
		{"body too large", with(provider.Android, tok, func(r *provider.Request) { r.Notification.Body = strings.Repeat("b", 4000) }), "notification.body"},
		{"title too large", with(provider.Android, tok, func(r *provider.Request) { r.Notification.Title = strings.Repeat("标", 1400) }), "notification.title"},
		{"subtitle too large", with(provider.IOS, tok, func(r *provider.Request) { r.Notification.Subtitle = strings.Repeat("s", 4000) }), "notification.subtitle"},
		{"extras too large", with(provider.IOS, tok, func(r *provider.Request) {
			r.Notification.Extras = map[string]string{"a": strings.Repeat("e", 2100), "b": strings.Repeat("e", 2100)}
		}), "notification.extras"},
		{"big text too large", with(provider.Android, tok, func(r *provider.Request) {
			r.Overrides = map[string]any{Name: &Options{Style: StyleBigText, BigText: strings.Repeat("x", 4000)}}
		}), "overrides.jpush.big_text"},
		{"silent message too large", with(provider.Android, tok, func(r *provider.Request) {
			r.Notification.Silent = true
			r.Notification.Body = strings.Repeat("m", 4001)
		}), "notification.body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			newHarness(t).requireRefused(t, tt.req, tt.field)
		})
	}
}

// TestAcceptedEdgeCases are requests at JPush's limits that must pass.
func TestAcceptedEdgeCases(t *testing.T) {
	tok := provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}
	// distinct returns n different values starting with prefix (rids
	// repeats itself after 676).
	distinct := func(n int, prefix string) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = prefix + strconv.Itoa(100000+i)
		}
		return out
	}
	tests := []struct {
		name string
		req  *provider.Request
	}{
		{"1000 tokens", request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: distinct(MaxRegistrationIDs, "1a0018970a")})},
		{"1000 aliases", request(provider.Android, provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: distinct(MaxAliases, "u")})},
		{"alias of 40 bytes", request(provider.Android, provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: []string{strings.Repeat("u", 40)}})},
		{"20 tags of 40 bytes", request(provider.Android, provider.Audience{Kind: provider.AudienceFilter, Tags: distinct(MaxTags, strings.Repeat("t", 34))})},
		{"20 tag_and and 20 tag_not", request(provider.Android, provider.Audience{Kind: provider.AudienceFilter,
			Filter: json.RawMessage(`{"tag_and":["` + strings.Join(distinct(20, "a"), `","`) + `"],"tag_not":["` + strings.Join(distinct(20, "n"), `","`) + `"]}`)})},
		{"alias type ignored", request(provider.Android, provider.Audience{Kind: provider.AudienceAliases, AliasType: "anything at all", Aliases: []string{"u1"}})},
		{"ios options ignored on android", func() *provider.Request {
			r := request(provider.Android, tok)
			r.Overrides = map[string]any{Name: &Options{InterruptionLevel: "loud"}}
			return r
		}()},
		{"android options ignored on ios", func() *provider.Request {
			r := request(provider.IOS, tok)
			r.Overrides = map[string]any{Name: &Options{Style: 9, Priority: intPtr(7)}}
			return r
		}()},
		{"vivo's channel ignored on ios but its form", func() *provider.Request {
			// On Android the service class's classification (1) goes with
			// IM; the channel's own 0 reaches no phone from iOS.
			r := request(provider.IOS, tok)
			r.Notification.Class = provider.ClassService
			r.Overrides = map[string]any{Name: &Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelVivo: {Classification: intPtr(0), Category: "IM"}}}}
			return r
		}()},
		{"vivo's category with the class's classification over the channel's", func() *provider.Request {
			r := request(provider.Android, tok)
			r.Notification.Class = provider.ClassService
			r.Overrides = map[string]any{Name: &Options{ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelVivo: {Classification: intPtr(0), Category: "IM"}}}}
			return r
		}()},
		{"nil options", func() *provider.Request {
			r := request(provider.IOS, tok)
			r.Overrides = map[string]any{Name: (*Options)(nil), "umeng": 42}
			return r
		}()},
		{"expire beyond ten days", func() *provider.Request {
			r := request(provider.IOS, tok)
			r.ExpireTime = fixedNow.AddDate(1, 0, 0)
			return r
		}()},
		{"badge 99999", func() *provider.Request {
			r := request(provider.IOS, tok)
			r.Notification.Badge = intPtr(MaxBadge)
			return r
		}()},
		{"badge 0", func() *provider.Request {
			r := request(provider.IOS, tok)
			r.Notification.Badge = intPtr(0)
			return r
		}()},
		{"title only android", func() *provider.Request {
			r := request(provider.Android, tok)
			r.Notification.Body = ""
			return r
		}()},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			require.NoError(t, h.client.Validate(tt.req))
			h.requireNoCall(t)
			h.respondPush(200, okPush)
			_, err := h.client.Send(context.Background(), tt.req)
			require.NoError(t, err)
		})
	}
}

// TestPayloadLimitIsExact: a notification and message of exactly
// MaxPayloadBytes of compact JSON is accepted and sent; one byte more is
// refused before any call, naming the body.
func TestPayloadLimitIsExact(t *testing.T) {
	tok := provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}
	req := func(n int) *provider.Request {
		r := request(provider.Android, tok)
		r.Notification.Body = strings.Repeat("a", n)
		return r
	}
	h := newHarness(t)
	largest := 0
	for n := 3500; n <= 4100; n++ {
		if h.client.Validate(req(n)) != nil {
			break
		}
		largest = n
	}
	require.Greater(t, largest, 3500)
	require.Less(t, largest, 4000, "the notification's other bytes count too")
	h.respondPush(200, okPush)
	_, err := h.client.Send(context.Background(), req(largest))
	require.NoError(t, err)
	var sent struct {
		Notification json.RawMessage `json:"notification"`
		Message      json.RawMessage `json:"message"`
	}
	require.NoError(t, json.Unmarshal(h.only(t).body, &sent))
	assert.Equal(t, MaxPayloadBytes, len(sent.Notification)+len(sent.Message), "the largest accepted is exactly at the limit")

	newHarness(t).requireRefused(t, req(largest+1), "notification.body")
}

func TestSendNo(t *testing.T) {
	assert.Zero(t, SendNo(""))
	for _, k := range []string{"a", "push-7-chunk-0", strings.Repeat("k", 300)} {
		n := SendNo(k)
		assert.Positive(t, n)
		assert.LessOrEqual(t, n, 1<<31-1)
		assert.Equal(t, n, SendNo(k), "stable")
	}
	assert.NotEqual(t, SendNo("push-7-chunk-0"), SendNo("push-7-chunk-1"))
}

// TestReportAndWithdrawRequests pins how Status, MessageStatus, Cancel and
// ValidateRemote call JPush.
func TestReportAndWithdrawRequests(t *testing.T) {
	ctx := context.Background()
	h := newHarness(t, func(c *Config) { c.ReportBaseURL = "https://bjapi.report.example/" })
	h.respond(http.MethodGet, "https://bjapi.report.example/v3/received/detail?msg_ids=1828256757", 200,
		`[{"msg_id":1828256757,"jpush_received":null,"android_pns_sent":null,"android_pns_received":null,"ios_apns_sent":3,"ios_apns_received":2,"ios_msg_received":1,"live_acivity_sent":0,"live_acivity_received":0,"wp_mpns_sent":null,"quickapp_jpush_received":null,"quickapp_pns_sent":null,"hmos_hmpns_received":null,"hmos_hmpns_sent":null}]`)
	h.respond(http.MethodPost, "https://bjapi.report.example/v3/status/message", 200,
		`{"1a0018970aaa4fa5b2d9":{"status":0},"1a0018970aba4fa5b2d9":{"status":"2"}}`)
	h.respond(http.MethodDelete, DefaultBaseURL+"/v3/push/1828256757", 200, ``)
	h.respond(http.MethodPost, DefaultBaseURL+"/v3/push/validate", 200, `{"sendno":"0","msg_id":"0"}`)

	st, err := h.client.Status(ctx, provider.IOS, "1828256757")
	require.NoError(t, err)
	assert.Equal(t, provider.StateSending, st.State)
	assert.Zero(t, st.Total, "JPush reports no count of targets")
	assert.Equal(t, 4, st.Sent, "handed to APNs plus in-app messages received")

	st, err = h.client.Status(ctx, provider.Android, "1828256757")
	require.NoError(t, err)
	assert.Equal(t, provider.StateQueued, st.State, "nothing counted yet for Android")

	states, err := h.client.MessageStatus(ctx, "1828256757", rids(2))
	require.NoError(t, err)
	assert.Equal(t, map[string]DeliveryState{rids(2)[0]: Delivered, rids(2)[1]: NotInApp}, states)

	require.NoError(t, h.client.Cancel(ctx, provider.IOS, "1828256757"))
	require.NoError(t, h.client.ValidateRemote(ctx, request(provider.IOS, provider.Audience{Kind: provider.AudienceBroadcast})))

	calls := h.requests()
	require.Len(t, calls, 5)
	for _, c := range calls {
		assert.Equal(t, testAppKey, c.user)
		assert.Equal(t, testSecret, c.pass)
	}
	assert.JSONEq(t, `{"msg_id":1828256757,"registration_ids":["1a0018970aaa4fa5b2d9","1a0018970aba4fa5b2d9"]}`, string(calls[2].body))
	assert.Equal(t, http.MethodDelete, calls[3].method)
	assert.Contains(t, string(calls[4].body), `"audience":"all"`)

	// Refused without a call.
	for _, id := range []string{"", "abc", "-5", "0", "012"} {
		_, err := h.client.Status(ctx, provider.IOS, id)
		assert.Equal(t, "id", provider.FieldOf(err), "status %q", id)
		assert.Equal(t, "id", provider.FieldOf(h.client.Cancel(ctx, provider.IOS, id)), "cancel %q", id)
	}
	_, err = h.client.MessageStatus(ctx, "1828256757", nil)
	assert.Equal(t, "registration_ids", provider.FieldOf(err))
	_, err = h.client.MessageStatus(ctx, "1828256757", []string{"a", ""})
	assert.Equal(t, "registration_ids[1]", provider.FieldOf(err))
	thousand := make([]string, MaxStatusRegistrationIDs)
	for i := range thousand {
		thousand[i] = "1a0018970a" + strconv.Itoa(100000+i)
	}
	_, err = h.client.MessageStatus(ctx, "1828256757", append(thousand, "1a0018970a999999"))
	assert.Equal(t, "registration_ids", provider.FieldOf(err), "1001 ids")
	_, err = h.client.Status(ctx, "web", "1828256757")
	assert.Equal(t, "platform", provider.FieldOf(err))
	assert.Len(t, h.requests(), 5)

	// 1000 ids, JPush's limit, go in one call.
	_, err = h.client.MessageStatus(ctx, "1828256757", thousand)
	require.NoError(t, err)
	calls = h.requests()
	require.Len(t, calls, 6)
	assert.Contains(t, string(calls[5].body), `"`+thousand[MaxStatusRegistrationIDs-1]+`"`)
}

// TestStatusOfAMessageNotYetCounted: JPush reports nothing for a fresh
// msg_id; the Client that sent it says queued, then done after the TTL.
func TestStatusOfAMessageNotYetCounted(t *testing.T) {
	now := fixedNow
	h := newHarness(t, func(c *Config) { c.Now = func() time.Time { return now } })
	h.respondPush(200, okPush)
	h.respond(http.MethodGet, DefaultReportBaseURL+"/v3/received/detail?msg_ids=1828256757", 200, `[]`)
	h.respond(http.MethodGet, DefaultReportBaseURL+"/v3/received/detail?msg_ids=1828256758", 200, `[]`)
	r := request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)})
	r.ExpireTime = now.Add(time.Hour)
	rc, err := h.client.Send(context.Background(), r)
	require.NoError(t, err)

	st, err := h.client.Status(context.Background(), provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateQueued, st.State)
	now = now.Add(time.Hour)
	st, err = h.client.Status(context.Background(), provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateDone, st.State)

	_, err = h.client.Status(context.Background(), provider.Android, "1828256758")
	requireKind(t, err, provider.InvalidRequest)
	assert.Equal(t, "id", provider.FieldOf(err), "an id this Client did not send")
}

// TestRestyClient: a caller's resty client carries the calls, with the
// Client's auth and headers, and is not changed.
func TestRestyClient(t *testing.T) {
	mt := httpmock.NewMockTransport()
	var user, pass, ctype string
	mt.RegisterResponder(http.MethodPost, "https://push.example/v3/push", func(req *http.Request) (*http.Response, error) {
		user, pass, _ = req.BasicAuth()
		ctype = req.Header.Get("Content-Type")
		return httpmock.NewStringResponse(200, okPush), nil
	})
	rc := resty.New().SetTransport(mt)
	c, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, BaseURL: "https://push.example", Resty: rc, DisableCID: true})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), request(provider.IOS, provider.Audience{Kind: provider.AudienceBroadcast}))
	require.NoError(t, err)
	assert.Equal(t, testAppKey, user)
	assert.Equal(t, testSecret, pass)
	assert.Equal(t, "application/json", ctype)
	assert.Empty(t, rc.UserInfo, "the resty client is not changed")
}

// TestOptionsJSONNames: an Options is read from snake_case names, as
// Umeng's and Getui's options are and as the HTTP API's overrides are
// written ({"jpush":{"third_party_channel":…}}), and from the Go field
// names in any case, which it is written with (an older version, still
// running during a rolling upgrade, reads only those); a key that names
// no option, or one option under two spellings, is refused.
func TestOptionsJSONNames(t *testing.T) {
	o := Options{ChannelID: "orders", Priority: intPtr(1), APNsCollapseID: "c1",
		ThirdPartyChannel: map[string]ThirdPartyChannel{ChannelXiaomi: {ChannelID: "mi-orders"}}}
	b, err := json.Marshal(o)
	require.NoError(t, err)
	assert.JSONEq(t, `{"ChannelID":"orders","Priority":1,"APNsCollapseID":"c1","ThirdPartyChannel":{"xiaomi":{"channel_id":"mi-orders"}}}`, string(b),
		"written with the Go names, which an older version reads")
	for _, in := range []string{
		string(b),
		`{"channel_id":"orders","priority":1,"apns_collapse_id":"c1","third_party_channel":{"xiaomi":{"channel_id":"mi-orders"}}}`,
		`{"ChannelID":"orders","Priority":1,"APNsCollapseID":"c1","ThirdPartyChannel":{"xiaomi":{"channel_id":"mi-orders"}}}`,
		`{"channelid":"orders","PRIORITY":1,"apns_collapse_id":"c1","thirdpartychannel":{"xiaomi":{"channel_id":"mi-orders"}}}`,
	} {
		got, err := optionsFrom(map[string]any{Name: json.RawMessage(in)})
		require.NoError(t, err, in)
		assert.Equal(t, o, *got, in)
	}
	kept := Options{ChannelID: "keep"}
	require.NoError(t, json.Unmarshal([]byte(`null`), &kept))
	assert.Equal(t, "keep", kept.ChannelID, "null changes nothing")
	for _, in := range []string{
		`{"third_party":{}}`,
		`{"channel_id":"a","ChannelID":"b"}`,
		`{"third_party_channel":{"xiaomi":{"channelid":"x"}}}`,
		`{"priority":"high"}`,
		`[]`,
	} {
		_, err := optionsFrom(map[string]any{Name: json.RawMessage(in)})
		assert.ErrorIs(t, err, provider.InvalidRequest, in)
		assert.Equal(t, "overrides.jpush", provider.FieldOf(err), in)
	}
}
