package getuitest_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui/getuitest"
)

var t0 = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time      { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) add(d time.Duration) { c.mu.Lock(); defer c.mu.Unlock(); c.t = c.t.Add(d) }

type env struct {
	Code int             `json:"code"`
	Msg  string          `json:"msg"`
	Data json.RawMessage `json:"data"`
}

type fixture struct {
	t   *testing.T
	srv *getuitest.Server
	clk *clock
	app getuitest.App
	ttl time.Duration // token lifetime
}

func newFixture(t *testing.T, mod func(*getuitest.Config)) *fixture {
	t.Helper()
	clk := &clock{t: t0}
	cfg := getuitest.Config{Now: clk.Now}
	if mod != nil {
		mod(&cfg)
	}
	ttl := cfg.TokenLifetime
	if ttl == 0 {
		ttl = getuitest.DefaultTokenLifetime
	}
	return &fixture{t: t, srv: getuitest.NewServer(t, cfg), clk: clk, app: getuitest.DefaultApps()[0], ttl: ttl}
}

// call makes one raw HTTP request to path (after /v2/{appId}).
func (f *fixture) call(method, path, token string, body any) (int, env) {
	f.t.Helper()
	return f.callURL(method, f.srv.URL+getuitest.BasePath+"/"+f.app.AppID+path, token, body)
}

func (f *fixture) callURL(method, url, token string, body any) (int, env) {
	f.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		raw, err := json.Marshal(b)
		require.NoError(f.t, err)
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequest(method, url, rd)
	require.NoError(f.t, err)
	if token != "" {
		req.Header.Set("token", token)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(f.t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(f.t, err)
	var e env
	if strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json") {
		require.NoError(f.t, json.Unmarshal(raw, &e), "%s", raw)
	} else {
		e.Code, e.Msg = -1, string(raw)
	}
	return resp.StatusCode, e
}

func sign(key, ts, secret string) string {
	sum := sha256.Sum256([]byte(key + ts + secret))
	return hex.EncodeToString(sum[:])
}

func (f *fixture) authBody(ts string) map[string]any {
	return map[string]any{"sign": sign(f.app.AppKey, ts, f.app.MasterSecret), "timestamp": ts, "appkey": f.app.AppKey}
}

func (f *fixture) token() string {
	f.t.Helper()
	status, e := f.call(http.MethodPost, "/auth", "", f.authBody(strconv.FormatInt(f.clk.Now().UnixMilli(), 10)))
	require.Equal(f.t, 200, status)
	require.Zero(f.t, e.Code, e.Msg)
	var d struct {
		Token      string `json:"token"`
		ExpireTime string `json:"expire_time"`
	}
	require.NoError(f.t, json.Unmarshal(e.Data, &d))
	require.NotEmpty(f.t, d.Token)
	require.Equal(f.t, strconv.FormatInt(f.clk.Now().Add(f.ttl).UnixMilli(), 10), d.ExpireTime)
	return d.Token
}

func notificationPush(rid string, aud any) map[string]any {
	m := map[string]any{
		"request_id":   rid,
		"push_message": map[string]any{"notification": map[string]any{"title": "t", "body": "b", "click_type": "startapp"}},
	}
	if aud != nil {
		m["audience"] = aud
	}
	return m
}

func TestAuth(t *testing.T) {
	f := newFixture(t, func(c *getuitest.Config) { c.AuthRateLimit = 9 })
	ts := strconv.FormatInt(t0.UnixMilli(), 10)
	edit := func(k string, v any) map[string]any { b := f.authBody(ts); b[k] = v; return b }
	tests := []struct {
		name string
		body any
		code int
		msg  string
	}{
		{"ok", f.authBody(ts), 0, "success"},
		{"numeric timestamp", map[string]any{"sign": sign(f.app.AppKey, ts, f.app.MasterSecret), "timestamp": t0.UnixMilli(), "appkey": f.app.AppKey}, 0, "success"},
		{"wrong sign", edit("sign", sign(f.app.AppKey, ts, "wrong")), 20001, "sign is invalid"},
		{"upper-case sign", edit("sign", strings.ToUpper(sign(f.app.AppKey, ts, f.app.MasterSecret))), 20001, "sign is invalid"},
		{"wrong appkey", edit("appkey", "other"), 20001, "appkey is invalid"},
		{"seconds", f.authBody(strconv.FormatInt(t0.Unix(), 10)), 20001, "13 digits"},
		{"too old", f.authBody(strconv.FormatInt(t0.Add(-11*time.Minute).UnixMilli(), 10)), 20001, "away from the server's clock"},
		{"unknown field", edit("extra", 1), 20001, "unknown field"},
		{"not JSON", "{", 20001, "not JSON"},
		{"rate", f.authBody(ts), 10003, "auth over 9"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, e := f.call(http.MethodPost, "/auth", "", tt.body)
			assert.Equal(t, tt.code, e.Code)
			assert.Contains(t, e.Msg, tt.msg)
		})
	}
	f.clk.add(time.Minute)
	_, e := f.call(http.MethodPost, "/auth", "", f.authBody(strconv.FormatInt(f.clk.Now().UnixMilli(), 10)))
	assert.Zero(t, e.Code, "the rate window moved on")
}

func TestTokens(t *testing.T) {
	f := newFixture(t, func(c *getuitest.Config) { c.TokenLifetime = time.Hour })
	body := notificationPush("request-0001", map[string]any{"cid": []string{getuitest.CID("a")}})
	for _, tok := range []string{"", "unknown"} {
		status, e := f.call(http.MethodPost, "/push/single/cid", tok, body)
		assert.Equal(t, 401, status)
		assert.Equal(t, 10001, e.Code)
	}
	tok := f.token()
	_, e := f.call(http.MethodPost, "/push/single/cid", tok, body)
	assert.Zero(t, e.Code)
	f.clk.add(time.Hour)
	_, e = f.call(http.MethodPost, "/push/single/cid", tok, notificationPush("request-0002", map[string]any{"cid": []string{getuitest.CID("a")}}))
	assert.Equal(t, 10001, e.Code, "expired")
	tok = f.token()
	f.srv.ExpireTokens()
	_, e = f.call(http.MethodPost, "/push/single/cid", tok, notificationPush("request-0003", map[string]any{"cid": []string{getuitest.CID("a")}}))
	assert.Equal(t, 10001, e.Code, "ExpireTokens")
	assert.Equal(t, 1, f.srv.DeliveryCount(getuitest.CID("a")))
}

func TestRoutes(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token()
	status, e := f.call(http.MethodPost, "/push/nowhere", tok, "{}")
	assert.Equal(t, 404, status)
	assert.Equal(t, getuitest.CodeNotFound, e.Code)
	status, e = f.call(http.MethodGet, "/push/single/cid", tok, nil)
	assert.Equal(t, 405, status)
	assert.Equal(t, getuitest.CodeMethod, e.Code)
	status, e = f.callURL(http.MethodPost, f.srv.URL+"/v2/unknownApp/auth", "", "{}")
	assert.Equal(t, 400, status)
	assert.Equal(t, 20001, e.Code)
	status, e = f.callURL(http.MethodPost, f.srv.URL+"/v3/"+f.app.AppID+"/auth", "", "{}")
	assert.Equal(t, 404, status, "another base path before MoveHost")
	assert.Equal(t, 1, f.srv.Arrived(""), "unknown paths are counted under \"\"")
}

func TestMoveHost(t *testing.T) {
	f := newFixture(t, nil)
	require.Error(t, f.srv.MoveHost("east"))
	require.NoError(t, f.srv.MoveHost("/v2-east"))
	assert.Equal(t, f.srv.URL+"/v2-east", f.srv.BaseURL())
	_, e := f.call(http.MethodPost, "/auth", "", f.authBody(strconv.FormatInt(t0.UnixMilli(), 10)))
	assert.Equal(t, 301, e.Code)
	assert.JSONEq(t, `{"host_list":[{"domain_list":["`+f.srv.URL+`/v2-east"]}]}`, string(e.Data))
	_, e = f.callURL(http.MethodPost, f.srv.URL+"/v2-east/"+f.app.AppID+"/auth", "", f.authBody(strconv.FormatInt(t0.UnixMilli(), 10)))
	assert.Zero(t, e.Code)
}

// TestPushBodyRules checks the body rules row by row on /push/single/cid.
func TestPushBodyRules(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token()
	good := func() map[string]any {
		return notificationPush("request-good-1", map[string]any{"cid": []string{getuitest.CID("a")}})
	}
	with := func(edit func(m map[string]any)) map[string]any { m := good(); edit(m); return m }
	pm := func(v any) map[string]any { return with(func(m map[string]any) { m["push_message"] = v }) }
	nt := func(kv ...any) map[string]any {
		n := map[string]any{"title": "t", "body": "b", "click_type": "startapp"}
		for i := 0; i+1 < len(kv); i += 2 {
			n[kv[i].(string)] = kv[i+1]
		}
		return pm(map[string]any{"notification": n})
	}
	ch := func(v any) map[string]any { return with(func(m map[string]any) { m["push_channel"] = v }) }
	ios := func(v map[string]any) map[string]any { return ch(map[string]any{"ios": v}) }
	tests := []struct {
		name string
		body any
		msg  string // empty: accepted
	}{
		{"good", good(), ""},
		{"not an object", `[1]`, "not a JSON object"},
		{"unknown top-level", with(func(m map[string]any) { m["x"] = 1 }), `unknown field "x"`},
		{"no request_id", with(func(m map[string]any) { delete(m, "request_id") }), "request_id must be 10 to 32"},
		{"request_id of 9", with(func(m map[string]any) { m["request_id"] = "123456789" }), "request_id must be 10 to 32"},
		{"request_id of 33", with(func(m map[string]any) { m["request_id"] = strings.Repeat("r", 33) }), "request_id must be 10 to 32"},
		{"ttl too long", with(func(m map[string]any) { m["settings"] = map[string]any{"ttl": 3*24*3600*1000 + 1} }), "settings.ttl"},
		{"ttl -1", with(func(m map[string]any) { m["settings"] = map[string]any{"ttl": -1} }), ""},
		{"ttl string", with(func(m map[string]any) { m["settings"] = map[string]any{"ttl": "60"} }), "settings.ttl"},
		{"strategy 5", with(func(m map[string]any) { m["settings"] = map[string]any{"strategy": map[string]any{"hw": 5}} }), "settings.strategy.hw"},
		{"schedule on single", with(func(m map[string]any) { m["settings"] = map[string]any{"schedule_time": t0.Add(time.Hour).UnixMilli()} }), "only for /push/all"},
		{"no audience", with(func(m map[string]any) { delete(m, "audience") }), "audience is required"},
		{"two cids", with(func(m map[string]any) {
			m["audience"] = map[string]any{"cid": []string{getuitest.CID("a"), getuitest.CID("b")}}
		}), "at most 1"},
		{"bad cid", with(func(m map[string]any) { m["audience"] = map[string]any{"cid": []string{"ABC"}} }), "is not a Getui cid"},
		{"alias on cid path", with(func(m map[string]any) { m["audience"] = map[string]any{"alias": []string{"u"}} }), `unknown field "alias"`},
		{"no push_message", with(func(m map[string]any) { delete(m, "push_message") }), "push_message is required"},
		{"two messages", pm(map[string]any{"transmission": "x", "notification": map[string]any{}}), "exactly one"},
		{"empty transmission", pm(map[string]any{"transmission": ""}), "transmission must be"},
		{"transmission 3073", pm(map[string]any{"transmission": strings.Repeat("x", 3073)}), "transmission must be"},
		{"transmission 3072", pm(map[string]any{"transmission": strings.Repeat("x", 3072)}), ""},
		{"title of 51", nt("title", strings.Repeat("标", 51)), "title must be 1 to 50"},
		{"title of 50", nt("title", strings.Repeat("标", 50)), ""},
		{"title of 26 emoji, 52 UTF-16 units", nt("title", strings.Repeat("😀", 26)), "title must be 1 to 50"},
		{"title of 25 emoji, 50 UTF-16 units", nt("title", strings.Repeat("😀", 25)), ""},
		{"no body", nt("body", ""), "body must be 1 to 256"},
		{"body of 257", nt("body", strings.Repeat("字", 257)), "body must be 1 to 256"},
		{"click type", nt("click_type", "open"), "click_type must be"},
		{"intent missing", nt("click_type", "intent"), "intent is required"},
		{"url not http", nt("click_type", "url", "url", "ftp://x"), "url must be an http(s) URL"},
		{"payload missing", nt("click_type", "payload"), "payload is required"},
		{"payload ok", nt("click_type", "payload", "payload", "{}"), ""},
		{"non-string member", nt("badge_add_num", 1), "must be a string"},
		{"unknown notification member", nt("sound", "x"), `unknown field "sound"`},
		{"ios type", ios(map[string]any{"type": "alert", "aps": map[string]any{"content-available": 1}}), "type must be"},
		{"ios no aps", ios(map[string]any{"type": "notify"}), "aps is required"},
		{"ios aps without alert", ios(map[string]any{"type": "notify", "aps": map[string]any{"content-available": 0}}), "needs an alert or content-available 1"},
		{"ios alert empty", ios(map[string]any{"type": "notify", "aps": map[string]any{"alert": map[string]any{}}}), "needs a title or a body"},
		{"ios content-available 2", ios(map[string]any{"type": "notify", "aps": map[string]any{"content-available": 2}}), "content-available must be 0 or 1"},
		{"ios unknown aps member", ios(map[string]any{"type": "notify", "aps": map[string]any{"content-available": 1, "badge": 1}}), `unknown field "badge"`},
		{"ios auto_badge number", ios(map[string]any{"type": "notify", "aps": map[string]any{"content-available": 1}, "auto_badge": 1}), "auto_badge must be a string"},
		{"ios ok", ios(map[string]any{"type": "notify", "aps": map[string]any{"alert": map[string]any{"body": "b"}, "sound": "default"}, "auto_badge": "+1", "payload": "{}"}), ""},
		{"android without ups", ch(map[string]any{"android": map[string]any{}}), "ups is required"},
		{"ups two contents", ch(map[string]any{"android": map[string]any{"ups": map[string]any{"transmission": "x", "notification": map[string]any{}}}}), "exactly one"},
		{"ups notification title", ch(map[string]any{"android": map[string]any{"ups": map[string]any{"notification": map[string]any{"body": "b", "click_type": "none"}}}}), "title must be"},
		{"ups maker", ch(map[string]any{"android": map[string]any{"ups": map[string]any{"transmission": "x", "options": map[string]any{"APPLE": map[string]any{}}}}}), `unknown maker "APPLE"`},
		{"ups option value", ch(map[string]any{"android": map[string]any{"ups": map[string]any{"transmission": "x", "options": map[string]any{"HW": map[string]any{"k": []int{1}}}}}}), "must be a string, number or boolean"},
		{"ups ok", ch(map[string]any{"android": map[string]any{"ups": map[string]any{"transmission": "x", "options": map[string]any{"HW": map[string]any{"/message/android/category": "IM"}, "VV": map[string]any{"/classification": 1}}}}}), ""},
	}
	for i, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if m, ok := tt.body.(map[string]any); ok {
				if _, has := m["request_id"]; has && m["request_id"] == "request-good-1" {
					m["request_id"] = fmt.Sprintf("request-good-%03d", i) // each accepted body is new
				}
			}
			status, e := f.call(http.MethodPost, "/push/single/cid", tok, tt.body)
			if tt.msg == "" {
				assert.Equal(t, 200, status)
				assert.Zero(t, e.Code, e.Msg)
				return
			}
			assert.Equal(t, 400, status)
			assert.Equal(t, getuitest.CodeInvalidParams, e.Code)
			assert.Contains(t, e.Msg, tt.msg)
		})
	}
}

func TestDeliveryDedupeAndTasks(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token()
	a, b, dead := getuitest.CID("a"), getuitest.CID("b"), getuitest.CID("dead")
	require.NoError(t, f.srv.AddDevice(f.app.AppID, getuitest.Device{CID: a, Platform: "android", Alias: "u1", Tags: []string{"vip"}}))
	f.srv.MarkInvalid(dead)

	// Single push, then the same request_id again.
	body := notificationPush("request-dedupe-1", map[string]any{"cid": []string{a}})
	_, first := f.call(http.MethodPost, "/push/single/cid", tok, body)
	_, again := f.call(http.MethodPost, "/push/single/cid", tok, body)
	assert.Equal(t, first, again, "the first answer again")
	assert.Equal(t, 1, f.srv.DeliveryCount(a), "not delivered twice")
	var res map[string]map[string]string
	require.NoError(t, json.Unmarshal(first.Data, &res))
	for id, m := range res {
		assert.True(t, strings.HasPrefix(id, "RASS_"), id)
		assert.Equal(t, map[string]string{a: "successed_online"}, m)
	}
	dups := 0
	for _, r := range f.srv.RequestsTo("/push/single/cid") {
		if r.Duplicate {
			dups++
		}
	}
	assert.Equal(t, 1, dups)

	// A dead cid.
	_, e := f.call(http.MethodPost, "/push/single/cid", tok, notificationPush("request-dead-01", map[string]any{"cid": []string{dead}}))
	assert.Equal(t, 20001, e.Code)
	assert.Equal(t, "target user is invalid", e.Msg)

	// A list task: create, send twice, report, stop.
	_, e = f.call(http.MethodPost, "/push/list/message", tok, notificationPush("request-list-01", nil))
	require.Zero(t, e.Code, e.Msg)
	var created struct{ Taskid string }
	require.NoError(t, json.Unmarshal(e.Data, &created))
	assert.True(t, strings.HasPrefix(created.Taskid, "RASL_"))
	list := map[string]any{"audience": map[string]any{"cid": []string{a, b, dead}}, "taskid": created.Taskid, "is_async": false}
	_, e = f.call(http.MethodPost, "/push/list/cid", tok, list)
	require.Zero(t, e.Code, e.Msg)
	res = nil
	require.NoError(t, json.Unmarshal(e.Data, &res))
	assert.Equal(t, map[string]string{a: "successed_online", b: "successed_offline", dead: "target user is invalid"}, res[created.Taskid])
	_, e = f.call(http.MethodPost, "/push/list/cid", tok, list)
	require.Zero(t, e.Code)
	assert.Equal(t, 2, f.srv.DeliveryCount(a), "once by the single push, once by the task")
	// A list naming a cid or an alias twice is refused whole, as Getui
	// does (20001 "contains duplicate {param}"), and delivers nothing.
	for api, aud := range map[string]map[string]any{
		"/push/list/cid":   {"cid": []string{a, b, a}},
		"/push/list/alias": {"alias": []string{"u1", "u1"}},
	} {
		status, e := f.call(http.MethodPost, api, tok, map[string]any{"audience": aud, "taskid": created.Taskid})
		assert.Equal(t, 400, status, api)
		assert.Equal(t, 20001, e.Code, api)
		assert.Equal(t, "contains duplicate "+strings.TrimPrefix(api, "/push/list/"), e.Msg)
	}
	assert.Equal(t, 2, f.srv.DeliveryCount(a), "nothing delivered by a refused list")
	assert.Equal(t, 1, f.srv.DeliveryCount(b))
	assert.Zero(t, f.srv.DeliveryCount(dead))

	_, e = f.call(http.MethodGet, "/report/push/task/"+created.Taskid, tok, nil)
	require.Zero(t, e.Code)
	assert.JSONEq(t, `{"`+created.Taskid+`":{"total":{"msg_num":3,"target_num":2,"receive_num":1,"display_num":0,"click_num":0}}}`, string(e.Data))
	_, e = f.call(http.MethodDelete, "/task/"+created.Taskid, tok, nil)
	assert.Zero(t, e.Code)
	assert.True(t, f.srv.Stopped(created.Taskid))
	for _, tc := range []struct{ method, path, msg string }{
		{http.MethodDelete, "/task/" + created.Taskid, "already stopped"},
		{http.MethodGet, "/report/push/task/RASL_0101_nothing", "is invalid"},
		{http.MethodDelete, "/task/RASL_0101_nothing", "is invalid"},
	} {
		_, e = f.call(tc.method, tc.path, tok, nil)
		assert.Equal(t, 20001, e.Code)
		assert.Contains(t, e.Msg, tc.msg)
	}
	_, e = f.call(http.MethodPost, "/push/list/cid", tok, list)
	assert.Contains(t, e.Msg, "is stopped")
	for id := range first.dataMap(t) {
		_, e = f.call(http.MethodGet, "/report/push/task/"+id, tok, nil)
		assert.Contains(t, e.Msg, "single push")
	}

	// Alias and tag pushes.
	_, e = f.call(http.MethodPost, "/push/single/alias", tok, notificationPush("request-alias-1", map[string]any{"alias": []string{"u1"}}))
	assert.Zero(t, e.Code, e.Msg)
	_, e = f.call(http.MethodPost, "/push/single/alias", tok, notificationPush("request-alias-2", map[string]any{"alias": []string{"nobody"}}))
	assert.Equal(t, 20001, e.Code)
	_, e = f.call(http.MethodPost, "/push/tag", tok, notificationPush("request-tag-001", map[string]any{"tag": []any{
		map[string]any{"key": "custom_tag", "values": []string{"vip"}, "opt_type": "or"},
		map[string]any{"key": "phone_type", "values": []string{"android"}, "opt_type": "and"}}}))
	require.Zero(t, e.Code, e.Msg)
	_, e = f.call(http.MethodPost, "/push/all", tok, notificationPush("request-all-001", "all"))
	require.Zero(t, e.Code, e.Msg)
	assert.Equal(t, 5, f.srv.DeliveryCount(a))

	// A batch of single pushes.
	batch := map[string]any{"is_async": false, "msg_list": []any{
		notificationPush("request-batch-1", map[string]any{"cid": []string{a}}),
		notificationPush("request-batch-2", map[string]any{"cid": []string{dead}}),
	}}
	_, e = f.call(http.MethodPost, "/push/single/batch/cid", tok, batch)
	require.Zero(t, e.Code, e.Msg)
	res = nil
	require.NoError(t, json.Unmarshal(e.Data, &res))
	assert.Len(t, res, 2)
	assert.Equal(t, 6, f.srv.DeliveryCount(a))
	// single ×2, dead single, list ×3, alias ×2, the two lists refused
	// for a duplicate, tag, all, batch: refused and repeated calls count
	// too.
	assert.Equal(t, 13, f.srv.DeliveringCalls())
}

func (e env) dataMap(t *testing.T) map[string]json.RawMessage {
	var m map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(e.Data, &m))
	return m
}

// TestScheduleTimeWithinSevenDays: a broadcast may be scheduled up to 7
// days ahead, not a millisecond more.
func TestScheduleTimeWithinSevenDays(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token()
	scheduled := func(rid string, at time.Time) map[string]any {
		b := notificationPush(rid, "all")
		b["settings"] = map[string]any{"schedule_time": at.UnixMilli()}
		return b
	}
	_, e := f.call(http.MethodPost, "/push/all", tok, scheduled("request-sched-7d", t0.Add(7*24*time.Hour)))
	assert.Zero(t, e.Code, e.Msg)
	_, e = f.call(http.MethodPost, "/push/all", tok, scheduled("request-sched-7d1", t0.Add(7*24*time.Hour+time.Millisecond)))
	assert.Equal(t, 20001, e.Code)
	assert.Contains(t, e.Msg, "schedule_time must be within 7 days")
}

func TestFaults(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token()
	push := func(i int) (int, env) {
		return f.call(http.MethodPost, "/push/single/cid", tok, notificationPush(fmt.Sprintf("request-fault-%02d", i), map[string]any{"cid": []string{getuitest.CID("a")}}))
	}
	require.NoError(t, f.srv.FailNext(1, getuitest.Fault{API: "/push/single/cid", Code: getuitest.CodeCallRate}))
	status, e := push(1)
	assert.Equal(t, 401, status, "Getui answers 10001–10005 with 401")
	assert.Equal(t, 10005, e.Code)
	require.NoError(t, f.srv.FailNext(1, getuitest.Fault{Code: getuitest.CodeBlacklisted, Msg: "black"}))
	status, e = push(2)
	assert.Equal(t, 401, status)
	assert.Equal(t, "black", e.Msg)
	require.NoError(t, f.srv.FailNext(1, getuitest.Fault{HTTPStatus: 502}))
	status, e = push(3)
	assert.Equal(t, 502, status)
	assert.Equal(t, -1, e.Code, "plain text")
	require.NoError(t, f.srv.FailNext(1, getuitest.Fault{Code: getuitest.CodeWrongHost}))
	_, e = push(4)
	assert.Equal(t, 301, e.Code)
	assert.Contains(t, string(e.Data), f.srv.BaseURL())
	assert.Zero(t, f.srv.DeliveryCount(getuitest.CID("a")))

	require.NoError(t, f.srv.FailNext(1, getuitest.Fault{AfterAccept: true, Timeout: true, Delay: 5 * time.Millisecond}))
	req, _ := http.NewRequest(http.MethodPost, f.srv.BaseURL()+"/"+f.app.AppID+"/push/single/cid",
		strings.NewReader(`{"request_id":"request-fault-05","audience":{"cid":["`+getuitest.CID("a")+`"]},"push_message":{"transmission":"x"}}`))
	req.Header.Set("token", tok)
	_, err := http.DefaultClient.Do(req)
	require.Error(t, err, "the connection is dropped")
	assert.Equal(t, 1, f.srv.DeliveryCount(getuitest.CID("a")), "accepted before the answer was lost")

	for _, bad := range []getuitest.Fault{{}, {API: "/nope", Code: 1}, {HTTPStatus: 99}, {Code: -1}, {Code: 1, Data: json.RawMessage("{")}} {
		assert.ErrorIs(t, f.srv.FailNext(1, bad), getuitest.ErrInvalidArgument)
	}
	assert.ErrorIs(t, f.srv.FailNext(0, getuitest.Fault{Code: 1}), getuitest.ErrInvalidArgument)
	assert.ErrorIs(t, f.srv.FailRate(2, getuitest.Fault{Code: 1}, 1), getuitest.ErrInvalidArgument)
	assert.ErrorIs(t, f.srv.SetLatency(-1), getuitest.ErrInvalidArgument)

	require.NoError(t, f.srv.FailRate(1, getuitest.Fault{API: "/report/push/task/{taskid}", Code: getuitest.CodeStarting}, 7))
	_, e = f.call(http.MethodGet, "/report/push/task/RASL_x", tok, nil)
	assert.Equal(t, 2, e.Code)
	require.NoError(t, f.srv.FailRate(0, getuitest.Fault{}, 0))
	require.NoError(t, f.srv.SetLatency(time.Millisecond))
	f.srv.ClearFaults()
	_, e = push(6)
	assert.Zero(t, e.Code)
}

func TestStallByAPI(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token()
	release := f.srv.Stall("/push/single/cid")
	defer release()
	// Other APIs pass.
	_, e := f.call(http.MethodGet, "/report/push/task/RASL_x", tok, nil)
	assert.Equal(t, 20001, e.Code)
	done := make(chan env, 1)
	go func() {
		_, e := f.call(http.MethodPost, "/push/single/cid", tok, notificationPush("request-stall-1", map[string]any{"cid": []string{getuitest.CID("a")}}))
		done <- e
	}()
	require.NoError(t, f.srv.WaitStalled(context.Background(), 1))
	assert.Equal(t, 1, f.srv.Stalled())
	assert.Zero(t, f.srv.DeliveryCount(getuitest.CID("a")), "held before it changes anything")
	release()
	release()
	assert.Zero(t, (<-done).Code)
	ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
	defer cancel()
	assert.Error(t, f.srv.WaitStalled(ctx, 1))
}

func TestConfigAndLifecycle(t *testing.T) {
	for name, cfg := range map[string]getuitest.Config{
		"empty apps":     {Apps: []getuitest.App{}},
		"bad app id":     {Apps: []getuitest.App{{AppID: "a/b", AppKey: "k", MasterSecret: "s"}}},
		"no secret":      {Apps: []getuitest.App{{AppID: "a", AppKey: "k"}}},
		"duplicate":      {Apps: []getuitest.App{{AppID: "a", AppKey: "k", MasterSecret: "s"}, {AppID: "a", AppKey: "k", MasterSecret: "s"}}},
		"token lifetime": {TokenLifetime: -1},
		"window":         {TimestampWindow: -1},
		"call rate":      {CallRateLimit: -1},
		"keep":           {Keep: -1},
	} {
		t.Run(name, func(t *testing.T) {
			_, err := getuitest.New(cfg)
			assert.ErrorIs(t, err, getuitest.ErrInvalidConfig)
		})
	}
	s, err := getuitest.New(getuitest.Config{})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	assert.ErrorIs(t, s.Start(), getuitest.ErrInvalidArgument)
	s.Close()
	s.Close()
	assert.True(t, errors.Is(s.Start(), getuitest.ErrClosed))
	assert.Error(t, s.AddDevice("nope", getuitest.Device{CID: getuitest.CID("a"), Platform: "ios"}))
	app := getuitest.DefaultApps()[0].AppID
	assert.Error(t, s.AddDevice(app, getuitest.Device{CID: "x", Platform: "ios"}))
	assert.Error(t, s.AddDevice(app, getuitest.Device{CID: getuitest.CID("a"), Platform: "web"}))
	assert.Error(t, s.SetReport("RASL_none", getuitest.Report{}))
}

// TestCloseDropsIdleDials: a connection that never sends a request does
// not hold Close up (http.Server.Shutdown alone waits five seconds).
func TestCloseDropsIdleDials(t *testing.T) {
	s, err := getuitest.New(getuitest.Config{})
	require.NoError(t, err)
	require.NoError(t, s.Start())
	conn, err := net.Dial("tcp", strings.TrimPrefix(s.URL, "http://"))
	require.NoError(t, err)
	defer conn.Close()
	time.Sleep(20 * time.Millisecond) // let the server accept it
	began := time.Now()
	s.Close()
	assert.Less(t, time.Since(began), 2*time.Second)
}

func TestCallRateAndIDs(t *testing.T) {
	f := newFixture(t, func(c *getuitest.Config) { c.CallRateLimit = 1 })
	tok := f.token()
	_, e := f.call(http.MethodGet, "/report/push/task/RASL_x", tok, nil)
	assert.Equal(t, 20001, e.Code)
	status, e := f.call(http.MethodGet, "/report/push/task/RASL_x", tok, nil)
	assert.Equal(t, 10005, e.Code)
	assert.Equal(t, http.StatusUnauthorized, status)
	assert.Len(t, getuitest.CID("x"), 32)
	assert.Equal(t, getuitest.CID("x"), getuitest.CID("x"))
	assert.NotEqual(t, getuitest.CID("x"), getuitest.CID("y"))
	f.srv.Reset()
	assert.Empty(t, f.srv.Requests())
	assert.Empty(t, f.srv.Deliveries())
}

// TestDropRepeatedRequestID: with DropRepeatedRequestID a repeated
// request_id is refused with 20001 and delivers nothing.
func TestDropRepeatedRequestID(t *testing.T) {
	f := newFixture(t, func(c *getuitest.Config) { c.DropRepeatedRequestID = true })
	tok := f.token()
	a := getuitest.CID("a")
	body := notificationPush("request-drop-01", map[string]any{"cid": []string{a}})
	_, first := f.call(http.MethodPost, "/push/single/cid", tok, body)
	require.Zero(t, first.Code, first.Msg)
	status, again := f.call(http.MethodPost, "/push/single/cid", tok, body)
	assert.Equal(t, 400, status)
	assert.Equal(t, 20001, again.Code)
	assert.Equal(t, "request_id cannot be repeat.", again.Msg, "Getui's code table: {param} cannot be repeat.")
	assert.Equal(t, 1, f.srv.DeliveryCount(a))
	reqs := f.srv.RequestsTo("/push/single/cid")
	require.Len(t, reqs, 2)
	assert.True(t, reqs[1].Duplicate)
	assert.False(t, reqs[1].Accepted)
}

// TestKeepBoundsWhatTheServerRemembers: under Keep the oldest requests,
// deliveries and receipt posts are forgotten, and the receipts of the
// deliveries kept still carry the msgids of their places.
func TestKeepBoundsWhatTheServerRemembers(t *testing.T) {
	f := newFixture(t, func(c *getuitest.Config) { c.Keep = 2 })
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	t.Cleanup(hook.Close)
	tok := f.token()
	push := func(n int) string {
		t.Helper()
		_, e := f.call(http.MethodPost, "/push/single/cid", tok,
			notificationPush(fmt.Sprintf("request-%04d", n), map[string]any{"cid": []string{getuitest.CID(strconv.Itoa(n))}}))
		require.Zero(t, e.Code, e.Msg)
		return getuitest.CID(strconv.Itoa(n))
	}
	msgIDs := func(p getuitest.ReceiptPost) (cids, suffixes []string) {
		for line := range strings.SplitSeq(string(p.Body), "\n") {
			var r struct{ CID, TaskID, MsgID string }
			require.NoError(t, json.Unmarshal([]byte(line), &r))
			cids = append(cids, r.CID)
			suffixes = append(suffixes, strings.TrimPrefix(r.MsgID, r.TaskID))
		}
		return cids, suffixes
	}
	push(1)
	c2, c3 := push(2), push(3)
	ds := f.srv.Deliveries()
	require.Len(t, ds, 2, "the newest two deliveries")
	assert.Equal(t, []string{c2, c3}, []string{ds[0].CID, ds[1].CID})
	reqs := f.srv.Requests()
	require.Len(t, reqs, 2, "the newest two requests")
	assert.Equal(t, reqs[0].Seq+1, reqs[1].Seq)
	assert.Equal(t, 3, f.srv.Arrived("/push/single/cid"), "arrivals are counted beyond the bound")

	post, err := f.srv.PostReceipts(t.Context(), hook.URL)
	require.NoError(t, err)
	cids, suffixes := msgIDs(post)
	assert.Equal(t, []string{c2, c3}, cids, "the forgotten delivery's arrival is not posted")
	assert.Equal(t, []string{"-1", "-2"}, suffixes, "msgids keep the deliveries' places")

	c4 := push(4)
	post, err = f.srv.PostReceipts(t.Context(), hook.URL)
	require.NoError(t, err)
	cids, suffixes = msgIDs(post)
	assert.Equal(t, []string{c4}, cids, "each arrival is posted once, after forgetting too")
	assert.Equal(t, []string{"-3"}, suffixes)
	_, err = f.srv.Receipt(t.Context(), hook.URL, c4, getuitest.ActionClicked)
	require.NoError(t, err)
	assert.Len(t, f.srv.ReceiptPosts(), 2, "the newest two posts of three")
}

// TestRequestIDIsScopedToItsApp checks that a request_id deduplicates
// within its app only: another app using the same request_id pushes.
func TestRequestIDIsScopedToItsApp(t *testing.T) {
	one := getuitest.DefaultApps()[0]
	two := getuitest.App{AppID: "gtFakeAppID00000000002", AppKey: "gtFakeAppKey0000000002", MasterSecret: "gtFakeMasterSecret0000000000002"}
	f := newFixture(t, func(c *getuitest.Config) { c.Apps = []getuitest.App{one, two} })
	body := notificationPush("request-shared-1", map[string]any{"cid": []string{getuitest.CID("a")}})
	for _, app := range []getuitest.App{one, two} {
		f.app = app
		status, e := f.call(http.MethodPost, "/push/single/cid", f.token(), body)
		require.Equal(t, 200, status, e.Msg)
		require.Zero(t, e.Code, e.Msg)
	}
	assert.Equal(t, 2, f.srv.DeliveryCount(getuitest.CID("a")), "each app's push delivers")
	for _, r := range f.srv.RequestsTo("/push/single/cid") {
		assert.False(t, r.Duplicate, "app %s", r.AppID)
	}
}

// TestBatchSkipsARepeatedRequestID checks that a push of a batch whose
// request_id was used before is dropped, as a single push's is: it
// delivers nothing again and has no entry in the answer.
func TestBatchSkipsARepeatedRequestID(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token()
	a, b := getuitest.CID("a"), getuitest.CID("b")
	_, e := f.call(http.MethodPost, "/push/single/cid", tok, notificationPush("request-batch-01", map[string]any{"cid": []string{a}}))
	require.Zero(t, e.Code, e.Msg)
	batch := map[string]any{"msg_list": []any{
		notificationPush("request-batch-01", map[string]any{"cid": []string{a}}),
		notificationPush("request-batch-02", map[string]any{"cid": []string{b}}),
		notificationPush("request-batch-02", map[string]any{"cid": []string{b}}),
	}}
	_, e = f.call(http.MethodPost, "/push/single/batch/cid", tok, batch)
	require.Zero(t, e.Code, e.Msg)
	var res map[string]map[string]string
	require.NoError(t, json.Unmarshal(e.Data, &res))
	assert.Len(t, res, 1, "only request-batch-02's first push is new")
	assert.Equal(t, 1, f.srv.DeliveryCount(a), "request-batch-01 was pushed before")
	assert.Equal(t, 1, f.srv.DeliveryCount(b), "request-batch-02 once")
}

// TestListLimitsAre200 pins the limits of 200: a list task's audience.cid
// and audience.alias, and a batch's msg_list, take 200 and refuse 201 with
// 20001, delivering nothing.
func TestListLimitsAre200(t *testing.T) {
	f := newFixture(t, nil)
	tok := f.token()
	_, e := f.call(http.MethodPost, "/push/list/message", tok, notificationPush("request-limit-01", nil))
	require.Zero(t, e.Code, e.Msg)
	var created struct{ Taskid string }
	require.NoError(t, json.Unmarshal(e.Data, &created))
	cids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = getuitest.CID(fmt.Sprint("limit-", i))
		}
		return out
	}
	aliases := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprint("alias-", i)
		}
		return out
	}
	batch := func(n int) map[string]any {
		list := make([]any, n)
		for i, cid := range cids(n) {
			list[i] = notificationPush(fmt.Sprintf("request-b-%05d", i), map[string]any{"cid": []string{cid}})
		}
		return map[string]any{"msg_list": list}
	}
	for _, tc := range []struct {
		name, api string
		body      func(n int) any
	}{
		{"list cid", "/push/list/cid", func(n int) any {
			return map[string]any{"audience": map[string]any{"cid": cids(n)}, "taskid": created.Taskid}
		}},
		{"list alias", "/push/list/alias", func(n int) any {
			return map[string]any{"audience": map[string]any{"alias": aliases(n)}, "taskid": created.Taskid}
		}},
		{"batch", "/push/single/batch/cid", func(n int) any { return batch(n) }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := len(f.srv.Deliveries())
			status, e := f.call(http.MethodPost, tc.api, tok, tc.body(201))
			assert.Equal(t, 400, status)
			assert.Equal(t, 20001, e.Code, e.Msg)
			assert.Len(t, f.srv.Deliveries(), before, "a refused list delivers nothing")
			status, e = f.call(http.MethodPost, tc.api, tok, tc.body(200))
			assert.Equal(t, 200, status, e.Msg)
			assert.Zero(t, e.Code, e.Msg)
		})
	}
}

// TestTokenServesOnlyItsApp checks that a token is refused (10001) on the
// paths of another app of the same server, and nothing is delivered.
func TestTokenServesOnlyItsApp(t *testing.T) {
	one := getuitest.DefaultApps()[0]
	two := getuitest.App{AppID: "gtFakeAppID00000000002", AppKey: "gtFakeAppKey0000000002", MasterSecret: "gtFakeMasterSecret0000000000002"}
	f := newFixture(t, func(c *getuitest.Config) { c.Apps = []getuitest.App{one, two} })
	tok := f.token()
	f.app = two
	status, e := f.call(http.MethodPost, "/push/single/cid", tok, notificationPush("request-other-1", map[string]any{"cid": []string{getuitest.CID("a")}}))
	assert.Equal(t, 401, status, e.Msg)
	assert.Equal(t, getuitest.CodeTokenExpired, e.Code, e.Msg)
	assert.Empty(t, f.srv.Deliveries())
}
