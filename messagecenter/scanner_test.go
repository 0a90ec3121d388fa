package messagecenter_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time          { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type env struct {
	store   registry.Store
	mock    *providertest.Mock
	svc     *push.Service
	scanner *messagecenter.Scanner
	clk     *clock
	results []messagecenter.Result
	mu      sync.Mutex
}

func newEnv(t *testing.T, store registry.Store, clk *clock, mod func(*messagecenter.Config)) *env {
	t.Helper()
	if clk == nil {
		clk = &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	}
	if store == nil {
		ms, err := memstore.New(memstore.Config{Now: clk.Now})
		require.NoError(t, err)
		store = ms
	}
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: store, Providers: []provider.Provider{m}, Now: clk.Now,
		Retry: push.RetryPolicy{Base: time.Minute, Jitter: -1, MaxAttempts: 3}})
	require.NoError(t, err)
	e := &env{store: store, mock: m, svc: svc, clk: clk}
	cfg := messagecenter.Config{Service: svc, BatchSize: 10, Retry: push.RetryPolicy{Base: time.Minute, Jitter: -1, MaxAttempts: 3},
		OnResult: func(r messagecenter.Result) { e.mu.Lock(); e.results = append(e.results, r); e.mu.Unlock() }}
	if mod != nil {
		mod(&cfg)
	}
	e.scanner, err = messagecenter.New(cfg)
	require.NoError(t, err)
	return e
}

func (e *env) register(t *testing.T, user, uuid, platform, token string) {
	t.Helper()
	_, err := e.svc.RegisterDevice(context.Background(), push.Device{UserNum: user, UUID: uuid, Platform: platform, PushToken: token})
	require.NoError(t, err)
}

func (e *env) enqueue(t *testing.T, m registry.CenterMessage) int64 {
	t.Helper()
	require.NoError(t, e.store.EnqueueCenterMessage(context.Background(), &m))
	return m.ID
}

func (e *env) row(t *testing.T, id int64) registry.CenterMessage {
	t.Helper()
	m, err := e.store.GetCenterMessage(context.Background(), id)
	require.NoError(t, err)
	return m
}

func TestPushRowIsSentAndLinked(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil, nil)
	e.register(t, "u1", "d1", "ios", "itok")
	e.register(t, "u2", "d2", "android", "atok")
	id := e.enqueue(t, registry.CenterMessage{Title: "库存预警", Content: "SKU 42 低于预警线", NotifyMode: "push",
		Receivers: "u1，u2", Extra: `{"sku":42}`})

	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Claimed)
	assert.Equal(t, 1, rep.Sent)
	row := e.row(t, id)
	assert.Equal(t, registry.SendStateSent, row.SendState)
	require.Regexp(t, `^push_message#\d+$`, row.SendResult)
	var pmID int64
	_, err = fmt.Sscanf(row.SendResult, "push_message#%d", &pmID)
	require.NoError(t, err)
	pm, err := e.store.GetPushMessage(ctx, pmID)
	require.NoError(t, err)
	assert.Equal(t, "itok", pm.IOS.DeviceTokens)
	assert.Equal(t, "atok", pm.Android.DeviceTokens)
	assert.Equal(t, messagecenter.DedupeKey(&row), pm.DedupeKey)
	assert.Regexp(t, fmt.Sprintf(`^message_center#%d@\d{14}#[0-9a-f]{16}$`, id), pm.DedupeKey)
	reqs := e.mock.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "42", reqs[0].Notification.Extras["sku"])

	assert.Empty(t, row.Remark, "every receiver reached")

	rep, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed, "a sent row is never claimed again")
	assert.Len(t, e.mock.Requests(), 2)
}

// TestPushRowNamesUnreachedReceivers: a push row sent to some of its
// receivers only says in its remark which ones had no device to reach.
func TestPushRowNamesUnreachedReceivers(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.register(t, "u1", "d1", "android", "atok")
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1、ghost,nobody"})
	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	row := e.row(t, id)
	assert.Equal(t, registry.SendStateSent, row.SendState)
	assert.Equal(t, "2 receiver(s) without a device the push could reach: ghost、nobody", row.Remark)

	// Past the bound a push names, the remark counts them.
	receivers := []string{"u1"}
	for i := range push.MaxUnreachedUsers {
		receivers = append(receivers, fmt.Sprintf("g%d", i))
	}
	id = e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: strings.Join(receivers, ",")})
	rep, err = e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	row = e.row(t, id)
	assert.Equal(t, registry.SendStateSent, row.SendState)
	assert.Equal(t, fmt.Sprintf("%d receiver(s) without a device the push could reach", push.MaxUnreachedUsers), row.Remark)
}

func TestOrderLevelThenAge(t *testing.T) {
	var order []string
	notifier := messagecenter.NotifierFunc(func(ctx context.Context, m registry.CenterMessage, rcv []string) (string, error) {
		order = append(order, m.Title)
		return "ok", nil
	})
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Concurrency = 1 // in claim order, one by one
		c.Notifiers = map[string]messagecenter.Notifier{"sms": notifier}
	})
	for _, r := range []struct {
		title string
		level int
	}{{"low-old", 0}, {"high-old", 5}, {"low-new", 0}, {"high-new", 5}, {"mid", 1}} {
		e.enqueue(t, registry.CenterMessage{Title: r.title, Content: "c", NotifyMode: "sms", NotifyLevel: r.level, Receivers: "13800000000"})
	}
	_, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, []string{"high-old", "high-new", "mid", "low-old", "low-new"}, order)
}

// TestPermanentOfNil: Permanent(err) marks err, and leaves a nil err nil,
// so that a Notifier may return Permanent(err) whatever err is.
func TestPermanentOfNil(t *testing.T) {
	assert.NoError(t, messagecenter.Permanent(nil))
	err := messagecenter.Permanent(errors.New("bad mobile number"))
	assert.ErrorIs(t, err, messagecenter.ErrPermanent)
	assert.EqualError(t, err, "permanent failure: bad mobile number")
}

func TestNotifierOutcomes(t *testing.T) {
	ctx := context.Background()
	calls := map[string]int{}
	var mu sync.Mutex
	notifier := messagecenter.NotifierFunc(func(ctx context.Context, m registry.CenterMessage, rcv []string) (string, error) {
		mu.Lock()
		calls[m.Title]++
		mu.Unlock()
		switch m.Title {
		case "permanent":
			return "", messagecenter.Permanent(errors.New("bad mobile number"))
		case "temporary":
			return "", errors.New("gateway timeout")
		case "ratelimited":
			return "", &provider.Error{Kind: provider.RateLimited, RetryAfter: 10 * time.Minute}
		case "invalid":
			return "", &provider.Error{Kind: provider.InvalidRequest, Message: "template refused"}
		case "wrapped ratelimited":
			return "", fmt.Errorf("sms gateway: %w", &provider.Error{Kind: provider.RateLimited, RetryAfter: 10 * time.Minute})
		}
		return "sms#" + rcv[0], nil
	})
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": notifier}
	})
	ok := e.enqueue(t, registry.CenterMessage{Title: "ok", Content: "c", NotifyMode: "sms", Receivers: "138;139"})
	perm := e.enqueue(t, registry.CenterMessage{Title: "permanent", Content: "c", NotifyMode: "sms", Receivers: "138"})
	temp := e.enqueue(t, registry.CenterMessage{Title: "temporary", Content: "c", NotifyMode: "sms", Receivers: "138"})
	rl := e.enqueue(t, registry.CenterMessage{Title: "ratelimited", Content: "c", NotifyMode: "sms", Receivers: "138"})
	invalid := e.enqueue(t, registry.CenterMessage{Title: "invalid", Content: "c", NotifyMode: "sms", Receivers: "138"})
	wrl := e.enqueue(t, registry.CenterMessage{Title: "wrapped ratelimited", Content: "c", NotifyMode: "sms", Receivers: "138"})
	unknown := e.enqueue(t, registry.CenterMessage{Title: "fax", Content: "c", NotifyMode: "fax", Receivers: "138"})
	nobody := e.enqueue(t, registry.CenterMessage{Title: "nobody", Content: "c", NotifyMode: "sms", Receivers: " ,， "})

	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 8, Sent: 1, Failed: 4, Rescheduled: 3}, rep)

	assert.Equal(t, "sms#138", e.row(t, ok).SendResult)
	assert.Equal(t, registry.SendStateFailed, e.row(t, perm).SendState)
	assert.Contains(t, e.row(t, perm).Remark, "bad mobile number")
	assert.Contains(t, e.row(t, unknown).Remark, `no notifier for notify_mode "fax"`)
	assert.Equal(t, registry.SendStateFailed, e.row(t, nobody).SendState)
	assert.Equal(t, registry.SendStateFailed, e.row(t, invalid).SendState, "a provider.Error of a kind not retryable fails the row at once")
	assert.Equal(t, 0, e.row(t, wrl).Attempts, "a wrapped rate limit does not spend an attempt either")

	tr := e.row(t, temp)
	assert.Equal(t, registry.SendStateUnsent, tr.SendState)
	assert.Equal(t, 1, tr.Attempts)
	require.NotNil(t, tr.NextAttemptAt)
	assert.Equal(t, e.clk.Now().Add(time.Minute), *tr.NextAttemptAt, "first backoff is Base")
	rr := e.row(t, rl)
	assert.Equal(t, 0, rr.Attempts, "a rate limit does not spend an attempt")
	assert.Equal(t, e.clk.Now().Add(10*time.Minute), *rr.NextAttemptAt, "Retry-After is honoured")

	// Backoff doubles, then attempts run out: failed and kept for operators.
	e.clk.Advance(time.Minute)
	_, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	tr = e.row(t, temp)
	assert.Equal(t, 2, tr.Attempts)
	assert.Equal(t, e.clk.Now().Add(2*time.Minute), *tr.NextAttemptAt)
	e.clk.Advance(2 * time.Minute)
	_, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	tr = e.row(t, temp)
	assert.Equal(t, registry.SendStateFailed, tr.SendState)
	assert.Contains(t, tr.Remark, "gave up after 3 attempts")
	assert.Equal(t, 3, calls["temporary"])

	e.clk.Advance(10 * time.Minute)
	_, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, calls["ratelimited"])
}

func TestPushRowFailures(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil, nil)
	e.register(t, "u1", "d1", "android", "atok")
	noDev := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "ghost"})
	noneOfTwo := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push",
		Receivers: "ghost,nobody," + strings.Repeat("x", 300)})
	var many []string
	for i := range push.MaxUnreachedUsers + 1 {
		many = append(many, fmt.Sprintf("g%d", i))
	}
	noneOfMany := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: strings.Join(many, ",")})
	noTitle := e.enqueue(t, registry.CenterMessage{Content: "c", NotifyMode: "push", Receivers: "u1"})
	e.mock.FailNext(1, e.mock.Err(provider.InvalidRequest, "2022"))
	perm := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})

	_, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	r := e.row(t, noDev)
	assert.Equal(t, registry.SendStateFailed, r.SendState)
	assert.Contains(t, r.Remark, "no active device")
	assert.Contains(t, r.Remark, "1 receiver(s) without a device the push could reach: ghost")
	r = e.row(t, noneOfTwo)
	assert.Equal(t, registry.SendStateFailed, r.SendState)
	assert.Contains(t, r.Remark, "; 2 receiver(s) without a device the push could reach: ghost、nobody; "+
		"1 receiver(s) that can be no user_num, not pushed: #3", "the remark names whom the row reached nothing of, and whom it left out")
	r = e.row(t, noneOfMany)
	assert.Equal(t, registry.SendStateFailed, r.SendState)
	assert.Contains(t, r.Remark, fmt.Sprintf("; none of its %d receivers has a device the push could reach", push.MaxUnreachedUsers+1),
		"past the bound a push's Result names, the remark counts them")
	r = e.row(t, noTitle)
	assert.Equal(t, registry.SendStateFailed, r.SendState)
	assert.Contains(t, r.Remark, "title")
	r = e.row(t, perm)
	assert.Equal(t, registry.SendStateFailed, r.SendState, "a permanent vendor error fails the row at once")
	assert.Contains(t, r.Remark, "2022", "the vendor code is recorded")
	assert.Regexp(t, `^push_message#\d+$`, r.SendResult, "the ops query still finds the push")
}

func TestDefaultTitle(t *testing.T) {
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) { c.DefaultTitle = "系统通知" })
	e.register(t, "u1", "d1", "android", "atok")
	id := e.enqueue(t, registry.CenterMessage{Content: "c", NotifyMode: "push", Receivers: "u1"})
	_, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, registry.SendStateSent, e.row(t, id).SendState)
	assert.Equal(t, "系统通知", e.mock.Requests()[0].Notification.Title)
}

func TestScheduledRowWaits(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.register(t, "u1", "d1", "android", "atok")
	at := e.clk.Now().Add(time.Hour)
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1", SendAt: &at})
	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed)
	e.clk.Advance(time.Hour)
	rep, err = e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	assert.Equal(t, registry.SendStateSent, e.row(t, id).SendState)
}

func TestTemporaryPushFailureIsRetriedByDelivery(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil, nil)
	e.register(t, "u1", "d1", "android", "atok")
	e.mock.FailNext(1, e.mock.Err(provider.Temporary, ""))
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})
	_, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, registry.SendStateSent, e.row(t, id).SendState, "the push is recorded; its delivery retries")
	e.clk.Advance(time.Minute)
	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Retried)
	reqs := e.mock.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].IdempotencyKey, reqs[1].IdempotencyKey)
}

func TestRowHandledTwiceFindsItsPush(t *testing.T) {
	// A Scanner that recorded the push but died before finishing the row:
	// the next one finds the push by dedupe key and sends nothing again.
	ctx := context.Background()
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) { c.Lease = 2 * time.Minute })
	e.register(t, "u1", "d1", "android", "atok")
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})
	rows, err := e.store.ClaimCenterMessages(ctx, registry.ClaimParams{Now: e.clk.Now(), Limit: 1, Lease: 2 * time.Minute})
	require.NoError(t, err)
	require.Len(t, rows, 1)
	first, err := e.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: messagecenter.DedupeKey(&rows[0])})
	require.NoError(t, err)

	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed, "still leased")
	e.clk.Advance(2 * time.Minute)
	rep, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	assert.Equal(t, fmt.Sprintf("push_message#%d", first.PushMessageID), e.row(t, id).SendResult)
	assert.Equal(t, 1, e.mock.Calls(), "sent once")
}

// TestRunDrains stops a Scanner while a vendor call is in flight: the call
// is not cancelled, Run waits for it, its outcome is recorded (accepted,
// not pending for a resend), the push whose call had not started is given
// back untried (its delivery pending, unclaimed, its attempt refunded, for
// the next pass of any instance), and nothing is left running.
func TestRunDrains(t *testing.T) {
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) { c.Interval = time.Hour; c.Concurrency = 1 })
	e.register(t, "u1", "d1", "android", "atok")
	started, finish := make(chan struct{}), make(chan struct{})
	var callErr error
	e.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		close(started)
		<-finish
		callErr = ctx.Err() // nil: the call's ctx outlived Run's
		return &provider.Receipt{ID: "msg-1"}, nil
	})
	a := e.enqueue(t, registry.CenterMessage{Title: "a", Content: "c", NotifyMode: "push", Receivers: "u1"})
	b := e.enqueue(t, registry.CenterMessage{Title: "b", Content: "c", NotifyMode: "push", Receivers: "u1"})
	before := runtime.NumGoroutine()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- e.scanner.Run(ctx) }()
	<-started
	cancel()
	select {
	case <-done:
		t.Fatal("Run returned while a vendor call was in flight")
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(10 * time.Second):
		t.Fatal("Run did not return after cancellation")
	}
	require.NoError(t, callErr, "the vendor call was not cancelled")
	assert.Equal(t, 1, e.mock.Calls())
	ra, rb := e.row(t, a), e.row(t, b)
	assert.Equal(t, registry.SendStateSent, ra.SendState, "a's push was recorded")
	st, err := e.svc.PushStatus(context.Background(), pushID(t, ra.SendResult))
	require.NoError(t, err)
	assert.Equal(t, "accepted", st.AndroidStatus, "the call's outcome was recorded")
	// The batch's pushes were recorded together, before the first call:
	// b's row is done, and its push's delivery waits for the next pass.
	assert.Equal(t, registry.SendStateSent, rb.SendState)
	assert.Empty(t, rb.ClaimToken, "b's row is not left leased")
	ds, err := e.store.ListDeliveries(context.Background(), pushID(t, rb.SendResult))
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, registry.DeliveryPending, ds[0].State, "b's delivery was not sent")
	assert.Empty(t, ds[0].ClaimToken, "b's delivery was released, not left leased")
	assert.Equal(t, 0, ds[0].Attempts, "an untried delivery spends no attempt")
	// Poll by hand: assert.Eventually runs its condition on goroutines of
	// its own, which would be counted.
	deadline := time.Now().Add(5 * time.Second)
	for runtime.NumGoroutine() > before && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if !assert.LessOrEqual(t, runtime.NumGoroutine(), before, "no goroutine left behind") {
		buf := make([]byte, 1<<16)
		t.Logf("%s", buf[:runtime.Stack(buf, true)])
	}
}

// A pass stopped while it waits to claim a third batch (two are in flight)
// claims nothing more and reports no error: the batches in flight finish,
// the rows not yet claimed stay for the next pass.
func TestRunOnceStopsBetweenBatches(t *testing.T) {
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) { c.BatchSize = 1; c.Concurrency = 1 })
	e.register(t, "u1", "d1", "android", "atok")
	started, finish := make(chan struct{}), make(chan struct{})
	var once sync.Once
	e.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		once.Do(func() { close(started) })
		<-finish
		return &provider.Receipt{ID: r.IdempotencyKey}, nil
	})
	var ids []int64
	for _, title := range []string{"a", "b", "c"} {
		ids = append(ids, e.enqueue(t, registry.CenterMessage{Title: title, Content: "c", NotifyMode: "push", Receivers: "u1"}))
	}
	ctx, cancel := context.WithCancel(context.Background())
	type result struct {
		rep messagecenter.Report
		err error
	}
	done := make(chan result, 1)
	go func() {
		rep, err := e.scanner.RunOnce(ctx)
		done <- result{rep, err}
	}()
	<-started
	// a's call is in flight; b is claimed behind it. Wait until it is.
	require.Eventually(t, func() bool { return e.row(t, ids[1]).ClaimToken != "" }, 5*time.Second, 5*time.Millisecond)
	cancel()
	close(finish)
	var r result
	select {
	case r = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("RunOnce did not return")
	}
	require.NoError(t, r.err, "stopping is not a claim error")
	assert.Equal(t, 2, r.rep.Claimed)
	c := e.row(t, ids[2])
	assert.Equal(t, registry.SendStateUnsent, c.SendState, "c was not claimed")
	assert.Empty(t, c.ClaimToken)
}

func TestNewValidates(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	n := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) { return "", nil })
	for _, tt := range []struct {
		field string
		cfg   messagecenter.Config
	}{
		{"service", messagecenter.Config{}},
		{"store", messagecenter.Config{Service: e.svc, Store: (*memstore.Store)(nil)}},
		{"notifiers", messagecenter.Config{Service: e.svc, Notifiers: map[string]messagecenter.Notifier{"push": n}}},
		{"notifiers", messagecenter.Config{Service: e.svc, Notifiers: map[string]messagecenter.Notifier{"": n}}},
		{"notifiers", messagecenter.Config{Service: e.svc, Notifiers: map[string]messagecenter.Notifier{"sms": nil}}},
		// A NotifierFunc left unset is a nil func in a non-nil interface.
		{"notifiers", messagecenter.Config{Service: e.svc, Notifiers: map[string]messagecenter.Notifier{"sms": messagecenter.NotifierFunc(nil)}}},
		{"default_title", messagecenter.Config{Service: e.svc, DefaultTitle: strings.Repeat("标", 256)}},
		{"default_title", messagecenter.Config{Service: e.svc, DefaultTitle: "通知\xff"}},
		{"default_title", messagecenter.Config{Service: e.svc, DefaultTitle: "a\x00b"}},
		{"default_title", messagecenter.Config{Service: e.svc, DefaultTitle: " \t"}},
		{"interval", messagecenter.Config{Service: e.svc, Interval: -1}},
		// 30 meaning seconds is 30 ns: Run would pass without pause.
		{"interval", messagecenter.Config{Service: e.svc, Interval: 30}},
		{"notifiers", messagecenter.Config{Service: e.svc, Notifiers: map[string]messagecenter.Notifier{"sms,email": n}}},
		// A list, as PUSH_CENTER_LEAVE_MODES takes it, given as one mode.
		{"leave_modes", messagecenter.Config{Service: e.svc, LeaveModes: []string{"sms,email"}}},
		{"leave_modes", messagecenter.Config{Service: e.svc, LeaveModes: []string{"sms;email"}}},
		// The Scanner's own Retry, said as its field.
		{"retry.jitter", messagecenter.Config{Service: e.svc, Retry: push.RetryPolicy{Jitter: 3}}},
		{"retry.max", messagecenter.Config{Service: e.svc, Retry: push.RetryPolicy{Max: 10 * time.Second}}},
		{"batch_size", messagecenter.Config{Service: e.svc, BatchSize: -1}},
		{"concurrency", messagecenter.Config{Service: e.svc, Concurrency: -1}},
		{"notify_timeout", messagecenter.Config{Service: e.svc, NotifyTimeout: -1}},
		{"notify_timeout", messagecenter.Config{Service: e.svc, Lease: time.Minute, NotifyTimeout: time.Minute}},
		{"lease", messagecenter.Config{Service: e.svc, Lease: -time.Second}},
		// Shorter than the Service's DrainTimeout: another instance would
		// claim a push row while its vendor call is under way.
		{"lease", messagecenter.Config{Service: e.svc, Lease: e.svc.DrainTimeout(), NotifyTimeout: time.Second}},
		// Longer than any claim gives: taken for another program's lease.
		{"lease", messagecenter.Config{Service: e.svc, Lease: registry.MaxCenterLease + time.Second}},
		{"max_attempts", messagecenter.Config{Service: e.svc, MaxAttempts: -1}},
		{"leave_modes", messagecenter.Config{Service: e.svc, LeaveModes: []string{" "}}},
		{"leave_modes", messagecenter.Config{Service: e.svc, LeaveModes: []string{"Push"}}},
		{"leave_modes", messagecenter.Config{Service: e.svc, LeaveModes: []string{strings.Repeat("m", 256)}}},
		{"leave_modes", messagecenter.Config{Service: e.svc, LeaveModes: []string{"Émail"}}},
		{"leave_modes", messagecenter.Config{Service: e.svc, LeaveModes: []string{"\u212aakao"}}}, // the Kelvin sign lowers to k
		{"leave_modes", messagecenter.Config{Service: e.svc, Notifiers: map[string]messagecenter.Notifier{"sms": n}, LeaveModes: []string{"SMS "}}},
	} {
		_, err := messagecenter.New(tt.cfg)
		var fe *messagecenter.FieldError
		require.ErrorAs(t, err, &fe, tt.field)
		assert.Equal(t, tt.field, fe.Field)
		assert.ErrorIs(t, err, push.ErrInvalid, "one check for the push and messagecenter configs")
	}
	// A Max below the default Base, which a zero Base stands for.
	_, err := messagecenter.New(messagecenter.Config{Service: e.svc, Retry: push.RetryPolicy{Max: 10 * time.Second}})
	assert.EqualError(t, err, "messagecenter: retry.max: 10s is less than retry.base's default 30s: set retry.base too")
	_, err = messagecenter.New(messagecenter.Config{Service: e.svc, DefaultTitle: strings.Repeat("标", 255)})
	assert.NoError(t, err, "255 characters fit the title column")
	_, err = messagecenter.New(messagecenter.Config{Service: e.svc, Lease: registry.MaxCenterLease})
	assert.NoError(t, err, "MaxCenterLease itself")
	_, err = messagecenter.New(messagecenter.Config{Service: e.svc, Interval: messagecenter.MinInterval})
	assert.NoError(t, err, "MinInterval itself")
	_, err = messagecenter.New(messagecenter.Config{Service: e.svc, Interval: 30})
	assert.ErrorContains(t, err, "interval: is 30ns, shorter than 1ms")
}

// TestLeaveModes: the rows of LeaveModes are another program's (its sms
// or email sender on the same table): never claimed, never changed, while
// the Scanner delivers the rest; without LeaveModes such a row fails with
// its reason. A Store that does not honour ClaimParams.SkipModes has the
// rows it claims of those modes given back untried.
func TestLeaveModes(t *testing.T) {
	ctx := context.Background()
	for name, store := range map[string]func(registry.Store) registry.Store{
		"store skips":   func(s registry.Store) registry.Store { return s },
		"store ignores": func(s registry.Store) registry.Store { return ignoresSkipModes{s} },
	} {
		t.Run(name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
			ms, err := memstore.New(memstore.Config{Now: clk.Now})
			require.NoError(t, err)
			e := newEnv(t, store(ms), clk, func(c *messagecenter.Config) { c.LeaveModes = []string{"SMS", " email", "sms"} })
			e.register(t, "u1", "d1", "ios", "tok-1")
			sms := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: " Sms ", Receivers: "138"})
			mail := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "email", Receivers: "a@b.c"})
			fax := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "fax", Receivers: "1"})
			// The claim trims spaces only, as SQL's TRIM: claimed, given
			// back untried and put off, never failed.
			tab := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms\t", Receivers: "138"})
			pushed := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})
			_, err = e.scanner.RunOnce(ctx)
			require.NoError(t, err)
			for _, id := range []int64{sms, mail, tab} {
				m, err := ms.GetCenterMessage(ctx, id)
				require.NoError(t, err)
				assert.Equal(t, registry.SendStateUnsent, m.SendState, "row %d is left", id)
				assert.Empty(t, m.Remark)
				assert.Zero(t, m.Attempts)
				assert.Empty(t, m.ClaimToken)
			}
			m, err := ms.GetCenterMessage(ctx, tab)
			require.NoError(t, err)
			require.NotNil(t, m.NextAttemptAt)
			assert.True(t, m.NextAttemptAt.After(clk.Now()), "put off, so that the pass does not claim it again")
			m, err = ms.GetCenterMessage(ctx, fax)
			require.NoError(t, err)
			assert.Equal(t, registry.SendStateFailed, m.SendState, "a mode neither delivered nor left fails")
			assert.Contains(t, m.Remark, `no notifier for notify_mode "fax"`)
			m, err = ms.GetCenterMessage(ctx, pushed)
			require.NoError(t, err)
			assert.Equal(t, registry.SendStateSent, m.SendState)
		})
	}
}

// ignoresSkipModes is a Store that claims every mode, whatever
// ClaimParams.SkipModes says.
type ignoresSkipModes struct{ registry.Store }

func (s ignoresSkipModes) ClaimCenterMessages(ctx context.Context, p registry.ClaimParams) ([]registry.CenterMessage, error) {
	p.SkipModes = nil
	return s.Store.ClaimCenterMessages(ctx, p)
}

// A Notifier that panics fails its row for good, with the panic as the
// reason; the panic does not reach the host (it would end the process,
// and the next instance's after the lease), and the other rows go on.
func TestNotifierThatPanicsFailsItsRow(t *testing.T) {
	ctx := context.Background()
	notifier := messagecenter.NotifierFunc(func(_ context.Context, m registry.CenterMessage, rcv []string) (string, error) {
		if m.Title == "boom" {
			panic("sms gateway https://sms.example.com/send?apikey=SMS-SECRET: client is nil") // a host's bug
		}
		return "sms#" + rcv[0], nil
	})
	var logs syncbuf.Buffer
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": notifier}
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
		inner := c.OnResult
		c.OnResult = func(r messagecenter.Result) {
			inner(r)
			panic("a host's metrics bug") // logged, goes no further
		}
	})
	boom := e.enqueue(t, registry.CenterMessage{Title: "boom", Content: "c", NotifyMode: "sms", Receivers: "138"})
	ok := e.enqueue(t, registry.CenterMessage{Title: "ok", Content: "c", NotifyMode: "sms", Receivers: "139"})

	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 2, Sent: 1, Failed: 1}, rep)
	b := e.row(t, boom)
	assert.Equal(t, registry.SendStateFailed, b.SendState)
	assert.Contains(t, b.Remark, "notifier panicked (string), its outcome unknown")
	assert.NotContains(t, b.Remark, "SMS-SECRET", "the panic's value stays out of the row")
	assert.Contains(t, logs.String(), "client is nil", "it is logged")
	assert.Contains(t, logs.String(), "OnResult panicked")
	assert.Empty(t, b.ClaimToken, "released, not left claimed")
	assert.Equal(t, "sms#139", e.row(t, ok).SendResult)
}

func TestSplitReceivers(t *testing.T) {
	for in, want := range map[string][]string{
		"u1,u2":              {"u1", "u2"},
		"u1，u2；u3;u4|u5、u6":  {"u1", "u2", "u3", "u4", "u5", "u6"},
		" u1 \n u2\tu1 ":     {"u1", "u2"},
		`["u1","u 2"]`:       {"u1", "u 2"},
		`[1001, 1002]`:       {"1001", "1002"},
		`[1001, "u2", null]`: {"1001", "u2"},
		`[true, {}]`:         {},
		"":                   {},
		"x' OR '1'='1":       {"x'", "OR", "'1'='1"},
	} {
		got := messagecenter.SplitReceivers(in)
		if len(want) == 0 {
			assert.Empty(t, got, in)
			continue
		}
		assert.Equal(t, want, got, in)
	}
}

// TestRowWhoseLeaseRanOutIsLeftAlone: a row whose lease ran out while it
// waited for its turn, or ends at the very instant its turn comes (the
// store lets another instance claim it then), is not touched: not
// handled, not released, its attempt not refunded, its claim left for
// another to take. The next pass claims and sends it.
func TestRowWhoseLeaseRanOutIsLeftAlone(t *testing.T) {
	for _, tc := range []struct {
		name string
		slow time.Duration // the first row's call, against a 5-minute lease
	}{
		{"ran out", 6 * time.Minute},
		{"ends exactly now", 5 * time.Minute},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var e *env
			var seen []string
			slow := messagecenter.NotifierFunc(func(ctx context.Context, m registry.CenterMessage, rcv []string) (string, error) {
				seen = append(seen, m.Title)
				if m.Title == "slow" {
					e.clk.Advance(tc.slow)
				}
				return "ok", nil
			})
			e = newEnv(t, nil, nil, func(c *messagecenter.Config) {
				c.Notifiers = map[string]messagecenter.Notifier{"sms": slow}
				c.Concurrency = 1
				c.Lease = 5 * time.Minute
			})
			e.enqueue(t, registry.CenterMessage{Title: "slow", Content: "c", NotifyMode: "sms", Receivers: "138"})
			next := e.enqueue(t, registry.CenterMessage{Title: "next", Content: "c", NotifyMode: "sms", Receivers: "139"})
			rep, err := e.scanner.RunOnce(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, rep.Sent)
			assert.Equal(t, 1, rep.Lost, "the second row's lease ended during the first: not touched")
			assert.Zero(t, rep.Released, "a row whose lease has ended is not given back: it may be another instance's")
			assert.Equal(t, []string{"slow"}, seen)
			row := e.row(t, next)
			assert.Equal(t, registry.SendStateUnsent, row.SendState)
			assert.Equal(t, 1, row.Attempts, "nothing written: the claim's attempt stays")
			assert.NotEmpty(t, row.ClaimToken, "nothing written: the claim stays until another takes it")

			rep, err = e.scanner.RunOnce(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, rep.Sent, "claimable again once its lease expired")
			assert.Equal(t, []string{"slow", "next"}, seen)
		})
	}
}

// TestRowNearTheEndOfItsLeaseIsGivenBack: a notifier row whose turn comes
// when its claim has no more than NotifyTimeout (1 minute here) and room
// to record the outcome (10 s) left is not sent: its call could outlast
// the claim, and another instance would claim and send it again
// meanwhile. It is given back untried, and sent once by the next claim. A
// row with more left is sent at once.
func TestRowNearTheEndOfItsLeaseIsGivenBack(t *testing.T) {
	for _, tc := range []struct {
		left     time.Duration // of the second row's lease when its turn comes
		released bool
	}{
		{time.Second, true},
		{65 * time.Second, true}, // inside NotifyTimeout + the margin
		{70 * time.Second, true}, // exactly NotifyTimeout + the margin: no room to spare
		{75 * time.Second, false},
	} {
		t.Run(tc.left.String(), func(t *testing.T) {
			var e *env
			var other *messagecenter.Scanner
			var mu sync.Mutex
			notified := map[string]int{}
			sms := messagecenter.NotifierFunc(func(ctx context.Context, m registry.CenterMessage, rcv []string) (string, error) {
				mu.Lock()
				notified[m.Title]++
				n := notified[m.Title]
				mu.Unlock()
				switch {
				case m.Title == "slow":
					e.clk.Advance(5*time.Minute - tc.left)
				case m.Title == "next" && n == 1 && tc.released:
					// While this call is made, its claim runs out and
					// another instance makes a pass.
					e.clk.Advance(tc.left + time.Second)
					_, err := other.RunOnce(context.Background())
					require.NoError(t, err)
				}
				return "ok", nil
			})
			mod := func(c *messagecenter.Config) {
				c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
				c.Concurrency = 1
				c.Lease = 5 * time.Minute
				c.NotifyTimeout = time.Minute
			}
			e = newEnv(t, nil, nil, mod)
			cfg := messagecenter.Config{Service: e.svc, BatchSize: 10}
			mod(&cfg)
			var err error
			other, err = messagecenter.New(cfg)
			require.NoError(t, err)
			e.enqueue(t, registry.CenterMessage{Title: "slow", Content: "c", NotifyMode: "sms", Receivers: "138"})
			next := e.enqueue(t, registry.CenterMessage{Title: "next", Content: "c", NotifyMode: "sms", Receivers: "139"})

			rep, err := e.scanner.RunOnce(context.Background())
			require.NoError(t, err)
			if !tc.released {
				assert.Equal(t, messagecenter.Report{Claimed: 2, Sent: 2}, rep)
				assert.Equal(t, map[string]int{"slow": 1, "next": 1}, notified)
				return
			}
			assert.Equal(t, messagecenter.Report{Claimed: 2, Sent: 1, Released: 1}, rep)
			row := e.row(t, next)
			assert.Equal(t, registry.SendStateUnsent, row.SendState)
			assert.Zero(t, row.Attempts, "given back without spending an attempt")
			assert.Empty(t, row.ClaimToken)

			rep, err = other.RunOnce(context.Background())
			require.NoError(t, err)
			assert.Equal(t, 1, rep.Sent, "claimed afresh at once")
			assert.Equal(t, map[string]int{"slow": 1, "next": 1}, notified, "each row notified once")
			assert.Equal(t, registry.SendStateSent, e.row(t, next).SendState)
		})
	}
}

func TestCenterExtraKeptAsWritten(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil, nil)
	e.register(t, "u1", "d1", "android", "atok")
	// 250 characters that re-encoding would lengthen (numbers quoted, & escaped).
	prefix := `{"id":42,"url":"https://m.example.com/p?a=1&b=2&c=3&d=4`
	extra := prefix + strings.Repeat("x", 250-len(prefix)-2) + `"}`
	require.Len(t, extra, 250)
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1", Extra: extra})
	_, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	row := e.row(t, id)
	require.Equal(t, registry.SendStateSent, row.SendState, row.Remark)
	var pmID int64
	_, err = fmt.Sscanf(row.SendResult, "push_message#%d", &pmID)
	require.NoError(t, err)
	pm, err := e.store.GetPushMessage(ctx, pmID)
	require.NoError(t, err)
	assert.Equal(t, extra, pm.Extra)
	assert.Equal(t, "42", e.mock.Requests()[0].Notification.Extras["id"])
}

func TestDedupeKeyTellsReusedIDsApart(t *testing.T) {
	a := registry.CenterMessage{ID: 1, Title: "t", Content: "c", Receivers: "u1", CreatedAt: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	assert.Regexp(t, `^message_center#1@20260102030405#[0-9a-f]{16}$`, messagecenter.DedupeKey(&a))
	same := a
	same.NotifyMode, same.NotifyLevel, same.Attempts, same.Remark = "PUSH", 3, 2, "retried"
	assert.Equal(t, messagecenter.DedupeKey(&a), messagecenter.DedupeKey(&same), "the same row handled again")
	for name, edit := range map[string]func(*registry.CenterMessage){
		"created_at": func(m *registry.CenterMessage) { m.CreatedAt = time.Date(2026, 11, 28, 9, 0, 0, 0, time.UTC) },
		"title":      func(m *registry.CenterMessage) { m.Title = "t2" },
		"content":    func(m *registry.CenterMessage) { m.Content = "c2" },
		"receivers":  func(m *registry.CenterMessage) { m.Receivers = "u2" },
		"extra":      func(m *registry.CenterMessage) { m.Extra = `{"k":"v"}` },
		"class":      func(m *registry.CenterMessage) { m.Class = "service" },
		"field edge": func(m *registry.CenterMessage) { m.Title, m.Content = "tc", "" },
	} {
		b := a
		edit(&b)
		assert.NotEqual(t, messagecenter.DedupeKey(&a), messagecenter.DedupeKey(&b),
			"a row that reuses the id (%s differs) is not mistaken for the old one", name)
	}
	zero := registry.CenterMessage{ID: 7, Title: "first message", Content: "c", Receivers: "u1"}
	next := zero
	next.Title = "SECOND message"
	assert.NotEqual(t, messagecenter.DedupeKey(&zero), messagecenter.DedupeKey(&next),
		"created_at a zero date on every row: the content tells them apart")
}

func TestNotifierResultIsStoredSafely(t *testing.T) {
	gbk := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
		return "\xb3\xc9\xb9\xa6", nil // "成功" in GBK, as some SMS gateways answer
	})
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) { c.Notifiers = map[string]messagecenter.Notifier{"sms": gbk} })
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"})
	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent, "recorded once, not lost and re-sent")
	row := e.row(t, id)
	assert.Equal(t, registry.SendStateSent, row.SendState)
	assert.True(t, utf8.ValidString(row.SendResult))
}

// pushID reads the push message id of a send_result "push_message#<id>".
func pushID(t *testing.T, sendResult string) int64 {
	t.Helper()
	var id int64
	_, err := fmt.Sscanf(sendResult, messagecenter.SendResultPrefix+"%d", &id)
	require.NoError(t, err, sendResult)
	return id
}

// TestRowsOfABatchAreHandledConcurrently: Concurrency rows are in their
// notifier at once, and no more.
func TestRowsOfABatchAreHandledConcurrently(t *testing.T) {
	const conc = 4
	var mu sync.Mutex
	inFlight, most := 0, 0
	all := make(chan struct{})
	var once sync.Once
	notifier := messagecenter.NotifierFunc(func(ctx context.Context, m registry.CenterMessage, rcv []string) (string, error) {
		mu.Lock()
		inFlight++
		most = max(most, inFlight)
		if inFlight == conc {
			once.Do(func() { close(all) })
		}
		mu.Unlock()
		select { // wait until conc rows are in flight together
		case <-all:
		case <-time.After(5 * time.Second):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		return "ok", nil
	})
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": notifier}
		c.Concurrency = conc
	})
	for i := range 10 {
		e.enqueue(t, registry.CenterMessage{Title: fmt.Sprint(i), Content: "c", NotifyMode: "sms", Receivers: "138"})
	}
	rep, err := e.scanner.RunOnce(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 10, rep.Sent)
	assert.Equal(t, conc, most, "at most Concurrency rows at once, and that many")
}

// TestPushRowsCarryTheirClass: a push row's push_class reaches the
// provider as the Notification's class; an unknown class fails the row
// alone, with the reason in remark.
func TestPushRowsCarryTheirClass(t *testing.T) {
	e := newEnv(t, nil, nil, nil)
	e.register(t, "u1", "d1", "android", "atok")
	marketing := e.enqueue(t, registry.CenterMessage{Title: "sale", Content: "c", NotifyMode: "push", Receivers: "u1", Class: "marketing"})
	bogus := e.enqueue(t, registry.CenterMessage{Title: "bogus", Content: "c", NotifyMode: "push", Receivers: "u1", Class: "urgent"})
	// Matched without case or surrounding spaces, as notify_mode is.
	service := e.enqueue(t, registry.CenterMessage{Title: "order", Content: "c", NotifyMode: "push", Receivers: "u1", Class: " Service "})
	rep, err := e.scanner.RunOnce(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Sent)
	assert.Equal(t, 1, rep.Failed)
	assert.Equal(t, registry.SendStateSent, e.row(t, marketing).SendState)
	assert.Equal(t, registry.SendStateSent, e.row(t, service).SendState)
	failed := e.row(t, bogus)
	assert.Equal(t, registry.SendStateFailed, failed.SendState)
	assert.Contains(t, failed.Remark, "class")
	classes := map[string]provider.Class{}
	for _, r := range e.mock.Requests() {
		classes[r.Notification.Title] = r.Notification.Class
	}
	assert.Equal(t, map[string]provider.Class{"sale": provider.ClassMarketing, "order": provider.ClassService}, classes)
}

// Other programs write notify_mode as they like: "PUSH", " Email ". The
// brief's own SQL (notify_mode = 'push') matches those on MySQL's default
// collations, so the Scanner does too, in rows and in Config keys.
func TestModesIgnoreCaseAndSpaces(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var emailed []string
	email := messagecenter.NotifierFunc(func(_ context.Context, m registry.CenterMessage, rcv []string) (string, error) {
		mu.Lock()
		emailed = append(emailed, m.Title)
		mu.Unlock()
		return "mail#" + rcv[0], nil
	})
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{" Email ": email}
	})
	e.register(t, "u1", "d1", "ios", "itok")
	var ids []int64
	for _, mode := range []string{"PUSH", " Push\t", "EMAIL", "email "} {
		ids = append(ids, e.enqueue(t, registry.CenterMessage{Title: "t" + mode, Content: "c", NotifyMode: mode, Receivers: "u1"}))
	}
	fax := e.enqueue(t, registry.CenterMessage{Title: "fax", Content: "c", NotifyMode: "FAX", Receivers: "u1"})

	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 5, Sent: 4, Failed: 1}, rep)
	for _, id := range ids {
		row := e.row(t, id)
		assert.Equal(t, registry.SendStateSent, row.SendState, "row %d (%q): %s", id, row.NotifyMode, row.Remark)
	}
	assert.Regexp(t, `^push_message#\d+$`, e.row(t, ids[0]).SendResult)
	assert.Equal(t, "mail#u1", e.row(t, ids[2]).SendResult)
	assert.Len(t, e.mock.Requests(), 2, "the two push rows were pushed")
	assert.ElementsMatch(t, []string{"tEMAIL", "temail "}, emailed)
	assert.Contains(t, e.row(t, fax).Remark, `no notifier for notify_mode "FAX"`)

	n := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) { return "", nil })
	for _, keys := range [][]string{{"sms", "SMS"}, {"sms", " sms"}, {"PUSH"}, {" "}} {
		cfg := messagecenter.Config{Service: e.svc, Notifiers: map[string]messagecenter.Notifier{}}
		for _, k := range keys {
			cfg.Notifiers[k] = n
		}
		_, err := messagecenter.New(cfg)
		var fe *messagecenter.FieldError
		require.ErrorAs(t, err, &fe, "keys %q", keys)
		assert.Equal(t, "notifiers", fe.Field, "keys %q", keys)
	}
}

// TestABacklogDoesNotHoldBackRetries: a pass stops claiming center rows
// once it has run for Interval, so a backlog behind a slow notifier does
// not hold back the retry of a failed push for longer than that; the rest
// of the backlog is the next passes'.
func TestABacklogDoesNotHoldBackRetries(t *testing.T) {
	ctx := context.Background()
	slow := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
		time.Sleep(5 * time.Millisecond)
		return "ok", nil
	})
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": slow}
		c.Interval = 50 * time.Millisecond
		c.Concurrency = 1
	})
	e.register(t, "u1", "d1", "android", "atok")
	e.mock.FailNext(1, e.mock.Err(provider.Temporary, "503"))
	res, err := e.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Pending())
	const rows = 200
	for i := range rows {
		e.enqueue(t, registry.CenterMessage{Title: fmt.Sprint("t", i), Content: "c", NotifyMode: "sms", Receivers: "138"})
	}
	e.clk.Advance(time.Hour) // the retry is due

	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Retried, "the retry went out in the first pass")
	assert.Less(t, rep.Sent, rows, "the backlog was left to the next passes")
	sent := rep.Sent
	for sent < rows {
		rep, err = e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		require.Positive(t, rep.Sent)
		sent += rep.Sent
	}
	assert.Equal(t, rows, sent)
}

// TestARateLimitedRowWaitsAsTheNotifierSays: a rate refusal with a
// Retry-After shorter than RateLimitDelay is tried again after it, not
// after RateLimitDelay, and spends no attempt.
func TestARateLimitedRowWaitsAsTheNotifierSays(t *testing.T) {
	sms := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
		return "", &provider.Error{Kind: provider.RateLimited, RetryAfter: 5 * time.Second}
	})
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) { c.Notifiers = map[string]messagecenter.Notifier{"sms": sms} })
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"})
	_, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	row := e.row(t, id)
	require.NotNil(t, row.NextAttemptAt)
	assert.Equal(t, e.clk.Now().Add(5*time.Second), *row.NextAttemptAt)
	assert.Zero(t, row.Attempts)
}

// TestATinyIntervalStillDoesWork: each phase of a pass does one round
// before its bound applies, so the shortest Interval, shorter than a
// round may take, still sends due rows, retries and polls instead of
// passing idle.
func TestATinyIntervalStillDoesWork(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) { c.Interval = messagecenter.MinInterval })
	e.register(t, "u1", "d1", "android", "atok")
	e.mock.FailNext(1, e.mock.Err(provider.Temporary, "503"))
	_, err := e.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})
	e.clk.Advance(time.Hour)
	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	assert.Equal(t, 1, rep.Retried)
}

// TestPassCountsReceiptsThatCameEarly: a receipt posted while its push row's
// send was in flight (no delivery had its msg id yet) is held, and the
// Scanner's next pass counts it on the push.
func TestPassCountsReceiptsThatCameEarly(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t, nil, nil, nil)
	e.register(t, "u1", "d1", "android", "atok")
	e.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		err := e.svc.RecordReport(ctx, provider.Report{Provider: "umeng", MsgID: "early", Token: "atok", Event: provider.EventArrived})
		return &provider.Receipt{ID: "early"}, err
	})
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})
	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	assert.Equal(t, 1, rep.Adopted, "the pass after the sends counts the held receipt")
	st, err := e.svc.PushStatus(ctx, pushID(t, e.row(t, id).SendResult))
	require.NoError(t, err)
	assert.Equal(t, registry.ReceiptCounts{Arrived: 1}, st.Receipts.Android)
	rep, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, rep.Adopted)
}

// TestShortLeaseWarns: a Lease that leaves a notifier's outcome no room
// for a retry is allowed but logged once by New; the defaults are not.
func TestShortLeaseWarns(t *testing.T) {
	n := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) { return "", nil })
	for _, tt := range []struct {
		name      string
		lease, to time.Duration
		notifiers map[string]messagecenter.Notifier
		warns     bool
	}{
		{"defaults", 0, 0, map[string]messagecenter.Notifier{"sms": n}, false},
		{"short", 3 * time.Minute, 2*time.Minute + 50*time.Second, map[string]messagecenter.Notifier{"sms": n}, true},
		{"short without notifiers", 3 * time.Minute, 2*time.Minute + 50*time.Second, nil, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			newEnv(t, nil, nil, func(c *messagecenter.Config) {
				c.Lease, c.NotifyTimeout, c.Notifiers = tt.lease, tt.to, tt.notifiers
				c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
			})
			assert.Equal(t, tt.warns, strings.Contains(logs.String(), "Lease is shorter than NotifyTimeout plus 20 s"), logs.String())
		})
	}
}

// TestConcurrentPassesOfOneScanner: RunOnce called on one Scanner while
// another of its passes runs claims rows of its own: every row is sent
// once (the race detector watches the Scanner's own state).
func TestConcurrentPassesOfOneScanner(t *testing.T) {
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) { c.BatchSize = 3 })
	e.register(t, "u1", "d1", "android", "atok")
	var ids []int64
	for i := range 40 {
		ids = append(ids, e.enqueue(t, registry.CenterMessage{Title: "t", Content: fmt.Sprint("c", i), NotifyMode: "push", Receivers: "u1"}))
	}
	var wg sync.WaitGroup
	reps := make([]messagecenter.Report, 4)
	for i := range reps {
		wg.Go(func() {
			var err error
			reps[i], err = e.scanner.RunOnce(t.Context())
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	sent := 0
	for _, r := range reps {
		sent += r.Sent
	}
	assert.Equal(t, len(ids), sent, "each row sent by one pass")
	for _, id := range ids {
		assert.Equal(t, registry.SendStateSent, e.row(t, id).SendState)
	}
	assert.Len(t, e.mock.Requests(), len(ids), "one vendor call a row")
}
