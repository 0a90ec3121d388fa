package push_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// fanoutStore is a store that records large pushes in stages.
type fanoutStore interface {
	registry.Store
	registry.Fanouts
}

// stagedStores runs fn on a memstore and on every database.
func stagedStores(t *testing.T, fn func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore)) {
	t.Run("memstore", func(t *testing.T) {
		fn(t, func(t *testing.T, clk *clock) fanoutStore {
			st, err := memstore.New(memstore.Config{Now: clk.Now})
			require.NoError(t, err)
			return st
		})
	})
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			fn(t, func(t *testing.T, _ *clock) fanoutStore { return dbtest.NewStore(t, d) })
		})
	}
}

// listingStore wraps a store's ListTargets: before listing the users of
// the chunk that starts with user at (the last chunk, or the one to
// fail), it runs hook, which may fail the listing. Every target it lists
// after the first chunk is followed by a repeat of the first target it
// listed: a token two users share, which must be recorded and sent once.
type listingStore struct {
	fanoutStore
	at    string
	hook  func() error
	mu    sync.Mutex
	first *registry.Target
	// giveBack false makes AddDeliveries of no deliveries fail: the
	// instance that stops cannot give its claim back, as if it died.
	failGiveBack bool
	// failEnd makes the AddDeliveries that ends a fanout without a
	// delivery fail.
	failEnd atomic.Bool
	// onEnd, when set, runs before the AddDeliveries that ends a fanout
	// without a delivery.
	onEnd func(m *registry.PushMessage)
}

func (s *listingStore) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	if len(q.UserNums) > 0 && q.UserNums[0] == s.at && q.AfterUserDeviceID == 0 && s.hook != nil {
		if err := s.hook(); err != nil {
			return nil, err
		}
	}
	ts, err := s.fanoutStore.ListTargets(ctx, q)
	if err != nil || len(ts) == 0 {
		return ts, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.first == nil {
		f := ts[0]
		s.first = &f
		return ts, nil
	}
	return append(ts, *s.first), nil
}

func (s *listingStore) AddDeliveries(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery, next *registry.Fanout) error {
	if s.failGiveBack && len(ds) == 0 && next != nil {
		return errors.New("the instance died")
	}
	if s.failEnd.Load() && len(ds) == 0 && next == nil {
		return errors.New("the database went away")
	}
	if s.onEnd != nil && len(ds) == 0 && next == nil {
		s.onEnd(m)
	}
	return s.fanoutStore.AddDeliveries(ctx, m, ds, next)
}

// stagedFixture registers 200 users, each with an Android phone and every
// third with an iPhone too, on st, and returns a Service that records a
// push to more than 30 users in stages of 30 (3 chunks of 10).
func stagedFixture(t *testing.T, st registry.Store, clk *clock, m *providertest.Mock) (*push.Service, []string, []string) {
	t.Helper()
	return stagedService(t, push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now})
}

// openStaged opens the store of a staged test with open, wraps it in a
// listingStore whose hook runs before the chunk that starts with user at,
// and returns stagedFixture's Service on it, with a Mock of batches of 7.
func openStaged(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore, at string) (
	clk *clock, m *providertest.Mock, st *listingStore, svc *push.Service, users, tokens []string) {
	t.Helper()
	clk, m = newClock(), batchMock(t)
	st = &listingStore{fanoutStore: open(t, clk), at: at}
	svc, users, tokens = stagedFixture(t, st, clk, m)
	return clk, m, st, svc, users, tokens
}

// batchMock returns the Mock of the staged tests: batches of 7 tokens.
func batchMock(t *testing.T) *providertest.Mock {
	t.Helper()
	m, err := providertest.NewMock(declared(provider.Capabilities{MaxTokens: 7}))
	require.NoError(t, err)
	return m
}

// memAndMock returns a clock, a memstore on it and a batchMock.
func memAndMock(t *testing.T) (*clock, *memstore.Store, *providertest.Mock) {
	t.Helper()
	clk := newClock()
	st, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	return clk, st, batchMock(t)
}

// memStaged is openStaged on a memstore, the Service's Config first
// passed to edit when it is not nil (to trace it, or set its Expiry).
func memStaged(t *testing.T, at string, edit func(cfg *push.Config)) (clk *clock, m *providertest.Mock, ls *listingStore, svc *push.Service, users []string) {
	t.Helper()
	clk, st, m := memAndMock(t)
	ls = &listingStore{fanoutStore: st, at: at}
	cfg := push.Config{Store: ls, Providers: []provider.Provider{m}, Now: clk.Now}
	if edit != nil {
		edit(&cfg)
	}
	svc, users, _ = stagedService(t, cfg)
	return clk, m, ls, svc, users
}

// stagedService is stagedFixture with the Service's whole config.
func stagedService(t *testing.T, cfg push.Config) (*push.Service, []string, []string) {
	t.Helper()
	svc := newStaged(t, cfg)
	users, tokens := registerStaged(t, svc, 200, func(i int) bool { return i%3 == 0 })
	slices.Reverse(users) // the Service lists them in byte order whatever the order given
	return svc, users, tokens
}

// newStaged returns a Service of cfg that records a push to more than 30
// users in stages of 30 (3 chunks of 10).
func newStaged(t *testing.T, cfg push.Config) *push.Service {
	t.Helper()
	svc, err := push.New(cfg)
	require.NoError(t, err)
	push.SetStages(svc, 10, 3)
	return svc
}

// registerStaged registers n users, u000 on, each with an Android phone
// (token tok-a-<user>) and, where withIOS says so, an iPhone (tok-i-<user>),
// and returns the users and the tokens.
func registerStaged(t *testing.T, svc *push.Service, n int, withIOS func(i int) bool) (users, tokens []string) {
	t.Helper()
	for i := range n {
		u := fmt.Sprintf("u%03d", i)
		users = append(users, u)
		_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: "a-" + u, Platform: "android", PushToken: "tok-a-" + u})
		require.NoError(t, err)
		tokens = append(tokens, "tok-a-"+u)
		if withIOS(i) {
			_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: "i-" + u, Platform: "ios", PushToken: "tok-i-" + u})
			require.NoError(t, err)
			tokens = append(tokens, "tok-i-"+u)
		}
	}
	return users, tokens
}

// never is registerStaged's withIOS for Android phones only.
func never(int) bool { return false }

// failOnce is a listingStore hook that fails the first listing it sees
// with msg, and lets the later ones through.
func failOnce(msg string) func() error {
	var failed atomic.Bool
	return func() error {
		if failed.CompareAndSwap(false, true) {
			return errors.New(msg)
		}
		return nil
	}
}

// leaveUnlisted pushes msg with st's listing failing once, at st.at: the
// push is recorded, its listing left to the next pass (Result.Unlisted).
func leaveUnlisted(t *testing.T, svc *push.Service, st *listingStore, msg push.Message) *push.Result {
	t.Helper()
	st.hook = failOnce("the database went away")
	res, err := svc.Push(t.Context(), msg)
	require.NoError(t, err, "the push is recorded: the rest is the Scanner's")
	require.True(t, res.Unlisted)
	return res
}

// sentTokens counts the tokens of every request the Mock received.
func sentTokens(m *providertest.Mock) map[string]int {
	out := map[string]int{}
	for _, r := range m.Requests() {
		for _, tok := range r.Audience.Tokens {
			out[tok]++
		}
	}
	return out
}

// requireRecordedOnce checks that the deliveries of push id hold each of
// tokens once, that its fanout ended, and that its summary is what
// registry.Summarize makes of its deliveries.
func requireRecordedOnce(t *testing.T, st fanoutStore, id int64, tokens []string) {
	t.Helper()
	want := map[string]int{}
	for _, tok := range tokens {
		want[tok] = 1
	}
	require.Equal(t, want, recordedTokens(t, st, id), "every token recorded once")
	ds, err := st.ListDeliveries(t.Context(), id)
	require.NoError(t, err)
	m, err := st.GetPushMessage(t.Context(), id)
	require.NoError(t, err)
	for _, p := range []string{registry.PlatformIOS, registry.PlatformAndroid} {
		assert.Equal(t, registry.Summarize(p, ds), *m.Summary(p), "the %s summary, tokens included", p)
	}
	requireFanoutEnded(t, st)
}

// A push to more users than a stage records and sends its deliveries
// stage by stage: the first vendor calls are made before the last users
// are listed (the listing of the last chunk waits for one, which would
// never come if sends waited for the whole audience), each token is
// recorded and sent once (a token two users share too), and the push
// makes as few calls as one recorded whole: only the last stage sends a
// batch short of MaxTokens.
func TestPushInStages(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		_, m, st, svc, users, tokens := openStaged(t, open, "u190")
		var sentEarly atomic.Bool
		st.hook = func() error {
			deadline := time.Now().Add(10 * time.Second)
			for m.Calls() == 0 && time.Now().Before(deadline) {
				time.Sleep(time.Millisecond)
			}
			sentEarly.Store(m.Calls() > 0)
			return nil
		}

		res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c", DedupeKey: "staged"})
		require.NoError(t, err)
		require.NoError(t, res.FirstError())
		assert.True(t, sentEarly.Load(), "vendor calls were made before the last chunk was listed")
		assert.False(t, res.Unlisted)
		assert.Equal(t, len(tokens), res.Devices)
		assert.Equal(t, len(res.Deliveries), res.Accepted())
		android, ios := 200, 67
		assert.Equal(t, (android+6)/7+(ios+6)/7, m.Calls(), "ceil(n/MaxTokens) calls a platform")
		sent := sentTokens(m)
		assert.Len(t, sent, len(tokens))
		for _, tok := range tokens {
			assert.Equal(t, 1, sent[tok], "token %s sent once", tok)
		}
		requireRecordedOnce(t, st, res.PushMessageID, tokens)
		got, err := st.GetPushMessage(t.Context(), res.PushMessageID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetSuccess, got.Android.Ret)

		again, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c", DedupeKey: "staged"})
		require.NoError(t, err)
		assert.True(t, again.Duplicate)
		assert.Equal(t, res.PushMessageID, again.PushMessageID)
		assert.Equal(t, len(tokens), again.Devices)
	})
}

// A push whose listing fails half-way is recorded as far as it got and
// says Unlisted; it gives its claim back, so the Scanner's next pass
// (RetryPending) lists and sends the rest at once. Every token is then
// recorded and sent once, none twice.
func TestStagedPushResumesWhereItStopped(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		_, m, st, svc, users, tokens := openStaged(t, open, "u100")
		res := leaveUnlisted(t, svc, st, push.Message{UserNums: users, Title: "t", Content: "c"})
		assert.NotEmpty(t, res.Deliveries)
		assert.Less(t, res.Devices, len(tokens))
		got, err := st.GetPushMessage(t.Context(), res.PushMessageID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetPending, got.Android.Ret, "pending while users are left")
		first := m.Calls()

		n, err := svc.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		assert.Zero(t, n, "no delivery was pending: the rest of the audience is the fanout's")
		assert.Greater(t, m.Calls(), first, "the next pass went on at once")
		sent := sentTokens(m)
		for _, tok := range tokens {
			assert.Equal(t, 1, sent[tok], "token %s sent once", tok)
		}
		requireRecordedOnce(t, st, res.PushMessageID, tokens)
	})
}

// An instance that dies in the middle of a fanout cannot give its claim
// back: the push waits for the lease, then two instances race to go on
// with it, and one does. Every token is recorded and sent once.
func TestStagedPushOutlivesItsInstance(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		clk, m := newClock(), batchMock(t)
		base := open(t, clk)
		st := &listingStore{fanoutStore: base, at: "u100", failGiveBack: true}
		svc, users, tokens := stagedFixture(t, st, clk, m)
		st.hook = failOnce("killed")
		res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c"})
		require.NoError(t, err)
		require.True(t, res.Unlisted)
		first := m.Calls()

		_, err = svc.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		assert.Equal(t, first, m.Calls(), "the lease still runs: nobody goes on")

		clk.Advance(10 * time.Minute)
		other, err := push.New(push.Config{Store: base, Providers: []provider.Provider{m}, Now: clk.Now})
		require.NoError(t, err)
		push.SetStages(other, 10, 3)
		st.failGiveBack = false
		var wg sync.WaitGroup
		for _, s := range []*push.Service{svc, other} {
			wg.Go(func() {
				_, err := s.RetryPending(t.Context(), 10)
				assert.NoError(t, err)
			})
		}
		wg.Wait()
		sent := sentTokens(m)
		for _, tok := range tokens {
			assert.Equal(t, 1, sent[tok], "token %s sent once", tok)
		}
		requireRecordedOnce(t, base, res.PushMessageID, tokens)
	})
}

// A push of several stages ends its fanout (the write of the summary's
// every token) once the last stage's sends are done and their outcomes
// recorded: on SQLite every write of the message row after the end (a
// finish's tally) would rewrite all those tokens again.
func TestStagedPushEndsItsFanoutAfterItsLastFinishes(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		_, m, st, svc, users, tokens := openStaged(t, open, "")
		m.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
			time.Sleep(20 * time.Millisecond) // the end, were it beside the sends, would come first
			return &provider.Receipt{ID: "r-" + r.IdempotencyKey}, nil
		})
		var ends atomic.Int32
		var unfinished []string
		st.onEnd = func(msg *registry.PushMessage) {
			ends.Add(1)
			ds, err := st.ListDeliveries(context.Background(), msg.ID)
			if err != nil {
				unfinished = append(unfinished, err.Error())
				return
			}
			for _, d := range ds {
				if d.State == registry.DeliveryPending || d.ClaimToken != "" {
					unfinished = append(unfinished, fmt.Sprintf("delivery %d: %s, claimed %t", d.ID, d.State, d.ClaimToken != ""))
				}
			}
		}
		res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c"})
		require.NoError(t, err)
		require.NoError(t, res.FirstError())
		require.Greater(t, len(res.Deliveries), 2, "several stages")
		assert.Equal(t, int32(1), ends.Load(), "the fanout ended once, on its own")
		assert.Empty(t, unfinished, "every delivery recorded before the end")
		requireRecordedOnce(t, st, res.PushMessageID, tokens)
	})
}

// The end of a fanout is written after the last stage's sends: when that
// write fails, the push is still whole (every delivery recorded and sent,
// nothing Unlisted), and whoever claims the fanout once its lease runs out
// finds no user left to list and ends it, sending nothing again.
func TestStagedPushWhoseEndFailsIsEndedByTheNextClaim(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		clk, m, st, svc, users, tokens := openStaged(t, open, "")
		st.failEnd.Store(true)
		res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c"})
		require.NoError(t, err)
		require.NoError(t, res.FirstError())
		assert.False(t, res.Unlisted)
		assert.Equal(t, len(tokens), res.Devices)
		calls := m.Calls()
		got, err := st.GetPushMessage(t.Context(), res.PushMessageID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetPending, got.Android.Ret, "the end was not written: the summary says pending")

		st.failEnd.Store(false)
		_, err = svc.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		got, err = st.GetPushMessage(t.Context(), res.PushMessageID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetPending, got.Android.Ret, "the lease still runs: nobody ends it yet")

		clk.Advance(10 * time.Minute)
		_, err = svc.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		assert.Equal(t, calls, m.Calls(), "nothing sent again")
		requireRecordedOnce(t, st, res.PushMessageID, tokens)
	})
}

// A push whose fanout's end failed, and which expired before anyone
// claimed it again, is ended as whole, not as expired: every user was
// listed and every token recorded.
func TestStagedPushWhoseEndFailedIsNotExpiredLater(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		clk, m := newClock(), batchMock(t)
		st := &listingStore{fanoutStore: open(t, clk)}
		logs := &syncbuf.Buffer{}
		svc, users, tokens := stagedService(t, push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now,
			Logger: slog.New(slog.NewTextHandler(logs, nil))})
		st.failEnd.Store(true)
		res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c", ExpireAt: clk.Now().Add(5 * time.Minute)})
		require.NoError(t, err)
		require.NoError(t, res.FirstError())
		st.failEnd.Store(false)
		calls := m.Calls()

		clk.Advance(10 * time.Minute)
		_, err = svc.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		assert.Equal(t, calls, m.Calls(), "nothing sent again")
		assert.NotContains(t, logs.String(), "push expired", "nobody was left unlisted")
		requireRecordedOnce(t, st, res.PushMessageID, tokens)
	})
}

// A push recorded in stages is checked against every provider and
// platform the Service serves before anything is recorded, since its
// targets are not all known then: a message that iOS refuses is a
// *FieldError even for an audience of Android phones, and nothing is
// stored. (A push recorded whole is checked against its targets' only.)
func TestStagedPushIsCheckedFirst(t *testing.T) {
	clk := newClock()
	st, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	cfg := declared(provider.Capabilities{})
	ios := cfg.Capabilities[provider.IOS]
	ios.MaxPayloadBytes = 64
	cfg.Capabilities[provider.IOS] = ios
	m, err := providertest.NewMock(cfg)
	require.NoError(t, err)
	svc := newStaged(t, push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now})
	users, _ := registerStaged(t, svc, 40, never)
	long := strings.Repeat("长", 30)
	_, err = svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: long})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "content", fe.Field)
	list, err := st.ListPushMessages(t.Context(), registry.PushMessageQuery{Limit: 10})
	require.NoError(t, err)
	assert.Empty(t, list)
	assert.Zero(t, m.Calls())

	res, err := svc.Push(t.Context(), push.Message{UserNums: users[:30], Title: "t", Content: long})
	require.NoError(t, err, "one stage: recorded whole, checked against Android only")
	assert.Equal(t, 30, res.Devices)
}

// A provider that serves one platform declares nothing for the other: a
// push in stages batches only what it serves, and the devices of the other
// platform are skipped, as when the push is recorded whole.
func TestStagedPushOnAProviderOfOnePlatform(t *testing.T) {
	clk, st, m := memAndMock(t)
	// The iPhones were registered while the iOS app was configured.
	both := newStaged(t, push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now})
	users, _ := registerStaged(t, both, 100, func(int) bool { return true })
	svc := newStaged(t, push.Config{Store: st, Providers: []provider.Provider{androidOnly{m}}, Now: clk.Now})
	res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 100, res.Devices)
	assert.Equal(t, 100, res.Skipped, "the iPhones")
	assert.Equal(t, 15, m.Calls(), "ceil(100/7)")
	assert.Len(t, sentTokens(m), 100)
}

// androidOnly is a provider that serves Android only, as Umeng with an
// Android app alone: its Capabilities of iOS are zero.
type androidOnly struct{ *providertest.Mock }

func (a androidOnly) Capabilities(p provider.Platform) provider.Capabilities {
	if p != provider.Android {
		return provider.Capabilities{}
	}
	return a.Mock.Capabilities(p)
}

// A stage that waits for the stages before it to be sent keeps the
// fanout's lease: however slow the vendor, no other instance takes the
// listing over meanwhile.
func TestStagedPushKeepsItsLeaseWhileSendsAreSlow(t *testing.T) {
	clk, st, m := memAndMock(t)
	const lease = 400 * time.Millisecond // renewed every 100 ms of real time
	ls := &leaseStore{fanoutStore: st, now: clk.Now, renewed: make(chan struct{})}
	svc := newStaged(t, push.Config{Store: ls, Providers: []provider.Provider{m}, Now: clk.Now,
		SendTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond, Lease: lease})
	users, _ := registerStaged(t, svc, 120, never)
	release := make(chan struct{})
	var blocked atomic.Int32
	m.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		blocked.Add(1)
		<-release // the vendor answers once the test has looked
		return &provider.Receipt{ID: "r"}, nil
	})
	done := pushInBackground(t, svc, users)
	// Two stages are recorded and their calls hang; the third waits.
	waitBlocked(t, &blocked, 2)
	select {
	case <-ls.renewed: // a stage is built and waits for a slot, renewing the lease
	case <-time.After(5 * time.Second):
		t.Fatal("no stage waited for a slot")
	}
	assertLeaseHeld(t, clk, st, "the waiting stage renewed the lease")
	close(release)
	res := <-done
	assert.False(t, res.Unlisted)
	assert.Equal(t, 120, res.Devices)
	assert.Zero(t, ls.stale.Load(), "a stage recorded after the wait was leased from before it: a retry could claim it at once")
	// The deliveries whose lease the hour ran out while they waited for a
	// slot were given back untried, their attempt refunded, rather than
	// left for another instance to take over; the next pass sends them.
	if res.Pending() > 0 {
		_, err := svc.RetryPending(t.Context(), 100)
		require.NoError(t, err)
	}
	sent := sentTokens(m)
	assert.Len(t, sent, 120)
	for tok, n := range sent {
		assert.Equal(t, 1, n, "%s sent once", tok)
	}
}

// A push whose last stage's calls are slow keeps the fanout's lease while
// it waits for them to end the fanout: no other instance takes the push
// over and ends it first, and the end is its own.
func TestStagedPushKeepsItsLeaseUntilItsEnd(t *testing.T) {
	clk, st, m := memAndMock(t)
	const lease = 400 * time.Millisecond // renewed every 100 ms of real time
	ls := &listingStore{fanoutStore: st}
	var ended atomic.Int32
	ls.onEnd = func(*registry.PushMessage) { ended.Add(1) }
	svc := newStaged(t, push.Config{Store: ls, Providers: []provider.Provider{m}, Now: clk.Now,
		SendTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond, Lease: lease})
	users, tokens := registerStaged(t, svc, 60, never)
	release := make(chan struct{})
	var blocked atomic.Int32
	m.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		if slices.Contains(r.Audience.Tokens, "tok-a-u059") { // the last stage's last batch
			blocked.Add(1)
			<-release
		}
		return &provider.Receipt{ID: "r-" + r.IdempotencyKey}, nil
	})
	done := pushInBackground(t, svc, users)
	waitBlocked(t, &blocked, 1)
	require.Equal(t, int32(1), blocked.Load())
	assertLeaseHeld(t, clk, st, "the push waiting for its last calls renewed the lease")
	close(release)
	res := <-done
	require.NoError(t, res.FirstError())
	assert.Equal(t, int32(1), ended.Load(), "the push ended its own fanout")
	requireRecordedOnce(t, st, res.PushMessageID, tokens)
}

// pushInBackground pushes to users on svc in a goroutine and returns
// where its Result comes.
func pushInBackground(t *testing.T, svc *push.Service, users []string) <-chan *push.Result {
	done := make(chan *push.Result, 1)
	go func() {
		res, err := svc.Push(context.Background(), push.Message{UserNums: users, Title: "t", Content: "c"})
		assert.NoError(t, err)
		done <- res
	}()
	return done
}

// waitBlocked waits, up to five seconds, for n vendor calls to hang.
func waitBlocked(t *testing.T, blocked *atomic.Int32, n int32) {
	t.Helper()
	for deadline := time.Now().Add(5 * time.Second); blocked.Load() < n && time.Now().Before(deadline); {
		time.Sleep(time.Millisecond)
	}
	require.GreaterOrEqual(t, blocked.Load(), n)
}

// assertLeaseHeld moves clk an hour on, far past the lease a stage gave,
// waits 300 ms of real time (renewals come every 100 ms) and asserts that
// no fanout of st can be claimed.
func assertLeaseHeld(t *testing.T, clk *clock, st fanoutStore, msg string) {
	t.Helper()
	clk.Advance(time.Hour)
	time.Sleep(300 * time.Millisecond)
	left, err := st.ClaimFanouts(t.Context(), registry.ClaimParams{Now: clk.Now(), Limit: 1, Lease: time.Minute})
	require.NoError(t, err)
	assert.Empty(t, left, msg)
}

// leaseStore counts the deliveries AddDeliveries is given whose lease has
// run out already, and closes renewed at the first call that only renews
// the fanout's lease (a stage waits for a slot).
type leaseStore struct {
	fanoutStore
	now     func() time.Time
	stale   atomic.Int32
	renewed chan struct{}
	once    sync.Once
}

func (s *leaseStore) AddDeliveries(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery, next *registry.Fanout) error {
	if len(ds) == 0 && next != nil {
		s.once.Do(func() { close(s.renewed) })
	}
	for _, d := range ds {
		if d.LeaseUntil == nil || !d.LeaseUntil.After(s.now()) {
			s.stale.Add(1)
		}
	}
	return s.fanoutStore.AddDeliveries(ctx, m, ds, next)
}

// A provider or platform with few devices in a large audience does not
// hold the listing's place back: its short batch is sent once it has
// waited five stages, so that a resume after a stop lists again only the
// stages since, not the whole audience.
func TestStagedPushDoesNotWaitForeverForAWholeBatch(t *testing.T) {
	clk, st, m := memAndMock(t)
	ls := &listingStore{fanoutStore: st, at: "u190"}
	svc := newStaged(t, push.Config{Store: ls, Providers: []provider.Provider{m}, Now: clk.Now})
	users, _ := registerStaged(t, svc, 200, func(i int) bool { return i == 5 }) // one iPhone: a batch of 7 would never fill
	ls.hook = func() error { return errors.New("stop") }
	res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.True(t, res.Unlisted)
	assert.Equal(t, 1, sentTokens(m)["tok-i-u005"], "the lone iPhone was sent before the end")
	left, err := st.ClaimFanouts(t.Context(), registry.ClaimParams{Now: clk.Now(), Limit: 1, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, left, 1)
	assert.Greater(t, left[0].Fanout.After, "u150", "the place moved on with the stages (it would be \"\" with the iPhone waiting)")
}

// A fanout taken over by RetryPending is a push.ResumeFanout span under
// the pass's push.claim span, with what it recorded.
func TestResumedFanoutIsTraced(t *testing.T) {
	k := newOtelKit()
	_, _, ls, svc, users := memStaged(t, "u100", k.with)
	ls.hook = failOnce("stop")
	res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.True(t, res.Unlisted)
	_, err = svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)

	var claim, resume sdktrace.ReadOnlySpan
	for _, sp := range k.spans.Ended() {
		switch sp.Name() {
		case "push.claim":
			claim = sp
		case "push.ResumeFanout":
			resume = sp
		case "push.Push":
			assert.Contains(t, sp.Attributes(), attribute.Bool("push.unlisted", true))
		}
	}
	require.NotNil(t, resume)
	require.NotNil(t, claim)
	assert.Equal(t, claim.SpanContext().SpanID(), resume.Parent().SpanID())
	assert.Contains(t, resume.Attributes(), attribute.Int64("push.message_id", res.PushMessageID))
	assert.Contains(t, resume.Attributes(), attribute.Bool("push.unlisted", false))
}

// Ten callers pushing the same large audience under one dedupe key at
// once, on every store: one push is recorded and sent, every token once,
// and the nine others answer it as a duplicate.
func TestStagedPushSameKeyFromTenCallers(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		clk, m := newClock(), batchMock(t)
		st := open(t, clk)
		svc, users, tokens := stagedFixture(t, st, clk, m)
		results := make([]*push.Result, 10)
		var wg sync.WaitGroup
		for i := range results {
			wg.Go(func() {
				res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c", DedupeKey: "once"})
				assert.NoError(t, err)
				results[i] = res
			})
		}
		wg.Wait()
		recorded := 0
		for _, r := range results {
			require.NotNil(t, r)
			assert.Equal(t, results[0].PushMessageID, r.PushMessageID, "one push for the key")
			if !r.Duplicate {
				recorded++
			}
		}
		assert.Equal(t, 1, recorded, "one caller recorded it, the others found it")
		sent := sentTokens(m)
		assert.Len(t, sent, len(tokens))
		for _, tok := range tokens {
			assert.Equal(t, 1, sent[tok], "token %s sent once", tok)
		}
		requireRecordedOnce(t, st, results[0].PushMessageID, tokens)
	})
}

// recordedTokens counts the tokens of push id's deliveries, the split
// ones' parts once.
func recordedTokens(t *testing.T, st fanoutStore, id int64) map[string]int {
	t.Helper()
	ds, err := st.ListDeliveries(t.Context(), id)
	require.NoError(t, err)
	out := map[string]int{}
	for _, d := range ds {
		if d.State == registry.DeliverySplit {
			continue
		}
		for _, tok := range d.Tokens {
			out[tok]++
		}
	}
	return out
}

// requireFanoutEnded checks that no fanout is left to claim, however late.
func requireFanoutEnded(t *testing.T, st fanoutStore) {
	t.Helper()
	left, err := st.ClaimFanouts(t.Context(), registry.ClaimParams{Now: time.Now().Add(24 * time.Hour), Limit: 10, Lease: time.Minute})
	require.NoError(t, err)
	assert.Empty(t, left, "the fanout ended")
}

// A push that reaches its ExpireAt while its audience is listed stops
// there: the users not listed yet are not pushed (no vendor would show the
// push anymore), its record ends (no pass of the Scanner lists them later)
// and the Result says Expired. No token is recorded or sent twice.
func TestStagedPushThatExpiresWhileListedEndsThere(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		clk, m, st, svc, users, tokens := openStaged(t, open, "u100")
		st.hook = func() error { clk.Advance(2 * time.Hour); return nil }

		res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c", ExpireAt: clk.Now().Add(time.Hour)})
		require.NoError(t, err, "the push is recorded as far as it got")
		assert.True(t, res.Expired)
		assert.False(t, res.Unlisted, "nothing is left to the Scanner")
		recorded := recordedTokens(t, st, res.PushMessageID)
		assert.NotEmpty(t, recorded, "the stages before the expiry are recorded")
		assert.Less(t, len(recorded), len(tokens), "the users after it are not")
		for tok, n := range recorded {
			assert.Equal(t, 1, n, "token %s recorded once", tok)
		}
		for _, u := range []string{"u150", "u199"} {
			assert.Zero(t, recorded["tok-a-"+u], "user %s was not listed before the expiry", u)
		}
		requireFanoutEnded(t, st)

		calls := m.Calls()
		_, err = svc.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		assert.Equal(t, calls, m.Calls(), "no later pass sends anything of an expired push")
		assert.Equal(t, recorded, recordedTokens(t, st, res.PushMessageID), "nor records anything more")
		for tok, n := range sentTokens(m) {
			assert.Equal(t, 1, n, "token %s sent once", tok)
			assert.Equal(t, 1, recorded[tok], "token %s was sent, so recorded", tok)
		}
	})
}

// A fanout left unlisted (its listing failed, or its instance died) for
// longer than its push lives is ended by the pass that claims it, without
// listing its users or reading its deliveries: nothing more is recorded
// or sent.
func TestLeftFanoutThatExpiredIsEndedUnlisted(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		clk, m, st, svc, users, _ := openStaged(t, open, "u100")
		res := leaveUnlisted(t, svc, st, push.Message{UserNums: users, Title: "t", Content: "c", ExpireAt: clk.Now().Add(time.Hour)})
		require.False(t, res.Expired)
		recorded := recordedTokens(t, st, res.PushMessageID)
		calls := m.Calls()

		clk.Advance(2 * time.Hour)
		var listed atomic.Int32
		st.hook = func() error { listed.Add(1); return nil }
		_, err := svc.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		assert.Zero(t, listed.Load(), "the users left were not listed")
		assert.Equal(t, calls, m.Calls(), "nothing more was sent")
		assert.Equal(t, recorded, recordedTokens(t, st, res.PushMessageID), "nor recorded")
		requireFanoutEnded(t, st)
	})
}

// push_message answers "expired": true for a push whose audience outlived
// it (see TestStagedPushThatExpiresWhileListedEndsThere), and the push's
// span says push.expired.
func TestPushMessageSaysExpired(t *testing.T) {
	k := newOtelKit()
	clk, _, ls, svc, users := memStaged(t, "u100", func(cfg *push.Config) { k.with(cfg); cfg.Expiry = time.Hour })
	ls.hook = func() error { clk.Advance(2 * time.Hour); return nil }
	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)

	r := postJSON(t, h, "/api/v1.1/user/push_message", map[string]any{"user_nums": users, "title": "t", "content": "c"})
	require.Equal(t, 200, r.status, "%v", r.body)
	assert.Equal(t, true, r.body["expired"])
	assert.Nil(t, r.body["unlisted"])
	var found bool
	for _, sp := range k.spans.Ended() {
		if sp.Name() == "push.Push" {
			found = true
			assert.Contains(t, sp.Attributes(), attribute.Bool("push.expired", true))
		}
	}
	assert.True(t, found, "the push's span ended")
}

// A push that expires before its first stage is recorded records nothing
// and is refused on its expire_at.
func TestStagedPushThatExpiresBeforeItsFirstStage(t *testing.T) {
	clk, m, ls, svc, users := memStaged(t, "u000", nil)
	ls.hook = func() error { clk.Advance(2 * time.Hour); return nil }
	_, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c", ExpireAt: clk.Now().Add(time.Hour)})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "expire_at", fe.Field)
	assert.Zero(t, m.Calls())
	ms, err := ls.ListPushMessages(t.Context(), registry.PushMessageQuery{})
	require.NoError(t, err)
	assert.Empty(t, ms, "nothing was recorded")
}

// A fanout whose listing fails after every takeover is not taken over on
// every pass: each failure gives it back after the retry policy's backoff,
// and once it was claimed more times than MaxAttempts it is ended
// (abandoned) with an error in the log. The deliveries recorded before
// stay and are sent once; the users after the recorded place are not
// pushed, and no pass claims the push again.
func TestFanoutFailingEveryTakeoverIsAbandoned(t *testing.T) {
	stagedStores(t, func(t *testing.T, open func(t *testing.T, clk *clock) fanoutStore) {
		clk, m := newClock(), batchMock(t)
		st := &listingStore{fanoutStore: open(t, clk), at: "u100"}
		var listed atomic.Int32
		st.hook = func() error { listed.Add(1); return errors.New("a row of sys_devices is unreadable") }
		logs := &syncbuf.Buffer{}
		svc, users, _ := stagedService(t, push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now,
			Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelError})), Retry: push.RetryPolicy{MaxAttempts: 3, Base: time.Minute, Jitter: -1}})

		res, err := svc.Push(t.Context(), push.Message{UserNums: users, Title: "t", Content: "c"})
		require.NoError(t, err)
		require.True(t, res.Unlisted)
		recorded := recordedTokens(t, st, res.PushMessageID)
		require.NotEmpty(t, recorded)
		require.Equal(t, int32(1), listed.Load())

		// Three takeovers, each failing where the first call failed; the
		// backoff after the n-th is Base·2^(n-1): 1, 2, then 4 minutes.
		for takeover, backoff := range []time.Duration{time.Minute, 2 * time.Minute, 4 * time.Minute} {
			_, err := svc.RetryPending(t.Context(), 10)
			require.NoError(t, err)
			require.Equal(t, int32(takeover+2), listed.Load(), "takeover %d listed again", takeover+1)
			clk.Advance(backoff - time.Second)
			_, err = svc.RetryPending(t.Context(), 10)
			require.NoError(t, err)
			require.Equal(t, int32(takeover+2), listed.Load(), "not taken over again within its backoff of %v", backoff)
			clk.Advance(time.Second)
		}
		assert.Equal(t, recorded, recordedTokens(t, st, res.PushMessageID), "the failed takeovers recorded nothing")

		// The fourth claim is one more than MaxAttempts: the fanout ends
		// without listing, and nothing more is recorded.
		_, err = svc.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		assert.Equal(t, int32(4), listed.Load(), "the abandoned fanout was not listed")
		assert.Equal(t, recorded, recordedTokens(t, st, res.PushMessageID))
		requireFanoutEnded(t, st)
		assert.True(t, strings.Contains(logs.String(), "fanout abandoned after 4 takeovers without progress (retry max_attempts 3)"),
			"an error says the fanout was abandoned; the errors logged:\n%s", logs.String())

		// The deliveries recorded before are sent, each token once.
		for range 3 {
			clk.Advance(time.Hour)
			_, err = svc.RetryPending(t.Context(), 100)
			require.NoError(t, err)
		}
		sent := sentTokens(m)
		for tok := range recorded {
			assert.Equal(t, 1, sent[tok], "token %s sent once", tok)
		}
		assert.Len(t, sent, len(recorded), "no token beyond those recorded")
		got, err := st.GetPushMessage(t.Context(), res.PushMessageID)
		require.NoError(t, err)
		assert.Nil(t, got.Fanout)
		assert.NotEqual(t, registry.RetPending, got.Android.Ret, "the summary is final")
	})
}

// A takeover stopped by its caller (a shutdown) gives the fanout back due
// at once, backoff or not: only failures wait.
func TestFanoutTakeoverStoppedByItsCallerIsDueAtOnce(t *testing.T) {
	_, m, ls, svc, users := memStaged(t, "u100", nil)
	leaveUnlisted(t, svc, ls, push.Message{UserNums: users, Title: "t", Content: "c"})

	ctx, cancel := context.WithCancel(t.Context())
	ls.hook = func() error { cancel(); return ctx.Err() }
	_, _ = svc.RetryPending(ctx, 10) // stopped while the fanout is listed: whether its claim of deliveries came first is a race
	require.Error(t, ctx.Err(), "the pass was stopped")
	calls := m.Calls()

	ls.hook = nil
	_, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Greater(t, m.Calls(), calls, "the next pass went on at once, the clock unmoved")
	requireFanoutEnded(t, ls)
}

// The retries due do not wait for a fanout that the same pass goes on
// with: while the fanout's listing is held up, the pass sends a delivery
// whose retry is due, then finishes the fanout.
func TestRetriesDoNotWaitForAResumedFanout(t *testing.T) {
	clk, m, ls, svc, users := memStaged(t, "u100", nil)
	leaveUnlisted(t, svc, ls, push.Message{UserNums: users, Title: "t", Content: "c"})

	// u199 has an Android phone only: its push fails once, retryably.
	m.FailNext(1, nil)
	small, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u199"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, small.Deliveries, 1)
	require.Equal(t, registry.DeliveryPending, small.Deliveries[0].State)
	clk.Advance(time.Hour) // the retry is due
	calls := m.Calls()

	var sawRetry atomic.Bool
	ls.hook = func() error {
		deadline := time.Now().Add(10 * time.Second)
		for time.Now().Before(deadline) {
			if m.Calls() > calls {
				sawRetry.Store(true)
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		return errors.New("the retry did not come while the fanout was listed")
	}
	n, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the due retry was claimed")
	assert.True(t, sawRetry.Load(), "the retry was sent while the fanout's listing waited")
	requireFanoutEnded(t, ls)
	st, err := svc.PushStatus(t.Context(), small.PushMessageID)
	require.NoError(t, err)
	assert.NotEqual(t, registry.StatusPending, st.AndroidStatus, "the retry was recorded")
}
