package jpush

import (
	"context"
	"errors"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// fixedNow is the test clock.
var fixedNow = time.Date(2024, 5, 1, 2, 3, 4, 0, time.UTC)

const (
	testAppKey = "7d431e42dfa6a6d693ac2d04"
	testSecret = "5e987ac6d2e04d95a9d8f0d1"
)

// recorded is one request as the mock transport saw it.
type recorded struct {
	method, path, query string
	user, pass          string
	body                []byte
}

// harness is a Client wired to an httpmock transport that records every
// request.
type harness struct {
	client *Client
	mt     *httpmock.MockTransport

	mu    sync.Mutex
	calls []recorded
}

// newHarness's Client sends no cid (DisableCID), so that each Send is one
// request and the tests of request building see the body alone; the cid
// tests turn it back on.
func newHarness(t *testing.T, mods ...func(*Config)) *harness {
	t.Helper()
	h := &harness{mt: httpmock.NewMockTransport()}
	cfg := Config{
		AppKey:       testAppKey,
		MasterSecret: testSecret,
		HTTPClient:   &http.Client{Transport: h.mt},
		Now:          func() time.Time { return fixedNow },
		DisableCID:   true,
	}
	for _, m := range mods {
		m(&cfg)
	}
	c, err := New(cfg)
	require.NoError(t, err)
	h.client = c
	return h
}

// respond answers method on rawURL with status, body and headers.
func (h *harness) respond(method, rawURL string, status int, body string, header ...string) {
	h.mt.RegisterResponder(method, rawURL, func(req *http.Request) (*http.Response, error) {
		var b []byte
		if req.Body != nil {
			var err error
			if b, err = io.ReadAll(req.Body); err != nil {
				return nil, err
			}
		}
		u, p, _ := req.BasicAuth()
		h.mu.Lock()
		h.calls = append(h.calls, recorded{method: req.Method, path: req.URL.Path, query: req.URL.RawQuery, user: u, pass: p, body: b})
		h.mu.Unlock()
		resp := httpmock.NewStringResponse(status, body)
		for i := 0; i+1 < len(header); i += 2 {
			resp.Header.Set(header[i], header[i+1])
		}
		return resp, nil
	})
}

func (h *harness) respondPush(status int, body string, header ...string) {
	h.respond(http.MethodPost, DefaultBaseURL+"/v3/push", status, body, header...)
}

func (h *harness) requests() []recorded {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]recorded(nil), h.calls...)
}

func (h *harness) only(t *testing.T) recorded {
	t.Helper()
	calls := h.requests()
	require.Len(t, calls, 1)
	return calls[0]
}

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

// requireRefused asserts that Validate refuses r naming field, and that
// Send refuses it with the same error before any network call.
func (h *harness) requireRefused(t *testing.T, r *provider.Request, field string) {
	t.Helper()
	verr := h.client.Validate(r)
	requireKind(t, verr, provider.InvalidRequest)
	assert.Equal(t, field, provider.FieldOf(verr), "field of %v", verr)
	rc, err := h.client.Send(context.Background(), r)
	assert.Nil(t, rc)
	require.Error(t, err)
	assert.Equal(t, verr.Error(), err.Error(), "Validate and Send must refuse with the same error")
	h.requireNoCall(t)
}

func testNotification() provider.Notification {
	return provider.Notification{
		Title:  "Order shipped",
		Body:   "Your order 42 is on its way",
		Extras: map[string]string{"order_id": "42"},
	}
}

func request(p provider.Platform, a provider.Audience) *provider.Request {
	return &provider.Request{
		Platform:       p,
		Audience:       a,
		Notification:   testNotification(),
		IdempotencyKey: "push-7-chunk-0",
	}
}

func rids(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = "1a0018970a" + string(rune('a'+i%26)) + string(rune('a'+i/26%26)) + "4fa5b2d9"
	}
	return out
}

const okPush = `{"sendno":"18","msg_id":"1828256757"}`
