package push_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
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
)

// aheadStore holds the listing of the first chunk (u000…) until the
// second (u010…) is listed, then cancels the caller's ctx: the read ahead
// has filled its slots, and the first chunk's read still succeeds, as a
// read that finished just before the cancel does.
type aheadStore struct {
	fanoutStore
	cancel context.CancelFunc
	first  sync.Once
	second sync.Once
	listed chan struct{}
}

func (s *aheadStore) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	if len(q.UserNums) > 0 && q.AfterUserDeviceID == 0 {
		switch q.UserNums[0] {
		case "u000":
			var ts []registry.Target
			var err error
			s.first.Do(func() {
				<-s.listed
				ts, err = s.fanoutStore.ListTargets(context.WithoutCancel(ctx), q)
				s.cancel()
				time.Sleep(50 * time.Millisecond) // the read ahead sees the cancel with its slots full
			})
			return ts, err
		case "u010":
			defer s.second.Do(func() { close(s.listed) })
		}
	}
	return s.fanoutStore.ListTargets(ctx, q)
}

// A push whose caller gives up while the listing runs ahead returns: the
// chunks the read ahead never started are not waited for. (It waited for
// them forever.)
func TestStagedPushCancelledWhileListingAheadReturns(t *testing.T) {
	clk, st, m := memAndMock(t)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	as := &aheadStore{fanoutStore: st, cancel: cancel, listed: make(chan struct{})}
	svc, users, _ := stagedService(t, push.Config{Store: as, Providers: []provider.Provider{m}, Now: clk.Now})

	done := make(chan error, 1)
	go func() {
		_, err := svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
		done <- err
	}()
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled, "stopped before its first stage: the call's error, nothing recorded")
	case <-time.After(10 * time.Second):
		t.Fatal("Push did not return after its ctx was cancelled")
	}
	ms, err := st.ListPushMessages(t.Context(), registry.PushMessageQuery{})
	require.NoError(t, err)
	assert.Empty(t, ms)
	assert.Zero(t, m.Calls())
}

// stopStore cancels its caller's ctx when the listing reaches the sixth
// chunk it starts, as a shutdown in the middle of a takeover would; by
// then a stage has been recorded.
type stopStore struct {
	fanoutStore
	mu     sync.Mutex
	n      int
	cancel context.CancelFunc
}

func (s *stopStore) arm(cancel context.CancelFunc) {
	s.mu.Lock()
	s.n, s.cancel = 0, cancel
	s.mu.Unlock()
}

func (s *stopStore) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	if q.AfterUserDeviceID == 0 {
		s.mu.Lock()
		s.n++
		stop := s.n == 6 && s.cancel != nil
		s.mu.Unlock()
		if stop {
			s.cancel()
			return nil, ctx.Err()
		}
	}
	return s.fanoutStore.ListTargets(ctx, q)
}

// Takeovers that each record a stage and are then stopped by their
// callers (a rolling restart) are more than MaxAttempts, yet the fanout is
// not abandoned: the count of takeovers starts again at each progress, and
// the push reaches every token, once.
func TestTakeoversStoppedAfterProgressGoOnToTheEnd(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		clk, m := newClock(), batchMock(t)
		ss := &stopStore{fanoutStore: open(t, clk)}
		svc, users, tokens := stagedService(t, push.Config{Store: ss, Providers: []provider.Provider{m}, Now: clk.Now,
			Retry: push.RetryPolicy{MaxAttempts: 2}})

		ctx, cancel := context.WithCancel(t.Context())
		ss.arm(cancel)
		res, err := svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
		require.NoError(t, err)
		require.True(t, res.Unlisted)
		prev := len(recordedTokens(t, ss, res.PushMessageID))
		for takeover := 1; takeover <= 4; takeover++ {
			ctx, cancel := context.WithCancel(t.Context())
			ss.arm(cancel)
			_, _ = svc.RetryPending(ctx, 10)
			cancel()
			now := len(recordedTokens(t, ss, res.PushMessageID))
			require.Greater(t, now, prev, "takeover %d recorded a stage", takeover)
			prev = now
		}
		ss.arm(nil)
		_, err = svc.RetryPending(t.Context(), 100)
		require.NoError(t, err)
		requireRecordedOnce(t, ss, res.PushMessageID, tokens)
		sent := sentTokens(m)
		for _, tok := range tokens {
			assert.Equal(t, 1, sent[tok], "token %s sent once", tok)
		}
		requireFanoutEnded(t, ss)
	})
}

// chaosStore fails ListTargets and AddDeliveries at random, some of the
// latter after the write committed (an outcome the caller cannot know),
// and repeats targets listed before (tokens users share).
type chaosStore struct {
	fanoutStore
	mu                       sync.Mutex
	rnd                      *rand.Rand
	on                       bool
	failList, failAdd, blind float64
	seen                     []registry.Target
}

func (c *chaosStore) roll(p float64) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.on && c.rnd.Float64() < p
}

func (c *chaosStore) setOn(on bool) {
	c.mu.Lock()
	c.on = on
	c.mu.Unlock()
}

func (c *chaosStore) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	if c.roll(c.failList) {
		return nil, errors.New("chaos: the listing failed")
	}
	ts, err := c.fanoutStore.ListTargets(ctx, q)
	if err != nil || len(ts) == 0 {
		return ts, err
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.seen) > 0 && c.rnd.Float64() < 0.5 {
		ts = append(ts, c.seen[c.rnd.IntN(len(c.seen))])
	}
	c.seen = append(c.seen, ts[c.rnd.IntN(len(ts))])
	return ts, nil
}

func (c *chaosStore) AddDeliveries(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery, next *registry.Fanout) error {
	if c.roll(c.failAdd) {
		return errors.New("chaos: the write failed")
	}
	err := c.fanoutStore.AddDeliveries(ctx, m, ds, next)
	if err == nil && c.roll(c.blind) {
		return errors.New("chaos: the commit's outcome is unknown")
	}
	return err
}

// A staged push to 300 users on two providers, while listings and writes
// fail at random (some writes after their commit), three instances take
// turns going on with it, and their passes are cancelled at random
// moments: once the failures stop and the passes catch up, every token is
// recorded once and sent once, and the fanout has ended. Each seed is
// one run.
// Twenty seeds on the memstore, three on each database.
func TestStagedPushUnderChaos(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		seeds := uint64(3)
		if strings.HasSuffix(t.Name(), "/memstore") {
			seeds = 20
		}
		for seed := range seeds {
			t.Run(fmt.Sprint(seed), func(t *testing.T) {
				clk := newClock()
				chaosRun(t, clk, open(t, clk), seed)
			})
		}
	})
}

func chaosRun(t *testing.T, clk *clock, base fanoutStore, seed uint64) {
	cs := &chaosStore{fanoutStore: base, rnd: rand.New(rand.NewPCG(seed, 7)), failList: 0.05, failAdd: 0.05, blind: 0.05}
	umeng := declaredMock(t, "umeng", provider.Capabilities{MaxTokens: 7})
	jpush := declaredMock(t, "jpush", provider.Capabilities{MaxTokens: 5})
	instance := func() *push.Service {
		s, err := push.New(push.Config{Store: cs, Providers: []provider.Provider{umeng, jpush}, Now: clk.Now,
			Retry: push.RetryPolicy{MaxAttempts: 1000, Base: time.Second, Jitter: -1}})
		require.NoError(t, err)
		push.SetStages(s, 10, 3)
		return s
	}
	a, b, c := instance(), instance(), instance()
	var users, tokens []string
	for i := range 300 {
		u := fmt.Sprintf("u%03d", i)
		users = append(users, u)
		reg := func(uuid, pl, prov, tok string) {
			_, err := a.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: uuid, Platform: pl, PushPlatform: prov, PushToken: tok})
			require.NoError(t, err)
			tokens = append(tokens, tok)
		}
		reg("a-"+u, "android", "umeng", "tok-a-"+u)
		if i%3 == 0 {
			reg("i-"+u, "ios", "umeng", "tok-i-"+u)
		}
		if i%11 == 0 {
			reg("j-"+u, "android", "jpush", "tok-j-"+u)
		}
		if i == 17 {
			reg("ji-"+u, "ios", "jpush", "tok-ji-"+u)
		}
	}
	cs.setOn(true)

	// The clock stands still while the Push's sends run: moving it past
	// a lease they renewed would let a second sender in, which no real
	// clock does within one call.
	res, pushErr := a.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c"})
	rnd := rand.New(rand.NewPCG(seed, 9))
	for round := range 60 {
		if round == 40 {
			cs.setOn(false)
		}
		clk.Advance(time.Duration(rnd.IntN(6)) * time.Minute)
		var wg sync.WaitGroup
		for _, s := range []*push.Service{a, b, c} {
			if round < 40 && rnd.IntN(2) == 0 {
				continue
			}
			ctx, cancel := context.WithCancel(t.Context())
			if round < 40 && rnd.IntN(4) == 0 {
				time.AfterFunc(time.Duration(rnd.IntN(3000))*time.Microsecond, cancel)
			}
			wg.Go(func() { defer cancel(); _, _ = s.RetryPending(ctx, 50) })
		}
		wg.Wait()
	}
	if res == nil {
		require.Error(t, pushErr, "no Result without an error")
		ms, err := base.ListPushMessages(t.Context(), registry.PushMessageQuery{})
		require.NoError(t, err)
		require.Empty(t, ms, "a push that failed before its first stage recorded nothing")
		return
	}
	require.NoError(t, pushErr)
	for range 5 {
		clk.Advance(time.Hour)
		_, err := a.RetryPending(t.Context(), 1000)
		require.NoError(t, err)
	}
	requireRecordedOnce(t, base, res.PushMessageID, tokens)
	sent := map[string]int{}
	for _, m := range []*providertest.Mock{umeng, jpush} {
		for tok, n := range sentTokens(m) {
			sent[tok] += n
		}
	}
	for _, tok := range tokens {
		assert.Equal(t, 1, sent[tok], "token %s sent once", tok)
	}
	requireFanoutEnded(t, base)
}

// partialClaimStore's ClaimFanouts answers the pushes it claimed with an
// error, as a store whose read failed after its claim does.
type partialClaimStore struct{ *listingStore }

func (s partialClaimStore) ClaimFanouts(ctx context.Context, p registry.ClaimParams) ([]registry.PushMessage, error) {
	ms, err := s.listingStore.ClaimFanouts(ctx, p)
	return ms, errors.Join(err, errors.New("reading the next claimed push failed"))
}

// The pushes a failed ClaimFanouts did claim go on at once, not after
// their lease runs out.
func TestFanoutsClaimedBeforeAReadFailedGoOn(t *testing.T) {
	clk, st, m := memAndMock(t)
	ls := &listingStore{fanoutStore: st, at: "u100"}
	svc, users, tokens := stagedService(t, push.Config{Store: partialClaimStore{ls}, Providers: []provider.Provider{m}, Now: clk.Now})
	res := leaveUnlisted(t, svc, ls, push.Message{UserNums: users, Title: "t", Content: "c"})

	_, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err, "the claim's error is logged, the retries go on")
	requireRecordedOnce(t, st, res.PushMessageID, tokens)
}
