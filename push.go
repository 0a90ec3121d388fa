package push

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"sort"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Config configures a Service. Store and Providers are required; every
// other field has the documented default.
type Config struct {
	// Store is the system of record. Required.
	Store registry.Store
	// Providers are the vendors, routed by Name() and platform: a device is
	// pushed through the provider named by its push_platform, when that
	// provider serves the device's platform (Capabilities(platform).MaxTokens
	// > 0; an Umeng client configured with the Android app only serves
	// Android). Devices no provider serves are skipped and counted in
	// Result.Skipped. At least one provider, each serving at least one
	// platform. New reads which platforms a provider serves once: a
	// provider's Capabilities must not change afterwards.
	Providers []provider.Provider
	// DefaultProvider is used for devices whose push_platform is empty and
	// by Broadcast when no provider is named. Default "umeng", or the only
	// provider when there is one.
	DefaultProvider string
	// Logger receives structured logs. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Retry decides when failed sends are retried.
	Retry RetryPolicy
	// Lease is how long a send or poll claim lasts before another instance
	// may take the delivery over. It must exceed SendTimeout plus
	// WriteTimeout. Default 2 minutes.
	Lease time.Duration
	// SendTimeout bounds each provider Send (its ctx gets this deadline).
	// A claimed delivery is sent only while at least SendTimeout plus
	// WriteTimeout of its lease remains; otherwise its claim is released
	// for the next pass, so that no other instance can take it over while
	// the call is in flight. Default 1 minute, Umeng's own HTTP timeout;
	// with umeng.StrategyFilecast (upload, then send) use 2 minutes and a
	// Lease of at least 3.
	SendTimeout time.Duration
	// PollInterval is the wait between status polls of a pollable receipt.
	// Default 1 minute.
	PollInterval time.Duration
	// Expiry is how long the vendor keeps trying a push, and how long it is
	// polled; Umeng allows at most 7 days. Default 72 hours.
	Expiry time.Duration
	// SendConcurrency bounds the vendor calls one Push makes at once.
	// Default 4.
	SendConcurrency int
	// WriteTimeout bounds the bookkeeping writes made after a vendor call,
	// which run even when the caller's ctx has ended so that no outcome is
	// lost. Default 10 seconds.
	WriteTimeout time.Duration
	// MeterProvider receives the Service's metrics, under the scope
	// InstrumentationName: push.messages.recorded (by push.type),
	// push.deliveries (the outcome of every send, by push.provider,
	// push.platform, push.state — accepted, pending, failed or split — and
	// push.error_kind),
	// push.vendor.call.duration (seconds, by provider, platform,
	// push.operation and push.outcome), push.tokens.disabled,
	// push.claim.duration (seconds, by push.claim.kind and outcome) and,
	// when Store is a registry.BacklogCounter, the gauges
	// push.deliveries.backlog and push.center.backlog. Default:
	// otel.GetMeterProvider(), a no-op until the host installs one.
	MeterProvider metric.MeterProvider
	// TracerProvider receives the Service's spans: one per Push and
	// Broadcast, a client span per vendor call (its children) and one per
	// claim of RetryPending and PollReceipts. A push keeps the trace
	// context of its Push span (PushMessage.TraceParent), and the vendor
	// call of every retry links to it. Attributes carry names, states,
	// ids and counts, never a token, a user_num, a secret or message text.
	// Default: otel.GetTracerProvider(), a no-op until the host installs
	// one (a push then keeps only a trace context its caller's ctx held).
	TracerProvider trace.TracerProvider
}

// Service is the facade of the library: it registers devices, pushes to
// users and records every push. It is safe for concurrent use.
type Service struct {
	store       registry.Store
	providers   map[string]provider.Provider
	served      map[target]bool // (provider, platform) pairs a provider serves
	names       []string
	def         string
	log         *slog.Logger
	now         func() time.Time
	retry       RetryPolicy
	lease       time.Duration
	sendTimeout time.Duration
	poll        time.Duration
	expiry      time.Duration
	conc        int
	writeTO     time.Duration
	tel         telemetry
}

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil {
		return nil, invalid("store", "is required")
	}
	if len(cfg.Providers) == 0 {
		return nil, invalid("providers", "at least one provider is required")
	}
	s := &Service{
		store:       cfg.Store,
		providers:   make(map[string]provider.Provider, len(cfg.Providers)),
		served:      map[target]bool{},
		log:         cfg.Logger,
		now:         cfg.Now,
		retry:       cfg.Retry,
		lease:       cfg.Lease,
		sendTimeout: cfg.SendTimeout,
		poll:        cfg.PollInterval,
		expiry:      cfg.Expiry,
		conc:        cfg.SendConcurrency,
		writeTO:     cfg.WriteTimeout,
	}
	for i, p := range cfg.Providers {
		if p == nil {
			return nil, invalid("providers", "provider %d is nil", i)
		}
		name := p.Name()
		if name == "" {
			return nil, invalid("providers", "provider %d has an empty name", i)
		}
		if _, dup := s.providers[name]; dup {
			return nil, invalid("providers", "two providers are named %q", name)
		}
		served := false
		for _, pl := range provider.Platforms() {
			if p.Capabilities(pl).MaxTokens > 0 {
				s.served[target{name, string(pl)}] = true
				served = true
			}
		}
		if !served {
			return nil, invalid("providers", "provider %q serves no platform (MaxTokens <= 0 for %v)", name, provider.Platforms())
		}
		s.providers[name] = p
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	s.def = cfg.DefaultProvider
	if s.def == "" {
		s.def = registry.DefaultPushPlatform
		if len(s.names) == 1 {
			s.def = s.names[0]
		}
	}
	if _, ok := s.providers[s.def]; !ok {
		return nil, invalid("default_provider", "%q is not among the providers %v", s.def, s.names)
	}
	if err := s.retry.Validate(); err != nil {
		return nil, err
	}
	s.retry = s.retry.withDefaults()
	for _, d := range []struct {
		name string
		v    *time.Duration
		def  time.Duration
	}{
		{"lease", &s.lease, 2 * time.Minute},
		{"send_timeout", &s.sendTimeout, time.Minute},
		{"poll_interval", &s.poll, time.Minute},
		{"expiry", &s.expiry, 72 * time.Hour},
		{"write_timeout", &s.writeTO, 10 * time.Second},
	} {
		if *d.v < 0 {
			return nil, invalid(d.name, "must not be negative")
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if s.sendTimeout+s.writeTO >= s.lease {
		return nil, invalid("lease", "%v must be longer than send_timeout %v plus write_timeout %v", s.lease, s.sendTimeout, s.writeTO)
	}
	if s.conc < 0 {
		return nil, invalid("send_concurrency", "must not be negative")
	}
	if s.conc == 0 {
		s.conc = 4
	}
	if s.log == nil {
		s.log = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.tel, err = newTelemetry(cfg.MeterProvider, cfg.TracerProvider, s.store, s.now, s.log); err != nil {
		return nil, err
	}
	return s, nil
}

// Store returns the Service's store.
func (s *Service) Store() registry.Store { return s.store }

// Now returns the Service's clock reading.
func (s *Service) Now() time.Time { return s.now() }

// DrainTimeout is how long the work started before a shutdown may go on
// after it: a vendor call in flight (SendTimeout) and the recording of its
// outcome (WriteTimeout). Neither is cut short by the caller's
// cancellation, so a host that waits this long (plus a margin for its own
// store round trips) after cancelling its requests and its Scanner loses
// no outcome.
func (s *Service) DrainTimeout() time.Duration { return s.sendTimeout + s.writeTO }

// Provider returns the provider named name, or ErrUnknownProvider.
func (s *Service) Provider(name string) (provider.Provider, error) {
	if name == "" {
		name = s.def
	}
	p, ok := s.providers[name]
	if !ok {
		return nil, fmt.Errorf("%w %q (configured: %v)", ErrUnknownProvider, name, s.names)
	}
	return p, nil
}

// serves reports whether the provider named name is configured and serves
// platform pl. Capabilities are read once, by New.
func (s *Service) serves(name string, pl provider.Platform) bool {
	return s.served[target{name, string(pl)}]
}

// writeCtx returns a context for bookkeeping after a vendor call: it keeps
// ctx's values but not its cancellation, so an outcome is recorded even when
// the caller has gone away.
func (s *Service) writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.writeTO)
}
