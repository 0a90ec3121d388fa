package push_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// lateAnswerStore stops its caller while a claim runs: armed with the
// caller's cancel, a claim of deliveries (of fanouts, with fanouts set)
// cancels it, commits, and then, if the ctx it was given has ended, loses
// its answer to the cancel as a database driver does (the rows are
// claimed; the caller sees only an error).
type lateAnswerStore struct {
	fanoutStore
	fanouts bool
	mu      sync.Mutex
	cancel  context.CancelFunc
	calls   int
}

func (s *lateAnswerStore) arm(cancel context.CancelFunc) {
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
}

// stop counts a claim and, when it is of the kind the store stops,
// cancels the armed caller, once.
func (s *lateAnswerStore) stop(fanouts bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.calls++
	if s.cancel != nil && fanouts == s.fanouts {
		s.cancel()
		s.cancel = nil
	}
}

func (s *lateAnswerStore) claims() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

func lateAnswer[T any](ctx context.Context, s *lateAnswerStore, fanouts bool, claim func(context.Context) ([]T, error)) ([]T, error) {
	s.stop(fanouts)
	got, err := claim(context.WithoutCancel(ctx))
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return got, err
}

func (s *lateAnswerStore) ClaimDeliveries(ctx context.Context, p registry.ClaimParams) ([]registry.Delivery, error) {
	return lateAnswer(ctx, s, false, func(ctx context.Context) ([]registry.Delivery, error) { return s.fanoutStore.ClaimDeliveries(ctx, p) })
}

func (s *lateAnswerStore) ClaimFanouts(ctx context.Context, p registry.ClaimParams) ([]registry.PushMessage, error) {
	return lateAnswer(ctx, s, true, func(ctx context.Context) ([]registry.PushMessage, error) { return s.fanoutStore.ClaimFanouts(ctx, p) })
}

// A pass stopped while its claim of due retries runs gives what the claim
// took back, due at once: the next pass, the clock unmoved, sends it. (The
// claim ran on the caller's ctx, so its answer was lost to the cancel and
// the retry held by nobody until its lease ran out.) A pass whose ctx has
// ended before it starts claims nothing.
func TestRetryPassStoppedDuringItsClaimGivesTheClaimBack(t *testing.T) {
	clk, st, m := memAndMock(t)
	ls := &lateAnswerStore{fanoutStore: st}
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
	las := &lateAnswerStore{fanoutStore: st, fanouts: true}
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

// commitLostStore, armed with its caller's cancel, cancels it while a
// push is committed; the commit lands, and its answer is lost to the
// cancel as a driver loses it.
type commitLostStore struct {
	fanoutStore
	cancel context.CancelFunc
}

func (s *commitLostStore) CreatePushMessage(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery) error {
	if s.cancel != nil {
		s.cancel()
	}
	err := s.fanoutStore.CreatePushMessage(context.WithoutCancel(ctx), m, ds)
	if ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// A Push whose caller gives up while the push is committed answers with
// the push it recorded, not with an error a caller would try again on (a
// second push, shown twice without a DedupeKey): its deliveries are given
// back unsent, due at once, and the next pass, the clock unmoved, sends
// each once. A Push whose ctx has ended before the commit records nothing.
func TestPushWhoseCallerStopsDuringTheCommitAnswersWithIt(t *testing.T) {
	clk, st, m := memAndMock(t)
	cs := &commitLostStore{fanoutStore: st}
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
	cs.cancel = cancel
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
