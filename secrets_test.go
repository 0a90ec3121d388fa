package push_test

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// syncBuffer is a log sink for concurrent writers.
type syncBuffer = syncbuf.Buffer

// wireSecrets is an http.RoundTripper that notes every credential the
// clients put on the wire: Umeng's ?sign=, JPush's Basic authorization,
// Getui's auth sign and its token header. They are what must never come
// back in a log, an error or a stored answer.
type wireSecrets struct {
	mu   sync.Mutex
	seen map[string]string // value → where it was seen
	next http.RoundTripper
}

func (w *wireSecrets) note(v, what string) {
	if v == "" {
		return
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.seen[v] = what
}

func (w *wireSecrets) RoundTrip(r *http.Request) (*http.Response, error) {
	w.note(r.URL.Query().Get("sign"), "umeng sign")
	if auth := r.Header.Get("Authorization"); auth != "" {
		w.note(auth, "authorization header")
		w.note(strings.TrimPrefix(auth, "Basic "), "basic credentials")
	}
	w.note(r.Header.Get("token"), "getui auth token")
	if strings.HasSuffix(r.URL.Path, "/auth") && r.Body != nil {
		body, err := io.ReadAll(r.Body)
		if err != nil {
			return nil, err
		}
		r.Body = io.NopCloser(bytes.NewReader(body))
		var a struct {
			Sign string `json:"sign"`
		}
		if json.Unmarshal(body, &a) == nil {
			w.note(a.Sign, "getui auth sign")
		}
	}
	return w.next.RoundTrip(r)
}

func (w *wireSecrets) values() map[string]string {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]string, len(w.seen))
	for k, v := range w.seen {
		out[k] = v
	}
	return out
}

// kvText is the keys and values of kvs, one "key=value" a line.
func kvText(kvs []attribute.KeyValue) string {
	var b strings.Builder
	for _, kv := range kvs {
		b.WriteString(string(kv.Key) + "=" + kv.Value.String() + "\n")
	}
	return b.String()
}

// texts gathers text by where it was found.
type texts map[string]string

func (x texts) add(where, text string) { x[where] += text + "\n" }

// addSpans adds every text of spans a secret could hide in: the names,
// attributes, events' names and attributes, status descriptions and
// links' attributes.
func (x texts) addSpans(spans []sdktrace.ReadOnlySpan) {
	for _, s := range spans {
		x.add("span names", s.Name())
		x.add("span attributes", kvText(s.Attributes()))
		x.add("span status descriptions", s.Status().Description)
		for _, e := range s.Events() {
			x.add("span event names", e.Name)
			x.add("span event attributes", kvText(e.Attributes))
		}
		for _, l := range s.Links() {
			x.add("span link attributes", kvText(l.Attributes))
		}
	}
}

// addMetrics adds every text of rm a secret could hide in: the metrics'
// names, descriptions and units, and the attribute keys and values of
// every data point and exemplar, whatever the aggregation. It returns how
// many data points it walked, and fails t on an aggregation it does not
// know, so that none is skipped unread.
func (x texts) addMetrics(t *testing.T, rm metricdata.ResourceMetrics) int {
	t.Helper()
	n := 0
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			x.add("metric names", m.Name)
			x.add("metric descriptions and units", m.Description+" "+m.Unit)
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				n += addPoints(x, d.DataPoints)
			case metricdata.Sum[float64]:
				n += addPoints(x, d.DataPoints)
			case metricdata.Gauge[int64]:
				n += addPoints(x, d.DataPoints)
			case metricdata.Gauge[float64]:
				n += addPoints(x, d.DataPoints)
			case metricdata.Histogram[int64]:
				n += addHistogramPoints(x, d.DataPoints)
			case metricdata.Histogram[float64]:
				n += addHistogramPoints(x, d.DataPoints)
			case metricdata.ExponentialHistogram[int64]:
				n += addExponentialPoints(x, d.DataPoints)
			case metricdata.ExponentialHistogram[float64]:
				n += addExponentialPoints(x, d.DataPoints)
			case metricdata.Summary:
				for _, p := range d.DataPoints {
					x.add("metric attributes", kvText(p.Attributes.ToSlice()))
				}
				n += len(d.DataPoints)
			default:
				require.Failf(t, "unread metric data", "metric %s holds a %T", m.Name, m.Data)
			}
		}
	}
	return n
}

func addPoints[N int64 | float64](x texts, ps []metricdata.DataPoint[N]) int {
	for _, p := range ps {
		x.add("metric attributes", kvText(p.Attributes.ToSlice()))
		addExemplars(x, p.Exemplars)
	}
	return len(ps)
}

func addHistogramPoints[N int64 | float64](x texts, ps []metricdata.HistogramDataPoint[N]) int {
	for _, p := range ps {
		x.add("metric attributes", kvText(p.Attributes.ToSlice()))
		addExemplars(x, p.Exemplars)
	}
	return len(ps)
}

func addExponentialPoints[N int64 | float64](x texts, ps []metricdata.ExponentialHistogramDataPoint[N]) int {
	for _, p := range ps {
		x.add("metric attributes", kvText(p.Attributes.ToSlice()))
		addExemplars(x, p.Exemplars)
	}
	return len(ps)
}

func addExemplars[N int64 | float64](x texts, es []metricdata.Exemplar[N]) {
	for _, e := range es {
		x.add("metric exemplar attributes", kvText(e.FilteredAttributes))
	}
}

// TestSecretsNeverLeak runs the Service, the HTTP API, the Scanner and
// all three providers with debug logging, known secrets, full-length
// device tokens and failing vendors: 5xx answers that echo the secrets of
// this and of other apps, auth refusals, timeouts, an invalid token. Then
// no app secret, sign, Basic credential, Getui token or full device token
// may appear in the log output, in any error returned, or in the stored
// vendor answers and remarks (sys_push_deliveries.response, ret,
// error_code, receipt_id, vendor_state; sys_message_center.send_result,
// remark), nor in the run's telemetry: the names, attributes, events,
// status descriptions and links of its spans, and the names and the
// attributes of every data point of its metrics.
func TestSecretsNeverLeak(t *testing.T) {
	ctx := t.Context()
	clk := newClock()
	kit := newOtelKit()
	logs := &syncBuffer{}
	log := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	wire := &wireSecrets{seen: map[string]string{}, next: http.DefaultTransport}
	hc := &http.Client{Transport: wire}

	uf := umengtest.NewServer(t, umengtest.Config{Now: clk.Now, NoRateLimits: true})
	jf := jpushtest.NewServer(t, jpushtest.Config{Now: clk.Now})
	gf := getuitest.NewServer(t, getuitest.Config{Now: clk.Now})

	ucfg := umeng.Config{BaseURL: uf.URL, Now: clk.Now, Logger: log, HTTPClient: hc, Timeout: 300 * time.Millisecond}
	secrets := map[string]string{}
	for _, a := range umengtest.DefaultApps() {
		app := umeng.App{AppKey: a.AppKey, AppMasterSecret: a.AppMasterSecret}
		secrets[a.AppMasterSecret] = "umeng " + a.Platform + " app master secret"
		if a.Platform == umengtest.PlatformIOS {
			ucfg.IOS = app
		} else {
			ucfg.Android = app
		}
	}
	um, err := umeng.New(ucfg)
	require.NoError(t, err)
	japp := jpushtest.DefaultApps()[0]
	secrets[japp.MasterSecret] = "jpush master secret"
	secrets[base64.StdEncoding.EncodeToString([]byte(japp.AppKey+":"+japp.MasterSecret))] = "jpush basic credentials"
	jp, err := jpush.New(jpush.Config{AppKey: japp.AppKey, MasterSecret: japp.MasterSecret, BaseURL: jf.URL, ReportBaseURL: jf.URL,
		Now: clk.Now, Logger: log, HTTPClient: hc, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	gapp := getuitest.DefaultApps()[0]
	secrets[gapp.MasterSecret] = "getui master secret"
	gt, err := getui.New(getui.Config{AppID: gapp.AppID, AppKey: gapp.AppKey, MasterSecret: getui.NewSecret(gapp.MasterSecret),
		BaseURL: gf.BaseURL(), Now: clk.Now, Logger: log, HTTPClient: hc, Timeout: 300 * time.Millisecond})
	require.NoError(t, err)
	allSecrets := strings.Join([]string{ucfg.IOS.AppMasterSecret, ucfg.Android.AppMasterSecret, japp.MasterSecret, gapp.MasterSecret}, " ")

	db, _ := dbtest.Open(t, sqlstore.DialectSQLite)
	st, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Now: clk.Now})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	pcfg := push.Config{Store: st, Providers: []provider.Provider{um, jp, gt}, Now: clk.Now, Logger: log,
		Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}}
	kit.with(&pcfg)
	svc, err := push.New(pcfg)
	require.NoError(t, err)
	h, err := push.NewHandler(push.HandlerConfig{Service: svc, Logger: log})
	require.NoError(t, err)
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, Store: st, Now: clk.Now, Logger: log,
		Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}, MeterProvider: kit.mp, TracerProvider: kit.tp})
	require.NoError(t, err)

	devices := []struct{ platform, provider, token string }{
		{"ios", "umeng", umengtest.IOSToken("secret-iphone")},
		{"android", "umeng", umengtest.AndroidToken("secret-android")},
		{"android", "jpush", jpushtest.RegistrationID("secret-xiaomi")},
		{"android", "getui", getuitest.CID("secret-huawei")},
	}
	for i, d := range devices {
		secrets[d.token] = "full device token (" + d.provider + ")"
		b, err := json.Marshal(map[string]string{"user_num": "u1", "uuid": "uuid-" + d.token[:8], "push_token": d.token,
			"push_platform": d.provider, "platform": d.platform})
		require.NoError(t, err)
		req := httptest.NewRequest(http.MethodPost, push.PathDevice, bytes.NewReader(b))
		req.Header.Set("Content-Type", "application/json")
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		require.Equal(t, http.StatusOK, rec.Code, "device %d: %s", i, rec.Body.String())
	}
	// A refused registration: its answer and log must not echo the token.
	b, _ := json.Marshal(map[string]string{"user_num": "u1", "uuid": "bad", "push_token": devices[0].token + ",x", "platform": "ios"})
	req := httptest.NewRequest(http.MethodPost, push.PathDevice, bytes.NewReader(b))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	require.Equal(t, http.StatusBadRequest, rec.Code)
	var errs []string
	errs = append(errs, rec.Body.String())
	collect := func(res *push.Result, err error) {
		if err != nil {
			errs = append(errs, err.Error())
		}
		if res == nil {
			return
		}
		for _, o := range res.Deliveries {
			if o.Err != nil {
				errs = append(errs, o.Err.Error())
			}
		}
	}
	retry := func() {
		clk.Advance(2 * time.Hour)
		_, err := svc.RetryPending(ctx, 100)
		require.NoError(t, err)
	}

	// 1. 5xx answers that echo every app's secret, at every vendor.
	require.NoError(t, uf.FailNext(2, umengtest.Fault{Path: "/api/send", HTTPStatus: 500, Code: "2020", Message: "echo " + allSecrets}))
	require.NoError(t, jf.FailNext(1, jpushtest.Fault{Path: "/v3/push", HTTPStatus: 500, Code: 1000, Message: "echo " + allSecrets}))
	require.NoError(t, gf.FailNext(1, getuitest.Fault{API: "/auth", HTTPStatus: 500, Code: 1, Msg: "echo " + allSecrets}))
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	collect(res, err)
	require.NoError(t, err)

	// 2. Auth refusals that echo secrets, and timeouts.
	require.NoError(t, uf.FailNext(1, umengtest.Fault{Path: "/api/send", Code: "2027", Message: "bad sign; secret " + allSecrets}))
	require.NoError(t, uf.FailNext(1, umengtest.Fault{Path: "/api/send", Timeout: true}))
	require.NoError(t, jf.FailNext(1, jpushtest.Fault{Path: "/v3/push", HTTPStatus: 401, Code: 1004, Message: "auth failed for " + allSecrets}))
	require.NoError(t, gf.FailNext(1, getuitest.Fault{API: "/auth", Code: 10001, Msg: "auth failed for " + allSecrets}))
	retry()

	// 3. A timeout at JPush and Getui; a 5xx of Getui's push echoing secrets.
	require.NoError(t, jf.FailNext(1, jpushtest.Fault{Path: "/v3/push", Delay: 2 * time.Second}))
	require.NoError(t, gf.FailNext(1, getuitest.Fault{Timeout: true}))
	retry()
	require.NoError(t, gf.FailNext(1, getuitest.Fault{HTTPStatus: 503, Code: 1, Msg: "busy " + allSecrets}))
	retry()

	// 4. Everything goes through; status is polled; a broadcast fails
	// with an echo first.
	uf.ClearFaults()
	jf.ClearFaults()
	gf.ClearFaults()
	for range 3 {
		retry()
	}
	require.NoError(t, uf.FailNext(1, umengtest.Fault{Path: "/api/send", HTTPStatus: 502, Code: "2020", Message: "echo " + allSecrets}))
	collect(svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "all"}))
	retry()
	_, err = svc.PollReceipts(ctx, 100)
	require.NoError(t, err)
	st1, err := svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	// The summaries' device tokens are the brief's columns; their answers
	// are vendor text.
	errs = append(errs, st1.IOS.Response, st1.IOS.Ret, st1.Android.Response, st1.Android.Ret)

	// 5. Invalid tokens at every vendor.
	uf.MarkInvalid(devices[0].token, devices[1].token)
	jf.MarkInvalid(devices[2].token)
	gf.MarkInvalid(devices[3].token)
	collect(svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "again"}))

	// 6. The Scanner, against vendors that echo secrets.
	for _, d := range devices {
		var tok string // another token of the vendor's shape
		switch {
		case d.provider == jpush.Name:
			tok = jpushtest.RegistrationID("u2-" + d.token)
		case d.provider == getui.Name:
			tok = getuitest.CID("u2-" + d.token)
		case d.platform == registry.PlatformAndroid:
			tok = umengtest.AndroidToken("u2-" + d.token)
		default:
			tok = umengtest.IOSToken("u2-" + d.token)
		}
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u2", UUID: "u2-" + d.token[:8], PushToken: tok,
			PushPlatform: d.provider, Platform: d.platform})
		require.NoError(t, err)
		secrets[tok] = "full device token (" + d.provider + ")"
	}
	require.NoError(t, uf.FailNext(2, umengtest.Fault{Path: "/api/send", Code: "2022", Message: "too long " + allSecrets}))
	require.NoError(t, jf.FailNext(1, jpushtest.Fault{Path: "/v3/push", HTTPStatus: 400, Code: 1003, Message: "bad " + allSecrets}))
	require.NoError(t, gf.FailNext(1, getuitest.Fault{HTTPStatus: 400, Code: 20001, Msg: "bad " + allSecrets}))
	require.NoError(t, st.EnqueueCenterMessage(ctx, &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: messagecenter.ModePush, Receivers: "u2"}))
	_, err = sc.RunOnce(ctx)
	require.NoError(t, err)

	// The wire saw the signs, the credentials and the tokens.
	wireSeen := wire.values()
	kinds := map[string]bool{}
	for v, what := range wireSeen {
		secrets[v] = what
		kinds[what] = true
	}
	for _, k := range []string{"umeng sign", "basic credentials", "getui auth sign", "getui auth token"} {
		require.True(t, kinds[k], "the wire carried a %s", k)
	}

	stored := map[string]string{}
	rows, err := db.QueryContext(ctx, `SELECT id, COALESCE(response, ''), COALESCE(ret, ''), COALESCE(error_code, ''),
		COALESCE(receipt_id, ''), COALESCE(vendor_state, '') FROM sys_push_deliveries`)
	require.NoError(t, err)
	for rows.Next() {
		var id int64
		var resp, ret, code, receipt, vstate string
		require.NoError(t, rows.Scan(&id, &resp, &ret, &code, &receipt, &vstate))
		stored["delivery response"] += resp + "\n"
		stored["delivery ret, error_code, receipt_id, vendor_state"] += strings.Join([]string{ret, code, receipt, vstate}, " ") + "\n"
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	srows, err := db.QueryContext(ctx, `SELECT COALESCE(ios_ret, ''), COALESCE(ios_response, ''), COALESCE(android_ret, ''),
		COALESCE(android_response, '') FROM sys_push_messages`)
	require.NoError(t, err)
	for srows.Next() {
		var a, b, c, d string
		require.NoError(t, srows.Scan(&a, &b, &c, &d))
		stored["push message ret, response"] += strings.Join([]string{a, b, c, d}, " ") + "\n"
	}
	require.NoError(t, srows.Err())
	require.NoError(t, srows.Close())
	crows, err := db.QueryContext(ctx, `SELECT COALESCE(send_result, ''), COALESCE(remark, '') FROM sys_message_center`)
	require.NoError(t, err)
	for crows.Next() {
		var result, remark string
		require.NoError(t, crows.Scan(&result, &remark))
		stored["center send_result, remark"] += result + " " + remark + "\n"
	}
	require.NoError(t, crows.Err())
	require.NoError(t, crows.Close())

	// The run did fail in the ways it meant to.
	require.Contains(t, stored["delivery response"], "echo", "vendor errors were stored")
	require.Contains(t, stored["center send_result, remark"], "every delivery failed", "the Scanner recorded the failure")
	require.NotEmpty(t, logs.String())

	// The run was traced: a client span for the calls to every vendor,
	// failed ones among them, and a span for the Scanner's row.
	for _, p := range []string{"umeng", "jpush", "getui"} {
		calls := kit.spansNamed(p + " " + push.OpSend)
		require.NotEmpty(t, calls, "%s send spans", p)
		failed := 0
		for _, s := range calls {
			v, ok := spanAttr(s, push.AttrProvider)
			require.True(t, ok, "a %s send span names its provider", p)
			require.Equal(t, p, v.AsString())
			if s.Status().Code == codes.Error {
				failed++
			}
		}
		require.NotZero(t, failed, "the failed calls to %s were traced", p)
	}
	require.NotEmpty(t, kit.spansNamed("messagecenter.row"), "the Scanner's row was traced")
	require.NotEmpty(t, kit.spansNamed("push.Push"))
	require.NotEmpty(t, kit.spansNamed("push.Broadcast"))
	// Started spans too, in case one was never ended: what a span starts
	// with is read either way.
	require.Equal(t, len(kit.spans.Started()), len(kit.spans.Ended()), "every span ended")
	links := 0
	for _, s := range kit.spans.Ended() {
		links += len(s.Links())
	}
	require.NotZero(t, links, "retries link to the trace of their push")
	tel := texts{}
	for _, s := range kit.spans.Started() {
		tel.addSpans([]sdktrace.ReadOnlySpan{s})
	}
	tel.addSpans(kit.spans.Ended())
	// And metered.
	points := tel.addMetrics(t, kit.collect(t))
	require.NotZero(t, points, "metric data points were collected")
	for _, name := range []string{"push.deliveries", "push.vendor.call.duration", "push.center.rows", "push.claim.duration"} {
		require.Contains(t, tel["metric names"], name+"\n")
	}
	// The walk did read what is there.
	require.Contains(t, tel["span attributes"], string(push.AttrProvider)+"=getui")
	require.Contains(t, tel["span attributes"], "push.error_code=")
	require.Contains(t, tel["span status descriptions"], provider.Auth.String())
	require.Contains(t, tel["metric attributes"], string(push.AttrOutcome)+"="+provider.Temporary.String())

	places := map[string]string{"log output": logs.String(), "returned errors": strings.Join(errs, "\n")}
	for k, v := range tel {
		places[k] = v
	}
	for k, v := range stored {
		places[k] = v
	}
	for where, text := range places {
		for secret, what := range secrets {
			assert.NotContains(t, text, secret, "%s holds a %s", where, what)
		}
	}
}
