package umeng

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// fixedNow is the test clock: 2024-05-01 10:03:04 in Beijing.
var fixedNow = time.Date(2024, 5, 1, 2, 3, 4, 0, time.UTC)

const (
	androidKey    = "5f0a1b2c3d4e5f6a7b8c9d0e"
	androidSecret = "androidmastersecret0123456789ab"
	iosKey        = "6a1b2c3d4e5f6a7b8c9d0e1f"
	iosSecret     = "iosmastersecret0123456789abcdef"
)

// recorded is one request as the fake Umeng saw it.
type recorded struct {
	path  string
	query url.Values
	body  []byte
}

// harness is a Client wired to an httpmock transport that records every
// request.
type harness struct {
	client *Client
	mt     *httpmock.MockTransport

	mu    sync.Mutex
	calls []recorded
}

// newHarness builds a Client with both platforms configured, the fixed
// clock and the default base URL, then applies mods.
func newHarness(t *testing.T, mods ...func(*Config)) *harness {
	t.Helper()
	h := &harness{mt: httpmock.NewMockTransport()}
	cfg := Config{
		Android:    App{AppKey: androidKey, AppMasterSecret: androidSecret},
		IOS:        App{AppKey: iosKey, AppMasterSecret: iosSecret},
		HTTPClient: &http.Client{Transport: h.mt},
		Now:        func() time.Time { return fixedNow },
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	h.client = c
	return h
}

// respond answers POSTs to path under the default base URL with status and
// body, recording each request.
func (h *harness) respond(path string, status int, body string) {
	h.respondAt(DefaultBaseURL+path, func(*http.Request) (*http.Response, error) {
		return httpmock.NewStringResponse(status, body), nil
	})
}

// respondAt registers answer for POSTs to rawURL, recording each request.
func (h *harness) respondAt(rawURL string, answer httpmock.Responder) {
	h.mt.RegisterResponder(http.MethodPost, rawURL, func(req *http.Request) (*http.Response, error) {
		b, err := io.ReadAll(req.Body)
		if err != nil {
			return nil, err
		}
		h.mu.Lock()
		h.calls = append(h.calls, recorded{path: req.URL.Path, query: req.URL.Query(), body: b})
		h.mu.Unlock()
		return answer(req)
	})
}

// requests returns the recorded requests in order.
func (h *harness) requests() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recorded(nil), h.calls...)
}

// only returns the single recorded request, failing the test otherwise.
func (h *harness) only(t *testing.T) recorded {
	t.Helper()
	calls := h.requests()
	require.Len(t, calls, 1)
	return calls[0]
}

// requireNoCall asserts that nothing reached the network.
func (h *harness) requireNoCall(t *testing.T) {
	t.Helper()
	require.Zero(t, h.mt.GetTotalCallCount(), "no request may be sent")
}

// requireKind asserts err is a *provider.Error of this provider with kind.
func requireKind(t *testing.T, err error, kind provider.Kind) *provider.Error {
	t.Helper()
	require.Error(t, err)
	var pe *provider.Error
	require.True(t, errors.As(err, &pe), "error %v is not a *provider.Error", err)
	assert.Equal(t, Name, pe.Provider)
	assert.Equal(t, kind, pe.Kind, "kind of %v", err)
	return pe
}

// requireField asserts err is an InvalidRequest naming field.
func requireField(t *testing.T, err error, field string) {
	t.Helper()
	requireKind(t, err, provider.InvalidRequest)
	assert.Equal(t, field, provider.FieldOf(err), "field of %v", err)
}

// requireRefused asserts that Validate refuses r naming field, and that
// Send refuses it with the same error before any network call.
func (h *harness) requireRefused(t *testing.T, r *provider.Request, field string) {
	t.Helper()
	verr := h.client.Validate(r)
	requireField(t, verr, field)
	rc, err := h.client.Send(context.Background(), r)
	assert.Nil(t, rc)
	requireField(t, err, field)
	assert.Equal(t, err.Error(), verr.Error(), "Validate and Send must refuse with the same error")
	h.requireNoCall(t)
}

// notification is the visible notification most tests send.
func notification() provider.Notification {
	return provider.Notification{
		Title:  "Order shipped",
		Body:   "Your order 42 is on its way",
		Extras: map[string]string{"order_id": "42"},
	}
}

// request returns a request for p and audience a with notification().
func request(p provider.Platform, a provider.Audience) *provider.Request {
	return &provider.Request{
		Platform:       p,
		Audience:       a,
		Notification:   notification(),
		IdempotencyKey: "push-7-chunk-0",
		Description:    "order update",
	}
}

func tokens(n int) []string {
	ts := make([]string, n)
	for i := range ts {
		ts[i] = "token" + string(rune('a'+i%26)) + string(rune('a'+i/26%26))
	}
	return ts
}

const (
	okMsg    = `{"ret":"SUCCESS","data":{"msg_id":"uutest0000000000000001"}}`
	okTask   = `{"ret":"SUCCESS","data":{"task_id":"ustest0000000000000001"}}`
	okUpload = `{"ret":"SUCCESS","data":{"file_id":"PF0000000000000001"}}`
)
