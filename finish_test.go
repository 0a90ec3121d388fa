package push_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// flakyFinishStore fails the first fail FinishDelivery calls with err;
// with writeFirst, each failing call writes the outcome before it fails
// (a commit whose answer was lost).
type flakyFinishStore struct {
	registry.Store
	mu         sync.Mutex
	fail       int
	err        error
	writeFirst bool
	calls      int
	// after, when set, is the error of every call after the failing ones.
	after error
}

func (s *flakyFinishStore) FinishDelivery(ctx context.Context, d *registry.Delivery) error {
	s.mu.Lock()
	s.calls++
	failing := s.calls <= s.fail
	s.mu.Unlock()
	if !failing {
		if s.after != nil {
			return s.after
		}
		return s.Store.FinishDelivery(ctx, d)
	}
	if s.writeFirst {
		cp := *d
		if err := s.Store.FinishDelivery(ctx, &cp); err != nil {
			return err
		}
	}
	return s.err
}

func (s *flakyFinishStore) finishCalls() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.calls
}

var refused = &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}

// newFlakyFixture is a fixture whose store is wrapped by fs, with its
// log in logs.
func newFlakyFixture(t *testing.T, fs *flakyFinishStore, logs *syncbuf.Buffer) *fixture {
	t.Helper()
	return newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		fs.Store = c.Store
		c.Store = fs
		c.WriteTimeout = 2 * time.Second
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
}

// Errors of a connection cut mid-statement, as the stores report them:
// the statement's error joined with the rollback's.
var (
	errPGCut    = fmt.Errorf("sqlstore: FinishDelivery: %w", errors.Join(fmt.Errorf("update delivery: %w", io.ErrUnexpectedEOF), fmt.Errorf("rollback: %w", errors.New("conn closed"))))
	errMySQLCut = fmt.Errorf("sqlstore: FinishDelivery: %w", errors.Join(fmt.Errorf("update delivery: %w", errors.New("invalid connection")), fmt.Errorf("rollback: %w", errors.New("invalid connection"))))
	// Cut while committing: the commit may have landed.
	errPGCommitCut    = fmt.Errorf("sqlstore: FinishDelivery: %w: %w", registry.ErrCommit, io.ErrUnexpectedEOF)
	errMySQLCommitCut = fmt.Errorf("sqlstore: FinishDelivery: %w: %w", registry.ErrCommit, errors.New("invalid connection"))
)

// TestSentOutcomeWriteIsRetried: the vendor accepted the push and the
// database refused the outcome's write twice (restarting, say, or cut off
// mid-statement). The write is tried again until it lands, so the delivery
// is not left pending to be sent again once its lease runs out.
func TestSentOutcomeWriteIsRetried(t *testing.T) {
	for name, failure := range map[string]error{"refused": refused, "pg cut": errPGCut, "mysql cut": errMySQLCut} {
		t.Run(name, func(t *testing.T) {
			fs, logs := &flakyFinishStore{fail: 2, err: failure}, &syncbuf.Buffer{}
			f := newFlakyFixture(t, fs, logs)
			f.register(t, "u1", "d1", "android", "tok-1")
			res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Accepted())
			assert.Equal(t, 3, fs.finishCalls())
			ds, err := f.store.ListDeliveries(context.Background(), res.PushMessageID)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Equal(t, registry.DeliveryDone, ds[0].State, "the outcome is stored")
			assert.Contains(t, logs.String(), "recording delivery outcome: done after a retry")

			assertSentOnce(t, f)
		})
	}
}

// TestSentOutcomeWriteNotRetriedOnAPermanentError: an error that will not
// pass is not tried again.
func TestSentOutcomeWriteNotRetriedOnAPermanentError(t *testing.T) {
	fs, logs := &flakyFinishStore{fail: 1, err: errors.New("constraint violated")}, &syncbuf.Buffer{}
	f := newFlakyFixture(t, fs, logs)
	f.register(t, "u1", "d1", "android", "tok-1")
	_, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1, fs.finishCalls())
	assert.Contains(t, logs.String(), "recording delivery outcome failed")
	assert.NotContains(t, logs.String(), "trying again")
	assert.Contains(t, logs.String(), "recorded=false", "the line of the send says so")
	assert.EqualValues(t, 1, f.svc.UnrecordedOutcomes())
}

// TestUnrecordedOutcomeInTheAnswer: a delivery the vendor accepted whose
// outcome the store does not hold is pending there and will be sent again
// once its lease ends; the Result and the HTTP answer say so, so that a
// caller knows the push may be shown twice.
func TestUnrecordedOutcomeInTheAnswer(t *testing.T) {
	fs, logs := &flakyFinishStore{fail: 1 << 30, err: errors.New("constraint violated")}, &syncbuf.Buffer{}
	f := newFlakyFixture(t, fs, logs)
	f.register(t, "u1", "d1", "android", "tok-1")
	f.register(t, "u1", "d2", "ios", "tok-2")
	res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Accepted(), "the vendor took both")
	assert.Equal(t, 2, res.Unrecorded())
	for _, d := range res.Deliveries {
		assert.True(t, d.Unrecorded, "delivery %d", d.DeliveryID)
	}
	assert.Zero(t, (*push.Result)(nil).Unrecorded())

	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc})
	require.NoError(t, err)
	r := postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t2", "content": "c"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.EqualValues(t, 2, r.body["accepted"])
	assert.EqualValues(t, 2, r.body["unrecorded"])

	fs.mu.Lock()
	fs.fail = 0 // the store writes again
	fs.mu.Unlock()
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t3", "content": "c"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotContains(t, r.body, "unrecorded", "said only when some outcome is not stored")
	ok, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t4", Content: "c"})
	require.NoError(t, err)
	assert.Zero(t, ok.Unrecorded())
	for _, d := range ok.Deliveries {
		assert.False(t, d.Unrecorded)
	}
}

// TestSentOutcomeOfALostClaim: an instance whose claim was taken over
// while it sent (its lease ran out during a pause) cannot record the
// outcome; that is counted and logged at warn level, not as a store
// failure, and the metric says why.
func TestSentOutcomeOfALostClaim(t *testing.T) {
	kit := newOtelKit()
	fs, logs := &flakyFinishStore{fail: 1, err: fmt.Errorf("sqlstore: FinishDelivery: %w", registry.ErrClaimLost)}, &syncbuf.Buffer{}
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		fs.Store = c.Store
		c.Store = fs
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
		kit.with(c)
	})
	f.register(t, "u1", "d1", "android", "tok-1")
	_, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.EqualValues(t, 1, f.svc.UnrecordedOutcomes())
	assert.Contains(t, logs.String(), "another instance holds the delivery's claim")
	assert.NotContains(t, logs.String(), "level=ERROR")
	assert.EqualValues(t, 1, sum(t, kit.collect(t), "push.deliveries.unrecorded",
		map[string]string{"push.reason": "claim_lost", "push.provider": "umeng", "push.platform": "android"}))
	assert.Zero(t, (*push.Service)(nil).UnrecordedOutcomes())
}

// TestSentOutcomeWriteTimedOutButLanded: a write that timed out, or lost
// its connection while committing, after its commit landed is retried,
// finds the claim released, and is taken as recorded, not as lost.
func TestSentOutcomeWriteTimedOutButLanded(t *testing.T) {
	for name, failure := range map[string]error{"timeout": context.DeadlineExceeded, "pg commit cut": errPGCommitCut, "mysql commit cut": errMySQLCommitCut} {
		t.Run(name, func(t *testing.T) {
			fs, logs := &flakyFinishStore{fail: 1, err: failure, writeFirst: true}, &syncbuf.Buffer{}
			f := newFlakyFixture(t, fs, logs)
			f.register(t, "u1", "d1", "android", "tok-1")
			res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 2, fs.finishCalls())
			assert.Contains(t, logs.String(), "delivery outcome taken as recorded")
			assert.NotContains(t, logs.String(), "level=ERROR")
			ds, err := f.store.ListDeliveries(context.Background(), res.PushMessageID)
			require.NoError(t, err)
			assert.Equal(t, registry.DeliveryDone, ds[0].State)
			assert.Zero(t, f.svc.UnrecordedOutcomes())
		})
	}
}

// TestSentOutcomeStatementCutThenClaimLost: a statement cut before the
// commit wrote nothing, so a retry that then finds the claim gone (another
// instance took the delivery over) is an outcome not recorded, not one
// taken as recorded.
func TestSentOutcomeStatementCutThenClaimLost(t *testing.T) {
	fs := &flakyFinishStore{fail: 2, err: errPGCut}
	fs.after = fmt.Errorf("sqlstore: FinishDelivery: %w", registry.ErrClaimLost)
	logs := &syncbuf.Buffer{}
	f := newFlakyFixture(t, fs, logs)
	f.register(t, "u1", "d1", "android", "tok-1")
	_, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.NotContains(t, logs.String(), "taken as recorded")
	assert.Contains(t, logs.String(), "another instance holds the delivery's claim")
	assert.EqualValues(t, 1, f.svc.UnrecordedOutcomes())
}

// TestSentOutcomeRetriesEndWithTheCaller: once the caller's ctx is done
// (a drain), the retries stop WriteTimeout after the first try, however
// long the lease lasts: the push returns, the outcome logged as lost.
func TestSentOutcomeRetriesEndWithTheCaller(t *testing.T) {
	fs, logs := &flakyFinishStore{fail: 1 << 30, err: refused}, &syncbuf.Buffer{}
	f := newFlakyFixture(t, fs, logs)
	f.register(t, "u1", "d1", "android", "tok-1")
	ctx, cancel := context.WithCancel(context.Background())
	f.mock.SetSendFunc(func(context.Context, *provider.Request) (*provider.Receipt, error) {
		cancel() // the caller leaves during the vendor call
		return &provider.Receipt{Provider: "umeng", Platform: provider.Android, ID: "msg-1"}, nil
	})
	_, _ = f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	assert.Contains(t, logs.String(), "recording delivery outcome failed")
	assert.Greater(t, fs.finishCalls(), 1, "retried within the drain's budget")
}

// TestDeliveriesWaitingPastTheirLeaseAreGivenBack: deliveries that wait
// for a send slot until their lease is about to end are given back
// untried, their attempt refunded and due at once, instead of being left
// for another instance to take over with an attempt spent on a send that
// never happened (enough of those failed deliveries nobody had sent). The
// next pass sends each once, as its first attempt.
func TestDeliveriesWaitingPastTheirLeaseAreGivenBack(t *testing.T) {
	caps := providertest.DefaultCapabilities()
	caps.MaxTokens = 1 // a delivery per device
	f := newFixture(t, providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{provider.Android: caps}},
		func(c *push.Config) {
			c.SendConcurrency = 1
			c.Lease = 2 * time.Minute
			c.SendTimeout = 10 * time.Second
			c.WriteTimeout = time.Second
		})
	for _, d := range []string{"d1", "d2", "d3"} {
		f.register(t, "u1", d, "android", "tok-"+d)
	}
	entered, answer := make(chan struct{}, 3), make(chan struct{})
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		entered <- struct{}{}
		<-answer
		return &provider.Receipt{Provider: "umeng", Platform: r.Platform, ID: "msg-" + r.Audience.Tokens[0]}, nil
	})
	done := make(chan *push.Result, 1)
	go func() {
		res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
		assert.NoError(t, err)
		done <- res
	}()
	<-entered                      // the first call hangs; the other two wait for its slot
	f.clk.Advance(3 * time.Minute) // past every lease
	time.Sleep(600 * time.Millisecond)
	close(answer)
	res := <-done
	assert.Equal(t, 1, f.mock.Calls(), "the waiting deliveries were not sent")
	assert.Equal(t, 2, res.Pending())
	ds, err := f.store.ListDeliveries(context.Background(), res.PushMessageID)
	require.NoError(t, err)
	pending := 0
	for _, d := range ds {
		if d.State == registry.DeliveryPending {
			pending++
			assert.Zero(t, d.Attempts, "delivery %d: its attempt refunded", d.ID)
			assert.Empty(t, d.ClaimToken, "delivery %d: given back", d.ID)
			require.NotNil(t, d.NextAttemptAt)
			assert.False(t, d.NextAttemptAt.After(f.clk.Now()), "delivery %d: due at once", d.ID)
		}
	}
	assert.Equal(t, 2, pending)

	n, err := f.svc.RetryPending(context.Background(), 10)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	sent := map[string]int{}
	for _, r := range f.mock.Requests() {
		sent[r.Audience.Tokens[0]]++
	}
	assert.Equal(t, map[string]int{"tok-d1": 1, "tok-d2": 1, "tok-d3": 1}, sent)
	ds, err = f.store.ListDeliveries(context.Background(), res.PushMessageID)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, 1, d.Attempts, "delivery %d: one attempt, one send", d.ID)
	}
}

// flakyDisableStore fails the first fail DisableTokens calls with err.
type flakyDisableStore struct {
	registry.Store
	mu    sync.Mutex
	fail  int
	calls int
}

func (s *flakyDisableStore) DisableTokens(ctx context.Context, pushPlatform, platform string, tokens []string, reason string) (int64, error) {
	s.mu.Lock()
	s.calls++
	failing := s.calls <= s.fail
	s.mu.Unlock()
	if failing {
		return 0, refused
	}
	return s.Store.DisableTokens(ctx, pushPlatform, platform, tokens, reason)
}

// TestInvalidTokenDisabledAfterABlip: the vendor reports the token dead
// and the database refuses the first write that disables it; the write
// is tried again, so the dead token is not sent to again.
func TestInvalidTokenDisabledAfterABlip(t *testing.T) {
	ds := &flakyDisableStore{fail: 2}
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		ds.Store = c.Store
		c.Store = ds
		c.WriteTimeout = 2 * time.Second
	})
	f.register(t, "u1", "d1", "android", "tok-dead")
	f.mock.SetSendFunc(func(context.Context, *provider.Request) (*provider.Receipt, error) {
		return nil, &provider.Error{Provider: "umeng", Op: "send", Kind: provider.InvalidToken, Code: "4020"}
	})
	_, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 3, ds.calls)
	links, err := f.store.ListUserDevices(context.Background(), "u1")
	require.NoError(t, err)
	require.Len(t, links, 1)
	assert.NotNil(t, links[0].Device.TokenDisabledAt, "the dead token is disabled")
}

// TestClientHangingUpDuringABlipLeavesNoOutcomeUnrecorded: with
// HandlerConfig.Stop set, a push_message client that hangs up during the
// vendor call does not cut the outcome's write budget to the drain's: the
// database refuses the write for longer than WriteTimeout, the write is
// retried until it lands, and no later pass sends the push again. Without
// Stop the client's hang-up is a stop (TestSentOutcomeRetriesEndWithTheCaller);
// Stop's end still is.
func TestClientHangingUpDuringABlipLeavesNoOutcomeUnrecorded(t *testing.T) {
	// Six refusals: 0.1+0.2+0.4+0.8+1.6+2 s of backoff, past WriteTimeout (2 s).
	fs, logs := &flakyFinishStore{fail: 6, err: refused}, &syncbuf.Buffer{}
	f, srv, _ := stoppableServer(t, fs, logs)

	cctx, hangUp := context.WithCancel(t.Context())
	f.mock.SetSendFunc(func(context.Context, *provider.Request) (*provider.Receipt, error) {
		hangUp()                          // the client leaves during the vendor call
		time.Sleep(50 * time.Millisecond) // and the server notices
		return &provider.Receipt{Provider: "umeng", Platform: provider.Android, ID: "msg-1"}, nil
	})
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, srv.URL+push.PathPushMessage,
		strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
	}

	require.Eventually(t, func() bool {
		ds, err := f.store.ListDeliveries(t.Context(), 1)
		return err == nil && len(ds) == 1 && ds[0].State == registry.DeliveryDone
	}, 20*time.Second, 20*time.Millisecond, "the outcome is recorded")
	assert.Equal(t, 7, fs.finishCalls(), "retried past WriteTimeout until it landed")
	assert.NotContains(t, logs.String(), "level=ERROR", "no outcome given up")
	assertSentOnce(t, f)
}

// stoppableServer serves a Handler of a flaky fixture (see
// newFlakyFixture) with a device for u1, given HandlerConfig.Stop; the
// function it returns ends Stop.
func stoppableServer(t *testing.T, fs *flakyFinishStore, logs *syncbuf.Buffer) (*fixture, *httptest.Server, context.CancelFunc) {
	t.Helper()
	f := newFlakyFixture(t, fs, logs)
	f.register(t, "u1", "d1", "android", "tok-1")
	stop, stopServer := context.WithCancel(t.Context())
	t.Cleanup(stopServer)
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Stop: stop})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return f, srv, stopServer
}

// assertSentOnce checks that an hour on no pass has anything of f's push
// to send again, and that its device was sent the push once.
func assertSentOnce(t *testing.T, f *fixture) {
	t.Helper()
	f.clk.Advance(time.Hour)
	n, err := f.svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left to send again")
	assert.Equal(t, 1, f.mock.Calls(), "the device was sent the push once")
}

// TestHandlerStopEndsTheOutcomesBudget: HandlerConfig.Stop's end (a
// shutdown) is a stop, as a client's hang-up is without Stop: a write the
// database keeps refusing is given up WriteTimeout after its first try,
// so that the drain keeps to its bound, and the push is answered.
func TestHandlerStopEndsTheOutcomesBudget(t *testing.T) {
	fs, logs := &flakyFinishStore{fail: 1 << 30, err: refused}, &syncbuf.Buffer{}
	f, srv, stopServer := stoppableServer(t, fs, logs)
	f.mock.SetSendFunc(func(context.Context, *provider.Request) (*provider.Receipt, error) {
		stopServer() // the server starts shutting down during the vendor call
		return &provider.Receipt{Provider: "umeng", Platform: provider.Android, ID: "msg-1"}, nil
	})
	start := time.Now()
	resp, err := http.Post(srv.URL+push.PathPushMessage, "application/json", strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Less(t, time.Since(start), 10*time.Second, "answered within the drain's bound, not the lease's")
	assert.Contains(t, logs.String(), "level=ERROR msg=\"recording delivery outcome failed\"")
}

// orderStore notes the order of the outcome writes and token disablements.
type orderStore struct {
	*memstore.Store
	mu    sync.Mutex
	calls []string
}

func (s *orderStore) note(c string) { s.mu.Lock(); s.calls = append(s.calls, c); s.mu.Unlock() }

func (s *orderStore) FinishDelivery(ctx context.Context, d *registry.Delivery) error {
	s.note("finish")
	return s.Store.FinishDelivery(ctx, d)
}

func (s *orderStore) DisableTokens(ctx context.Context, pushPlatform, platform string, tokens []string, reason string) (int64, error) {
	s.note("disable")
	return s.Store.DisableTokens(ctx, pushPlatform, platform, tokens, reason)
}

// TestTheOutcomeIsRecordedBeforeTheTokenIsDisabled: a send refused for a
// dead token records its outcome first and disables the token after, so
// that the device write, retried within the same lease, can never push the
// outcome's past it.
func TestTheOutcomeIsRecordedBeforeTheTokenIsDisabled(t *testing.T) {
	var st *orderStore
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		st = &orderStore{Store: c.Store.(*memstore.Store)}
		c.Store = st
	})
	f.register(t, "u1", "d1", "android", "dead-token")
	f.mock.MarkInvalid("dead-token")
	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Failed())
	assert.Equal(t, []string{"finish", "disable"}, st.calls)
}

// unsplittableStore refuses every split, as a store does whose parts'
// keys are taken.
type unsplittableStore struct{ *flakyFinishStore }

func (s unsplittableStore) SplitDelivery(context.Context, *registry.Delivery, []*registry.Delivery) error {
	return fmt.Errorf("sqlstore: SplitDelivery: %w", registry.ErrInvalid)
}

// TestUnsplitOutcomeUnrecorded: a delivery the vendor refused for a dead
// token that cannot be split fails, and when that outcome cannot be
// stored either, the Result says so and it is counted, as any sent
// delivery whose outcome is lost.
func TestUnsplitOutcomeUnrecorded(t *testing.T) {
	fs, logs := &flakyFinishStore{fail: 1 << 30, err: errors.New("constraint violated")}, &syncbuf.Buffer{}
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		fs.Store = c.Store
		c.Store = unsplittableStore{fs}
		c.Logger = slog.New(slog.NewTextHandler(logs, nil))
	})
	f.mock.MarkInvalid("tok-b")
	f.register(t, "u1", "d1", "android", "tok-a")
	f.register(t, "u1", "d2", "android", "tok-b")
	res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	assert.Equal(t, registry.DeliveryFailed, res.Deliveries[0].State)
	assert.True(t, res.Deliveries[0].Unrecorded)
	assert.EqualValues(t, 1, f.svc.UnrecordedOutcomes())
	assert.Contains(t, logs.String(), "delivery failed: it cannot be split")
}

// TestTimedOutPushKeepsToTheDrainOnceStopped: a push whose outcome
// cannot be written (the database down) holds its request past the
// Handler's Timeout, its write retried for the delivery's lease, until
// what stops the push ends: HandlerConfig.Stop (the server shutting
// down), or without it the request's own context (its client, or the
// server's BaseContext). The write then keeps to the drain's bound, and
// the request is answered. The Timeout's cause, reached first, hid the
// stop, and a shutdown waited out the lease.
func TestTimedOutPushKeepsToTheDrainOnceStopped(t *testing.T) {
	for _, withStop := range []bool{true, false} {
		t.Run(fmt.Sprintf("stop=%v", withStop), func(t *testing.T) {
			fs := &flakyFinishStore{fail: 1 << 30, err: refused}
			f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
				fs.Store = c.Store
				c.Store = fs
				c.WriteTimeout = 200 * time.Millisecond
				c.Logger = slog.New(slog.DiscardHandler)
			})
			f.register(t, "u1", "d1", "ios", "t1")
			stop, shutDown := context.WithCancel(context.Background())
			defer shutDown()
			cfg := push.HandlerConfig{Service: f.svc, Timeout: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)}
			reqCtx := context.Background()
			if withStop {
				cfg.Stop = stop
			} else {
				reqCtx = stop
			}
			h, err := push.NewHandler(cfg)
			require.NoError(t, err)
			answered := make(chan *httptest.ResponseRecorder, 1)
			go func() {
				req := httptest.NewRequestWithContext(reqCtx, http.MethodPost, push.PathPushMessage, strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
				req.Header.Set("Content-Type", "application/json")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				answered <- rec
			}()
			select {
			case rec := <-answered:
				t.Fatalf("answered before the stop, its outcome's write given up: %s", rec.Body)
			case <-time.After(500 * time.Millisecond): // past the Timeout: the write is retried
			}
			require.Greater(t, fs.finishCalls(), 1, "the write was tried again after the Timeout")
			shutDown()
			select {
			case rec := <-answered:
				if withStop {
					require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
					assert.Contains(t, rec.Body.String(), `"unrecorded":1`, "sent, its outcome not recorded")
				}
			case <-time.After(5 * time.Second):
				t.Fatal("the stop did not end the write's retries: the drain would wait out the lease")
			}
			assert.Equal(t, 1, f.mock.Calls())
		})
	}
}
