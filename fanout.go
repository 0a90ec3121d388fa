package push

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// fanoutStage is how many chunks of targetChunk users a push recorded in
// stages lists before it records their deliveries and starts sending
// them: 10,000 users. A push to more users than one stage is recorded in
// stages when the store can (registry.Fanouts).
const fanoutStage = 20

// stagesInFlight is how many stages of a push may be recorded and not yet
// sent: the next stage is listed and recorded while the one before is
// sent.
const stagesInFlight = 2

// staleStages is how many stages a token may wait for a whole batch of
// its provider and platform: then the short batch is sent. A provider or
// platform with few devices in a large audience would otherwise hold the
// listing's place (Fanout.After) at its first token until the end, and a
// resume after a crash would list nearly the whole audience again. It
// costs a call only where a batch of MaxTokens takes longer than this to
// fill.
const staleStages = 5

// fanoutStore returns the store as a registry.Fanouts when a push to users
// may be recorded in stages: the store can, and no provider sends a large
// audience by file (Capabilities.FileThreshold), which needs the whole
// audience to choose.
func (s *Service) fanoutStore() (registry.Fanouts, bool) {
	fo, ok := s.store.(registry.Fanouts)
	if !ok {
		return nil, false
	}
	for _, name := range s.names {
		for _, pl := range provider.Platforms() {
			if s.serves(name, pl) && s.providers[name].Capabilities(pl).FileThreshold > 0 {
				return nil, false
			}
		}
	}
	return fo, true
}

// pushStaged is pushUsers for an audience of more than one stage: the
// deliveries are recorded and sent stage by stage while the rest of the
// audience is listed (see fanoutRun), so that the first vendor calls do
// not wait for the last users, nor the memory hold every token at once.
//
// The message is checked first against every provider and platform that
// could be among the targets, since they are not all known before
// anything is recorded. The message is created with the first stage that
// has a delivery (with none at all, ErrNoDevices and nothing recorded),
// holding how far the listing got under this call's claim; if the call
// stops before the end (its ctx ends, a read fails), the claim is given
// back at once and the Scanner's next pass (RetryPending) lists and sends
// the rest. Result.Unlisted says so.
func (s *Service) pushStaged(ctx context.Context, sem chan struct{}, fo registry.Fanouts, p *preparedPush) (*Result, error) {
	msg := s.messageOf(p)
	if err := s.checkEvery(msg); err != nil {
		return nil, err
	}
	users := slices.Sorted(slices.Values(p.users))
	run := s.newFanoutRun(fo, msg, sem, users)
	return run.run(ctx)
}

// checkEvery is check for every provider and platform the Service serves,
// each with a placeholder audience.
func (s *Service) checkEvery(msg *registry.PushMessage) error {
	var ds []*registry.Delivery
	for _, name := range s.names {
		for _, pl := range provider.Platforms() {
			if s.serves(name, pl) {
				ds = append(ds, placeholder(msg, name, pl))
			}
		}
	}
	return s.check(msg, ds)
}

// fanoutRun lists the users of a push recorded in stages, fanoutStage
// chunks at a time, and records and sends the deliveries of each stage.
// A stage records only whole batches of each provider and platform
// (Capabilities.MaxTokens): the rest waits for the next stage, so that the
// push makes as few vendor calls as one recorded whole (unless a batch
// takes more than staleStages stages to fill). The listing's
// place (Fanout.After) is the last user of the last chunk whose every
// token is recorded, so that whoever goes on from there lists again the
// users whose tokens waited; the tokens recorded already are known by
// then (seen) and not recorded twice.
type fanoutRun struct {
	s     *Service
	fo    registry.Fanouts
	msg   *registry.PushMessage // the record: its id and fanout once created
	sem   chan struct{}
	users []string // the users still to list, in byte order

	reach *reach                        // the users listed that no token reached
	seen  map[target]map[tokenHash]bool // tokens recorded or waiting, by hash
	seeds [2]maphash.Seed
	wait  map[target][]string  // tokens waiting for a whole batch
	from  map[target][]int32   // the chunk of each waiting token
	seq   map[target]int       // the next Seq of each provider and platform
	nonce string               // the idempotency keys' prefix of this run
	keys  int                  // idempotency keys drawn
	res   *Result              // nil until the message is recorded
	outs  []*[]DeliveryOutcome // each stage's outcomes, written by its sender
	wg    sync.WaitGroup       // the stages being sent
	// flight holds a slot for each stage being sent: the listing waits
	// for one, so that it runs at most stagesInFlight stages ahead of the
	// vendor calls and the tokens waiting for them stay bounded.
	flight chan struct{}
	start  string // the listing's place when the run began
	after  string // the listing's place as recorded
}

func (s *Service) newFanoutRun(fo registry.Fanouts, msg *registry.PushMessage, sem chan struct{}, users []string) *fanoutRun {
	return &fanoutRun{
		s: s, fo: fo, msg: msg, sem: sem, users: users, reach: newReach(len(users)),
		seen: map[target]map[tokenHash]bool{}, seeds: [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()},
		flight: make(chan struct{}, stagesInFlight), wait: map[target][]string{}, from: map[target][]int32{}, seq: map[target]int{},
		nonce: newNonce(),
	}
}

// tokenHash is a 128-bit hash of a token: two tokens of one push share
// one with a probability near 2^-128 times the pairs of its tokens (about
// 10^-28 for a million devices), so that a run finds repeats without
// keeping every token of the push alive until its end.
type tokenHash [2]uint64

// see reports whether token of g is new to the run, and marks it seen.
func (r *fanoutRun) see(g target, token string) bool {
	seen := r.seen[g]
	if seen == nil {
		seen = map[tokenHash]bool{}
		r.seen[g] = seen
	}
	h := tokenHash{maphash.String(r.seeds[0], token), maphash.String(r.seeds[1], token)}
	if seen[h] {
		return false
	}
	seen[h] = true
	return true
}

// run lists the users, records and sends each stage, and returns the
// push's Result once every stage sent is done.
func (r *fanoutRun) run(ctx context.Context) (*Result, error) {
	var skipped skips
	last := (len(r.users) - 1) / r.s.chunk
	err := r.s.eachChunk(ctx, r.users, func(i int, ts []registry.Target) error {
		for _, t := range ts {
			g, token, ok := r.s.targetOf(t)
			if !ok {
				skipped.add(r.s, g)
				continue
			}
			r.reach.add(t.UserNum)
			if !r.see(g, token) {
				continue // a repeat: recorded once
			}
			r.wait[g] = append(r.wait[g], token)
			r.from[g] = append(r.from[g], int32(i))
		}
		r.reach.done(r.s.chunkOf(r.users, i))
		if i == last || (i+1)%r.s.stage == 0 {
			return r.stage(ctx, i, i == last)
		}
		return nil
	})
	if r.res != nil && !r.res.Duplicate {
		r.res.Skipped += skipped.n
		r.res.UnreachedCount += r.reach.count
	}
	if err != nil {
		return r.end(ctx, err)
	}
	if r.res == nil {
		return nil, r.s.noDevices(skipped)
	}
	if skipped.n > 0 {
		r.s.log.LogAttrs(ctx, slog.LevelWarn, "devices skipped", slog.Int64("push_message_id", r.msg.ID),
			slog.Int("devices", skipped.n), slog.String("why", skipped.String()))
	}
	return r.end(ctx, nil)
}

// stage records the whole batches waiting after chunk i (with final, every
// waiting token) and starts sending them.
func (r *fanoutRun) stage(ctx context.Context, i int, final bool) error {
	s := r.s
	if r.expired() {
		return errExpired
	}
	claim := newNonce()
	now := s.now()
	var ds []*registry.Delivery
	first := i + 1 // the first chunk with a token still waiting
	for _, name := range s.names {
		for _, pl := range provider.Platforms() {
			g := target{name, string(pl)}
			toks := r.wait[g]
			if len(toks) == 0 {
				continue // nothing waits here, a platform the provider does not serve among others
			}
			batch := max(s.providers[name].Capabilities(pl).MaxTokens, 1)
			n := len(toks)
			if !final && int(r.from[g][0]) > i-staleStages*s.stage {
				n -= n % batch // a short batch waits for more, unless it is stale
			}
			for rest := toks[:n]; len(rest) > 0; {
				k := min(batch, len(rest))
				ds = append(ds, s.newDelivery(name, string(pl), r.seq[g], registry.AudienceTokens, rest[:k:k],
					fmt.Sprintf("%s-%d", r.nonce, r.keys), claim, now, r.msg.ExpireAt))
				r.seq[g]++
				r.keys++
				rest = rest[k:]
			}
			if n < len(toks) {
				first = min(first, int(r.from[g][n]))
				r.wait[g] = slices.Clone(toks[n:])
				r.from[g] = slices.Clone(r.from[g][n:])
			} else {
				delete(r.wait, g)
				delete(r.from, g)
			}
		}
	}
	after := r.start
	if first > 0 {
		after = r.users[min(first*r.s.chunk, len(r.users))-1]
	}
	if len(ds) == 0 && !final && r.res == nil {
		return nil // nothing to record yet
	}
	if err := s.check(r.msg, ds); err != nil {
		return err
	}
	if len(ds) == 0 {
		return r.record(ctx, ds, after, final)
	}
	// A slot first, so that at most stagesInFlight stages are recorded
	// and not yet sent.
	if err := r.waitFlight(ctx); err != nil {
		return err
	}
	// The wait may have been long (slow vendor calls): the deliveries'
	// lease starts now, not before it, so that no retry may claim them
	// before this run sends them; and a push that expired meanwhile
	// records nothing more.
	if r.expired() {
		<-r.flight
		return errExpired
	}
	now = s.now()
	for _, d := range ds {
		lease := now.Add(s.lease)
		d.NextAttemptAt, d.LeaseUntil = now, &lease
	}
	// The last stage of a push recorded already is recorded as any
	// other, and the fanout ended once its sends are done and recorded:
	// the end writes the summary's every token (reading every delivery),
	// which the vendor calls need not wait for, and the message row then
	// holds them all, which on SQLite each later write of the row (a
	// finish's tally) rewrites whole.
	split := final && r.res != nil
	if err := r.record(ctx, ds, after, final && !split); err != nil {
		<-r.flight
		return err
	}
	out := new([]DeliveryOutcome)
	r.outs = append(r.outs, out)
	content := sendable(r.msg)
	r.wg.Go(func() {
		defer func() { <-r.flight }()
		*out = s.sendWith(ctx, r.sem, func(int64) *registry.PushMessage { return content }, ds)
	})
	if split {
		err := r.waitSends(ctx)
		if err == nil {
			err = r.record(ctx, nil, after, true)
		}
		if err != nil {
			// Every user is listed and every delivery recorded: whoever
			// claims the fanout when its lease runs out finds nothing
			// more to list, and ends it.
			s.log.LogAttrs(ctx, slog.LevelWarn, "ending the fanout failed: whoever claims it next ends it",
				slog.Int64("push_message_id", r.msg.ID), slog.String("error", err.Error()))
		}
	}
	return nil
}

// waitFlight takes a slot of r.flight, renewing the fanout's lease while
// it waits (slow vendor calls must not let another instance take the
// listing over), and stops when ctx ends or the claim is lost.
func (r *fanoutRun) waitFlight(ctx context.Context) error {
	select {
	case r.flight <- struct{}{}:
		return nil
	default:
	}
	tick := time.NewTicker(r.s.lease / 4)
	defer tick.Stop()
	for {
		select {
		case r.flight <- struct{}{}:
			return nil
		case <-ctx.Done():
			return ctx.Err()
		case <-tick.C:
			if r.msg.Fanout == nil {
				continue // not recorded yet: no lease to keep
			}
			if err := r.lease(ctx, r.s.now().Add(r.s.lease)); err != nil {
				return fmt.Errorf("push: renew the fanout's lease: %w", fromRegistry(err))
			}
		}
	}
}

// waitSends waits until every stage sent so far is sent and recorded,
// renewing the fanout's lease while it waits, as waitFlight does (slow
// vendor calls must not let another instance take the push over and end
// it first). The sends run on their own clock, so it waits for them
// whatever ctx does. Its error is a renewal's: the claim lost, or the
// store's.
func (r *fanoutRun) waitSends(ctx context.Context) error {
	done := make(chan struct{})
	go func() { r.wg.Wait(); close(done) }()
	tick := time.NewTicker(r.s.lease / 4)
	defer tick.Stop()
	var err error
	for {
		select {
		case <-done:
			return err
		case <-tick.C:
			if err == nil {
				if err = r.lease(ctx, r.s.now().Add(r.s.lease)); err != nil {
					err = fmt.Errorf("push: renew the fanout's lease: %w", fromRegistry(err))
				}
			}
		}
	}
}

// lease sets the fanout's lease, at its recorded place, to until: later
// to keep the listing, now to give it back.
func (r *fanoutRun) lease(ctx context.Context, until time.Time) error {
	return r.s.leaseFanout(ctx, r.fo, r.msg, r.after, until, false)
}

// leaseFanout sets the lease of m's fanout, claimed, to until, its place
// to after; with refund, the claim is given back as untried
// (registry.Fanout.Refund).
func (s *Service) leaseFanout(ctx context.Context, fo registry.Fanouts, m *registry.PushMessage, after string, until time.Time, refund bool) error {
	next := *m.Fanout
	next.After, next.LeaseUntil, next.Refund = after, until, refund
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	return fo.AddDeliveries(wctx, m, nil, &next)
}

// record writes a stage's deliveries: with the message when it is not
// recorded yet, otherwise added to it; after is the listing's place, and
// final ends it.
func (r *fanoutRun) record(ctx context.Context, ds []*registry.Delivery, after string, final bool) error {
	s := r.s
	var next *registry.Fanout
	if !final {
		claim := newNonce()
		if r.msg.Fanout != nil {
			claim = r.msg.Fanout.ClaimToken
		}
		next = &registry.Fanout{After: after, ClaimToken: claim, LeaseUntil: s.now().Add(s.lease)}
	}
	devices := 0
	for _, d := range ds {
		devices += len(d.Tokens)
	}
	if r.res == nil {
		if len(ds) == 0 {
			return nil // the end, with nothing recorded: ErrNoDevices
		}
		r.msg.Fanout = next
		res, err := s.create(ctx, r.msg, ds, devices, 0)
		if err != nil {
			r.msg.Fanout = nil
			return err
		}
		r.res = res
		if res.Duplicate {
			return errDuplicate
		}
	} else {
		wctx, cancel := s.writeCtx(ctx)
		err := r.fo.AddDeliveries(wctx, r.msg, ds, next)
		cancel()
		if err != nil {
			return fmt.Errorf("push: record deliveries: %w", fromRegistry(err))
		}
		r.res.Devices += devices
	}
	r.after = after
	return nil
}

// errDuplicate stops a run whose message another caller recorded first.
var errDuplicate = errors.New("push: duplicate")

// errExpired stops a run whose push reached its ExpireAt: no vendor would
// show it anymore, so the users not listed yet are not pushed.
var errExpired = errors.New("push: the push expired before its whole audience was listed")

// expired reports whether the push's ExpireAt has passed.
func (r *fanoutRun) expired() bool {
	return r.msg.ExpireAt != nil && !r.s.now().Before(*r.msg.ExpireAt)
}

// end waits for the stages being sent and returns the Result. When the
// listing stopped early (err), the fanout's claim is given back, due at
// once, so that the Scanner's next pass goes on from the last recorded
// place; the Result says Unlisted. An error before anything was recorded
// is the call's.
func (r *fanoutRun) end(ctx context.Context, err error) (*Result, error) {
	r.wg.Wait()
	if r.res == nil {
		if errors.Is(err, errExpired) {
			return nil, invalid("expire_at", "%s passed before the first %d users were listed; nothing was recorded",
				r.msg.ExpireAt.Format(time.RFC3339), r.s.stage*r.s.chunk)
		}
		return nil, err
	}
	if errors.Is(err, errDuplicate) {
		return r.res, nil
	}
	for _, o := range r.outs {
		r.res.Deliveries = append(r.res.Deliveries, *o...)
	}
	if err == nil {
		return r.res, nil
	}
	if errors.Is(err, errExpired) {
		return r.expire(ctx)
	}
	r.res.Unlisted = true
	cancelled := errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
	if r.msg.Fanout != nil {
		// Given back due at once, unless the listing failed after a
		// takeover: then after the retry policy's backoff for the
		// fanout's claims, so that a listing that fails every time is not
		// taken over again on every pass (and ends once the claims run
		// out: see abandon).
		due := r.s.now()
		if c := r.msg.Fanout.Claims; c > 0 && !cancelled {
			due = due.Add(r.s.retry.Backoff(c, 0))
		}
		// A takeover its caller stopped (a shutdown) counts none: a
		// fanout taken over by every instance of a rolling restart, each
		// stopped before its first stage, is not abandoned for it.
		r.s.giveBackFanout(ctx, r.fo, r.msg, r.after, due, errors.Is(ctx.Err(), context.Canceled))
	}
	lvl := slog.LevelWarn
	if cancelled {
		lvl = slog.LevelInfo
	}
	r.s.log.LogAttrs(ctx, lvl, "listing of a push stopped: the rest of its audience is left to the next pass",
		slog.Int64("push_message_id", r.msg.ID), slog.String("reason", err.Error()))
	return r.res, nil
}

// expire ends the fanout of a push that expired while its audience was
// listed: nothing more is recorded, and the users after the recorded place
// are not pushed (the tokens waiting for a whole batch are dropped). The
// Result says Expired. Should the end fail to be written, the fanout is
// left under its claim, and whoever claims it next finds it expired too.
func (r *fanoutRun) expire(ctx context.Context) (*Result, error) {
	r.res.Expired = true
	lvl := slog.LevelWarn
	if err := r.record(ctx, nil, r.after, true); err != nil {
		lvl = slog.LevelError
		r.s.log.LogAttrs(ctx, lvl, "ending the fanout of an expired push failed: whoever claims it next ends it",
			slog.Int64("push_message_id", r.msg.ID), slog.String("error", err.Error()))
	}
	r.s.log.LogAttrs(ctx, lvl, "push expired before its whole audience was listed: the users after the recorded place are not pushed",
		slog.Int64("push_message_id", r.msg.ID), slog.String("listed_through", r.after), slog.Time("expire_at", *r.msg.ExpireAt))
	return r.res, nil
}

// abandon ends the fanout of a push whose listing was taken over more
// times than the retry policy allows without progress
// (registry.Fanout.Claims above RetryPolicy.MaxAttempts): each instance
// that took it failed, or died, before it recorded a stage. Nothing more
// is listed; the deliveries recorded stay and are sent as any others,
// and the users after the recorded place are not pushed. The error says
// so, for the caller's log. Should the end fail to be written, the
// fanout runs out its lease, and whoever claims it next abandons it too.
func (r *fanoutRun) abandon(ctx context.Context) (*Result, error) {
	claims := r.msg.Fanout.Claims
	if err := r.record(ctx, nil, r.after, true); err != nil {
		return r.res, fmt.Errorf("push: ending the fanout of a push taken over %d times failed: %w", claims, err)
	}
	return r.res, fmt.Errorf("push: fanout abandoned after %d takeovers without progress (retry max_attempts %d): the users after %q are not pushed",
		claims, r.s.retry.MaxAttempts, r.after)
}

// resumeFanouts claims up to limit pushes whose fanout was left (its
// lister stopped, or died) and goes on with each from its recorded place:
// the deliveries recorded already are read first, so that none of their
// tokens is recorded twice. It returns how many it claimed.
func (s *Service) resumeFanouts(ctx context.Context, limit int) (int, error) {
	fo, ok := s.store.(registry.Fanouts)
	if !ok {
		return 0, nil
	}
	// A read that failed after the claim returns the pushes read before
	// it with the error: those are ours, and go on.
	ms, err := detached(ctx, s, func(ctx context.Context) ([]registry.PushMessage, error) {
		return fo.ClaimFanouts(ctx, registry.ClaimParams{Now: s.now(), Limit: limit, Lease: s.lease})
	})
	if err != nil {
		err = fmt.Errorf("push: claim fanouts: %w", err)
	}
	for i := range ms {
		if ctx.Err() != nil {
			// Stopped before this one started: given back due at once,
			// so that the next pass goes on with it, and counted as no
			// takeover.
			s.giveBackFanout(ctx, fo, &ms[i], ms[i].Fanout.After, s.now(), true)
			continue
		}
		rctx, span := s.tel.startPush(ctx, "push.ResumeFanout", pushAttrs(len(ms[i].UserNums))...)
		res, err := s.resumeFanout(rctx, fo, &ms[i])
		endPush(span, res, err)
		if err != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "resuming the fanout of a push failed", slog.Int64("push_message_id", ms[i].ID),
				slog.String("error", err.Error()))
		}
	}
	return len(ms), err
}

// giveBackFanout gives the claimed fanout of m back, at place after, due
// at due; with refund, as untried.
func (s *Service) giveBackFanout(ctx context.Context, fo registry.Fanouts, m *registry.PushMessage, after string, due time.Time, refund bool) {
	err := s.leaseFanout(ctx, fo, m, after, due, refund)
	if err != nil && !errors.Is(err, registry.ErrClaimLost) {
		s.log.LogAttrs(ctx, slog.LevelError, "giving back the fanout of a push failed: another instance goes on once its lease runs out",
			slog.Int64("push_message_id", m.ID), slog.String("error", err.Error()))
	}
}

// resumeFanout goes on with the fanout of m, claimed, and returns what
// this call recorded and sent of it.
func (s *Service) resumeFanout(ctx context.Context, fo registry.Fanouts, m *registry.PushMessage) (*Result, error) {
	after := m.Fanout.After
	i, _ := slices.BinarySearch(m.UserNums, after)
	if i < len(m.UserNums) && m.UserNums[i] == after {
		i++
	}
	run := s.newFanoutRun(fo, m, s.newSem(), m.UserNums[i:])
	run.start, run.after = after, after
	run.res = &Result{PushMessageID: m.ID}
	if len(run.users) == 0 {
		// Every user listed and every token recorded (the end of the
		// fanout was not written): only the end is left, however old
		// the push or its claims.
		return run.end(ctx, run.record(ctx, nil, after, true))
	}
	if run.expired() {
		// Left for longer than the push lives: nothing is listed.
		return run.end(ctx, errExpired)
	}
	if m.Fanout.Claims > s.retry.MaxAttempts {
		return run.abandon(ctx)
	}
	ds, err := s.store.ListDeliveries(ctx, m.ID)
	if err != nil {
		return run.end(ctx, fmt.Errorf("list deliveries: %w", err))
	}
	for _, d := range ds {
		g := target{d.Provider, d.Platform}
		run.seq[g] = max(run.seq[g], d.Seq+1)
		for _, t := range d.Tokens {
			run.see(g, t)
		}
	}
	s.log.LogAttrs(ctx, slog.LevelInfo, "resuming the fanout of a push", slog.Int64("push_message_id", m.ID),
		slog.Int("users_left", len(run.users)), slog.Int("deliveries_recorded", len(ds)))
	return run.run(ctx)
}
