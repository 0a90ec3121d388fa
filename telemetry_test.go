package push_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/registry/sqlstore"
)

// otelKit is an in-memory metrics reader and span recorder for one
// Service.
type otelKit struct {
	reader *sdkmetric.ManualReader
	spans  *tracetest.SpanRecorder
	mp     *sdkmetric.MeterProvider
	tp     *sdktrace.TracerProvider
}

func newOtelKit() *otelKit {
	k := &otelKit{reader: sdkmetric.NewManualReader(), spans: tracetest.NewSpanRecorder()}
	k.mp = sdkmetric.NewMeterProvider(sdkmetric.WithReader(k.reader))
	k.tp = sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(k.spans))
	return k
}

// with sets the kit's providers on a Service's config.
func (k *otelKit) with(cfg *push.Config) { cfg.MeterProvider, cfg.TracerProvider = k.mp, k.tp }

func (k *otelKit) collect(t *testing.T) metricdata.ResourceMetrics {
	t.Helper()
	var rm metricdata.ResourceMetrics
	require.NoError(t, k.reader.Collect(context.Background(), &rm))
	return rm
}

// find returns the metric named name, or false.
func find(rm metricdata.ResourceMetrics, name string) (metricdata.Metrics, bool) {
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name == name {
				return m, true
			}
		}
	}
	return metricdata.Metrics{}, false
}

// matches reports whether set holds every attribute of want.
func matches(set attribute.Set, want map[string]string) bool {
	for k, v := range want {
		got, ok := set.Value(attribute.Key(k))
		if !ok || got.String() != v {
			return false
		}
	}
	return true
}

// sum adds the points of the int64 counter name whose attributes match
// want.
func sum(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]string) int64 {
	t.Helper()
	m, ok := find(rm, name)
	require.True(t, ok, "metric %s recorded", name)
	s, ok := m.Data.(metricdata.Sum[int64])
	require.True(t, ok, "%s is an int64 counter, not %T", name, m.Data)
	require.True(t, s.IsMonotonic)
	var n int64
	for _, p := range s.DataPoints {
		if matches(p.Attributes, want) {
			n += p.Value
		}
	}
	return n
}

// histCount counts the measurements of the histogram name whose
// attributes match want, and checks its unit.
func histCount(t *testing.T, rm metricdata.ResourceMetrics, name string, want map[string]string) uint64 {
	t.Helper()
	m, ok := find(rm, name)
	require.True(t, ok, "metric %s recorded", name)
	assert.Equal(t, "s", m.Unit, "%s is in seconds", name)
	h, ok := m.Data.(metricdata.Histogram[float64])
	require.True(t, ok, "%s is a float64 histogram, not %T", name, m.Data)
	var n uint64
	for _, p := range h.DataPoints {
		if matches(p.Attributes, want) {
			n += p.Count
			if v, ok := p.Min.Value(); ok {
				assert.GreaterOrEqual(t, v, 0.0)
			}
		}
	}
	return n
}

// gauge returns the value of the int64 gauge name, and whether it was
// observed.
func gauge(t *testing.T, rm metricdata.ResourceMetrics, name string) (int64, bool) {
	t.Helper()
	m, ok := find(rm, name)
	if !ok {
		return 0, false
	}
	g, ok := m.Data.(metricdata.Gauge[int64])
	require.True(t, ok, "%s is an int64 gauge, not %T", name, m.Data)
	if len(g.DataPoints) == 0 {
		return 0, false
	}
	require.Len(t, g.DataPoints, 1)
	return g.DataPoints[0].Value, true
}

// spansNamed returns the ended spans named name.
func (k *otelKit) spansNamed(name string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range k.spans.Ended() {
		if s.Name() == name {
			out = append(out, s)
		}
	}
	return out
}

func spanAttr(s sdktrace.ReadOnlySpan, key attribute.Key) (attribute.Value, bool) {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value, true
		}
	}
	return attribute.Value{}, false
}

// requireNoSecret checks that no attribute of any metric point, span or
// span event holds one of the secrets.
func (k *otelKit) requireNoSecret(t *testing.T, rm metricdata.ResourceMetrics, secrets ...string) {
	t.Helper()
	var values []string
	add := func(kvs []attribute.KeyValue) {
		for _, kv := range kvs {
			values = append(values, string(kv.Key)+"="+kv.Value.String())
		}
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.ToSlice())
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.ToSlice())
				}
			case metricdata.Gauge[int64]:
				for _, p := range d.DataPoints {
					add(p.Attributes.ToSlice())
				}
			}
		}
	}
	for _, s := range k.spans.Ended() {
		add(s.Attributes())
		values = append(values, s.Name(), s.Status().Description)
		for _, e := range s.Events() {
			add(e.Attributes)
		}
	}
	require.NotEmpty(t, values)
	for _, v := range values {
		for _, secret := range secrets {
			assert.NotContains(t, v, secret)
		}
	}
}

// TestTelemetryOfAPush: a Push is counted and traced: one push recorded,
// each delivery's outcome by provider, platform and state, each vendor
// call's latency, a Push span with a child client span per vendor call;
// and no token, user_num or message text is in any attribute.
func TestTelemetryOfAPush(t *testing.T) {
	k := newOtelKit()
	f := newFixture(t, providertest.MockConfig{}, k.with)
	f.register(t, "user-007", "d1", "ios", "secret-ios-token-1")
	f.register(t, "user-007", "d2", "android", "secret-android-token-2")
	f.mock.FailNext(1, f.mock.Err(provider.InvalidToken, "5000")) // the first delivery's token is dead

	res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"user-007"}, Title: "hidden title", Content: "hidden content"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 2)
	rm := k.collect(t)

	assert.Equal(t, int64(1), sum(t, rm, "push.messages.recorded", map[string]string{"push.type": registry.PushTypeUsers}))
	assert.Equal(t, int64(2), sum(t, rm, "push.deliveries", nil))
	assert.Equal(t, int64(1), sum(t, rm, "push.deliveries", map[string]string{"push.provider": "umeng",
		"push.state": string(registry.DeliveryFailed), "push.error_kind": provider.InvalidToken.String()}))
	assert.Equal(t, int64(1), sum(t, rm, "push.deliveries", map[string]string{"push.provider": "umeng",
		"push.state": "accepted", "push.error_kind": ""}), "done is counted as accepted, as the API reports it")
	assert.Equal(t, int64(1), sum(t, rm, "push.tokens.disabled", map[string]string{"push.provider": "umeng"}))
	assert.Equal(t, uint64(2), histCount(t, rm, "push.vendor.call.duration", map[string]string{"push.provider": "umeng", "push.operation": "send"}))
	assert.Equal(t, uint64(1), histCount(t, rm, "push.vendor.call.duration", map[string]string{"push.outcome": "ok"}))
	assert.Equal(t, uint64(1), histCount(t, rm, "push.vendor.call.duration", map[string]string{"push.outcome": provider.InvalidToken.String()}))

	pushes := k.spansNamed("push.Push")
	require.Len(t, pushes, 1)
	ps := pushes[0]
	id, ok := spanAttr(ps, push.AttrMessageID)
	require.True(t, ok)
	assert.Equal(t, res.PushMessageID, id.AsInt64())
	calls := k.spansNamed("umeng send")
	require.Len(t, calls, 2)
	platforms := map[string]bool{}
	for _, c := range calls {
		assert.Equal(t, trace.SpanKindClient, c.SpanKind())
		assert.Equal(t, ps.SpanContext().SpanID(), c.Parent().SpanID(), "the vendor call is a child of the Push")
		assert.Equal(t, ps.SpanContext().TraceID(), c.SpanContext().TraceID())
		assert.Empty(t, c.Links(), "the first send needs no link: the Push is its parent")
		pl, _ := spanAttr(c, push.AttrPlatform)
		platforms[pl.AsString()] = true
		tokens, _ := spanAttr(c, push.AttrTokens)
		assert.Equal(t, int64(1), tokens.AsInt64())
		attempt, _ := spanAttr(c, push.AttrAttempt)
		assert.Equal(t, int64(1), attempt.AsInt64())
		outcome, _ := spanAttr(c, push.AttrOutcome)
		if outcome.AsString() != "ok" {
			assert.Equal(t, provider.InvalidToken.String(), outcome.AsString())
			assert.Equal(t, codes.Error, c.Status().Code)
		}
	}
	assert.Equal(t, map[string]bool{"ios": true, "android": true}, platforms)

	// The push message keeps the Push span's context for the retries.
	m, err := f.store.GetPushMessage(context.Background(), res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, "00-"+ps.SpanContext().TraceID().String()+"-"+ps.SpanContext().SpanID().String()+"-01", m.TraceParent)

	k.requireNoSecret(t, rm, "secret-ios-token-1", "secret-android-token-2", "user-007", "hidden title", "hidden content")
}

// TestTelemetryOfABroadcastAndBadInput: a Broadcast has its span; a Push
// refused for bad input has an error span naming the field and records
// nothing.
func TestTelemetryOfABroadcastAndBadInput(t *testing.T) {
	k := newOtelKit()
	f := newFixture(t, providertest.MockConfig{}, k.with)
	_, err := f.svc.Broadcast(context.Background(), push.Broadcast{Platform: "android", Title: "t", Content: "c"})
	require.NoError(t, err)
	_, err = f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Content: "no title"})
	require.ErrorIs(t, err, push.ErrInvalid)

	rm := k.collect(t)
	assert.Equal(t, int64(1), sum(t, rm, "push.messages.recorded", map[string]string{"push.type": registry.PushTypeBroadcast}))
	assert.Equal(t, int64(1), sum(t, rm, "push.messages.recorded", nil), "the refused push is not recorded")
	bs := k.spansNamed("push.Broadcast")
	require.Len(t, bs, 1)
	pl, _ := spanAttr(bs[0], push.AttrPlatform)
	assert.Equal(t, "android", pl.AsString())
	ps := k.spansNamed("push.Push")
	require.Len(t, ps, 1)
	assert.Equal(t, codes.Error, ps[0].Status().Code)
	assert.Equal(t, "invalid title", ps[0].Status().Description)
}

// TestTelemetryRetryByAnotherInstanceLinksToThePush: instance A records a
// push on SQLite whose send fails; instance B, another Service on another
// pool of the same database, retries it. B's vendor call span is a child
// of its claim span and links to A's Push span, read from the stored
// trace_parent; B's claim is measured.
func TestTelemetryRetryByAnotherInstanceLinksToThePush(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db, dsn := dbtest.Open(t, sqlstore.DialectSQLite)
	newInstance := func(db sqlstore.DBTX, k *otelKit) (*push.Service, *providertest.Mock) {
		st, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Now: clk.Now})
		require.NoError(t, err)
		require.NoError(t, st.Migrate(ctx))
		m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
		require.NoError(t, err)
		svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now,
			Retry: push.RetryPolicy{Base: time.Minute, Jitter: -1}, MeterProvider: k.mp, TracerProvider: k.tp})
		require.NoError(t, err)
		return svc, m
	}
	ka, kb := newOtelKit(), newOtelKit()
	a, ma := newInstance(db, ka)
	b, _ := newInstance(dbtest.OpenPool(t, sqlstore.DialectSQLite, dsn), kb)

	_, err := a.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "d1", Platform: "ios", PushToken: "tok-1"})
	require.NoError(t, err)
	ma.FailNext(1, ma.Err(provider.Temporary, "500"))
	res, err := a.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Pending())
	pushSpan := ka.spansNamed("push.Push")
	require.Len(t, pushSpan, 1)

	clk.Advance(2 * time.Minute)
	n, err := b.RetryPending(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	claims := kb.spansNamed("push.claim")
	require.Len(t, claims, 1)
	kind, _ := spanAttr(claims[0], push.AttrClaimKind)
	assert.Equal(t, "send", kind.AsString())
	claimed, _ := spanAttr(claims[0], push.AttrClaimed)
	assert.Equal(t, int64(1), claimed.AsInt64())
	calls := kb.spansNamed("umeng send")
	require.Len(t, calls, 1)
	call := calls[0]
	assert.Equal(t, claims[0].SpanContext().SpanID(), call.Parent().SpanID(), "the retry is a child of B's claim")
	require.Len(t, call.Links(), 1, "and links to the push it retries")
	assert.Equal(t, pushSpan[0].SpanContext().TraceID(), call.Links()[0].SpanContext.TraceID())
	assert.Equal(t, pushSpan[0].SpanContext().SpanID(), call.Links()[0].SpanContext.SpanID())
	attempt, _ := spanAttr(call, push.AttrAttempt)
	assert.Equal(t, int64(2), attempt.AsInt64())
	assert.NotEqual(t, pushSpan[0].SpanContext().TraceID(), call.SpanContext().TraceID(), "B's pass is a trace of its own")

	rm := kb.collect(t)
	assert.Equal(t, uint64(1), histCount(t, rm, "push.claim.duration", map[string]string{"push.claim.kind": "send", "push.outcome": "ok"}))
	assert.Equal(t, int64(1), sum(t, rm, "push.deliveries", map[string]string{"push.state": "accepted"}))
	rma := ka.collect(t)
	assert.Equal(t, int64(1), sum(t, rma, "push.deliveries", map[string]string{"push.state": string(registry.DeliveryPending),
		"push.error_kind": provider.Temporary.String()}))
}

// TestTelemetryBacklogGauges: the gauges report the due, unsent
// deliveries and center rows the store counts.
func TestTelemetryBacklogGauges(t *testing.T) {
	k := newOtelKit()
	f := newFixture(t, providertest.MockConfig{}, k.with)
	f.register(t, "u1", "d1", "ios", "tok-1")
	f.mock.FailNext(1, f.mock.Err(provider.Temporary, ""))
	_, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.NoError(t, f.store.EnqueueCenterMessage(context.Background(), &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}))

	rm := k.collect(t)
	d, ok := gauge(t, rm, "push.deliveries.backlog")
	require.True(t, ok)
	assert.Equal(t, int64(0), d, "the retry is not due yet")
	c, ok := gauge(t, rm, "push.center.backlog")
	require.True(t, ok)
	assert.Equal(t, int64(1), c)

	f.clk.Advance(time.Hour)
	d, ok = gauge(t, k.collect(t), "push.deliveries.backlog")
	require.True(t, ok)
	assert.Equal(t, int64(1), d, "the retry is due")
}

// failingBacklog is a store whose backlog cannot be counted.
type failingBacklog struct{ *memstore.Store }

func (failingBacklog) Backlog(context.Context, time.Time) (int64, int64, error) {
	return 0, 0, errors.New("database is down")
}

// TestTelemetryBacklogGaugesRecordNothingOnError: a failed count leaves
// the gauges without a value rather than a wrong one; a store that cannot
// count registers no gauge.
func TestTelemetryBacklogGaugesRecordNothingOnError(t *testing.T) {
	for name, wrap := range map[string]func(*memstore.Store) registry.Store{
		"count fails":       func(s *memstore.Store) registry.Store { return failingBacklog{s} },
		"no BacklogCounter": func(s *memstore.Store) registry.Store { return struct{ registry.Store }{s} },
	} {
		t.Run(name, func(t *testing.T) {
			k := newOtelKit()
			f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
				k.with(c)
				c.Store = wrap(c.Store.(*memstore.Store))
			})
			f.register(t, "u1", "d1", "ios", "tok-1")
			_, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			rm := k.collect(t)
			assert.Equal(t, int64(1), sum(t, rm, "push.deliveries", nil), "the other metrics are recorded")
			for _, g := range []string{"push.deliveries.backlog", "push.center.backlog"} {
				_, ok := gauge(t, rm, g)
				assert.False(t, ok, g)
			}
		})
	}
}

// TestTelemetryOffByDefault: a Service given no providers uses the global
// ones, no-ops until the host installs its own: nothing is traced, and no
// trace context is stored with the push.
func TestTelemetryOffByDefault(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "tok-1")
	res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	m, err := f.store.GetPushMessage(context.Background(), res.PushMessageID)
	require.NoError(t, err)
	assert.Empty(t, m.TraceParent)

	// A caller's own trace context is kept, though: the push joins it.
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{
		TraceID: tid, SpanID: sid, TraceFlags: trace.FlagsSampled, Remote: true}))
	res, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	m, err = f.store.GetPushMessage(context.Background(), res.PushMessageID)
	require.NoError(t, err)
	assert.True(t, strings.HasPrefix(m.TraceParent, "00-4bf92f3577b34da6a3ce929d0e0e4736-"), m.TraceParent)
}

// TestTelemetryOfAPoll: a status poll is a vendor call of operation
// "status", a child of its claim span (kind poll), and the claim is
// measured.
func TestTelemetryOfAPoll(t *testing.T) {
	ctx := context.Background()
	k := newOtelKit()
	f := newFixture(t, providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceBroadcast}}, func(c *push.Config) {
		k.with(c)
		c.PollInterval = time.Minute
	})
	res, err := f.svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "c"})
	require.NoError(t, err)
	f.mock.SetStatus(res.Deliveries[0].ReceiptID, provider.Status{State: provider.StateDone})
	f.clk.Advance(time.Minute)
	n, err := f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)

	rm := k.collect(t)
	assert.Equal(t, uint64(1), histCount(t, rm, "push.vendor.call.duration", map[string]string{"push.operation": "status", "push.outcome": "ok"}))
	assert.Equal(t, uint64(1), histCount(t, rm, "push.claim.duration", map[string]string{"push.claim.kind": "poll"}))
	claims := k.spansNamed("push.claim")
	require.Len(t, claims, 1)
	polls := k.spansNamed("umeng status")
	require.Len(t, polls, 1)
	assert.Equal(t, claims[0].SpanContext().SpanID(), polls[0].Parent().SpanID())
	op, _ := spanAttr(polls[0], push.AttrOperation)
	assert.Equal(t, "status", op.AsString())
}

// TestVendorCodeIsScrubbed: a vendor error code is the vendor's text, put
// on the call's span and stored on the delivery: a token in it is masked
// there like everywhere else.
func TestVendorCodeIsScrubbed(t *testing.T) {
	k := newOtelKit()
	f := newFixture(t, providertest.MockConfig{}, k.with)
	const token = "secret-android-token-in-a-code"
	f.register(t, "u1", "d1", "android", token)
	f.mock.FailNext(1, f.mock.Err(provider.InvalidRequest, "bad:"+token))

	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	calls := k.spansNamed("umeng send")
	require.Len(t, calls, 1)
	code, ok := spanAttr(calls[0], "push.error_code")
	require.True(t, ok)
	assert.NotContains(t, code.AsString(), token)
	assert.Contains(t, code.AsString(), "bad:", "the rest of the code stays")
	d := onlyDelivery(t, f.store, res.PushMessageID)
	assert.NotContains(t, d.ErrorCode, token)
	assert.NotContains(t, d.Response, token)
}

// countingBacklog counts the backlog counts asked of it.
type countingBacklog struct {
	*memstore.Store
	n *atomic.Int64
}

func (c countingBacklog) Backlog(ctx context.Context, now time.Time) (int64, int64, error) {
	c.n.Add(1)
	return c.Store.Backlog(ctx, now)
}

// TestCloseEndsTheBacklogGauges: Service.Close unregisters the gauges'
// callback, so that a Service the host drops (a configuration reload, tests
// sharing a meter provider) no longer counts its store's backlog at every
// collection; a second Close does nothing.
func TestCloseEndsTheBacklogGauges(t *testing.T) {
	k := newOtelKit()
	var n atomic.Int64
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		k.with(c)
		c.Store = countingBacklog{c.Store.(*memstore.Store), &n}
	})
	_, ok := gauge(t, k.collect(t), "push.center.backlog")
	require.True(t, ok)
	require.Equal(t, int64(1), n.Load())

	require.NoError(t, f.svc.Close())
	require.NoError(t, f.svc.Close())
	_, ok = gauge(t, k.collect(t), "push.center.backlog")
	assert.False(t, ok, "no gauge after Close")
	assert.Equal(t, int64(1), n.Load(), "the store is not asked again")
}

// idleCloser is a provider that counts CloseIdleConnections.
type idleCloser struct {
	*providertest.Mock
	n *atomic.Int64
}

func (c idleCloser) CloseIdleConnections() { c.n.Add(1) }

// TestCloseClosesTheProvidersIdleConnections: Service.Close asks each
// provider that keeps connections to close its idle ones, once.
func TestCloseClosesTheProvidersIdleConnections(t *testing.T) {
	var n atomic.Int64
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.Providers = []provider.Provider{idleCloser{c.Providers[0].(*providertest.Mock), &n}}
	})
	require.NoError(t, f.svc.Close())
	require.NoError(t, f.svc.Close())
	assert.Equal(t, int64(1), n.Load())
}
