package messagecenter_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/internal/testlog"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// unmigrated is a store whose claims fail as on a database whose tables
// were never migrated.
type unmigrated struct{ registry.Store }

func (unmigrated) ClaimCenterMessages(context.Context, registry.ClaimParams) ([]registry.CenterMessage, error) {
	return nil, errors.New(`relation "sys_message_center" does not exist`)
}

// TestAFailedPassReachesTheDefaultLogger: with no Logger set, a pass that
// fails (Run goes on, and returns nil) is logged to slog.Default() at
// error level, as are the Scanner's own warnings (New's), while the lines
// of the rows handled, sent (info) or failed (warn), are not: before, the
// default discarded everything, and a host that forgot Migrate saw
// nothing at all.
func TestAFailedPassReachesTheDefaultLogger(t *testing.T) {
	var global syncbuf.Buffer
	testlog.SetDefault(t, slog.New(slog.NewTextHandler(&global, nil)))

	e := newEnv(t, nil, nil, nil)
	broken, err := messagecenter.New(messagecenter.Config{Service: e.svc, Store: unmigrated{e.store}, Interval: time.Millisecond})
	require.NoError(t, err)
	runUntilLogged(t, broken, &global)
	assert.Contains(t, global.String(), `level=ERROR msg="message center pass failed"`)
	assert.Contains(t, global.String(), `relation \"sys_message_center\" does not exist`)

	// A row handled is an info line: not on the default logger.
	ok, err := messagecenter.New(messagecenter.Config{Service: e.svc})
	require.NoError(t, err)
	e.register(t, "u1", "d1", "ios", "tok-1")
	e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})
	e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "nobody"})
	before := global.String()
	rep, err := ok.RunOnce(t.Context())
	require.NoError(t, err)
	require.Equal(t, messagecenter.Report{Claimed: 2, Sent: 1, Failed: 1}, rep)
	assert.Equal(t, before, global.String(), "rows handled stay off the default logger, failed ones too")

	// The Scanner's own warnings reach it: here New's, of a lease too
	// short for a notifier's outcome to be written again.
	sms := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) { return "ok", nil })
	_, err = messagecenter.New(messagecenter.Config{Service: e.svc, Notifiers: map[string]messagecenter.Notifier{"sms": sms},
		Lease: 2 * time.Minute, NotifyTimeout: time.Minute + 50*time.Second})
	require.NoError(t, err)
	assert.Contains(t, global.String(), `level=WARN msg="messagecenter: Lease is shorter than NotifyTimeout plus 20 s`)

	// The default logger of the moment: one set after New is followed.
	var later syncbuf.Buffer
	slog.SetDefault(slog.New(slog.NewTextHandler(&later, nil)))
	runUntilLogged(t, broken, &later)
	assert.Contains(t, later.String(), "message center pass failed")
}

// runUntilLogged runs s until buf holds a line, then stops it.
func runUntilLogged(t *testing.T, s *messagecenter.Scanner, buf *syncbuf.Buffer) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	require.Eventually(t, func() bool { return len(buf.String()) > 0 }, 5*time.Second, time.Millisecond)
	cancel()
	require.NoError(t, <-done, "Run returns nil for a failed pass")
}

// TestDefaultLeaseCoversTheServicesDrain: with no Lease set, a Service
// whose provider declares a long send timeout gets a lease longer than
// its DrainTimeout; before, the fixed 5 minutes refused itself in New
// ("lease: 5m0s must be longer than …"), for a field the host never set.
func TestDefaultLeaseCoversTheServicesDrain(t *testing.T) {
	caps := providertest.DefaultCapabilities()
	caps.SendTimeout = 6 * time.Minute
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng",
		Capabilities: map[provider.Platform]provider.Capabilities{provider.IOS: caps, provider.Android: caps}})
	require.NoError(t, err)
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}})
	require.NoError(t, err)
	require.Greater(t, svc.DrainTimeout(), 6*time.Minute)

	_, err = messagecenter.New(messagecenter.Config{Service: svc})
	require.NoError(t, err, "the default lease fits the Service")
	_, err = messagecenter.New(messagecenter.Config{Service: svc, Lease: 5 * time.Minute})
	assert.ErrorContains(t, err, "lease: 5m0s must be longer than", "a lease set too short is still refused")

	// The default is taken: a row claimed is leased for twice the drain.
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	slow := make(chan struct{})
	entered := make(chan struct{})
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, Now: func() time.Time { return now },
		Notifiers: map[string]messagecenter.Notifier{"sms": messagecenter.NotifierFunc(
			func(context.Context, registry.CenterMessage, []string) (string, error) {
				close(entered)
				<-slow
				return "ok", nil
			})}})
	require.NoError(t, err)
	row := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "13800000000"}
	require.NoError(t, st.EnqueueCenterMessage(t.Context(), row))
	done := make(chan struct{})
	go func() { defer close(done); _, _ = sc.RunOnce(t.Context()) }()
	<-entered
	got, err := st.GetCenterMessage(t.Context(), row.ID)
	require.NoError(t, err)
	require.NotNil(t, got.LeaseUntil)
	assert.Equal(t, now.Add(2*svc.DrainTimeout()), got.LeaseUntil.UTC())
	close(slow)
	<-done
}
