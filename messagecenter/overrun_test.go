package messagecenter_test

import (
	"context"
	"log/slog"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
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
		time.Sleep(200 * time.Millisecond)
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
