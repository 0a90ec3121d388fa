package push_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// The calls a lateAnswerStore stops its caller in.
const (
	stopSendClaim   = iota + 1 // ClaimDeliveries of kind ClaimSend
	stopPollClaim              // ClaimDeliveries of kind ClaimPoll
	stopFanoutClaim            // ClaimFanouts
	stopCreate                 // CreatePushMessage
	stopReceipts               // RecordReceipts
)

// lateAnswerStore stops its caller in the middle of one kind of write
// (stopOn): armed with the caller's cancel, the call cancels it, once,
// writes on a ctx without the cancel, and then, if the ctx it was given
// has ended, loses its answer to the cancel as a database driver does (the
// write is done; the caller sees only ctx's error). It counts the claims
// it is asked for.
type lateAnswerStore struct {
	fanoutStore
	stopOn int
	mu     sync.Mutex
	cancel context.CancelFunc
	calls  int
}

func (s *lateAnswerStore) arm(cancel context.CancelFunc) {
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
}

func (s *lateAnswerStore) claims() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

// late makes call, a write of kind kind, on ctx without its cancel; when
// kind is the one it stops, it cancels the armed caller first and loses
// the answer if ctx has ended.
func late[T any](ctx context.Context, s *lateAnswerStore, kind int, claim bool, call func(context.Context) (T, error)) (T, error) {
	s.mu.Lock()
	if claim {
		s.calls++
	}
	stop := kind == s.stopOn && s.cancel != nil
	if stop {
		s.cancel()
		s.cancel = nil
	}
	s.mu.Unlock()
	if !stop {
		return call(ctx)
	}
	got, err := call(context.WithoutCancel(ctx))
	if ctx.Err() != nil {
		var zero T
		return zero, ctx.Err()
	}
	return got, err
}

func (s *lateAnswerStore) ClaimDeliveries(ctx context.Context, p registry.ClaimParams) ([]registry.Delivery, error) {
	kind := stopSendClaim
	if p.Kind == registry.ClaimPoll {
		kind = stopPollClaim
	}
	return late(ctx, s, kind, true, func(ctx context.Context) ([]registry.Delivery, error) { return s.fanoutStore.ClaimDeliveries(ctx, p) })
}

func (s *lateAnswerStore) ClaimFanouts(ctx context.Context, p registry.ClaimParams) ([]registry.PushMessage, error) {
	return late(ctx, s, stopFanoutClaim, true, func(ctx context.Context) ([]registry.PushMessage, error) {
		return s.fanoutStore.ClaimFanouts(ctx, p)
	})
}

func (s *lateAnswerStore) CreatePushMessage(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery) error {
	_, err := late(ctx, s, stopCreate, false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.fanoutStore.CreatePushMessage(ctx, m, ds)
	})
	return err
}

func (s *lateAnswerStore) RecordReceipts(ctx context.Context, prov, msgID, token string, c registry.ReceiptCounts) error {
	_, err := late(ctx, s, stopReceipts, false, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.fanoutStore.RecordReceipts(ctx, prov, msgID, token, c)
	})
	return err
}

// A receipt whose caller (a host's receipt endpoint, on its request's
// ctx) hangs up while it is counted is counted once and answered as
// counted: answered with the cancel's error, the post would be made again
// and counted twice. One whose ctx has ended before counts nothing.
func TestRecordReportWhoseCallerStopsIsAnsweredWithItsCount(t *testing.T) {
	clk, st, m := memAndMock(t)
	ls := &lateAnswerStore{fanoutStore: st, stopOn: stopReceipts}
	svc, err := push.New(push.Config{Store: ls, Providers: []provider.Provider{m}, Now: clk.Now})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: "tok-1"})
	require.NoError(t, err)
	res, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	ds, err := st.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	require.NotEmpty(t, ds[0].ReceiptID)
	report := provider.Report{Provider: m.Name(), MsgID: ds[0].ReceiptID, Token: "tok-1", Event: provider.EventArrived}

	done, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, svc.RecordReport(done, report), context.Canceled)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ls.arm(cancel)
	require.NoError(t, svc.RecordReport(ctx, report), "counted, and answered so")
	require.Error(t, ctx.Err(), "the caller stopped during the count")
	status, err := svc.PushStatus(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, int64(1), status.Receipts.Android.Arrived, "counted once")
}

// A pass stopped while its claim of due retries runs gives what the claim
// took back, due at once: the next pass, the clock unmoved, sends it. (The
// claim ran on the caller's ctx, so its answer was lost to the cancel and
// the retry held by nobody until its lease ran out.) A pass whose ctx has
// ended before it starts claims nothing.
func TestRetryPassStoppedDuringItsClaimGivesTheClaimBack(t *testing.T) {
	clk, st, m := memAndMock(t)
	ls := &lateAnswerStore{fanoutStore: st, stopOn: stopSendClaim}
	svc, err := push.New(push.Config{Store: ls, Providers: []provider.Provider{m}, Now: clk.Now,
		Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: "tok-1"})
	require.NoError(t, err)
	m.FailNext(1, nil)
	res, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, registry.DeliveryPending, res.Deliveries[0].State, "the first try failed, retryably")
	clk.Advance(time.Hour)

	done, cancel := context.WithCancel(t.Context())
	cancel()
	n, err := svc.RetryPending(done, 10)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, n)
	assert.Zero(t, ls.claims(), "a stopped pass claims nothing")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ls.arm(cancel)
	n, err = svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the claim's answer reached the pass")
	assert.Equal(t, 1, m.Calls(), "stopped: the retry was not sent")

	n, err = svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "given back due at once")
	assert.Equal(t, 2, m.Calls())
	st2, err := svc.PushStatus(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetSuccess, st2.Android.Ret)
}

// A takeover stopped while its claim of a fanout runs gives the fanout
// back due at once: the next pass, the clock unmoved, lists and sends the
// rest, every token once.
func TestFanoutTakeoverStoppedDuringItsClaimGivesItBack(t *testing.T) {
	clk, st, m := memAndMock(t)
	las := &lateAnswerStore{fanoutStore: st, stopOn: stopFanoutClaim}
	ls := &listingStore{fanoutStore: las, at: "u100"}
	svc, users, tokens := stagedFixture(t, ls, clk, m)
	res := leaveUnlisted(t, svc, ls, push.Message{UserNums: users, Title: "t", Content: "c"})
	calls := m.Calls()

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	las.arm(cancel)
	_, _ = svc.RetryPending(ctx, 10) // its claim of deliveries, beside the fanout's, may see the stop first: an error, and no claim
	require.Error(t, ctx.Err(), "the fanout's claim stopped the pass")
	assert.Equal(t, calls, m.Calls(), "stopped: nothing more was sent")

	_, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	requireRecordedOnce(t, ls, res.PushMessageID, tokens)
	sent := sentTokens(m)
	for _, tok := range tokens {
		assert.Equal(t, 1, sent[tok], "token %s sent once", tok)
	}
}

// A Push whose caller gives up while the push is committed answers with
// the push it recorded, not with an error a caller would try again on (a
// second push, shown twice without a DedupeKey): its deliveries are given
// back unsent, due at once, and the next pass, the clock unmoved, sends
// each once. A Push whose ctx has ended before the commit records nothing.
func TestPushWhoseCallerStopsDuringTheCommitAnswersWithIt(t *testing.T) {
	clk, st, m := memAndMock(t)
	cs := &lateAnswerStore{fanoutStore: st, stopOn: stopCreate}
	svc, err := push.New(push.Config{Store: cs, Providers: []provider.Provider{m}, Now: clk.Now})
	require.NoError(t, err)
	for _, d := range []push.Device{
		{UserNum: "u1", UUID: "a1", Platform: "android", PushToken: "tok-a"},
		{UserNum: "u1", UUID: "i1", Platform: "ios", PushToken: "tok-i"},
	} {
		_, err := svc.RegisterDevice(t.Context(), d)
		require.NoError(t, err)
	}

	done, cancel := context.WithCancel(t.Context())
	cancel()
	_, err = svc.Push(done, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, context.Canceled)
	ms, err := st.ListPushMessages(t.Context(), registry.PushMessageQuery{})
	require.NoError(t, err)
	assert.Empty(t, ms, "nothing recorded")

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	cs.arm(cancel)
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err, "the push was recorded: that is the answer")
	require.Positive(t, res.PushMessageID)
	require.Len(t, res.Deliveries, 2)
	for _, d := range res.Deliveries {
		assert.True(t, d.Deferred, "not sent by the stopped call")
	}
	assert.Zero(t, m.Calls())

	n, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "given back due at once")
	assert.Equal(t, map[string]int{"tok-a": 1, "tok-i": 1}, sentTokens(m))
}

// pollFixture is a Service on a lateAnswerStore with a Mock whose token sends
// are pollable tasks, one device per user u1..un, each pushed once and
// accepted; the clock is then moved to when their first poll is due.
func pollFixture(t *testing.T, n int) (*clock, *lateAnswerStore, *providertest.Mock, *push.Service) {
	t.Helper()
	clk := newClock()
	mem, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	ls := &lateAnswerStore{fanoutStore: mem}
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Pollable: []provider.AudienceKind{provider.AudienceTokens}})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: ls, Providers: []provider.Provider{m}, Now: clk.Now, PollInterval: time.Minute})
	require.NoError(t, err)
	for i := range n {
		u := "u" + string(rune('1'+i))
		_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: "d-" + u, Platform: "android", PushToken: "tok-" + u})
		require.NoError(t, err)
		res, err := svc.Push(t.Context(), push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
		require.Equal(t, registry.DeliveryAccepted, res.Deliveries[0].State, "a pollable task")
	}
	clk.Advance(time.Minute)
	return clk, ls, m, svc
}

// A poll pass stopped while its claim runs gives the claimed receipts back:
// the next pass, the clock unmoved, polls them. (Its answer lost to the
// cancel, they were held by nobody for a whole lease, 2 minutes by
// default against a 1-minute poll interval.)
func TestPollPassStoppedDuringItsClaimGivesTheClaimBack(t *testing.T) {
	_, ls, _, svc := pollFixture(t, 1)
	ls.stopOn = stopPollClaim

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ls.arm(cancel)
	_, _ = svc.PollReceipts(ctx, 10)
	require.Error(t, ctx.Err(), "the claim stopped the pass")

	n, err := svc.PollReceipts(t.Context(), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the receipt claimed by the stopped pass is polled by the next one, the clock unmoved (it is held by nobody for a whole lease)")
}

// cancelOnStatus is the Mock whose first Status call stops the poll pass
// that made it (a Scanner told to stop while it polls).
type cancelOnStatus struct {
	*providertest.Mock
	mu     sync.Mutex
	cancel context.CancelFunc
	calls  int
}

func (p *cancelOnStatus) Status(ctx context.Context, pl provider.Platform, id string) (*provider.Status, error) {
	p.mu.Lock()
	p.calls++
	if p.cancel != nil {
		p.cancel()
		p.cancel = nil
	}
	p.mu.Unlock()
	return p.Mock.Status(context.WithoutCancel(ctx), pl, id)
}

// A poll pass stopped after its claim gives back the receipts it claimed
// and did not poll, due at once, as RetryPending gives back its sends.
// (They were kept under lease: a Scanner's shutdown left up to BatchSize-1
// receipts unpolled for a whole lease.)
func TestPollPassStoppedAfterItsClaimGivesTheRestBack(t *testing.T) {
	clk := newClock()
	mem, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Pollable: []provider.AudienceKind{provider.AudienceTokens}})
	require.NoError(t, err)
	p := &cancelOnStatus{Mock: m}
	// One poll at a time: the pass claims two, and the second waits for
	// the first's slot.
	svc, err := push.New(push.Config{Store: mem, Providers: []provider.Provider{p}, Now: clk.Now, PollInterval: time.Minute, SendConcurrency: 1})
	require.NoError(t, err)
	for _, u := range []string{"u1", "u2", "u3"} {
		_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: "d-" + u, Platform: "android", PushToken: "tok-" + u})
		require.NoError(t, err)
		_, err = svc.Push(t.Context(), push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
	}
	clk.Advance(time.Minute)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	p.mu.Lock()
	p.cancel = cancel
	p.mu.Unlock()
	n, err := svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 2, n, "a round of two claimed, one polled, then stopped: nothing more claimed")
	p.mu.Lock()
	assert.Equal(t, 1, p.calls)
	p.mu.Unlock()

	n, err = svc.PollReceipts(t.Context(), 10)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "the one claimed and not polled is given back due at once, the clock unmoved (it is held for a whole lease), and the third was never claimed")
}

// A push request stopped while its record commits (the Store loses the
// commit's answer to the cancel, as a plain driver does) is answered with
// the push, its delivery pending, not 503 "retry": a client that tried
// again without an Idempotency-Key recorded a second push, and the phone
// showed it twice. The delivery is given back due at once, and the next
// pass, the clock unmoved, sends it once.
func TestPushRequestStoppedWhileItsRecordCommitsIsAnsweredWithIt(t *testing.T) {
	clk := newClock()
	mem, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	ls := &lateAnswerStore{fanoutStore: mem, stopOn: stopCreate}
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: ls, Providers: []provider.Provider{m}, Now: clk.Now})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: "tok-1"})
	require.NoError(t, err)
	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	ls.arm(cancel)
	req := httptest.NewRequestWithContext(ctx, http.MethodPost, push.PathPushMessage,
		strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"accepted":0,"devices":1,"failed":0,"pending":1,"push_message_id":1}`, rec.Body.String())
	assert.Zero(t, m.Calls(), "stopped: not sent by the request")

	n, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "given back due at once")
	clk.Advance(time.Hour)
	_, err = svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"tok-1": 1}, sentTokens(m))
}

// Passes stopped while they claim a fanout give it back counting no
// takeover: after more such stops in a row than RetryPolicy.MaxAttempts
// (an instance stopped as it took the listing over, on each of a series of
// restarts) the fanout goes on to the end. (Each stop counted as a
// takeover without progress, and the ninth pass abandoned the fanout: the
// users after the recorded place were never pushed.)
func TestFanoutGivenBackByStoppedPassesIsNotAbandoned(t *testing.T) {
	clk, st, m := memAndMock(t)
	las := &lateAnswerStore{fanoutStore: st, stopOn: stopFanoutClaim}
	ls := &listingStore{fanoutStore: las, at: "u100"}
	svc, users, tokens := stagedFixture(t, ls, clk, m)
	res := leaveUnlisted(t, svc, ls, push.Message{UserNums: users, Title: "t", Content: "c"})

	for range 8 { // a graceful stop each, the clock unmoved
		ctx, cancel := context.WithCancel(t.Context())
		las.arm(cancel)
		_, _ = svc.RetryPending(ctx, 10)
		require.Error(t, ctx.Err())
		cancel()
	}
	_, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	sent := sentTokens(m)
	missing := 0
	for _, tok := range tokens {
		if sent[tok] == 0 {
			missing++
		}
	}
	assert.Zero(t, missing, "%d of %d tokens never pushed: the fanout was abandoned after stops that were no failures", missing, len(tokens))
	requireRecordedOnce(t, ls, res.PushMessageID, tokens)
}
