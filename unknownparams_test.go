package push_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider/providertest"
)

// handlerWithLog returns a Handler whose log is read back by the returned
// func: the records at warn level since the last call, each as its JSON
// attributes.
// TestOpenHandlerWarnsOnce: a Handler without Authenticate or Authorize
// says once, when built, that every endpoint is open; one with Identify
// but no Authenticate says an unidentified request acts for every user;
// one with Authenticate says nothing.
func TestOpenHandlerWarnsOnce(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	for _, tc := range []struct {
		cfg  push.HandlerConfig
		want string
	}{
		{push.HandlerConfig{}, "every endpoint is open"},
		{push.HandlerConfig{Identify: func(*http.Request) (string, bool, error) { return "", false, nil },
			Authorize: func(*http.Request, push.Action, string) error { return nil }}, "acts for every user"},
		{push.HandlerConfig{Authenticate: func(*http.Request) error { return nil }}, ""},
	} {
		var logs syncbuf.Buffer
		cfg := tc.cfg
		cfg.Service, cfg.Logger = f.svc, slog.New(slog.NewTextHandler(&logs, nil))
		_, err := push.NewHandler(cfg)
		require.NoError(t, err)
		if tc.want == "" {
			assert.Empty(t, logs.String())
			continue
		}
		assert.Equal(t, 1, strings.Count(logs.String(), "level=WARN"), logs.String())
		assert.Contains(t, logs.String(), tc.want)
	}
}

func handlerWithLog(t *testing.T) (*fixture, http.Handler, func() []map[string]any) {
	t.Helper()
	f := newFixture(t, providertest.MockConfig{}, nil)
	var logs syncbuf.Buffer
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc,
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	seen := len(logs.String()) // bytes of the log read before: NewHandler's warning of an open API
	read := func() []map[string]any {
		all := logs.String()
		fresh := all[seen:]
		seen = len(all)
		var out []map[string]any
		for _, line := range strings.Split(strings.TrimSpace(fresh), "\n") {
			if line == "" {
				continue
			}
			var rec map[string]any
			require.NoError(t, json.Unmarshal([]byte(line), &rec), line)
			if rec["level"] == "WARN" {
				out = append(out, rec)
			}
		}
		return out
	}
	return f, h, read
}

// TestHandlerWarnsOfUnknownJSONMembers: a member an endpoint does not take
// (a misspelled "extras") is still accepted and ignored, but logged: one
// warning for the request, naming the members and never their values.
func TestHandlerWarnsOfUnknownJSONMembers(t *testing.T) {
	f, h, warnings := handlerWithLog(t)
	f.register(t, "u1", "d1", "ios", "tok-1")

	r := do(t, h, http.MethodPost, push.PathPushMessage, "application/json",
		`{"user_num":"u1","title":"t","content":"c","extras":{"page":"secret-value-1"},"app_version":"secret-value-2"}`)
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Empty(t, f.mock.Requests()[0].Notification.Extras, "extras is not extra")

	w := warnings()
	require.Len(t, w, 1, "one warning per request")
	assert.Equal(t, push.PathPushMessage, w[0]["path"])
	assert.Equal(t, `"app_version", "extras"`, w[0]["unknown"])
	assert.EqualValues(t, 2, w[0]["unknown_count"])
	line, _ := json.Marshal(w[0])
	assert.NotContains(t, string(line), "secret-value", "names only, never values")

	// Every other endpoint that takes a body, JSON and form alike.
	r = do(t, h, http.MethodPost, push.PathDevice, "application/json",
		`{"user_num":"u1","uuid":"d2","push_token":"tok-2","platform":"android","pushToken":"x"}`)
	require.Equal(t, http.StatusOK, r.status, r.body)
	r = do(t, h, http.MethodPost, push.PathLogout, "application/x-www-form-urlencoded",
		url.Values{"user_num": {"u1"}, "user_device_id": {"1"}, "device_uuid": {"d1"}}.Encode())
	require.Equal(t, http.StatusOK, r.status, r.body)
	w = warnings()
	require.Len(t, w, 2)
	assert.Equal(t, push.PathDevice, w[0]["path"])
	assert.Equal(t, `"pushToken"`, w[0]["unknown"])
	assert.Equal(t, push.PathLogout, w[1]["path"])
	assert.Equal(t, `"device_uuid"`, w[1]["unknown"])

	// A request refused for its parameters is warned of too: the unknown
	// name is likely why it was refused.
	r = do(t, h, http.MethodPost, push.PathPushMessage, "application/json", `{"user_num":"u1","titel":"t","content":"c"}`)
	require.Equal(t, http.StatusBadRequest, r.status, r.body)
	w = warnings()
	require.Len(t, w, 1)
	assert.Equal(t, `"titel"`, w[0]["unknown"])
}

// TestHandlerTakesEveryDocumentedParameterSilently: a request that sends
// every parameter an endpoint documents is not warned of.
func TestHandlerTakesEveryDocumentedParameterSilently(t *testing.T) {
	f, h, warnings := handlerWithLog(t)
	f.register(t, "u2", "d0", "ios", "tok-0")
	r := postJSON(t, h, push.PathDevice, map[string]any{"user_num": "u1", "uuid": "d1", "push_token": "tok-1",
		"push_platform": "umeng", "name": "n", "platform": "ios", "os": "iOS", "os_version": "17"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	link := r.body["user_device_id"]
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "user_nums": []string{"u2"}, "title": "t",
		"content": "c", "extra": map[string]string{"k": "v"}, "class": "service", "overrides": map[string]any{},
		"idempotency_key": "k-1"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	form := url.Values{"user_num": {"u1"}, "user_nums": {"u2", "u1"}, "title": {"t"}, "content": {"c"},
		"extra": {`{"k":"v"}`}, "class": {"service"}, "overrides": {`{}`}, "idempotency_key": {"k-2"}}
	r = do(t, h, http.MethodPost, push.PathPushMessage, "application/x-www-form-urlencoded", form.Encode())
	require.Equal(t, http.StatusOK, r.status, r.body)
	r = postJSON(t, h, push.PathLogout, map[string]any{"user_num": "u1", "user_device_id": link})
	require.Equal(t, http.StatusOK, r.status, r.body)
	// The GET endpoints' queries are not checked: links carry parameters
	// of their own (cache busters, campaign tags).
	r = do(t, h, http.MethodGet, push.PathQueryPush+"?push_message_id=1&_=1700000000", "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Empty(t, warnings())
}

// TestHandlerWarnsOfUnknownMultipartFields: a multipart form's unknown
// fields and its file parts (no endpoint takes a file) are named.
func TestHandlerWarnsOfUnknownMultipartFields(t *testing.T) {
	_, h, warnings := handlerWithLog(t)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for _, kv := range [][2]string{{"user_num", "u1"}, {"uuid", "d1"}, {"push_token", "t1"}, {"platform", "android"}, {"model", "secret-model"}} {
		require.NoError(t, mw.WriteField(kv[0], kv[1]))
	}
	fw, err := mw.CreateFormFile("avatar", "a.png")
	require.NoError(t, err)
	_, err = fw.Write([]byte("secret-bytes"))
	require.NoError(t, err)
	require.NoError(t, mw.Close())
	r := do(t, h, http.MethodPost, push.PathDevice, mw.FormDataContentType(), buf.String())
	require.Equal(t, http.StatusOK, r.status, r.body)
	w := warnings()
	require.Len(t, w, 1)
	assert.Equal(t, `"avatar", "model"`, w[0]["unknown"])
	line, _ := json.Marshal(w[0])
	assert.NotContains(t, string(line), "secret")
}

// TestUnknownMemberNamesAreCappedAndQuoted: a body of many unknown members
// is named by its first 8 in byte order and a count of the rest; a name
// is cut to 64 bytes (never inside a character) and quoted, so that a
// newline or a quote in it cannot forge a log line or an attribute.
func TestUnknownMemberNamesAreCappedAndQuoted(t *testing.T) {
	_, h, warnings := handlerWithLog(t)
	members := []string{`"user_num":"u1"`, `"title":"t"`, `"content":"c"`}
	for i := 19; i >= 0; i-- { // out of order: the warning sorts them
		members = append(members, fmt.Sprintf(`"x%02d":1`, i))
	}
	r := do(t, h, http.MethodPost, push.PathPushMessage, "application/json", "{"+strings.Join(members, ",")+"}")
	require.Equal(t, http.StatusNotFound, r.status, r.body) // u1 has no device
	w := warnings()
	require.Len(t, w, 1)
	assert.Equal(t, `"x00", "x01", "x02", "x03", "x04", "x05", "x06", "x07" (and 12 more)`, w[0]["unknown"])
	assert.EqualValues(t, 20, w[0]["unknown_count"])

	long := strings.Repeat("a", 63) + "标题" // the 64th byte is inside 标
	forged := "x\n" + `time=2026-01-01 level=ERROR msg="forged" a="b`
	body, err := json.Marshal(map[string]string{"user_num": "u1", "title": "t", "content": "c", long: "v", forged: "v"})
	require.NoError(t, err)

	// The line as a text log holds it: one line, the names quoted.
	var text syncbuf.Buffer
	f := newFixture(t, providertest.MockConfig{}, nil)
	th, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Logger: slog.New(slog.NewTextHandler(&text, nil))})
	require.NoError(t, err)
	built := len(text.String()) // NewHandler's warning of an open API
	r = do(t, th, http.MethodPost, push.PathPushMessage, "application/json", string(body))
	require.Equal(t, http.StatusNotFound, r.status, r.body)
	out := text.String()[built:]
	assert.Equal(t, 1, strings.Count(out, "\n"), "one line: %s", out)
	assert.NotContains(t, out, "\nlevel=ERROR")
	assert.Contains(t, out, `unknown_count=2`)
	// Quoted by %q, then by the text handler: \n is \\n in the line.
	assert.Contains(t, out, `\"`+strings.Repeat("a", 63)+`\"…`, "cut before 标, marked after the quotes")
	assert.Contains(t, out, `\"x\\ntime=2026-01-01 level=ERROR msg=\\\"forged\\\" a=\\\"b\"`)
}
