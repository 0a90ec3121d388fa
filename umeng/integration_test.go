package umeng_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// fakeClock drives the fake's task lifecycle without sleeping.
type fakeClock struct{ t time.Time }

func (c *fakeClock) Now() time.Time { return c.t }

func newAgainstFake(t *testing.T, cfg umengtest.Config, mod func(*umeng.Config)) (*umeng.Client, *umengtest.Server) {
	t.Helper()
	fake := umengtest.NewServer(t, cfg)
	ucfg := fake.ClientConfig()
	ucfg.Now = cfg.Now
	if mod != nil {
		mod(&ucfg)
	}
	c, err := umeng.New(ucfg)
	require.NoError(t, err)
	return c, fake
}

func token(p provider.Platform, i int) string {
	if p == provider.IOS {
		return umengtest.IOSToken(fmt.Sprint(i))
	}
	return umengtest.AndroidToken(fmt.Sprint(i))
}

func appKey(p provider.Platform) string {
	for _, a := range umengtest.DefaultApps() {
		if a.Platform == string(p) {
			return a.AppKey
		}
	}
	return ""
}

// TestConformance runs the provider conformance suite against the client
// talking to the independent fake Umeng.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) *providertest.Harness {
		c, fake := newAgainstFake(t, umengtest.Config{}, nil)
		for _, p := range provider.Platforms() {
			for i := range 3 {
				require.NoError(t, fake.AddDevice(appKey(p), umengtest.Device{Token: token(p, i)}))
			}
		}
		return &providertest.Harness{
			Provider:  c,
			Platforms: provider.Platforms(),
			Token:     token,
			Calls:     func() int { return fake.Arrived("/api/send") },
			Fault: func(k provider.Kind) bool {
				f := umengtest.Fault{Path: "/api/send"}
				switch k {
				case provider.Temporary:
					f.HTTPStatus = 503
				case provider.RateLimited:
					f.Code = "2050"
				case provider.QuotaExceeded:
					f.Code = "2012"
				case provider.Auth:
					f.Code = "2027"
				case provider.InvalidToken:
					f.Code = "5000"
				case provider.InvalidRequest:
					f.Code = "2022"
				case provider.Indeterminate:
					// Accepted, then the connection drops without an answer.
					f.Timeout, f.AfterAccept, f.Delay = true, true, 10*time.Millisecond
				default:
					return false
				}
				return fake.FailNext(1, f) == nil
			},
			Invalidate: func(_ provider.Platform, token string) { fake.MarkInvalid(token) },
			Stall: func() (<-chan struct{}, func()) {
				release := fake.Stall()
				stalled := make(chan struct{})
				go func() {
					if fake.WaitStalled(context.Background(), 1) == nil {
						close(stalled)
					}
				}()
				return stalled, release
			},
		}
	})
}

// TestEveryCastAcceptedByFake sends every cast type on both platforms
// through the client and checks that the independent fake accepts each
// request as the real service would: signed, well formed, right appkey.
func TestEveryCastAcceptedByFake(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	filter := json.RawMessage(`{"where":{"and":[{"tag":"vip"}]}}`)
	for _, p := range provider.Platforms() {
		for _, tc := range []struct {
			name     string
			aud      provider.Audience
			strategy umeng.Strategy
			typ      string
			pollable bool
		}{
			{"unicast", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token(p, 0)}}, umeng.StrategyListcast, "unicast", false},
			{"listcast", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token(p, 0), token(p, 1)}}, umeng.StrategyListcast, "listcast", false},
			{"filecast", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token(p, 0), token(p, 1)}}, umeng.StrategyFilecast, "filecast", true},
			{"broadcast", provider.Audience{Kind: provider.AudienceBroadcast}, umeng.StrategyListcast, "broadcast", true},
			{"groupcast", provider.Audience{Kind: provider.AudienceFilter, Filter: filter}, umeng.StrategyListcast, "groupcast", true},
			{"customizedcast", provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"u1001"}}, umeng.StrategyListcast, "customizedcast", false},
		} {
			t.Run(string(p)+"/"+tc.name, func(t *testing.T) {
				c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, func(cfg *umeng.Config) { cfg.Strategy = tc.strategy })
				require.NoError(t, fake.AddDevice(appKey(p), umengtest.Device{Token: token(p, 0),
					Tags: []string{"vip"}, Aliases: map[string]string{"user_num": "u1001"}}))
				badge := 3
				rc, err := c.Send(ctx, &provider.Request{Platform: p, Audience: tc.aud, IdempotencyKey: "key-" + tc.name,
					Notification: provider.Notification{Title: "到货提醒", Body: "您关注的商品已到货 🎉", Badge: &badge,
						Extras: map[string]string{"page": "goods"}},
					ExpireTime: clk.t.Add(24 * time.Hour)})
				require.NoError(t, err)
				assert.Equal(t, tc.pollable, rc.Pollable)
				sends := fake.Sends()
				require.Len(t, sends, 1)
				assert.Equal(t, tc.typ, sends[0].Type)
				assert.Equal(t, appKey(p), sends[0].AppKey)
				assert.Equal(t, rc.ID, sends[0].ID)
				assert.Empty(t, sends[0].Ignored, "nothing the client sends may be ignored by Umeng")
				if tc.pollable {
					assert.Equal(t, "key-"+tc.name, sends[0].OutBizNo, "task casts carry the idempotency key")
					st, err := c.Status(ctx, p, rc.ID)
					require.NoError(t, err)
					assert.False(t, st.State.Final())
					clk.t = clk.t.Add(time.Minute)
					st, err = c.Status(ctx, p, rc.ID)
					require.NoError(t, err)
					assert.Equal(t, provider.StateDone, st.State)
					clk.t = clk.t.Add(-time.Minute)
				} else {
					_, err := c.Status(ctx, p, rc.ID)
					assert.ErrorIs(t, err, provider.InvalidRequest, "a msg_id cannot be polled")
				}
			})
		}
	}
}

// TestDedupeAndErrorsAgainstFake checks that a retried task cast is
// deduplicated by out_biz_no, that an altered sign is refused, and that
// invalid tokens come back as InvalidToken.
func TestDedupeAndErrorsAgainstFake(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, umengtest.Config{}, nil)
	require.NoError(t, fake.AddDevice(appKey(provider.Android), umengtest.Device{Token: token(provider.Android, 0)}))
	req := &provider.Request{Platform: provider.Android, Audience: provider.Audience{Kind: provider.AudienceBroadcast},
		Notification: provider.Notification{Title: "t", Body: "b"}, IdempotencyKey: "pm1-0"}
	r1, err := c.Send(ctx, req)
	require.NoError(t, err)
	r2, err := c.Send(ctx, req)
	require.NoError(t, err)
	assert.Equal(t, r1.ID, r2.ID)
	sends := fake.Sends()
	require.Len(t, sends, 2)
	assert.False(t, sends[0].Deduplicated)
	assert.True(t, sends[1].Deduplicated, "the retry is recognised by out_biz_no")
	assert.Len(t, fake.Tasks(), 1, "one task: shown once")

	fake.MarkInvalid(token(provider.IOS, 9))
	_, err = c.Send(ctx, &provider.Request{Platform: provider.IOS, Audience: provider.Audience{Kind: provider.AudienceTokens,
		Tokens: []string{token(provider.IOS, 9)}}, Notification: provider.Notification{Body: "b"}})
	assert.ErrorIs(t, err, provider.InvalidToken)

	bad, err := umeng.New(umeng.Config{BaseURL: fake.URL, Android: umeng.App{AppKey: appKey(provider.Android), AppMasterSecret: "wrong-secret"}})
	require.NoError(t, err)
	_, err = bad.Send(ctx, req)
	assert.ErrorIs(t, err, provider.Auth)
	assert.Equal(t, "2027", provider.CodeOf(err))
	assert.NotContains(t, err.Error(), "wrong-secret")
}

// TestGroupcastByGroupIDAgainstFake sends a groupcast by group_id alone,
// which Umeng takes in place of a filter, and checks who receives it.
func TestGroupcastByGroupIDAgainstFake(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, nil)
	member, outsider := token(provider.Android, 0), token(provider.Android, 1)
	require.NoError(t, fake.AddDevice(appKey(provider.Android), umengtest.Device{Token: member, Groups: []string{"G000001"}}))
	require.NoError(t, fake.AddDevice(appKey(provider.Android), umengtest.Device{Token: outsider}))

	rc, err := c.Send(ctx, &provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceFilter, GroupID: "G000001"},
		Notification: provider.Notification{Title: "t", Body: "b"},
	})
	require.NoError(t, err)
	assert.True(t, rc.Pollable)
	sends := fake.Sends()
	require.Len(t, sends, 1)
	assert.Equal(t, "groupcast", sends[0].Type)
	assert.Equal(t, "G000001", sends[0].GroupID)
	assert.Empty(t, sends[0].Ignored)

	clk.t = clk.t.Add(time.Minute)
	st, err := c.Status(ctx, provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateDone, st.State)
	assert.Equal(t, 1, fake.DeliveryCount(member))
	assert.Zero(t, fake.DeliveryCount(outsider))
}

// TestOptionsAcceptedByFake sends what the review fixes changed on the wire
// (a silent message carrying its extras in body.custom, string iOS custom
// values, max_send_num at its minimum, receipt_type as a string, a
// scheduled filecast) and checks that the fake takes each, ignores nothing
// and delivers what the app should see.
func TestOptionsAcceptedByFake(t *testing.T) {
	ctx := context.Background()
	clk := &fakeClock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	receipts := &umeng.Options{MaxSendNum: umeng.MinMaxSendNum, ReceiptURL: "https://hooks.example.com/umeng",
		ReceiptType: umeng.ReceiptArrivalAndClick, CallbackParams: json.RawMessage(`{"push":7}`)}

	t.Run("silent Android message", func(t *testing.T) {
		c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, nil)
		tok := token(provider.Android, 0)
		_, err := c.Send(ctx, &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{tok}},
			Notification: provider.Notification{Silent: true, Body: "sync", Extras: map[string]string{"order": "42"}},
			Overrides:    map[string]any{umeng.Name: receipts}})
		require.NoError(t, err)
		require.Len(t, fake.Sends(), 1)
		assert.Empty(t, fake.Sends()[0].Ignored)
		d := fake.Deliveries()
		require.Len(t, d, 1)
		assert.Nil(t, d[0].Extras, "Umeng drops payload.extra on messages")
		var custom struct {
			Body   string            `json:"body"`
			Extras map[string]string `json:"extras"`
		}
		require.NoError(t, json.Unmarshal([]byte(d[0].Custom), &custom))
		assert.Equal(t, "sync", custom.Body)
		assert.Equal(t, map[string]string{"order": "42"}, custom.Extras, "the extras reach the app in body.custom")
	})

	t.Run("iOS string custom keys", func(t *testing.T) {
		c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, nil)
		tok := token(provider.IOS, 0)
		_, err := c.Send(ctx, &provider.Request{Platform: provider.IOS,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{tok}},
			Notification: provider.Notification{Body: "b", Extras: map[string]string{"order": "42"}},
			Overrides: map[string]any{umeng.Name: &umeng.Options{IOSKeys: map[string]json.RawMessage{
				"deeplink": json.RawMessage(`"{\"path\":\"/orders/42\"}"`)}}}})
		require.NoError(t, err)
		d := fake.Deliveries()
		require.Len(t, d, 1)
		assert.Equal(t, map[string]string{"order": "42", "deeplink": `{"path":"/orders/42"}`}, d[0].Extras)
	})

	t.Run("scheduled filecast", func(t *testing.T) {
		c, fake := newAgainstFake(t, umengtest.Config{Now: clk.Now}, func(cfg *umeng.Config) { cfg.Strategy = umeng.StrategyFilecast })
		tok := token(provider.Android, 0)
		rc, err := c.Send(ctx, &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{tok}},
			Notification: provider.Notification{Title: "t", Body: "b"},
			StartTime:    clk.t.Add(2 * time.Hour), IdempotencyKey: "sched-1",
			Overrides: map[string]any{umeng.Name: receipts}})
		require.NoError(t, err)
		st, err := c.Status(ctx, provider.Android, rc.ID)
		require.NoError(t, err)
		assert.Equal(t, provider.StateScheduled, st.State)
		assert.Zero(t, fake.DeliveryCount(tok), "nothing before the start")
		assert.Empty(t, fake.Sends()[0].Ignored)
	})
}

// TestLimitsAgainstFake checks the kinds of the fake's production limits
// end to end: the daily broadcast cap (2012) is QuotaExceeded, the
// groupcast rate (2050) RateLimited; in TestMode neither applies. A path
// the service does not serve is an error in its shape. The client's own
// quotas are switched off here, so that the fake's limits answer.
func TestLimitsAgainstFake(t *testing.T) {
	ctx := context.Background()
	broadcast := func(i int) *provider.Request {
		return &provider.Request{Platform: provider.Android, Audience: provider.Audience{Kind: provider.AudienceBroadcast},
			Notification: provider.Notification{Title: "t", Body: "b"}, IdempotencyKey: fmt.Sprint("pm-", i)}
	}
	off := provider.Quota{Unlimited: true}
	c, _ := newAgainstFake(t, umengtest.Config{}, func(cfg *umeng.Config) {
		cfg.Quotas = umeng.Quotas{Broadcast: off, Groupcast: off, Filecast: off}
	})
	for i := range 10 {
		_, err := c.Send(ctx, broadcast(i))
		require.NoError(t, err)
	}
	_, err := c.Send(ctx, broadcast(10))
	require.ErrorIs(t, err, provider.QuotaExceeded)
	assert.Equal(t, "2012", provider.CodeOf(err))

	group := &provider.Request{Platform: provider.Android, Audience: provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}},
		Notification: provider.Notification{Title: "t", Body: "b"}}
	for range 5 {
		_, err := c.Send(ctx, group)
		require.NoError(t, err)
	}
	_, err = c.Send(ctx, group)
	require.ErrorIs(t, err, provider.RateLimited)
	assert.Equal(t, "2050", provider.CodeOf(err))

	test, _ := newAgainstFake(t, umengtest.Config{}, func(cfg *umeng.Config) { cfg.TestMode = true })
	for i := range 12 {
		_, err := test.Send(ctx, broadcast(i))
		require.NoError(t, err, "test mode is not limited")
	}

	_, err = c.Post(ctx, provider.Android, "/api/nope", []byte(`{"appkey":"x"}`))
	require.Error(t, err)
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 404, pe.HTTPStatus)
	assert.Equal(t, umengtest.CodeNoSuchAPI, provider.CodeOf(err))
}

// TestBaseURLInCapitalsSignsWhatUmengSees: a base URL with its scheme and
// host in capitals is valid, and the sign covers the URL in the lower case
// Umeng sees it in, so the send is accepted rather than refused for its
// sign (2027).
func TestBaseURLInCapitalsSignsWhatUmengSees(t *testing.T) {
	c, fake := newAgainstFake(t, umengtest.Config{}, func(cfg *umeng.Config) {
		cfg.BaseURL = "HTTP://LOCALHOST" + strings.TrimPrefix(cfg.BaseURL, "http://127.0.0.1") + "/"
	})
	tok := token(provider.Android, 1)
	_, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{tok}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	assert.Equal(t, 1, fake.DeliveryCount(tok))
	assert.Contains(t, c.String(), "http://localhost:", "the Client shows the base URL it signs")
}
