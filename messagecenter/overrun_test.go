package messagecenter_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// A Notifier that ignores its ctx and runs on past NotifyTimeout keeps its
// row: the Scanner that called it renews the row's lease while it waits,
// so that another instance's Scanner, once the first lease has run out,
// claims nothing and does not call the Notifier again. The overrun is
// logged, and the row ends sent, once.
func TestOverrunningNotifierKeepsItsRow(t *testing.T) {
	t.Run("memstore", func(t *testing.T) { testOverrunKeepsItsRow(t, nil) })
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			testOverrunKeepsItsRow(t, dbtest.NewStore(t, d))
		})
	}
}

func testOverrunKeepsItsRow(t *testing.T, store registry.Store) {
	const lease = 2 * time.Minute
	var calls atomic.Int32
	entered, release := make(chan struct{}), make(chan struct{})
	slow := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
		if calls.Add(1) == 1 {
			close(entered)
		}
		<-release // ignores its ctx, as net/smtp.SendMail does
		return "mail#1", nil
	})
	var logs syncbuf.Buffer
	cfg := func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"email": slow}
		c.Lease, c.NotifyTimeout = lease, 50*time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	}
	a := newEnv(t, store, nil, cfg)
	b := newEnv(t, a.store, a.clk, cfg) // another instance on the same store
	id := a.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "email", Receivers: "a@example.com"})

	done := make(chan messagecenter.Report, 1)
	go func() {
		rep, err := a.scanner.RunOnce(context.Background())
		assert.NoError(t, err)
		done <- rep
	}()
	<-entered
	claimed := a.row(t, id).LeaseUntil
	require.NotNil(t, claimed)
	// Near the end of the first lease, the Scanner renews it from the
	// clock's time.
	a.clk.Advance(lease - time.Second)
	require.Eventually(t, func() bool {
		l := a.row(t, id).LeaseUntil
		return l != nil && l.After(*claimed)
	}, 5*time.Second, 10*time.Millisecond, "the overrunning call's row is renewed")
	a.clk.Advance(lease - time.Second) // past the first lease, within the renewed one

	rep, err := b.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed, "the other instance claims nothing")
	close(release)
	assert.Equal(t, messagecenter.Report{Claimed: 1, Sent: 1}, <-done)
	assert.Equal(t, int32(1), calls.Load(), "the notifier was called once")
	row := a.row(t, id)
	assert.Equal(t, registry.SendStateSent, row.SendState)
	assert.Equal(t, 1, row.Attempts)
	assert.Contains(t, logs.String(), "notifier overran its NotifyTimeout")
}

// A store without registry.CenterLeases cannot keep the row of an
// overrunning Notifier: the Scanner still waits for the call, and says in
// its log that another instance may call the Notifier again.
func TestOverrunWithoutCenterLeasesIsLogged(t *testing.T) {
	release := make(chan struct{})
	slow := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
		<-release
		return "sms#1", nil
	})
	var logs syncbuf.Buffer
	e := newEnv(t, nil, nil, nil)
	plain := struct{ registry.Store }{e.store} // without its optional interfaces
	e = newEnv(t, plain, e.clk, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": slow}
		c.NotifyTimeout = 20 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"})
	go func() {
		time.Sleep(1300 * time.Millisecond) // past NotifyTimeout and the second of grace
		close(release)
	}()
	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 1, Sent: 1}, rep)
	assert.Equal(t, registry.SendStateSent, e.row(t, id).SendState)
	assert.Contains(t, logs.String(), "cannot renew a center row's lease")
}

// A Notifier that ends its goroutine with runtime.Goexit fails its row
// for good, as a panic does, instead of leaving it claimed, uncounted and
// unreported; the other rows go on.
func TestNotifierThatCallsGoexitFailsItsRow(t *testing.T) {
	notifier := messagecenter.NotifierFunc(func(_ context.Context, m registry.CenterMessage, rcv []string) (string, error) {
		if m.Title == "exit" {
			runtime.Goexit() // t.FailNow in a host's helper, say
		}
		return "sms#" + rcv[0], nil
	})
	var logs syncbuf.Buffer
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": notifier}
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	exit := e.enqueue(t, registry.CenterMessage{Title: "exit", Content: "c", NotifyMode: "sms", Receivers: "138"})
	ok := e.enqueue(t, registry.CenterMessage{Title: "ok", Content: "c", NotifyMode: "sms", Receivers: "139"})

	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 2, Sent: 1, Failed: 1}, rep)
	x := e.row(t, exit)
	assert.Equal(t, registry.SendStateFailed, x.SendState)
	assert.Contains(t, x.Remark, "runtime.Goexit")
	assert.Empty(t, x.ClaimToken, "released, not left claimed")
	assert.Contains(t, logs.String(), "notifier called runtime.Goexit")
	assert.Equal(t, "sms#139", e.row(t, ok).SendResult)
	e.mu.Lock()
	assert.Len(t, e.results, 2, "OnResult heard of both rows")
	e.mu.Unlock()
}

// A Notifier that honours its ctx returns at its NotifyTimeout: that is
// no overrun, and costs no renewal and no warning.
func TestNotifierReturningAtItsDeadlineIsNoOverrun(t *testing.T) {
	atDeadline := messagecenter.NotifierFunc(func(ctx context.Context, _ registry.CenterMessage, _ []string) (string, error) {
		<-ctx.Done()
		return "", ctx.Err()
	})
	var logs syncbuf.Buffer
	e := newEnv(t, nil, nil, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": atDeadline}
		c.NotifyTimeout = 20 * time.Millisecond
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	for range 5 {
		e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"})
	}
	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 5, Rescheduled: 5}, rep)
	assert.NotContains(t, logs.String(), "overran")
}

// A Notifier still running a Lease after its NotifyTimeout is given up
// on: the pass ends (a Run's drain with it), the row is left claimed to
// run out its lease (OutcomeLost, nothing written), and the renewals stop.
func TestNotifierRunningOnIsGivenUpOn(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, svc := shortTimeoutService(t, clk.Now)
	hang := make(chan struct{})
	defer close(hang)
	var calls atomic.Int32
	var logs syncbuf.Buffer
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, Lease: time.Second, NotifyTimeout: 50 * time.Millisecond,
		Notifiers: map[string]messagecenter.Notifier{"email": messagecenter.NotifierFunc(
			func(context.Context, registry.CenterMessage, []string) (string, error) {
				calls.Add(1)
				<-hang
				return "mail#1", nil
			})},
		Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	row := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "email", Receivers: "a@example.com"}
	require.NoError(t, ms.EnqueueCenterMessage(context.Background(), &row))

	rep, err := sc.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 1, Lost: 1}, rep)
	assert.Contains(t, logs.String(), "given up on")
	got, err := ms.GetCenterMessage(context.Background(), row.ID)
	require.NoError(t, err)
	assert.Equal(t, registry.SendStateUnsent, got.SendState, "nothing written")
	assert.NotEmpty(t, got.ClaimToken, "left claimed, to run out its lease")
	lease := got.LeaseUntil
	time.Sleep(300 * time.Millisecond)
	got, err = ms.GetCenterMessage(context.Background(), row.ID)
	require.NoError(t, err)
	assert.Equal(t, lease, got.LeaseUntil, "no renewal after giving up")
	assert.Equal(t, int32(1), calls.Load())
}

// failingRenewals is a store whose renewals of a center row always fail.
type failingRenewals struct{ *memstore.Store }

func (failingRenewals) RenewCenterMessage(context.Context, *registry.CenterMessage, time.Time) error {
	return errors.New("database unavailable")
}

// Renewals that keep failing are tried on every tick but logged once
// until one succeeds, not once a tick.
func TestFailingRenewalsAreLoggedOnce(t *testing.T) {
	release := make(chan struct{})
	slow := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
		<-release
		return "sms#1", nil
	})
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	var logs syncbuf.Buffer
	e := newEnv(t, failingRenewals{ms}, clk, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": slow}
		c.NotifyTimeout = 20 * time.Millisecond // a renewal every 20 ms once it overruns
		c.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	})
	e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"})
	go func() {
		time.Sleep(1500 * time.Millisecond)
		close(release)
	}()
	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 1, Sent: 1}, rep)
	assert.Equal(t, 1, strings.Count(logs.String(), "renewing the lease of a row whose notifier overran failed"), logs.String())
}

// shortTimeoutService is a memstore and a Service on it with a Mock Umeng
// and send and write timeouts of 100 ms, so that a Scanner's Lease may be
// short; now is their clock (nil: the wall clock).
func shortTimeoutService(t *testing.T, now func() time.Time) (*memstore.Store, *push.Service) {
	t.Helper()
	ms, err := memstore.New(memstore.Config{Now: now})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: ms, Providers: []provider.Provider{m}, Now: now,
		SendTimeout: 100 * time.Millisecond, WriteTimeout: 100 * time.Millisecond})
	require.NoError(t, err)
	return ms, svc
}

// shortLeaseScanner is a Scanner on a memstore with a Lease of 300 ms and
// a NotifyTimeout of 20 ms, its Service's timeouts short enough for them.
func shortLeaseScanner(t *testing.T, clk *clock, wrap func(*memstore.Store) registry.Store, mod func(*messagecenter.Config)) (*memstore.Store, *messagecenter.Scanner) {
	t.Helper()
	ms, svc := shortTimeoutService(t, clk.Now)
	cfg := messagecenter.Config{Service: svc, Lease: 300 * time.Millisecond, NotifyTimeout: 20 * time.Millisecond,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if wrap != nil {
		cfg.Store = wrap(ms)
	}
	mod(&cfg)
	sc, err := messagecenter.New(cfg)
	require.NoError(t, err)
	return ms, sc
}

// A notifier that hangs on every try is called at most MaxAttempts times:
// the last try given up on fails the row, its remark saying why.
func TestGivenUpRowFailsAtMaxAttempts(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	hang := make(chan struct{})
	defer close(hang)
	var calls atomic.Int32
	ms, sc := shortLeaseScanner(t, clk, nil, func(c *messagecenter.Config) {
		c.MaxAttempts = 2
		c.Notifiers = map[string]messagecenter.Notifier{"email": messagecenter.NotifierFunc(
			func(context.Context, registry.CenterMessage, []string) (string, error) {
				calls.Add(1)
				<-hang
				return "mail#1", nil
			})}
	})
	row := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "email", Receivers: "a@example.com"}
	require.NoError(t, ms.EnqueueCenterMessage(context.Background(), &row))
	var total messagecenter.Report
	for range 4 {
		rep, err := sc.RunOnce(context.Background())
		require.NoError(t, err)
		total.Claimed, total.Lost, total.Failed = total.Claimed+rep.Claimed, total.Lost+rep.Lost, total.Failed+rep.Failed
		clk.Advance(time.Hour) // past the lease left behind
	}
	assert.Equal(t, int32(2), calls.Load(), "one call an attempt")
	assert.Equal(t, messagecenter.Report{Claimed: 2, Lost: 1, Failed: 1}, total)
	got, err := ms.GetCenterMessage(context.Background(), row.ID)
	require.NoError(t, err)
	assert.Equal(t, registry.SendStateFailed, got.SendState)
	assert.Contains(t, got.Remark, "gave up after 2 attempts")
	assert.Contains(t, got.Remark, "given up on")
}

// slowRenewals is a store whose renewals of a center row take d.
type slowRenewals struct {
	*memstore.Store
	d time.Duration
}

func (s slowRenewals) RenewCenterMessage(ctx context.Context, m *registry.CenterMessage, until time.Time) error {
	time.Sleep(s.d)
	return s.Store.RenewCenterMessage(ctx, m, until)
}

// A notifier that returns while a renewal runs past the give-up time is
// not given up on: its outcome is recorded.
func TestReturnedNotifierIsNotGivenUpOn(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	const rows = 8
	ms, sc := shortLeaseScanner(t, clk, func(ms *memstore.Store) registry.Store { return slowRenewals{ms, 450 * time.Millisecond} },
		func(c *messagecenter.Config) {
			c.Concurrency = rows
			c.Notifiers = map[string]messagecenter.Notifier{"sms": messagecenter.NotifierFunc(
				func(context.Context, registry.CenterMessage, []string) (string, error) {
					time.Sleep(190 * time.Millisecond) // past the deadline and grace; returns during the first renewal
					return "sms#1", nil
				})}
		})
	for range rows {
		r := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"}
		require.NoError(t, ms.EnqueueCenterMessage(context.Background(), &r))
	}
	rep, err := sc.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: rows, Sent: rows}, rep)
}

// firstRenewalFails is a store whose first renewal of a center row fails
// (a dropped connection); it records when each renewal was asked for.
type firstRenewalFails struct {
	*memstore.Store
	mu    sync.Mutex
	times []time.Time
}

func (s *firstRenewalFails) RenewCenterMessage(ctx context.Context, m *registry.CenterMessage, until time.Time) error {
	s.mu.Lock()
	s.times = append(s.times, time.Now())
	n := len(s.times)
	s.mu.Unlock()
	if n == 1 {
		return errors.New("driver: bad connection")
	}
	return s.Store.RenewCenterMessage(ctx, m, until)
}

// A renewal that failed is tried again within a second, not a quarter
// Lease (nor a NotifyTimeout) later: the row of a call that waited for
// its turn may have only seconds of lease left when it overruns.
func TestFailedRenewalIsRetriedSoon(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	st := &firstRenewalFails{Store: ms}
	release := make(chan struct{})
	e := newEnv(t, st, clk, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": messagecenter.NotifierFunc(
			func(context.Context, registry.CenterMessage, []string) (string, error) {
				<-release
				return "sms#1", nil
			})}
		c.Lease, c.NotifyTimeout = 2*time.Minute, 3*time.Second
		c.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	})
	e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"})
	done := make(chan messagecenter.Report, 1)
	go func() {
		rep, err := e.scanner.RunOnce(context.Background())
		assert.NoError(t, err)
		done <- rep
	}()
	require.Eventually(t, func() bool { st.mu.Lock(); defer st.mu.Unlock(); return len(st.times) >= 2 },
		10*time.Second, 10*time.Millisecond, "the failed renewal is tried again")
	close(release)
	assert.Equal(t, messagecenter.Report{Claimed: 1, Sent: 1}, <-done)
	st.mu.Lock()
	defer st.mu.Unlock()
	assert.Less(t, st.times[1].Sub(st.times[0]), 1500*time.Millisecond, "tried again within about a second")
}

// A row waiting for a place behind a notifier that hangs is given back
// untried, its attempt refunded, once its lease runs too low for a call:
// it is not left to run out its lease, which spent an attempt of a row
// never tried, so that it failed after fewer calls than MaxAttempts.
func TestRowsWaitingBehindAHungNotifierKeepTheirAttempts(t *testing.T) {
	ms, svc := shortTimeoutService(t, nil)
	hang := make(chan struct{})
	defer close(hang)
	var smsCalls atomic.Int32
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, Lease: 300 * time.Millisecond, NotifyTimeout: 20 * time.Millisecond,
		Concurrency: 1, MaxAttempts: 2, Retry: push.RetryPolicy{Base: time.Millisecond, Max: time.Millisecond, Jitter: -1},
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil)),
		Notifiers: map[string]messagecenter.Notifier{
			"email": messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
				<-hang
				return "mail#1", nil
			}),
			"sms": messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
				smsCalls.Add(1)
				return "", errors.New("vendor busy")
			}),
		}})
	require.NoError(t, err)
	email := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "email", Receivers: "a@example.com"}
	require.NoError(t, ms.EnqueueCenterMessage(context.Background(), &email))
	sms := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"}
	require.NoError(t, ms.EnqueueCenterMessage(context.Background(), &sms))
	var got registry.CenterMessage
	for range 20 {
		_, err := sc.RunOnce(context.Background())
		require.NoError(t, err)
		if got, err = ms.GetCenterMessage(context.Background(), sms.ID); err == nil && got.SendState != registry.SendStateUnsent {
			break
		}
		time.Sleep(350 * time.Millisecond) // past the leases left behind
	}
	require.NoError(t, err)
	assert.Equal(t, registry.SendStateFailed, got.SendState)
	assert.Equal(t, int32(2), smsCalls.Load(), "tried MaxAttempts times")
	assert.Contains(t, got.Remark, "gave up after 2 attempts: vendor busy")
}
