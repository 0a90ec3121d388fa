package umengtest

import (
	"bytes"
	"context"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"io"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/cst"
	"github.com/tuisong/push/internal/testclock"
)

// clock is an injected Config.Now that moves only when told.
type clock = testclock.Clock

// start is a whole second, so policy times (second precision) line up.
var start = time.Date(2026, 3, 1, 10, 0, 0, 0, cst.Location)

func newClock() *clock { return testclock.New(start) }

// fixture is a started server on an injected clock plus a client that signs
// like a real Umeng client.
type fixture struct {
	t       *testing.T
	srv     *Server
	url     string // base URL requests go to and are signed for
	clock   *clock
	ios     App
	android App
	client  *http.Client
}

func newFixture(t *testing.T, opts ...func(*Config)) *fixture {
	t.Helper()
	c := newClock()
	cfg := Config{Now: c.Now}
	for _, o := range opts {
		o(&cfg)
	}
	srv := NewServer(t, cfg)
	apps := DefaultApps()
	client := &http.Client{}
	t.Cleanup(client.CloseIdleConnections)
	return &fixture{t: t, srv: srv, url: srv.URL, clock: c, ios: apps[0], android: apps[1], client: client}
}

// omit removes a field from a body built by fields.
type omit struct{}

// fields returns a body for app: appkey and timestamp, then extra, where an
// omit value deletes the field.
func (f *fixture) fields(app App, extra map[string]any) map[string]any {
	b := map[string]any{
		"appkey":    app.AppKey,
		"timestamp": strconv.FormatInt(f.clock.Now().UnixMilli(), 10),
	}
	for k, v := range extra {
		if _, drop := v.(omit); drop {
			delete(b, k)
			continue
		}
		b[k] = v
	}
	return b
}

// reply is a decoded answer of the fake.
type reply struct {
	status int
	Ret    string         `json:"ret"`
	Data   map[string]any `json:"data"`
	raw    []byte
}

func (r reply) code() string { s, _ := r.Data["error_code"].(string); return s }
func (r reply) str(k string) string {
	s, _ := r.Data[k].(string)
	return s
}
func (r reply) num(k string) int {
	n, _ := r.Data[k].(float64)
	return int(n)
}

func clientSign(url string, body []byte, secret string) string {
	sum := md5.Sum(append(append([]byte("POST"+url), body...), secret...))
	return hex.EncodeToString(sum[:])
}

// post signs body for app and posts it to path.
func (f *fixture) post(app App, path string, body map[string]any) reply {
	f.t.Helper()
	r, err := f.tryPost(app, path, body)
	require.NoError(f.t, err)
	return r
}

// tryPost is post for goroutines other than the test's: it reports
// failures as an error instead of stopping the test.
func (f *fixture) tryPost(app App, path string, body map[string]any) (reply, error) {
	raw, err := json.Marshal(body)
	if err != nil {
		return reply{}, err
	}
	return f.do(context.Background(), path, raw, clientSign(f.url+path, raw, app.AppMasterSecret))
}

// postRaw posts raw bytes with the given sign ("" sends none).
func (f *fixture) postRaw(path string, raw []byte, sign string) reply {
	f.t.Helper()
	r, err := f.do(context.Background(), path, raw, sign)
	require.NoError(f.t, err)
	return r
}

func (f *fixture) do(ctx context.Context, path string, raw []byte, sign string) (reply, error) {
	url := f.url + path
	if sign != "" {
		url += "?sign=" + sign
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(raw))
	if err != nil {
		return reply{}, err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := f.client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, err
	}
	r := reply{status: resp.StatusCode, raw: b}
	if json.Valid(b) {
		if err := json.Unmarshal(b, &r); err != nil {
			return reply{}, err
		}
	}
	return r, nil
}

// send posts a send for app with the given fields over the base ones.
func (f *fixture) send(app App, extra map[string]any) reply {
	f.t.Helper()
	return f.post(app, pathSend, f.fields(app, extra))
}

// mustSend sends and requires success, returning the issued id.
func (f *fixture) mustSend(app App, extra map[string]any) string {
	f.t.Helper()
	r := f.send(app, extra)
	require.Equal(f.t, http.StatusOK, r.status, "body: %s", r.raw)
	require.Equal(f.t, "SUCCESS", r.Ret)
	if id := r.str("task_id"); id != "" {
		return id
	}
	return r.str("msg_id")
}

func (f *fixture) status(app App, taskID string) reply {
	f.t.Helper()
	return f.post(app, pathStatus, f.fields(app, map[string]any{"task_id": taskID}))
}

func (f *fixture) cancel(app App, taskID string) reply {
	f.t.Helper()
	return f.post(app, pathCancel, f.fields(app, map[string]any{"task_id": taskID}))
}

func (f *fixture) upload(app App, content string) reply {
	f.t.Helper()
	return f.post(app, pathUpload, f.fields(app, map[string]any{"content": content}))
}

func (f *fixture) addDevice(app App, d Device) {
	f.t.Helper()
	require.NoError(f.t, f.srv.AddDevice(app.AppKey, d))
}

// Payload and send-body builders.

func note(title, text string) map[string]any {
	return map[string]any{
		"display_type": "notification",
		"body":         map[string]any{"ticker": title, "title": title, "text": text, "after_open": "go_app"},
	}
}

func alert(title, body string) map[string]any {
	return map[string]any{"aps": map[string]any{"alert": map[string]any{"title": title, "body": body}}}
}

func payloadFor(app App) map[string]any {
	if app.Platform == PlatformIOS {
		return alert("Hello", "World")
	}
	return note("Hello", "World")
}

func tokenFor(app App, seed string) string {
	if app.Platform == PlatformIOS {
		return IOSToken(seed)
	}
	return AndroidToken(seed)
}

func unicast(app App, token string) map[string]any {
	return map[string]any{"type": castUnicast, "device_tokens": token, "payload": payloadFor(app)}
}

func policyTime(t time.Time) string { return t.In(cst.Location).Format(policyTimeLayout) }
