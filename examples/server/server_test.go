package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"log/slog"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng/umengtest"
)

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

// envOf returns a getenv over m.
func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func newTestApp(t *testing.T, env map[string]string) *app {
	t.Helper()
	if env == nil {
		env = map[string]string{}
	}
	if env["PUSH_DB_DSN"] == "" {
		env["PUSH_DB_DSN"] = filepath.Join(t.TempDir(), "push.db")
	}
	cfg, err := loadConfig(envOf(env))
	require.NoError(t, err)
	a, err := newApp(context.Background(), cfg, quiet())
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a
}

func iosToken(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return hex.EncodeToString(h[:])
}

func androidToken(seed string) string {
	h := sha256.Sum256([]byte(seed))
	return strings.TrimRight(strings.NewReplacer("+", "A", "/", "B").Replace(
		fmt.Sprintf("%x", h[:])), "=")[:44]
}

type client struct {
	t   *testing.T
	url string
}

func (c client) call(method, path, body string) (int, map[string]any) {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	var m map[string]any
	require.NoError(c.t, json.NewDecoder(resp.Body).Decode(&m))
	return resp.StatusCode, m
}

func (c client) ok(method, path, body string) map[string]any {
	c.t.Helper()
	code, m := c.call(method, path, body)
	require.Equal(c.t, http.StatusOK, code, "%s %s: %v", method, path, m)
	return m
}

// TestDemoFakesForgetOldTraffic: the built-in fakes of a demo server that
// runs for days keep only the newest requests and deliveries (demoKeep),
// not a few kilobytes of every send. Not parallel: it lowers demoKeep.
func TestDemoFakesForgetOldTraffic(t *testing.T) {
	was := demoKeep
	demoKeep = 2
	t.Cleanup(func() { demoKeep = was })
	a := newTestApp(t, nil)
	require.NotNil(t, a.fake)
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	c := client{t, srv.URL}
	tok := androidToken("kept-phone")
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"kept-phone","platform":"android","push_token":%q}`, tok))
	for i := range 5 {
		m := c.ok("POST", push.PathPushMessage, fmt.Sprintf(`{"user_num":"u1","title":"t%d","content":"c"}`, i))
		require.Equal(t, float64(1), m["accepted"])
	}
	assert.Equal(t, 5, a.fake.Arrived("/api/send"), "every push reached the fake")
	assert.Len(t, a.fake.Requests(), 2, "it remembers the newest two requests")
	assert.Len(t, a.fake.Deliveries(), 3, "and the newest two deliveries before the latest")
}

// TestReadmeWalkthrough runs the README's curl walkthrough against the
// server's own wiring (SQLite and the built-in fake Umeng) and checks what
// the fake received.
func TestReadmeWalkthrough(t *testing.T) {
	a := newTestApp(t, nil)
	require.NotNil(t, a.fake, "no appkeys: demo mode with the fake Umeng")
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	c := client{t, srv.URL}
	iTok, aTok := iosToken("iphone"), androidToken("android")

	m := c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1001","uuid":"iphone-6f1c","platform":"ios","push_platform":"umeng",
		"push_token":%q,"name":"李雷的 iPhone","os":"iOS","os_version":"17.5"}`, iTok))
	assert.Equal(t, map[string]any{"device_uuid": "iphone-6f1c", "user_device_id": float64(1)}, m)
	m = c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1001","uuid":"android-2b7e","platform":"android","push_token":%q}`, aTok))
	assert.Equal(t, map[string]any{"device_uuid": "android-2b7e", "user_device_id": float64(2)}, m)

	m = c.ok("POST", push.PathPushMessage, `{"user_num":"u1001","title":"到货提醒","content":"您关注的商品已到货 🎉","extra":{"page":"goods","goods_id":"42"}}`)
	assert.Equal(t, float64(1), m["push_message_id"])
	assert.Equal(t, float64(2), m["accepted"])
	m = c.ok("GET", push.PathQueryPush+"?push_message_id=1", "")
	assert.Equal(t, "accepted", m["ios_status"])
	assert.Equal(t, "accepted", m["android_status"])

	sends := a.fake.Sends()
	require.Len(t, sends, 2)
	for _, s := range sends {
		assert.True(t, s.ProductionMode)
		assert.Equal(t, "unicast", s.Type)
	}
	assert.Equal(t, 1, a.fake.DeliveryCount(iTok))
	assert.Equal(t, 1, a.fake.DeliveryCount(aTok))

	c.ok("POST", push.PathLogout, `{"user_num":"u1001","user_device_id":1}`)
	c.ok("POST", push.PathPushMessage, `{"user_num":"u1001","title":"第二条","content":"只有安卓收到"}`)
	assert.Equal(t, 1, a.fake.DeliveryCount(iTok), "the logged-out iPhone receives nothing")
	assert.Equal(t, 2, a.fake.DeliveryCount(aTok))

	// The Android phone is re-assigned to another user: u1001 no longer
	// reaches it, and has no device left.
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u2002","uuid":"android-2b7e","platform":"android","push_token":%q}`, aTok))
	code, m := c.call("POST", push.PathPushMessage, `{"user_num":"u1001","title":"t","content":"c"}`)
	assert.Equal(t, http.StatusNotFound, code, m)
	c.ok("POST", push.PathPushMessage, `{"user_num":"u2002","title":"给新用户","content":"c"}`)
	assert.Equal(t, 3, a.fake.DeliveryCount(aTok))
	last := a.fake.Deliveries()[len(a.fake.Deliveries())-1]
	assert.Equal(t, "给新用户", last.Title)

	// A row another program inserts into sys_message_center is delivered on
	// the next pass.
	_, err := a.db.Exec(`INSERT INTO sys_message_center (title, content, notify_mode, receivers, created_at, updated_at)
		VALUES ('库存预警', 'SKU 42 低于预警线', 'push', 'u2002', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
	require.NoError(t, err)
	rep, err := a.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	assert.Equal(t, 4, a.fake.DeliveryCount(aTok))
	var state int
	var result string
	require.NoError(t, a.db.QueryRow(`SELECT send_state, send_result FROM sys_message_center`).Scan(&state, &result))
	assert.Equal(t, 1, state)
	assert.Equal(t, "push_message#4", result)
}

// TestExternalUmeng points the server at a separately running faithful
// Umeng with real-looking credentials: one correctly signed request per
// platform per 500 tokens, each with its platform's appkey.
func TestExternalUmeng(t *testing.T) {
	apps := []umengtest.App{
		{AppKey: "5b8f2c1a8f4a9d3e6c000123", AppMasterSecret: "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6", Platform: umengtest.PlatformIOS},
		{AppKey: "5b8f2c1a8f4a9d3e6c000456", AppMasterSecret: "z9x8c7v6b5n4m3l2k1j0h9g8f7d6s5a4", Platform: umengtest.PlatformAndroid},
	}
	fake := umengtest.NewServer(t, umengtest.Config{Apps: apps})
	a := newTestApp(t, map[string]string{
		"UMENG_BASE_URL":   fake.URL,
		"UMENG_IOS_APPKEY": apps[0].AppKey, "UMENG_IOS_APP_MASTER_SECRET": apps[0].AppMasterSecret,
		"UMENG_ANDROID_APPKEY": apps[1].AppKey, "UMENG_ANDROID_APP_MASTER_SECRET": apps[1].AppMasterSecret,
	})
	require.Nil(t, a.fake, "appkeys set: no built-in fake")
	ctx := context.Background()
	var users []string
	for i := range 600 {
		u := fmt.Sprintf("u%03d", i%300)
		users = append(users, u)
		_, err := a.svc.RegisterDevice(ctx, push.Device{UserNum: u, UUID: fmt.Sprintf("a-%d", i), Platform: "android",
			PushToken: androidToken(fmt.Sprint("a", i))})
		require.NoError(t, err)
	}
	for i := range 3 {
		_, err := a.svc.RegisterDevice(ctx, push.Device{UserNum: fmt.Sprintf("u%03d", i), UUID: fmt.Sprintf("i-%d", i), Platform: "ios",
			PushToken: iosToken(fmt.Sprint("i", i))})
		require.NoError(t, err)
	}
	res, err := a.svc.Push(ctx, push.Message{UserNums: users, Title: "全员通知", Content: "系统维护"})
	require.NoError(t, err)
	assert.Equal(t, 603, res.Devices)
	assert.Equal(t, 3, res.Accepted())

	sends := fake.Sends()
	require.Len(t, sends, 3, "500 + 100 Android tokens, 3 iOS tokens")
	perKey := map[string][]int{}
	for _, s := range sends {
		perKey[s.AppKey] = append(perKey[s.AppKey], len(s.DeviceTokens))
		assert.Equal(t, http.StatusOK, s.StatusCode)
	}
	assert.ElementsMatch(t, []int{500, 100}, perKey[apps[1].AppKey])
	assert.Equal(t, []int{3}, perKey[apps[0].AppKey])
	for _, r := range fake.Requests() {
		assert.Empty(t, r.Code, "every request was signed correctly and valid")
	}
}

func TestLoadConfig(t *testing.T) {
	c, err := loadConfig(envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, config{Addr: "127.0.0.1:8080", DBDriver: "sqlite", DBDSN: "push.db", DBLocation: time.UTC, ScanInterval: time.Minute,
		RetryBase: 30 * time.Second, UmengBaseURL: "https://msgapi.umeng.com", ProductionMode: true,
		JPushBaseURL: "https://api.jpush.cn", JPushAPNsProduction: true, GetuiBaseURL: "https://restapi.getui.com/v2"}, c)
	assert.True(t, c.Demo())
	assert.Equal(t, "umeng", c.DefaultProvider())

	for name, env := range map[string]map[string]string{
		"PUSH_DB_DRIVER":                             {"PUSH_DB_DRIVER": "oracle"},
		"PUSH_DB_DSN":                                {"PUSH_DB_DRIVER": "mysql"},
		"UMENG_BASE_URL":                             {"UMENG_BASE_URL": "ftp://x"},
		"JPUSH_BASE_URL":                             {"JPUSH_BASE_URL": "::bad"},
		"GETUI_BASE_URL":                             {"GETUI_BASE_URL": "https://"},
		"PUSH_SCAN_INTERVAL":                         {"PUSH_SCAN_INTERVAL": "often"},
		"PUSH_RETRY_BASE":                            {"PUSH_RETRY_BASE": "-1s"},
		"PUSH_HUAWEI_SERVICE_CATEGORY":               {"PUSH_HUAWEI_SERVICE_CATEGORY": "URGENT"},
		"UMENG_PRODUCTION_MODE":                      {"UMENG_PRODUCTION_MODE": "maybe"},
		"UMENG_FILECAST_THRESHOLD":                   {"UMENG_FILECAST_THRESHOLD": "500"},
		"UMENG_ANDROID_APPKEY":                       {"UMENG_ANDROID_APPKEY": "k"},
		"UMENG_IOS_APPKEY":                           {"UMENG_IOS_APP_MASTER_SECRET": "s"},
		"JPUSH_APNS_PRODUCTION":                      {"JPUSH_APNS_PRODUCTION": "yes please"},
		"JPUSH_VIP":                                  {"JPUSH_VIP": "gold"},
		"UMENG_ANDROID_SERVICE_CHANNEL_PROPERTIES":   {"UMENG_ANDROID_SERVICE_CHANNEL_PROPERTIES": `{"xiaomi_channel":"orders"}`},
		"UMENG_ANDROID_MARKETING_CHANNEL_PROPERTIES": {"UMENG_ANDROID_MARKETING_CHANNEL_PROPERTIES": `["promotions"]`},
		"JPUSH_SERVICE_CHANNELS":                     {"JPUSH_SERVICE_CHANNELS": `{"xiaomi":{"channel":"orders"}}`},
		"GETUI_MARKETING_UPS_OPTIONS":                {"GETUI_MARKETING_UPS_OPTIONS": `{"XM":"orders"}`},
	} {
		_, err := loadConfig(envOf(env))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
		for _, v := range env {
			if strings.Contains(name, "KEY") {
				assert.NotContains(t, err.Error(), "\""+v+"\"", "no secret echoed")
			}
		}
	}
	// Durations out of their range (a scan that spins, a first retry in
	// a century) are refused naming the variable and the range.
	for name, v := range map[string]string{"PUSH_SCAN_INTERVAL": "1ns", "PUSH_RETRY_BASE": "1000000h"} {
		_, err := loadConfig(envOf(map[string]string{name: v}))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name+`: "`+v+`" is not between`)
	}
	c, err = loadConfig(envOf(map[string]string{"UMENG_PRODUCTION_MODE": "false", "PUSH_SCAN_INTERVAL": "5s",
		"UMENG_IOS_APPKEY": "k", "UMENG_IOS_APP_MASTER_SECRET": "s", "UMENG_FILECAST_THRESHOLD": "20000"}))
	require.NoError(t, err)
	assert.False(t, c.ProductionMode)
	assert.Equal(t, 20000, c.FilecastThreshold)
	assert.Equal(t, 5*time.Second, c.ScanInterval)
	assert.False(t, c.Demo())
}

// TestAPIToken checks that with PUSH_API_TOKEN set, a request without the
// token is 401 whatever its path, method, type or body, and that with it
// each request gets its normal answer.
func TestAPIToken(t *testing.T) {
	a := newTestApp(t, map[string]string{"PUSH_API_TOKEN": "s3cret"})
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	device := `{"user_num":"u1","uuid":"d1","platform":"ios","push_token":"` + iosToken("x") + `"}`
	huge := `{"name":"` + strings.Repeat("x", 1<<20) + `"}`
	tests := []struct {
		name, method, path, ct, body string
		status                       int // with the token
	}{
		{"device", "POST", push.PathDevice, "application/json", device, 200},
		{"device malformed JSON", "POST", push.PathDevice, "application/json", `{"user_num"`, 400},
		{"device form missing fields", "POST", push.PathDevice, "application/x-www-form-urlencoded", "user_num=u1", 400},
		{"push wrong content type", "POST", push.PathPushMessage, "text/plain", "hi", 415},
		{"push oversize body", "POST", push.PathPushMessage, "application/json", huge, 413},
		{"logout wrong method", "GET", push.PathLogout, "", "", 405},
		{"query bad id", "GET", push.PathQueryPush + "?push_message_id=x", "", "", 400},
		{"query unknown id", "GET", push.PathQueryPush + "?push_message_id=99", "", "", 404},
		{"unknown path", "GET", "/api/v1.1/nope", "", "", 404},
	}
	for _, tt := range tests {
		for _, auth := range []string{"", "Bearer wrong", "Bearer s3cret"} {
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, strings.NewReader(tt.body))
			require.NoError(t, err)
			if tt.ct != "" {
				req.Header.Set("Content-Type", tt.ct)
			}
			if auth != "" {
				req.Header.Set("Authorization", auth)
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			var m map[string]any
			require.NoError(t, json.NewDecoder(resp.Body).Decode(&m), "%s %q: every answer is JSON", tt.name, auth)
			resp.Body.Close()
			want, code := tt.status, ""
			if auth != "Bearer s3cret" {
				want, code = http.StatusUnauthorized, "unauthenticated"
			}
			assert.Equal(t, want, resp.StatusCode, "%s %q: %v", tt.name, auth, m)
			if code != "" {
				assert.Equal(t, code, m["error"].(map[string]any)["code"], tt.name)
			}
		}
	}
}

func TestServeShutsDownOnCancel(t *testing.T) {
	a := newTestApp(t, map[string]string{"PUSH_SCAN_INTERVAL": "1h"})
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln) }()
	c := client{t, "http://" + ln.Addr().String()}
	code, _ := c.call("GET", push.PathQueryPush+"?push_message_id=1", "")
	assert.Equal(t, http.StatusNotFound, code, "serving")
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after cancellation")
	}
}

func TestRunRejectsBadConfig(t *testing.T) {
	err := run(context.Background(), envOf(map[string]string{"PUSH_DB_DRIVER": "oracle"}), quiet())
	require.ErrorContains(t, err, "PUSH_DB_DRIVER")
	err = run(context.Background(), envOf(map[string]string{"PUSH_ADDR": "256.0.0.1:1", "PUSH_DB_DSN": filepath.Join(t.TempDir(), "x.db")}), quiet())
	require.ErrorContains(t, err, "PUSH_ADDR")
}

// A setting the vendor clients, the Scanner or the listener refuse stops
// the server before the migrations run: the database is left as it was
// (an operator's trial migrated a database, then stopped on a short
// secret).
func TestRunChecksSettingsBeforeMigrating(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer busy.Close()
	for name, tc := range map[string]struct {
		env  map[string]string
		want string
	}{
		"short umeng secret": {map[string]string{"UMENG_ANDROID_APPKEY": "5b8f2c1a8f4a9d3e6c000456", "UMENG_ANDROID_APP_MASTER_SECRET": "short"},
			"UMENG_ANDROID_APP_MASTER_SECRET"},
		"short jpush secret": {map[string]string{"JPUSH_APPKEY": "0123456789abcdef01234567", "JPUSH_MASTER_SECRET": "s"}, "JPUSH_MASTER_SECRET"},
		"address in use":     {map[string]string{"PUSH_ADDR": busy.Addr().String()}, "PUSH_ADDR"},
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "push.db")
			env := map[string]string{"PUSH_ADDR": "127.0.0.1:0", "PUSH_DB_DSN": path}
			maps.Copy(env, tc.env)
			err := run(context.Background(), envOf(env), quiet())
			require.ErrorContains(t, err, tc.want)
			if _, serr := os.Stat(path); errors.Is(serr, fs.ErrNotExist) {
				return // not even opened
			}
			db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
			require.NoError(t, err)
			defer db.Close()
			var tables int
			require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table'").Scan(&tables))
			assert.Zero(t, tables, "a refused setting left tables behind")
		})
	}
}

// A database that cannot be opened or migrated is an error naming it, not
// a panic: newApp once closed its half-built app through the nil it
// returned.
func TestRunReportsDatabaseErrors(t *testing.T) {
	notSQLite := filepath.Join(t.TempDir(), "notes.db")
	require.NoError(t, os.WriteFile(notSQLite, bytes.Repeat([]byte("not a database\n"), 400), 0o600))
	for name, env := range map[string]map[string]string{
		"missing directory": {"PUSH_DB_DSN": filepath.Join(t.TempDir(), "no", "such", "dir", "push.db")},
		"not a database":    {"PUSH_DB_DSN": notSQLite},
		"no server":         {"PUSH_DB_DRIVER": "mysql", "PUSH_DB_DSN": "root@tcp(127.0.0.1:1)/push?timeout=2s"},
	} {
		t.Run(name, func(t *testing.T) {
			env["PUSH_ADDR"] = "127.0.0.1:0"
			var err error
			require.NotPanics(t, func() { err = run(context.Background(), envOf(env), quiet()) })
			require.Error(t, err)
			t.Log(err)
		})
	}
}

// drainApps are the credentials of the external fake Umeng of the drain
// tests.
var drainApps = []umengtest.App{
	{AppKey: "5b8f2c1a8f4a9d3e6c000123", AppMasterSecret: "q1w2e3r4t5y6u7i8o9p0a1s2d3f4g5h6", Platform: umengtest.PlatformIOS},
	{AppKey: "5b8f2c1a8f4a9d3e6c000456", AppMasterSecret: "z9x8c7v6b5n4m3l2k1j0h9g8f7d6s5a4", Platform: umengtest.PlatformAndroid},
}

// pushAnswer is what a push_message request got.
type pushAnswer struct {
	code int
	body map[string]any
	err  error
}

// postPushAsync posts a push_message to user on the server at addr and
// delivers its answer on the channel it returns.
func postPushAsync(addr, user string) <-chan pushAnswer {
	answered := make(chan pushAnswer, 1)
	go func() {
		resp, err := http.Post("http://"+addr+push.PathPushMessage, "application/json",
			strings.NewReader(`{"user_num":"`+user+`","title":"到货提醒","content":"您关注的商品已到货"}`))
		if err != nil {
			answered <- pushAnswer{err: err}
			return
		}
		defer resp.Body.Close()
		var m map[string]any
		err = json.NewDecoder(resp.Body).Decode(&m)
		answered <- pushAnswer{resp.StatusCode, m, err}
	}()
	return answered
}

// startServing runs a.serve on a loopback port until cancel, the SIGTERM
// path, is called; done receives what serve returned.
func startServing(t *testing.T, a *app) (addr string, cancel context.CancelFunc, done <-chan error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	served := make(chan error, 1)
	go func() { served <- a.serve(ctx, ln) }()
	return ln.Addr().String(), cancel, served
}

// awaitDrained waits for serve to return without error within its drain
// bound, then for the push answered, which must be a 200.
func awaitDrained(t *testing.T, a *app, done <-chan error, answered <-chan pushAnswer) pushAnswer {
	t.Helper()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(a.drainTimeout()):
		t.Fatal("serve did not return after the calls finished")
	}
	var ans pushAnswer
	select {
	case ans = <-answered:
	case <-time.After(5 * time.Second):
		t.Fatal("the HTTP push got no answer")
	}
	require.NoError(t, ans.err)
	require.Equal(t, http.StatusOK, ans.code, ans.body)
	return ans
}

// drainEnv is the environment of a server on a fresh SQLite file whose
// Umeng is fake, with one Scanner pass at start.
func drainEnv(t *testing.T, fake *umengtest.Server) map[string]string {
	return map[string]string{
		"UMENG_BASE_URL":   fake.URL,
		"UMENG_IOS_APPKEY": drainApps[0].AppKey, "UMENG_IOS_APP_MASTER_SECRET": drainApps[0].AppMasterSecret,
		"UMENG_ANDROID_APPKEY": drainApps[1].AppKey, "UMENG_ANDROID_APP_MASTER_SECRET": drainApps[1].AppMasterSecret,
		"PUSH_DB_DSN":        filepath.Join(t.TempDir(), "push.db"),
		"PUSH_SCAN_INTERVAL": "1h", // one pass at start, none after
		"PUSH_RETRY_BASE":    "1ms",
	}
}

// testDrain runs the server against a stalled external Umeng with an HTTP
// push_message and a Scanner pass both waiting on it, cancels serve's ctx
// (the SIGTERM path), holds the stall for hold more, then releases it. It
// checks that serve returns only after both calls finished, that both
// pushes are recorded final with one send each, and that a fresh instance
// on the same database finds nothing left to send.
func testDrain(t *testing.T, hold time.Duration) {
	fake := umengtest.NewServer(t, umengtest.Config{Apps: drainApps})
	first := drainEnv(t, fake)
	a := newTestApp(t, first)
	ctx := context.Background()
	httpTok, centerTok := androidToken("http"), androidToken("center")
	_, err := a.svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "a1", Platform: "android", PushToken: httpTok})
	require.NoError(t, err)
	_, err = a.svc.RegisterDevice(ctx, push.Device{UserNum: "u2", UUID: "a2", Platform: "android", PushToken: centerTok})
	require.NoError(t, err)
	row := &registry.CenterMessage{Title: "库存预警", Content: "SKU 42 低于预警线", NotifyMode: "push", Receivers: "u2"}
	require.NoError(t, a.store.EnqueueCenterMessage(ctx, row))

	release := fake.Stall()
	defer release()
	addr, cancel, done := startServing(t, a)
	defer cancel()
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	require.NoError(t, fake.WaitStalled(wait, 1), "the Scanner's first pass is sending the center row")

	answered := postPushAsync(addr, "u1")
	require.NoError(t, fake.WaitStalled(wait, 2), "the HTTP push is sending too")

	cancel() // what SIGINT/SIGTERM do
	// Through the drain the probes and the metrics answer, readiness says
	// it drains, and the API refuses new requests for another instance.
	get := func(path string) (int, string) {
		resp, err := http.Get("http://" + addr + path)
		require.NoError(t, err, path)
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return resp.StatusCode, string(b)
	}
	require.Eventually(t, func() bool { code, _ := get(PathReadyz); return code == http.StatusServiceUnavailable },
		5*time.Second, 10*time.Millisecond, "shutdown began: not ready")
	code, body := get(PathReadyz)
	assert.Equal(t, http.StatusServiceUnavailable, code)
	assert.Contains(t, body, `"status":"draining"`)
	code, _ = get(PathHealthz)
	assert.Equal(t, http.StatusOK, code, "alive while it drains")
	code, body = get(PathMetrics)
	assert.Equal(t, http.StatusOK, code)
	assert.Contains(t, body, "push_deliveries")
	refused := <-postPushAsync(addr, "u1")
	require.NoError(t, refused.err)
	assert.Equal(t, http.StatusServiceUnavailable, refused.code)
	assert.Equal(t, "shutting_down", refused.body["error"].(map[string]any)["code"])
	select {
	case err := <-done:
		t.Fatalf("serve returned (%v) with two vendor calls in flight", err)
	case <-time.After(hold):
	}
	assert.Equal(t, 2, fake.Stalled(), "both calls still wait on the vendor")
	code, _ = get(PathHealthz)
	assert.Equal(t, http.StatusOK, code, "alive while it drains")
	release()
	// serve returns: both calls finished and are recorded.
	ans := awaitDrained(t, a, done, answered)
	_, err = net.Dial("tcp", addr)
	assert.Error(t, err, "drained: the listener is closed")
	assert.Equal(t, float64(1), ans.body["accepted"], ans.body)
	httpPush := int64(ans.body["push_message_id"].(float64))
	var state int
	var result string
	require.NoError(t, a.db.QueryRow(`SELECT send_state, send_result FROM sys_message_center WHERE id = ?`, row.ID).Scan(&state, &result))
	assert.Equal(t, 1, state, "the center row is sent")
	var centerPush int64
	_, err = fmt.Sscanf(result, "push_message#%d", &centerPush)
	require.NoError(t, err, result)
	for _, id := range []int64{httpPush, centerPush} {
		st, err := a.svc.PushStatus(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, "accepted", st.AndroidStatus, "push_message#%d is final", id)
		ds, err := a.store.ListDeliveries(ctx, id)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.True(t, ds[0].State.Final(), "push_message#%d's delivery is %s", id, ds[0].State)
		assert.Empty(t, ds[0].ErrorKind, "push_message#%d was sent and answered", id)
	}
	assert.Len(t, fake.Sends(), 2)
	assert.Equal(t, 1, fake.DeliveryCount(httpTok))
	assert.Equal(t, 1, fake.DeliveryCount(centerTok))

	// A new instance on the same database has nothing left to send.
	b := newTestApp(t, first)
	rep, err := b.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{}, rep)
	assert.Len(t, fake.Sends(), 2, "nothing is sent again")
}

func TestServeDrainsOnShutdown(t *testing.T) {
	testDrain(t, 200*time.Millisecond)
}

// TestServeDrainsSlowVendorCalls holds the vendor longer than the fixed 30
// seconds serve used to give its shutdown, and less than the Service's
// DrainTimeout: serve still waits for both calls.
func TestServeDrainsSlowVendorCalls(t *testing.T) {
	if testing.Short() {
		t.Skip("holds a vendor call for 31 seconds")
	}
	t.Parallel()
	testDrain(t, 31*time.Second)
}

func TestDrainTimeoutFollowsTheService(t *testing.T) {
	a := newTestApp(t, nil)
	// The demo serves Getui too, whose Send may make four calls of 30s
	// (auth, task creation, auth again, send): the longest send timeout.
	assert.Equal(t, 4*30*time.Second+10*time.Second, a.svc.DrainTimeout(), "the longest provider's send timeout + WriteTimeout, by default")
	assert.Equal(t, a.svc.DrainTimeout()+drainMargin, a.drainTimeout())
}

// TestOnePlatform starts the server with the Umeng credentials of one
// platform only: it serves that platform through the configured Umeng (no
// demo fake), skips devices of the other, and logs which platforms it
// serves.
func TestOnePlatform(t *testing.T) {
	for _, tt := range []struct {
		served, unserved string
		app              umengtest.App
		keyVar, secVar   string
	}{
		{"android", "ios", drainApps[1], "UMENG_ANDROID_APPKEY", "UMENG_ANDROID_APP_MASTER_SECRET"},
		{"ios", "android", drainApps[0], "UMENG_IOS_APPKEY", "UMENG_IOS_APP_MASTER_SECRET"},
	} {
		t.Run(tt.served+" only", func(t *testing.T) {
			// Half of the other pair is a configuration error, not one platform.
			for _, half := range []string{"UMENG_IOS_APPKEY", "UMENG_IOS_APP_MASTER_SECRET", "UMENG_ANDROID_APPKEY", "UMENG_ANDROID_APP_MASTER_SECRET"} {
				if half == tt.keyVar || half == tt.secVar {
					continue
				}
				_, err := loadConfig(envOf(map[string]string{tt.keyVar: tt.app.AppKey, tt.secVar: tt.app.AppMasterSecret, half: "x"}))
				require.Error(t, err, half)
				assert.Contains(t, err.Error(), half)
			}

			fake := umengtest.NewServer(t, umengtest.Config{Apps: drainApps})
			var logs syncBuffer
			env := map[string]string{"UMENG_BASE_URL": fake.URL, tt.keyVar: tt.app.AppKey, tt.secVar: tt.app.AppMasterSecret,
				"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db"), "PUSH_SCAN_INTERVAL": "1h"}
			cfg, err := loadConfig(envOf(env))
			require.NoError(t, err)
			assert.False(t, cfg.Demo(), "one platform configured: not demo mode")
			a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
			require.NoError(t, err)
			t.Cleanup(a.Close)
			require.Nil(t, a.fake, "no built-in fake")

			ln, err := net.Listen("tcp", "127.0.0.1:0")
			require.NoError(t, err)
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan error, 1)
			go func() { done <- a.serve(ctx, ln) }()
			defer func() {
				cancel()
				require.NoError(t, <-done)
			}()
			c := client{t, "http://" + ln.Addr().String()}
			token := map[string]string{"ios": iosToken("i"), "android": androidToken("a")}
			c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"%s-1","platform":%q,"push_token":%q}`,
				tt.served, tt.served, token[tt.served]))
			// A device of the unserved platform is refused: no push could
			// reach it.
			code, m := c.call("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"%s-1","platform":%q,"push_token":%q}`,
				tt.unserved, tt.unserved, token[tt.unserved]))
			assert.Equal(t, http.StatusBadRequest, code, m)
			assert.Equal(t, "invalid_platform", m["error"].(map[string]any)["code"])
			m = c.ok("POST", push.PathPushMessage, `{"user_num":"u1","title":"t","content":"c"}`)
			assert.Equal(t, float64(1), m["devices"])
			assert.Equal(t, float64(1), m["accepted"])
			sends := fake.Sends()
			require.Len(t, sends, 1)
			assert.Equal(t, tt.app.AppKey, sends[0].AppKey)
			assert.Equal(t, 1, fake.DeliveryCount(token[tt.served]))
			assert.Zero(t, fake.DeliveryCount(token[tt.unserved]))

			// A user with only a device of the unserved platform has nothing
			// to push to.
			code, m = c.call("POST", push.PathPushMessage, `{"user_num":"u2","title":"t","content":"c"}`)
			assert.Equal(t, http.StatusNotFound, code, m)

			out := logs.String()
			assert.Contains(t, out, "platforms="+tt.served+" ", "the log says which platforms are served")
			assert.NotContains(t, out, "demo mode")
			assert.NotContains(t, out, tt.app.AppMasterSecret)
		})
	}
}

// syncBuffer is a log sink for concurrent writers.
type syncBuffer = syncbuf.Buffer

// TestAndroidChannelActivity checks that UMENG_ANDROID_CHANNEL_ACTIVITY and
// UMENG_ANDROID_MAIN_ACTIVITY reach every Android send as
// channel_properties, and no iOS send, against the built-in fake Umeng.
func TestAndroidChannelActivity(t *testing.T) {
	a := newTestApp(t, map[string]string{
		"UMENG_ANDROID_CHANNEL_ACTIVITY": "com.example.shop.PushActivity",
		"UMENG_ANDROID_MAIN_ACTIVITY":    "com.example.shop.MainActivity",
	})
	require.NotNil(t, a.fake, "demo mode: the built-in fake serves")
	ctx := context.Background()
	for i, p := range []string{"android", "ios"} {
		tok := androidToken("ca")
		if p == "ios" {
			tok = iosToken("ca")
		}
		_, err := a.svc.RegisterDevice(ctx, push.Device{UserNum: "u1001", UUID: fmt.Sprint("dev-", i), Platform: p, PushToken: tok})
		require.NoError(t, err)
	}
	res, err := a.svc.Push(ctx, push.Message{UserNums: []string{"u1001"}, Title: "到货提醒", Content: "您关注的商品已到货"})
	require.NoError(t, err)
	assert.Equal(t, 2, res.Accepted())

	sends := a.fake.Sends()
	require.Len(t, sends, 2)
	for _, s := range sends {
		if s.Payload["aps"] != nil {
			assert.Nil(t, s.ChannelProperties, "iOS sends carry no channel properties")
			continue
		}
		assert.Equal(t, map[string]any{
			"channel_activity": "com.example.shop.PushActivity",
			"main_activity":    "com.example.shop.MainActivity",
		}, s.ChannelProperties)
		assert.Empty(t, s.Ignored)
	}

	_, err = loadConfig(envOf(map[string]string{"UMENG_ANDROID_CHANNEL_ACTIVITY": "com.example. PushActivity"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "UMENG_ANDROID_CHANNEL_ACTIVITY")
}

// TestAndroidClassChannels checks that UMENG_ANDROID_SERVICE_CHANNEL_PROPERTIES
// and UMENG_ANDROID_MARKETING_CHANNEL_PROPERTIES reach the Android sends of
// their class, over UMENG_ANDROID_CHANNEL_ACTIVITY, against the built-in
// fake Umeng; and that a value Umeng's client refuses stops the server,
// naming the variable.
func TestAndroidClassChannels(t *testing.T) {
	a := newTestApp(t, map[string]string{
		"UMENG_ANDROID_CHANNEL_ACTIVITY":             "com.example.shop.PushActivity",
		"UMENG_ANDROID_SERVICE_CHANNEL_PROPERTIES":   `{"xiaomi_channel_id":"orders","oppo_channel_id":"orders","oppo_category":"ORDER","vivo_category":"ORDER"}`,
		"UMENG_ANDROID_MARKETING_CHANNEL_PROPERTIES": `{"xiaomi_channel_id":"promotions","oppo_category":"MARKETING","vivo_category":"MARKETING"}`,
	})
	require.NotNil(t, a.fake, "demo mode: the built-in fake serves")
	ctx := context.Background()
	_, err := a.svc.RegisterDevice(ctx, push.Device{UserNum: "u1002", UUID: "dev-cc", Platform: "android", PushToken: androidToken("cc")})
	require.NoError(t, err)
	for _, class := range []provider.Class{provider.ClassService, provider.ClassMarketing, ""} {
		res, err := a.svc.Push(ctx, push.Message{UserNums: []string{"u1002"}, Title: "t " + string(class), Content: "c", Class: class})
		require.NoError(t, err)
		require.Equal(t, 1, res.Accepted())
	}
	sends := a.fake.Sends()
	require.Len(t, sends, 3)
	assert.Equal(t, map[string]any{"channel_activity": "com.example.shop.PushActivity", "xiaomi_channel_id": "orders",
		"oppo_channel_id": "orders", "oppo_category": "ORDER", "vivo_category": "ORDER", "huawei_channel_importance": "NORMAL"},
		sends[0].ChannelProperties, "service")
	assert.Equal(t, map[string]any{"channel_activity": "com.example.shop.PushActivity", "xiaomi_channel_id": "promotions",
		"oppo_category": "MARKETING", "vivo_category": "MARKETING", "huawei_channel_importance": "LOW", "huawei_channel_category": "MARKETING"},
		sends[1].ChannelProperties, "marketing")
	assert.Equal(t, map[string]any{"channel_activity": "com.example.shop.PushActivity"}, sends[2].ChannelProperties, "no class")

	cfg, err := loadConfig(envOf(map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db"),
		"UMENG_ANDROID_MARKETING_CHANNEL_PROPERTIES": `{"xiaomi_channel_id":"pro motions"}`}))
	require.NoError(t, err, "the JSON is well formed")
	_, err = newApp(ctx, cfg, quiet())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "UMENG_ANDROID_MARKETING_CHANNEL_PROPERTIES: ")
	assert.Contains(t, err.Error(), "xiaomi_channel_id")
}

// TestJPushGetuiClassChannels checks that JPUSH_SERVICE_CHANNELS and
// GETUI_SERVICE_UPS_OPTIONS reach the Android pushes of class service
// through the built-in fakes, and that a value the client refuses stops
// the server, naming the variable.
func TestJPushGetuiClassChannels(t *testing.T) {
	a := newTestApp(t, map[string]string{
		"JPUSH_SERVICE_CHANNELS":    `{"xiaomi":{"channel_id":"orders"},"oppo":{"channel_id":"orders","category":"ORDER"}}`,
		"GETUI_SERVICE_UPS_OPTIONS": `{"XM":{"/extra.channel_id":"orders"},"VV":{"/category":"ORDER"}}`,
	})
	require.NotNil(t, a.jfake, "demo mode: the fake JPush serves")
	ctx := context.Background()
	for _, d := range []push.Device{
		{UserNum: "u1003", UUID: "xiaomi-j", Platform: "android", PushPlatform: "jpush", PushToken: jpushtest.RegistrationID("xiaomi-j")},
		{UserNum: "u1003", UUID: "xiaomi-g", Platform: "android", PushPlatform: "getui", PushToken: getuitest.CID("xiaomi-g")},
	} {
		_, err := a.svc.RegisterDevice(ctx, d)
		require.NoError(t, err)
	}
	res, err := a.svc.Push(ctx, push.Message{UserNums: []string{"u1003"}, Title: "订单已发货", Content: "c", Class: provider.ClassService})
	require.NoError(t, err)
	require.Equal(t, 2, res.Accepted())

	pushes := a.jfake.Pushes()
	require.Len(t, pushes, 1)
	var jb struct {
		Options struct {
			ThirdPartyChannel map[string]map[string]any `json:"third_party_channel"`
		} `json:"options"`
	}
	require.NoError(t, json.Unmarshal(pushes[0].Body, &jb))
	assert.Equal(t, map[string]any{"channel_id": "orders"}, jb.Options.ThirdPartyChannel["xiaomi"])
	assert.Equal(t, map[string]any{"channel_id": "orders", "category": "ORDER"}, jb.Options.ThirdPartyChannel["oppo"])

	sends := a.gfake.RequestsTo("/push/single/cid")
	require.Len(t, sends, 1)
	xm, _ := sends[0].UpsOptions()["XM"].(map[string]any)
	vv, _ := sends[0].UpsOptions()["VV"].(map[string]any)
	assert.Equal(t, "orders", xm["/extra.channel_id"])
	assert.Equal(t, "ORDER", vv["/category"])

	// The entries wrapped as on the wire: the wrapper is named, not its
	// first maker.
	_, err = loadConfig(envOf(map[string]string{"JPUSH_SERVICE_CHANNELS": `{"third_party_channel":{"xiaomi":{"channel_id":"orders"}}}`}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), `JPUSH_SERVICE_CHANNELS: "third_party_channel" is not a maker JPush knows`)

	for name, v := range map[string]string{
		"JPUSH_MARKETING_CHANNELS":    `{"huawei":{"importance":"URGENT"}}`,
		"GETUI_MARKETING_UPS_OPTIONS": `{"XM":{"/extra.channel_id":["x"]}}`,
	} {
		cfg, err := loadConfig(envOf(map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db"), name: v}))
		require.NoError(t, err, "%s: the JSON is well formed", name)
		_, err = newApp(ctx, cfg, quiet())
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name+": ")
	}
}

// TestLoadConfigHalfSetCredentials checks that a provider's credential
// variables are all set or all empty: half a set is an error naming the
// variable that is missing, and never echoing a value.
func TestLoadConfigHalfSetCredentials(t *testing.T) {
	for _, tt := range []struct {
		name    string
		env     map[string]string
		missing string
	}{
		{"jpush key only", map[string]string{"JPUSH_APPKEY": "0123456789abcdef01234567"}, "JPUSH_MASTER_SECRET"},
		{"jpush secret only", map[string]string{"JPUSH_MASTER_SECRET": "jsecret"}, "JPUSH_APPKEY"},
		{"getui id only", map[string]string{"GETUI_APPID": "gid"}, "GETUI_APPKEY, GETUI_MASTER_SECRET"},
		{"getui no secret", map[string]string{"GETUI_APPID": "gid", "GETUI_APPKEY": "gkey"}, "GETUI_MASTER_SECRET"},
		{"getui no appkey", map[string]string{"GETUI_APPID": "gid", "GETUI_MASTER_SECRET": "gsecret"}, "GETUI_APPKEY"},
		{"getui no appid", map[string]string{"GETUI_APPKEY": "gkey", "GETUI_MASTER_SECRET": "gsecret"}, "GETUI_APPID"},
		{"getui secret only", map[string]string{"GETUI_MASTER_SECRET": "gsecret"}, "GETUI_APPID, GETUI_APPKEY"},
		{"jpush half beside a whole getui", map[string]string{"JPUSH_MASTER_SECRET": "jsecret",
			"GETUI_APPID": "gid", "GETUI_APPKEY": "gkey", "GETUI_MASTER_SECRET": "gsecret"}, "JPUSH_APPKEY"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadConfig(envOf(tt.env))
			require.Error(t, err)
			verb := " is not set"
			if strings.Contains(tt.missing, ",") {
				verb = " are not set"
			}
			assert.Contains(t, err.Error(), ": "+tt.missing+verb)
			for _, v := range tt.env {
				assert.NotContains(t, err.Error(), v, "no value echoed")
			}
		})
	}

	for _, tt := range []struct {
		name              string
		env               map[string]string
		jpush, getui, ume bool
		def               string
	}{
		{"jpush", map[string]string{"JPUSH_APPKEY": "k", "JPUSH_MASTER_SECRET": "s"}, true, false, false, "jpush"},
		{"getui", map[string]string{"GETUI_APPID": "i", "GETUI_APPKEY": "k", "GETUI_MASTER_SECRET": "s"}, false, true, false, "getui"},
		{"jpush and getui", map[string]string{"JPUSH_APPKEY": "k", "JPUSH_MASTER_SECRET": "s",
			"GETUI_APPID": "i", "GETUI_APPKEY": "k", "GETUI_MASTER_SECRET": "s"}, true, true, false, "jpush"},
		{"umeng and getui", map[string]string{"UMENG_ANDROID_APPKEY": "k", "UMENG_ANDROID_APP_MASTER_SECRET": "s",
			"GETUI_APPID": "i", "GETUI_APPKEY": "k", "GETUI_MASTER_SECRET": "s"}, false, true, true, "umeng"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig(envOf(tt.env))
			require.NoError(t, err)
			assert.False(t, c.Demo())
			assert.Equal(t, tt.jpush, c.JPush())
			assert.Equal(t, tt.getui, c.Getui())
			assert.Equal(t, tt.ume, c.Umeng())
			assert.Equal(t, tt.def, c.DefaultProvider())
		})
	}
}

// newLoggedDemoApp builds the app in demo mode on a fresh SQLite file,
// its Scanner idle, logging as text into the buffer it returns.
func newLoggedDemoApp(t *testing.T) (*app, *syncBuffer) {
	t.Helper()
	return newLoggedDemoAppWith(t, nil)
}

// newLoggedDemoAppWith is newLoggedDemoApp with more environment.
func newLoggedDemoAppWith(t *testing.T, more map[string]string) (*app, *syncBuffer) {
	t.Helper()
	logs := &syncBuffer{}
	env := map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db"), "PUSH_SCAN_INTERVAL": "1h"}
	for k, v := range more {
		env[k] = v
	}
	cfg, err := loadConfig(envOf(env))
	require.NoError(t, err)
	a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(logs, nil)))
	require.NoError(t, err)
	t.Cleanup(a.Close)
	return a, logs
}

// TestStartWarnsOfAClockInAnotherZone: SQLite's CURRENT_TIMESTAMP is UTC;
// with PUSH_DB_TIMEZONE eight hours east, start-up warns that the
// database's NOW() is far from this clock, and with the default UTC it
// does not.
func TestStartWarnsOfAClockInAnotherZone(t *testing.T) {
	_, logs := newLoggedDemoAppWith(t, map[string]string{"PUSH_DB_TIMEZONE": "Asia/Shanghai"})
	assert.Contains(t, logs.String(), "is far from this clock in PUSH_DB_TIMEZONE")
	assert.Contains(t, logs.String(), "skew=-8h0m0s")
	assert.NotContains(t, logs.String(), "daylight saving", "Asia/Shanghai has none")
	_, logs = newLoggedDemoApp(t)
	assert.NotContains(t, logs.String(), "is far from this clock")
	assert.NotContains(t, logs.String(), "created ahead")
	_, logs = newLoggedDemoAppWith(t, map[string]string{"PUSH_DB_TIMEZONE": "America/New_York"})
	assert.Contains(t, logs.String(), "PUSH_DB_TIMEZONE observes daylight saving time")
}

// TestStartWarnsOfClocksApart: a database clock 45 s from this one, in
// either direction, is more than leases allow between instances, and
// start-up says so; 10 s is not warned of. Past 2 minutes the zone
// warning comes too. A clock 14 min 45 s off is warned of as such: it is
// no zone's difference, though the clocks' difference in the zone's
// reading is near a whole quarter hour. A zone of its own (Asia/Shanghai
// on a database in UTC) is warned of as a zone only.
func TestStartWarnsOfClocksApart(t *testing.T) {
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "push.db")))
	require.NoError(t, err)
	t.Cleanup(func() { db.Close() })
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	for _, c := range []struct {
		off  time.Duration
		loc  *time.Location
		warn bool
		zone bool // also warned of as another zone
	}{{45 * time.Second, time.UTC, true, false}, {-45 * time.Second, time.UTC, true, false}, {10 * time.Second, time.UTC, false, false},
		{3 * time.Minute, time.UTC, true, true}, {14*time.Minute + 45*time.Second, time.UTC, true, true},
		{0, shanghai, false, true}, {45 * time.Second, shanghai, true, true}} {
		st, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Location: c.loc, Now: func() time.Time { return time.Now().Add(c.off) }})
		require.NoError(t, err)
		var logs bytes.Buffer
		warnClockSkew(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)), st, c.loc)
		if c.zone {
			assert.Contains(t, logs.String(), "is far from this clock in PUSH_DB_TIMEZONE", "off by %s in %s", c.off, c.loc)
		} else {
			assert.NotContains(t, logs.String(), "is far from this clock in PUSH_DB_TIMEZONE", "off by %s: no zone's difference", c.off)
		}
		if c.warn {
			assert.Contains(t, logs.String(), "synchronise the clocks (NTP)", "off by %s in %s", c.off, c.loc)
			assert.Contains(t, logs.String(), fmt.Sprintf("offset=%s", (-c.off).String()))
		} else {
			assert.NotContains(t, logs.String(), "NTP", "off by %s in %s", c.off, c.loc)
		}
	}
}

// TestObservesDST: zones with daylight saving time, and without.
func TestObservesDST(t *testing.T) {
	now := time.Date(2026, 12, 5, 0, 0, 0, 0, time.UTC)
	for zone, want := range map[string]bool{"America/New_York": true, "Europe/Berlin": true, "Asia/Shanghai": false, "UTC": false} {
		loc, err := time.LoadLocation(zone)
		require.NoError(t, err)
		assert.Equal(t, want, observesDST(loc, now), zone)
	}
	assert.False(t, observesDST(time.FixedZone("CST", 8*3600), now))
}

// TestDemoAllProviders runs demo mode with the three built-in fakes: one
// user with an iOS device on Umeng, an Android device on Getui and one on
// JPush gets one push through the HTTP API, which each fake delivers, and
// the query API shows that one push message.
func TestDemoAllProviders(t *testing.T) {
	a, logs := newLoggedDemoApp(t)
	require.NotNil(t, a.fake, "demo mode: the fake Umeng serves")
	require.NotNil(t, a.jfake, "demo mode: the fake JPush serves")
	require.NotNil(t, a.gfake, "demo mode: the fake Getui serves")
	assert.Equal(t, []string{"umeng", "jpush", "getui"}, a.names)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- a.serve(ctx, ln) }()
	defer func() {
		cancel()
		require.NoError(t, <-done)
	}()
	c := client{t, "http://" + ln.Addr().String()}

	iTok, gTok, jTok := umengtest.IOSToken("iphone"), getuitest.CID("huawei"), jpushtest.RegistrationID("xiaomi")
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1001","uuid":"iphone-6f1c","platform":"ios","push_platform":"umeng","push_token":%q}`, iTok))
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1001","uuid":"huawei-1","platform":"android","push_platform":"getui","push_token":%q}`, gTok))
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1001","uuid":"xiaomi-1","platform":"android","push_platform":"jpush","push_token":%q}`, jTok))

	m := c.ok("POST", push.PathPushMessage, `{"user_num":"u1001","title":"到货提醒","content":"您关注的商品已到货","extra":{"goods_id":"42"}}`)
	assert.Equal(t, float64(1), m["push_message_id"], m)
	assert.Equal(t, float64(3), m["devices"], m)
	assert.Equal(t, float64(3), m["accepted"], m)
	assert.Equal(t, float64(0), m["failed"], m)

	assert.Equal(t, 1, a.fake.DeliveryCount(iTok), "the fake Umeng delivered to the iPhone")
	assert.Equal(t, 1, a.gfake.DeliveryCount(gTok), "the fake Getui delivered to the Huawei phone")
	assert.Equal(t, 1, a.jfake.DeliveryCount(jTok), "the fake JPush delivered to the Xiaomi phone")
	assert.Len(t, a.fake.Sends(), 1, "Umeng was called for the iOS device only")

	m = c.ok("GET", push.PathQueryPush+"?push_message_id=1", "")
	assert.Equal(t, float64(1), m["push_message_id"])
	assert.Equal(t, "accepted", m["ios_status"], m)
	// Getui's single-cid receipt is final once accepted; JPush's is a
	// pollable msg_id, queued until the Scanner polls it.
	assert.Equal(t, "queued", m["android_status"], m)
	code, m := c.call("GET", push.PathQueryPush+"?push_message_id=2", "")
	assert.Equal(t, http.StatusNotFound, code, "one push message only: %v", m)
	var n int
	require.NoError(t, a.db.QueryRow(`SELECT COUNT(*) FROM sys_push_messages`).Scan(&n))
	assert.Equal(t, 1, n)

	out := logs.String()
	assert.Contains(t, out, "demo mode")
	assert.Contains(t, out, "providers=umeng,jpush,getui")
	assert.Contains(t, out, "default_provider=umeng")
	for _, secret := range []string{jpushtest.DefaultApps()[0].MasterSecret, getuitest.DefaultApps()[0].MasterSecret} {
		assert.NotContains(t, out, secret)
	}
}

// TestConfiguredProvidersOnly starts the server with JPush and Getui
// credentials only, pointed at external fakes: no built-in fake runs, the
// default provider is JPush, devices on umeng are refused, and a push
// reaches the devices on both configured providers.
func TestConfiguredProvidersOnly(t *testing.T) {
	jfake := jpushtest.NewServer(t, jpushtest.Config{})
	gfake := getuitest.NewServer(t, getuitest.Config{})
	japp, gapp := jpushtest.DefaultApps()[0], getuitest.DefaultApps()[0]
	a := newTestApp(t, map[string]string{
		"JPUSH_APPKEY": japp.AppKey, "JPUSH_MASTER_SECRET": japp.MasterSecret, "JPUSH_BASE_URL": jfake.URL,
		"GETUI_APPID": gapp.AppID, "GETUI_APPKEY": gapp.AppKey, "GETUI_MASTER_SECRET": gapp.MasterSecret,
		"GETUI_BASE_URL": gfake.BaseURL(),
	})
	require.Nil(t, a.fake, "credentials set: no built-in fake")
	require.Nil(t, a.jfake)
	require.Nil(t, a.gfake)
	assert.Equal(t, []string{"jpush", "getui"}, a.names)
	assert.Equal(t, []string{"ios", "android"}, a.platforms)

	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	c := client{t, srv.URL}
	code, m := c.call("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"i1","platform":"ios","push_platform":"umeng","push_token":%q}`,
		iosToken("i")))
	assert.Equal(t, http.StatusBadRequest, code, "umeng is not configured: %v", m)
	jTok, gTok := jpushtest.RegistrationID("a"), getuitest.CID("b")
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"a1","platform":"android","push_token":%q}`, jTok)) // default: jpush
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"g1","platform":"ios","push_platform":"getui","push_token":%q}`, gTok))
	m = c.ok("POST", push.PathPushMessage, `{"user_num":"u1","title":"t","content":"c"}`)
	assert.Equal(t, float64(2), m["accepted"], m)
	assert.Equal(t, 1, jfake.DeliveryCount(jTok), "the device registered without push_platform is on JPush")
	assert.Equal(t, 1, gfake.DeliveryCount(gTok))
}

// TestMarketingPushThroughTheAPI: a push_message with "class":"marketing"
// on a server with UMENG_ANDROID_CHANNEL_ACTIVITY reaches Umeng with
// category 0, the activity and Huawei's LOW importance.
func TestMarketingPushThroughTheAPI(t *testing.T) {
	a := newTestApp(t, map[string]string{"UMENG_ANDROID_CHANNEL_ACTIVITY": "com.example.shop.PushActivity"})
	require.NotNil(t, a.fake)
	_, err := a.svc.RegisterDevice(context.Background(), push.Device{UserNum: "u1001", UUID: "mate", Platform: "android",
		PushToken: androidToken("marketing")})
	require.NoError(t, err)
	req := httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(
		`{"user_num":"u1001","title":"双十一","content":"全场五折","class":"marketing"}`))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	a.handler.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())

	sends := a.fake.Sends()
	require.Len(t, sends, 1)
	require.NotNil(t, sends[0].Category)
	assert.Equal(t, 0, *sends[0].Category, "marketing is category 0")
	assert.Equal(t, "com.example.shop.PushActivity", sends[0].ChannelProperties["channel_activity"])
	assert.Equal(t, "LOW", sends[0].ChannelProperties["huawei_channel_importance"])
}

// TestShutdownStartsNoMoreVendorCalls: a push_message whose deliveries
// outnumber the Service's send slots is in flight when the server is told
// to stop. The calls already made finish and are recorded; the deliveries
// not yet started are not sent by this instance (which would hold the
// drain for a vendor call each, and past it cut them off) but given back
// pending, and the request is answered with them. A fresh instance's
// Scanner sends them once.
func TestShutdownStartsNoMoreVendorCalls(t *testing.T) {
	fake := umengtest.NewServer(t, umengtest.Config{Apps: drainApps})
	env := drainEnv(t, fake)
	a := newTestApp(t, env)
	ctx := context.Background()
	// 2,100 Android tokens: five listcasts of at most 500, one more than
	// the four send slots of the Service's default SendConcurrency.
	const devices = 2100
	var tokens []string
	for i := range devices {
		tok := androidToken(fmt.Sprintf("shutdown-%d", i))
		tokens = append(tokens, tok)
		_, err := a.svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: fmt.Sprintf("a%d", i), Platform: "android", PushToken: tok})
		require.NoError(t, err)
	}

	release := fake.Stall()
	defer release()
	addr, cancel, done := startServing(t, a)
	defer cancel()

	answered := postPushAsync(addr, "u1")
	wait, stop := context.WithTimeout(ctx, 20*time.Second)
	defer stop()
	require.NoError(t, fake.WaitStalled(wait, 4), "the push fills its four send slots")

	cancel() // what SIGINT/SIGTERM do
	// Give a push that ignored the stop the time to start its fifth call
	// as soon as a slot frees.
	time.Sleep(100 * time.Millisecond)
	release()
	ans := awaitDrained(t, a, done, answered)
	assert.Equal(t, float64(4), ans.body["accepted"], ans.body)
	assert.Equal(t, 4, len(fake.Sends()), "no call started after the stop")
	id := int64(ans.body["push_message_id"].(float64))
	ds, err := a.store.ListDeliveries(ctx, id)
	require.NoError(t, err)
	require.Len(t, ds, 5)
	var pending int
	for _, d := range ds {
		if d.State == registry.DeliveryPending {
			pending++
			assert.Empty(t, d.ClaimToken, "given back, not held to its lease's end")
		}
	}
	assert.Equal(t, 1, pending)

	b := newTestApp(t, env)
	rep, err := b.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Retried)
	assert.Equal(t, 5, len(fake.Sends()))
	for _, tok := range tokens {
		require.Equal(t, 1, fake.DeliveryCount(tok), "every device shown the push once")
	}
}

// TestShutdownPastItsBound: a drain whose push waits on the vendor past
// the bound returns an error naming what was not done (the API request,
// not the Scanner, which had drained), logs what was left, and cuts the
// connection; the vendor call then finishes on its own clock and is
// recorded.
func TestShutdownPastItsBound(t *testing.T) {
	fake := umengtest.NewServer(t, umengtest.Config{Apps: drainApps})
	a := newTestApp(t, drainEnv(t, fake))
	var logs syncBuffer
	a.log = slog.New(slog.NewTextHandler(&logs, nil))
	a.drainBound = 300 * time.Millisecond
	ctx := context.Background()
	tok := androidToken("past-bound")
	_, err := a.svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "a1", Platform: "android", PushToken: tok})
	require.NoError(t, err)
	release := fake.Stall()
	defer release()
	addr, cancel, done := startServing(t, a)
	defer cancel()
	answered := postPushAsync(addr, "u1")
	wait, stop := context.WithTimeout(ctx, 10*time.Second)
	defer stop()
	require.NoError(t, fake.WaitStalled(wait, 1))

	cancel()
	select {
	case err := <-done:
		require.Error(t, err)
		assert.Contains(t, err.Error(), "the API requests in flight were not answered within 300ms")
		assert.NotContains(t, err.Error(), "Scanner", "the Scanner had drained")
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not return at its bound")
	}
	assert.Contains(t, logs.String(), `level=ERROR msg="shutdown did not drain in time: the work in flight is taken over when its lease runs out"`)
	assert.NotContains(t, logs.String(), "drained:")
	ans := <-answered
	assert.Error(t, ans.err, "the connection is cut")

	// The call finishes on its own clock, and its outcome is recorded.
	release()
	require.Eventually(t, func() bool {
		msgs, err := a.store.ListPushMessages(ctx, registry.PushMessageQuery{Limit: 10})
		if err != nil || len(msgs) != 1 {
			return false
		}
		ds, err := a.store.ListDeliveries(ctx, msgs[0].ID)
		return err == nil && len(ds) == 1 && ds[0].State.Final()
	}, 10*time.Second, 10*time.Millisecond)
	assert.Equal(t, 1, fake.DeliveryCount(tok))
}

// TestShutdownLogsTheDrain: a shutdown that drains in time says so, so an
// operator watching the log knows the process exits with nothing left.
func TestShutdownLogsTheDrain(t *testing.T) {
	a := newTestApp(t, map[string]string{"PUSH_SCAN_INTERVAL": "1h"})
	var logs syncBuffer
	a.log = slog.New(slog.NewTextHandler(&logs, nil))
	_, cancel, done := startServing(t, a)
	cancel()
	require.NoError(t, <-done)
	out := logs.String()
	assert.Contains(t, out, "shutting down: draining requests and the Scanner")
	assert.Contains(t, out, `msg="drained: every request answered and the Scanner's pass recorded" took=`)
	assert.NotContains(t, out, "did not drain")
}

// TestStartOnASchemaOfALaterRelease: a database a later release migrated
// starts (a rolling deploy runs both releases), with a warning naming the
// versions: after a rollback an operator sees it, though /readyz passes.
// The start-up line names the build's version.
func TestStartOnASchemaOfALaterRelease(t *testing.T) {
	a := newTestApp(t, nil)
	dsn := a.cfg.DBDSN
	_, err := a.db.Exec(`INSERT INTO push_schema_migrations (component, version, name, applied_at)
		SELECT 'push', MAX(version) + 1, 'from_a_later_release', '2027-01-01 00:00:00' FROM push_schema_migrations WHERE component = 'push'`)
	require.NoError(t, err)
	a.Close()
	cfg, err := loadConfig(envOf(map[string]string{"PUSH_DB_DSN": dsn, "PUSH_SCAN_INTERVAL": "1h"}))
	require.NoError(t, err)
	var logs syncBuffer
	b, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	defer b.Close()
	assert.Regexp(t, `level=WARN msg="the database was migrated by a later release than this build: [^"]*" component=push database_version=(\d+) build_latest=\d+ version=`, logs.String())
	_, cancel, done := startServing(t, b)
	cancel()
	require.NoError(t, <-done)
	assert.Contains(t, logs.String(), `msg="push server listening" addr=127.0.0.1:`)
	assert.Contains(t, logs.String(), " version="+strconv.Quote(serverenv.Version()))
}

// TestCenterDefaultTitle: PUSH_CENTER_DEFAULT_TITLE titles the push rows
// an older system wrote without a title, as the brief's table allows; a
// value the Scanner refuses stops the start, naming the variable.
func TestCenterDefaultTitle(t *testing.T) {
	a := newTestApp(t, map[string]string{"PUSH_CENTER_DEFAULT_TITLE": "系统通知"})
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	aTok := androidToken("untitled")
	client{t, srv.URL}.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"a1","platform":"android","push_token":%q}`, aTok))
	_, err := a.db.Exec(`INSERT INTO sys_message_center (content, notify_mode, receivers, created_at, updated_at)
		VALUES ('您的订单已发货', 'push', 'u1', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
	require.NoError(t, err)
	rep, err := a.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent)
	require.Equal(t, 1, a.fake.DeliveryCount(aTok))
	assert.Equal(t, "系统通知", a.fake.Deliveries()[0].Title)

	cfg, err := loadConfig(envOf(map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db"),
		"PUSH_CENTER_DEFAULT_TITLE": strings.Repeat("长", 300)}))
	require.NoError(t, err)
	_, err = newApp(context.Background(), cfg, quiet())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PUSH_CENTER_DEFAULT_TITLE: ")
}

// TestCenterLeaveModes: with PUSH_CENTER_LEAVE_MODES the server leaves
// the sms and email rows of sys_message_center to the program that sends
// them from the same table; without it, it fails them with the reason and
// says so at start-up. A value the Scanner refuses stops the start,
// naming the variable.
func TestCenterLeaveModes(t *testing.T) {
	insert := func(a *app) {
		_, err := a.db.Exec(`INSERT INTO sys_message_center (title, content, notify_mode, receivers, created_at, updated_at)
			VALUES ('验证码', '1234', 'sms', '13800000000', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP)`)
		require.NoError(t, err)
	}
	state := func(a *app) (int, string) {
		var st int
		var remark sql.NullString
		require.NoError(t, a.db.QueryRow(`SELECT send_state, remark FROM sys_message_center`).Scan(&st, &remark))
		return st, remark.String
	}
	left := newTestApp(t, map[string]string{"PUSH_CENTER_LEAVE_MODES": "sms, email"})
	insert(left)
	_, err := left.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	st, remark := state(left)
	assert.Equal(t, 0, st, "left to the other program, unsent")
	assert.Empty(t, remark)

	var logs syncbuf.Buffer
	cfg, err := loadConfig(envOf(map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db")}))
	require.NoError(t, err)
	failing, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
	require.NoError(t, err)
	defer failing.Close()
	assert.Contains(t, logs.String(), "set PUSH_CENTER_LEAVE_MODES=sms,email to leave them")
	insert(failing)
	_, err = failing.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	st, remark = state(failing)
	assert.Equal(t, 2, st)
	assert.Contains(t, remark, `no notifier for notify_mode "sms"`)

	cfg, err = loadConfig(envOf(map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db"), "PUSH_CENTER_LEAVE_MODES": "sms,push"}))
	require.NoError(t, err)
	_, err = newApp(context.Background(), cfg, quiet())
	require.Error(t, err)
	assert.Contains(t, err.Error(), `PUSH_CENTER_LEAVE_MODES: mode "push" is delivered by the Service`)
}

// TestStartupSaysWhatItRunsOn: the start-up log names the database (its
// password masked), what the migrations changed, and each vendor's base
// URL and mode, so that an operator can tell two instances apart and see
// a test-mode Umeng; a second start on the migrated database migrates
// nothing.
func TestStartupSaysWhatItRunsOn(t *testing.T) {
	path := filepath.Join(t.TempDir(), "push.db")
	env := map[string]string{"PUSH_DB_DSN": path, "PUSH_SCAN_INTERVAL": "1h",
		"UMENG_BASE_URL": "http://127.0.0.1:1", "UMENG_IOS_APPKEY": "ios-key", "UMENG_IOS_APP_MASTER_SECRET": "ios-secret-MARKER",
		"UMENG_PRODUCTION_MODE": "false"}
	start := func() string {
		var logs syncbuf.Buffer
		cfg, err := loadConfig(envOf(env))
		require.NoError(t, err)
		a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		require.NoError(t, err)
		defer a.Close()
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		require.NoError(t, err)
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- a.serve(ctx, ln) }()
		require.Eventually(t, func() bool { return strings.Contains(logs.String(), "push server listening") }, 10*time.Second, 10*time.Millisecond)
		cancel()
		require.NoError(t, <-done)
		return logs.String()
	}
	first := start()
	assert.Regexp(t, `msg="database migrated" component=push from_version=0 to_version=\d+ migrations=\d+ first=0001_`, first)
	assert.Contains(t, first, `msg="database migrated" component=users from_version=0`)
	assert.Contains(t, first, "database="+path)
	assert.Contains(t, first, `umeng.base_url=http://127.0.0.1:1 umeng.mode="test (production_mode false: iOS pushes go to the APNs sandbox)"`)
	assert.NotContains(t, first, "MARKER")
	second := start()
	assert.NotContains(t, second, "database migrated", "nothing was pending")
	assert.Contains(t, second, "push server listening")
}

// TestInstancesStartedAtOnceLogOneMigration: of the instances that start
// at once on an empty database, the one that applied the migrations logs
// "database migrated"; the others found them applied and do not (each
// logged it, from a status read before the migration lock).
func TestInstancesStartedAtOnceLogOneMigration(t *testing.T) {
	const instances = 3
	env := map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db"), "PUSH_SCAN_INTERVAL": "1h"}
	logs := make([]syncbuf.Buffer, instances)
	var wg sync.WaitGroup
	for i := range instances {
		wg.Go(func() {
			cfg, err := loadConfig(envOf(env))
			if !assert.NoError(t, err) {
				return
			}
			a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs[i], nil)))
			if assert.NoError(t, err, "instance %d", i) {
				a.Close()
			}
		})
	}
	wg.Wait()
	var all string
	for i := range logs {
		all += logs[i].String()
	}
	assert.Equal(t, 1, strings.Count(all, `msg="database migrated" component=push from_version=0 `), all)
	assert.Equal(t, 1, strings.Count(all, `msg="database migrated" component=users from_version=0 `), all)
}

// TestDBTargetNeverShowsThePassword: the log's name of the database is
// what the driver reads of the DSN, whatever the password holds.
func TestDBTargetNeverShowsThePassword(t *testing.T) {
	for _, tt := range []struct{ driver, dsn, want string }{
		{"mysql", "app:ab://cdSECRETgh@tcp(db.internal:3306)/push?parseTime=true", "app@tcp(db.internal:3306)/push"},
		{"mysql", "app:p@ss:w/SECRET@tcp(db:3306)/push", "app@tcp(db:3306)/push"},
		{"postgres", "postgres://app:ab%40cdSECRET@db.internal:5433/push", "app@db.internal:5433/push"},
		{"postgres", "postgres://app:push@db/push", "app@db:5432/push"},
		{"postgres", "postgres://db/push?user=app&password=s%40cSECRET", "app@db:5432/push"},
		{"postgres", `host=db user=app password=ab\ cdSECRET dbname=push`, "app@db:5432/push"},
		{"postgres", "host=db user=app password='a b SECRET' dbname=push", "app@db:5432/push"},
		{"mysql", "not a dsn SECRET", "(a DSN the driver cannot read)"},
		{"sqlite", "/var/lib/push/push.db", "/var/lib/push/push.db"},
	} {
		got := dbTarget(tt.driver, tt.dsn)
		assert.Equal(t, tt.want, got, tt.dsn)
		assert.NotContains(t, got, "SECRET")
	}
}

// TestStartupWarnsOfSpacedUserNums: a user_num another program wrote
// with spaces around it is named at start-up, with the SQL that finds
// them (an adversary's trial: such a link is no user's); a database
// without any says nothing, nor does one with a token so (compared
// trimmed).
func TestStartupWarnsOfSpacedUserNums(t *testing.T) {
	path := filepath.Join(t.TempDir(), "push.db")
	cfg, err := loadConfig(envOf(map[string]string{"PUSH_DB_DSN": path, "PUSH_SCAN_INTERVAL": "1h"}))
	require.NoError(t, err)
	// startup starts and closes the server and returns its log, once the
	// start-up checks that run beside it are done.
	startup := func() string {
		var logs syncbuf.Buffer
		a, err := newApp(context.Background(), cfg, slog.New(slog.NewTextHandler(&logs, nil)))
		require.NoError(t, err)
		a.checks.Wait()
		a.Close()
		return logs.String()
	}
	assert.NotContains(t, startup(), "spaces around a user_num")

	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO sys_devices (name, platform, uuid, push_device_token, push_platform, created_at, updated_at)
		VALUES ('p', 'android', 'old-1', ' ` + umengtest.AndroidToken("p") + `', 'umeng', '2026-01-01 00:00:00', '2026-01-01 00:00:00')`)
	require.NoError(t, err)
	assert.NotContains(t, startup(), "spaces around", "a token with spaces is compared trimmed")

	_, err = db.Exec(`INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at)
		VALUES ('L002 ', 1, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`)
	require.NoError(t, err)
	again := startup()
	assert.Contains(t, again, "links another program wrote have spaces around a user_num")
	assert.Contains(t, again, "user_nums=1")
	assert.Contains(t, again, "SELECT id, user_num FROM sys_user_devices WHERE user_num <> TRIM(user_num)")
}
