package getui_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

func listRequest(key string, cids ...string) *provider.Request {
	return &provider.Request{Platform: provider.Android, IdempotencyKey: key,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: cids},
		Notification: provider.Notification{Title: "t", Body: "b"}}
}

// TestListRetryReusesItsTask: a list push whose delivering call lost its
// answer is sent again with the same key, and the Client makes only the
// delivering call again, with the task it created: each device gets the
// push once, whatever Getui answers to a repeated request_id.
func TestListRetryReusesItsTask(t *testing.T) {
	ctx := context.Background()
	for _, drop := range []bool{false, true} {
		c, fake := newAgainstFake(t, getuitest.Config{DropRepeatedRequestID: drop}, func(cfg *getui.Config) { cfg.Timeout = 300 * time.Millisecond })
		a, b := getuitest.CID("a"), getuitest.CID("b")
		require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Timeout: true}))
		_, err := c.Send(ctx, listRequest("push-1-chunk-0", a, b))
		require.ErrorIs(t, err, provider.Indeterminate, "delivered, answer lost")
		require.Equal(t, 1, fake.DeliveryCount(a))

		rc, err := c.Send(ctx, listRequest("push-1-chunk-0", a, b))
		require.NoError(t, err, "drop=%t", drop)
		assert.Len(t, fake.RequestsTo("/push/list/message"), 1, "no second task")
		require.Eventually(t, func() bool { return len(fake.RequestsTo("/push/list/cid")) == 2 }, 5*time.Second, 5*time.Millisecond)
		sends := fake.RequestsTo("/push/list/cid")
		assert.Equal(t, sends[0].TaskID, sends[1].TaskID)
		assert.Equal(t, sends[0].TaskID, rc.ID)
		assert.Equal(t, 1, fake.DeliveryCount(a), "shown once")
		assert.Equal(t, 1, fake.DeliveryCount(b))

		// Another key is another task.
		_, err = c.Send(ctx, listRequest("push-1-chunk-1", a, b))
		require.NoError(t, err)
		assert.Len(t, fake.RequestsTo("/push/list/message"), 2)
		assert.Equal(t, 2, fake.DeliveryCount(a))
	}
}

// TestListCreateRetryGetsAFreshRequestID: when the creating call's answer
// is lost, the retry creates a task again with a new request_id, so a
// Getui that drops repeated request_ids cannot lose the push. The first
// task delivered nothing, so nobody gets it twice.
func TestListCreateRetryGetsAFreshRequestID(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{DropRepeatedRequestID: true}, func(cfg *getui.Config) { cfg.Timeout = 300 * time.Millisecond })
	a, b := getuitest.CID("a"), getuitest.CID("b")
	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/message", AfterAccept: true, Timeout: true}))
	_, err := c.Send(ctx, listRequest("push-2-chunk-0", a, b))
	require.ErrorIs(t, err, provider.Indeterminate)
	assert.Zero(t, fake.DeliveryCount(a), "creating a task delivers nothing")

	_, err = c.Send(ctx, listRequest("push-2-chunk-0", a, b))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(fake.RequestsTo("/push/list/message")) == 2 }, 5*time.Second, 5*time.Millisecond)
	creates := fake.RequestsTo("/push/list/message")
	assert.NotEqual(t, creates[0].RequestID, creates[1].RequestID)
	assert.NotEqual(t, getui.RequestID("push-2-chunk-0"), creates[1].RequestID)
	assert.False(t, creates[1].Duplicate)
	assert.Equal(t, 1, fake.DeliveryCount(a))
	assert.Equal(t, 1, fake.DeliveryCount(b))
}

// TestListTaskForgottenAfterARefusal: a delivering call Getui refuses,
// for the request (InvalidRequest) or for a cid of it (InvalidToken),
// drops the task, so that the next try creates a new one.
func TestListTaskForgottenAfterARefusal(t *testing.T) {
	for _, tc := range []struct {
		msg  string
		kind provider.Kind
	}{
		{"taskid is invalid", provider.InvalidRequest},
		{"target user is invalid", provider.InvalidToken},
	} {
		t.Run(tc.msg, func(t *testing.T) {
			ctx := context.Background()
			c, fake := newAgainstFake(t, getuitest.Config{}, nil)
			a, b := getuitest.CID("a"), getuitest.CID("b")
			require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", Code: getuitest.CodeInvalidParams, Msg: tc.msg}))
			_, err := c.Send(ctx, listRequest("push-3-chunk-0", a, b))
			require.ErrorIs(t, err, tc.kind)
			tok, _ := provider.RetryTokenOf(err)
			assert.Empty(t, tok, "the task is dropped with the refusal")
			_, err = c.Send(ctx, listRequest("push-3-chunk-0", a, b))
			require.NoError(t, err)
			creates := fake.RequestsTo("/push/list/message")
			require.Len(t, creates, 2, "a new task after the refusal")
			assert.Equal(t, 1, fake.DeliveryCount(a))
		})
	}
}

// TestListTaskKeptOnUnknown: a delivering call that fails with a kind the
// caller retries (Unknown here: a code Getui's table lacks, after the push
// was taken) keeps the task, so the retry delivers nothing twice.
func TestListTaskKeptOnUnknown(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{}, nil)
	a, b := getuitest.CID("a"), getuitest.CID("b")
	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Code: 99999, Msg: "odd"}))
	_, err := c.Send(ctx, listRequest("push-4-chunk-0", a, b))
	require.ErrorIs(t, err, provider.Unknown)
	require.Equal(t, 1, fake.DeliveryCount(a), "taken before the odd answer")
	_, err = c.Send(ctx, listRequest("push-4-chunk-0", a, b))
	require.NoError(t, err)
	assert.Len(t, fake.RequestsTo("/push/list/message"), 1, "the same task")
	assert.Equal(t, 1, fake.DeliveryCount(a), "shown once")
}

// TestReusedTaskRefusedIsTemporary: when the task an earlier try created
// is refused on a retry (Getui let it expire, say), the Send fails
// Temporary and the next try creates a new task: the push may be shown a
// second time, never lost.
func TestReusedTaskRefusedIsTemporary(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{}, func(cfg *getui.Config) { cfg.Timeout = 300 * time.Millisecond })
	a, b := getuitest.CID("a"), getuitest.CID("b")
	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Timeout: true}))
	_, err := c.Send(ctx, listRequest("push-5-chunk-0", a, b))
	require.ErrorIs(t, err, provider.Indeterminate)

	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", Code: getuitest.CodeInvalidParams, Msg: "taskid is invalid"}))
	_, err = c.Send(ctx, listRequest("push-5-chunk-0", a, b))
	require.ErrorIs(t, err, provider.Temporary)
	assert.Contains(t, err.Error(), "the next try creates a new one")

	_, err = c.Send(ctx, listRequest("push-5-chunk-0", a, b))
	require.NoError(t, err)
	require.Eventually(t, func() bool { return len(fake.RequestsTo("/push/list/message")) == 2 }, 5*time.Second, 5*time.Millisecond)
	assert.Equal(t, 2, fake.DeliveryCount(a), "at least once: the first try had reached it")
}

// TestReusedTaskRefusedForACIDStaysInvalidToken: a retry whose reused
// task Getui refuses for a dead cid keeps the kind InvalidToken, so that
// the caller finds the cid, and is not made Temporary as a refused task
// is; the task goes all the same.
func TestReusedTaskRefusedForACIDStaysInvalidToken(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{}, func(cfg *getui.Config) { cfg.Timeout = 300 * time.Millisecond })
	a, b := getuitest.CID("a"), getuitest.CID("b")
	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Timeout: true}))
	_, err := c.Send(ctx, listRequest("push-9-chunk-0", a, b))
	require.ErrorIs(t, err, provider.Indeterminate)

	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", Code: getuitest.CodeInvalidParams, Msg: "target user is invalid"}))
	_, err = c.Send(ctx, listRequest("push-9-chunk-0", a, b))
	require.ErrorIs(t, err, provider.InvalidToken)
	assert.NotContains(t, err.Error(), "the next try creates a new one")
	tok, _ := provider.RetryTokenOf(err)
	assert.Empty(t, tok, "the task is dropped")
}

// TestConcurrentSendsOfOneKey: two Sends of one key at once make one
// task, and each device gets the push once.
func TestConcurrentSendsOfOneKey(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{}, nil)
	a, b := getuitest.CID("a"), getuitest.CID("b")
	release := fake.Stall()
	errs := make(chan error, 2)
	for range 2 {
		go func() {
			_, err := c.Send(ctx, listRequest("push-6-chunk-0", a, b))
			errs <- err
		}()
	}
	wait, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	require.NoError(t, fake.WaitStalled(wait, 1))
	release()
	release()
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	assert.Len(t, fake.RequestsTo("/push/list/message"), 1, "one task")
	assert.Equal(t, 1, fake.DeliveryCount(a))
	assert.Equal(t, 1, fake.DeliveryCount(b))
}

// TestRetryTokenCarriesTheTaskAcrossProcesses: a list push whose
// delivering call lost its answer fails with its task in the RetryToken;
// another Client given that token delivers the same task and creates none,
// so each device is shown the push once. Given no token, or one it cannot
// read, the other Client creates a second task and shows the push twice.
func TestRetryTokenCarriesTheTaskAcrossProcesses(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name  string
		token func(lost error) string
		shown int
	}{
		{"the token given back", func(lost error) string { tok, _ := provider.RetryTokenOf(lost); return tok }, 1},
		{"no token", func(error) string { return "" }, 2},
		{"a token of another form", func(error) string { return "cid1:1:2:appkey-uuid" }, 2},
		{"a task whose time is over", func(lost error) string {
			tok, _ := provider.RetryTokenOf(lost)
			return "task1:1000000000:" + tok[strings.LastIndex(tok, ":")+1:]
		}, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			a, fake := newAgainstFake(t, getuitest.Config{}, func(cfg *getui.Config) { cfg.Timeout = 300 * time.Millisecond })
			x, y := getuitest.CID("x"), getuitest.CID("y")
			require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Timeout: true}))
			_, lost := a.Send(ctx, listRequest("push-9-chunk-0", x, y))
			require.ErrorIs(t, lost, provider.Indeterminate)
			tok, ok := provider.RetryTokenOf(lost)
			require.True(t, ok)
			require.True(t, strings.HasPrefix(tok, "task1:"), "token %q", tok)
			require.Equal(t, 1, fake.DeliveryCount(x))

			b := secondClient(t, fake)
			r := listRequest("push-9-chunk-0", x, y)
			r.RetryToken = tc.token(lost)
			rc, err := b.Send(ctx, r)
			require.NoError(t, err)
			assert.Equal(t, tc.shown, fake.DeliveryCount(x))
			assert.Equal(t, tc.shown, fake.DeliveryCount(y))
			assert.Len(t, fake.RequestsTo("/push/list/message"), tc.shown, "tasks created")
			if tc.shown == 1 {
				require.Eventually(t, func() bool { return len(fake.RequestsTo("/push/list/cid")) == 2 }, 5*time.Second, 5*time.Millisecond)
				assert.Equal(t, fake.RequestsTo("/push/list/cid")[0].TaskID, rc.ID, "the first task")
				assert.Contains(t, tok, rc.ID)
			}
		})
	}
}

// TestRetryTokenDroppedWithTheTask: a delivering call Getui refuses drops
// the task, and its error carries an empty token, so that no process
// delivers that task again; a failed creating call has no task to give.
func TestRetryTokenDroppedWithTheTask(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{}, nil)
	a := getuitest.CID("a")
	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", Code: getuitest.CodeInvalidParams, Msg: "taskid is invalid"}))
	_, err := c.Send(ctx, listRequest("push-10-chunk-0", a, getuitest.CID("b")))
	require.ErrorIs(t, err, provider.InvalidRequest)
	tok, ok := provider.RetryTokenOf(err)
	assert.True(t, ok)
	assert.Empty(t, tok)

	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/message", HTTPStatus: 500}))
	_, err = c.Send(ctx, listRequest("push-11-chunk-0", a, getuitest.CID("b")))
	require.Error(t, err)
	tok, ok = provider.RetryTokenOf(err)
	assert.True(t, ok)
	assert.Empty(t, tok)
}

// secondClient is another Client of the fake's app: another process, whose
// memory holds none of the first one's tasks.
func secondClient(t *testing.T, fake *getuitest.Server) *getui.Client {
	t.Helper()
	app := getuitest.DefaultApps()[0]
	c, err := getui.New(getui.Config{AppID: app.AppID, AppKey: app.AppKey, MasterSecret: getui.NewSecret(app.MasterSecret),
		BaseURL: fake.BaseURL(), Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	return c
}

// TestRetryTokenBeatsAStaleMemory: retries of one key move between two
// Clients. B's first try failed and B still remembers its task T1; A's try
// had T1 refused and created T2, delivered with the answer lost. B, given
// T2 for the next try, delivers T2, not the T1 it remembers, and creates
// no task: each device is shown the push once.
func TestRetryTokenBeatsAStaleMemory(t *testing.T) {
	ctx := context.Background()
	b, fake := newAgainstFake(t, getuitest.Config{}, func(cfg *getui.Config) { cfg.Timeout = 300 * time.Millisecond })
	a := secondClient(t, fake)
	x, y := getuitest.CID("x"), getuitest.CID("y")
	send := func(c *getui.Client, token string) (string, error) {
		r := listRequest("push-12-chunk-0", x, y)
		r.RetryToken = token
		_, err := c.Send(ctx, r)
		tok, _ := provider.RetryTokenOf(err)
		return tok, err
	}

	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", HTTPStatus: 500}))
	t1, err := send(b, "")
	require.Error(t, err)
	require.NotEmpty(t, t1)
	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", Code: getuitest.CodeInvalidParams, Msg: "taskid is invalid"}))
	tok, err := send(a, t1)
	require.ErrorIs(t, err, provider.Temporary)
	require.Empty(t, tok, "T1 refused")
	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Timeout: true}))
	t2, err := send(a, tok)
	require.ErrorIs(t, err, provider.Indeterminate)
	require.NotEqual(t, t1, t2)
	require.Equal(t, 1, fake.DeliveryCount(x), "T2 delivered, its answer lost")

	_, err = send(b, t2)
	require.NoError(t, err)
	assert.Equal(t, 1, fake.DeliveryCount(x), "B delivered T2 again, which Getui knew")
	assert.Equal(t, 1, fake.DeliveryCount(y))
	assert.Len(t, fake.RequestsTo("/push/list/message"), 2, "no third task")
}

// TestIssueRetryTokenCreatesTheTask: IssueRetryToken creates a list
// push's task before the Send (a call that delivers nothing) and names it
// in a token; the Send given the token makes only the delivering call,
// and another process given it delivers the same task, which reaches each
// device once. A refusal of that first delivery is the Send's own
// (InvalidRequest), not an earlier try's stale task. Single pushes and
// keyless requests get no token and no call; a request Send would refuse
// is the error.
func TestIssueRetryTokenCreatesTheTask(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{}, nil)
	x, y := getuitest.CID("x"), getuitest.CID("y")
	r := listRequest("push-12-chunk-0", x, y)

	tok, err := c.IssueRetryToken(ctx, r)
	require.NoError(t, err)
	require.True(t, strings.HasPrefix(tok, "task1:"), "token %q", tok)
	assert.Len(t, fake.RequestsTo("/push/list/message"), 1, "the task was created")
	assert.Zero(t, fake.DeliveryCount(x), "nothing was delivered")
	again, err := c.IssueRetryToken(ctx, r)
	require.NoError(t, err)
	assert.Equal(t, tok, again, "the key keeps its task")

	r.RetryToken = tok
	rc, err := c.Send(ctx, r)
	require.NoError(t, err)
	assert.Len(t, fake.RequestsTo("/push/list/message"), 1, "the Send created no other task")
	assert.Contains(t, tok, rc.ID)
	assert.Equal(t, 1, fake.DeliveryCount(x))

	_, err = secondClient(t, fake).Send(ctx, r)
	require.NoError(t, err)
	assert.Len(t, fake.RequestsTo("/push/list/message"), 1, "another process delivered the same task")
	assert.Equal(t, 1, fake.DeliveryCount(x), "shown once")
	assert.Equal(t, 1, fake.DeliveryCount(y), "shown once")

	refused := listRequest("push-13-chunk-0", x, y)
	refused.RetryToken, err = c.IssueRetryToken(ctx, refused)
	require.NoError(t, err)
	require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", Code: getuitest.CodeInvalidParams, Msg: "bad audience"}))
	_, err = c.Send(ctx, refused)
	assert.ErrorIs(t, err, provider.InvalidRequest, "the task was this Send's: the refusal is not made Temporary")

	created := len(fake.RequestsTo("/push/list/message"))
	single := listRequest("push-14-chunk-0", x)
	tok, err = c.IssueRetryToken(ctx, single)
	require.NoError(t, err)
	assert.Empty(t, tok, "a single push has no task to issue")
	tok, err = c.IssueRetryToken(ctx, listRequest("", x, y))
	require.NoError(t, err)
	assert.Empty(t, tok, "no key")
	assert.Len(t, fake.RequestsTo("/push/list/message"), created, "no call for either")
	_, err = c.IssueRetryToken(ctx, listRequest("push-15-chunk-0"))
	assert.ErrorIs(t, err, provider.InvalidRequest, "what Send would refuse")
}

// TestPlanRefusalsAreRetriedLater: Getui's plan codes come with HTTP 403,
// which alone reads as Auth (failed for good). A push over the minute's
// rate or the day's total, or refused as "busy", is retried later instead,
// its list task kept, so the retry delivers each cid once.
func TestPlanRefusalsAreRetriedLater(t *testing.T) {
	for _, tt := range []struct {
		code int
		kind provider.Kind
	}{
		{getui.CodeListMinuteRate, provider.RateLimited},
		{getui.CodeListDailyQuota, provider.QuotaExceeded},
		{getui.CodeBusy, provider.Temporary},
		{30002, provider.Auth},
	} {
		t.Run(strconv.Itoa(tt.code), func(t *testing.T) {
			ctx := context.Background()
			c, fake := newAgainstFake(t, getuitest.Config{}, nil)
			a, b := getuitest.CID("a"), getuitest.CID("b")
			require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", Code: tt.code, Msg: "plan"}))
			_, err := c.Send(ctx, listRequest("push-4-chunk-0", a, b))
			require.ErrorIs(t, err, tt.kind)
			var pe *provider.Error
			require.ErrorAs(t, err, &pe)
			assert.Equal(t, strconv.Itoa(tt.code), pe.Code)
			_, err = c.Send(ctx, listRequest("push-4-chunk-0", a, b))
			require.NoError(t, err)
			assert.Equal(t, 1, fake.DeliveryCount(a))
			if tt.kind.Retryable() {
				assert.Len(t, fake.RequestsTo("/push/list/message"), 1, "the task kept for the retry")
			}
		})
	}
}

// TestListRetryOfOneTargetStaysAList: a list push whose delivering call
// lost its answer is retried with fewer targets, down to one (the Service
// leaves out a device its user logged out of since): the retry delivers the
// same task to that one cid, in this Client (which keeps the task) and in
// another given the RetryToken, instead of a single push with a request_id
// Getui never saw, which would show the push to it again. A key that never
// made a list push is still a single push.
func TestListRetryOfOneTargetStaysAList(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct {
		name   string
		second bool // the retry goes through another Client, with the token
	}{{"the same client", false}, {"another client with the token", true}} {
		t.Run(tc.name, func(t *testing.T) {
			a, fake := newAgainstFake(t, getuitest.Config{}, func(cfg *getui.Config) { cfg.Timeout = 300 * time.Millisecond })
			x, y := getuitest.CID("x"), getuitest.CID("y")
			require.NoError(t, fake.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Timeout: true}))
			_, lost := a.Send(ctx, listRequest("push-11-chunk-0", x, y))
			require.ErrorIs(t, lost, provider.Indeterminate)
			require.Eventually(t, func() bool { return fake.DeliveryCount(x) == 1 }, 5*time.Second, 5*time.Millisecond)

			c := a
			r := listRequest("push-11-chunk-0", x)
			if tc.second {
				c = secondClient(t, fake)
				tok, ok := provider.RetryTokenOf(lost)
				require.True(t, ok)
				r.RetryToken = tok
			}
			rc, err := c.Send(ctx, r)
			require.NoError(t, err)
			assert.Empty(t, fake.RequestsTo("/push/single/cid"), "no single push")
			require.Eventually(t, func() bool { return len(fake.RequestsTo("/push/list/cid")) == 2 }, 5*time.Second, 5*time.Millisecond)
			sends := fake.RequestsTo("/push/list/cid")
			assert.Equal(t, sends[0].TaskID, sends[1].TaskID, "the first task")
			assert.Equal(t, sends[0].TaskID, rc.ID)
			assert.True(t, rc.Pollable, "a task's receipt")
			assert.Len(t, fake.RequestsTo("/push/list/message"), 1, "no second task")
			assert.Equal(t, 1, fake.DeliveryCount(x), "shown once")

			// Another key with one cid is a single push.
			_, err = c.Send(ctx, listRequest("push-11-chunk-1", y))
			require.NoError(t, err)
			assert.Len(t, fake.RequestsTo("/push/single/cid"), 1)
		})
	}
}
