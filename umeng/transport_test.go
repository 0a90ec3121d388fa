package umeng

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// stallingServer reads each request in full, reports it on received, then
// holds the answer until the client gives up.
func stallingServer(t *testing.T) (srv *httptest.Server, received <-chan struct{}) {
	t.Helper()
	ch := make(chan struct{}, 8)
	srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		ch <- struct{}{}
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	return srv, ch
}

// requireClean asserts that err reveals neither a secret nor the sign.
func requireClean(t *testing.T, err error) {
	t.Helper()
	msg := err.Error()
	for _, s := range []string{androidSecret, iosSecret, "sign="} {
		assert.NotContains(t, msg, s)
	}
}

func TestWrittenRequestThatLosesItsAnswerIsIndeterminate(t *testing.T) {
	tests := []struct {
		name   string
		config func(*Config)
		ctx    func(received <-chan struct{}) context.Context
		cause  error
	}{
		{
			name:   "Config.Timeout",
			config: func(c *Config) { c.Timeout = 200 * time.Millisecond },
			ctx:    func(<-chan struct{}) context.Context { return context.Background() },
			cause:  context.DeadlineExceeded,
		},
		{
			name:   "caller cancels",
			config: func(*Config) {},
			ctx: func(received <-chan struct{}) context.Context {
				ctx, cancel := context.WithCancel(context.Background())
				t.Cleanup(cancel)
				go func() {
					<-received
					cancel()
				}()
				return ctx
			},
			cause: context.Canceled,
		},
		{
			name:   "http.Client timeout",
			config: func(c *Config) { c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond} },
			ctx:    func(<-chan struct{}) context.Context { return context.Background() },
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, received := stallingServer(t)
			cfg := Config{
				BaseURL: srv.URL,
				Android: App{AppKey: androidKey, AppMasterSecret: androidSecret},
				Now:     func() time.Time { return fixedNow },
			}
			tt.config(&cfg)
			c, err := New(cfg)
			require.NoError(t, err)

			_, err = c.Send(tt.ctx(received), unicast(provider.Android))
			pe := requireKind(t, err, provider.Indeterminate)
			assert.Equal(t, "request sent, answer lost", pe.Message)
			assert.Zero(t, pe.HTTPStatus)
			if tt.cause != nil {
				assert.ErrorIs(t, err, tt.cause)
			}
			requireClean(t, err)
		})
	}
}

func TestUnsentRequestIsTemporary(t *testing.T) {
	t.Run("context ended before the call", func(t *testing.T) {
		var hits atomic.Int32
		srv := httptest.NewServer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { hits.Add(1) }))
		t.Cleanup(srv.Close)
		c, err := New(Config{BaseURL: srv.URL, Android: App{AppKey: androidKey, AppMasterSecret: androidSecret}})
		require.NoError(t, err)

		ctx, cancel := context.WithCancel(context.Background())
		cancel()
		_, err = c.Send(ctx, unicast(provider.Android))
		pe := requireKind(t, err, provider.Temporary)
		assert.Equal(t, "request not sent", pe.Message)
		assert.ErrorIs(t, err, context.Canceled)
		assert.Zero(t, hits.Load())
	})

	t.Run("connection refused", func(t *testing.T) {
		srv := httptest.NewServer(http.NotFoundHandler())
		srv.Close()
		c, err := New(Config{BaseURL: srv.URL, Android: App{AppKey: androidKey, AppMasterSecret: androidSecret}})
		require.NoError(t, err)

		_, err = c.Send(context.Background(), unicast(provider.Android))
		requireKind(t, err, provider.Temporary)
		requireClean(t, err)
	})

	t.Run("transport error", func(t *testing.T) {
		h := newHarness(t)
		refused := errors.New("dial tcp: connection refused")
		h.mt.RegisterResponder(http.MethodPost, DefaultBaseURL+"/api/send", httpmock.NewErrorResponder(refused))

		_, err := h.client.Send(context.Background(), unicast(provider.Android))
		requireKind(t, err, provider.Temporary)
		assert.ErrorIs(t, err, refused)
		assert.Contains(t, err.Error(), DefaultBaseURL+"/api/send")
		requireClean(t, err)
	})

	t.Run("transport error quoting the sign", func(t *testing.T) {
		h := newHarness(t)
		errProxy := errors.New("proxy refused")
		h.mt.RegisterResponder(http.MethodPost, DefaultBaseURL+"/api/send", func(req *http.Request) (*http.Response, error) {
			return nil, fmt.Errorf("%w %s", errProxy, req.URL.Query().Get("sign"))
		})

		_, err := h.client.Send(context.Background(), unicast(provider.Android))
		requireKind(t, err, provider.Temporary)
		assert.Contains(t, err.Error(), "proxy refused REDACTED")
		assert.ErrorIs(t, err, errProxy, "the cause stays matchable")
		requireClean(t, err)
	})
}

func TestSecretsStayOutOfErrorsLogsAndReceipts(t *testing.T) {
	var logs bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	h := newHarness(t, func(c *Config) { c.Logger = logger })
	ctx := context.Background()

	// An answer that, against all expectation, echoes the secret.
	h.respond("/api/send", http.StatusOK, `{"ret":"SUCCESS","data":{"msg_id":"uu1","echo":"`+androidSecret+`"}}`)
	rc, err := h.client.Send(ctx, unicast(provider.Android))
	require.NoError(t, err)
	assert.NotContains(t, string(rc.Raw), androidSecret)
	assert.True(t, json.Valid(rc.Raw))

	h.respond("/api/status", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":"2027","error_msg":"sign `+androidSecret+`"}}`)
	_, err = h.client.Status(ctx, provider.Android, "us1")
	requireKind(t, err, provider.Auth)
	requireClean(t, err)

	h.mt.RegisterResponder(http.MethodPost, DefaultBaseURL+"/api/cancel", httpmock.NewErrorResponder(errors.New("reset")))
	err = h.client.Cancel(ctx, provider.Android, "us1")
	requireKind(t, err, provider.Temporary)
	requireClean(t, err)

	out := logs.String()
	assert.Contains(t, out, "umeng call succeeded")
	assert.Contains(t, out, `"code":"2027"`)
	assert.Contains(t, out, `"kind":"temporary"`)
	for _, call := range h.requests() {
		assert.NotContains(t, out, call.query.Get("sign"))
	}
	for _, s := range []string{androidSecret, "sign=", "error_msg"} {
		assert.NotContains(t, out, s)
	}
}
