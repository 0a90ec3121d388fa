package getui_test

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"maps"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/internal/testclock"
	"github.com/tuisong/push/provider"
)

// TestEveryAudienceAcceptedByFake sends every audience on both platforms,
// visible and silent, and checks what the devices received.
func TestEveryAudienceAcceptedByFake(t *testing.T) {
	clk := newClock(start)
	for _, p := range provider.Platforms() {
		for _, tc := range []struct {
			name     string
			aud      provider.Audience
			pollable bool
			reached  []int // device indexes that receive it
		}{
			{"one cid", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(p, 0)}}, false, []int{0}},
			{"cids", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(p, 0), cid(p, 1)}}, true, []int{0, 1}},
			{"broadcast", provider.Audience{Kind: provider.AudienceBroadcast}, true, []int{0, 1}},
			{"one alias", provider.Audience{Kind: provider.AudienceAliases, AliasType: "ignored", Aliases: []string{"u1001"}}, false, []int{0}},
			{"aliases", provider.Audience{Kind: provider.AudienceAliases, AliasType: "ignored", Aliases: []string{"u1001", "u1002"}}, true, []int{0, 1}},
			{"tags", provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"beta"}}, true, []int{1}},
			{"conditions", provider.Audience{Kind: provider.AudienceFilter,
				Filter: json.RawMessage(`[{"key":"custom_tag","values":["vip"],"opt_type":"or"},{"key":"custom_tag","values":["beta"],"opt_type":"not"}]`)}, true, []int{0}},
		} {
			for _, silent := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/silent=%t", p, tc.name, silent), func(t *testing.T) {
					c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
					app := getuitest.DefaultApps()[0].AppID
					other := map[provider.Platform]provider.Platform{provider.IOS: provider.Android, provider.Android: provider.IOS}[p]
					require.NoError(t, fake.AddDevice(app, getuitest.Device{CID: cid(p, 0), Platform: string(p), Alias: "u1001", Tags: []string{"vip"}}))
					require.NoError(t, fake.AddDevice(app, getuitest.Device{CID: cid(p, 1), Platform: string(p), Alias: "u1002", Tags: []string{"vip", "beta"}}))
					require.NoError(t, fake.AddDevice(app, getuitest.Device{CID: cid(other, 9), Platform: string(other), Tags: []string{"vip", "beta"}}))
					badge := 2
					rc, err := c.Send(context.Background(), &provider.Request{Platform: p, Audience: tc.aud, IdempotencyKey: "key-" + tc.name,
						Notification: provider.Notification{Title: "到货提醒", Body: "您关注的商品已到货 🎉", Badge: &badge, Silent: silent,
							Extras: map[string]string{"page": "goods"}},
						ExpireTime: clk.Now().Add(2 * time.Hour)})
					require.NoError(t, err)
					assert.Equal(t, tc.pollable, rc.Pollable)
					assert.Empty(t, rc.Failures)
					assert.NotEmpty(t, rc.Raw)
					for i := range 2 {
						want := 0
						for _, j := range tc.reached {
							if i == j {
								want = 1
							}
						}
						assert.Equal(t, want, fake.DeliveryCount(cid(p, i)), "device %d", i)
					}
					assert.Zero(t, fake.DeliveryCount(cid(other, 9)), "the other platform's device")
					for _, d := range fake.Deliveries() {
						assert.Equal(t, rc.ID, d.TaskID)
						assert.Equal(t, string(p), d.Platform)
						assert.Contains(t, d.Transmission+d.Payload, "goods")
						if !silent {
							assert.Equal(t, "到货提醒", d.Title)
						}
					}
				})
			}
		}
	}
}

// TestPerCIDFailures: a dead cid in a list push is a per-token failure of
// an accepted receipt, in token order; a dead single cid is InvalidToken.
func TestPerCIDFailures(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	fake.MarkInvalid(cid(provider.Android, 1), cid(provider.Android, 3))
	toks := []string{cid(provider.Android, 0), cid(provider.Android, 1), cid(provider.Android, 2), cid(provider.Android, 3)}
	rc, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: toks},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	require.Len(t, rc.Failures, 2)
	for i, want := range []string{toks[1], toks[3]} {
		assert.Equal(t, want, rc.Failures[i].Token)
		assert.Equal(t, provider.InvalidToken, rc.Failures[i].Kind)
		assert.Equal(t, "target user is invalid", rc.Failures[i].Message)
	}
	assert.Equal(t, 1, fake.DeliveryCount(toks[0]))
	assert.Zero(t, fake.DeliveryCount(toks[1]))

	_, err = c.Send(context.Background(), single(provider.Android, toks[1]))
	require.ErrorIs(t, err, provider.InvalidToken)
	assert.Equal(t, "20001", provider.CodeOf(err))
}

// TestARepeatedCIDIsSentOnce: Getui refuses a whole list push that names
// a cid or an alias twice (20001 "contains duplicate cid"); a Request that
// repeats one is sent with each once, and a failing cid is reported once.
func TestARepeatedCIDIsSentOnce(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	a, b, dead := cid(provider.Android, 0), cid(provider.Android, 1), cid(provider.Android, 2)
	fake.MarkInvalid(dead)
	rc, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{a, b, a, dead, dead}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	assert.Equal(t, []provider.TokenFailure{{Token: dead, Kind: provider.InvalidToken, Message: "target user is invalid"}}, rc.Failures)
	assert.Equal(t, 1, fake.DeliveryCount(a))
	assert.Equal(t, 1, fake.DeliveryCount(b))
	reqs := fake.RequestsTo("/push/list/cid")
	require.Len(t, reqs, 1)
	assert.Equal(t, []string{a, b, dead}, reqs[0].CIDs)

	_, err = c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceAliases, AliasType: "user", Aliases: []string{"u1", "u2", "u1"}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	reqs = fake.RequestsTo("/push/list/alias")
	require.Len(t, reqs, 1)
	assert.Equal(t, []string{"u1", "u2"}, reqs[0].Aliases)
}

// TestInactiveCIDsAreFailures: Getui answers "successed_ignore" for a
// device inactive for 90 days and sends it nothing; the receipt reports
// it as an InvalidToken failure (it read as delivered, and the dead cid
// was pushed to forever), in a list push and a single one.
func TestInactiveCIDsAreFailures(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	toks := []string{cid(provider.Android, 0), cid(provider.Android, 1), cid(provider.Android, 2)}
	fake.MarkInactive(toks[1])
	rc, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: toks},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	require.Len(t, rc.Failures, 1)
	assert.Equal(t, provider.TokenFailure{Token: toks[1], Kind: provider.InvalidToken, Message: "successed_ignore"}, rc.Failures[0])
	assert.Zero(t, fake.DeliveryCount(toks[1]))
	assert.Equal(t, 1, fake.DeliveryCount(toks[2]))

	rc, err = c.Send(context.Background(), single(provider.Android, toks[1]))
	require.NoError(t, err)
	require.Len(t, rc.Failures, 1)
	assert.Equal(t, provider.InvalidToken, rc.Failures[0].Kind)
	assert.Zero(t, fake.DeliveryCount(toks[1]))
}

// TestIdempotencyKeyDedupes: a send retried with the same key (after an
// answer was lost) is not delivered twice, single or list.
func TestIdempotencyKeyDedupes(t *testing.T) {
	clk := newClock(start)
	for _, n := range []int{1, 3} {
		t.Run(fmt.Sprintf("%d cids", n), func(t *testing.T) {
			c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
			r := &provider.Request{Platform: provider.IOS, IdempotencyKey: "push-9-chunk-0",
				Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: manyIOS(n)},
				Notification: provider.Notification{Title: "t", Body: "b"}}
			api := "/push/single/cid"
			if n > 1 {
				api = "/push/list/cid"
			}
			require.NoError(t, fake.FailNext(1, getuitest.Fault{API: api, AfterAccept: true, Timeout: true, Delay: 10 * time.Millisecond}))
			_, err := c.Send(context.Background(), r)
			require.ErrorIs(t, err, provider.Indeterminate)
			rc, err := c.Send(context.Background(), r)
			require.NoError(t, err)
			for _, tok := range r.Audience.Tokens {
				assert.Equal(t, 1, fake.DeliveryCount(tok), "delivered once")
			}
			assert.NotEmpty(t, rc.ID)
		})
	}
}

func manyIOS(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = cid(provider.IOS, i)
	}
	return out
}

// TestStatusMapping drives a list task through the report's counts.
func TestStatusMapping(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, func(cfg *getui.Config) { cfg.DefaultTimeToLive = time.Hour })
	cids := manyCIDs(3)
	for _, cid := range cids { // online: they receive it at once
		require.NoError(t, fake.AddDevice(getuitest.DefaultApps()[0].AppID, getuitest.Device{CID: cid, Platform: "android"}))
	}
	rc, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: cids},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	require.True(t, rc.Pollable)
	state := func() *provider.Status {
		t.Helper()
		st, err := c.Status(context.Background(), provider.Android, rc.ID)
		require.NoError(t, err)
		assert.Equal(t, rc.ID, st.ID)
		assert.Equal(t, string(st.State), st.Code)
		return st
	}
	st := state()
	assert.Equal(t, provider.StateDone, st.State, "every target received it")
	assert.Equal(t, 3, st.Total)
	assert.Equal(t, 3, st.Sent)

	require.NoError(t, fake.SetReport(rc.ID, getuitest.Report{}))
	assert.Equal(t, provider.StateQueued, state().State, "nothing counted yet")
	require.NoError(t, fake.SetReport(rc.ID, getuitest.Report{MsgNum: 3, TargetNum: 3, ReceiveNum: 1, ClickNum: 1}))
	st = state()
	assert.Equal(t, provider.StateSending, st.State)
	assert.Equal(t, 1, st.Opened)
	// Dispatched to two of three deliverable devices, and both received
	// it: not every device yet.
	require.NoError(t, fake.SetReport(rc.ID, getuitest.Report{MsgNum: 3, TargetNum: 2, ReceiveNum: 2}))
	st = state()
	assert.Equal(t, provider.StateSending, st.State, "2 of 3 deliverable devices reached")
	assert.Equal(t, 3, st.Total, "msg_num, the deliverable devices")
	clk.Advance(time.Hour)
	assert.Equal(t, provider.StateDone, state().State, "the time to live is over")

	require.NoError(t, c.Cancel(context.Background(), provider.Android, rc.ID))
	assert.True(t, fake.Stopped(rc.ID))
	assert.Equal(t, provider.StateCanceled, state().State)
	err = c.Cancel(context.Background(), provider.Android, rc.ID)
	require.ErrorIs(t, err, provider.InvalidRequest, "already stopped")
	assert.Equal(t, "20001", provider.CodeOf(err))
}

// TestStatusAssumesGetuisDefaultTTL: a push sent without settings.ttl is
// kept by Getui for its default of two hours, so a task short of its
// devices is still sending after one and a half, and done after two.
func TestStatusAssumesGetuisDefaultTTL(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	rc, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: manyCIDs(3)},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	require.NoError(t, fake.SetReport(rc.ID, getuitest.Report{MsgNum: 3, TargetNum: 2, ReceiveNum: 2}))
	clk.Advance(90 * time.Minute)
	st, err := c.Status(context.Background(), provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateSending, st.State, "within Getui's default two hours")
	clk.Advance(30 * time.Minute)
	st, err = c.Status(context.Background(), provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateDone, st.State, "Getui's default two hours are over")
}

// TestStatusOfScheduledAndUnknownTasks.
func TestStatusOfScheduledAndUnknownTasks(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	rc, err := c.Send(context.Background(), &provider.Request{Platform: provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceBroadcast},
		Notification: provider.Notification{Title: "t", Body: "b"}, StartTime: start.Add(time.Hour)})
	require.NoError(t, err)
	st, err := c.Status(context.Background(), provider.IOS, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateScheduled, st.State)

	single, err := c.Send(context.Background(), single(provider.IOS, cid(provider.IOS, 0)))
	require.NoError(t, err)
	assert.False(t, single.Pollable)
	before := len(fake.Requests())
	for _, id := range []string{single.ID, "", "a/b", rc.ID + "," + rc.ID} {
		_, err = c.Status(context.Background(), provider.IOS, id)
		require.ErrorIs(t, err, provider.InvalidRequest)
		assert.Equal(t, "id", provider.FieldOf(err))
		err = c.Cancel(context.Background(), provider.IOS, id)
		require.ErrorIs(t, err, provider.InvalidRequest)
	}
	_, err = c.Status(context.Background(), "web", rc.ID)
	assert.Equal(t, "platform", provider.FieldOf(err))
	assert.Len(t, fake.Requests(), before, "refused without a call")

	_, err = c.Status(context.Background(), provider.IOS, "RASL_0101_unknown")
	require.ErrorIs(t, err, provider.InvalidRequest)
	assert.Equal(t, "20001", provider.CodeOf(err))
}

// TestClassLeavesTheCallersOptionsAlone: the class's maker options are
// added to a copy; the map the caller passed is not changed, and its own
// keys reach Getui.
func TestClassLeavesTheCallersOptionsAlone(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	mine := map[string]map[string]any{getui.MakerHuawei: {"/message/android/category": "EXPRESS"}}
	_, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android, IdempotencyKey: "class",
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
		Notification: provider.Notification{Title: "订单已发货", Body: "您的订单已发货", Class: provider.ClassService},
		Overrides:    map[string]any{getui.Name: &getui.Options{UpsOptions: mine}},
		ExpireTime:   clk.Now().Add(time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, map[string]map[string]any{getui.MakerHuawei: {"/message/android/category": "EXPRESS"}}, mine)

	reqs := fake.RequestsTo("/push/single/cid")
	require.Len(t, reqs, 1)
	assert.Equal(t, map[string]map[string]any{
		getui.MakerHuawei: {"/message/android/category": "EXPRESS", "/message/android/notification/importance": "NORMAL"},
		getui.MakerHonor:  {"/android/notification/importance": "NORMAL"},
		getui.MakerVivo:   {"/classification": float64(1)},
	}, upsOptions(t, reqs[0].Body))
}

// TestIOSStrategy: a push that reaches iOS devices asks for APNs first
// (settings.strategy.ios = IOSStrategy) unless the caller's Strategy names
// "ios" or "default"; an Android push carries only the caller's; the
// caller's map is left alone.
func TestIOSStrategy(t *testing.T) {
	for _, tc := range []struct {
		name     string
		platform provider.Platform
		aud      provider.Audience
		opts     *getui.Options
		want     map[string]int
	}{
		{"ios, no options", provider.IOS, provider.Audience{}, nil, map[string]int{"ios": getui.IOSStrategy}},
		{"ios, a maker's only", provider.IOS, provider.Audience{}, &getui.Options{Strategy: map[string]int{"hw": 2}},
			map[string]int{"hw": 2, "ios": getui.IOSStrategy}},
		{"ios, the caller's ios", provider.IOS, provider.Audience{}, &getui.Options{Strategy: map[string]int{"ios": 1}}, map[string]int{"ios": 1}},
		{"ios, the caller's default", provider.IOS, provider.Audience{}, &getui.Options{Strategy: map[string]int{"default": 3}},
			map[string]int{"default": 3}},
		{"android", provider.Android, provider.Audience{}, nil, nil},
		{"android, the caller's", provider.Android, provider.Audience{}, &getui.Options{Strategy: map[string]int{"hw": 4}}, map[string]int{"hw": 4}},
		{"all devices", provider.Android, provider.Audience{Kind: provider.AudienceBroadcast}, &getui.Options{AllDevices: true},
			map[string]int{"ios": getui.IOSStrategy}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(start)
			c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
			aud, path := tc.aud, "/push/all"
			if aud.Kind == "" {
				aud, path = provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(tc.platform, 0)}}, "/push/single/cid"
			}
			var before map[string]int
			overrides := map[string]any{}
			if tc.opts != nil {
				overrides[getui.Name] = tc.opts
				if tc.opts.Strategy != nil {
					before = maps.Clone(tc.opts.Strategy)
				}
			}
			_, err := c.Send(context.Background(), &provider.Request{Platform: tc.platform, IdempotencyKey: "strategy",
				Audience: aud, Notification: provider.Notification{Title: "订单已发货", Body: "您的订单已发货"},
				Overrides: overrides, ExpireTime: clk.Now().Add(time.Hour)})
			require.NoError(t, err)
			reqs := fake.RequestsTo(path)
			require.Len(t, reqs, 1)
			var body struct {
				Settings struct {
					Strategy map[string]int `json:"strategy"`
				} `json:"settings"`
			}
			require.NoError(t, json.Unmarshal(reqs[0].Body, &body))
			assert.Equal(t, tc.want, body.Settings.Strategy)
			if tc.opts != nil {
				assert.Equal(t, before, tc.opts.Strategy, "the caller's Strategy is unchanged")
			}
		})
	}
}

// TestHuaweiCategoryFollowsTheClass: with the category Huawei granted the
// app configured, a service push carries it as HW's
// "/message/android/category", a marketing one MARKETING, and Honor gets
// the class's importance; without one a service push carries no category;
// New refuses a category Huawei does not have.
func TestHuaweiCategoryFollowsTheClass(t *testing.T) {
	for _, tt := range []struct {
		name    string
		granted string
		class   provider.Class
		want    any // nil: absent
		honor   string
	}{
		{"service", "EXPRESS", provider.ClassService, "EXPRESS", "NORMAL"},
		{"service, none granted", "", provider.ClassService, nil, "NORMAL"},
		{"marketing", "EXPRESS", provider.ClassMarketing, "MARKETING", "LOW"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(start)
			c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, func(cfg *getui.Config) { cfg.HuaweiServiceCategory = tt.granted })
			_, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android, IdempotencyKey: "hw",
				Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
				Notification: provider.Notification{Title: "订单已发货", Body: "您的订单已发货", Class: tt.class},
				ExpireTime:   clk.Now().Add(time.Hour)})
			require.NoError(t, err)
			reqs := fake.RequestsTo("/push/single/cid")
			require.Len(t, reqs, 1)
			opts := upsOptions(t, reqs[0].Body)
			assert.Equal(t, tt.want, opts[getui.MakerHuawei]["/message/android/category"])
			assert.Equal(t, tt.honor, opts[getui.MakerHonor]["/android/notification/importance"])
		})
	}
	_, err := getui.New(getui.Config{AppID: "app", AppKey: "key", MasterSecret: getui.NewSecret("0123456789abcdef0123"), HuaweiServiceCategory: "urgent"})
	assert.Equal(t, "huawei_service_category", provider.FieldOf(err), "%v", err)
}

// upsOptions returns push_channel.android.ups.options of a push's body:
// the phone makers' options.
func upsOptions(t *testing.T, body []byte) map[string]map[string]any {
	t.Helper()
	var b struct {
		PushChannel struct {
			Android struct {
				Ups struct {
					Options map[string]map[string]any `json:"options"`
				} `json:"ups"`
			} `json:"android"`
		} `json:"push_channel"`
	}
	require.NoError(t, json.Unmarshal(body, &b))
	return b.PushChannel.Android.Ups.Options
}

// sendOne sends one Android notification of class to cid 0 through c,
// with own as its makers' options (nil: none), under key, and returns the
// fake's record of it: the newest request to /push/single/cid.
func sendOne(t *testing.T, c *getui.Client, fake *getuitest.Server, clk *testclock.Clock, key string, class provider.Class, own map[string]map[string]any) getuitest.Request {
	t.Helper()
	before := len(fake.RequestsTo("/push/single/cid"))
	r := &provider.Request{Platform: provider.Android, IdempotencyKey: key,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
		Notification: provider.Notification{Title: "订单已发货", Body: "您的订单已发货", Class: class},
		ExpireTime:   clk.Now().Add(time.Hour)}
	if own != nil {
		r.Overrides = map[string]any{getui.Name: &getui.Options{UpsOptions: own}}
	}
	_, err := c.Send(context.Background(), r)
	require.NoError(t, err)
	reqs := fake.RequestsTo("/push/single/cid")
	require.Len(t, reqs, before+1)
	return reqs[before]
}

// TestClassUpsOptions: an Android push carries the makers' options of its
// class, its own options laid over them key by key, and the keys its class
// implies where neither sets them; a class's Huawei category wins over the
// granted one; a push without a class carries none of them; New copies
// the map and refuses an unknown class or options no push could carry,
// naming the field.
func TestClassUpsOptions(t *testing.T) {
	classes := map[provider.Class]map[string]map[string]any{
		provider.ClassService: {getui.MakerXiaomi: {"/extra.channel_id": "orders"},
			getui.MakerOPPO: {"/channel_id": "orders", "/category": "ORDER"}, getui.MakerHuawei: {"/message/android/category": "IM"}},
		provider.ClassMarketing: {getui.MakerXiaomi: {"/extra.channel_id": "promotions"}, getui.MakerVivo: {"/category": "MARKETING"}},
	}
	for _, tt := range []struct {
		name  string
		class provider.Class
		own   map[string]map[string]any
		want  map[string]map[string]any
	}{
		{"service", provider.ClassService, nil, map[string]map[string]any{
			getui.MakerXiaomi: {"/extra.channel_id": "orders"}, getui.MakerOPPO: {"/channel_id": "orders", "/category": "ORDER"},
			getui.MakerHuawei: {"/message/android/category": "IM", "/message/android/notification/importance": "NORMAL"},
			getui.MakerHonor:  {"/android/notification/importance": "NORMAL"}, getui.MakerVivo: {"/classification": float64(1)}}},
		{"marketing", provider.ClassMarketing, nil, map[string]map[string]any{
			getui.MakerXiaomi: {"/extra.channel_id": "promotions"}, getui.MakerVivo: {"/category": "MARKETING", "/classification": float64(0)},
			getui.MakerHuawei: {"/message/android/category": "MARKETING", "/message/android/notification/importance": "LOW"},
			getui.MakerHonor:  {"/android/notification/importance": "LOW"}}},
		{"own wins key by key", provider.ClassService, map[string]map[string]any{getui.MakerXiaomi: {"/extra.channel_id": "chat"},
			getui.MakerOPPO: {"/notify_level": float64(16)}}, map[string]map[string]any{
			getui.MakerXiaomi: {"/extra.channel_id": "chat"}, getui.MakerOPPO: {"/channel_id": "orders", "/category": "ORDER", "/notify_level": float64(16)},
			getui.MakerHuawei: {"/message/android/category": "IM", "/message/android/notification/importance": "NORMAL"},
			getui.MakerHonor:  {"/android/notification/importance": "NORMAL"}, getui.MakerVivo: {"/classification": float64(1)}}},
		{"no class", "", nil, nil},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := newClock(start)
			c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, func(cfg *getui.Config) {
				cfg.HuaweiServiceCategory = "EXPRESS"
				cfg.ClassUpsOptions = classes
			})
			assert.Equal(t, tt.want, upsOptions(t, sendOne(t, c, fake, clk, "cls", tt.class, tt.own).Body))
		})
	}

	// The classes are the Config's as New saw them.
	clk := newClock(start)
	mine := map[provider.Class]map[string]map[string]any{provider.ClassService: {getui.MakerXiaomi: {"/extra.channel_id": "orders"}}}
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, func(cfg *getui.Config) { cfg.ClassUpsOptions = mine })
	mine[provider.ClassService][getui.MakerXiaomi]["/extra.channel_id"] = "late"
	mine[provider.ClassService][getui.MakerOPPO] = map[string]any{"/channel_id": "late"}
	opts := upsOptions(t, sendOne(t, c, fake, clk, "late", provider.ClassService, nil).Body)
	assert.Equal(t, "orders", opts[getui.MakerXiaomi]["/extra.channel_id"])
	assert.Nil(t, opts[getui.MakerOPPO])

	// A push's own null entry is refused before the network too.
	_, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android, IdempotencyKey: "null",
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 0)}},
		Notification: provider.Notification{Title: "t", Body: "b"}, ExpireTime: clk.Now().Add(time.Hour),
		Overrides: map[string]any{getui.Name: &getui.Options{UpsOptions: map[string]map[string]any{getui.MakerXiaomi: nil}}}})
	assert.Equal(t, `overrides.getui.ups_options["XM"]`, provider.FieldOf(err), "%v", err)
	require.Len(t, fake.RequestsTo("/push/single/cid"), 1, "no call for the refused push")

	secret := getui.NewSecret("0123456789abcdef0123")
	for field, cu := range map[string]map[provider.Class]map[string]map[string]any{
		"class_ups_options":                                                   {"urgent": {}},
		`class_ups_options.service["SAMSUNG"]`:                                {provider.ClassService: {"SAMSUNG": {"/x": "y"}}},
		`class_ups_options.marketing["XM"]["/x"]`:                             {provider.ClassMarketing: {getui.MakerXiaomi: {"/x": []string{"y"}}}},
		`class_ups_options.service["XM"]`:                                     {provider.ClassService: {getui.MakerXiaomi: nil}},
		`class_ups_options.marketing["HW"]["/message/android/category"]`:      {provider.ClassMarketing: {getui.MakerHuawei: {"/message/android/category": "IM"}}},
		`class_ups_options.service["HO"]["/android/notification/importance"]`: {provider.ClassService: {getui.MakerHonor: {"/android/notification/importance": "LOW"}}},
		`class_ups_options.marketing["VV"]["/classification"]`:                {provider.ClassMarketing: {getui.MakerVivo: {"/classification": 1}}},
		`class_ups_options.service["VV"]["/category"]`:                        {provider.ClassService: {getui.MakerVivo: {"/category": "MARKETING"}}},
		`class_ups_options.marketing["VV"]["/category"]`:                      {provider.ClassMarketing: {getui.MakerVivo: {"/category": 1}}},
		`class_ups_options.service["ALL"]["/category"]`:                       {provider.ClassService: {getui.MakerAll: {"/category": "news"}}},
		`class_ups_options.service["ALL"]["/classification"]`:                 {provider.ClassService: {getui.MakerAll: {"/category": "NEWS", "/classification": 0}}},
		`class_ups_options.marketing["ALL"]["/classification"]`:               {provider.ClassMarketing: {getui.MakerAll: {"/classification": "one"}}},
	} {
		_, err = getui.New(getui.Config{AppID: "app", AppKey: "key", MasterSecret: secret, ClassUpsOptions: cu})
		require.Error(t, err, field)
		assert.Equal(t, field, provider.FieldOf(err), "%v", err)
	}
	// vivo's own classification wins over every maker's (ALL).
	_, err = getui.New(getui.Config{AppID: "app", AppKey: "key", MasterSecret: secret, ClassUpsOptions: map[provider.Class]map[string]map[string]any{
		provider.ClassService: {getui.MakerAll: {"/classification": 0}, getui.MakerVivo: {"/classification": 1, "/category": "IM"}}}})
	require.NoError(t, err)
}

// TestEveryMakerGetuiDocumentsIsAccepted: the makers' options of every
// maker key Getui documents are sent, and the fake Getui takes them.
func TestEveryMakerGetuiDocumentsIsAccepted(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	for _, maker := range []string{getui.MakerAll, getui.MakerXiaomi, getui.MakerHuawei, getui.MakerHonor, getui.MakerOPPO,
		getui.MakerVivo, getui.MakerMeizu, getui.MakerUPS, getui.MakerST, getui.MakerFCM} {
		own := map[string]map[string]any{maker: {"/x": "y"}}
		assert.Equal(t, own, upsOptions(t, sendOne(t, c, fake, clk, "maker-"+maker, "", own).Body), maker)
	}
}

// TestFakeRecordsAndLogsTheMakersOptions: the fake Getui keeps a push's
// push_channel, and logs its makers' options, never the cid or a secret.
func TestFakeRecordsAndLogsTheMakersOptions(t *testing.T) {
	clk := newClock(start)
	var logs syncbuf.Buffer
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now, Logger: slog.New(slog.NewTextHandler(&logs, nil))}, func(cfg *getui.Config) {
		cfg.ClassUpsOptions = map[provider.Class]map[string]map[string]any{provider.ClassService: {getui.MakerXiaomi: {"/extra.channel_id": "orders"}}}
	})
	rec := sendOne(t, c, fake, clk, "logged", provider.ClassService, nil)
	assert.Equal(t, map[string]any{"/extra.channel_id": "orders"}, rec.UpsOptions()[getui.MakerXiaomi])
	rec.PushChannel["android"] = nil
	again := fake.RequestsTo("/push/single/cid")
	assert.NotNil(t, again[0].PushChannel["android"], "a caller's copy is its own")
	out := logs.String()
	assert.Contains(t, out, "ups_options=")
	assert.Contains(t, out, "/extra.channel_id:orders")
	assert.NotContains(t, out, cid(provider.Android, 0))
}
