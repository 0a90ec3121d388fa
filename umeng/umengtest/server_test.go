package umengtest

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
)

func TestConfigValidation(t *testing.T) {
	good := App{AppKey: "k1", AppMasterSecret: "topsecret-value", Platform: PlatformIOS}
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"empty apps", Config{Apps: []App{}}, "Apps"},
		{"empty appkey", Config{Apps: []App{{AppMasterSecret: "s", Platform: PlatformIOS}}}, "Apps[0].AppKey"},
		{"empty secret", Config{Apps: []App{good, {AppKey: "k2", Platform: PlatformAndroid}}}, "Apps[1].AppMasterSecret"},
		{"bad platform", Config{Apps: []App{{AppKey: "k", AppMasterSecret: "topsecret-value", Platform: "web"}}}, "Apps[0].Platform"},
		{"duplicate appkey", Config{Apps: []App{good, good}}, "Apps[1].AppKey"},
		{"negative task step", Config{TaskStep: -time.Second}, "TaskStep"},
		{"negative timestamp window", Config{TimestampWindow: -time.Second}, "TimestampWindow"},
		{"negative keep", Config{Keep: -1}, "Keep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := New(tt.cfg)
			require.ErrorIs(t, err, ErrInvalidConfig)
			assert.Nil(t, s)
			assert.Contains(t, err.Error(), tt.field)
			assert.NotContains(t, err.Error(), "topsecret-value", "secrets never appear in errors")
		})
	}
}

// fatalTB records Fatalf instead of stopping, to observe NewServer failing.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) { f.msg = fmt.Sprintf(format, args...) }

func TestNewServerFailsTheTest(t *testing.T) {
	tb := &fatalTB{}
	assert.Nil(t, NewServer(tb, Config{TaskStep: -time.Second}))
	assert.Contains(t, tb.msg, "TaskStep")
}

func TestConfigDefaults(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	assert.Equal(t, DefaultApps(), s.cfg.Apps)
	assert.Equal(t, DefaultTaskStep, s.cfg.TaskStep)
	assert.Equal(t, DefaultTimestampWindow, s.cfg.TimestampWindow)
	_, offset := time.Date(2026, 1, 1, 0, 0, 0, 0, s.cfg.Location).Zone()
	assert.Equal(t, 8*3600, offset)
	assert.NotNil(t, s.cfg.Logger)
	assert.WithinDuration(t, time.Now(), s.now(), time.Minute)
}

func TestConfigAppsAreCopied(t *testing.T) {
	apps := DefaultApps()
	s, err := New(Config{Apps: apps})
	require.NoError(t, err)
	apps[0].AppKey = "changed"
	assert.Equal(t, DefaultApps()[0].AppKey, s.cfg.Apps[0].AppKey)
}

func TestDefaultApps(t *testing.T) {
	apps := DefaultApps()
	require.Len(t, apps, 2)
	assert.Equal(t, PlatformIOS, apps[0].Platform)
	assert.Equal(t, PlatformAndroid, apps[1].Platform)
	for _, a := range apps {
		assert.Len(t, a.AppKey, 24, "Umeng appkeys are 24 characters")
		assert.Len(t, a.AppMasterSecret, 32, "App Master Secrets are 32 characters")
	}
	apps[0].AppKey = "mutated"
	assert.NotEqual(t, "mutated", DefaultApps()[0].AppKey)
}

// ClientConfig points a client at the server with the first app of each
// platform, and such a client is accepted.
func TestClientConfig(t *testing.T) {
	s := NewServer(t, Config{})
	cfg := s.ClientConfig()
	assert.Equal(t, s.URL, cfg.BaseURL)
	assert.Equal(t, DefaultApps()[0].AppKey, cfg.IOS.AppKey)
	assert.Equal(t, DefaultApps()[1].AppMasterSecret, cfg.Android.AppMasterSecret)
	c, err := umeng.New(cfg)
	require.NoError(t, err)
	_, err = c.Send(t.Context(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{AndroidToken("d1")}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	assert.Len(t, s.Sends(), 1)

	other := App{AppKey: "5f0000000000000000000999", AppMasterSecret: "othermastersecret000000000000001", Platform: PlatformAndroid}
	s2 := NewServer(t, Config{Apps: []App{other, DefaultApps()[1]}})
	cfg2 := s2.ClientConfig()
	assert.Equal(t, other.AppKey, cfg2.Android.AppKey, "the first Android app")
	assert.Empty(t, cfg2.IOS.AppKey, "no iOS app")
}

// A server not started (mounted with Handler) has no URL: ClientConfig
// panics rather than give an empty BaseURL, which a client takes as the
// real Umeng; ClientConfigAt names where the host mounted it.
func TestClientConfigOfAMountedServer(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	assert.PanicsWithValue(t, "umengtest: ClientConfig of a Server not started: its URL is unknown, and an empty BaseURL means the real Umeng; call Start first, or, for a Handler mounted on a server of yours, use ClientConfigAt(its URL)",
		func() { s.ClientConfig() })
	assert.Panics(t, func() { s.ClientConfigAt("") })
	host := httptest.NewServer(s.Handler())
	defer host.Close()
	cfg := s.ClientConfigAt(host.URL)
	assert.Equal(t, host.URL, cfg.BaseURL)
	c, err := umeng.New(cfg)
	require.NoError(t, err)
	_, err = c.Send(t.Context(), &provider.Request{Platform: provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{IOSToken("d1")}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	assert.Len(t, s.Sends(), 1)
}

func TestServerLifecycle(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	assert.Empty(t, s.URL, "no URL before Start")
	require.NoError(t, s.Start())
	assert.True(t, strings.HasPrefix(s.URL, "http://127.0.0.1:") || strings.HasPrefix(s.URL, "http://[::1]:"), s.URL)
	assert.ErrorIs(t, s.Start(), ErrInvalidArgument, "a second Start")

	resp, err := http.Post(s.URL+pathSend, "application/json", strings.NewReader("{}"))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusBadRequest, resp.StatusCode)

	s.Close()
	s.Close() // harmless
	assert.ErrorIs(t, s.Start(), ErrClosed)
	_, err = http.Post(s.URL+pathSend, "application/json", strings.NewReader("{}"))
	assert.Error(t, err, "closed server refuses connections")
}

func TestCloseUnstarted(t *testing.T) {
	s, err := New(Config{})
	require.NoError(t, err)
	s.Close()
	assert.ErrorIs(t, s.Start(), ErrClosed)

	// A handler mounted elsewhere answers 503 once the server is closed.
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, httptest.NewRequest(http.MethodPost, pathSend, strings.NewReader("{}")))
	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
}

func TestRouting(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		method, path string
		want         int
	}{
		{http.MethodPost, "/api/push", http.StatusNotFound},
		{http.MethodPost, "/api/upload", http.StatusNotFound},
		{http.MethodGet, pathSend, http.StatusMethodNotAllowed},
		{http.MethodPut, pathUpload, http.StatusMethodNotAllowed},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			req, err := http.NewRequest(tt.method, f.url+tt.path, nil)
			require.NoError(t, err)
			resp, err := f.client.Do(req)
			require.NoError(t, err)
			resp.Body.Close()
			assert.Equal(t, tt.want, resp.StatusCode)
			if tt.want == http.StatusMethodNotAllowed {
				assert.Equal(t, http.MethodPost, resp.Header.Get("Allow"))
			}
		})
	}
	recs := f.srv.Requests()
	require.Len(t, recs, len(tests), "every request is recorded")
	assert.Equal(t, "/api/push", recs[0].Path)
	assert.Equal(t, http.StatusNotFound, recs[0].StatusCode)
	assert.Equal(t, CodeNoSuchAPI, recs[0].Code)

	// An unknown path is answered as the service answers errors: JSON
	// with ret FAIL and an error code, on HTTP 404.
	r := f.post(f.android, "/api/nope", f.fields(f.android, nil))
	assert.Equal(t, http.StatusNotFound, r.status)
	assert.Equal(t, "FAIL", r.Ret)
	assert.Equal(t, CodeNoSuchAPI, r.code())
	assert.Contains(t, string(r.raw), "/api/nope")
}

func TestLoggingKeepsSecrets(t *testing.T) {
	var buf bytes.Buffer
	var mu sync.Mutex
	logger := slog.New(slog.NewTextHandler(&lockedWriter{w: &buf, mu: &mu}, nil))
	f := newFixture(t, func(c *Config) { c.Logger = logger })
	sent := unicast(f.android, AndroidToken("log"))
	sent["category"] = 1
	sent["channel_properties"] = map[string]any{"xiaomi_channel_id": "orders"}
	f.mustSend(f.android, sent)
	bad := f.fields(f.android, unicast(f.android, AndroidToken("log")))
	bad["payload"] = "nope"
	f.post(f.android, pathSend, bad)

	sig := f.srv.Requests()[0].Sign
	f.srv.Close()
	mu.Lock()
	out := buf.String()
	mu.Unlock()
	assert.Equal(t, 2, strings.Count(out, "umengtest request"))
	assert.Contains(t, out, "code="+CodeBadPayload)
	assert.Contains(t, out, "appkey="+f.android.AppKey)
	assert.NotContains(t, out, f.android.AppMasterSecret)
	assert.NotContains(t, out, sig)
	assert.NotContains(t, out, AndroidToken("log"), "no token")
	assert.Contains(t, out, "category=1 channel_properties=map[xiaomi_channel_id:orders]", "a demo sees the class and channels sent")
}

type lockedWriter struct {
	w  *bytes.Buffer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestRecordingHelpers(t *testing.T) {
	f := newFixture(t)
	f.mustSend(f.android, unicast(f.android, AndroidToken("r1")))
	iosSend := unicast(f.ios, IOSToken("r1"))
	iosSend["payload"].(map[string]any)["order"] = "42"
	f.mustSend(f.ios, iosSend)
	f.send(f.ios, unicast(f.ios, "bad"))
	f.upload(f.ios, IOSToken("r2"))

	assert.Len(t, f.srv.Requests(), 4)
	assert.Len(t, f.srv.Sends(), 2, "accepted sends only")
	ios := f.srv.SendsFor(f.ios.AppKey)
	require.Len(t, ios, 1)
	assert.Equal(t, []string{IOSToken("r1")}, ios[0].DeviceTokens)

	// What callers get is theirs to change.
	ios[0].DeviceTokens[0] = "changed"
	ios[0].Payload["aps"].(map[string]any)["alert"].(map[string]any)["title"] = "changed"
	ios[0].Payload["order"] = "changed"
	ios[0].Body[0] = 'X'
	again := f.srv.SendsFor(f.ios.AppKey)[0]
	assert.Equal(t, map[string]any{"alert": map[string]any{"title": "Hello", "body": "World"}}, again.Payload["aps"])
	assert.Equal(t, "42", again.Payload["order"])
	assert.Equal(t, IOSToken("r1"), again.DeviceTokens[0])
	assert.Equal(t, byte('{'), again.Body[0])
	d := f.srv.Deliveries()
	require.Len(t, d, 2)
	d[0].Token = "changed"
	d[1].Extras["order"] = "changed"
	assert.Equal(t, AndroidToken("r1"), f.srv.Deliveries()[0].Token)
	assert.Equal(t, map[string]string{"order": "42"}, f.srv.Deliveries()[1].Extras)

	f.srv.Reset()
	assert.Empty(t, f.srv.Requests())
	assert.Empty(t, f.srv.Deliveries())
	f.mustSend(f.android, unicast(f.android, AndroidToken("r3")))
	recs := f.srv.Requests()
	require.Len(t, recs, 1)
	assert.Equal(t, 5, recs[0].Seq, "Seq keeps counting across Reset")
}

func TestAddDevice(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name   string
		appKey string
		device Device
		want   error
	}{
		{"unknown app", "nosuchapp", Device{Token: AndroidToken("x")}, ErrUnknownApp},
		{"empty token", f.android.AppKey, Device{}, ErrInvalidArgument},
		{"malformed token", f.android.AppKey, Device{Token: "short"}, ErrInvalidArgument},
		{"iOS token for Android", f.android.AppKey, Device{Token: IOSToken("x")}, ErrInvalidArgument},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.ErrorIs(t, f.srv.AddDevice(tt.appKey, tt.device), tt.want)
		})
	}

	// Re-registering a token replaces it without duplicating the audience,
	// and the server keeps its own copy of the aliases.
	tok := AndroidToken("re")
	aliases := map[string]string{"uid": "old"}
	f.addDevice(f.android, Device{Token: tok, Aliases: aliases})
	aliases["uid"] = "mutated"
	assert.Equal(t, http.StatusOK, f.send(f.android, map[string]any{"type": "customizedcast", "alias_type": "uid", "alias": "old", "payload": note("t", "x")}).status)
	f.addDevice(f.android, Device{Token: tok, Aliases: map[string]string{"uid": "new"}})
	id := f.mustSend(f.android, broadcastTo(f.android))
	got, _ := f.srv.Task(id)
	assert.Equal(t, 1, got.Total)
	assert.Equal(t, CodeAliasNoDevices, f.send(f.android, map[string]any{"type": "customizedcast", "alias_type": "uid", "alias": "old", "payload": note("t", "x")}).code())
}

func TestTokens(t *testing.T) {
	a, i := AndroidToken("seed"), IOSToken("seed")
	assert.Len(t, a, 44)
	assert.Len(t, i, 64)
	assert.True(t, wellFormedToken(PlatformAndroid, a))
	assert.True(t, wellFormedToken(PlatformIOS, i))
	assert.True(t, wellFormedToken(PlatformIOS, strings.ToUpper(i)))
	assert.False(t, wellFormedToken(PlatformIOS, a))
	assert.False(t, wellFormedToken(PlatformAndroid, i))
	assert.False(t, wellFormedToken(PlatformAndroid, strings.Repeat("+", 44)))
	assert.False(t, wellFormedToken(PlatformIOS, strings.Repeat("g", 64)))
	assert.False(t, wellFormedToken("web", a))
	assert.Equal(t, a, AndroidToken("seed"), "deterministic")
	assert.NotEqual(t, a, AndroidToken("seed2"))
	assert.NotEqual(t, i, IOSToken("seed2"))
}

func TestIDsAreUniqueOnAFrozenClock(t *testing.T) {
	s, err := New(Config{Now: func() time.Time { return start }})
	require.NoError(t, err)
	seen := map[string]bool{}
	s.mu.Lock()
	defer s.mu.Unlock()
	for range 1000 {
		id := s.newIDLocked(prefixUnicast, idDigits, start)
		require.Len(t, id, 22)
		require.False(t, seen[id])
		seen[id] = true
	}
	file := s.newIDLocked(prefixFile, fileIDDigits, start)
	assert.Len(t, file, 20)
}

// TestConcurrentUse hammers one server from many goroutines: every API, the
// accessors and the fault controls at once. Run under -race.
func TestConcurrentUse(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.NoRateLimits = true })
	for i := range 5 {
		f.addDevice(f.android, Device{Token: AndroidToken("bc" + strconv.Itoa(i))})
	}
	const workers, perWorker = 8, 20
	var wg sync.WaitGroup
	ids := make(chan string, workers*perWorker*2)
	// Worker goroutines report with assert: require must not stop a test
	// from a goroutine other than the test's own.
	call := func(path string, body map[string]any) string {
		r, err := f.tryPost(f.android, path, body)
		if assert.NoError(t, err) && assert.Equal(t, http.StatusOK, r.status, "body: %s", r.raw) {
			return r.str("msg_id") + r.str("task_id")
		}
		return ""
	}
	for w := range workers {
		wg.Go(func() {
			for i := range perWorker {
				tok := AndroidToken(strconv.Itoa(w) + "/" + strconv.Itoa(i))
				ids <- call(pathSend, f.fields(f.android, unicast(f.android, tok)))
				id := call(pathSend, f.fields(f.android, map[string]any{"type": "broadcast", "payload": note("t", "x"),
					"policy": map[string]any{"out_biz_no": "biz-" + strconv.Itoa(i)}}))
				ids <- id
				call(pathStatus, f.fields(f.android, map[string]any{"task_id": id}))
				call(pathUpload, f.fields(f.android, map[string]any{"content": tok}))
			}
		})
	}
	wg.Go(func() {
		for range 50 {
			f.srv.Requests()
			f.srv.Deliveries()
			f.srv.Tasks()
			f.srv.DeliveryCount(AndroidToken("bc0"))
			f.clock.Advance(100 * time.Millisecond)
		}
	})
	wg.Go(func() {
		for range 20 {
			release := f.srv.Stall()
			release()
			assert.NoError(t, f.srv.SetLatency(0))
			f.srv.MarkInvalid(AndroidToken("never-used"))
		}
	})
	wg.Wait()
	close(ids)

	unique := map[string]bool{}
	for id := range ids {
		unique[id] = true
	}
	assert.Len(t, unique, workers*perWorker+perWorker, "unicast ids all differ; broadcasts dedupe by out_biz_no")
	assert.Len(t, f.srv.Tasks(), perWorker)
	f.clock.Advance(2 * DefaultTaskStep)
	for _, task := range f.srv.Tasks() {
		assert.Equal(t, StatusDone, task.Status)
	}
	assert.Equal(t, perWorker, f.srv.DeliveryCount(AndroidToken("bc0")), "each broadcast delivered once")
	assert.Len(t, f.srv.Requests(), workers*perWorker*4)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.NoError(t, f.srv.WaitStalled(ctx, 0))
}
