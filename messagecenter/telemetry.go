package messagecenter

import (
	"context"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/registry"
)

// InstrumentationName is the name of the Scanner's meter and tracer.
const InstrumentationName = "github.com/tuisong/push/messagecenter"

// Attribute keys of the Scanner's metrics and spans, besides the push
// package's (push.outcome, push.attempt, push.message_id, push.claim.kind,
// push.claimed).
const (
	// AttrNotifyMode is a row's notify_mode when it is "push" or has a
	// Notifier, and "other" for any other value, which rows other programs
	// write may hold: a metric's attributes must not take whatever text a
	// row brings.
	AttrNotifyMode = attribute.Key("push.notify_mode")
	// AttrRowID is a center row's id (spans only).
	AttrRowID = attribute.Key("push.center.row_id")
)

// otherMode is the AttrNotifyMode of a mode the Scanner has no Notifier for.
const otherMode = "other"

// durationBuckets are the boundaries of push.claim.duration, as the push
// package's.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// telemetry holds the Scanner's instruments and tracer.
type telemetry struct {
	tracer trace.Tracer
	rows   metric.Int64Counter
	claim  metric.Float64Histogram
	modes  map[string]bool // the notify modes reported by name
}

// newTelemetry creates the instruments on mp and the tracer on tp (the
// global providers when nil). modes are the notify modes the Scanner
// delivers.
func newTelemetry(mp metric.MeterProvider, tp trace.TracerProvider, modes map[string]bool) (telemetry, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	t := telemetry{tracer: tp.Tracer(InstrumentationName), modes: modes}
	m := mp.Meter(InstrumentationName)
	var err error
	if t.rows, err = m.Int64Counter("push.center.rows", metric.WithUnit("{row}"),
		metric.WithDescription("Message center rows handled, by notify_mode and outcome.")); err != nil {
		return t, fieldErr("meter_provider", "push.center.rows: %v", err)
	}
	if t.claim, err = m.Float64Histogram("push.claim.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of the store claims of due work, by claim kind and outcome."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return t, fieldErr("meter_provider", "push.claim.duration: %v", err)
	}
	return t, nil
}

// mode is the AttrNotifyMode value of a row's notify_mode.
func (t *telemetry) mode(m string) string {
	if m = normMode(m); t.modes[m] {
		return m
	}
	return otherMode
}

// claimBatch claims a batch of at most size due rows under a "push.claim" span (kind
// center) and records the claim's duration. The span is ended by handle,
// which handles the rows as its children.
func (s *Scanner) claimBatch(ctx context.Context, rep *Report, size int) (rows []registry.CenterMessage, handle func(*Report), err error) {
	ctx, span := s.tel.tracer.Start(ctx, "push.claim", trace.WithAttributes(push.AttrClaimKind.String(push.ClaimKindCenter)))
	start := time.Now()
	// Once started, the claim runs to its end even when ctx ends
	// meanwhile: one that committed and lost its answer to the cancel
	// would hold its rows, handled by nobody, for a whole lease. Rows
	// claimed as the Scanner stops are given back untried (settle).
	cctx, cancel := writeCtx(ctx)
	rows, err = s.store.ClaimCenterMessages(cctx, registry.ClaimParams{Now: s.now(), Limit: size, Lease: s.lease, SkipModes: s.leave})
	cancel()
	outcome := push.OutcomeOK
	if err != nil {
		outcome = push.OutcomeError
		span.SetStatus(codes.Error, "claim failed")
	}
	s.tel.claim.Record(ctx, time.Since(start).Seconds(),
		metric.WithAttributes(push.AttrClaimKind.String(push.ClaimKindCenter), push.AttrOutcome.String(outcome)))
	span.SetAttributes(push.AttrClaimed.Int(len(rows)))
	if err != nil {
		span.End()
		return nil, nil, err
	}
	rep.Claimed += len(rows)
	return rows, func(got *Report) {
		defer span.End()
		s.handleAll(ctx, rows, got)
	}, nil
}

// handleTraced is handle under a "messagecenter.row" span, the parent of
// the Push a push row becomes; the outcome is counted in
// push.center.rows.
func (s *Scanner) handleTraced(ctx context.Context, m *registry.CenterMessage) Result {
	ctx, span := s.tel.startRow(ctx, m)
	r := s.handle(ctx, m)
	s.tel.endRow(ctx, span, m, r)
	return r
}

// startRow starts the "messagecenter.row" span of m.
func (t *telemetry) startRow(ctx context.Context, m *registry.CenterMessage) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, "messagecenter.row", trace.WithAttributes(AttrRowID.Int64(m.ID),
		AttrNotifyMode.String(t.mode(m.NotifyMode)), push.AttrAttempt.Int(m.Attempts)))
}

// endRow counts m's outcome r in push.center.rows and ends its span.
func (t *telemetry) endRow(ctx context.Context, span trace.Span, m *registry.CenterMessage, r Result) {
	defer span.End()
	t.rows.Add(ctx, 1, metric.WithAttributes(AttrNotifyMode.String(t.mode(m.NotifyMode)), push.AttrOutcome.String(string(r.Outcome))))
	span.SetAttributes(push.AttrOutcome.String(string(r.Outcome)))
	if r.PushMessageID != 0 {
		span.SetAttributes(push.AttrMessageID.Int64(r.PushMessageID))
	}
	if r.Outcome == OutcomeFailed {
		// The outcome only: the error's text (in remark) may quote what
		// the row or a notifier said.
		span.SetStatus(codes.Error, string(r.Outcome))
	}
}
