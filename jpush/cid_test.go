package jpush_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
)

func cidRequest(key string, rids ...string) *provider.Request {
	return &provider.Request{Platform: provider.Android, IdempotencyKey: key,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: rids},
		Notification: provider.Notification{Title: "t", Body: "b"}}
}

// TestCIDDeduplicatesARetry: a push whose answer was lost is sent again
// with the same idempotency key, hence the same cid, and JPush answers it
// with the first push's result without pushing again. Without cids the
// device is shown the push twice.
func TestCIDDeduplicatesARetry(t *testing.T) {
	ctx := context.Background()
	for _, withCID := range []bool{true, false} {
		clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
		c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, func(cfg *jpush.Config) {
			cfg.Timeout = 300 * time.Millisecond
			cfg.DisableCID = !withCID
		})
		live := rid(provider.Android, 0)
		require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/push", AfterAccept: true, Timeout: true}))
		_, err := c.Send(ctx, cidRequest("push-1-chunk-0", live))
		require.ErrorIs(t, err, provider.Indeterminate, "pushed, answer lost")
		require.Equal(t, 1, fake.DeliveryCount(live))
		// The fake records the abandoned request once it sees the
		// connection drop.
		require.Eventually(t, func() bool { return len(fake.Pushes()) == 1 }, 5*time.Second, 5*time.Millisecond)
		first := fake.Pushes()[0]

		rc, err := c.Send(ctx, cidRequest("push-1-chunk-0", live))
		require.NoError(t, err)
		pushes := fake.Pushes()
		require.Len(t, pushes, 2)
		if !withCID {
			assert.Empty(t, pushes[1].CID)
			assert.Equal(t, 2, fake.DeliveryCount(live), "without a cid JPush pushes the retry again")
			assert.Zero(t, fake.Arrived("/v3/push/cid"))
			continue
		}
		assert.NotEmpty(t, first.CID)
		assert.Equal(t, first.CID, pushes[1].CID, "the retry carries the key's cid")
		assert.True(t, pushes[1].Duplicate)
		assert.Equal(t, first.MsgID, rc.ID, "the first push's msg_id")
		assert.Equal(t, 1, fake.DeliveryCount(live), "shown once")

		// Another key gets another cid, from the same fetch.
		_, err = c.Send(ctx, cidRequest("push-1-chunk-1", live))
		require.NoError(t, err)
		assert.NotEqual(t, first.CID, fake.Pushes()[2].CID)
		assert.Equal(t, 2, fake.DeliveryCount(live))
		assert.Equal(t, 1, fake.Arrived("/v3/push/cid"), "ten cids a fetch")
	}
}

// TestCIDPool: cids are fetched ten at a time; a key keeps its cid for a
// day less an hour; a pooled cid older than twelve hours is not handed to
// a new key; a request without a key carries none.
func TestCIDPool(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, nil)
	live := rid(provider.Android, 0)
	send := func(key string) jpushtest.Request {
		t.Helper()
		_, err := c.Send(ctx, cidRequest(key, live))
		require.NoError(t, err)
		pushes := fake.Pushes()
		return pushes[len(pushes)-1]
	}
	cids := map[string]bool{}
	for i := range 11 {
		p := send("key-" + string(rune('a'+i)))
		require.NotEmpty(t, p.CID)
		assert.False(t, cids[p.CID], "a cid serves one key")
		cids[p.CID] = true
	}
	assert.Equal(t, 2, fake.Arrived("/v3/push/cid"), "11 keys, 10 cids a fetch")

	p := send("")
	assert.Empty(t, p.CID, "no key, nothing to deduplicate")

	clk.Advance(13 * time.Hour)
	first := send("key-a")
	assert.True(t, first.Duplicate, "within the day, key-a's cid answers its first push")
	send("key-new")
	assert.Equal(t, 3, fake.Arrived("/v3/push/cid"), "the 9 pooled cids are over twelve hours old")

	clk.Advance(11 * time.Hour) // 24 h after the first fetch
	again := send("key-a")
	assert.False(t, again.Duplicate, "a day on, key-a gets a new cid and is pushed")
	assert.NotEqual(t, first.CID, again.CID)
}

// TestCIDFetchFailurePushesWithout: when no cid can be had, the push is
// sent without one (it cannot be deduplicated, but it is not lost), and
// the next fetch waits a minute, or an hour after JPush refused the fetch.
func TestCIDFetchFailurePushesWithout(t *testing.T) {
	ctx := context.Background()
	for name, tc := range map[string]struct {
		fault jpushtest.Fault
		wait  time.Duration
	}{
		"500":              {jpushtest.Fault{Path: "/v3/push/cid", HTTPStatus: 500}, time.Minute},
		"answer lost":      {jpushtest.Fault{Path: "/v3/push/cid", AfterAccept: true, Timeout: true}, time.Minute},
		"1003":             {jpushtest.Fault{Path: "/v3/push/cid", Code: 1003}, time.Hour},
		"2007 not allowed": {jpushtest.Fault{Path: "/v3/push/cid", Code: 2007}, time.Hour},
		"1004 auth":        {jpushtest.Fault{Path: "/v3/push/cid", Code: 1004}, time.Hour},
	} {
		t.Run(name, func(t *testing.T) {
			clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
			c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, func(cfg *jpush.Config) { cfg.Timeout = 300 * time.Millisecond })
			live := rid(provider.Android, 0)
			require.NoError(t, fake.FailNext(1, tc.fault))
			_, err := c.Send(ctx, cidRequest("k1", live))
			require.NoError(t, err, "sent without a cid")
			assert.Empty(t, fake.Pushes()[0].CID)
			assert.Equal(t, 1, fake.DeliveryCount(live))

			_, err = c.Send(ctx, cidRequest("k2", live))
			require.NoError(t, err)
			assert.Empty(t, fake.Pushes()[1].CID, "no fetch while it waits")
			assert.Equal(t, 1, fake.Arrived("/v3/push/cid"))

			clk.Advance(tc.wait)
			_, err = c.Send(ctx, cidRequest("k3", live))
			require.NoError(t, err)
			assert.NotEmpty(t, fake.Pushes()[2].CID, "fetched again after %v", tc.wait)
			assert.Equal(t, 2, fake.Arrived("/v3/push/cid"))
		})
	}
}

// TestIssueRetryTokenReportsAFailedFetch: IssueRetryToken returns the
// failed fetch's error, so that the caller can say the push goes without
// a cid; while fetches pause, it returns no token and no error, and makes
// no call.
func TestIssueRetryTokenReportsAFailedFetch(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, func(cfg *jpush.Config) { cfg.Timeout = 300 * time.Millisecond })
	live := rid(provider.Android, 0)
	require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/push/cid", AfterAccept: true, Timeout: true}))
	tok, err := c.IssueRetryToken(ctx, cidRequest("k1", live))
	require.ErrorIs(t, err, provider.Indeterminate)
	assert.Contains(t, err.Error(), "/v3/push/cid")
	assert.Empty(t, tok)

	tok, err = c.IssueRetryToken(ctx, cidRequest("k2", live))
	require.NoError(t, err, "fetches pause: nothing was tried")
	assert.Empty(t, tok)
	// The first fetch reaches the fake on its own schedule: under load its
	// handler may start after the client's timeout has passed.
	require.Eventually(t, func() bool { return fake.Arrived("/v3/push/cid") >= 1 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 1, fake.Arrived("/v3/push/cid"), "the second token fetched nothing")
	_, err = c.Send(ctx, cidRequest("k1", live))
	require.NoError(t, err)
	assert.Empty(t, fake.Pushes()[0].CID, "sent without a cid")
}

// refusedCID sends key once, then moves JPush's clock a day on and ours
// by ours (so that the key's cid, and those pooled with it, are expired
// to JPush), and sends key again: JPush refuses its cid. It returns the
// Client, the fake and the device pushed to.
func refusedCID(t *testing.T, key string, ours time.Duration) (*jpush.Client, *jpushtest.Server, string) {
	t.Helper()
	ctx := context.Background()
	vendorClock := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	ourClock := newClock(vendorClock.Now())
	c, fake := newAgainstFake(t, jpushtest.Config{Now: vendorClock.Now}, func(cfg *jpush.Config) { cfg.Now = ourClock.Now })
	live := rid(provider.Android, 0)
	_, err := c.Send(ctx, cidRequest(key, live))
	require.NoError(t, err)
	vendorClock.Advance(24 * time.Hour)
	ourClock.Advance(ours)
	_, err = c.Send(ctx, cidRequest(key, live))
	require.ErrorIs(t, err, provider.Temporary)
	assert.Contains(t, err.Error(), "refused the cid")
	return c, fake, live
}

// TestCIDRefusedIsTemporary: a cid JPush refuses (expired by its clock)
// fails the Send Temporary and is dropped, so the next try is sent with a
// new cid rather than refused for a day.
func TestCIDRefusedIsTemporary(t *testing.T) {
	// Our clock runs two hours behind JPush's: the key's cid is 22 hours
	// old to us, expired to JPush.
	c, fake, live := refusedCID(t, "k", 22*time.Hour)
	_, err := c.Send(context.Background(), cidRequest("k", live))
	require.NoError(t, err)
	pushes := fake.Pushes()
	assert.NotEqual(t, pushes[0].CID, pushes[len(pushes)-1].CID, "a new cid")
	assert.Equal(t, 2, fake.DeliveryCount(live))
}

// TestRefusalNotOfTheCIDStaysFinal: a push that carries a cid and is
// refused for something else (a parameter JPush finds wrong, no word of
// the cid) keeps JPush's kind, InvalidRequest, and the key's cid, which
// the next try sends again; only a refusal naming the cid becomes
// Temporary.
func TestRefusalNotOfTheCIDStaysFinal(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, jpushtest.Config{}, nil)
	live := rid(provider.Android, 0)
	require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/push", Code: jpush.CodeInvalidParam, Message: "Invalid parameter: platform"}))
	_, err := c.Send(ctx, cidRequest("k", live))
	require.ErrorIs(t, err, provider.InvalidRequest)
	assert.NotContains(t, err.Error(), "refused the cid")
	tok, _ := provider.RetryTokenOf(err)
	require.True(t, strings.HasPrefix(tok, "cid1:"), "the key keeps its cid: %q", tok)

	_, err = c.Send(ctx, cidRequest("k", live))
	require.NoError(t, err)
	pushes := fake.Pushes()
	require.Len(t, pushes, 1, "the refused try is not recorded as a push")
	require.NotEmpty(t, pushes[0].CID)
	assert.Contains(t, tok, pushes[0].CID, "the next try sends the key's cid again, not another")
}

// TestCIDRefusedDropsItsBatch: when JPush refuses a key's cid, the cids
// pooled from the same fetch are dropped with it: the next key's Send
// fetches fresh ones and is sent, rather than refused in turn for a cid
// JPush no longer keeps (each refusal a spent try of its push).
func TestCIDRefusedDropsItsBatch(t *testing.T) {
	// JPush's day for the batch has run out; to us its cids are eleven
	// hours old, fresh enough for a new key.
	c, fake, live := refusedCID(t, "k1", 11*time.Hour)
	first := fake.Pushes()[0].CID
	_, err := c.Send(context.Background(), cidRequest("k2", live))
	require.NoError(t, err, "k2 took a fresh cid, not one of the refused batch")
	pushes := fake.Pushes()
	assert.NotEqual(t, first, pushes[len(pushes)-1].CID)
}

// TestDuplicateKeepsTheSendDay: a push sent just before midnight in
// Beijing whose answer was lost, retried just after, is answered with the
// first push's msg_id; MessageStatus still asks about the day it was sent.
func TestDuplicateKeepsTheSendDay(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 11, 28, 15, 59, 0, 0, time.UTC)) // 23:59 in Beijing
	c, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, func(cfg *jpush.Config) { cfg.Timeout = 300 * time.Millisecond })
	live := rid(provider.Android, 0)
	require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/push", AfterAccept: true, Timeout: true}))
	_, err := c.Send(ctx, cidRequest("k", live))
	require.ErrorIs(t, err, provider.Indeterminate)

	clk.Advance(2 * time.Minute) // 00:01 the next day
	rc, err := c.Send(ctx, cidRequest("k", live))
	require.NoError(t, err)
	states, err := c.MessageStatus(ctx, rc.ID, []string{live})
	require.NoError(t, err)
	assert.Equal(t, map[string]jpush.DeliveryState{live: jpush.Delivered}, states)
	reqs := fake.Requests()
	assert.Contains(t, string(reqs[len(reqs)-1].Body), `"date":"2026-11-28"`)
}

// secondClient is another Client of the fake's app: another process, whose
// memory holds none of the first one's cids.
func secondClient(t *testing.T, fake *jpushtest.Server, now func() time.Time) *jpush.Client {
	t.Helper()
	app := jpushtest.DefaultApps()[0]
	c, err := jpush.New(jpush.Config{AppKey: app.AppKey, MasterSecret: app.MasterSecret, BaseURL: fake.URL, ReportBaseURL: fake.URL, Now: now,
		Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	return c
}

// TestRetryTokenCarriesTheCIDAcrossProcesses: a push whose answer was lost
// fails with the key's cid in its RetryToken; another Client given that
// token sends the same cid, and JPush answers the first push again. Given
// no token (or one it cannot read) the other Client takes a new cid and
// the device is shown the push twice.
func TestRetryTokenCarriesTheCIDAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		token  func(lost error) string
		shownX int
	}{
		{"the token given back", func(lost error) string { tok, _ := provider.RetryTokenOf(lost); return tok }, 1},
		{"no token", func(error) string { return "" }, 2},
		{"a token of another form", func(error) string { return "task1:1900000000:RASL-1" }, 2},
		{"a token with a cid but no times", func(lost error) string {
			tok, _ := provider.RetryTokenOf(lost)
			return "cid1:x:y:" + tok[strings.LastIndex(tok, ":")+1:]
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
			a, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, func(cfg *jpush.Config) { cfg.Timeout = 300 * time.Millisecond })
			live := rid(provider.Android, 0)
			require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/push", AfterAccept: true, Timeout: true}))
			_, lost := a.Send(ctx, cidRequest("push-7-chunk-0", live))
			require.ErrorIs(t, lost, provider.Indeterminate)
			tok, ok := provider.RetryTokenOf(lost)
			require.True(t, ok)
			require.True(t, strings.HasPrefix(tok, "cid1:"), "token %q", tok)
			require.LessOrEqual(t, len(tok), provider.MaxRetryToken)
			require.Eventually(t, func() bool { return len(fake.Pushes()) == 1 }, 5*time.Second, 5*time.Millisecond)
			first := fake.Pushes()[0]
			assert.Contains(t, tok, first.CID)

			clk.Advance(time.Hour)
			b := secondClient(t, fake, clk.Now)
			r := cidRequest("push-7-chunk-0", live)
			r.RetryToken = tc.token(lost)
			rc, err := b.Send(ctx, r)
			require.NoError(t, err)
			pushes := fake.Pushes()
			require.Len(t, pushes, 2)
			assert.Equal(t, tc.shownX, fake.DeliveryCount(live))
			if tc.shownX == 1 {
				assert.Equal(t, first.CID, pushes[1].CID)
				assert.True(t, pushes[1].Duplicate)
				assert.Equal(t, first.MsgID, rc.ID, "answered with the first push's msg_id")
				assert.Equal(t, 1, fake.Arrived("/v3/push/cid"), "the second Client fetched no cid")
			} else {
				assert.NotEqual(t, first.CID, pushes[1].CID)
			}
		})
	}
}

// TestRetryTokenOfEveryFailure: every failed Send of a key that holds a cid
// carries its token, a refusal before the network (the quota) included; a
// cid JPush refuses is dropped, and the error says so with an empty token.
// A token older than a cid may be kept is not sent.
func TestRetryTokenOfEveryFailure(t *testing.T) {
	ctx := context.Background()
	vendor := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	ours := newClock(vendor.Now())
	c, fake := newAgainstFake(t, jpushtest.Config{Now: vendor.Now}, func(cfg *jpush.Config) {
		cfg.Now = ours.Now
		cfg.Quota = provider.Quota{Calls: 2, Per: time.Hour}
	})
	live := rid(provider.Android, 0)
	require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/push", HTTPStatus: 500}))
	_, err := c.Send(ctx, cidRequest("k", live))
	require.ErrorIs(t, err, provider.Temporary)
	tok, _ := provider.RetryTokenOf(err)
	require.True(t, strings.HasPrefix(tok, "cid1:"), "a server error: %q", tok)

	_, err = c.Send(ctx, cidRequest("k", live))
	require.NoError(t, err)
	_, err = c.Send(ctx, cidRequest("k", live))
	require.ErrorIs(t, err, provider.RateLimited)
	quotaTok, _ := provider.RetryTokenOf(err)
	assert.Equal(t, tok, quotaTok, "the quota's refusal keeps the key's cid")

	// JPush's clock is two hours ahead: the cid is 24 hours old to it.
	vendor.Advance(24 * time.Hour)
	ours.Advance(22 * time.Hour)
	_, err = c.Send(ctx, cidRequest("k", live))
	require.ErrorIs(t, err, provider.Temporary)
	refusedTok, ok := provider.RetryTokenOf(err)
	assert.True(t, ok)
	assert.Empty(t, refusedTok, "a refused cid is not to be sent again")

	// Another Client given the old token after its keeping time takes a
	// new cid instead of sending one JPush would refuse.
	ours.Advance(2 * time.Hour)
	b := secondClient(t, fake, ours.Now)
	r := cidRequest("k2", live)
	r.RetryToken = tok
	_, err = b.Send(ctx, r)
	require.NoError(t, err)
	pushes := fake.Pushes()
	assert.NotContains(t, tok, pushes[len(pushes)-1].CID)
}

// TestRetryTokenBeatsAStaleMemory: retries of one key move between two
// Clients. B's first try failed and B still remembers its cid X; A's try
// had X refused (expired at JPush) and took a new cid Y, delivered with
// the answer lost. B, given Y for the next try, sends Y, not the X it
// remembers, and JPush answers it as the push already made.
func TestRetryTokenBeatsAStaleMemory(t *testing.T) {
	ctx := context.Background()
	vendor := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	ours := newClock(vendor.Now())
	b, fake := newAgainstFake(t, jpushtest.Config{Now: vendor.Now}, func(cfg *jpush.Config) {
		cfg.Now = ours.Now
		cfg.Timeout = 300 * time.Millisecond
	})
	a := secondClient(t, fake, ours.Now)
	live := rid(provider.Android, 0)
	send := func(c *jpush.Client, token string) (string, error) {
		r := cidRequest("push-1-chunk-0", live)
		r.RetryToken = token
		_, err := c.Send(ctx, r)
		tok, _ := provider.RetryTokenOf(err)
		return tok, err
	}

	require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/push", HTTPStatus: 500}))
	x, err := send(b, "")
	require.ErrorIs(t, err, provider.Temporary)
	vendor.Advance(24 * time.Hour) // X has expired at JPush; B keeps it an hour more
	ours.Advance(22 * time.Hour)
	tok, err := send(a, x)
	require.ErrorIs(t, err, provider.Temporary)
	require.Empty(t, tok, "X refused")
	require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/push", AfterAccept: true, Timeout: true}))
	y, err := send(a, tok)
	require.ErrorIs(t, err, provider.Indeterminate)
	require.NotEqual(t, x, y)
	require.Equal(t, 1, fake.DeliveryCount(live), "Y delivered, its answer lost")

	_, err = send(b, y)
	require.NoError(t, err)
	assert.Equal(t, 1, fake.DeliveryCount(live), "B sent Y, which JPush knew")
}

// TestIssueRetryTokenBeforeTheSend: IssueRetryToken takes the key's cid
// before any Send and names it in a token; the Send of the key carries
// that cid, and so does another Client's Send given the token, which
// JPush answers as the same push. Without a key, or with cids disabled,
// there is no token.
func TestIssueRetryTokenBeforeTheSend(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	a, fake := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, nil)
	live := rid(provider.Android, 0)
	r := cidRequest("push-8-chunk-0", live)

	tok, err := a.IssueRetryToken(ctx, r)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, "cid1:"), "token %q", tok)
	assert.Equal(t, 1, fake.Arrived("/v3/push/cid"), "the cid was fetched")
	assert.Empty(t, fake.Pushes(), "nothing was pushed")
	again, err := a.IssueRetryToken(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, tok, again, "the key keeps its cid")

	r.RetryToken = tok
	_, err = a.Send(ctx, r)
	require.NoError(t, err)
	require.Len(t, fake.Pushes(), 1)
	assert.Contains(t, tok, fake.Pushes()[0].CID, "sent with the issued cid")

	b := secondClient(t, fake, clk.Now)
	_, err = b.Send(ctx, r)
	require.NoError(t, err)
	require.Len(t, fake.Pushes(), 2)
	assert.True(t, fake.Pushes()[1].Duplicate, "another process's Send with the token is the same push")
	assert.Equal(t, 1, fake.DeliveryCount(live))

	noKey := cidRequest("", live)
	tok, err = a.IssueRetryToken(ctx, noKey)
	require.NoError(t, err)
	assert.Empty(t, tok, "no key, no cid")
	off, _ := newAgainstFake(t, jpushtest.Config{Now: clk.Now}, func(cfg *jpush.Config) { cfg.DisableCID = true })
	tok, err = off.IssueRetryToken(ctx, cidRequest("push-9-chunk-0", live))
	require.NoError(t, err)
	assert.Empty(t, tok, "cids disabled")
}
