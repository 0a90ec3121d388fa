package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/syncbuf"
)

// get fetches path without any token and returns the status and body.
func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

// TestMetricsCountAPush pushes through the HTTP API (with the API token
// set) and scrapes /metrics, without the token, in the Prometheus text
// format: the push, its deliveries by state and the vendor calls are
// counted.
func TestMetricsCountAPush(t *testing.T) {
	a := newTestApp(t, map[string]string{"PUSH_API_TOKEN": "api-token-1234567890"})
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	authed := func(path, body string) {
		t.Helper()
		req, err := http.NewRequest("POST", srv.URL+path, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer api-token-1234567890")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		require.Equal(t, http.StatusOK, resp.StatusCode, "%s: %s", path, b)
	}
	authed(push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"iphone-1","platform":"ios","push_token":%q}`, iosToken("metrics")))
	authed(push.PathPushMessage, `{"user_num":"u1","title":"t","content":"c"}`)

	code, body := get(t, srv.URL+PathMetrics)
	require.Equal(t, http.StatusOK, code, body)
	line := regexp.MustCompile(`(?m)^push_deliveries_total\{([^}]*)\} (\d+)$`)
	var states []string
	for _, m := range line.FindAllStringSubmatch(body, -1) {
		assert.Contains(t, m[1], `push_provider="umeng"`)
		assert.Contains(t, m[1], `push_platform="ios"`)
		assert.Equal(t, "1", m[2])
		states = append(states, regexp.MustCompile(`push_state="([a-z]+)"`).FindStringSubmatch(m[1])[1])
	}
	assert.Equal(t, []string{"accepted"}, states, "one delivery, accepted by the vendor:\n%s", body)
	assert.Regexp(t, `(?m)^push_messages_recorded_total\{[^}]*push_type="users"[^}]*\} 1$`, body)
	assert.Regexp(t, `(?m)^push_vendor_call_duration_seconds_count\{[^}]*push_operation="send"[^}]*\} 1$`, body)
	assert.Regexp(t, `(?m)^push_deliveries_backlog\{[^}]*\} 0$`, body)
	assert.NotContains(t, body, iosToken("metrics"))
	assert.Regexp(t, `(?m)^target_info\{[^}]*service_name="push-server"`, body, "named, not unknown_service")
	assert.Regexp(t, `(?m)^http_server_request_duration_seconds_count\{[^}]*http_response_status_code="200"[^}]*http_route="/api/v1.1/user/push_message"[^}]*\} 1$`, body)
	assert.Regexp(t, `(?m)^http_server_request_duration_seconds_bucket\{[^}]*http_route="/api/v1.1/user/push_message"[^}]*le="0.5"[^}]*\} 1$`, body,
		"boundaries in seconds, where a push lands")
	assert.NotContains(t, body, `le="10000"`, "no boundaries in milliseconds")
	assert.Regexp(t, `(?m)^go_goroutines \d+$`, body, "the runtime's series, where a leak shows")
	code, _ = get(t, srv.URL+"/no/such/path/"+iosToken("x"))
	require.Equal(t, http.StatusUnauthorized, code)
	_, body = get(t, srv.URL+PathMetrics)
	assert.Regexp(t, `(?m)^http_server_request_duration_seconds_count\{[^}]*http_response_status_code="401"[^}]*http_route="other"[^}]*\} 1$`, body)
	assert.NotContains(t, body, iosToken("x"), "a path is no label")
}

// TestHealthAndReadiness: /healthz and /readyz answer without the API
// token; /readyz is 200 with every check ok, and 503 naming the database
// once it is closed.
func TestHealthAndReadiness(t *testing.T) {
	a := newTestApp(t, map[string]string{"PUSH_API_TOKEN": "api-token-1234567890"})
	srv := httptest.NewServer(a.handler)
	defer srv.Close()

	code, body := get(t, srv.URL+PathHealthz)
	assert.Equal(t, http.StatusOK, code)
	assert.JSONEq(t, `{"status":"ok"}`, body)

	code, body = get(t, srv.URL+PathReadyz)
	assert.Equal(t, http.StatusOK, code, body)
	assert.JSONEq(t, `{"status":"ready","checks":{"database":"ok","migrations":"ok","providers":"ok"}}`, body)

	code, _ = get(t, srv.URL+push.PathQueryPush+"?push_message_id=1")
	assert.Equal(t, http.StatusUnauthorized, code, "the API itself still needs the token")

	for _, p := range []string{PathHealthz, PathReadyz, PathMetrics} {
		res, err := http.Post(srv.URL+p, "text/plain", nil)
		require.NoError(t, err)
		_ = res.Body.Close()
		assert.Equal(t, http.StatusMethodNotAllowed, res.StatusCode, "POST %s", p)
		assert.Equal(t, "GET, HEAD", res.Header.Get("Allow"), p)
		assert.Contains(t, res.Header.Get("Content-Type"), "application/json", p)
		head, err := http.Head(srv.URL + p)
		require.NoError(t, err)
		_ = head.Body.Close()
		assert.Equal(t, http.StatusOK, head.StatusCode, "HEAD %s", p)
	}

	require.NoError(t, a.db.Close())
	code, body = get(t, srv.URL+PathReadyz)
	assert.Equal(t, http.StatusServiceUnavailable, code, body)
	var st readiness
	require.NoError(t, json.Unmarshal([]byte(body), &st))
	assert.Equal(t, "not ready", st.Status)
	assert.Equal(t, "unreachable", st.Checks["database"])
	assert.Equal(t, "ok", st.Checks["providers"])
	code, _ = get(t, srv.URL+PathHealthz)
	assert.Equal(t, http.StatusOK, code, "alive, though not ready")
}

// TestReadinessChecksMigrationsAndProviders: a database missing a
// migration of this build, and an app without providers, are not ready.
// The pending migrations are logged once, as a probe's database failures
// are, and so is their end.
func TestReadinessChecksMigrationsAndProviders(t *testing.T) {
	a := newTestApp(t, nil)
	var logs syncbuf.Buffer
	a.log = slog.New(slog.NewTextHandler(&logs, nil))
	_, err := a.db.ExecContext(context.Background(), "DELETE FROM push_schema_migrations WHERE component = 'push' AND version = 7")
	require.NoError(t, err)
	names := a.names
	a.names = nil
	st, ok := a.ready(context.Background())
	assert.False(t, ok)
	assert.Equal(t, map[string]string{"database": "ok", "migrations": "pending: 0007_trace_parent", "providers": "none configured"}, st.Checks)
	_, ok = a.ready(context.Background())
	assert.False(t, ok)
	a.names = names
	require.NoError(t, a.store.Migrate(context.Background()))
	_, ok = a.ready(context.Background())
	assert.True(t, ok)
	out := logs.String()
	assert.Equal(t, 1, strings.Count(out, "migrations of this build are not applied"), out)
	assert.Contains(t, out, "pending: 0007_trace_parent")
	assert.Equal(t, 1, strings.Count(out, "every migration applied"), out)
}

// TestReadinessChecksMissingTables: a table of an applied migration that
// someone dropped fails readiness, naming it, until it is created again
// (as a restart does, saying so in the log).
func TestReadinessChecksMissingTables(t *testing.T) {
	a := newTestApp(t, nil)
	var logs syncbuf.Buffer
	a.log = slog.New(slog.NewTextHandler(&logs, nil))
	_, err := a.db.ExecContext(context.Background(), "DROP TABLE sys_push_deliveries")
	require.NoError(t, err)
	// And a migration pending that alters a missing table (an upgrade of
	// a damaged database): the start-up creates the table first.
	_, err = a.db.ExecContext(context.Background(), "DROP TABLE sys_devices")
	require.NoError(t, err)
	_, err = a.db.ExecContext(context.Background(), "DELETE FROM push_schema_migrations WHERE component = 'push' AND version = 16")
	require.NoError(t, err)
	st, ok := a.ready(context.Background())
	assert.False(t, ok)
	assert.Equal(t, "pending: 0016_lower_ios_tokens", st.Checks["migrations"])
	require.NoError(t, a.migrate(context.Background()))
	_, ok = a.ready(context.Background())
	assert.True(t, ok)
	_, err = a.db.ExecContext(context.Background(), "DROP TABLE sys_push_deliveries")
	require.NoError(t, err)
	st, ok = a.ready(context.Background())
	assert.False(t, ok)
	assert.Equal(t, "tables missing: sys_push_deliveries", st.Checks["migrations"])
	assert.Equal(t, "ok", st.Checks["database"])
	require.NoError(t, a.migrate(context.Background()))
	_, ok = a.ready(context.Background())
	assert.True(t, ok)
	out := logs.String()
	assert.Contains(t, out, "tables of applied migrations are missing")
	assert.Contains(t, out, `msg="tables missing from the database were created again, empty" tables=sys_push_deliveries`)
}

// TestStartUpGoesOnWhenMissingTablesCannotBeCreated: a server that may
// not create tables (DML rights only) logs the missing ones and starts.
func TestStartUpGoesOnWhenMissingTablesCannotBeCreated(t *testing.T) {
	var logs syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	createMissing(context.Background(), log, []string{"sys_push_deliveries"}, func(context.Context) ([]string, error) {
		return nil, errors.New("CREATE command denied to user 'push'")
	})
	out := logs.String()
	assert.Contains(t, out, "level=ERROR")
	assert.Contains(t, out, "tables=sys_push_deliveries")
	assert.Contains(t, out, "CREATE command denied")
}

// TestReadinessOfAGoneProberLogsNothing: a probe whose client hung up
// before its checks ran (one that timed out while the server started)
// fails, and logs no database failure: the database did not fail it.
func TestReadinessOfAGoneProberLogsNothing(t *testing.T) {
	a := newTestApp(t, nil)
	var logs syncbuf.Buffer
	a.log = slog.New(slog.NewTextHandler(&logs, nil))
	gone, hangUp := context.WithCancel(context.Background())
	hangUp()
	_, ok := a.ready(gone)
	assert.False(t, ok)
	assert.Empty(t, logs.String())
	_, ok = a.ready(context.Background())
	assert.True(t, ok, "the next probe passes")
	assert.Empty(t, logs.String(), "and nothing recovered, since nothing failed")

	// A prober that hangs up during the checks (a database that takes
	// longer than the prober waits) is logged: that is the database's
	// slowness.
	hungUp, hangUpLater := context.WithCancel(context.Background())
	conn, err := a.db.Conn(context.Background())
	require.NoError(t, err)
	defer conn.Close()
	a.db.SetMaxOpenConns(1) // the ping waits for the one connection, held here
	defer a.db.SetMaxOpenConns(0)
	time.AfterFunc(50*time.Millisecond, hangUpLater)
	_, ok = a.ready(hungUp)
	assert.False(t, ok)
	assert.Contains(t, logs.String(), `level=WARN msg="readiness: `)
	assert.Contains(t, logs.String(), "context canceled")
}

// TestRequestLogsCarryTheTraceID: every line logged while serving a
// request carries the trace id of the request's W3C traceparent, and the
// push it records keeps that trace for its retries.
func TestRequestLogsCarryTheTraceID(t *testing.T) {
	var buf syncBuffer
	log := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg, err := loadConfig(envOf(map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "push.db")}))
	require.NoError(t, err)
	a, err := newApp(context.Background(), cfg, log)
	require.NoError(t, err)
	t.Cleanup(a.Close)
	spans := tracetest.NewSpanRecorder()
	a.tel.tracers.RegisterSpanProcessor(spans)
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	c := client{t, srv.URL}
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"a-1","platform":"android","push_token":%q}`, androidToken("log")))

	const traceID = "4bf92f3577b34da6a3ce929d0e0e4736"
	req, err := http.NewRequest("POST", srv.URL+push.PathPushMessage, strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("traceparent", "00-"+traceID+"-00f067aa0ba902b7-01")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode, out)

	var lines []map[string]any
	for _, l := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		if m["trace_id"] == traceID {
			lines = append(lines, m)
		}
	}
	msgs := map[string]bool{}
	for _, l := range lines {
		msgs[l["msg"].(string)] = true
		assert.NotEmpty(t, l["span_id"])
		if l["msg"] == "delivery sent" {
			// Our state (done: nothing left to do) beside the vendor's
			// (accepted), which the tables' *_status show.
			assert.Equal(t, "done", l["state"], l)
			assert.Equal(t, "accepted", l["vendor_state"], l)
		}
	}
	for _, want := range []string{"push recorded", "delivery sent", "request"} {
		assert.True(t, msgs[want], "%q is logged with the request's trace id; lines with it: %v\nall:\n%s", want, msgs, buf.String())
	}
	// The server span is named "{method} {http.route}" and carries the
	// route; a path of no route is named by its method alone.
	var server []string
	for _, s := range spans.Ended() {
		if s.SpanKind() == trace.SpanKindServer {
			route := ""
			for _, kv := range s.Attributes() {
				if kv.Key == "http.route" {
					route = kv.Value.AsString()
				}
			}
			server = append(server, s.Name()+" route="+route)
		}
	}
	assert.Contains(t, server, "POST "+push.PathPushMessage+" route="+push.PathPushMessage)
	resp, err = http.Get(srv.URL + "/no/such/path")
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, "GET", spans.Ended()[len(spans.Ended())-1].Name())
	// An unknown method is "HTTP", as the conventions say, the original
	// kept in its own attribute.
	req, err = http.NewRequest("FOO", srv.URL+"/no/such/path", nil)
	require.NoError(t, err)
	resp, err = http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	last := spans.Ended()[len(spans.Ended())-1]
	assert.Equal(t, "HTTP", last.Name())
	assert.Contains(t, last.Attributes(), attribute.String("http.request.method_original", "FOO"))
	assert.Contains(t, last.Attributes(), attribute.String("http.request.method", "_OTHER"))

	m, err := a.store.GetPushMessage(context.Background(), int64(out["push_message_id"].(float64)))
	require.NoError(t, err)
	assert.Contains(t, m.TraceParent, "00-"+traceID+"-", "the push keeps the request's trace")
}

// TestProbeLogLogsChanges: a probe failing the same way logs once, a
// changed failure again, and the recovery once.
func TestProbeLogLogsChanges(t *testing.T) {
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	var p probeLog
	ctx := context.Background()
	down := errors.New("dial tcp 127.0.0.1:3306: connect: connection refused")
	for range 5 {
		p.failed(ctx, log, "readiness: database ping failed", down)
	}
	p.failed(ctx, log, "readiness: database ping failed", errors.New("i/o timeout"))
	p.recovered(ctx, log)
	p.recovered(ctx, log)
	p.failed(ctx, log, "readiness: database ping failed", down)
	out := logs.String()
	assert.Equal(t, 2, strings.Count(out, "connection refused"), out)
	assert.Equal(t, 1, strings.Count(out, "i/o timeout"), out)
	assert.Equal(t, 1, strings.Count(out, "the database checks pass again"), out)
}
