package messagecenter

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/trace"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/isnil"
	"github.com/tuisong/push/internal/leaseslot"
	"github.com/tuisong/push/internal/storeretry"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// ModePush is the notify_mode the Scanner delivers through push.Service.
const ModePush = "push"

// SendResultPrefix starts send_result of a delivered push row; the product brief's
// ops query joins on it: replace(send_result, 'push_message#', ”).
const SendResultPrefix = "push_message#"

// Config configures a Scanner. Service is required; every other field has
// the documented default, and New rejects invalid values naming the field.
type Config struct {
	// Service sends the "push" rows and owns the delivery retries and status
	// polls. Required.
	Service *push.Service
	// Store holds sys_message_center. Default: Service.Store(). New
	// refuses a store whose CheckBuilt fails (registry.BuildChecker),
	// such as a zero sqlstore.Store{}.
	Store registry.Store
	// Notifiers deliver the other notify modes, keyed by notify_mode
	// ("sms", "email", …). Modes are matched without case and surrounding
	// spaces, in keys and in rows alike ("SMS " is "sms"), so two keys that
	// differ only so are refused. A row whose mode has no notifier fails
	// with the reason in remark, unless LeaveModes names its mode. The
	// key "push" is reserved.
	Notifiers map[string]Notifier
	// LeaveModes names the notify modes another program delivers from the
	// same sys_message_center (its sms or email sender): their rows are
	// not claimed, and keep the state that program gives them. A mode is
	// printable ASCII, one an entry (a comma or semicolon is refused),
	// matched without case and surrounding spaces; a mode may not be both
	// a notifier's and left, and "push" is the Scanner's own. (A row whose
	// mode has other white space around it, a tab, is claimed, given back
	// untried and put off an Interval.) A left row stays in the claim's
	// scan while it is unsent: each claim reads past them, so the other
	// program must keep up with them; the Service's push.center.backlog
	// gauge counts them too while they are due. On MySQL and MariaDB a
	// claim's transaction (milliseconds) locks the left rows it reads
	// past, as it locks the rows not yet due: for that moment the other
	// program's SKIP LOCKED reads skip them, and its writes of them wait.
	// Default: none, and a row of a mode without a notifier fails, its
	// remark saying so.
	LeaveModes []string
	// Interval between passes of Run. Default 1 minute, as in the product
	// brief; at least MinInterval.
	Interval time.Duration
	// BatchSize is the most rows one claim takes. Until the Scanner has
	// timed a batch, a claim takes twice Concurrency rows (at least 16);
	// then as many rows as its passes handle in a second at the pace of
	// its recent batches, up to BatchSize. So with a fast vendor the
	// claims are whole batches, and with a slow one an instance holds only
	// the rows it is about to handle, leaving the rest to the other
	// instances. The push rows of a batch are pushed together (see
	// Concurrency), sharing the store's queries and transactions. So a
	// larger BatchSize makes fewer store round trips per row, and drains
	// a backlog faster when the vendor answers quickly, at the cost of
	// more rows (and memory) held by one instance at once and of longer
	// batches, which Lease must cover; a smaller one spreads a backlog
	// more evenly over instances. How the drain rate varies with it on
	// each database is measured in the repository's bench/RESULTS.md;
	// run the bench on your own hardware to choose. Keep Lease longer
	// than two batches take: a pass claims the next batch while it
	// handles one. Default 500.
	BatchSize int
	// Concurrency is how many rows are handled at once: notifier calls for
	// the rows of other modes; for the push rows, which are recorded
	// together (push.Service.PushMany), the vendor calls in flight. The
	// bound holds across the two batches a pass handles at once (the next
	// one is claimed and recorded while the vendor calls of the one before
	// are made). Rows are claimed in notify_level order, but may finish in
	// any order. A Notifier call given up on (see NotifyTimeout) frees its
	// place while it runs on, so calls that hang add up beyond the bound.
	// Default 8; 1 handles them one by one.
	Concurrency int
	// Lease is how long a claimed row stays reserved for this instance. A
	// row whose lease runs out (its instance died) is claimed by another.
	// It must cover the processing of two batches (a pass claims the next
	// while it handles one), and be longer than the Service's
	// DrainTimeout (its longest vendor call and the write of its outcome),
	// and at most registry.MaxCenterLease (a day): a lease running further
	// ahead is taken for one another program wrote, and the row claimed.
	// Default 5 minutes, or twice the Service's DrainTimeout when that is
	// longer (up to MaxCenterLease).
	Lease time.Duration
	// NotifyTimeout bounds each Notifier call. The call runs on its own
	// clock, detached from the cancellation of Run's or RunOnce's ctx: a
	// message that may already be on its way is finished and recorded, not
	// abandoned and sent again. It must be shorter than Lease. A row whose
	// claim has no more than NotifyTimeout left when its turn comes, plus
	// room to record the outcome (10 s, or half of what Lease leaves
	// beyond NotifyTimeout when that is less), because it waited behind
	// slow calls, is given back untried (OutcomeReleased), so that no
	// other instance claims it while its call runs. The write of the
	// call's outcome is tried again on a transient error while more than
	// 10 s of the lease are left: a Lease less than NotifyTimeout plus
	// 20 s leaves a call that runs its full time no retry, which New
	// logs as a warning when there are Notifiers. A Notifier that ignores
	// its ctx and runs on past NotifyTimeout is waited for up to one more
	// Lease, its row's lease renewed meanwhile so that no other instance
	// calls it again (on a store with registry.CenterLeases, as sqlstore
	// and memstore are); the overrun is logged. One still running then is
	// given up on (OutcomeLost, ErrGivenUp): its row is left to run out
	// its lease, and is tried again, the notifier called again, up to
	// MaxAttempts; a last attempt given up on fails the row. Default 1
	// minute, or half the Lease when that is shorter.
	NotifyTimeout time.Duration
	// MaxAttempts is how many tries a center row gets before it fails for
	// good. Default: Retry.MaxAttempts.
	MaxAttempts int
	// Retry is the backoff between tries of a row (exponential with jitter).
	// Zero fields take push.RetryPolicy's defaults. Deliveries use the
	// Service's own policy.
	Retry push.RetryPolicy
	// DefaultTitle is the push title for rows whose title is empty.
	// Default "": such push rows fail, their remark "permanent failure:
	// push: title: is required". New
	// refuses one no push can carry: blank, not UTF-8, holding NUL or
	// longer than the title column's 255 characters.
	DefaultTitle string
	// Logger receives structured logs: the lines of each row handled
	// (info when sent, warn otherwise, with its remark; a row given back;
	// a retried write of its outcome), and the Scanner's own: a pass that
	// failed (error: Run goes on, and says so only here), a Notifier that
	// panicked or overran or was given up on, an outcome that could not be
	// recorded (the row is handled again when its lease runs out), a
	// setting New advises against. Default: the Scanner's own lines, at
	// warn level and above, to slog.Default(), so that none is thrown
	// away, and the rows' lines to no one, so that no outage floods a
	// host's log with a line a row (OnResult and the metrics count the
	// rows); a logger whose handler discards silences both.
	Logger *slog.Logger
	// Now is the clock that decides what is due. Default: Service.Now.
	Now func() time.Time
	// OnResult, when set, is called after every row is handled, for metrics.
	// It must be quick and safe for concurrent use. A panic in it is
	// logged and goes no further (the row is recorded already).
	OnResult func(Result)
	// MeterProvider receives the Scanner's metrics, under the scope
	// InstrumentationName: push.center.rows (by push.notify_mode and
	// push.outcome) and push.claim.duration (push.claim.kind "center").
	// The Service records the deliveries' own. Default:
	// otel.GetMeterProvider(), a no-op until the host installs one.
	MeterProvider metric.MeterProvider
	// TracerProvider receives the Scanner's spans: one per claim of rows
	// ("push.claim"), with a child per row ("messagecenter.row") whose
	// child is the row's Push. Default: otel.GetTracerProvider(), a no-op
	// until the host installs one.
	TracerProvider trace.TracerProvider
}

// Outcome is what became of a center row in one pass.
type Outcome string

// Outcomes.
const (
	OutcomeSent        Outcome = "sent"        // send_state 1
	OutcomeFailed      Outcome = "failed"      // send_state 2, reason in remark
	OutcomeRescheduled Outcome = "rescheduled" // tried again after a backoff
	OutcomeReleased    Outcome = "released"    // not tried: the Scanner was stopping, or the claim had too little lease left
	OutcomeLost        Outcome = "lost"        // not written: the lease ran out and another instance owns the row, another program finished the row meanwhile (what it wrote stays), or its notifier ran a Lease past NotifyTimeout and was given up on (the row left to its lease)
)

// Result describes one handled center row.
type Result struct {
	ID            int64
	Mode          string
	Outcome       Outcome
	Attempts      int
	PushMessageID int64     // for push rows that were recorded
	NextAttemptAt time.Time // for rescheduled rows
	Err           error
}

// Report is what one pass did.
type Report struct {
	Claimed     int // center rows claimed
	Sent        int
	Failed      int
	Rescheduled int
	Released    int
	Lost        int
	Retried     int // pending deliveries re-sent
	Polled      int // receipts polled
	Adopted     int // held vendor receipts counted (push.Service.AdoptReceipts)
}

// batchesInFlight is how many claimed batches a pass handles at once: the
// next batch is claimed, and its pushes recorded, while the vendor calls
// of the one before are in flight. Their push rows share one bound of
// Concurrency vendor calls (Scanner.calls).
const batchesInFlight = 2

// roundHold is how long the rows of one claim should keep a pass busy at
// its recent pace (see rowPace): with a slow vendor, a claim of a whole
// BatchSize would hold rows that this instance reaches only minutes
// later, while other instances find nothing to claim.
const roundHold = time.Second

// rowPace estimates how long a pass takes a row, from the batches it
// handled: an exponentially weighted mean (each batch weighs 1/4) of a
// batch's duration divided by its rows. Batches share the Concurrency
// slots, so it is the time a row adds to a pass, not a row's own. The
// zero value knows no batch yet.
type rowPace struct {
	perRow atomic.Int64 // nanoseconds; 0 until a batch was timed
}

// observe adds a batch of rows that took d.
func (p *rowPace) observe(rows int, d time.Duration) {
	if rows <= 0 {
		return
	}
	n := int64(d) / int64(rows)
	for {
		old := p.perRow.Load()
		v := n
		if old != 0 {
			v = old + (n-old)/4
		}
		if p.perRow.CompareAndSwap(old, max(v, 1)) {
			return
		}
	}
}

// minRound is the fewest rows a claim takes (when the batch allows): with
// a Concurrency of 1 or 2, rounds of twice that would make a pass's two
// batches in flight take turns row by row, and share less of the store's
// work.
const minRound = 16

// round returns how many rows the next claim takes: as many as the pass
// handles within roundHold at its pace, at least 2·conc and minRound (also
// before any batch was timed: a slow vendor must not find a whole batch
// held by one instance), at most batch.
func (p *rowPace) round(conc, batch int) int {
	r := max(2*conc, minRound)
	if m := p.perRow.Load(); m > 0 {
		r = max(r, int(min(int64(roundHold)/m, int64(batch))))
	}
	return min(r, batch)
}

// Scanner delivers the rows of sys_message_center. Any number of Scanners,
// in any number of processes, may run against one database: rows are
// claimed with a lease, so each is handled by one Scanner at a time.
//
// Make one with New. A Scanner New did not make (a zero Scanner{} or a
// nil *Scanner) claims and sends nothing: Run and RunOnce return an error
// matching ErrNotBuilt at once.
type Scanner struct {
	svc       *push.Service
	store     registry.Store
	notifiers map[string]Notifier
	leave     []string // LeaveModes, normalized: registry.ClaimParams.SkipModes
	interval  time.Duration
	batch     int
	conc      int
	calls     *push.CallLimit // the push rows' vendor calls in flight: conc
	notifying chan struct{}   // the notifier calls in flight: conc
	lease     time.Duration
	notifyTO  time.Duration
	maxTries  int
	retry     push.RetryPolicy
	title     string
	log       *slog.Logger
	rows      *slog.Logger // the lines of each row handled: Config.Logger, or none
	now       func() time.Time
	onResult  func(Result)
	tel       telemetry
	pace      rowPace // of the center rows' batches: sizes the claims
}

// New validates cfg and returns a Scanner.
func New(cfg Config) (*Scanner, error) {
	if cfg.Service == nil {
		return nil, fieldErr("service", "is required")
	}
	if _, err := cfg.Service.Provider(""); errors.Is(err, push.ErrNotBuilt) {
		return nil, fieldErr("service", "is a zero push.Service; make it with push.New")
	}
	if cfg.Store != nil && isnil.Value(cfg.Store) {
		return nil, fieldErr("store", "is a nil %T", cfg.Store)
	}
	if b, ok := cfg.Store.(registry.BuildChecker); ok {
		if err := b.CheckBuilt(); err != nil {
			return nil, fieldErr("store", "%v", err)
		}
	}
	s := &Scanner{
		svc: cfg.Service, store: cfg.Store, notifiers: map[string]Notifier{},
		interval: cfg.Interval, batch: cfg.BatchSize, conc: cfg.Concurrency, lease: cfg.Lease, notifyTO: cfg.NotifyTimeout, maxTries: cfg.MaxAttempts,
		retry: cfg.Retry, title: cfg.DefaultTitle, log: cfg.Logger, now: cfg.Now, onResult: cfg.OnResult,
	}
	if s.store == nil {
		s.store = cfg.Service.Store()
	}
	for key, n := range cfg.Notifiers {
		mode := normMode(key)
		switch {
		case mode == "":
			return nil, fieldErr("notifiers", "a notifier has an empty mode")
		case mode == ModePush:
			return nil, fieldErr("notifiers", "mode %q is delivered by the Service", key)
		case strings.ContainsAny(mode, listSeparators):
			return nil, fieldErr("notifiers", "mode %q holds a list separator: a row's notify_mode is matched whole, so give each mode its own key", key)
		case isnil.Value(n):
			return nil, fieldErr("notifiers", "notifier %q is nil", key)
		case s.notifiers[mode] != nil:
			return nil, fieldErr("notifiers", "two notifiers for mode %q (modes are matched without case and surrounding spaces)", mode)
		}
		s.notifiers[mode] = n
	}
	for _, key := range cfg.LeaveModes {
		mode := normMode(key)
		switch {
		case strings.IndexFunc(strings.TrimSpace(key), func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
			// Checked before lower-casing, which turns the Kelvin sign
			// into an ASCII k.
			return nil, fieldErr("leave_modes", "mode %q is not printable ASCII", key)
		case mode == "":
			return nil, fieldErr("leave_modes", "a mode is empty")
		case strings.ContainsAny(mode, listSeparators):
			return nil, fieldErr("leave_modes", "mode %q holds a list separator: a row's notify_mode is matched whole, so give each mode its own entry", key)
		case mode == ModePush:
			return nil, fieldErr("leave_modes", "mode %q is delivered by the Service", key)
		case s.notifiers[mode] != nil:
			return nil, fieldErr("leave_modes", "mode %q has a notifier (Notifiers): it cannot be left to another program too", mode)
		case slices.Contains(s.leave, mode):
			continue
		}
		if err := registry.ValidateSkipModes([]string{mode}); err != nil {
			var ve *registry.ValidationError
			if errors.As(err, &ve) {
				return nil, fieldErr("leave_modes", "%s", ve.Reason)
			}
			return nil, err
		}
		s.leave = append(s.leave, mode)
	}
	if t := s.title; t != "" {
		if strings.TrimSpace(t) == "" {
			return nil, fieldErr("default_title", "is blank; leave it empty for none")
		}
		// What the title column takes.
		var ve *registry.ValidationError
		if errors.As(registry.ValidateVarchar("default_title", t), &ve) {
			return nil, fieldErr(ve.Field, "%s", ve.Reason)
		}
	}
	switch {
	case s.interval < 0:
		return nil, fieldErr("interval", "must not be negative")
	case s.interval > 0 && s.interval < MinInterval:
		// Interval: 30 is thirty nanoseconds, and Run would pass without pause.
		return nil, fieldErr("interval", "is %v, shorter than %v (a time.Duration counts nanoseconds: a minute is time.Minute)", s.interval, MinInterval)
	case s.batch < 0:
		return nil, fieldErr("batch_size", "must not be negative")
	case s.conc < 0:
		return nil, fieldErr("concurrency", "must not be negative")
	case s.lease < 0:
		return nil, fieldErr("lease", "must not be negative")
	case s.lease > registry.MaxCenterLease:
		return nil, fieldErr("lease", "%v is longer than %v (registry.MaxCenterLease): a lease running further ahead is taken for one another program wrote", s.lease, registry.MaxCenterLease)
	case s.notifyTO < 0:
		return nil, fieldErr("notify_timeout", "must not be negative")
	case s.maxTries < 0:
		return nil, fieldErr("max_attempts", "must not be negative")
	}
	if err := s.retry.Validate(); err != nil {
		// Said as this Config's field: the host set Config.Retry, not
		// push.Config's.
		var fe *push.FieldError
		if errors.As(err, &fe) {
			return nil, fieldErr(fe.Field, "%s", fe.Reason)
		}
		return nil, err
	}
	if s.interval == 0 {
		s.interval = time.Minute
	}
	if s.batch == 0 {
		s.batch = 500
	}
	if s.conc == 0 {
		s.conc = 8
	}
	s.calls, s.notifying = push.NewCallLimit(s.conc), make(chan struct{}, s.conc)
	if s.lease == 0 {
		// Twice the Service's DrainTimeout when that is longer (a
		// provider's long timeout), so that a default never refuses
		// itself below.
		s.lease = min(max(5*time.Minute, 2*cfg.Service.DrainTimeout()), registry.MaxCenterLease)
	}
	if s.notifyTO == 0 {
		s.notifyTO = min(time.Minute, s.lease/2)
	}
	if s.notifyTO >= s.lease {
		return nil, fieldErr("notify_timeout", "%v must be shorter than lease %v", s.notifyTO, s.lease)
	}
	if d := cfg.Service.DrainTimeout(); s.lease <= d {
		// A push row's vendor calls run to their answer (push.Service's
		// send timeouts) and then record it: a shorter lease lets another
		// instance claim the row while its push is under way.
		return nil, fieldErr("lease", "%v must be longer than a push's vendor call and the write of its outcome (%v: push.Service.DrainTimeout)", s.lease, d)
	}
	if s.maxTries == 0 {
		s.maxTries = s.retry.MaxAttempts
	}
	if s.maxTries == 0 {
		s.maxTries = push.RetryPolicy{}.Defaults().MaxAttempts
	}
	s.rows = s.log
	if s.log == nil {
		s.log, s.rows = slog.New(warnDefault{}), slog.New(slog.DiscardHandler)
	}
	if len(s.notifiers) > 0 && s.lease < s.notifyTO+2*finishTimeout {
		// Allowed (a test's short lease), but said: see NotifyTimeout.
		s.log.Warn("messagecenter: Lease is shorter than NotifyTimeout plus 20 s: a notifier call that runs its full time leaves its outcome's write no retry, and a write a database blip refuses sends the row again once the lease runs out",
			slog.Duration("lease", s.lease), slog.Duration("notify_timeout", s.notifyTO))
	}
	if s.now == nil {
		s.now = cfg.Service.Now
	}
	modes := map[string]bool{ModePush: true}
	for mode := range s.notifiers {
		modes[mode] = true
	}
	var err error
	if s.tel, err = newTelemetry(cfg.MeterProvider, cfg.TracerProvider, modes); err != nil {
		return nil, err
	}
	return s, nil
}

// Run makes a pass at once and then every Interval until ctx ends. A pass
// that fails (the database unreachable, its tables not migrated) is
// logged at error level to Config.Logger and tried again at the next
// Interval; Run does not return for it. When
// ctx ends it drains: it claims nothing more (a claim under way finishes,
// so that what it took is not held for a whole Lease), gives back the rows
// and deliveries it claimed but has not started, lets the vendor and notifier
// calls in flight finish on their own clocks (at most the Service's
// SendTimeout, or NotifyTimeout, unless a Notifier ignores its ctx: that
// one is waited for about one more Lease, and a renewal of its row's
// lease under way then) and records their outcomes (each write on its
// own clock: the Service's WriteTimeout for a push row's, 10 s a try for
// a notifier row's). Then it returns nil, with no goroutine of its own
// left behind, but, for each Notifier given up on, its call and one that
// waits for it to log its end, which run on until the call returns. (An outcome whose write the database had not
// answered by then may still be written by the Store's own writer, on
// the Store's clock: see sqlstore.) On a Scanner New did not make it returns an error matching
// ErrNotBuilt at once.
//
// A Scanner is safe for concurrent use: Run or RunOnce called again while
// one runs makes passes of its own beside it, each claiming its own rows
// as another instance's Scanner would (nothing is sent twice), but with
// twice the vendor calls and claims at a time. One Run per Scanner, and
// one Scanner per process, is what the bounds in Config assume.
func (s *Scanner) Run(ctx context.Context) error {
	if s.unbuilt() {
		return notBuilt("Scanner.Run")
	}
	t := time.NewTicker(s.interval)
	defer t.Stop()
	for {
		if _, err := s.RunOnce(ctx); err != nil && ctx.Err() == nil {
			s.log.LogAttrs(ctx, slog.LevelError, "message center pass failed", slog.String("error", err.Error()))
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// RunOnce makes one pass: it delivers the due center rows (claiming
// batches until none is left), re-sends pending deliveries, polls due
// receipts, and counts the vendor receipts held until their delivery was
// recorded. Each of the four phases does at least one round (a claim of
// rows, a RetryPending, PollReceipts or AdoptReceipts call), then stops taking new work
// once it has run for Interval (by the real clock), so that a backlog of
// one holds back the others for about that long (plus the round under
// way): the rest is the next pass's, which Run starts at once after a pass
// that outran its interval.
// It returns what it did and the first store error, if any.
// ctx's end is a stop, not an error: the pass claims nothing more, the
// rows it holds finish, and it returns what it did with a nil error (a
// ctx that has ended before the pass starts: an empty Report); check
// ctx.Err() to tell a stopped pass from a complete one. A store call
// under way when ctx ends (a claim, the write of a row's outcome) is not
// cut short: it runs on its own clock, the Service's WriteTimeout, since
// a claim that committed and lost its answer would leave its rows held by
// nobody until their lease ran out. So RunOnce may return up to that long
// after ctx's end (and after the vendor and notifier calls in flight, as
// Run says), and with that call's error when the database did not answer
// within it. On a Scanner New
// did not make it returns an error matching ErrNotBuilt and does nothing.
func (s *Scanner) RunOnce(ctx context.Context) (Report, error) {
	if s.unbuilt() {
		return Report{}, notBuilt("Scanner.RunOnce")
	}
	var rep Report
	var firstErr error
	keep := func(err error) {
		if err != nil && firstErr == nil {
			firstErr = err
		}
	}
	var mu sync.Mutex // guards rep while batches are handled
	var wg sync.WaitGroup
	inFlight := make(chan struct{}, batchesInFlight)
	// Each phase does at least one round of work, then goes on while it
	// has run for less than Interval (the real clock, as Run's ticker).
	phase := time.Now()
	within := func(first bool) bool { return first || time.Since(phase) < s.interval }
	for first := true; ctx.Err() == nil && within(first); first = false {
		select {
		case inFlight <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			// Stopped while the batches in flight were handled: nothing
			// more is claimed, and that is no error.
			break
		}
		if !within(first) {
			// The wait for a slot ran past Interval.
			<-inFlight
			break
		}
		size := s.pace.round(s.conc, s.batch)
		mu.Lock()
		rows, handle, err := s.claimBatch(ctx, &rep, size)
		mu.Unlock()
		if err != nil {
			<-inFlight
			keep(fmt.Errorf("messagecenter: claim: %w", err))
			break
		}
		wg.Add(1)
		go func() {
			defer func() { <-inFlight; wg.Done() }()
			var got Report
			start := time.Now() // the real clock: cfg.Now may be a test's
			handle(&got)
			if ctx.Err() == nil {
				s.pace.observe(len(rows), time.Since(start))
			}
			mu.Lock()
			rep.merge(got)
			mu.Unlock()
		}()
		if len(rows) < size {
			break
		}
	}
	wg.Wait()
	phase = time.Now()
	for first := true; ctx.Err() == nil && within(first); first = false {
		n, err := s.svc.RetryPending(ctx, s.batch)
		keep(err)
		rep.Retried += n
		if err != nil || n < s.batch {
			break
		}
	}
	phase = time.Now()
	for first := true; ctx.Err() == nil && within(first); first = false {
		n, err := s.svc.PollReceipts(ctx, s.batch)
		keep(err)
		rep.Polled += n
		if err != nil || n < s.batch {
			break
		}
	}
	phase = time.Now()
	for first := true; ctx.Err() == nil && within(first); first = false {
		n, err := s.svc.AdoptReceipts(ctx, s.batch)
		keep(err)
		rep.Adopted += n
		if err != nil || n < s.batch {
			break
		}
	}
	return rep, firstErr
}

// handleAll handles the claimed rows and counts their outcomes in rep. It
// returns when every row is handled. The push rows go to the Service
// together (see pushAll); the others are handled Concurrency at a time.
func (s *Scanner) handleAll(ctx context.Context, rows []registry.CenterMessage, rep *Report) {
	var mu sync.Mutex
	var wg sync.WaitGroup
	done := func(r Result) {
		if s.onResult != nil {
			s.report(ctx, r)
		}
		mu.Lock()
		rep.add(r.Outcome)
		mu.Unlock()
	}
	sem := s.notifying
	var pushes []*registry.CenterMessage
	for i := range rows {
		if normMode(rows[i].NotifyMode) == ModePush {
			pushes = append(pushes, &rows[i])
			continue
		}
		m := &rows[i]
		if !s.waitTurn(sem, m) {
			// Its lease ran too low waiting for a place (slow or hung
			// notifiers hold them all): given back untried, its attempt
			// refunded, rather than left to run out its lease, which
			// would spend the attempt of a row never tried.
			wg.Go(func() {
				rctx, span := s.tel.startRow(ctx, m)
				r := s.release(rctx, m)
				s.tel.endRow(rctx, span, m, r)
				done(r)
			})
			continue
		}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			done(s.handleTraced(ctx, m))
		}()
	}
	s.pushAll(ctx, pushes, done)
	wg.Wait()
}

// waitTurn takes a place in sem for notifier row m, and reports whether it
// did before m's lease ran down to what a call needs (NotifyTimeout and
// finishMargin, as handle requires): false when it did not.
func (s *Scanner) waitTurn(sem chan struct{}, m *registry.CenterMessage) bool {
	return leaseslot.Take(sem, m.LeaseUntil, s.now, s.notifyTO+s.finishMargin())
}

// pushAll delivers the push rows of a batch through one
// push.Service.PushMany, which shares the store's queries and
// transactions among them, then records each row's outcome; done is
// called with each row's Result.
func (s *Scanner) pushAll(ctx context.Context, rows []*registry.CenterMessage, done func(Result)) {
	type row struct {
		m    *registry.CenterMessage
		ctx  context.Context
		span trace.Span
	}
	var wg sync.WaitGroup
	var sent []row
	var reqs []push.PushRequest
	var notes []string // of each row sent, the receivers left out (see message)
	conclude := func(r row, res Result, result, note string, err error, interrupted bool) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			res := s.conclude(r.ctx, r.m, res, result, note, err, interrupted, false)
			s.tel.endRow(r.ctx, r.span, r.m, res)
			done(res)
		}()
	}
	for _, m := range rows {
		rctx, span := s.tel.startRow(ctx, m)
		r := row{m, rctx, span}
		if ctx.Err() != nil {
			// Stopping: settle gives the row back (or finds it lost).
			// The rows not started are given back together, not one
			// write after another: a database that hangs would hold the
			// stop a write's timeout a row.
			wg.Go(func() {
				res, _ := s.settle(rctx, m)
				s.tel.endRow(rctx, span, m, res)
				done(res)
			})
			continue
		}
		if res, settled := s.settle(rctx, m); settled {
			s.tel.endRow(rctx, span, m, res)
			done(res)
			continue
		}
		msg, skipped, err := s.message(m)
		if err != nil {
			conclude(r, Result{ID: m.ID, Mode: m.NotifyMode}, "", "", err, false)
			continue
		}
		sent = append(sent, r)
		notes = append(notes, skipped)
		reqs = append(reqs, push.PushRequest{Ctx: rctx, Message: msg})
	}
	outs := s.svc.PushMany(ctx, reqs, &push.PushManyOptions{Calls: s.calls})
	for i, r := range sent {
		res := Result{ID: r.m.ID, Mode: r.m.NotifyMode}
		var result string
		var err error
		result, res.PushMessageID, err = pushResult(outs[i].Result, outs[i].Err)
		note := unreachedNote(outs[i].Result)
		if pr := outs[i].Result; err == nil && pr != nil && pr.Duplicate && note == "" {
			note = repeatedNote(pr.PushMessageID)
		}
		if errors.Is(err, push.ErrNoDevices) {
			note = noneReachedNote(reqs[i].Message.UserNums)
		}
		if notes[i] != "" {
			note = strings.TrimPrefix(note+"; "+notes[i], "; ")
		}
		// A push refused for good (its title, its users) is refused
		// whether or not the pass is stopping: only one the stop kept
		// from being made is given back.
		conclude(r, res, result, note, err, err != nil && ctx.Err() != nil && res.PushMessageID == 0 && classify(err) != failNow)
	}
	wg.Wait()
}

// merge adds the outcomes counted in o to r.
func (r *Report) merge(o Report) {
	r.Sent += o.Sent
	r.Failed += o.Failed
	r.Rescheduled += o.Rescheduled
	r.Released += o.Released
	r.Lost += o.Lost
}

func (r *Report) add(o Outcome) {
	switch o {
	case OutcomeSent:
		r.Sent++
	case OutcomeFailed:
		r.Failed++
	case OutcomeRescheduled:
		r.Rescheduled++
	case OutcomeReleased:
		r.Released++
	case OutcomeLost:
		r.Lost++
	}
}

// normMode is the mode a notify_mode value names: without surrounding
// white space and in lower case, so that a row another program wrote as
// "PUSH" or "Sms " reaches its notifier (see the package doc for how this
// differs from MySQL's collations).
func normMode(m string) string { return strings.ToLower(strings.TrimSpace(m)) }

// handle delivers one claimed row of a notifier's mode (push rows go to
// pushAll) and records the outcome under its claim. A notifier call is
// never interrupted: it runs to its end.
func (s *Scanner) handle(ctx context.Context, m *registry.CenterMessage) Result {
	if res, settled := s.settle(ctx, m); settled {
		return res
	}
	var result string
	var err error
	called := false
	n, ok := s.notifiers[normMode(m.NotifyMode)]
	receivers := SplitReceivers(m.Receivers)
	switch {
	case !ok && slices.Contains(s.leave, normMode(m.NotifyMode)):
		// Another program's row that the claim did not skip (white space
		// other than spaces around its mode, or a Store that does not
		// honour ClaimParams.SkipModes): given back untried, and put off
		// an Interval so that this pass does not claim it again.
		next := s.now().Add(s.interval)
		m.NextAttemptAt = &next
		return s.release(ctx, m)
	case !ok:
		err = Permanent(fmt.Errorf("no notifier for notify_mode %q", m.NotifyMode))
	case len(receivers) == 0:
		err = Permanent(errors.New("receivers lists nobody"))
	case m.LeaseUntil != nil && m.LeaseUntil.Sub(s.now()) <= s.notifyTO+s.finishMargin():
		// The row waited for its turn until the call (and the write of
		// its outcome) could outlast its claim, and another instance
		// would then claim it and send it again: give it back untried,
		// to be claimed afresh at once.
		return s.release(ctx, m)
	default:
		called = true
		result, err = s.notify(ctx, n, m, receivers)
		if errors.Is(err, ErrGivenUp) {
			if m.Attempts < s.maxTries || errors.Is(err, registry.ErrClaimLost) {
				// Left to run out its lease, for a later try (or to whoever
				// holds its claim now).
				return Result{ID: m.ID, Mode: m.NotifyMode, Outcome: OutcomeLost, Attempts: m.Attempts, Err: err}
			}
			// Its last try: failed for good, so that a notifier that
			// hangs every time is not called again and again.
			err = Permanent(fmt.Errorf("gave up after %d attempts: %w", m.Attempts, err))
		}
	}
	return s.conclude(ctx, m, Result{ID: m.ID, Mode: m.NotifyMode}, result, "", err, false, called)
}

// settle handles a claimed row that is not to be tried: its lease ran
// out, it is unreadable, or the Scanner is stopping. It reports whether
// it did.
func (s *Scanner) settle(ctx context.Context, m *registry.CenterMessage) (Result, bool) {
	res := Result{ID: m.ID, Mode: m.NotifyMode}
	switch {
	case m.LeaseUntil != nil && !s.now().Before(*m.LeaseUntil):
		// The batch took longer than the lease: another instance may have
		// claimed this row already, so leave it alone.
		res.Outcome = OutcomeLost
		return res, true
	case m.Unreadable != "":
		// A value another program wrote that the store cannot read: this
		// row fails alone, with the reason, and the batch goes on.
		m.SendState, m.Remark = registry.SendStateFailed, "unreadable row: "+m.Unreadable
		res.Outcome = OutcomeFailed
		return s.finish(ctx, m, res, false), true
	case ctx.Err() != nil:
		// Stopping: give the row back untried, without spending an attempt.
		return s.release(ctx, m), true
	case m.SendAt != nil && m.SendAt.Sub(s.now()) > earlyClaim:
		// Claimed before its send_at as read here: a value the database
		// could not compare as a time (SQLite text such as "2026-12-06
		// 7:30:00"), which the store claims at once.
		// Given back untried, not to be claimed again before then.
		s.rows.LogAttrs(ctx, slog.LevelDebug, "center row given back until its send_at", slog.Int64("id", m.ID),
			slog.Time("send_at", *m.SendAt))
		m.NextAttemptAt = m.SendAt
		return s.release(ctx, m), true
	}
	if m.LeaseUntil != nil && s.now().Sub(m.LeaseUntil.Add(-s.lease)) >= recheckAfter {
		return s.recheck(ctx, m, res)
	}
	return res, false
}

// earlyClaim is how far before its send_at a claimed row may be sent: the
// store compares send_at to the millisecond on SQLite.
const earlyClaim = time.Second

// recheckAfter is how long after its claim a row waits for its turn
// before it is read again (recheck); a row handled at once is not, so the
// usual pass costs no read.
const recheckAfter = time.Second

// recheck reads again a row that waited for its turn since its claim (a
// pass behind a slow vendor or notifier), as another program may have
// changed it meanwhile. A row deleted, finished or cancelled (send_state
// not 0), or claimed by another, is left alone (OutcomeLost: what was
// written stays); one postponed (send_at now in the future) or edited
// (its title, content, extra, mode, receivers or class) is given back
// untried, its attempt refunded, to be claimed afresh when due, as it
// now reads. It reports whether it settled the row; a failed read does
// not: the row is handled as claimed.
func (s *Scanner) recheck(ctx context.Context, m *registry.CenterMessage, res Result) (Result, bool) {
	// Bounded by ctx (a stop ends the read, and the row is then handled
	// as a stopping pass handles it) and by the finish's bound.
	rctx, cancel := context.WithTimeout(ctx, finishTimeout)
	cur, err := s.store.GetCenterMessage(rctx, m.ID)
	cancel()
	switch {
	case errors.Is(err, registry.ErrNotFound):
		res.Outcome = OutcomeLost
		return res, true
	case err != nil:
		return res, false
	case cur.ClaimToken != m.ClaimToken:
		res.Outcome = OutcomeLost // another instance's now
		return res, true
	case cur.SendState != registry.SendStateUnsent:
		// Finished or cancelled by another program under our claim: the
		// finish's guard keeps what it wrote and gives the claim back
		// (OutcomeLost), so that the row is free at once if it is queued
		// again.
		s.rows.LogAttrs(ctx, slog.LevelInfo, "center row left alone: finished or cancelled by another program since its claim",
			slog.Int64("id", m.ID), slog.Int("send_state", cur.SendState))
		return s.release(ctx, m), true
	case cur.SendAt != nil && s.now().Before(*cur.SendAt),
		cur.Title != m.Title, cur.Content != m.Content, cur.Extra != m.Extra, cur.NotifyMode != m.NotifyMode,
		cur.Receivers != m.Receivers, cur.Class != m.Class:
		s.rows.LogAttrs(ctx, slog.LevelInfo, "center row given back: postponed or edited since its claim", slog.Int64("id", m.ID))
		return s.release(ctx, m), true
	}
	return res, false
}

// release gives a claimed row back untried, its attempt refunded
// (OutcomeReleased), or reports it lost when the finish finds the claim
// gone or the row finished meanwhile (see finish).
func (s *Scanner) release(ctx context.Context, m *registry.CenterMessage) Result {
	m.Attempts--
	return s.finish(ctx, m, Result{ID: m.ID, Mode: m.NotifyMode, Outcome: OutcomeReleased}, false)
}

// conclude decides what becomes of a tried row from the result and error
// of its delivery, and records it under the row's claim. interrupted
// marks a push row whose push was not recorded because ctx ended: it is
// given back without spending the attempt. called marks a row whose
// notifier was called (see finish).
func (s *Scanner) conclude(ctx context.Context, m *registry.CenterMessage, res Result, result, note string, err error, interrupted, called bool) Result {
	res.Err = err
	now := s.now()
	switch d := classify(err); {
	case err == nil:
		m.SendState, m.SendResult, m.Remark = registry.SendStateSent, result, note
		res.Outcome = OutcomeSent
	case interrupted:
		m.Attempts--
		m.Remark = "interrupted: " + err.Error()
		res.Outcome = OutcomeReleased
	case d == failNow:
		// The note still says which receivers were left out or reached
		// nothing: with a push that found no device, every one of them.
		m.SendState, m.SendResult, m.Remark = registry.SendStateFailed, result, strings.TrimSuffix(err.Error()+"; "+note, "; ")
		res.Outcome = OutcomeFailed
	case d == retrySpending && m.Attempts >= s.maxTries:
		m.SendState, m.SendResult = registry.SendStateFailed, result
		m.Remark = fmt.Sprintf("gave up after %d attempts: %v", m.Attempts, err)
		res.Outcome = OutcomeFailed
	default:
		delay := s.retry.Backoff(m.Attempts, provider.RetryAfterOf(err))
		if d == retryFree {
			m.Attempts--
			delay = s.retry.RateLimitWait(provider.RetryAfterOf(err))
		}
		next := now.Add(delay)
		m.NextAttemptAt = &next
		m.Remark = err.Error()
		res.Outcome, res.NextAttemptAt = OutcomeRescheduled, next
	}
	return s.finish(ctx, m, res, called)
}

// blipRetry is how long after its first try the outcome write of a row
// no notifier was called for (a push row, a row given back) may still be
// tried again: one retry, storeretry.First after a try that failed at
// once (the next wait would end past it). A broken connection is then
// replaced; an outage costs the row that one wait.
const blipRetry = storeretry.First + storeretry.First/2

// finishTimeout bounds the write of a row's outcome, and a claim of rows
// (both run on when the Scanner's ctx ends: see writeCtx).
const finishTimeout = 10 * time.Second

// writeCtx is the context of a store write that runs to its end when ctx
// ends (a claim under way, a row's outcome): ctx's values, not its
// cancellation, and finishTimeout.
func writeCtx(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.WithoutCancel(ctx), finishTimeout)
}

// finishMargin is the lease a notifier's row must have left beyond
// NotifyTimeout to be tried: room for the write of its outcome,
// finishTimeout at most, and at most half of what Lease leaves beyond
// NotifyTimeout, so that a fresh claim is always tried.
func (s *Scanner) finishMargin() time.Duration { return min(finishTimeout, (s.lease-s.notifyTO)/2) }

// notify calls n on its own clock: bounded by NotifyTimeout and detached
// from ctx's cancellation, so that a stopping Scanner lets a message that
// may be on its way finish and records what became of it.
// A Notifier that panics fails the row for good: it runs in a goroutine
// of the Scanner, where the panic would end the host's process, and, the
// row still claimed, the process of every instance that claims it next.
// Failed rather than retried, since it may have delivered before it
// panicked. The remark names the panic's type only (its value, which may
// hold what the host's code held, goes to the log with the stack). A
// Notifier that ends its goroutine with runtime.Goexit fails it alike.
//
// A Notifier that ignores its ctx and runs past NotifyTimeout (and a
// moment's grace for one returning at its deadline) is waited for, for up
// to one more Lease: it may still deliver. Meanwhile the row's lease is
// renewed (registry.CenterLeases), so that no other instance claims the
// row and calls the Notifier again; the overrun is logged. A call still
// running after that is given up on (ErrGivenUp): its row is left to run
// out its lease, and its outcome, should it come, is not recorded.
func (s *Scanner) notify(ctx context.Context, n Notifier, m *registry.CenterMessage, receivers []string) (result string, err error) {
	nctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.notifyTO)
	defer cancel()
	type outcome struct {
		result string
		err    error
	}
	done := make(chan outcome, 1)
	row := *m // the Notifier's copy: the renewals below write m
	// Its own goroutine, so that a runtime.Goexit in the Notifier ends
	// that goroutine only, not the Scanner's that records the row.
	go func() {
		returned := false
		defer func() {
			if returned {
				return
			}
			p := recover()
			if p == nil {
				s.log.LogAttrs(ctx, slog.LevelError, "notifier called runtime.Goexit", slog.Int64("center_message_id", row.ID),
					slog.String("notify_mode", row.NotifyMode))
				done <- outcome{"", Permanent(errors.New("notifier ended its goroutine (runtime.Goexit), its outcome unknown: it may have delivered"))}
				return
			}
			s.log.LogAttrs(ctx, slog.LevelError, "notifier panicked", slog.Int64("center_message_id", row.ID),
				slog.String("notify_mode", row.NotifyMode), slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
			done <- outcome{"", Permanent(fmt.Errorf("notifier panicked (%T), its outcome unknown: it may have delivered; see the log", p))}
		}()
		r, err := n.Notify(nctx, row, receivers)
		returned = true
		done <- outcome{r, err}
	}()
	select {
	case o := <-done:
		return o.result, o.err
	case <-nctx.Done():
	}
	// A Notifier that honours its ctx returns now.
	grace := time.NewTimer(s.overrunGrace())
	select {
	case o := <-done:
		grace.Stop()
		return o.result, o.err
	case <-grace.C:
	}
	// A timer and done ready together: done wins, here and below, so
	// that a Notifier that returned is never taken for one still running.
	select {
	case o := <-done:
		return o.result, o.err
	default:
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "notifier overran its NotifyTimeout (it ignores its ctx): waiting for it up to one more Lease, the row's lease renewed meanwhile",
		slog.Int64("center_message_id", m.ID), slog.String("notify_mode", m.NotifyMode), slog.Duration("notify_timeout", s.notifyTO))
	giveUp := func(err error, why string) (string, error) {
		s.log.LogAttrs(ctx, slog.LevelError, why, slog.Int64("center_message_id", m.ID), slog.String("notify_mode", m.NotifyMode),
			slog.Duration("lease", s.lease))
		go func() {
			o := <-done
			s.log.LogAttrs(context.WithoutCancel(ctx), slog.LevelWarn, "a notifier given up on returned: its outcome is not recorded",
				slog.Int64("center_message_id", row.ID), slog.String("result", o.result), slog.Any("error", o.err))
		}()
		return "", err
	}
	renew := s.renewer()
	// Renewed every quarter Lease, each renewal to a whole Lease ahead;
	// one that failed is tried again soon (the row may have little lease
	// left: one that waited for its turn starts its call with NotifyTimeout
	// and finishMargin left).
	every, retry := max(s.lease/4, time.Millisecond), max(min(s.lease/4, time.Second), time.Millisecond)
	wait := time.NewTimer(0)
	defer wait.Stop()
	<-wait.C
	giveUpAt := time.Now().Add(s.lease)
	failing := false
	for {
		select {
		case o := <-done:
			return o.result, o.err
		default:
		}
		if !time.Now().Before(giveUpAt) {
			return giveUp(ErrGivenUp, "notifier still running a Lease after its NotifyTimeout: given up on, its row left to run out its lease; another instance may then call the notifier again, up to MaxAttempts")
		}
		next := every
		if renew != nil {
			wctx, cancel := writeCtx(ctx)
			err := renew(wctx, m, s.now().Add(s.lease))
			cancel()
			switch {
			case err == nil:
				failing = false
			case errors.Is(err, registry.ErrClaimLost):
				select {
				case o := <-done:
					return o.result, o.err // its finish finds the claim lost
				default:
				}
				return giveUp(fmt.Errorf("%w: %w", ErrGivenUp, err), "the claim of a row whose notifier overran is lost (its lease ran out and another instance took it, or another program finished it): given up on, its outcome will not be recorded")
			default:
				if !failing {
					s.log.LogAttrs(ctx, slog.LevelError, "renewing the lease of a row whose notifier overran failed, and is tried again (logged once until it succeeds): if its lease runs out, another instance may call the notifier again",
						slog.Int64("center_message_id", m.ID), slog.String("error", err.Error()))
				}
				failing, next = true, retry
			}
		}
		wait.Reset(min(next, time.Until(giveUpAt)))
		select {
		case o := <-done:
			return o.result, o.err
		case <-wait.C:
		}
	}
}

// ErrGivenUp is the error of the Result of a row whose Notifier was still
// running a Lease after its NotifyTimeout (it ignores its ctx), or whose
// claim was lost while it ran: the Scanner stopped waiting for it. Unless
// it was the row's last attempt (then the row fails, its remark saying
// so), nothing is written (OutcomeLost) and the row runs out its lease,
// to be tried again. The call itself runs on; its outcome, should it
// come, is logged, not recorded.
var ErrGivenUp = errors.New("notifier overran its NotifyTimeout: given up on")

// overrunGrace is how long after NotifyTimeout a Notifier may take to
// return before it counts as overrunning: one that honours its ctx returns
// within it. At most half the margin a row's lease keeps for the write of
// its outcome (finishMargin).
func (s *Scanner) overrunGrace() time.Duration { return min(time.Second, s.finishMargin()/2) }

// renewer returns the store's RenewCenterMessage, or nil (logged) when it
// has none.
func (s *Scanner) renewer() func(context.Context, *registry.CenterMessage, time.Time) error {
	if cl, ok := s.store.(registry.CenterLeases); ok {
		return cl.RenewCenterMessage
	}
	s.log.LogAttrs(context.Background(), slog.LevelWarn,
		"the store cannot renew a center row's lease (registry.CenterLeases): once it runs out, another instance may claim the row and call its notifier again")
	return nil
}

// report calls OnResult with r, a panic in it logged: the row is
// recorded already, and the panic would end the host's process.
func (s *Scanner) report(ctx context.Context, r Result) {
	defer func() {
		if p := recover(); p != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "OnResult panicked", slog.Int64("center_message_id", r.ID),
				slog.Any("panic", p), slog.String("stack", string(debug.Stack())))
		}
	}()
	s.onResult(r)
}

// DedupeKey is the dedupe key of the push a center row becomes:
// "message_center#<id>@<created_at>#<fingerprint>". A row handled again
// after its push was recorded (its Scanner died before finishing it)
// finds that push instead of sending again. created_at and the
// fingerprint are part of it because ids come back after a TRUNCATE or an
// AUTO_INCREMENT reset, and a new row must not be mistaken for an old one:
// created_at alone does not tell them apart when the other program writes
// the same one on every row (a MySQL zero date, a constant) or reuses the
// id within the second. The fingerprint is the first 8 bytes, in hex, of
// the SHA-256 of the row's title, content, receivers, extra_params_string
// and message class, as read: a row re-queued after a change of any of
// them is a new push; one re-queued unchanged finds its push.
//
// Keys of releases before the fingerprint ("message_center#<id>@<created_at>")
// are not looked up: a row whose push an earlier release recorded, and
// which that release did not finish (it crashed, rather than drained,
// during the upgrade), is pushed again.
func DedupeKey(m *registry.CenterMessage) string {
	h := sha256.New()
	for _, f := range []string{m.Title, m.Content, m.Receivers, m.Extra, m.Class} {
		h.Write([]byte(f))
		h.Write([]byte{0})
	}
	return fmt.Sprintf("message_center#%d@%s#%x", m.ID, m.CreatedAt.Format("20060102150405"), h.Sum(nil)[:8])
}

// message is the push a push row asks for. A receiver that can be no
// user_num (too long, a NUL, not UTF-8: what another program may write) is
// left out, and skipped names it by its place in the list, for the row's
// remark: the other receivers still get the push. A row none of whose
// receivers can be one fails with the reasons.
func (s *Scanner) message(m *registry.CenterMessage) (msg push.Message, skipped string, err error) {
	var users, bad []string
	for i, u := range SplitReceivers(m.Receivers) {
		var ve *registry.ValidationError
		if err := registry.ValidateUserNum(u); errors.As(err, &ve) {
			bad = append(bad, fmt.Sprintf("#%d (%s)", i+1, ve.Reason))
			continue
		}
		users = append(users, u)
	}
	if len(bad) > 0 {
		skipped = fmt.Sprintf("%d receiver(s) that can be no user_num, not pushed: %s", len(bad), strings.Join(bad, ", "))
	}
	if len(users) == 0 {
		if skipped != "" {
			return push.Message{}, "", Permanent(errors.New(skipped))
		}
		return push.Message{}, "", Permanent(errors.New("receivers lists nobody"))
	}
	title := m.Title
	if strings.TrimSpace(title) == "" {
		title = s.title
	}
	return push.Message{
		UserNums: users, Title: title, Content: m.Content, RawExtra: m.Extra, DedupeKey: DedupeKey(m),
		// Without case, as notify_mode: "Service" means what it says.
		Class: provider.Class(strings.ToLower(strings.TrimSpace(m.Class))),
	}, skipped, nil
}

// pushResult turns what a row's Push returned into the row's send_result,
// its push's id and its error.
func pushResult(res *push.Result, err error) (string, int64, error) {
	switch {
	case errors.Is(err, push.ErrNoDevices), errors.Is(err, push.ErrInvalid):
		return "", 0, Permanent(err)
	case err != nil:
		return "", 0, err
	}
	result := fmt.Sprintf("%s%d", SendResultPrefix, res.PushMessageID)
	if n := len(res.Deliveries); n > 0 && res.Failed() == n {
		// Every vendor call failed for good: the row failed, and its
		// send_result still leads the ops query to the push's record.
		ferr := res.FirstError()
		return result, res.PushMessageID, Permanent(fmt.Errorf("every delivery failed: %w", ferr))
	}
	return result, res.PushMessageID, nil
}

// noneReachedNote is the note of a push row whose push found no device
// for any of users: it names them (up to push.MaxUnreachedUsers, as a
// push's Result does), so that its remark says who got nothing, as
// unreachedNote does for a row sent to some of them.
func noneReachedNote(users []string) string {
	if len(users) > push.MaxUnreachedUsers {
		return fmt.Sprintf("none of its %d receivers has a device the push could reach", len(users))
	}
	return unreachedNote(&push.Result{Unreached: users})
}

// unreachedNote is the remark of a push row sent to some of its receivers
// only: those it reached no device of (push.Result.Unreached), so that an
// operator sees why they got nothing; for a row of more receivers than
// push.MaxUnreachedUsers, how many (push.Result.UnreachedCount). "" when
// it reached them all.
func unreachedNote(res *push.Result) string {
	if res == nil {
		return ""
	}
	n := max(res.UnreachedCount, len(res.Unreached))
	switch {
	case n == 0:
		return ""
	case len(res.Unreached) < n && (res.Unlisted || res.Expired):
		return fmt.Sprintf("%d %s among those listed so far", n, unreachedPhrase)
	case len(res.Unreached) < n:
		return fmt.Sprintf("%d %s", n, unreachedPhrase)
	}
	return fmt.Sprintf("%d %s: %s", n, unreachedPhrase, strings.Join(res.Unreached, "、"))
}

// repeatedNote is the remark of a row handled again whose push an earlier
// try recorded (push.Result.Duplicate, which names no unreached users):
// that the receivers it reached no device of are not known to this try,
// rather than no remark, which reads as if every receiver was reached. The
// row's earlier remark is not kept: it may be a try's before the push was
// recorded, naming users whose devices were registered since.
func repeatedNote(pushID int64) string {
	return fmt.Sprintf("push_message#%d was recorded by an earlier try of this row: the receivers it reached no device of, if any, are not known to this one", pushID)
}

// unreachedPhrase is in every note of unreachedNote.
const unreachedPhrase = "receiver(s) without a device the push could reach"

// finish records the row's outcome under its claim. It writes even when
// ctx has ended, so that a stopping Scanner leaves no row it has handled
// unrecorded.
//
// With retry (a notifier was called: its message may be on its way, and
// an sms or email row has no dedupe key by which a second handling could
// find it), a write that failed for a reason that may pass
// (storeretry.Transient) is tried again, with backoff, while the claim
// holds: no try begins later than finishTimeout before the lease's end,
// nor, once ctx has ended, later than finishTimeout after the first (a
// drain keeps its bound). A retry that finds the claim released after a
// try whose fate is unknown (it timed out, or lost its connection while
// committing) takes the outcome as recorded: that try's commit landed, or
// another program finished the row. Every other row (a push row, one
// given back untried) is tried once more, storeretry.First after its
// first try (blipRetry), and not at all once ctx has ended: a connection
// broken under it (a reset, a pooled connection a blip left dead) does
// not leave it claimed for a whole lease (a push row whose push failed on
// the blip waited that long to be pushed), while an outage costs such a
// row, some of which are settled one after another, a tenth of a second;
// a stopping Scanner gives back the rows it has not tried with one write
// each (no work was done for them, and a push row that is handled again
// finds its push by dedupe key).
func (s *Scanner) finish(ctx context.Context, m *registry.CenterMessage, res Result, retry bool) Result {
	// The result and remark come from notifiers and vendors: make them
	// storable rather than lose the outcome to a refused write.
	m.Remark = registry.SanitizeText(m.Remark, 4000)
	m.SendResult = registry.SanitizeText(m.SendResult, registry.MaxText)
	leaseLeft := finishTimeout // a Store of the host's own that says no lease
	if m.LeaseUntil != nil {
		leaseLeft = max(m.LeaseUntil.Sub(s.now())-finishTimeout, 0)
	}
	if !retry {
		leaseLeft = min(leaseLeft, blipRetry)
	}
	tries, settled, err := storeretry.Write{
		TryCtx: writeCtx,
		Budget: func(ctx context.Context) time.Duration {
			switch {
			case ctx.Err() != nil && !retry:
				return 0
			case ctx.Err() != nil:
				return min(leaseLeft, finishTimeout)
			}
			return leaseLeft
		},
		Settled: func(err error, fateUnknown bool) bool {
			if !fateUnknown || !errors.Is(err, registry.ErrClaimLost) {
				return false
			}
			s.rows.LogAttrs(ctx, slog.LevelWarn, "center row outcome taken as recorded: a try that timed out or lost its connection had released the claim",
				slog.Int64("id", m.ID))
			return true
		},
		Retrying: func(try int, wait time.Duration, err error) {
			lvl := slog.LevelDebug // the first is a warning; the rest would flood the log during an outage
			if try == 1 {
				lvl = slog.LevelWarn
			}
			s.rows.LogAttrs(ctx, lvl, "recording center row failed, trying again", slog.Int64("id", m.ID),
				slog.Int("try", try), slog.Duration("in", wait), slog.String("error", err.Error()))
		},
	}.Do(ctx, func(wctx context.Context) error { return s.store.FinishCenterMessage(wctx, m) })
	res.Attempts = m.Attempts
	switch {
	case errors.Is(err, registry.ErrClaimLost):
		res.Outcome, res.Err = OutcomeLost, err
	case err != nil:
		// The row keeps its claim until the lease runs out, then it is
		// handled again; a push row then finds its push by dedupe key.
		res.Outcome, res.Err = OutcomeLost, err
		s.log.LogAttrs(ctx, slog.LevelError, "recording center row failed; it is handled again when its lease runs out",
			slog.Int64("id", m.ID), slog.Int("tries", tries), slog.String("error", err.Error()))
	case tries > 1 && !settled:
		s.rows.LogAttrs(ctx, slog.LevelInfo, "recording center row: done after a retry", slog.Int64("id", m.ID), slog.Int("tries", tries))
	}
	lvl := slog.LevelInfo
	if res.Outcome != OutcomeSent {
		lvl = slog.LevelWarn
	}
	s.rows.LogAttrs(ctx, lvl, "center row handled", slog.Int64("id", m.ID), slog.String("mode", m.NotifyMode),
		slog.String("outcome", string(res.Outcome)), slog.Int("attempts", m.Attempts), slog.String("remark", m.Remark))
	return res
}

// ErrNotBuilt is matched (errors.Is) by the error of Run and RunOnce on a
// Scanner that New did not make: a zero Scanner{} or a nil *Scanner,
// which has no Service, store or settings to work with.
var ErrNotBuilt = errors.New("messagecenter: not built by its constructor")

// unbuilt reports whether New did not make s: every Scanner it makes has
// a Service.
func (s *Scanner) unbuilt() bool { return s == nil || s.svc == nil }

// notBuilt is the error of method (such as "Scanner.Run") called on a
// Scanner New did not make.
func notBuilt(method string) error {
	return fmt.Errorf("%w: %s needs a Scanner made by messagecenter.New, not a zero value or nil", ErrNotBuilt, method)
}

// FieldError names an invalid Config field. It matches push.ErrInvalid
// (errors.Is), as the push package's own FieldError does, so a host checks
// both packages' configuration errors one way.
type FieldError struct{ Field, Reason string }

func (e *FieldError) Error() string { return "messagecenter: " + e.Field + ": " + e.Reason }

// Is makes errors.Is(err, push.ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == push.ErrInvalid }

func fieldErr(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// MinInterval is the shortest Config.Interval: a shorter one (Interval: 30
// meaning seconds is thirty nanoseconds) would have Run pass without
// pause, a busy loop against the database.
const MinInterval = time.Millisecond

// listSeparators are the characters that say a mode was given as a list
// ("sms,email", as PUSH_CENTER_LEAVE_MODES takes them) rather than one
// mode: a row's notify_mode is matched whole, so such a key would match
// none.
const listSeparators = ",;"
