package push_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/internal/testlog"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

func newHandler(t *testing.T, auth push.Authorizer) (*fixture, http.Handler) {
	t.Helper()
	f := newFixture(t, providertest.MockConfig{}, nil)
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Authorize: auth})
	require.NoError(t, err)
	return f, h
}

type reply struct {
	status int
	body   map[string]any
}

func (r reply) errCode() string {
	e, _ := r.body["error"].(map[string]any)
	s, _ := e["code"].(string)
	return s
}

func do(t *testing.T, h http.Handler, method, target, contentType, body string) reply {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	if rec.Body.Len() > 0 {
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), "body: %s", rec.Body.String())
	}
	return reply{rec.Code, m}
}

func postJSON(t *testing.T, h http.Handler, path string, v any) reply {
	b, err := json.Marshal(v)
	require.NoError(t, err)
	return do(t, h, http.MethodPost, path, "application/json", string(b))
}

func TestHandlerWalkthrough(t *testing.T) {
	f, h := newHandler(t, nil)
	r := postJSON(t, h, push.PathDevice, map[string]any{"user_num": "u1001", "uuid": "ios-uuid-1", "push_token": "itok",
		"push_platform": "umeng", "name": "Li's iPhone", "platform": "ios", "os": "iOS", "os_version": "17.1"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "ios-uuid-1", r.body["device_uuid"])
	iosLink := int64(r.body["user_device_id"].(float64))

	// The same endpoint as a form.
	form := url.Values{"user_num": {"u1001"}, "uuid": {"and-uuid-1"}, "push_token": {"atok"}, "platform": {"android"}}
	r = do(t, h, http.MethodPost, push.PathDevice, "application/x-www-form-urlencoded", form.Encode())
	require.Equal(t, http.StatusOK, r.status, r.body)

	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1001", "title": "到货提醒", "content": "您关注的商品已到货 🎉",
		"extra": map[string]string{"page": "order", "id": "42"}})
	require.Equal(t, http.StatusOK, r.status, r.body)
	id := r.body["push_message_id"].(float64)
	assert.EqualValues(t, 2, r.body["devices"])
	reqs := f.mock.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, map[string]string{"page": "order", "id": "42"}, reqs[0].Notification.Extras)

	r = do(t, h, http.MethodGet, push.PathQueryPush+"?push_message_id="+jsonNum(id), "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "accepted", r.body["ios_status"])
	assert.Equal(t, "accepted", r.body["android_status"])

	r = postJSON(t, h, push.PathLogout, map[string]any{"user_num": "u1001", "user_device_id": iosLink})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, "successfully", r.body["data"])

	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1001", "title": "t", "content": "c"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	reqs = f.mock.Requests()
	require.Len(t, reqs, 3)
	assert.Equal(t, provider.Android, reqs[2].Platform, "the logged-out iOS device receives nothing")
}

func jsonNum(f float64) string { b, _ := json.Marshal(f); return string(b) }

func TestHandlerErrors(t *testing.T) {
	_, h := newHandler(t, nil)
	dev := map[string]any{"user_num": "u1", "uuid": "d1", "push_token": "t1", "platform": "ios"}
	without := func(k string) map[string]any {
		m := map[string]any{}
		for kk, v := range dev {
			if kk != k {
				m[kk] = v
			}
		}
		return m
	}
	with := func(k string, v any) map[string]any {
		m := without(k)
		m[k] = v
		return m
	}
	tests := []struct {
		name   string
		method string
		path   string
		ct     string
		body   string
		status int
		code   string
	}{
		{"device missing user_num", "POST", push.PathDevice, "application/json", mustJSON(without("user_num")), 400, "invalid_user_num"},
		{"device missing uuid", "POST", push.PathDevice, "application/json", mustJSON(without("uuid")), 400, "invalid_uuid"},
		{"device missing token", "POST", push.PathDevice, "application/json", mustJSON(without("push_token")), 400, "invalid_push_token"},
		{"device malformed token", "POST", push.PathDevice, "application/json", mustJSON(with("push_token", "bad-token!")), 400, "invalid_push_token"},
		{"device user_num with a separator", "POST", push.PathDevice, "application/json", mustJSON(with("user_num", "a b")), 400, "invalid_user_num"},
		{"device user_num a JSON array", "POST", push.PathDevice, "application/json", mustJSON(with("user_num", `["u1001"]`)), 400, "invalid_user_num"},
		{"device user_num a JSON array of a number", "POST", push.PathDevice, "application/json", mustJSON(with("user_num", "[1]")), 400, "invalid_user_num"},
		{"device missing platform", "POST", push.PathDevice, "application/json", mustJSON(without("platform")), 400, "invalid_platform"},
		{"device bad platform", "POST", push.PathDevice, "application/json", mustJSON(with("platform", "iPadOS")), 400, "invalid_platform"},
		{"device unknown vendor", "POST", push.PathDevice, "application/json", mustJSON(with("push_platform", "jpush")), 400, "invalid_push_platform"},
		{"device long name", "POST", push.PathDevice, "application/json", mustJSON(with("name", strings.Repeat("名", 256))), 400, "invalid_name"},
		{"device wrong method", "GET", push.PathDevice, "", "", 405, "method_not_allowed"},
		{"device bad json", "POST", push.PathDevice, "application/json", "{", 400, "invalid_body"},
		{"device json array", "POST", push.PathDevice, "application/json", "[]", 400, "invalid_body"},
		{"device text body", "POST", push.PathDevice, "text/plain", "x", 415, "unsupported_media_type"},
		{"device huge body", "POST", push.PathDevice, "application/json", `{"name":"` + strings.Repeat("x", 1<<20) + `"}`, 413, "body_too_large"},
		{"device huge form", "POST", push.PathDevice, "application/x-www-form-urlencoded", "name=" + strings.Repeat("x", 1<<20+10), 413, "body_too_large"},
		{"push missing user", "POST", push.PathPushMessage, "application/json", `{"title":"t","content":"c"}`, 400, "invalid_user_num"},
		{"push missing title", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","content":"c"}`, 400, "invalid_title"},
		{"push missing content", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t"}`, 400, "invalid_content"},
		{"push bad extra", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","extra":[1]}`, 400, "invalid_extra"},
		{"push bad user_nums", "POST", push.PathPushMessage, "application/json", `{"user_nums":"u1","title":"t","content":"c"}`, 400, "invalid_user_nums"},
		{"push no device", "POST", push.PathPushMessage, "application/json", `{"user_num":"nobody","title":"t","content":"c"}`, 404, "no_active_device"},
		{"push wrong method", "PUT", push.PathPushMessage, "application/json", `{}`, 405, "method_not_allowed"},
		{"query missing id", "GET", push.PathQueryPush, "", "", 400, "invalid_push_message_id"},
		{"query bad id", "GET", push.PathQueryPush + "?push_message_id=abc", "", "", 400, "invalid_push_message_id"},
		{"query negative id", "GET", push.PathQueryPush + "?push_message_id=-3", "", "", 400, "invalid_push_message_id"},
		{"query unknown id", "GET", push.PathQueryPush + "?push_message_id=999", "", "", 404, "not_found"},
		{"query wrong method", "POST", push.PathQueryPush, "application/json", "{}", 405, "method_not_allowed"},
		{"logout missing user", "POST", push.PathLogout, "application/json", `{"user_device_id":1}`, 400, "invalid_user_num"},
		{"logout missing id", "POST", push.PathLogout, "application/json", `{"user_num":"u1"}`, 400, "invalid_user_device_id"},
		{"logout bad id", "POST", push.PathLogout, "application/json", `{"user_num":"u1","user_device_id":"x"}`, 400, "invalid_user_device_id"},
		{"logout unknown link", "POST", push.PathLogout, "application/json", `{"user_num":"u1","user_device_id":999}`, 404, "not_found"},
		{"unknown path", "GET", "/api/v1.1/nothing", "", "", 404, "not_found"},
		{"push title twice in JSON", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"safe","title":"EVIL","content":"c"}`, 400, "invalid_title"},
		{"push key twice in JSON", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","idempotency_key":"k3","idempotency_key":"k4"}`, 400, "invalid_idempotency_key"},
		{"push unknown member twice in JSON", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","x":1,"x":2}`, 400, "invalid_body"},
		{"device user_num twice in a form", "POST", push.PathDevice, "application/x-www-form-urlencoded", "user_num=u1&user_num=u2&uuid=d1&platform=ios&push_token=abc", 400, "invalid_user_num"},
		{"query id twice", "GET", push.PathQueryPush + "?push_message_id=1&push_message_id=2", "", "", 400, "invalid_push_message_id"},
		{"push extra wrapped with a lone surrogate", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","extra":"{\"a\":\"\\udc00\"}"}`, 400, "invalid_extra"},
		{"push extra in a form with a lone surrogate", "POST", push.PathPushMessage, "application/x-www-form-urlencoded", `user_num=u1&title=t&content=c&extra=%7B%22a%22%3A%22%5Cudc00%22%7D`, 400, "invalid_extra"},
		{"push extra in a form not UTF-8", "POST", push.PathPushMessage, "application/x-www-form-urlencoded", `user_num=u1&title=t&content=c&extra=%7B%22a%22%3A%22%FF%22%7D`, 400, "invalid_extra"},
		{"push overrides wrapped not UTF-8", "POST", push.PathPushMessage, "application/x-www-form-urlencoded", `user_num=u1&title=t&content=c&overrides=%7B%22umeng%22%3A%7B%22k%22%3A%22%FF%22%7D%7D`, 400, "invalid_overrides"},
		{"push labelled latin1, not UTF-8", "POST", push.PathPushMessage, "application/json; charset=ISO-8859-1", "{\"user_num\":\"u1\",\"title\":\"caf\xe9\",\"content\":\"c\"}", 400, "invalid_body"},
		{"push extra member twice", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","extra":{"a":"safe","a":"EVIL"}}`, 400, "invalid_extra"},
		{"push extra member named like a field twice", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","extra":{"title":"1","title":"2"}}`, 400, "invalid_extra"},
		{"push overrides member twice", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","overrides":{"umeng":{"oppo_channel_id":"a","oppo_channel_id":"b"}}}`, 400, "invalid_overrides"},
		{"push unknown member with a member twice", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","x":{"a":1,"a":2}}`, 400, "invalid_body"},
		{"push extra wrapped with a member twice", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","extra":"{\"a\":\"safe\",\"a\":\"EVIL\"}"}`, 400, "invalid_extra"},
		{"push overrides in a form with a nested member twice", "POST", push.PathPushMessage, "application/x-www-form-urlencoded", `user_num=u1&title=t&content=c&overrides=%7B%22umeng%22%3A%7B%22k%22%3A1%2C%22k%22%3A2%7D%7D`, 400, "invalid_overrides"},
		{"push same keys in sibling objects are fine", "POST", push.PathPushMessage, "application/json", `{"user_num":"nobody","title":"t","content":"c","extra":{"a":{"k":1},"b":{"k":2},"c":[{"k":1},{"k":2}]}}`, 404, "no_active_device"},
		{"push member twice in an array's object", "POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c","overrides":{"umeng":{"a":[{"x":1},{"x":1,"x":2}]}}}`, 400, "invalid_overrides"},
		{"query with a cache buster twice", "GET", push.PathQueryPush + "?push_message_id=999&_=1&_=2", "", "", 404, "not_found"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := doRaw(t, h, tt.method, tt.path, tt.ct, tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			if tt.code != "" {
				assert.Equal(t, tt.code, r.errCode())
			}
			if tt.status == 405 {
				assert.NotEmpty(t, r.allow)
			}
		})
	}
}

// TestHandlerRefusesAnEncodedBody: a body with a Content-Encoding (gzip,
// or any but identity) is refused 415, not read as text, and nothing is
// written.
func TestHandlerRefusesAnEncodedBody(t *testing.T) {
	f, h := newHandler(t, nil)
	for _, enc := range []string{"gzip", "br", "identity, gzip"} {
		req := httptest.NewRequest(http.MethodPost, push.PathDevice, strings.NewReader(`{"user_num":"u1","uuid":"d1","push_token":"t1","platform":"ios"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Content-Encoding", enc)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		assert.Equal(t, http.StatusUnsupportedMediaType, rec.Code, enc)
		assert.Contains(t, rec.Body.String(), "unsupported_media_type", enc)
	}
	links, err := f.store.ListUserDevices(t.Context(), "u1")
	require.NoError(t, err)
	assert.Empty(t, links, "nothing registered")
	req := httptest.NewRequest(http.MethodPost, push.PathDevice, strings.NewReader(`{"user_num":"u1","uuid":"d1","push_token":"t1","platform":"ios"}`))
	req.Header.Set("Content-Type", "application/json; charset=UTF-8")
	req.Header.Set("Content-Encoding", "identity")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

// TestHandlerHeadIsGet: HEAD is served wherever GET is (net/http drops
// the body), and a 405 of a GET endpoint allows both.
func TestHandlerHeadIsGet(t *testing.T) {
	_, h := newHandler(t, nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodHead, push.PathQueryPush+"?push_message_id=999", nil))
	assert.Equal(t, http.StatusNotFound, rec.Code, "answered as the GET is")
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodDelete, push.PathQueryPush+"?push_message_id=999", nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "GET, HEAD", rec.Header().Get("Allow"))
}

type rawReply struct {
	reply
	allow string
}

func doRaw(t *testing.T, h http.Handler, method, target, ct, body string) rawReply {
	t.Helper()
	req := httptest.NewRequest(method, target, strings.NewReader(body))
	if ct != "" {
		req.Header.Set("Content-Type", ct)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	var m map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), "every answer is JSON: %s", rec.Body.String())
	return rawReply{reply{rec.Code, m}, rec.Header().Get("Allow")}
}

func mustJSON(v any) string { b, _ := json.Marshal(v); return string(b) }

func TestHandlerLogoutOfAnotherUsersLink(t *testing.T) {
	_, h := newHandler(t, nil)
	r := postJSON(t, h, push.PathDevice, map[string]any{"user_num": "alice", "uuid": "d1", "push_token": "t1", "platform": "ios"})
	require.Equal(t, 200, r.status)
	link := r.body["user_device_id"]
	r = postJSON(t, h, push.PathLogout, map[string]any{"user_num": "mallory", "user_device_id": link})
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, "not_owner", r.errCode())
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "alice", "title": "t", "content": "c"})
	assert.Equal(t, http.StatusOK, r.status, "alice is still logged in")
}

func TestHandlerMultipartAndStringExtra(t *testing.T) {
	f, h := newHandler(t, nil)
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	for k, v := range map[string]string{"user_num": "u1", "uuid": "d1", "push_token": "t1", "platform": "android"} {
		require.NoError(t, mw.WriteField(k, v))
	}
	require.NoError(t, mw.Close())
	r := do(t, h, http.MethodPost, push.PathDevice, mw.FormDataContentType(), buf.String())
	require.Equal(t, http.StatusOK, r.status, r.body)

	form := url.Values{"user_num": {"u1"}, "title": {"t"}, "content": {"c"}, "extra": {`{"k":"v"}`}}
	r = do(t, h, http.MethodPost, push.PathPushMessage, "application/x-www-form-urlencoded", form.Encode())
	require.Equal(t, http.StatusOK, r.status, r.body)
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t", "content": "c", "extra": `{"k":"w"}`})
	require.Equal(t, http.StatusOK, r.status, r.body)
	reqs := f.mock.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, "v", reqs[0].Notification.Extras["k"])
	assert.Equal(t, "w", reqs[1].Notification.Extras["k"])
}

func TestHandlerAuthorizer(t *testing.T) {
	var seen []string
	auth := func(r *http.Request, a push.Action, user string) error {
		seen = append(seen, string(a)+":"+user)
		switch r.Header.Get("X-User") {
		case "":
			return push.ErrUnauthenticated
		case user, "admin":
			return nil
		}
		return errors.New("not yours")
	}
	_, h := newHandler(t, auth)
	body := mustJSON(map[string]any{"user_num": "u1", "uuid": "d1", "push_token": "t1", "platform": "ios"})
	send := func(who string) *httptest.ResponseRecorder {
		req := httptest.NewRequest(http.MethodPost, push.PathDevice, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if who != "" {
			req.Header.Set("X-User", who)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		return rec
	}
	assert.Equal(t, http.StatusUnauthorized, send("").Code)
	assert.Equal(t, http.StatusForbidden, send("u2").Code)
	assert.Equal(t, http.StatusOK, send("u1").Code)
	assert.Equal(t, []string{"register_device:u1", "register_device:u1", "register_device:u1"}, seen)
}

// brokenListing is a store whose target listing fails with a message that
// must not reach a client.
type brokenListing struct{ registry.Store }

func (brokenListing) ListTargets(context.Context, registry.TargetQuery) ([]registry.Target, error) {
	return nil, errors.New("dial tcp 10.0.0.7:3306: connection refused")
}

// pushOnStore posts a push for a user with one device through a Handler
// whose Service's store is wrap's, and returns the answer, the Handler's
// log and the fixture.
func pushOnStore(t *testing.T, wrap func(registry.Store) registry.Store) (*httptest.ResponseRecorder, *bytes.Buffer, *fixture) {
	t.Helper()
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.Store = wrap(c.Store) })
	f.register(t, "u1", "d1", "ios", "t1")
	var logs bytes.Buffer
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec, &logs, f
}

func TestHandlerInternalErrorHidesDetails(t *testing.T) {
	rec, logs, f := pushOnStore(t, func(s registry.Store) registry.Store { return brokenListing{s} })
	require.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.JSONEq(t, `{"error":{"code":"internal","message":"internal error"}}`, rec.Body.String())
	assert.Contains(t, logs.String(), "connection refused", "the cause is logged, not answered")
	assert.Zero(t, f.mock.Calls())
}

// unreachableStore is a store whose database cannot take calls: its
// ListTargets fails with err.
type unreachableStore struct {
	registry.Store
	err error
}

func (s unreachableStore) ListTargets(context.Context, registry.TargetQuery) ([]registry.Target, error) {
	return nil, fmt.Errorf("sqlstore: ListTargets: select targets: %w", s.err)
}

// sqlStateError stands in for pgconn.PgError, which the library reads by
// its SQLState method.
type sqlStateError struct{ state, msg string }

func (e *sqlStateError) Error() string    { return "FATAL: " + e.msg + " (SQLSTATE " + e.state + ")" }
func (e *sqlStateError) SQLState() string { return e.state }

// TestHandlerStoreOutageIs503: a store that cannot be reached, or whose
// database says it cannot take calls for now (PostgreSQL shutting down or
// starting, MariaDB shutting down or out of connections), answers 503
// with Retry-After, which clients and load balancers tell from a bug's
// 500; the cause is logged, not answered.
func TestHandlerStoreOutageIs503(t *testing.T) {
	for _, tc := range []struct {
		name string
		err  error
		log  string
	}{
		{"refused", &net.OpError{Op: "dial", Net: "tcp", Addr: &net.TCPAddr{IP: net.IPv4(10, 0, 0, 7), Port: 3306}, Err: syscall.ECONNREFUSED}, "connection refused"},
		{"postgres shutting down", &sqlStateError{"57P01", "terminating connection due to administrator command"}, "57P01"},
		{"postgres starting", &sqlStateError{"57P03", "the database system is starting up"}, "57P03"},
		{"postgres connection lost", &sqlStateError{"08006", "connection failure"}, "08006"},
		{"mariadb shutting down", errors.New("Error 1053 (08S01): Server shutdown in progress"), "1053"},
		{"mariadb out of connections", errors.New("Error 1040 (08004): Too many connections"), "1040"},
		// Cut mid-statement: the statement's error joined with the
		// rollback's, as the stores return them.
		{"mariadb cut mid-statement", errors.Join(fmt.Errorf("insert push message: %w", errors.New("invalid connection")), fmt.Errorf("rollback: %w", errors.New("invalid connection"))), "invalid connection"},
		{"postgres cut mid-statement", errors.Join(fmt.Errorf("select targets: %w", io.ErrUnexpectedEOF), fmt.Errorf("rollback: %w", errors.New("conn closed"))), "unexpected EOF"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec, logs, f := pushOnStore(t, func(s registry.Store) registry.Store { return unreachableStore{s, tc.err} })
			require.Equal(t, http.StatusServiceUnavailable, rec.Code)
			assert.Equal(t, "5", rec.Header().Get("Retry-After"))
			assert.JSONEq(t, `{"error":{"code":"unavailable","message":"the database is unavailable; retry"}}`, rec.Body.String())
			assert.Contains(t, logs.String(), tc.log, "the cause is logged, not answered")
			assert.Zero(t, f.mock.Calls())
		})
	}
}

// A request stopped before it was done (the server shutting down cancels
// its context) is a 503 with Retry-After: nothing of it was recorded or
// sent, so that the client may send it again.
func TestHandlerStoppedRequestIs503(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "t1")
	var logs bytes.Buffer
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	req := httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`)).WithContext(ctx)
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Contains(t, rec.Body.String(), `"code":"unavailable"`)
	assert.Zero(t, f.mock.Calls())
	msgs, err := f.store.ListPushMessages(context.Background(), registry.PushMessageQuery{})
	require.NoError(t, err)
	assert.Empty(t, msgs, "nothing recorded")
}

// TestHandlerPushStoppedByStopIs503: a push that HandlerConfig.Stop ends
// before it is recorded (the server shutting down while its targets are
// read) is a 503 with Retry-After, as one whose request context ended is,
// when the request's own context is still live (a server that cancels Stop
// but not its requests' contexts, or both in no particular order): it
// answered 500 "internal error", logged as a fault.
func TestHandlerPushStoppedByStopIs503(t *testing.T) {
	entered := make(chan struct{})
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.Store = stalledTargets{Store: c.Store, entered: entered}
	})
	f.register(t, "u1", "d1", "ios", "t1")
	stop, cancel := context.WithCancel(context.Background())
	defer cancel()
	var logs syncbuf.Buffer
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Stop: stop, Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	require.NoError(t, err)
	go func() { <-entered; cancel() }() // the shutdown begins while the targets are read
	req := httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusServiceUnavailable, rec.Code, rec.Body.String())
	assert.Equal(t, "1", rec.Header().Get("Retry-After"))
	assert.Contains(t, rec.Body.String(), `"code":"unavailable"`)
	assert.NotContains(t, logs.String(), "request failed", "a stop, not a fault")
	assert.Zero(t, f.mock.Calls())
	msgs, err := f.store.ListPushMessages(context.Background(), registry.PushMessageQuery{})
	require.NoError(t, err)
	assert.Empty(t, msgs, "nothing recorded")
}

// stalledTargets is a store whose ListTargets says it was entered, then
// waits for its ctx to end.
type stalledTargets struct {
	registry.Store
	entered chan struct{}
}

func (s stalledTargets) ListTargets(ctx context.Context, _ registry.TargetQuery) ([]registry.Target, error) {
	close(s.entered)
	<-ctx.Done()
	return nil, fmt.Errorf("select targets: %w", ctx.Err())
}

func TestNewHandlerValidates(t *testing.T) {
	_, err := push.NewHandler(push.HandlerConfig{})
	assert.ErrorIs(t, err, push.ErrInvalid)
	f := newFixture(t, providertest.MockConfig{}, nil)
	_, err = push.NewHandler(push.HandlerConfig{Service: f.svc, MaxBodyBytes: -1})
	assert.ErrorIs(t, err, push.ErrInvalid)
	// A Service push.New did not make would answer every request 500.
	_, err = push.NewHandler(push.HandlerConfig{Service: &push.Service{}})
	assert.ErrorIs(t, err, push.ErrInvalid)
	assert.ErrorContains(t, err, "service: is a zero push.Service; make it with push.New")
	// The provider by name, in any case, as a device's push_platform.
	for _, name := range []string{"umeng", "UMENG", " Umeng ", ""} {
		p, err := f.svc.Provider(name)
		require.NoError(t, err, "%q", name)
		assert.Equal(t, "umeng", p.Name())
	}
	_, err = f.svc.Provider("fcm")
	assert.ErrorIs(t, err, push.ErrUnknownProvider)
}

func TestHandlerStrictJSON(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "d1", "ios", "t1")
	for _, tt := range []struct {
		name, body string
		status     int
		code       string
	}{
		{"data after the object", `{"user_num":"u1","title":"t","content":"c"} {"x":`, 400, "invalid_body"},
		{"two objects", `{"user_num":"u1","title":"t","content":"c"}{}`, 400, "invalid_body"},
		{"user_num not a string", `{"user_num":true,"title":"t","content":"c"}`, 400, "invalid_user_num"},
		{"title an object", `{"user_num":"u1","title":{},"content":"c"}`, 400, "invalid_title"},
		{"extra a string of an array", `{"user_num":"u1","title":"t","content":"c","extra":"[1]"}`, 400, "invalid_extra"},
		{"extra with numbers", `{"user_num":"u1","title":"t","content":"c","extra":{"order_id":123,"vip":true}}`, 200, ""},
		{"trailing white space is fine", "{\"user_num\":\"u1\",\"title\":\"t\",\"content\":\"c\"}\n\n", 200, ""},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := do(t, h, http.MethodPost, push.PathPushMessage, "application/json", tt.body)
			assert.Equal(t, tt.status, r.status, r.body)
			assert.Equal(t, tt.code, r.errCode())
		})
	}
	reqs := f.mock.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, map[string]string{"order_id": "123", "vip": "true"}, reqs[0].Notification.Extras)
}

// A JSON body must be UTF-8 (RFC 8259). encoding/json would decode the
// bytes as U+FFFD and push a title the client never wrote; the form path
// already refused them.
func TestHandlerJSONMustBeUTF8(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "d1", "ios", "t1")
	for _, tt := range []struct{ path, body, where string }{
		{push.PathPushMessage, "{\"user_num\":\"u1\",\"title\":\"\xff\xfe\",\"content\":\"c\"}", `in "title"`},
		{push.PathPushMessage, "{\"user_num\":\"u1\",\"title\":\"t\",\"content\":\"c\",\"extra\":{\"k\":\"caf\xe9\"}}", `in "extra"`},
		{push.PathPushMessage, "{\"user_num\":\"u1\",\"ti\xfftle\":\"t\",\"content\":\"c\"}", "in \"ti\uFFFDtle\""},
		{push.PathDevice, "{\"user_num\":\"u\xc3\",\"uuid\":\"d9\",\"platform\":\"ios\",\"push_token\":\"t9\"}", `in "user_num"`},
		{push.PathPushMessage, "[\"\xff\"]", ""},
	} {
		r := do(t, h, http.MethodPost, tt.path, "application/json", tt.body)
		assert.Equal(t, http.StatusBadRequest, r.status, r.body)
		assert.Equal(t, "invalid_body", r.errCode())
		e, _ := r.body["error"].(map[string]any)
		assert.Equal(t, "the JSON body is not valid UTF-8"+strings.TrimSuffix(": "+tt.where, ": "), e["message"], "body %q", tt.body)
	}
	assert.Empty(t, f.mock.Requests(), "nothing was pushed")
	// What encoding/json would have made of "u\xc3".
	devs, err := f.svc.ListDevices(context.Background(), "u\uFFFD")
	require.NoError(t, err)
	assert.Empty(t, devs, "d9 was not registered")
	// Escaped, the same characters are fine.
	r := do(t, h, http.MethodPost, push.PathPushMessage, "application/json", `{"user_num":"u1","title":"caf\u00e9 \ufffd","content":"c"}`)
	require.Equal(t, http.StatusOK, r.status, r.body)
	require.Len(t, f.mock.Requests(), 1)
	assert.Equal(t, "café \ufffd", f.mock.Requests()[0].Notification.Title)
}

func TestHandlerAuthorizesTheUsersItPushesTo(t *testing.T) {
	var seen []string
	auth := func(r *http.Request, a push.Action, user string) error {
		seen = append(seen, user)
		if user == "admin" {
			return errors.New("nobody pushes to admin")
		}
		return nil
	}
	f, h := newHandler(t, auth)
	f.register(t, "admin", "d1", "ios", "t1")
	r := postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": " admin", "title": "t", "content": "c"})
	assert.Equal(t, http.StatusForbidden, r.status, "white space does not get around the authorizer")
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_nums": []string{"u2", " admin "}, "title": "t", "content": "c"})
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, []string{"admin", "u2", "admin"}, seen)
	assert.Zero(t, f.mock.Calls())
}

// unreadBody fails the test if the handler reads it.
type unreadBody struct {
	t    *testing.T
	body *strings.Reader
}

func (b unreadBody) Read(p []byte) (int, error) {
	b.t.Errorf("the body was read before authentication")
	return b.body.Read(p)
}

// TestHandlerAuthenticatesFirst checks that a request without valid
// credentials is 401 whatever it holds, on every endpoint, without its body
// being read; and that with valid credentials each request gets its normal
// answer.
func TestHandlerAuthenticatesFirst(t *testing.T) {
	const good = "Bearer good"
	var authn []string // the paths Authenticate saw
	authenticate := func(r *http.Request) error {
		authn = append(authn, r.URL.Path)
		if r.Header.Get("Authorization") != good {
			return errors.New("bad token")
		}
		return nil
	}
	type request struct {
		method, target, ct, body string
	}
	huge := `{"title":"` + strings.Repeat("x", 1<<20) + `"}`
	const mpBoundary = "b0undary"
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	require.NoError(t, mw.SetBoundary(mpBoundary))
	require.NoError(t, mw.WriteField("user_num", "u1"))
	require.NoError(t, mw.WriteField("name", strings.Repeat("x", 1<<20)))
	require.NoError(t, mw.Close())
	hugeMultipart := mp.String()
	type variant struct {
		name   string
		req    request
		status int
		code   string
	}
	endpoints := []struct {
		name     string
		variants func(link, pushID int64) []variant
	}{
		{"device", func(int64, int64) []variant {
			return []variant{
				{"valid body", request{"POST", push.PathDevice, "application/json", `{"user_num":"u2","uuid":"d2","push_token":"t2","platform":"android"}`}, 200, ""},
				{"malformed JSON", request{"POST", push.PathDevice, "application/json", `{"user_num":`}, 400, "invalid_body"},
				{"wrong content type", request{"POST", push.PathDevice, "text/plain", "user_num=u2"}, 415, "unsupported_media_type"},
				{"oversize body", request{"POST", push.PathDevice, "application/json", huge}, 413, "body_too_large"},
				{"wrong method", request{"GET", push.PathDevice, "", ""}, 405, "method_not_allowed"},
			}
		}},
		{"push_message", func(int64, int64) []variant {
			return []variant{
				{"valid body", request{"POST", push.PathPushMessage, "application/json", `{"user_num":"u1","title":"t","content":"c"}`}, 200, ""},
				{"malformed JSON", request{"POST", push.PathPushMessage, "application/json", `{"user_num"`}, 400, "invalid_body"},
				{"wrong content type", request{"POST", push.PathPushMessage, "text/xml", "<x/>"}, 415, "unsupported_media_type"},
				{"oversize body", request{"POST", push.PathPushMessage, "application/x-www-form-urlencoded", "title=" + strings.Repeat("x", 1<<20+1)}, 413, "body_too_large"},
				{"wrong method", request{"DELETE", push.PathPushMessage, "application/json", `{}`}, 405, "method_not_allowed"},
			}
		}},
		{"query push_message", func(_, pushID int64) []variant {
			valid := fmt.Sprintf("%s?push_message_id=%d", push.PathQueryPush, pushID)
			return []variant{
				{"valid query", request{"GET", valid, "", ""}, 200, ""},
				{"malformed query", request{"GET", push.PathQueryPush + "?push_message_id=%7B", "", ""}, 400, "invalid_push_message_id"},
				// A GET's body and its type are not read.
				{"wrong content type", request{"GET", valid, "text/plain", "x"}, 200, ""},
				{"oversize body", request{"GET", valid, "application/json", huge}, 200, ""},
				{"wrong method", request{"POST", valid, "application/json", `{}`}, 405, "method_not_allowed"},
			}
		}},
		{"logout", func(link, _ int64) []variant {
			return []variant{
				{"valid body", request{"POST", push.PathLogout, "application/json", fmt.Sprintf(`{"user_num":"u1","user_device_id":%d}`, link)}, 200, ""},
				{"malformed JSON", request{"POST", push.PathLogout, "application/json", `{"user_num":"u1",}`}, 400, "invalid_body"},
				{"wrong content type", request{"POST", push.PathLogout, "", `{"user_num":"u1"}`}, 415, "unsupported_media_type"},
				{"oversize body", request{"POST", push.PathLogout, "multipart/form-data; boundary=" + mpBoundary, hugeMultipart}, 413, "body_too_large"},
				{"wrong method", request{"PUT", push.PathLogout, "application/json", `{}`}, 405, "method_not_allowed"},
			}
		}},
	}
	setup := func(t *testing.T) (*fixture, http.Handler, *[]string, int64, int64) {
		var authz []string // the users the Authorizer saw
		f := newFixture(t, providertest.MockConfig{}, nil)
		reg := f.register(t, "u1", "d1", "ios", "t1")
		res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
		require.NoError(t, err)
		h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Authenticate: authenticate,
			Authorize: func(_ *http.Request, _ push.Action, user string) error { authz = append(authz, user); return nil }})
		require.NoError(t, err)
		return f, h, &authz, reg.UserDeviceID, res.PushMessageID
	}
	for _, ep := range endpoints {
		for _, creds := range []string{"", "Bearer bad"} {
			for _, v := range ep.variants(1, 1) {
				t.Run(fmt.Sprintf("%s/credentials %q/%s", ep.name, creds, v.name), func(t *testing.T) {
					f, h, authz, _, _ := setup(t)
					calls := f.mock.Calls()
					authn = nil
					req := httptest.NewRequest(v.req.method, v.req.target, unreadBody{t, strings.NewReader(v.req.body)})
					if v.req.ct != "" {
						req.Header.Set("Content-Type", v.req.ct)
					}
					if creds != "" {
						req.Header.Set("Authorization", creds)
					}
					rec := httptest.NewRecorder()
					h.ServeHTTP(rec, req)
					assert.Equal(t, http.StatusUnauthorized, rec.Code, rec.Body.String())
					assert.JSONEq(t, `{"error":{"code":"unauthenticated","message":"missing or invalid credentials"}}`, rec.Body.String())
					assert.Empty(t, rec.Header().Get("Allow"), "no method check before authentication")
					assert.Equal(t, []string{strings.SplitN(v.req.target, "?", 2)[0]}, authn)
					assert.Empty(t, *authz, "the Authorizer is not asked about unauthenticated requests")
					assert.Equal(t, calls, f.mock.Calls(), "nothing is sent")
				})
			}
		}
		t.Run(ep.name+"/valid credentials", func(t *testing.T) {
			f, h, _, link, pushID := setup(t)
			for _, v := range ep.variants(link, pushID) {
				req := httptest.NewRequest(v.req.method, v.req.target, strings.NewReader(v.req.body))
				if v.req.ct != "" {
					req.Header.Set("Content-Type", v.req.ct)
				}
				req.Header.Set("Authorization", good)
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				assert.Equal(t, v.status, rec.Code, "%s: %s", v.name, rec.Body.String())
				var m map[string]any
				require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &m), v.name)
				assert.Equal(t, v.code, reply{rec.Code, m}.errCode(), v.name)
			}
			sends := 1 // the setup's push
			if ep.name == "push_message" {
				sends++ // and the valid push_message
			}
			assert.Equal(t, sends, f.mock.Calls())
		})
	}
}

func TestHandlerUnknownPathIsJSON404(t *testing.T) {
	for _, path := range []string{"/api/v1.1/nope", "/", "/api/v1.1/app/device/", "/api/v1.1//app/device", "/API/V1.1/APP/DEVICE"} {
		_, h := newHandler(t, nil)
		r := doRaw(t, h, http.MethodGet, path, "", "")
		assert.Equal(t, http.StatusNotFound, r.status, path)
		assert.Equal(t, "not_found", r.errCode(), path)
	}
	// Behind Authenticate, an unknown path tells nothing to a stranger.
	f := newFixture(t, providertest.MockConfig{}, nil)
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Authenticate: func(r *http.Request) error {
		if r.Header.Get("X-Key") != "k" {
			return errors.New("no key")
		}
		return nil
	}})
	require.NoError(t, err)
	r := doRaw(t, h, http.MethodGet, "/api/v1.1/nope", "", "")
	assert.Equal(t, http.StatusUnauthorized, r.status)
	assert.Equal(t, "unauthenticated", r.errCode())
	req := httptest.NewRequest(http.MethodGet, "/api/v1.1/nope", nil)
	req.Header.Set("X-Key", "k")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.JSONEq(t, `{"error":{"code":"not_found","message":"no endpoint at this path"}}`, rec.Body.String())
}

// TestHandlerAuthorizerSeesStoredUserNum checks that every endpoint asks
// the Authorizer about the user_num it stores or acts for: trimmed.
func TestHandlerAuthorizerSeesStoredUserNum(t *testing.T) {
	var seen []string
	auth := func(r *http.Request, a push.Action, user string) error {
		seen = append(seen, string(a)+":"+user)
		if user == "admin" {
			return errors.New("nobody acts for admin")
		}
		return nil
	}
	f, h := newHandler(t, auth)
	link := f.register(t, "admin", "d1", "ios", "t1").UserDeviceID

	r := postJSON(t, h, push.PathDevice, map[string]any{"user_num": "admin ", "uuid": "d2", "push_token": "t2", "platform": "android"})
	assert.Equal(t, http.StatusForbidden, r.status, "white space does not get around the authorizer")
	form := url.Values{"user_num": {"\tadmin"}, "uuid": {"d3"}, "push_token": {"t3"}, "platform": {"ios"}}
	r = do(t, h, http.MethodPost, push.PathDevice, "application/x-www-form-urlencoded", form.Encode())
	assert.Equal(t, http.StatusForbidden, r.status)
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": " admin", "title": "t", "content": "c"})
	assert.Equal(t, http.StatusForbidden, r.status)
	r = postJSON(t, h, push.PathLogout, map[string]any{"user_num": " admin\n", "user_device_id": link})
	assert.Equal(t, http.StatusForbidden, r.status)
	assert.Equal(t, []string{"register_device:admin", "register_device:admin", "push:admin", "logout:admin"}, seen)

	seen = nil
	r = postJSON(t, h, push.PathDevice, map[string]any{"user_num": " u2 ", "uuid": "d2", "push_token": "t2", "platform": "android"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u2", "title": "t", "content": "c"})
	require.Equal(t, http.StatusOK, r.status, "u2 was stored trimmed: %v", r.body)
	assert.Equal(t, []string{"register_device:u2", "push:u2"}, seen)
	assert.Equal(t, 1, f.mock.Calls(), "admin received nothing")
}

// TestHandlerListDevices: GET user/devices answers every device of the
// user with its token state and a masked token, never the token.
func TestHandlerListDevices(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "phone", "ios", longToken)
	f.register(t, "u1", "pad", "android", "pad"+longToken)
	f.register(t, "u2", "pad", "android", "pad"+longToken)

	req := httptest.NewRequest(http.MethodGet, push.PathUserDevices+"?user_num=u1", nil)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.NotContains(t, rec.Body.String(), longToken, "no full token in the answer")
	var body struct {
		UserNum string           `json:"user_num"`
		Devices []map[string]any `json:"devices"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "u1", body.UserNum)
	require.Len(t, body.Devices, 2)
	d := body.Devices[0]
	assert.Equal(t, "phone", d["device_uuid"])
	assert.Equal(t, "ios", d["platform"])
	assert.Equal(t, "umeng", d["push_platform"])
	assert.Equal(t, "enabled", d["token_state"])
	assert.Equal(t, "AqX9…GHIJ", d["push_token"])
	assert.Equal(t, true, d["active"])
	assert.NotNil(t, d["user_device_id"])
	assert.NotNil(t, d["linked_at"])
	assert.Equal(t, false, body.Devices[1]["active"], "the pad moved to u2")

	for _, c := range []struct {
		name, method, target string
		status               int
		code                 string
	}{
		{"no user_num", http.MethodGet, push.PathUserDevices, 400, "invalid_user_num"},
		{"blank user_num", http.MethodGet, push.PathUserDevices + "?user_num=%20", 400, "invalid_user_num"},
		{"long user_num", http.MethodGet, push.PathUserDevices + "?user_num=" + strings.Repeat("u", 256), 400, "invalid_user_num"},
		{"POST", http.MethodPost, push.PathUserDevices + "?user_num=u1", 405, "method_not_allowed"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, h, c.method, c.target, "", "")
			assert.Equal(t, c.status, r.status, r.body)
			assert.Equal(t, c.code, r.errCode())
		})
	}
	r := do(t, h, http.MethodGet, push.PathUserDevices+"?user_num=nobody", "", "")
	require.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, []any{}, r.body["devices"], "an unknown user has an empty list, not null")
}

// TestHandlerListPushes: GET query/push_messages pages through a user's
// pushes newest first with next/after, filters by since, until and
// status, and refuses bad parameters with 400 naming the field.
func TestHandlerListPushes(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "d1", "android", "t1")
	start := f.clk.Now()
	var ids []float64
	for i := range 3 {
		r := postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": fmt.Sprint("t", i), "content": "c"})
		require.Equal(t, http.StatusOK, r.status, r.body)
		ids = append(ids, r.body["push_message_id"].(float64))
		f.clk.Advance(time.Hour)
	}

	var got []float64
	target := push.PathQueryPushes + "?user_num=u1&limit=2"
	for range 5 {
		r := do(t, h, http.MethodGet, target, "", "")
		require.Equal(t, http.StatusOK, r.status, r.body)
		for _, m := range r.body["push_messages"].([]any) {
			msg := m.(map[string]any)
			got = append(got, msg["push_message_id"].(float64))
			assert.Equal(t, "success", msg["status"])
			assert.Equal(t, "accepted", msg["android_status"])
			assert.NotContains(t, msg, "android_device_tokens", "no tokens")
		}
		next, _ := r.body["next"].(string)
		if next == "" {
			break
		}
		target = push.PathQueryPushes + "?user_num=u1&limit=2&after=" + url.QueryEscape(next)
	}
	assert.Equal(t, []float64{ids[2], ids[1], ids[0]}, got)

	since := start.Add(time.Hour)
	for _, q := range []string{
		"since=" + url.QueryEscape(since.Format(time.RFC3339)),
		"since=" + fmt.Sprint(since.Unix()),
		"since=" + url.QueryEscape(since.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339)),
	} {
		r := do(t, h, http.MethodGet, push.PathQueryPushes+"?user_num=u1&"+q, "", "")
		require.Equal(t, http.StatusOK, r.status, r.body)
		assert.Len(t, r.body["push_messages"], 2, q)
	}
	r := do(t, h, http.MethodGet, push.PathQueryPushes+"?until="+url.QueryEscape(since.Format(time.RFC3339))+"&status=success", "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Len(t, r.body["push_messages"], 1, "until is exclusive; no user_num lists every push")
	r = do(t, h, http.MethodGet, push.PathQueryPushes+"?status=failed", "", "")
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, []any{}, r.body["push_messages"])

	for _, c := range []struct{ query, code string }{
		{"since=yesterday", "invalid_since"},
		{"since=2030-06-15", "invalid_since"},
		{"until=-5", "invalid_until"},
		{"since=100&until=50", "invalid_until"},
		{"status=done", "invalid_status"},
		{"after=not-a-cursor", "invalid_after"},
		{"limit=0", "invalid_limit"},
		{"limit=201", "invalid_limit"},
		{"limit=ten", "invalid_limit"},
		{"user_num=" + strings.Repeat("u", 256), "invalid_user_num"},
	} {
		t.Run(c.query, func(t *testing.T) {
			r := do(t, h, http.MethodGet, push.PathQueryPushes+"?"+c.query, "", "")
			assert.Equal(t, http.StatusBadRequest, r.status, r.body)
			assert.Equal(t, c.code, r.errCode())
		})
	}
	r = do(t, h, http.MethodPost, push.PathQueryPushes, "application/json", "{}")
	assert.Equal(t, http.StatusMethodNotAllowed, r.status)
}

// A \u escape of half a surrogate pair is no character: encoding/json
// would push U+FFFD in its place, as for bytes that are not UTF-8. Whole
// pairs, escaped backslashes before a "u" and \ufffd itself are fine. A
// body of null is not a JSON object.
func TestHandlerJSONRefusesLoneSurrogatesAndNull(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "d1", "ios", "t1")
	for _, body := range []string{
		`{"user_num":"u1","title":"\ud83d","content":"c"}`,
		`{"user_num":"u1","title":"\ud83dx","content":"c"}`,
		`{"user_num":"u1","title":"\ude00","content":"c"}`,
		`{"user_num":"u1","title":"\ud83d\u0041","content":"c"}`,
		`{"user_num":"u1","title":"t","content":"c","extra":{"k":"\uDBFF"}}`,
	} {
		r := do(t, h, http.MethodPost, push.PathPushMessage, "application/json", body)
		assert.Equal(t, http.StatusBadRequest, r.status, body)
		assert.Equal(t, "invalid_body", r.errCode(), body)
	}
	for _, path := range []string{push.PathPushMessage, push.PathDevice, push.PathLogout} {
		r := do(t, h, http.MethodPost, path, "application/json", "null")
		assert.Equal(t, http.StatusBadRequest, r.status, path)
		assert.Equal(t, "invalid_body", r.errCode(), path)
	}
	assert.Empty(t, f.mock.Requests(), "nothing was pushed")

	for _, tt := range []struct{ body, title string }{
		{`{"user_num":"u1","title":"\ud83d\ude00 ok","content":"c"}`, "😀 ok"},
		{`{"user_num":"u1","title":"a\\ud83d","content":"c"}`, `a\ud83d`},
		{`{"user_num":"u1","title":"\\\ud83d\ude00\"\\","content":"c"}`, `\😀"\`},
	} {
		r := do(t, h, http.MethodPost, push.PathPushMessage, "application/json", tt.body)
		require.Equal(t, http.StatusOK, r.status, tt.body)
		reqs := f.mock.Requests()
		assert.Equal(t, tt.title, reqs[len(reqs)-1].Notification.Title)
	}
}

// brokenDevices is a Store whose device registration fails for a reason
// the handler answers 500.
type brokenDevices struct{ registry.Store }

func (brokenDevices) RegisterDevice(context.Context, *registry.Device, string) (registry.Device, registry.UserDevice, error) {
	return registry.Device{}, registry.UserDevice{}, errors.New(`relation "sys_devices" does not exist`)
}

// TestHandler500IsLoggedByDefault: a request answered 500 says only
// "internal error"; its cause goes to slog.Default() when neither the
// handler nor the Service was given a Logger (it went nowhere), and to the
// Service's Logger when it was given one.
func TestHandler500IsLoggedByDefault(t *testing.T) {
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	register := func(h http.Handler) int {
		rec := httptest.NewRecorder()
		req := httptest.NewRequest(http.MethodPost, push.PathDevice, strings.NewReader(`{"user_num":"u1","uuid":"d1","platform":"ios","push_token":"tok"}`))
		req.Header.Set("Content-Type", "application/json")
		h.ServeHTTP(rec, req)
		return rec.Code
	}

	var global syncbuf.Buffer
	testlog.SetDefault(t, slog.New(slog.NewTextHandler(&global, nil)))
	svc, err := push.New(push.Config{Store: brokenDevices{st}, Providers: []provider.Provider{m}})
	require.NoError(t, err)
	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	require.Equal(t, http.StatusInternalServerError, register(h))
	assert.Contains(t, global.String(), `relation \"sys_devices\" does not exist`)

	var own syncbuf.Buffer
	svc, err = push.New(push.Config{Store: brokenDevices{st}, Providers: []provider.Provider{m},
		Logger: slog.New(slog.NewTextHandler(&own, nil))})
	require.NoError(t, err)
	h, err = push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	before := len(global.String())
	require.Equal(t, http.StatusInternalServerError, register(h))
	assert.Contains(t, own.String(), "sys_devices")
	assert.Len(t, global.String(), before, "the Service's Logger, not the default")
}

// TestAnIDOfTheWrongTypeIsNotMissing: a user_device_id that is sent but
// is no number or string (true, an object, an array) is named as the
// wrong type, not as missing.
func TestAnIDOfTheWrongTypeIsNotMissing(t *testing.T) {
	_, h := newHandler(t, nil)
	for v, got := range map[string]string{`true`: "a JSON boolean", `{}`: "a JSON object", `[1]`: "a JSON array",
		`1.5`: `"1.5"`, `0`: `"0"`} {
		r := doRaw(t, h, http.MethodPost, push.PathLogout, "application/json", `{"user_num":"u1","user_device_id":`+v+`}`)
		require.Equal(t, http.StatusBadRequest, r.status, v)
		assert.Equal(t, "invalid_user_device_id", r.errCode())
		assert.Equal(t, "push: user_device_id: must be a positive integer, got "+got, r.body["error"].(map[string]any)["message"], v)
	}
	r := doRaw(t, h, http.MethodPost, push.PathLogout, "application/json", `{"user_num":"u1","user_device_id":null}`)
	assert.Contains(t, r.body["error"].(map[string]any)["message"], "is required", "null is not sent")
}

// TestAParameterOfTheWrongTypeIsNotMissing: every member of a JSON body
// that is sent with a value of the wrong JSON type (a boolean, an object
// or an array where a string or a number is read; a scalar where an
// array or an object is) is named as the wrong type, never as missing
// and never dropped as if it were absent. Each request is valid but for
// that member.
func TestAParameterOfTheWrongTypeIsNotMissing(t *testing.T) {
	_, h := newHandler(t, nil)
	scalars := []string{`true`, `false`, `{}`, `{"a":"b"}`, `[]`, `["x"]`}
	valid := map[string]map[string]any{
		push.PathDevice:      {"user_num": "u1", "uuid": "d1", "push_token": "tok", "platform": "ios"},
		push.PathPushMessage: {"user_num": "u1", "title": "t", "content": "c"},
		push.PathLogout:      {"user_num": "u1", "user_device_id": 1},
	}
	for _, tc := range []struct {
		path, field string
		values      []string
		want        string
	}{
		{push.PathDevice, "user_num", scalars, "must be a string"},
		{push.PathDevice, "uuid", scalars, "must be a string"},
		{push.PathDevice, "push_token", scalars, "must be a string"},
		{push.PathDevice, "push_platform", scalars, "must be a string"},
		{push.PathDevice, "name", scalars, "must be a string"},
		{push.PathDevice, "platform", scalars, "must be a string"},
		{push.PathDevice, "os", scalars, "must be a string"},
		{push.PathDevice, "os_version", scalars, "must be a string"},
		{push.PathPushMessage, "user_num", scalars, "must be a string"},
		{push.PathPushMessage, "title", scalars, "must be a string"},
		{push.PathPushMessage, "content", scalars, "must be a string"},
		{push.PathPushMessage, "class", scalars, "must be a string"},
		{push.PathPushMessage, "idempotency_key", scalars, "must be a string"},
		{push.PathPushMessage, "user_nums", []string{`true`, `{}`, `"u2"`, `7`, `[true]`, `[{}]`}, "must be an array of strings"},
		{push.PathPushMessage, "extra", []string{`true`, `[]`, `"x"`, `7`}, "must be a JSON object"},
		{push.PathPushMessage, "overrides", []string{`true`, `[]`, `"x"`, `7`}, "must be a JSON object"},
		{push.PathLogout, "user_num", scalars, "must be a string"},
		{push.PathLogout, "user_device_id", scalars, "must be a positive integer, got a JSON "},
	} {
		for _, v := range tc.values {
			body := map[string]json.RawMessage{tc.field: json.RawMessage(v)}
			for k, x := range valid[tc.path] {
				if k != tc.field {
					body[k] = json.RawMessage(mustJSON(x))
				}
			}
			r := doRaw(t, h, http.MethodPost, tc.path, "application/json", mustJSON(body))
			require.Equal(t, http.StatusBadRequest, r.status, "%s %s=%s: %v", tc.path, tc.field, v, r.body)
			assert.Equal(t, "invalid_"+tc.field, r.errCode(), "%s %s=%s", tc.path, tc.field, v)
			msg, _ := r.body["error"].(map[string]any)["message"].(string)
			assert.Contains(t, msg, tc.want, "%s %s=%s", tc.path, tc.field, v)
			assert.NotContains(t, msg, "required", "%s %s=%s", tc.path, tc.field, v)
		}
	}
}

// TestHandlerPushExpireAt: expire_at reaches the vendor as the push's
// expiry, in RFC 3339 or Unix seconds; one that is past or malformed is a
// 400 on expire_at that records and sends nothing; a replay of a key with
// another expire_at is the first push.
func TestHandlerPushExpireAt(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "d1", "android", "t1")
	now := f.clk.Now()
	at := now.Add(2 * time.Hour).Truncate(time.Second)

	r := postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t", "content": "c",
		"expire_at": at.In(time.FixedZone("CST", 8*3600)).Format(time.RFC3339), "idempotency_key": "k1"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	first := r.body["push_message_id"]
	reqs := f.mock.Requests()
	require.Len(t, reqs, 1)
	assert.True(t, reqs[0].ExpireTime.Equal(at), "sent with %v, want %v", reqs[0].ExpireTime, at)

	form := url.Values{"user_num": {"u1"}, "title": {"t2"}, "content": {"c"}, "expire_at": {strconv.FormatInt(at.Unix(), 10)}}
	r = do(t, h, http.MethodPost, push.PathPushMessage, "application/x-www-form-urlencoded", form.Encode())
	require.Equal(t, http.StatusOK, r.status, r.body)
	reqs = f.mock.Requests()
	require.Len(t, reqs, 2)
	assert.True(t, reqs[1].ExpireTime.Equal(at), "sent with %v, want %v", reqs[1].ExpireTime, at)

	// A retry that computed its expiry anew answers the first push.
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t", "content": "c",
		"expire_at": at.Add(time.Minute).Format(time.RFC3339), "idempotency_key": "k1"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, true, r.body["duplicate"])
	assert.Equal(t, first, r.body["push_message_id"])

	for _, bad := range []any{now.Add(-time.Minute).Format(time.RFC3339), "tomorrow", "2030-06-15 08:00:00", -5, true} {
		r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t3", "content": "c", "expire_at": bad})
		require.Equal(t, http.StatusBadRequest, r.status, "%v: %v", bad, r.body)
		msg, _ := r.body["error"].(map[string]any)["message"].(string)
		assert.Contains(t, msg, "expire_at", "%v", bad)
	}
	assert.Len(t, f.mock.Requests(), 2, "nothing sent for a bad expire_at")
	list, err := f.store.ListPushMessages(context.Background(), registry.PushMessageQuery{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, list, 2, "nothing recorded for a bad expire_at")
}

// TestHandlerPushNamesUnreachedUsers: the answer lists the users the push
// reached no device of, and has no "unreached" when it reached them all.
func TestHandlerPushNamesUnreachedUsers(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "d1", "android", "t1")
	r := postJSON(t, h, push.PathPushMessage, map[string]any{"user_nums": []string{"u1", "ghost"}, "title": "t", "content": "c"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.Equal(t, []any{"ghost"}, r.body["unreached"])
	assert.Equal(t, 1.0, r.body["unreached_count"])
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t", "content": "c"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotContains(t, r.body, "unreached")
	assert.NotContains(t, r.body, "unreached_count")

	users := []string{"u1"}
	for i := range push.MaxUnreachedUsers {
		users = append(users, fmt.Sprintf("g%d", i))
	}
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_nums": users, "title": "t", "content": "c"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	assert.NotContains(t, r.body, "unreached", "too many to name")
	assert.Equal(t, float64(push.MaxUnreachedUsers), r.body["unreached_count"], "but counted")
}

// stalledStore is a store whose database stopped answering: its reads
// wait until their ctx ends.
type stalledStore struct{ registry.Store }

func (stalledStore) ListTargets(ctx context.Context, _ registry.TargetQuery) ([]registry.Target, error) {
	<-ctx.Done()
	return nil, fmt.Errorf("sqlstore: ListTargets: select targets: %w", ctx.Err())
}

func (stalledStore) GetPushMessage(ctx context.Context, _ int64) (registry.PushMessage, error) {
	<-ctx.Done()
	return registry.PushMessage{}, fmt.Errorf("sqlstore: GetPushMessage: %w", ctx.Err())
}

// TestHandlerTimeoutBoundsAStalledStore: a database that stops answering
// makes a request answer 503 with Retry-After at HandlerConfig.Timeout,
// instead of holding it until the client leaves; nothing is sent.
func TestHandlerTimeoutBoundsAStalledStore(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "t1")
	svc, err := push.New(push.Config{Store: stalledStore{f.store}, Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	logs := &syncbuf.Buffer{}
	h, err := push.NewHandler(push.HandlerConfig{Service: svc, Timeout: 50 * time.Millisecond, Logger: slog.New(slog.NewTextHandler(logs, nil))})
	require.NoError(t, err)
	for _, req := range []struct{ method, target, body string }{
		{http.MethodPost, push.PathPushMessage, `{"user_num":"u1","title":"t","content":"c"}`},
		{http.MethodGet, push.PathQueryPush + "?push_message_id=1", ""},
	} {
		type answer struct {
			code        int
			retry, body string
		}
		done := make(chan answer, 1)
		go func() {
			rq := httptest.NewRequest(req.method, req.target, strings.NewReader(req.body))
			rq.Header.Set("Content-Type", "application/json")
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, rq)
			done <- answer{rec.Code, rec.Header().Get("Retry-After"), rec.Body.String()}
		}()
		select {
		case a := <-done:
			assert.Equal(t, http.StatusServiceUnavailable, a.code, "%s: %s", req.target, a.body)
			assert.Equal(t, "5", a.retry, "an outage, not a stop")
			assert.JSONEq(t, `{"error":{"code":"unavailable","message":"the database did not answer in time; retry"}}`, a.body)
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: still waiting for the stalled store after 10s", req.target)
		}
	}
	assert.Zero(t, f.mock.Calls())
	assert.Equal(t, 2, strings.Count(logs.String(), "the store did not answer within the handler's Timeout"), logs.String())

	_, err = push.NewHandler(push.HandlerConfig{Service: svc, Timeout: -1})
	require.NoError(t, err, "a negative Timeout means no bound")
}

// TestHandlerTimeoutDoesNotCutAVendorCall: a vendor call still under way at
// the handler's Timeout runs to its end and its outcome is recorded; the
// request answers with it.
func TestHandlerTimeoutDoesNotCutAVendorCall(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "t1")
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		time.Sleep(200 * time.Millisecond) // past the Timeout below
		return nil, ctx.Err()
	})
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Timeout: 50 * time.Millisecond, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	r := postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1", "title": "t", "content": "c"})
	require.Equal(t, http.StatusOK, r.status, r.body)
	id := int64(r.body["push_message_id"].(float64))
	assert.EqualValues(t, 1, r.body["accepted"].(float64)+r.body["pending"].(float64), "answered with the delivery")
	require.Eventually(t, func() bool {
		ds, err := f.store.ListDeliveries(context.Background(), id)
		return err == nil && len(ds) == 1 && ds[0].State != registry.DeliveryPending
	}, 5*time.Second, 10*time.Millisecond, "the call's outcome is recorded")
	ds, err := f.store.ListDeliveries(context.Background(), id)
	require.NoError(t, err)
	assert.Contains(t, []registry.DeliveryState{registry.DeliveryAccepted, registry.DeliveryDone}, ds[0].State)
	assert.Equal(t, 1, f.mock.Calls())
}

// TestNestedMemberTwiceNamesItsField: a member given twice inside extra
// or overrides is refused naming that field and the member, not a
// top-level field of the same name nor the body as a whole.
func TestNestedMemberTwiceNamesItsField(t *testing.T) {
	_, h := newHandler(t, nil)
	r := doRaw(t, h, "POST", push.PathPushMessage, "application/json",
		`{"user_num":"u1","title":"t","content":"c","extra":{"title":"1","title":"2"}}`)
	assert.Equal(t, 400, r.status)
	assert.Equal(t, "invalid_extra", r.errCode())
	e, _ := r.body["error"].(map[string]any)
	assert.Equal(t, `extra: member "title" is given twice`, e["message"])
}

// TestUserNumThatReadsAsAListIsExplained: a push to a user_num that no
// device is registered for and that reads as a list ("u1,u2", a JSON
// array) finds no device, as any unknown user, and says how several
// users are given.
func TestUserNumThatReadsAsAListIsExplained(t *testing.T) {
	_, h := newHandler(t, nil)
	for _, u := range []string{"u1,u2", "u1 u2", `["u1"]`} {
		body, err := json.Marshal(map[string]string{"user_num": u, "title": "t", "content": "c"})
		require.NoError(t, err)
		r := doRaw(t, h, "POST", push.PathPushMessage, "application/json", string(body))
		assert.Equal(t, 404, r.status, u)
		assert.Equal(t, "no_active_device", r.errCode(), u)
		e, _ := r.body["error"].(map[string]any)
		assert.Contains(t, e["message"], "no device can be registered for user_num", u)
		assert.Contains(t, e["message"], "(several users are named one by one, as user_nums does)", u)
	}
	// Nor one with an invisible character, which is no list.
	body, err := json.Marshal(map[string]string{"user_num": "u20\u200b02", "title": "t", "content": "c"})
	require.NoError(t, err)
	r := doRaw(t, h, "POST", push.PathPushMessage, "application/json", string(body))
	e, _ := r.body["error"].(map[string]any)
	assert.Contains(t, e["message"], `no device can be registered for user_num "u20\u200b02": it must not hold U+200B`)
	assert.NotContains(t, e["message"], "user_nums")
	r = doRaw(t, h, "POST", push.PathPushMessage, "application/json", `{"user_num":"nobody","title":"t","content":"c"}`)
	e, _ = r.body["error"].(map[string]any)
	assert.NotContains(t, e["message"], "can be registered")
}
