package jpush_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/testclock"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
)

// newClock makes the clock that drives time_to_live and the status
// mapping without sleeping, safe for the fake's handlers to read while a
// test moves it.
var newClock = testclock.New

func newAgainstFake(t *testing.T, cfg jpushtest.Config, mod func(*jpush.Config)) (*jpush.Client, *jpushtest.Server) {
	t.Helper()
	fake := jpushtest.NewServer(t, cfg)
	app := jpushtest.DefaultApps()[0]
	jcfg := jpush.Config{AppKey: app.AppKey, MasterSecret: app.MasterSecret, BaseURL: fake.URL, ReportBaseURL: fake.URL, Now: cfg.Now}
	if mod != nil {
		mod(&jcfg)
	}
	c, err := jpush.New(jcfg)
	require.NoError(t, err)
	return c, fake
}

func rid(p provider.Platform, i int) string {
	return jpushtest.RegistrationID(fmt.Sprintf("%s-%d", p, i))
}

// TestConformance runs the provider conformance suite against the client
// talking to the independent fake JPush.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) *providertest.Harness {
		c, fake := newAgainstFake(t, jpushtest.Config{}, nil)
		return &providertest.Harness{
			Provider:  c,
			Platforms: provider.Platforms(),
			Token:     rid,
			Calls:     func() int { return fake.Arrived("/v3/push") },
			Fault: func(k provider.Kind) bool {
				f := jpushtest.Fault{Path: "/v3/push"}
				switch k {
				case provider.Temporary:
					f.Code = jpush.CodeInternal
				case provider.RateLimited:
					f.Code, f.Reset = jpush.CodeRateLimited, 3*time.Second
				case provider.QuotaExceeded:
					f.Code = jpush.CodeVolumeExceeded
				case provider.Auth:
					f.Code = jpush.CodeAuthFailed
				case provider.InvalidToken:
					f.Code, f.Message = jpush.CodeNoTarget, "cannot find user by this audience"
				case provider.InvalidRequest:
					f.Code = jpush.CodeTooLarge
				case provider.Indeterminate:
					f.Timeout, f.AfterAccept, f.Delay = true, true, 10*time.Millisecond
				case provider.Unknown:
					f.HTTPStatus = http.StatusTeapot // no code, a status no table knows
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

// TestEveryAudienceAcceptedByFake sends every audience kind on both
// platforms, visible and silent, and checks that the strict fake accepts
// each request and delivers what the app should see.
func TestEveryAudienceAcceptedByFake(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	for _, p := range provider.Platforms() {
		for _, tc := range []struct {
			name string
			aud  provider.Audience
		}{
			{"tokens", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{rid(p, 0), rid(p, 1)}}},
			{"broadcast", provider.Audience{Kind: provider.AudienceBroadcast}},
			{"aliases", provider.Audience{Kind: provider.AudienceAliases, AliasType: "ignored", Aliases: []string{"u1001"}}},
			{"tags", provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}}},
			{"filter", provider.Audience{Kind: provider.AudienceFilter, Filter: json.RawMessage(`{"tag_and":["vip","beta"],"tag_not":["muted"]}`)}},
			{"segment", provider.Audience{Kind: provider.AudienceFilter, GroupID: "seg1"}},
		} {
			for _, silent := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/%s/silent=%t", p, tc.name, silent), func(t *testing.T) {
					c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, nil)
					app := jpushtest.DefaultApps()[0].AppKey
					require.NoError(t, fake.AddDevice(app, jpushtest.Device{RegistrationID: rid(p, 0), Platform: string(p),
						Alias: "u1001", Tags: []string{"vip", "beta"}, Segments: []string{"seg1"}}))
					badge := 2
					rc, err := c.Send(ctx, &provider.Request{Platform: p, Audience: tc.aud, IdempotencyKey: "key-" + tc.name,
						Notification: provider.Notification{Title: "到货提醒", Body: "您关注的商品已到货 🎉", Badge: &badge, Silent: silent,
							Extras: map[string]string{"page": "goods"}},
						ExpireTime: clk.Now().Add(2 * time.Hour)})
					require.NoError(t, err)
					assert.True(t, rc.Pollable)
					pushes := fake.Pushes()
					require.Len(t, pushes, 1)
					assert.Equal(t, rc.ID, pushes[0].MsgID)
					assert.Equal(t, []string{string(p)}, pushes[0].Platform)
					require.NotNil(t, pushes[0].TimeToLive)
					assert.EqualValues(t, 7200, *pushes[0].TimeToLive)
					assert.Equal(t, int64(jpush.SendNo("key-"+tc.name)), pushes[0].SendNo)
					assert.GreaterOrEqual(t, fake.DeliveryCount(rid(p, 0)), 1)
					d := fake.Deliveries()[0]
					assert.Equal(t, map[string]string{"page": "goods"}, d.Extras)
					assert.Equal(t, silent && p == provider.Android, d.Message)

					st, err := c.Status(ctx, p, rc.ID)
					require.NoError(t, err)
					assert.Equal(t, provider.StateSending, st.State, "counted, within the TTL")
					assert.Zero(t, st.Total, "JPush reports no count of targets")
					assert.Positive(t, st.Sent, "reached over JPush's own connection or APNs")
				})
			}
		}
	}
}

// TestStatusCancelAndMessageStatusAgainstFake covers the report endpoints
// and withdraw.
func TestStatusCancelAndMessageStatusAgainstFake(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, nil)
	live, dead := rid(provider.Android, 0), rid(provider.Android, 1)
	fake.MarkInvalid(dead)
	rc, err := c.Send(ctx, &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{live, dead}},
		Notification: provider.Notification{Title: "t", Body: "b"}, ExpireTime: clk.Now().Add(time.Hour)})
	require.NoError(t, err)

	st, err := c.Status(ctx, provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateSending, st.State, "one of two reached, within the TTL")
	assert.Zero(t, st.Total, "JPush reports no count of targets")
	assert.Equal(t, 1, st.Sent)

	states, err := c.MessageStatus(ctx, rc.ID, []string{live, dead, rid(provider.Android, 9)})
	require.NoError(t, err)
	assert.Equal(t, map[string]jpush.DeliveryState{live: jpush.Delivered, dead: jpush.NotDelivered,
		rid(provider.Android, 9): jpush.NotTarget}, states)

	clk.Advance(time.Hour)
	st, err = c.Status(ctx, provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateDone, st.State, "the TTL is over")

	_, err = c.Status(ctx, provider.Android, "9999999999")
	assert.ErrorIs(t, err, provider.InvalidRequest)
	assert.Equal(t, "id", provider.FieldOf(err))

	clk.Advance(-30 * time.Minute)
	require.NoError(t, c.Cancel(ctx, provider.Android, rc.ID))
	assert.True(t, fake.Withdrawn(rc.ID))
	st, err = c.Status(ctx, provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateCanceled, st.State, "withdrawn: final, as the Getui client says of its tasks")
	clk.Advance(time.Hour)
	st, err = c.Status(ctx, provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateCanceled, st.State, "still, past the TTL")
	err = c.Cancel(ctx, provider.Android, rc.ID)
	assert.ErrorIs(t, err, provider.InvalidRequest, "withdrawn twice")
	assert.Equal(t, "1003", provider.CodeOf(err))

	err = c.Cancel(ctx, provider.Android, "not-a-msg-id")
	assert.ErrorIs(t, err, provider.InvalidRequest)
	assert.Equal(t, "id", provider.FieldOf(err))
}

// TestErrorsAgainstFake covers auth, dead and malformed registration ids,
// numeric msg_ids, error bodies with a msg_id and rate limits.
func TestErrorsAgainstFake(t *testing.T) {
	ctx := context.Background()
	req := func(tokens ...string) *provider.Request {
		return &provider.Request{Platform: provider.IOS, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens},
			Notification: provider.Notification{Body: "b"}}
	}
	t.Run("wrong secret", func(t *testing.T) {
		_, fake := newAgainstFake(t, jpushtest.Config{}, nil)
		bad, err := jpush.New(jpush.Config{AppKey: jpushtest.DefaultApps()[0].AppKey, MasterSecret: "wrong-secret", BaseURL: fake.URL})
		require.NoError(t, err)
		_, err = bad.Send(ctx, req(rid(provider.IOS, 0)))
		assert.ErrorIs(t, err, provider.Auth)
		assert.Equal(t, "1004", provider.CodeOf(err))
		assert.NotContains(t, err.Error(), "wrong-secret")
	})
	t.Run("dead registration id", func(t *testing.T) {
		c, fake := newAgainstFake(t, jpushtest.Config{}, nil)
		fake.MarkInvalid(rid(provider.IOS, 0), rid(provider.IOS, 1))
		_, err := c.Send(ctx, req(rid(provider.IOS, 0)))
		assert.ErrorIs(t, err, provider.InvalidToken)
		assert.Equal(t, "1011", provider.CodeOf(err))
		// JPush knows none of the ids: every one is named, to be disabled.
		_, err = c.Send(ctx, req(rid(provider.IOS, 0), rid(provider.IOS, 1)))
		assert.ErrorIs(t, err, provider.InvalidToken)
		var pe *provider.Error
		require.ErrorAs(t, err, &pe)
		var named []string
		for _, f := range pe.Failures {
			assert.Equal(t, provider.InvalidToken, f.Kind)
			named = append(named, f.Token)
		}
		assert.ElementsMatch(t, []string{rid(provider.IOS, 0), rid(provider.IOS, 1)}, named)
		// One of them alive: JPush pushes to it and answers success.
		_, err = c.Send(ctx, req(rid(provider.IOS, 0), rid(provider.IOS, 2)))
		assert.NoError(t, err)
	})
	t.Run("malformed registration id", func(t *testing.T) {
		c, _ := newAgainstFake(t, jpushtest.Config{}, nil)
		_, err := c.Send(ctx, req("short"))
		assert.ErrorIs(t, err, provider.InvalidToken)
		assert.Equal(t, "1003", provider.CodeOf(err))
	})
	t.Run("numeric msg_id", func(t *testing.T) {
		c, _ := newAgainstFake(t, jpushtest.Config{NumericMsgID: true}, nil)
		rc, err := c.Send(ctx, req(rid(provider.IOS, 0)))
		require.NoError(t, err)
		assert.Regexp(t, `^[0-9]+$`, rc.ID)
	})
	t.Run("error with msg_id", func(t *testing.T) {
		c, fake := newAgainstFake(t, jpushtest.Config{}, nil)
		require.NoError(t, fake.FailNext(1, jpushtest.Fault{Code: jpush.CodeInternal, WithMsgID: true}))
		rc, err := c.Send(ctx, req(rid(provider.IOS, 0)))
		assert.Nil(t, rc)
		assert.ErrorIs(t, err, provider.Temporary)
	})
	for _, fam := range []jpushtest.HeaderFamily{jpushtest.HeadersDocs, jpushtest.HeadersSDK} {
		t.Run(fmt.Sprintf("rate limit headers %d", fam), func(t *testing.T) {
			clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
			c, _ := newAgainstFake(t, jpushtest.Config{Now: clk.Now, RateLimit: 1, RateWindow: 40 * time.Second, RateHeaders: fam}, nil)
			_, err := c.Send(ctx, req(rid(provider.IOS, 0)))
			require.NoError(t, err)
			clk.Advance(10 * time.Second)
			_, err = c.Send(ctx, req(rid(provider.IOS, 0)))
			assert.ErrorIs(t, err, provider.RateLimited)
			assert.Equal(t, "2002", provider.CodeOf(err))
			assert.Equal(t, 30*time.Second, provider.RetryAfterOf(err))
		})
	}
	t.Run("validate remote", func(t *testing.T) {
		c, fake := newAgainstFake(t, jpushtest.Config{}, nil)
		require.NoError(t, c.ValidateRemote(ctx, req(rid(provider.IOS, 0))))
		fake.MarkInvalid(rid(provider.IOS, 1))
		err := c.ValidateRemote(ctx, req(rid(provider.IOS, 1)))
		assert.ErrorIs(t, err, provider.InvalidToken)
		assert.Zero(t, fake.Arrived("/v3/push"), "validation sends nothing")
		assert.Empty(t, fake.Deliveries())
	})
}

// TestMessageStatusNamesTheSendDay: JPush looks a message up on one day,
// today in Beijing time unless the body names another, so a message sent
// before midnight there is asked about on the day it was sent.
func TestMessageStatusNamesTheSendDay(t *testing.T) {
	ctx := context.Background()
	// 23:50 in Beijing (UTC+8).
	clk := newClock(time.Date(2026, 11, 28, 15, 50, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, nil)
	live := rid(provider.Android, 0)
	rc, err := c.Send(ctx, &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{live}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)

	clk.Advance(20 * time.Minute) // 00:10 the next day in Beijing
	states, err := c.MessageStatus(ctx, rc.ID, []string{live})
	require.NoError(t, err)
	assert.Equal(t, map[string]jpush.DeliveryState{live: jpush.Delivered}, states)
	reqs := fake.Requests()
	last := reqs[len(reqs)-1]
	require.Equal(t, "/v3/status/message", last.API)
	assert.Contains(t, string(last.Body), `"date":"2026-11-28"`)

	// A client that did not send it (a restart) asks about today, where
	// JPush does not find it.
	other, err := jpush.New(jpush.Config{AppKey: jpushtest.DefaultApps()[0].AppKey, MasterSecret: jpushtest.DefaultApps()[0].MasterSecret,
		BaseURL: fake.URL, ReportBaseURL: fake.URL, Now: clk.Now})
	require.NoError(t, err)
	_, err = other.MessageStatus(ctx, rc.ID, []string{live})
	assert.ErrorIs(t, err, provider.InvalidRequest)
	assert.Equal(t, "1003", provider.CodeOf(err))
}

// TestIOSNotificationLimit: JPush holds "ios":{…} to 2000 bytes. The
// largest body the client accepts is accepted by the fake too, and one
// byte more is refused by the client before any call, naming the body;
// an Android notification keeps the 4000 bytes of notification and
// message.
func TestIOSNotificationLimit(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, jpushtest.Config{}, func(c *jpush.Config) { c.DisableCID = true })
	req := func(p provider.Platform, n int) *provider.Request {
		return &provider.Request{Platform: p, IdempotencyKey: fmt.Sprint("size-", p, n),
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{rid(p, 0)}},
			Notification: provider.Notification{Title: "t", Body: strings.Repeat("a", n)}}
	}
	largest := 0
	for n := 1500; n <= 2100; n++ {
		if c.Validate(req(provider.IOS, n)) != nil {
			break
		}
		largest = n
	}
	require.Greater(t, largest, 1900, "a body near the limit is accepted")
	require.Less(t, largest, 2000, "the ios object's other bytes count too")

	_, err := c.Send(ctx, req(provider.IOS, largest))
	require.NoError(t, err, "the fake accepts what the client accepts")

	before := fake.Arrived("/v3/push")
	_, err = c.Send(ctx, req(provider.IOS, largest+1))
	require.Equal(t, provider.InvalidRequest, provider.KindOf(err), "%v", err)
	assert.Equal(t, "notification.body", provider.FieldOf(err))
	assert.Contains(t, err.Error(), "at most 2000")
	assert.Equal(t, before, fake.Arrived("/v3/push"), "refused before any call")

	_, err = c.Send(ctx, req(provider.Android, 3000))
	require.NoError(t, err, "Android keeps 4000 bytes of notification and message")
}

// TestTimeToLiveClampedToTheAppsLimit: an ExpireTime further off than the
// app's longest time_to_live is sent as that limit: three days, or ten
// for a VIP app.
func TestTimeToLiveClampedToTheAppsLimit(t *testing.T) {
	clk := newClock(time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC))
	for _, tc := range []struct {
		vip  bool
		want int64
	}{{false, 3 * 24 * 3600}, {true, 10 * 24 * 3600}} {
		t.Run(fmt.Sprint("vip=", tc.vip), func(t *testing.T) {
			c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, func(c *jpush.Config) { c.DisableCID = true; c.VIP = tc.vip })
			for _, days := range []int{2, 30} {
				_, err := c.Send(context.Background(), &provider.Request{Platform: provider.Android, IdempotencyKey: fmt.Sprint("ttl-", days),
					Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{rid(provider.Android, 0)}},
					Notification: provider.Notification{Title: "t", Body: "b"}, ExpireTime: clk.Now().Add(time.Duration(days) * 24 * time.Hour)})
				require.NoError(t, err)
			}
			pushes := fake.Pushes()
			require.Len(t, pushes, 2)
			require.NotNil(t, pushes[0].TimeToLive)
			assert.EqualValues(t, 2*24*3600, *pushes[0].TimeToLive, "within the limit: sent as asked")
			require.NotNil(t, pushes[1].TimeToLive)
			assert.Equal(t, tc.want, *pushes[1].TimeToLive)
			assert.Equal(t, time.Duration(tc.want)*time.Second, c.Capabilities(provider.Android).MaxTimeToLive)
		})
	}
}

// Statuses asks about several messages in one received/detail call and
// answers each as Status would: counted, not yet counted, unknown to
// JPush, not a msg_id, and an id asked twice.
func TestStatusesAgainstFake(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, nil)
	send := func(i int) string {
		rc, err := c.Send(ctx, &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{rid(provider.Android, i)}},
			Notification: provider.Notification{Title: "t", Body: "b"}, ExpireTime: clk.Now().Add(time.Hour)})
		require.NoError(t, err)
		return rc.ID
	}
	a, b := send(0), send(1)
	before := len(fake.Requests())
	ids := []string{a, "9999999999", "not-a-msg-id", b, a}
	rs, err := c.Statuses(ctx, provider.Android, ids)
	require.NoError(t, err)
	require.Len(t, rs, len(ids))
	calls := fake.Requests()[before:]
	require.Len(t, calls, 1, "one call for every id")
	assert.Equal(t, "/v3/received/detail", calls[0].Path)

	for _, i := range []int{0, 3, 4} {
		require.NoError(t, rs[i].Err, "ids[%d]", i)
		assert.Equal(t, ids[i], rs[i].Status.ID)
		assert.Equal(t, provider.StateSending, rs[i].Status.State)
		assert.Equal(t, 1, rs[i].Status.Sent)
		assert.Contains(t, string(rs[i].Status.Raw), ids[i], "its own entry")
		other := b
		if ids[i] == b {
			other = a
		}
		assert.NotContains(t, string(rs[i].Status.Raw), other, "not the other's")
		one, err := c.Status(ctx, provider.Android, ids[i])
		require.NoError(t, err)
		assert.Equal(t, one.State, rs[i].Status.State, "as Status answers")
		assert.Equal(t, one.Sent, rs[i].Status.Sent)
	}
	assert.ErrorIs(t, rs[1].Err, provider.InvalidRequest, "JPush reports nothing for an id this client did not send")
	assert.Equal(t, "id", provider.FieldOf(rs[1].Err))
	assert.ErrorIs(t, rs[2].Err, provider.InvalidRequest, "not a msg_id: refused without asking")
	assert.Equal(t, "id", provider.FieldOf(rs[2].Err))

	clk.Advance(time.Hour)
	rs, err = c.Statuses(ctx, provider.Android, []string{a, b})
	require.NoError(t, err)
	assert.Equal(t, provider.StateDone, rs[0].Status.State, "the TTL is over")
	assert.Equal(t, provider.StateDone, rs[1].Status.State)
}

// Statuses refuses more ids than one received/detail takes, and a bad
// platform, without a call; ids that are none of them msg_ids make no call.
func TestStatusesRefusesWithoutACall(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, jpushtest.Config{}, nil)
	ids := make([]string, jpush.MaxReceivedIDs+1)
	for i := range ids {
		ids[i] = fmt.Sprint(1000000000 + i)
	}
	_, err := c.Statuses(ctx, provider.Android, ids)
	assert.ErrorIs(t, err, provider.InvalidRequest)
	assert.Equal(t, "ids", provider.FieldOf(err))
	_, err = c.Statuses(ctx, "web", ids[:1])
	assert.ErrorIs(t, err, provider.InvalidRequest)
	assert.Equal(t, "platform", provider.FieldOf(err))
	rs, err := c.Statuses(ctx, provider.IOS, []string{"", "x"})
	require.NoError(t, err)
	for _, r := range rs {
		assert.ErrorIs(t, r.Err, provider.InvalidRequest)
	}
	assert.Empty(t, fake.Requests())
	assert.Equal(t, jpush.MaxReceivedIDs, c.MaxStatusIDs())

	// MaxReceivedIDs ids, received/detail's limit, go in one call.
	rs, err = c.Statuses(ctx, provider.Android, ids[:jpush.MaxReceivedIDs])
	require.NoError(t, err)
	assert.Len(t, rs, jpush.MaxReceivedIDs)
	require.Len(t, fake.Requests(), 1)
	assert.Equal(t, "/v3/received/detail", fake.Requests()[0].Path)
}
