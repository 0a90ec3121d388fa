package messagecenter_test

import (
	"context"
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

	push "github.com/tuisong/push"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// rowsCounted adds the points of push.center.rows whose notify_mode and
// outcome are mode and outcome.
func rowsCounted(t *testing.T, rm metricdata.ResourceMetrics, mode, outcome string) int64 {
	t.Helper()
	var n int64
	found := false
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			if m.Name != "push.center.rows" {
				continue
			}
			found = true
			assert.Equal(t, messagecenter.InstrumentationName, sm.Scope.Name)
			for _, p := range m.Data.(metricdata.Sum[int64]).DataPoints {
				md, _ := p.Attributes.Value("push.notify_mode")
				oc, _ := p.Attributes.Value("push.outcome")
				if md.AsString() == mode && oc.AsString() == outcome {
					n += p.Value
				}
			}
		}
	}
	require.True(t, found, "push.center.rows recorded")
	return n
}

func attrOf(s sdktrace.ReadOnlySpan, key attribute.Key) attribute.Value {
	for _, kv := range s.Attributes() {
		if kv.Key == key {
			return kv.Value
		}
	}
	return attribute.Value{}
}

// TestTelemetryOfAPass: a pass counts each row by notify_mode (a mode
// without a Notifier as "other") and outcome, measures its claim, and
// traces claim → row → Push → vendor call, so that a center row can be
// followed to the vendor; no receiver or message text is in any
// attribute.
func TestTelemetryOfAPass(t *testing.T) {
	ctx := context.Background()
	reader, spans := sdkmetric.NewManualReader(), tracetest.NewSpanRecorder()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	store, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: store, Providers: []provider.Provider{m}, Now: clk.Now, MeterProvider: mp, TracerProvider: tp})
	require.NoError(t, err)
	email := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) { return "queued", nil })
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, Notifiers: map[string]messagecenter.Notifier{"email": email},
		MeterProvider: mp, TracerProvider: tp})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "receiver-42", UUID: "d1", Platform: "ios", PushToken: "secret-token-42"})
	require.NoError(t, err)
	for _, row := range []registry.CenterMessage{
		{Title: "private title", Content: "private content", NotifyMode: "push", Receivers: "receiver-42"},
		{Title: "t", Content: "c", NotifyMode: "email", Receivers: "someone@example.com"},
		{Title: "t", Content: "c", NotifyMode: "carrier pigeon 7731", Receivers: "x"},
	} {
		require.NoError(t, store.EnqueueCenterMessage(ctx, &row))
	}

	rep, err := sc.RunOnce(ctx)
	require.NoError(t, err)
	require.Equal(t, 2, rep.Sent)
	require.Equal(t, 1, rep.Failed)

	var rm metricdata.ResourceMetrics
	require.NoError(t, reader.Collect(ctx, &rm))
	assert.Equal(t, int64(1), rowsCounted(t, rm, "push", "sent"))
	assert.Equal(t, int64(1), rowsCounted(t, rm, "email", "sent"))
	assert.Equal(t, int64(1), rowsCounted(t, rm, "other", "failed"), "a mode without a Notifier is not a label value")
	claims := 0
	for _, sm := range rm.ScopeMetrics {
		for _, mt := range sm.Metrics {
			if mt.Name != "push.claim.duration" {
				continue
			}
			for _, p := range mt.Data.(metricdata.Histogram[float64]).DataPoints {
				if k, _ := p.Attributes.Value("push.claim.kind"); k.AsString() == "center" {
					claims += int(p.Count)
				}
			}
		}
	}
	assert.Equal(t, 1, claims, "one claim took the three rows")

	byName := map[string][]sdktrace.ReadOnlySpan{}
	for _, s := range spans.Ended() {
		byName[s.Name()] = append(byName[s.Name()], s)
		for _, kv := range s.Attributes() {
			for _, secret := range []string{"receiver-42", "secret-token-42", "private", "someone@example.com", "pigeon"} {
				assert.NotContains(t, kv.Value.String(), secret, "%s %s", s.Name(), kv.Key)
			}
		}
	}
	var centerClaim sdktrace.ReadOnlySpan
	for _, c := range byName["push.claim"] {
		if attrOf(c, push.AttrClaimKind).AsString() == "center" {
			centerClaim = c
		}
	}
	require.NotNil(t, centerClaim)
	assert.Equal(t, int64(3), attrOf(centerClaim, push.AttrClaimed).AsInt64())
	rows := byName["messagecenter.row"]
	require.Len(t, rows, 3)
	var pushRow sdktrace.ReadOnlySpan
	for _, r := range rows {
		assert.Equal(t, centerClaim.SpanContext().SpanID(), r.Parent().SpanID(), "rows are children of their claim")
		switch attrOf(r, messagecenter.AttrNotifyMode).AsString() {
		case "push":
			pushRow = r
		case "other":
			assert.Equal(t, codes.Error, r.Status().Code)
			assert.Equal(t, "failed", r.Status().Description)
		}
	}
	require.NotNil(t, pushRow)
	require.Len(t, byName["push.Push"], 1)
	ps := byName["push.Push"][0]
	assert.Equal(t, pushRow.SpanContext().SpanID(), ps.Parent().SpanID(), "the row's Push is its child")
	assert.Equal(t, attrOf(ps, push.AttrMessageID).AsInt64(), attrOf(pushRow, push.AttrMessageID).AsInt64())
	require.Len(t, byName["umeng send"], 1)
	assert.Equal(t, ps.SpanContext().SpanID(), byName["umeng send"][0].Parent().SpanID())
}
