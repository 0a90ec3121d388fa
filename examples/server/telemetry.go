package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	otelprom "go.opentelemetry.io/otel/exporters/prometheus"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/trace"

	push "github.com/tuisong/push"
)

// Paths of the operational endpoints. They answer without the API token:
// a scraper or an orchestrator's probe has none.
const (
	PathMetrics = "/metrics" // Prometheus text format
	PathHealthz = "/healthz" // the process is alive
	PathReadyz  = "/readyz"  // the server can do its work
)

// serviceName is the server's OpenTelemetry service.name by default.
const serviceName = "push-server"

// readyTimeout bounds the database round trips of one readiness check.
const readyTimeout = 2 * time.Second

// telemetry is the server's OpenTelemetry wiring: a MeterProvider read by
// the Prometheus exporter into a registry of its own, served at
// PathMetrics, and a TracerProvider that gives every request and push
// their trace and span ids. The spans are not exported: a host that
// collects traces installs its exporter on this TracerProvider
// (sdktrace.WithBatcher).
type telemetry struct {
	registry *prometheus.Registry
	meters   *sdkmetric.MeterProvider
	tracers  *sdktrace.TracerProvider
}

func newTelemetry() (*telemetry, error) {
	t := &telemetry{registry: prometheus.NewRegistry()}
	// The runtime's and the process's own series (go_goroutines,
	// go_memstats_*, process_resident_memory_bytes, process_open_fds):
	// what a leak shows in.
	t.registry.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	exp, err := otelprom.New(otelprom.WithRegisterer(t.registry))
	if err != nil {
		return nil, fmt.Errorf("prometheus exporter: %w", err)
	}
	// service.name push-server unless OTEL_SERVICE_NAME or
	// OTEL_RESOURCE_ATTRIBUTES say otherwise (WithFromEnv comes last).
	res, err := resource.New(context.Background(), resource.WithAttributes(attribute.String("service.name", serviceName)),
		resource.WithTelemetrySDK(), resource.WithFromEnv())
	if err != nil {
		return nil, fmt.Errorf("telemetry resource: %w", err)
	}
	t.meters = sdkmetric.NewMeterProvider(sdkmetric.WithReader(exp), sdkmetric.WithResource(res))
	t.tracers = sdktrace.NewTracerProvider(sdktrace.WithResource(res))
	return t, nil
}

// metrics serves the registry in the Prometheus text format.
func (t *telemetry) metrics() http.Handler {
	return promhttp.HandlerFor(t.registry, promhttp.HandlerOpts{})
}

// Shutdown stops the providers.
func (t *telemetry) Shutdown(ctx context.Context) error {
	return errors.Join(t.meters.Shutdown(ctx), t.tracers.Shutdown(ctx))
}

// traced starts a server span for every request, continuing the trace of
// an incoming W3C traceparent header, and logs the request with its
// status and duration under that span's trace id.
func traced(tracer trace.Tracer, dur metric.Float64Histogram, log *slog.Logger, next http.Handler) http.Handler {
	prop := propagation.TraceContext{}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx := prop.Extract(r.Context(), propagation.HeaderCarrier(r.Header))
		// "{method} {http.route}", as OpenTelemetry's HTTP conventions
		// name a server span; the method alone for a path of no route.
		method := methodOf(r)
		name, attrs := method, []attribute.KeyValue{attribute.String("http.request.method", method), attribute.String("url.path", r.URL.Path)}
		if method == "_OTHER" {
			// An unknown method: "HTTP", the original in its own attribute.
			name = "HTTP"
			attrs = append(attrs, attribute.String("http.request.method_original", r.Method))
		}
		if route := routeOf(r); route != "other" {
			name += " " + route
			attrs = append(attrs, attribute.String("http.route", route))
		}
		ctx, span := tracer.Start(ctx, name, trace.WithSpanKind(trace.SpanKindServer), trace.WithAttributes(attrs...))
		defer span.End()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(rec, r.WithContext(ctx))
		span.SetAttributes(attribute.Int("http.response.status_code", rec.status))
		if dur != nil {
			dur.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(attribute.String("http.request.method", methodOf(r)),
				attribute.String("http.route", routeOf(r)), attribute.Int("http.response.status_code", rec.status)))
		}
		if rec.status >= 500 {
			span.SetStatus(codes.Error, http.StatusText(rec.status))
		}
		lvl := slog.LevelInfo
		if r.URL.Path == PathMetrics || r.URL.Path == PathHealthz || r.URL.Path == PathReadyz {
			lvl = slog.LevelDebug // scrapes and probes, every few seconds
		}
		log.LogAttrs(ctx, lvl, "request", slog.String("method", r.Method), slog.String("path", r.URL.Path),
			slog.Int("status", rec.status), slog.Duration("duration", time.Since(start)))
	})
}

// statusRecorder remembers the status a handler wrote.
type statusRecorder struct {
	http.ResponseWriter
	status int
	wrote  bool
}

func (s *statusRecorder) WriteHeader(code int) {
	if !s.wrote {
		s.status, s.wrote = code, true
	}
	s.ResponseWriter.WriteHeader(code)
}

func (s *statusRecorder) Write(b []byte) (int, error) {
	s.wrote = true
	return s.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (s *statusRecorder) Unwrap() http.ResponseWriter { return s.ResponseWriter }

// traceIDs is a slog.Handler that adds trace_id and span_id to every
// record logged with a ctx that holds a span: each line of a request, of
// the push it makes and of its vendor calls carries the request's trace
// id.
type traceIDs struct{ slog.Handler }

// withTraceIDs wraps h.
func withTraceIDs(h slog.Handler) slog.Handler { return traceIDs{h} }

// Handle adds the ids of ctx's span, if any, and passes r on.
func (h traceIDs) Handle(ctx context.Context, r slog.Record) error {
	if sc := trace.SpanContextFromContext(ctx); sc.IsValid() {
		r = r.Clone()
		r.AddAttrs(slog.String("trace_id", sc.TraceID().String()), slog.String("span_id", sc.SpanID().String()))
	}
	return h.Handler.Handle(ctx, r)
}

// WithAttrs keeps the wrapper on the derived handler.
func (h traceIDs) WithAttrs(as []slog.Attr) slog.Handler { return traceIDs{h.Handler.WithAttrs(as)} }

// WithGroup keeps the wrapper on the derived handler.
func (h traceIDs) WithGroup(name string) slog.Handler { return traceIDs{h.Handler.WithGroup(name)} }

// healthz answers 200 while the process runs.
func healthz(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, map[string]any{"status": "ok"})
}

// schemaState reads, in one MigrationStatus, the library's migrations not
// applied and the tables of applied ones that the database lacks.
func (a *app) schemaState(ctx context.Context) (pending, missing []string, err error) {
	st, err := a.store.MigrationStatus(ctx)
	if err != nil {
		return nil, nil, err
	}
	for _, c := range st {
		if c.Component == "push" {
			return c.Pending, c.Missing, nil
		}
	}
	return nil, nil, nil
}

// readiness is the body of PathReadyz: "ready" with every check "ok", or
// "not ready" naming what failed.
type readiness struct {
	Status string            `json:"status"`
	Checks map[string]string `json:"checks"`
}

// ready checks that the database answers, that every migration of this
// build is applied and no table of one is missing, and that at least one
// provider is configured.
func (a *app) ready(probe context.Context) (readiness, bool) {
	ctx, cancel := context.WithTimeout(probe, readyTimeout)
	defer cancel()
	checks := map[string]string{"database": "ok", "migrations": "ok", "providers": "ok"}
	ok := true
	fail := func(check, why string) { checks[check], ok = why, false }
	// A prober that hung up before the checks ran (a probe that timed out
	// while the server started) fails them for that, not the database: it
	// is not logged. One that hangs up during a check is, since a database
	// that accepts connections and never answers looks just so to a
	// prober with a shorter timeout than readyTimeout.
	gone := probe.Err() != nil
	logFailed := func(msg string, err error) {
		if !gone {
			a.readyLog.failed(ctx, a.log, msg, err)
		}
	}
	if err := a.db.PingContext(ctx); err != nil {
		// The driver's error may name hosts and users: it goes to the
		// log, the probe gets the check's name.
		logFailed("readiness: database ping failed", err)
		fail("database", "unreachable")
		fail("migrations", "unknown: the database is unreachable")
	} else if pending, missing, err := a.schemaState(ctx); err != nil {
		logFailed("readiness: reading the applied migrations failed", err)
		fail("migrations", "unknown: push_schema_migrations could not be read")
	} else if len(pending) > 0 {
		logFailed("readiness: migrations of this build are not applied (restart the server, which applies them, or run pushctl migrate)",
			errors.New("pending: "+strings.Join(pending, ",")))
		fail("migrations", "pending: "+strings.Join(pending, ","))
	} else if len(missing) > 0 {
		// Dropped by hand, or lost: every push fails on them.
		logFailed("readiness: tables of applied migrations are missing (restart the server or run pushctl migrate, which create them again, empty)",
			errors.New("tables missing: "+strings.Join(missing, ",")))
		fail("migrations", "tables missing: "+strings.Join(missing, ","))
	} else {
		a.readyLog.recovered(ctx, a.log)
	}
	if len(a.names) == 0 {
		fail("providers", "none configured")
	}
	st := readiness{Status: "ready", Checks: checks}
	if !ok {
		st.Status = "not ready"
	}
	return st, ok
}

// probeLog logs a readiness probe's database failures when they start or
// change, and once when they end, rather than at every probe (an
// orchestrator probes every few seconds through an outage).
type probeLog struct {
	mu   sync.Mutex
	last string // the failure logged last; "" while the probes pass
}

// failed logs msg and err at warn level unless they are what it logged
// last.
func (p *probeLog) failed(ctx context.Context, log *slog.Logger, msg string, err error) {
	line := msg + ": " + err.Error()
	p.mu.Lock()
	same := line == p.last
	p.last = line
	p.mu.Unlock()
	if !same {
		log.LogAttrs(ctx, slog.LevelWarn, msg+" (logged again only when the failure changes)", slog.String("error", err.Error()))
	}
}

// recovered logs, once, that the database answers again and holds every
// migration.
func (p *probeLog) recovered(ctx context.Context, log *slog.Logger) {
	p.mu.Lock()
	was := p.last
	p.last = ""
	p.mu.Unlock()
	if was != "" {
		log.LogAttrs(ctx, slog.LevelInfo, "readiness: the database checks pass again: it answers, every migration applied")
	}
}

// readyz answers 200 when ready, else 503, with the checks.
func (a *app) readyz(w http.ResponseWriter, r *http.Request) {
	if a.api.draining() {
		// Shutting down: no new work for this instance, whatever the
		// database says.
		writeJSON(w, http.StatusServiceUnavailable, readiness{Status: "draining", Checks: map[string]string{}})
		return
	}
	st, ok := a.ready(r.Context())
	code := http.StatusOK
	if !ok {
		code = http.StatusServiceUnavailable
	}
	writeJSON(w, code, st)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client has gone if this fails
}

// getOnly answers a method other than GET or HEAD on an operational path:
// 405, naming the methods allowed.
func getOnly(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Allow", "GET, HEAD")
	writeJSON(w, http.StatusMethodNotAllowed, map[string]any{"error": map[string]string{"code": "method_not_allowed", "message": "use GET"}})
}

// operational returns the mux of the endpoints that need no token, with
// api at "/".
func (a *app) operational(api http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET "+PathMetrics, a.tel.metrics())
	mux.HandleFunc("GET "+PathHealthz, healthz)
	mux.HandleFunc("GET "+PathReadyz, a.readyz)
	for _, p := range []string{PathMetrics, PathHealthz, PathReadyz} {
		// Another method would fall through to the API, whose 404 (or
		// 401 with PUSH_API_TOKEN) hid that the path exists.
		mux.HandleFunc(p, getOnly)
	}
	mux.Handle("/", api)
	const scope = "github.com/tuisong/push/examples/server"
	// One record a request, by method, route and status: the 5xx and 503
	// rates an operator alerts on (a database outage answers 503).
	dur, err := a.tel.meters.Meter(scope).Float64Histogram("http.server.request.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of HTTP server requests, by http.request.method, http.route and http.response.status_code."),
		// In seconds, as OpenTelemetry's HTTP conventions advise: the SDK's
		// default boundaries are for milliseconds (0, 5, 10, … 10000).
		metric.WithExplicitBucketBoundaries(0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30))
	if err != nil {
		a.log.Warn("http.server.request.duration not recorded", slog.String("error", err.Error()))
	}
	return traced(a.tel.tracers.Tracer(scope), dur, a.log, mux)
}

// routes are the http.route values of the server's requests; any other
// path is "other", so that a scan of random paths adds no series.
var routes = map[string]bool{push.PathDevice: true, push.PathPushMessage: true, push.PathQueryPush: true, push.PathLogout: true,
	push.PathUserDevices: true, push.PathQueryPushes: true, PathMetrics: true, PathHealthz: true, PathReadyz: true,
	PathUmengReceipt: true, PathGetuiReceipt: true}

// routeOf is r's http.route attribute.
func routeOf(r *http.Request) string {
	if routes[r.URL.Path] {
		return r.URL.Path
	}
	return "other"
}

// methodOf is r's http.request.method attribute: a standard method, or
// "_OTHER" as the semantic conventions say.
func methodOf(r *http.Request) string {
	switch r.Method {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete,
		http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return r.Method
	}
	return "_OTHER"
}
