package push

import (
	"context"
	"fmt"
	"log/slog"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	"github.com/tuisong/push/internal/isnil"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Config configures a Service. Store and Providers are required; every
// other field has the documented default. A duration set to less than a
// millisecond is refused as a unit mistake (a time.Duration counts
// nanoseconds: SendTimeout: 30 is thirty nanoseconds, not seconds).
type Config struct {
	// Store is the system of record. Required, and made by its
	// constructor: New refuses a store whose CheckBuilt fails
	// (registry.BuildChecker), such as a zero sqlstore.Store{}.
	Store registry.Store
	// Providers are the vendors, routed by Name() (lower-case, as stored in
	// push_platform: New refuses another) and platform: a device is
	// pushed through the provider named by its push_platform, when that
	// provider serves the device's platform (Capabilities(platform).MaxTokens
	// > 0; an Umeng client configured with the Android app only serves
	// Android). Devices no provider serves are skipped and counted in
	// Result.Skipped. At least one provider, each serving at least one
	// platform. New reads which platforms a provider serves once: a
	// provider's Capabilities must not change afterwards. New refuses a
	// provider whose CheckBuilt fails (provider.BuildChecker), such as a
	// zero umeng.Client{}.
	Providers []provider.Provider
	// DefaultProvider is the push_platform RegisterDevice stores for a
	// device registered without one, and the provider Broadcast uses when
	// none is named, read in any case ("Umeng"). Default "umeng", or the only provider when there is
	// one. A device row another program wrote without a push_platform is
	// read as "umeng" (registry.DefaultPushPlatform, the product brief's
	// column default), whatever DefaultProvider says.
	DefaultProvider string
	// Logger receives structured logs. Default: discard.
	Logger *slog.Logger
	// Now is the clock. Default time.Now.
	Now func() time.Time
	// Retry decides when failed sends are retried.
	Retry RetryPolicy
	// Lease is how long a send or poll claim lasts before another instance
	// may take the delivery over. It must exceed the longest send timeout
	// of a provider (see SendTimeout) plus WriteTimeout. Default: that sum
	// plus a minute, or 2 minutes when that is longer (2m10s with a Umeng
	// client's default timeout of a minute and WriteTimeout's 10 s). A delivery
	// that waits for a send slot (SendConcurrency) until WriteTimeout
	// before its lease ends is given back untried, its attempt refunded.
	// Each instance compares leases with its own clock (Now): instances
	// whose clocks differ by more than the lease's margin over the
	// longest send may take over a delivery another is still sending, so
	// keep their clocks synchronised (NTP).
	Lease time.Duration
	// SendTimeout bounds each vendor call of a provider that declares no
	// SendTimeout of its own (provider.Capabilities.SendTimeout): a Send
	// of such a provider gets CallsPerSend times it. A provider that
	// declares one (umeng, jpush and getui do, from their own Timeout and
	// number of calls: getui's auth, create, auth again after an expired
	// token, and send, see getui.CallsPerSend) is bounded by its
	// declaration. A claimed delivery is sent only while at least its
	// provider's send timeout plus WriteTimeout of its lease remains;
	// otherwise the lease is renewed first, so that no other instance can
	// take the delivery over while the call is in flight. Default 1 minute,
	// Umeng's own HTTP timeout.
	SendTimeout time.Duration
	// PollInterval is the wait between status polls of a pollable receipt,
	// for providers that declare no Polling.Interval of their own
	// (provider.Capabilities.Polling). Default 1 minute.
	PollInterval time.Duration
	// Expiry is how long the vendor keeps trying a push, and how long it is
	// polled. Each provider gets at most its own maximum
	// (provider.Capabilities.MaxTimeToLive: Umeng 7 days, JPush 3, or 10
	// for a VIP app, Getui 3) from the moment of the send; the push's stored expire_at
	// stays what the caller asked. Default 72 hours; at least MinExpiry.
	Expiry time.Duration
	// SendConcurrency bounds the vendor calls one Push makes at once, and
	// those of one RetryPending or PollReceipts pass, which claims due
	// deliveries in rounds sized by it and the vendor's pace (see
	// RetryPending). A large push's fanout that a RetryPending pass
	// resumes (its Push was stopped halfway) goes on beside the pass's
	// retries with a bound of its own, as that Push had. Default 4.
	SendConcurrency int
	// WriteTimeout bounds the bookkeeping writes made after a vendor call,
	// and the claims of due work, which run even when the caller's ctx has
	// ended so that no outcome is lost. The commit of a push, once
	// started, runs on too, for WriteTimeout or until the caller's
	// deadline, whichever is later. Default 10 seconds.
	WriteTimeout time.Duration
	// ReceiptHold is how long RecordReport keeps a receipt that names no
	// delivery yet, when Store is a registry.ReceiptHolder: a vendor may
	// post a device's receipt before the outcome of the send it is about
	// is recorded (a slow write, or one that waits out a database outage).
	// AdoptReceipts (each Scanner pass) counts it once that outcome is
	// recorded, and drops it after ReceiptHold (a receipt of a push some
	// other system sent with the same app, or of a send whose answer was
	// lost). Default 1 hour.
	ReceiptHold time.Duration
	// MaxHeldReceipts caps the receipts RecordReport holds (see
	// ReceiptHold) on a store that is a registry.HeldReceiptCounter:
	// receipts come from whoever can reach the receipt endpoint, and
	// without a cap a flood of made-up msg ids would fill the store until
	// ReceiptHold expires them. At the cap a receipt that names no delivery
	// yet is not held: RecordReport answers it as naming no push we sent
	// (provider.ErrUnknownReport), and push.receipts.dropped counts it.
	// The count is read from the store after each AdoptReceipts and, while
	// receipts are held, at most once a second, and counted on in
	// between, so instances sharing a store may together exceed the cap
	// by what they hold within a second. Default 100,000; negative is
	// refused.
	MaxHeldReceipts int
	// MeterProvider receives the Service's metrics, under the scope
	// InstrumentationName: push.messages.recorded (by push.type),
	// push.deliveries (the outcome of every send, by push.provider,
	// push.platform, push.state — accepted, pending, failed or split — and
	// push.error_kind),
	// push.vendor.call.duration (seconds, by provider, platform,
	// push.operation and push.outcome), push.tokens.disabled,
	// push.deliveries.unrecorded (by provider, platform and push.reason:
	// see UnrecordedOutcomes), push.receipts.held (by provider: see
	// ReceiptHold), push.receipts.adopted, push.receipts.dropped,
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
//
// Make one with New. A Service that New did not make (a zero Service{}
// or a nil *Service) has no store and no provider: its methods that
// return an error return one matching ErrNotBuilt and do nothing else,
// PushMany gives every message that error, Store returns nil,
// DrainTimeout 0 and Now the time.Now reading.
type Service struct {
	closeOnce sync.Once // of Close
	store     registry.Store
	providers map[string]provider.Provider
	served    map[target]bool // (provider, platform) pairs a provider serves
	// caps holds each served pair's Capabilities, read once by New, and
	// timeouts each pair's send timeout (see Config.SendTimeout).
	caps       map[target]provider.Capabilities
	timeouts   map[target]time.Duration
	maxTimeout time.Duration // the longest of timeouts
	names      []string
	def        string
	log        *slog.Logger
	logGiven   bool // Config.Logger was set (see HandlerConfig.Logger)
	now        func() time.Time
	retry      RetryPolicy
	lease      time.Duration
	// chunk is targetChunk and stage fanoutStage, but for tests.
	chunk, stage int
	sendTimeout  time.Duration
	poll         time.Duration
	expiry       time.Duration
	conc         int
	writeTO      time.Duration
	receiptHold  time.Duration
	maxHeld      int64
	tel          telemetry
	// sendPace and pollPace time the vendor's send and status calls, to
	// size the claims of RetryPending and PollReceipts (claimRound).
	sendPace, pollPace callPace
	// unrecorded counts the deliveries sent whose outcome this Service
	// could not record (UnrecordedOutcomes).
	unrecorded atomic.Int64
	// adoptAfter is the id of the held receipt AdoptReceipts looked at
	// last (0: start from the first).
	adoptAfter atomic.Int64
	// held is how many receipts the store holds (see heldCount).
	held heldCount
}

// DefaultMaxHeldReceipts is Config.MaxHeldReceipts's default.
const DefaultMaxHeldReceipts = 100_000

// UnrecordedOutcomes returns how many deliveries this Service sent whose
// outcome it could not record: the database failed past the write's
// retries (see Config.WriteTimeout), or another instance had taken the
// delivery's claim (the lease ran out during a pause). Each such delivery
// is sent again once its lease runs out, so its devices may show the push
// twice (see the README's "Delivery semantics"). A host compares it before
// and after a drain to tell whether everything sent was recorded; the
// metric push.deliveries.unrecorded counts the same. A Service New did not
// make has none.
func (s *Service) UnrecordedOutcomes() int64 {
	if s == nil {
		return 0
	}
	return s.unrecorded.Load()
}

// New validates cfg and returns a Service.
func New(cfg Config) (*Service, error) {
	if isnil.Value(cfg.Store) {
		return nil, invalid("store", "is required")
	}
	if b, ok := cfg.Store.(registry.BuildChecker); ok {
		// A zero sqlstore.Store{} would pass until its first statement.
		if err := b.CheckBuilt(); err != nil {
			return nil, invalid("store", "%v", err)
		}
	}
	if len(cfg.Providers) == 0 {
		return nil, invalid("providers", "at least one provider is required")
	}
	s := &Service{
		store:       cfg.Store,
		providers:   make(map[string]provider.Provider, len(cfg.Providers)),
		served:      map[target]bool{},
		caps:        map[target]provider.Capabilities{},
		timeouts:    map[target]time.Duration{},
		log:         cfg.Logger,
		now:         cfg.Now,
		retry:       cfg.Retry,
		lease:       cfg.Lease,
		chunk:       targetChunk,
		stage:       fanoutStage,
		sendTimeout: cfg.SendTimeout,
		poll:        cfg.PollInterval,
		expiry:      cfg.Expiry,
		conc:        cfg.SendConcurrency,
		writeTO:     cfg.WriteTimeout,
		receiptHold: cfg.ReceiptHold,
		maxHeld:     int64(cfg.MaxHeldReceipts),
	}
	for i, p := range cfg.Providers {
		if isnil.Value(p) {
			return nil, invalid("providers", "provider %d is nil", i)
		}
		if b, ok := p.(provider.BuildChecker); ok {
			// Asked before Name and Capabilities, which a provider its
			// constructor did not make cannot be trusted to answer.
			if err := b.CheckBuilt(); err != nil {
				return nil, invalid("providers", "provider %d: %v", i, err)
			}
		}
		name := p.Name()
		if name == "" {
			return nil, invalid("providers", "provider %d has an empty name", i)
		}
		if err := registry.ValidateVarchar("providers", name); err != nil || name != strings.ToLower(strings.TrimSpace(name)) {
			// It is stored in sys_devices.push_platform and every delivery,
			// and a receipt names it: one spelling.
			return nil, invalid("providers", "provider %d's name %q must be lower-case, without surrounding spaces, of at most %d characters",
				i, registry.Clip(name, 64), registry.MaxVarchar)
		}
		if _, dup := s.providers[name]; dup {
			return nil, invalid("providers", "two providers are named %q", name)
		}
		served := false
		for _, pl := range provider.Platforms() {
			c := p.Capabilities(pl)
			if c.MaxTokens <= 0 {
				continue
			}
			if err := c.Validate(); err != nil {
				return nil, invalid("providers", "provider %q declares Capabilities(%s).%v", name, pl, err)
			}
			s.served[target{name, string(pl)}] = true
			s.caps[target{name, string(pl)}] = c
			served = true
		}
		if !served {
			return nil, invalid("providers", "provider %q serves no platform (MaxTokens <= 0 for %v)", name, provider.Platforms())
		}
		s.providers[name] = p
		s.names = append(s.names, name)
	}
	sort.Strings(s.names)
	s.def = s.providerName(cfg.DefaultProvider) // in any case, as a device's push_platform
	if s.def == "" {
		s.def = registry.DefaultPushPlatform
		if len(s.names) == 1 {
			s.def = s.names[0]
		}
	}
	if _, ok := s.providers[s.def]; !ok {
		if cfg.DefaultProvider == "" {
			return nil, invalid("default_provider", "unset, so %q, which is not among the providers %v: set DefaultProvider to one of them",
				s.def, s.names)
		}
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
		{"send_timeout", &s.sendTimeout, time.Minute},
		{"poll_interval", &s.poll, time.Minute},
		{"expiry", &s.expiry, 72 * time.Hour},
		{"write_timeout", &s.writeTO, 10 * time.Second},
		{"receipt_hold", &s.receiptHold, time.Hour},
	} {
		if *d.v < 0 {
			return nil, invalid(d.name, "must not be negative")
		}
		if err := subMillisecond(d.name, *d.v); err != nil && d.name != "expiry" { // expiry: MinExpiry below
			return nil, err
		}
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if s.expiry < MinExpiry {
		// Every push would be expired before its first send, or its
		// first retry: each would fail as expired, sent to nobody.
		return nil, invalid("expiry", "is %v, shorter than %v: every push would expire before it could be sent or retried", s.expiry, MinExpiry)
	}
	// The longest send timeout of a provider, and whether that provider
	// declares it (rather than taking it from send_timeout).
	longest, declared := "", false
	for g, c := range s.caps {
		to, own := c.SendTimeout, c.SendTimeout > 0
		if !own {
			to = time.Duration(c.Calls()) * s.sendTimeout
		}
		s.timeouts[g] = to
		if to > s.maxTimeout || to == s.maxTimeout && g.provider < longest {
			s.maxTimeout, longest, declared = to, g.provider, own
		}
	}
	if s.lease < 0 {
		return nil, invalid("lease", "must not be negative")
	}
	if s.lease == 0 {
		s.lease = max(2*time.Minute, s.maxTimeout+s.writeTO+time.Minute)
	}
	if s.maxTimeout+s.writeTO >= s.lease {
		if !declared {
			return nil, invalid("lease", "%v must be longer than provider %q's send timeout %v (from send_timeout) plus write_timeout %v",
				s.lease, longest, s.maxTimeout, s.writeTO)
		}
		return nil, invalid("lease", "%v must be longer than provider %q's declared send timeout %v plus write_timeout %v",
			s.lease, longest, s.maxTimeout, s.writeTO)
	}
	if s.conc < 0 {
		return nil, invalid("send_concurrency", "must not be negative")
	}
	if s.maxHeld < 0 {
		return nil, invalid("max_held_receipts", "must not be negative, got %d", s.maxHeld)
	}
	if s.maxHeld == 0 {
		s.maxHeld = DefaultMaxHeldReceipts
	}
	if s.conc == 0 {
		s.conc = 4
	}
	s.logGiven = s.log != nil
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.now == nil {
		s.now = time.Now
	}
	var err error
	if s.tel, err = newTelemetry(cfg.MeterProvider, cfg.TracerProvider, s.store, s.now, s.log); err != nil {
		return nil, err
	}
	if missing := registry.MissingOptional(s.store); len(missing) > 0 {
		// A decorator embedding registry.Store hides them silently.
		s.log.Info("the store lacks optional interfaces: the Service runs without what they bring (see package registry)",
			slog.Any("missing", missing))
	}
	return s, nil
}

// unbuilt reports whether New did not make s (see ErrNotBuilt): every
// Service New makes has a store.
func (s *Service) unbuilt() bool { return s == nil || s.store == nil }

// Store returns the Service's store; nil for a Service New did not make.
func (s *Service) Store() registry.Store {
	if s == nil {
		return nil
	}
	return s.store
}

// Now returns the Service's clock reading: Config.Now's, or time.Now's
// for a Service New did not make.
func (s *Service) Now() time.Time {
	if s.unbuilt() {
		return time.Now()
	}
	return s.now()
}

// DrainTimeout is how long the work started before a shutdown may go on
// after it: a Send in flight (the longest send timeout of the providers;
// see Config.SendTimeout) and the recording of its outcome
// (WriteTimeout). Neither is cut short by the caller's
// cancellation, so a host that waits this long (plus a margin for its own
// store round trips) after cancelling its requests and its Scanner loses
// no outcome. It is 0 for a Service New did not make, which starts no
// work.
func (s *Service) DrainTimeout() time.Duration {
	if s.unbuilt() {
		return 0
	}
	return s.maxTimeout + s.writeTO
}

// MinExpiry is the shortest Config.Expiry New accepts.
const MinExpiry = time.Minute

// Close ends what New registered outside the Service: the callback of the
// backlog gauges on Config.MeterProvider, which would otherwise go on
// counting the store's backlog at every collection for as long as the
// meter provider lives (a host that builds a new Service on a
// configuration reload, or tests sharing one meter provider), and the idle
// connections of the providers that keep some (a CloseIdleConnections
// method, as the Umeng, JPush and Getui clients have; a provider shared
// with another Service merely opens new ones). It closes neither the Store
// nor the providers, and it does not stop work in flight: stop the Scanner
// and drain first (see DrainTimeout). Calls after the first do nothing.
func (s *Service) Close() error {
	if s.unbuilt() {
		return notBuilt("Service.Close", "push.New")
	}
	var err error
	s.closeOnce.Do(func() {
		if s.tel.backlog != nil {
			err = s.tel.backlog.Unregister()
		}
		for _, p := range s.providers {
			if c, ok := p.(interface{ CloseIdleConnections() }); ok {
				c.CloseIdleConnections()
			}
		}
	})
	return err
}

// sendTimeoutOf is how long a Send of d may take: its provider's declared
// SendTimeout, or CallsPerSend times Config.SendTimeout.
func (s *Service) sendTimeoutOf(d *registry.Delivery) time.Duration {
	if to, ok := s.timeouts[target{d.Provider, d.Platform}]; ok {
		return to
	}
	return s.sendTimeout
}

// capsOf returns the Capabilities New read for d's provider and platform;
// the zero Capabilities when no configured provider serves them.
func (s *Service) capsOf(d *registry.Delivery) provider.Capabilities {
	return s.caps[target{d.Provider, d.Platform}]
}

// Provider returns the provider named name, read in any case and
// without surrounding spaces as a device's push_platform is ("" is the
// default provider), or ErrUnknownProvider.
func (s *Service) Provider(name string) (provider.Provider, error) {
	if s.unbuilt() {
		return nil, notBuilt("Service.Provider", "push.New")
	}
	if name = strings.ToLower(strings.TrimSpace(name)); name == "" {
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

// platformsOf lists the platforms provider name serves.
func (s *Service) platformsOf(name string) []provider.Platform {
	var out []provider.Platform
	for _, pl := range provider.Platforms() {
		if s.serves(name, pl) {
			out = append(out, pl)
		}
	}
	return out
}

// detached runs write, a store write whose answer must not be lost,
// unless ctx has ended already (then it returns ctx's error). Once
// started, the write runs to its end under WriteTimeout even when ctx ends
// meanwhile: a claim of due work that committed and then lost its answer
// to the caller's cancel would leave its rows held by nobody until their
// lease ran out (the caller gives back what it claimed and did not
// start); a receipt without a device token counted so would be posted
// again and counted twice.
func detached[T any](ctx context.Context, s *Service, write func(context.Context) (T, error)) (T, error) {
	if err := ctx.Err(); err != nil {
		var zero T
		return zero, err
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	return write(wctx)
}

// commitCtx is writeCtx for the commit of a push, which may be large: it
// lasts WriteTimeout, or until ctx's deadline when that comes later.
func (s *Service) commitCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	to := s.writeTO
	if dl, ok := ctx.Deadline(); ok {
		to = max(to, time.Until(dl))
	}
	return context.WithTimeout(context.WithoutCancel(ctx), to)
}

// writeCtx returns a context for bookkeeping after a vendor call: it keeps
// ctx's values but not its cancellation, so an outcome is recorded even when
// the caller has gone away.
func (s *Service) writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), s.writeTO)
}
