package umengtest

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// hookRecorder is a receipt_url that keeps every body posted to it.
type hookRecorder struct {
	mu     sync.Mutex
	bodies []map[string]any
	status int
}

func newHook(t *testing.T, status int) (*hookRecorder, string) {
	t.Helper()
	h := &hookRecorder{status: status}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Equal(t, http.MethodPost, r.Method)
		assert.Equal(t, "application/json", r.Header.Get("Content-Type"))
		assert.Equal(t, "k=v", r.URL.RawQuery, "the receipt_url is posted to as sent")
		raw, _ := io.ReadAll(r.Body)
		var m map[string]any
		assert.NoError(t, json.Unmarshal(raw, &m))
		h.mu.Lock()
		h.bodies = append(h.bodies, m)
		h.mu.Unlock()
		w.WriteHeader(h.status)
	}))
	t.Cleanup(srv.Close)
	return h, srv.URL + "/hook?k=v"
}

func TestReceiptsArePostedToReceiptURL(t *testing.T) {
	f := newFixture(t)
	hook, hookURL := newHook(t, http.StatusOK)
	a, b := AndroidToken("r1"), AndroidToken("r2")
	id := f.mustSend(f.android, map[string]any{"type": "listcast", "device_tokens": a + "," + b, "payload": note("t", "x"),
		"receipt_url": hookURL, "receipt_type": "3", "callback_params": map[string]any{"push": "7"}})
	assert.Equal(t, 2, f.srv.PendingReceipts())
	assert.Empty(t, hook.bodies, "arrivals wait for PostReceipts")

	posts, err := f.srv.PostReceipts(t.Context())
	require.NoError(t, err)
	require.Len(t, posts, 2)
	assert.Zero(t, f.srv.PendingReceipts())
	for i, tok := range []string{a, b} {
		assert.Equal(t, http.StatusOK, posts[i].Status, posts[i].Err)
		assert.Equal(t, ReceiptArrival, posts[i].Type)
		assert.Equal(t, map[string]any{"appkey": f.android.AppKey, "msg_id": id, "device_token": tok, "type": "arrival",
			"ts": float64(f.clock.Now().UnixMilli()), "callback_params": map[string]any{"push": "7"}}, hook.bodies[i])
	}

	clicks := f.srv.Click(t.Context(), b)
	require.Len(t, clicks, 1)
	assert.Equal(t, ReceiptClick, clicks[0].Type)
	assert.Equal(t, "click", hook.bodies[2]["type"])
	assert.Equal(t, b, hook.bodies[2]["device_token"])
	dismissals := f.srv.Dismiss(t.Context(), a)
	require.Len(t, dismissals, 1)
	assert.Equal(t, "dismiss", hook.bodies[3]["type"])
	assert.Empty(t, f.srv.Click(t.Context(), AndroidToken("never-sent")))
	assert.Len(t, f.srv.ReceiptPosts(), 4)
}

func TestReceiptTypeSelectsReceipts(t *testing.T) {
	f := newFixture(t)
	hook, hookURL := newHook(t, http.StatusInternalServerError)
	a := AndroidToken("only-click")
	f.mustSend(f.android, map[string]any{"type": "unicast", "device_tokens": a, "payload": note("t", "x"),
		"receipt_url": hookURL, "receipt_type": "2"})
	assert.Zero(t, f.srv.PendingReceipts(), "receipt_type 2 asks for clicks only")
	posts := f.srv.Click(t.Context(), a)
	require.Len(t, posts, 1)
	assert.Equal(t, http.StatusInternalServerError, posts[0].Status, "the answer is recorded, not retried")

	c := AndroidToken("arrival-only")
	f.mustSend(f.android, map[string]any{"type": "unicast", "device_tokens": c, "payload": note("t", "x"),
		"receipt_url": hookURL, "receipt_type": "1"})
	assert.Equal(t, 1, f.srv.PendingReceipts())
	assert.Empty(t, f.srv.Click(t.Context(), c), "receipt_type 1 asks for arrivals only")

	f.mustSend(f.android, map[string]any{"type": "unicast", "device_tokens": AndroidToken("no-url"), "payload": note("t", "x")})
	assert.Equal(t, 1, f.srv.PendingReceipts(), "no receipt_url, no receipts")
	f.srv.Reset()
	assert.Zero(t, f.srv.PendingReceipts())
	assert.Len(t, hook.bodies, 1)
	assert.Empty(t, f.srv.ReceiptPosts(), "Reset forgets the posts")
}

func TestKeepBoundsWhatTheServerRemembers(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Keep = 2 })
	_, hookURL := newHook(t, http.StatusOK)
	r1, r2, r3, r4 := AndroidToken("k1"), AndroidToken("k2"), AndroidToken("k3"), AndroidToken("k4")
	f.mustSend(f.android, map[string]any{"type": "listcast", "device_tokens": r1 + "," + r2 + "," + r3, "payload": note("t", "x"),
		"receipt_url": hookURL, "receipt_type": "1"})
	assert.Len(t, f.srv.Deliveries(), 3, "the latest send's deliveries stay whole, past the bound")
	assert.Equal(t, 3, f.srv.PendingReceipts(), "so each of its devices gets its arrival receipt")
	f.mustSend(f.android, map[string]any{"type": "unicast", "device_tokens": r4, "payload": note("t", "y")})
	f.mustSend(f.android, map[string]any{"type": "unicast", "device_tokens": AndroidToken("k5"), "payload": note("t", "z")})

	var tokens []string
	for _, d := range f.srv.Deliveries() {
		tokens = append(tokens, d.Token)
	}
	assert.Equal(t, []string{r3, r4, AndroidToken("k5")}, tokens, "the newest two before the latest send's")
	reqs := f.srv.Requests()
	require.Len(t, reqs, 2, "the newest two requests")
	assert.Equal(t, []int{2, 3}, []int{reqs[0].Seq, reqs[1].Seq})
	assert.Equal(t, []string{r4}, reqs[0].DeviceTokens)
	assert.Equal(t, 3, f.srv.Arrived(pathSend), "arrivals are counted beyond the bound")
	assert.Len(t, f.srv.issued, 2, "the newest two ids issued")

	posts, err := f.srv.PostReceipts(t.Context())
	require.NoError(t, err)
	assert.Len(t, posts, 3, "PostReceipts answers every post it made")
	assert.Len(t, f.srv.ReceiptPosts(), 2, "but the server remembers the newest two")
}

// TestKeepBoundsTheReceiptURLsKept: under Keep the receipt_urls of the
// newest Keep sends that had one are kept, with their arrivals not yet
// posted, also when sends come at once.
func TestKeepBoundsTheReceiptURLsKept(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.Keep = 5; c.NoRateLimits = true })
	_, hookURL := newHook(t, http.StatusOK)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			f.mustSend(f.android, map[string]any{"type": "unicast", "device_tokens": AndroidToken(fmt.Sprint("c", i)),
				"payload": note("t", "x"), "receipt_url": hookURL, "receipt_type": "1"})
		})
	}
	wg.Wait()
	assert.Equal(t, 5, f.srv.PendingReceipts(), "the arrivals of the newest five sends, each queued with its delivery")
	posts, err := f.srv.PostReceipts(t.Context())
	require.NoError(t, err)
	require.Len(t, posts, 5)
	for _, p := range posts {
		assert.Equal(t, http.StatusOK, p.Status, "each to its send's receipt_url: %s", p.Err)
	}
}
