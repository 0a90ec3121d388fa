package push

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// InstrumentationName is the name of the Service's meter and tracer (the
// instrumentation scope of its metrics and spans).
const InstrumentationName = "github.com/tuisong/push"

// Attribute keys of the Service's metrics and spans. None of them ever
// holds a token, a user_num, a secret or message text: only names, states,
// kinds, ids and counts.
const (
	AttrProvider   = attribute.Key("push.provider")    // the provider's Name()
	AttrPlatform   = attribute.Key("push.platform")    // "ios" or "android"
	AttrState      = attribute.Key("push.state")       // what a send left: accepted, pending, failed or split
	AttrErrorKind  = attribute.Key("push.error_kind")  // a provider.Kind, "" when none
	AttrOperation  = attribute.Key("push.operation")   // OpSend or OpStatus
	AttrOutcome    = attribute.Key("push.outcome")     // "ok", or the provider.Kind of the error
	AttrPushType   = attribute.Key("push.type")        // registry.PushTypeUsers or PushTypeBroadcast
	AttrClaimKind  = attribute.Key("push.claim.kind")  // ClaimKindSend, ClaimKindPoll or ClaimKindCenter
	AttrMessageID  = attribute.Key("push.message_id")  // the push message's id (spans only)
	AttrDeliveryID = attribute.Key("push.delivery_id") // the delivery's id (spans only)
	AttrReason     = attribute.Key("push.reason")      // why an outcome went unrecorded: "claim_lost" or "store_error"
	AttrTokens     = attribute.Key("push.tokens")      // how many tokens a call carries (spans only)
	AttrAttempt    = attribute.Key("push.attempt")     // the delivery's attempt (spans only)
	AttrClaimed    = attribute.Key("push.claimed")     // how many rows a claim took (spans only)
	AttrUsers      = attribute.Key("push.users")       // how many user_nums a Push names (spans only)
	AttrReceipts   = attribute.Key("push.receipts")    // how many receipts one status call asks about (spans only)
)

// Values of AttrOperation and AttrClaimKind.
const (
	OpSend          = "send"   // provider.Provider.Send
	OpStatus        = "status" // provider.StatusQuerier.Status
	ClaimKindSend   = "send"   // deliveries due for a send (RetryPending)
	ClaimKindPoll   = "poll"   // deliveries due for a status poll (PollReceipts)
	ClaimKindCenter = "center" // message center rows (messagecenter.Scanner)
	OutcomeOK       = "ok"     // AttrOutcome of a call that succeeded
	OutcomeError    = "error"  // AttrOutcome of a store call that failed
)

// backlogTimeout bounds the store query of one collection of the backlog
// gauges.
const backlogTimeout = 5 * time.Second

// durationBuckets are the histogram boundaries of the latency metrics, in
// seconds: from a fast store claim to a vendor call cut off by SendTimeout.
var durationBuckets = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120}

// telemetry holds the Service's instruments and tracer. With the global
// providers of a host that set none, every one of them is a no-op.
type telemetry struct {
	tracer     trace.Tracer
	recorded   metric.Int64Counter
	deliveries metric.Int64Counter
	vendorCall metric.Float64Histogram
	disabled   metric.Int64Counter
	claim      metric.Float64Histogram
	unrecorded metric.Int64Counter
	// held, adopted and dropped count the receipts kept until their
	// delivery is known (Config.ReceiptHold).
	held, adopted, dropped metric.Int64Counter
	// backlog is the registration of the backlog gauges' callback, nil
	// without them; Service.Close ends it.
	backlog metric.Registration
}

// newTelemetry creates the instruments on mp and the tracer on tp (the
// global providers when nil), and registers the backlog gauges when store
// can count its backlog.
func newTelemetry(mp metric.MeterProvider, tp trace.TracerProvider, store registry.Store,
	now func() time.Time, log *slog.Logger) (telemetry, error) {
	if mp == nil {
		mp = otel.GetMeterProvider()
	}
	if tp == nil {
		tp = otel.GetTracerProvider()
	}
	var t telemetry
	t.tracer = tp.Tracer(InstrumentationName)
	m := mp.Meter(InstrumentationName)
	var err error
	if t.recorded, err = m.Int64Counter("push.messages.recorded", metric.WithUnit("{message}"),
		metric.WithDescription("Push messages recorded by Push and Broadcast, by push.type.")); err != nil {
		return t, invalid("meter_provider", "push.messages.recorded: %v", err)
	}
	if t.deliveries, err = m.Int64Counter("push.deliveries", metric.WithUnit("{delivery}"),
		metric.WithDescription("Outcomes of delivery sends, by provider, platform, the state the send left the delivery in and the error kind.")); err != nil {
		return t, invalid("meter_provider", "push.deliveries: %v", err)
	}
	if t.vendorCall, err = m.Float64Histogram("push.vendor.call.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of vendor calls, by provider, platform, operation and outcome."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return t, invalid("meter_provider", "push.vendor.call.duration: %v", err)
	}
	if t.disabled, err = m.Int64Counter("push.tokens.disabled", metric.WithUnit("{device}"),
		metric.WithDescription("Devices whose token was disabled after a vendor reported it invalid, by provider and platform.")); err != nil {
		return t, invalid("meter_provider", "push.tokens.disabled: %v", err)
	}
	if t.unrecorded, err = m.Int64Counter("push.deliveries.unrecorded", metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries sent whose outcome could not be recorded (the database failed past the retries, or another instance held the claim), by provider, platform and push.reason: they are sent again once their lease runs out.")); err != nil {
		return t, invalid("meter_provider", "push.deliveries.unrecorded: %v", err)
	}
	for _, c := range []struct {
		v          *metric.Int64Counter
		name, desc string
	}{
		{&t.held, "push.receipts.held", "Receipts kept because no delivery had their id yet (its send's outcome was not recorded)."},
		{&t.adopted, "push.receipts.adopted", "Held receipts counted once their delivery's outcome was recorded."},
		{&t.dropped, "push.receipts.dropped", "Held receipts dropped: no delivery had their id within Config.ReceiptHold, or their delivery did not go to their token; and receipts not held because Config.MaxHeldReceipts were."},
	} {
		if *c.v, err = m.Int64Counter(c.name, metric.WithUnit("{receipt}"), metric.WithDescription(c.desc)); err != nil {
			return t, invalid("meter_provider", "%s: %v", c.name, err)
		}
	}
	if t.claim, err = m.Float64Histogram("push.claim.duration", metric.WithUnit("s"),
		metric.WithDescription("Duration of the store claims of due work, by claim kind and outcome."),
		metric.WithExplicitBucketBoundaries(durationBuckets...)); err != nil {
		return t, invalid("meter_provider", "push.claim.duration: %v", err)
	}
	bc, ok := store.(registry.BacklogCounter)
	if !ok {
		return t, nil
	}
	dg, err := m.Int64ObservableGauge("push.deliveries.backlog", metric.WithUnit("{delivery}"),
		metric.WithDescription("Deliveries due for a send and not sent yet."))
	if err != nil {
		return t, invalid("meter_provider", "push.deliveries.backlog: %v", err)
	}
	cg, err := m.Int64ObservableGauge("push.center.backlog", metric.WithUnit("{row}"),
		metric.WithDescription("Message center rows due and not sent yet."))
	if err != nil {
		return t, invalid("meter_provider", "push.center.backlog: %v", err)
	}
	t.backlog, err = m.RegisterCallback(func(ctx context.Context, o metric.Observer) error {
		ctx, cancel := context.WithTimeout(ctx, backlogTimeout)
		defer cancel()
		d, c, err := bc.Backlog(ctx, now())
		if err != nil {
			// No value is better than a wrong one: the gauges skip this
			// collection.
			log.LogAttrs(ctx, slog.LevelWarn, "backlog gauges: counting the backlog failed", slog.String("error", err.Error()))
			return nil
		}
		o.ObserveInt64(dg, d)
		o.ObserveInt64(cg, c)
		return nil
	}, dg, cg)
	if err != nil {
		return t, invalid("meter_provider", "backlog gauges: %v", err)
	}
	return t, nil
}

// startPush starts the span of a Push or a Broadcast.
func (t *telemetry) startPush(ctx context.Context, name string, attrs ...attribute.KeyValue) (context.Context, trace.Span) {
	return t.tracer.Start(ctx, name, trace.WithAttributes(attrs...))
}

// endPush ends the span of a Push or a Broadcast with what it did.
func endPush(span trace.Span, r *Result, err error) {
	defer span.End()
	if !span.IsRecording() {
		return
	}
	if err != nil {
		span.SetStatus(codes.Error, errorClass(err))
		return
	}
	span.SetAttributes(AttrMessageID.Int64(r.PushMessageID), attribute.Bool("push.duplicate", r.Duplicate),
		attribute.Int("push.devices", r.Devices), attribute.Int("push.skipped", r.Skipped),
		attribute.Int("push.accepted", r.Accepted()), attribute.Int("push.pending", r.Pending()),
		attribute.Int("push.failed", r.Failed()), attribute.Bool("push.unlisted", r.Unlisted),
		attribute.Bool("push.expired", r.Expired))
}

// errorClass names an error of the Service for a span status: its field
// for bad input, a sentinel's text otherwise. Never the error's whole text,
// which may quote what the caller sent.
func errorClass(err error) string {
	var fe *FieldError
	switch {
	case errors.As(err, &fe):
		return "invalid " + fe.Field
	case errors.Is(err, ErrNoDevices):
		return ErrNoDevices.Error()
	}
	return "error"
}

// recordedMessage counts a recorded push message.
func (t *telemetry) recordedMessage(ctx context.Context, m *registry.PushMessage) {
	t.recorded.Add(ctx, 1, metric.WithAttributes(AttrPushType.String(m.PushType)))
}

// delivered counts the outcome of a send of d (d's fields as applySend set
// them).
func (t *telemetry) delivered(ctx context.Context, d *registry.Delivery) {
	t.deliveries.Add(ctx, 1, metric.WithAttributes(AttrProvider.String(d.Provider), AttrPlatform.String(d.Platform),
		AttrState.String(sendOutcome(d.State)), AttrErrorKind.String(d.ErrorKind)))
}

// sendOutcome is the AttrState of a send that left a delivery in state
// st, in the words of the API's status: "accepted" when the vendor took
// the push (registry.DeliveryAccepted, still to be polled, or
// DeliveryDone), else the state ("pending" for a retry, "failed",
// "split").
func sendOutcome(st registry.DeliveryState) string {
	if st == registry.DeliveryDone {
		return string(registry.DeliveryAccepted)
	}
	return string(st)
}

// unrecordedOutcome counts a delivery sent whose outcome was not recorded,
// by why: "claim_lost" or "store_error".
func (t *telemetry) unrecordedOutcome(ctx context.Context, d *registry.Delivery, reason string) {
	t.unrecorded.Add(ctx, 1, metric.WithAttributes(AttrProvider.String(d.Provider), AttrPlatform.String(d.Platform),
		AttrReason.String(reason)))
}

// heldReceipt counts a receipt of provider held until its delivery is
// known.
func (t *telemetry) heldReceipt(ctx context.Context, provider string) {
	t.held.Add(ctx, 1, metric.WithAttributes(AttrProvider.String(provider)))
}

// adoptedReceipts counts the held receipts an adoption counted and
// dropped.
func (t *telemetry) adoptedReceipts(ctx context.Context, adopted, dropped int) {
	if adopted > 0 {
		t.adopted.Add(ctx, int64(adopted))
	}
	if dropped > 0 {
		t.dropped.Add(ctx, int64(dropped))
	}
}

// disabledTokens counts the devices whose token a send of d disabled.
func (t *telemetry) disabledTokens(ctx context.Context, d *registry.Delivery, n int64) {
	if n > 0 {
		t.disabled.Add(ctx, n, metric.WithAttributes(AttrProvider.String(d.Provider), AttrPlatform.String(d.Platform)))
	}
}

// startCall starts the client span of a vendor call of d, a child of the
// span in ctx. When msg carries the trace context of the call that recorded
// it, and that is not the trace of ctx (a retry, by this or another
// instance), the span links to it, so that the push can be followed from
// its first call to every retry. The returned function ends the span and
// records the call's duration; it is given the call's error.
func (t *telemetry) startCall(ctx context.Context, op string, d *registry.Delivery, msg *registry.PushMessage) (context.Context, func(error)) {
	attrs := []attribute.KeyValue{AttrProvider.String(d.Provider), AttrPlatform.String(d.Platform), AttrOperation.String(op)}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...),
		trace.WithAttributes(AttrMessageID.Int64(d.PushMessageID), AttrDeliveryID.Int64(d.ID),
			AttrTokens.Int(len(d.Tokens)), AttrAttempt.Int(d.Attempts))}
	if msg != nil {
		if sc := spanContextOf(msg.TraceParent); sc.IsValid() && sc.TraceID() != trace.SpanContextFromContext(ctx).TraceID() {
			opts = append(opts, trace.WithLinks(trace.Link{SpanContext: sc}))
		}
	}
	ctx, span := t.tracer.Start(ctx, d.Provider+" "+op, opts...)
	return ctx, t.endCall(ctx, span, attrs)
}

// endCall returns the function that ends the client span of a vendor
// call started now and records its duration under attrs and its outcome.
func (t *telemetry) endCall(ctx context.Context, span trace.Span, attrs []attribute.KeyValue) func(error) {
	start := time.Now()
	return func(err error) {
		outcome := OutcomeOK
		if err != nil {
			outcome = provider.KindOf(err).String()
		}
		t.vendorCall.Record(ctx, time.Since(start).Seconds(), metric.WithAttributes(append(attrs, AttrOutcome.String(outcome))...))
		span.SetAttributes(AttrOutcome.String(outcome))
		if err != nil {
			// The kind and code, never the error's text: a vendor's
			// message may quote the request.
			span.SetAttributes(AttrErrorKind.String(outcome), attribute.String("push.error_code", registry.Clip(provider.CodeOf(err), 64)))
			span.SetStatus(codes.Error, outcome)
		}
		span.End()
	}
}

// startBatchStatus starts the client span of a status call that asks
// about the n receipts of provider on platform at once
// (provider.BatchStatusQuerier), a child of the span in ctx. The returned
// function ends the span and records the call's duration; it is given
// the call's error.
func (t *telemetry) startBatchStatus(ctx context.Context, prov, platform string, n int) (context.Context, func(error)) {
	attrs := []attribute.KeyValue{AttrProvider.String(prov), AttrPlatform.String(platform), AttrOperation.String(OpStatus)}
	ctx, span := t.tracer.Start(ctx, prov+" "+OpStatus, trace.WithSpanKind(trace.SpanKindClient), trace.WithAttributes(attrs...),
		trace.WithAttributes(AttrReceipts.Int(n)))
	return ctx, t.endCall(ctx, span, attrs)
}

// startClaim starts the span of a claim of kind, which also covers the
// handling of what the claim took (the vendor calls of RetryPending and
// PollReceipts are its children); the caller ends it. The returned
// claimTrace times each store claim made under the span (begin, then
// done when the store's claim returns).
func (t *telemetry) startClaim(ctx context.Context, kind string) (context.Context, trace.Span, *claimTrace) {
	ctx, span := t.tracer.Start(ctx, "push.claim", trace.WithAttributes(AttrClaimKind.String(kind)))
	return ctx, span, &claimTrace{t: t, ctx: ctx, span: span, kind: kind, start: time.Now()}
}

// claimTrace records the store claims of one claim span: each one's
// duration in the claim histogram, and the rows they took together in
// the span's AttrClaimed. It is used by one goroutine.
type claimTrace struct {
	t     *telemetry
	ctx   context.Context
	span  trace.Span
	kind  string
	start time.Time
	total int
}

// begin marks the start of a store claim after the first (whose start is
// startClaim's).
func (c *claimTrace) begin() { c.start = time.Now() }

// done records a store claim that returned n rows, or err.
func (c *claimTrace) done(n int, err error) {
	outcome := OutcomeOK
	if err != nil {
		outcome = OutcomeError
		c.span.SetStatus(codes.Error, "claim failed")
	}
	c.t.claim.Record(c.ctx, time.Since(c.start).Seconds(), metric.WithAttributes(AttrClaimKind.String(c.kind), AttrOutcome.String(outcome)))
	c.total += n
	c.span.SetAttributes(AttrClaimed.Int(c.total))
}

// traceParent returns the W3C traceparent of the span in ctx, or "" when
// ctx holds no valid span context (tracing is off).
func traceParent(ctx context.Context) string {
	if !trace.SpanContextFromContext(ctx).IsValid() {
		return ""
	}
	c := propagation.MapCarrier{}
	propagation.TraceContext{}.Inject(ctx, c)
	return c["traceparent"]
}

// spanContextOf reads a stored traceparent; an invalid or empty one gives
// an invalid span context.
func spanContextOf(tp string) trace.SpanContext {
	if tp == "" {
		return trace.SpanContext{}
	}
	ctx := propagation.TraceContext{}.Extract(context.Background(), propagation.MapCarrier{"traceparent": tp})
	return trace.SpanContextFromContext(ctx)
}

// pushAttrs are the attributes a Push span starts with.
func pushAttrs(users int) []attribute.KeyValue { return []attribute.KeyValue{AttrUsers.Int(users)} }

// broadcastAttrs are the attributes a Broadcast span starts with.
func broadcastAttrs(b Broadcast) []attribute.KeyValue {
	return []attribute.KeyValue{AttrPlatform.String(registry.Clip(b.Platform, 16)), AttrProvider.String(registry.Clip(b.Provider, 32))}
}
