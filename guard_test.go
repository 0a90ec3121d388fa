package push_test

import (
	"bytes"
	"context"
	"log/slog"
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

// buggy is a Mock whose Send, while sendBug is set, and whose Status
// panic (panics) or answer nil and no error.
type buggy struct {
	*providertest.Mock
	mu      sync.Mutex
	panics  bool
	sendBug bool
	calls   int
}

func (b *buggy) Send(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
	b.mu.Lock()
	bug := b.sendBug
	b.mu.Unlock()
	if !bug {
		return b.Mock.Send(ctx, r)
	}
	if b.panics {
		panic("acme: cannot encode token " + r.Audience.Tokens[0])
	}
	return nil, nil
}

func (b *buggy) Status(context.Context, provider.Platform, string) (*provider.Status, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.calls++
	if b.panics {
		panic("status: index out of range [3] with length 3")
	}
	return nil, nil
}

// TestBuggyProviderFailsItsCallNotTheProcess: a provider's Send or Status
// that panics, or answers neither a result nor an error, runs in a
// goroutine of the Service's, where a panic would end the host's process.
// Each is an error of kind Unknown instead, logged with the panic: the
// delivery stays pending and is retried, and a poll is made again later.
func TestBuggyProviderFailsItsCallNotTheProcess(t *testing.T) {
	for _, bug := range []string{"panic", "nil answer"} {
		t.Run(bug, func(t *testing.T) {
			mock, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Pollable: []provider.AudienceKind{provider.AudienceTokens}})
			require.NoError(t, err)
			p := &buggy{Mock: mock, panics: bug == "panic", sendBug: true}
			st, err := memstore.New(memstore.Config{})
			require.NoError(t, err)
			now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
			var clock sync.Mutex
			var logs bytes.Buffer
			var logMu sync.Mutex
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{p}, PollInterval: time.Minute,
				Logger: slog.New(slog.NewTextHandler(lockedWriter{&logMu, &logs}, nil)),
				Retry:  push.RetryPolicy{Base: time.Minute, Jitter: -1, MaxAttempts: 5},
				Now:    func() time.Time { clock.Lock(); defer clock.Unlock(); return now }})
			require.NoError(t, err)
			advance := func(d time.Duration) { clock.Lock(); now = now.Add(d); clock.Unlock() }
			ctx := t.Context()
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "phone-1", Platform: "android", PushToken: "tok1"})
			require.NoError(t, err)

			res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.Equal(t, 1, res.Pending(), "retried later")
			// A panic may come after the vendor took the push: a lost
			// answer, retried with its key. No answer at all: unexplained.
			wantKind := provider.Unknown
			if bug == "panic" {
				wantKind = provider.Indeterminate
			}
			assert.Equal(t, wantKind, provider.KindOf(res.Deliveries[0].Err))
			ds, err := st.ListDeliveries(ctx, res.PushMessageID)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Equal(t, registry.DeliveryPending, ds[0].State)
			assert.Equal(t, wantKind.String(), ds[0].ErrorKind)
			assert.NotContains(t, ds[0].Response, "tok1", "the panic's text is not stored")

			p.mu.Lock()
			p.sendBug = false // fixed: the retry is accepted, with a pollable task id
			p.mu.Unlock()
			advance(2 * time.Minute)
			n, err := svc.RetryPending(ctx, 10)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			ds, err = st.ListDeliveries(ctx, res.PushMessageID)
			require.NoError(t, err)
			require.Equal(t, registry.DeliveryAccepted, ds[0].State)
			require.True(t, ds[0].Pollable)

			for range 2 {
				advance(2 * time.Minute)
				n, err = svc.PollReceipts(ctx, 10)
				require.NoError(t, err)
				require.Equal(t, 1, n)
			}
			p.mu.Lock()
			assert.Equal(t, 2, p.calls, "polled again after a buggy answer")
			p.mu.Unlock()
			ds, err = st.ListDeliveries(ctx, res.PushMessageID)
			require.NoError(t, err)
			assert.Equal(t, registry.DeliveryAccepted, ds[0].State, "still polled")
			assert.Equal(t, "unknown", ds[0].ErrorKind)

			logMu.Lock()
			defer logMu.Unlock()
			if bug == "panic" {
				assert.Contains(t, logs.String(), "provider panicked")
				assert.Contains(t, logs.String(), "acme: cannot encode token")
				assert.Contains(t, logs.String(), "index out of range")
				assert.NotContains(t, logs.String(), "tok1", "the tokens are scrubbed from the log")
			}
		})
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// embedded decorates a store by embedding the interface, which hides the
// store's optional interfaces.
type embedded struct{ registry.Store }

// TestNewSaysWhichOptionalInterfacesTheStoreLacks: a decorator that
// embeds registry.Store runs without the store's optional interfaces; New
// says which, once, at info level.
func TestNewSaysWhichOptionalInterfacesTheStoreLacks(t *testing.T) {
	mock, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	for _, tc := range []struct {
		store registry.Store
		want  string
	}{
		{st, ""},
		{embedded{st}, `missing="[BacklogCounter CenterLeases DedupeKeyFinder Fanouts HeldReceiptCounter PushHolders ReceiptHolder RetryTokens TargetCensus]"`},
	} {
		var logs bytes.Buffer
		_, err = push.New(push.Config{Store: tc.store, Providers: []provider.Provider{mock}, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
		require.NoError(t, err)
		if tc.want == "" {
			assert.NotContains(t, logs.String(), "lacks optional interfaces", "memstore has them all")
		} else {
			assert.Contains(t, logs.String(), "level=INFO msg=\"the store lacks optional interfaces")
			assert.Contains(t, logs.String(), tc.want)
		}
	}
}
