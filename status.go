package push

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Status is the delivery status of a push message (the product brief's GET
// /api/v1.1/query/push_message).
type Status struct {
	PushMessageID int64
	IOSStatus     string // the product brief's ios_status
	AndroidStatus string // the product brief's android_status
	// IOS and Android are the message's summary columns, DeviceTokens
	// included: every device token of the push, in full, which a host
	// must not pass on to its own API's callers (a token lets anyone
	// holding the vendor app's secret push to the device). The Handler's
	// query answer holds the statuses and receipt counts only.
	IOS     registry.PlatformSummary
	Android registry.PlatformSummary
	// Receipts counts the receipts vendors posted about the push (arrived,
	// opened, dismissed), per platform: the progress of a push that is
	// final as accepted.
	Receipts Receipts
}

// PushStatus returns the iOS and Android status of a push message, or an
// error wrapping registry.ErrNotFound when there is none. An id below 1
// is a *FieldError (push.ErrInvalid), not ErrNotFound.
func (s *Service) PushStatus(ctx context.Context, pushMessageID int64) (Status, error) {
	if s.unbuilt() {
		return Status{}, notBuilt("Service.PushStatus", "push.New")
	}
	if pushMessageID <= 0 {
		return Status{}, invalid("push_message_id", "must be a positive id")
	}
	m, err := s.store.GetPushMessage(ctx, pushMessageID)
	if err != nil {
		return Status{}, fmt.Errorf("push: push status: %w", err)
	}
	ios, android, err := s.store.ReceiptTotals(ctx, pushMessageID)
	if err != nil {
		return Status{}, fmt.Errorf("push: push status: %w", err)
	}
	return Status{PushMessageID: m.ID, IOSStatus: m.IOS.Status, AndroidStatus: m.Android.Status,
		IOS: m.IOS, Android: m.Android, Receipts: Receipts{IOS: ios, Android: android}}, nil
}

// RetryPending claims up to limit (at least 1: else a *FieldError)
// deliveries that are due for a send (a failed attempt's retry, one whose
// sender died before recording the outcome, or one released for lack of
// lease) and sends them with their
// original idempotency keys, renewing each claim before its call when the
// rest of the lease would not cover it. It returns how many it claimed;
// those it did not send (ctx ended first) are released, due at once, and
// any another instance took over meanwhile are left to it. A claim under
// way when ctx ends finishes (at most WriteTimeout), so that what it took
// is released rather than held by nobody for a whole Lease; once ctx has
// ended, nothing more is claimed.
//
// It claims in rounds, the next once every delivery of the one before
// has its send slot, until limit is reached, a round comes up short
// (none is due any more) or a round could not read what some of its
// deliveries need (the store failing: they are given back, due after a
// backoff). The first round is twice SendConcurrency; the
// others are what SendConcurrency calls start within a second at the
// pace of this Service's recent vendor calls, and at least twice
// SendConcurrency. So an instance holds about what it is about to
// send: when the vendor is slow, the other instances' passes claim the
// rest and send it beside this one, instead of waiting for this
// instance's lease to run out; when it is fast, the second round takes
// the rest of limit.
//
// Beside them, on a store that implements registry.Fanouts, it claims
// one push recorded in stages whose listing was left (its caller stopped
// early, or its instance died and the claim ran out) and goes on from
// where it stopped: it lists the rest of the audience, records and sends it, never
// a token recorded already. Those deliveries are not counted in the
// result. A takeover that fails gives the push back after the retry
// policy's backoff for its count of takeovers (since its listing last
// moved on); one stopped by ctx's cancel gives it back at once, counting
// no takeover; a push taken over more times than RetryPolicy.MaxAttempts
// without progress is ended without listing, and the error that says
// which users were not pushed is logged.
func (s *Service) RetryPending(ctx context.Context, limit int) (int, error) {
	if s.unbuilt() {
		return 0, notBuilt("Service.RetryPending", "push.New")
	}
	if limit <= 0 {
		return 0, invalid("limit", "must be > 0, got %d", limit)
	}
	ctx, span, claims := s.tel.startClaim(ctx, ClaimKindSend)
	defer span.End()
	// The fanout goes on beside the retries, not before them: listing a
	// large audience takes a while, and the retries due must not wait for
	// it. Its deliveries are recorded claimed, so the claim below never
	// takes them. RetryPending returns once both are done.
	var resume sync.WaitGroup
	defer resume.Wait()
	resume.Go(func() {
		// A pass stopped before its claim started claimed nothing: that
		// is a stop, not a failure.
		if _, err := s.resumeFanouts(ctx, 1); err != nil && (ctx.Err() == nil || !errors.Is(err, ctx.Err())) {
			s.log.LogAttrs(ctx, slog.LevelError, "claiming fanouts failed", slog.String("error", err.Error()))
		}
	})
	msgs := &retryMessages{byID: map[int64]*registry.PushMessage{}}
	sem := s.newSem()
	var sends sync.WaitGroup
	defer sends.Wait()
	total := 0
	for total < limit {
		if total > 0 && ctx.Err() != nil {
			break // stopped between rounds: what was claimed is handled
		}
		want := s.claimRound(&s.sendPace, limit-total, total == 0)
		claims.begin()
		ds, err := detached(ctx, s, func(ctx context.Context) ([]registry.Delivery, error) {
			return s.store.ClaimDeliveries(ctx, registry.ClaimParams{Now: s.now(), Limit: want, Lease: s.lease, Kind: registry.ClaimSend})
		})
		claims.done(len(ds), err)
		if err != nil && total > 0 && ctx.Err() != nil {
			break // stopped between rounds: a stop, not a failure
		}
		if err != nil {
			return total, fmt.Errorf("push: claim pending deliveries: %w", err)
		}
		total += len(ds)
		todo, gaveBack := s.retryable(ctx, ds, msgs)
		ctxs := make([]context.Context, len(todo))
		for i := range ctxs {
			ctxs[i] = ctx
		}
		// Returns once every delivery of the round has its slot: the next
		// round is claimed only then.
		wait := s.startEach(ctxs, sem, msgs.get, todo)
		sends.Go(func() { wait() })
		// A round that gave back deliveries it could not read (their push
		// message, their tokens' holders: the store failing) ends the
		// pass: they are due only after a backoff, but the next round
		// would most likely meet the same failure.
		if len(ds) < want || gaveBack {
			break
		}
	}
	return total, nil
}

// claimRound is how many due deliveries one claim of RetryPending or
// PollReceipts takes, at most left. A pass's first claim takes twice
// SendConcurrency: the vendor may have slowed down since the calls that
// set the pace, and those calls time it again before the next claim.
// Later claims take what SendConcurrency calls at pace start within
// roundHold, and never fewer than twice SendConcurrency (see
// callPace.round).
func (s *Service) claimRound(pace *callPace, left int, first bool) int {
	if first {
		return min(2*s.conc, left)
	}
	return pace.round(s.conc, roundHold, left)
}

// roundHold is how far ahead of its calls a pass claims: a second's worth
// of calls. Every instance's pass then works on a backlog beside the
// others once it is more than a second's work for one, and a pass makes
// at most about one claim a second beyond its first.
const roundHold = time.Second

// retryMessages caches the push messages of the deliveries RetryPending
// sends: read by their sends while the next round adds to it.
type retryMessages struct {
	mu   sync.Mutex
	byID map[int64]*registry.PushMessage
}

func (m *retryMessages) get(id int64) *registry.PushMessage {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.byID[id]
}

// held is what reheld found.
type held int

const (
	heldSome   held = iota // send to the tokens left in the delivery
	heldNone               // failed: nobody of the push holds them now
	heldUnread             // given back: the holders could not be read
)

// reheld keeps, of the tokens of d (a delivery of m tried again), those a
// user of m still holds, when the store can tell (registry.PushHolders):
// since the push was recorded a phone may have been logged out, taken over
// by another user's install or had its token disabled, and a retry must
// not show one user's push to another. A delivery none of whose tokens is
// held any more is failed with the reason; one whose holders cannot be
// read is given back, to be tried later.
func (s *Service) reheld(ctx context.Context, d *registry.Delivery, m *registry.PushMessage) held {
	ph, ok := s.store.(registry.PushHolders)
	if !ok || m == nil || d.Audience != registry.AudienceTokens || m.PushType != registry.PushTypeUsers || len(d.Tokens) == 0 {
		return heldSome
	}
	// A token is looked up in both spellings when its provider spells it
	// one way (provider.TokenCanonicalizer): a delivery recorded before
	// the phone registered again keeps the spelling it was sent in, and
	// the device row may hold the other one now (an upgrade lower-cased
	// Umeng's iOS tokens; an app may send them in upper case).
	lookup, spell := s.spellings(d.Provider, d.Platform, d.Tokens)
	// Bounded as a write: a read the database plans badly must not hold
	// the pass, whose other deliveries and rows wait for it; the delivery
	// is given back.
	rctx, cancel := context.WithTimeout(ctx, s.writeTO)
	ts, recorded, err := ph.PushHolders(rctx, d.PushMessageID, lookup)
	cancel()
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "reading the holders of a delivery's tokens failed", slog.Int64("delivery_id", d.ID),
			slog.String("error", err.Error()))
		s.releaseLater(ctx, d, "the holders of its tokens could not be read")
		return heldUnread
	}
	if !recorded {
		return heldSome // the store keeps no user of this push: nothing to check against
	}
	holds := make(map[string]bool, len(ts))
	for _, t := range ts {
		if g, token, ok := s.targetOf(t); ok && g.provider == d.Provider && g.platform == d.Platform {
			holds[spell(token)] = true
		}
	}
	keep := make([]string, 0, len(d.Tokens))
	for _, t := range d.Tokens {
		if holds[spell(t)] {
			keep = append(keep, t)
		}
	}
	if len(keep) == 0 {
		s.abandon(ctx, d, "no user of the push holds its devices any more (logged out, taken over by another user's install, or the token disabled): not sent")
		return heldNone
	}
	if len(keep) < len(d.Tokens) {
		s.log.LogAttrs(ctx, slog.LevelInfo, "tokens no user of the push holds any more left out of a retry",
			slog.Int64("delivery_id", d.ID), slog.Int("left_out", len(d.Tokens)-len(keep)), slog.Int("sent_to", len(keep)))
		d.Tokens = keep
	}
	return heldSome
}

// canonicalizer returns how provider name spells the tokens of platform
// (provider.TokenCanonicalizer), or nil when it takes them as they are.
func (s *Service) canonicalizer(name, platform string) func(string) string {
	tc, ok := s.providers[name].(provider.TokenCanonicalizer)
	if !ok {
		return nil
	}
	return func(t string) string { return tc.CanonicalToken(provider.Platform(platform), t) }
}

// spellings returns tokens of provider name and platform followed by the
// canonical spelling of each that has another (canonicalizer), to look
// them up in both, and the function that spells a token canonically (as
// it is when the provider has one spelling only).
func (s *Service) spellings(name, platform string, tokens []string) ([]string, func(string) string) {
	spell := s.canonicalizer(name, platform)
	if spell == nil {
		return tokens, func(t string) string { return t }
	}
	both := slices.Clone(tokens)
	for _, t := range tokens {
		if c := spell(t); c != t {
			both = append(both, c)
		}
	}
	return both, spell
}

// retryable returns the claimed deliveries that are to be sent, with
// their push messages in msgs. The others are given back (ctx ended, or
// their message could not be read) or failed for good (a platform no
// provider sends to, a message deleted by another program).
func (s *Service) retryable(ctx context.Context, ds []registry.Delivery, msgs *retryMessages) (todo []*registry.Delivery, gaveBack bool) {
	for i := range ds {
		d := &ds[i]
		if ctx.Err() != nil {
			// Stopped while the claim ran: given back untried, due at once.
			s.release(ctx, d, "stopping")
			continue
		}
		// A provider named in another case by another program is the
		// configured one (a Store reads the other columns it may have
		// written otherwise: see sqlstore's scanDelivery).
		d.Provider = s.providerName(d.Provider)
		if !provider.Platform(d.Platform).Valid() {
			// Written by another program: no provider is asked to send
			// to it, and it will not change.
			s.abandon(ctx, d, fmt.Sprintf("its platform %q is neither ios nor android: not sent", d.Platform))
			continue
		}
		if msgs.get(d.PushMessageID) == nil {
			m, err := s.store.GetPushMessage(ctx, d.PushMessageID)
			if errors.Is(err, registry.ErrNotFound) {
				// Deleted by another program: there is nothing to send,
				// and it will not come back. Released, the delivery
				// would be claimed again at every pass, forever.
				s.abandon(ctx, d, fmt.Sprintf("its push message %d is gone: not sent", d.PushMessageID))
				continue
			}
			if err != nil {
				s.log.LogAttrs(ctx, slog.LevelError, "load push message failed", slog.Int64("push_message_id", d.PushMessageID),
					slog.String("error", err.Error()))
				s.releaseLater(ctx, d, "its push message could not be read")
				gaveBack = true
				continue
			}
			msgs.mu.Lock()
			msgs.byID[d.PushMessageID] = &m
			msgs.mu.Unlock()
		}
		switch s.reheld(ctx, d, msgs.get(d.PushMessageID)) {
		case heldNone:
			continue
		case heldUnread:
			gaveBack = true
			continue
		}
		todo = append(todo, d)
	}
	return todo, gaveBack
}

// PollReceipts claims up to limit (at least 1: else a *FieldError)
// accepted, pollable deliveries that are due for a status poll, asks
// their providers, and records the state: final states end polling. Polling follows each provider's declared
// policy (provider.Capabilities.Polling): its Interval between polls
// (Config.PollInterval when it declares none), and it ends at the earliest
// of the push's expiry, the send time plus the provider's MaxTimeToLive
// (the vendor delivers nothing after either: the delivery is done,
// expired) and the send time plus its Horizon (done, with the counts the
// vendor last reported, its state taken as accepted when it reported none
// final, as provider.Polling.Horizon says). A provider that declares polling
// Disabled is not asked: its deliveries are done, accepted. It returns
// how many it claimed; those left when ctx ends are given back unpolled,
// due at once (a claim under way when ctx ends finishes first, as
// RetryPending's does).
//
// It polls SendConcurrency receipts at once, and claims them as
// RetryPending claims sends: in rounds sized by the pace of recent status
// calls, the next once every receipt of the one before is being polled,
// so that when the vendor is slow the other instances poll the rest
// beside it.
func (s *Service) PollReceipts(ctx context.Context, limit int) (int, error) {
	if s.unbuilt() {
		return 0, notBuilt("Service.PollReceipts", "push.New")
	}
	if limit <= 0 {
		return 0, invalid("limit", "must be > 0, got %d", limit)
	}
	ctx, span, claims := s.tel.startClaim(ctx, ClaimKindPoll)
	defer span.End()
	sem := s.newSem()
	var polls sync.WaitGroup
	defer polls.Wait()
	total := 0
	for total < limit {
		if total > 0 && ctx.Err() != nil {
			break // stopped between rounds: what was claimed is handled
		}
		want := s.claimRound(&s.pollPace, limit-total, total == 0)
		claims.begin()
		ds, err := detached(ctx, s, func(ctx context.Context) ([]registry.Delivery, error) {
			return s.store.ClaimDeliveries(ctx, registry.ClaimParams{Now: s.now(), Limit: want, Lease: s.lease, Kind: registry.ClaimPoll})
		})
		claims.done(len(ds), err)
		if err != nil {
			return total, fmt.Errorf("push: claim receipts to poll: %w", err)
		}
		total += len(ds)
		for _, g := range s.pollGroups(ds) {
			sem <- struct{}{}
			if ctx.Err() != nil {
				<-sem
				for _, d := range g.ds {
					s.releasePoll(ctx, d)
				}
				continue
			}
			polls.Go(func() {
				defer func() { <-sem }()
				s.pollGroup(ctx, g)
			})
		}
		if len(ds) < want {
			break
		}
	}
	return total, nil
}

// releasePoll gives a claimed receipt back unpolled, due at once.
func (s *Service) releasePoll(ctx context.Context, d *registry.Delivery) {
	d.NextAttemptAt = s.now()
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	if err := s.store.FinishDelivery(wctx, d); err != nil && !errors.Is(err, registry.ErrClaimLost) {
		s.log.LogAttrs(ctx, slog.LevelError, "giving back a receipt to poll failed: it is polled once its lease runs out",
			slog.Int64("delivery_id", d.ID), slog.String("error", err.Error()))
	}
}

// pollGroup is the receipts one status call asks about: one receipt, or
// several of one provider and platform that batch answers at once.
type pollGroup struct {
	batch provider.BatchStatusQuerier // nil: ds holds one receipt
	ds    []*registry.Delivery
}

// pollGroups groups claimed receipts for their status calls: those of a
// provider that answers many at once (provider.BatchStatusQuerier), and
// polls, by provider and platform, at most its MaxStatusIDs a group; each
// other receipt alone.
func (s *Service) pollGroups(ds []registry.Delivery) []pollGroup {
	var out []pollGroup
	open := map[target]int{} // the group of a pair still taking receipts
	for i := range ds {
		d := &ds[i]
		p, err := s.Provider(d.Provider)
		bq, ok := p.(provider.BatchStatusQuerier)
		if err != nil || !ok || s.capsOf(d).Polling.Disabled || bq.MaxStatusIDs() < 2 {
			out = append(out, pollGroup{ds: []*registry.Delivery{d}})
			continue
		}
		k := target{provider: d.Provider, platform: d.Platform}
		if j, ok := open[k]; ok && len(out[j].ds) < bq.MaxStatusIDs() {
			out[j].ds = append(out[j].ds, d)
			continue
		}
		open[k] = len(out)
		out = append(out, pollGroup{batch: bq, ds: []*registry.Delivery{d}})
	}
	return out
}

// pollGroup polls g's receipts with one status call and records each
// one's outcome (see applyPoll).
func (s *Service) pollGroup(ctx context.Context, g pollGroup) {
	if g.batch == nil || len(g.ds) == 1 {
		s.poll1(ctx, g.ds[0])
		return
	}
	first := g.ds[0]
	ids := make([]string, len(g.ds))
	for i, d := range g.ds {
		ids[i] = d.ReceiptID
	}
	sctx, end := s.tel.startBatchStatus(ctx, first.Provider, first.Platform, len(ids))
	start := time.Now()
	rs, err := guard(ctx, s, first.Provider, OpStatus, provider.Unknown, nil, func() ([]provider.StatusResult, error) {
		return g.batch.Statuses(sctx, provider.Platform(first.Platform), ids)
	})
	s.pollPace.observe(time.Since(start))
	if err == nil && len(rs) != len(ids) {
		err = &provider.Error{Provider: first.Provider, Op: OpStatus, Kind: provider.Unknown,
			Message: fmt.Sprintf("answered %d results for %d ids", len(rs), len(ids))}
	}
	end(err) // its kind and code only: no text of the error is kept
	for i, d := range g.ds {
		var st *provider.Status
		derr := err
		if err == nil {
			st, derr = rs[i].Status, rs[i].Err
			if st == nil && derr == nil {
				derr = &provider.Error{Provider: d.Provider, Op: OpStatus, Kind: provider.Unknown, Message: "no status and no error for the id"}
			}
		}
		s.applyPoll(ctx, d, st, s.scrubErr(derr, d.Tokens))
	}
}

// poll1 polls one receipt with its provider's Status and records the
// outcome (see applyPoll).
func (s *Service) poll1(ctx context.Context, d *registry.Delivery) {
	var st *provider.Status
	p, err := s.Provider(d.Provider)
	if err == nil {
		q, ok := p.(provider.StatusQuerier)
		switch {
		case !ok:
			err = fmt.Errorf("push: provider %q cannot poll", d.Provider)
		case s.capsOf(d).Polling.Disabled:
			// Accepted before its provider declared polling disabled: it
			// ends as it would have at the send, without a call.
			st = &provider.Status{ID: d.ReceiptID, State: provider.StateAccepted}
		default:
			sctx, end := s.tel.startCall(ctx, OpStatus, d, nil)
			start := time.Now()
			st, err = guard(ctx, s, d.Provider, OpStatus, provider.Unknown, d.Tokens, func() (*provider.Status, error) {
				return q.Status(sctx, provider.Platform(d.Platform), d.ReceiptID)
			})
			if st == nil && err == nil {
				err = noAnswer(d.Provider, OpStatus)
			}
			s.pollPace.observe(time.Since(start))
			err = s.scrubErr(err, d.Tokens)
			end(err)
		}
	}
	s.applyPoll(ctx, d, st, err)
}

// applyPoll records what a status call answered for d: its state (err
// nil), a retryable error (polled again later), or an error the vendor
// will answer again (polling ends, the push stays accepted).
func (s *Service) applyPoll(ctx context.Context, d *registry.Delivery, st *provider.Status, err error) {
	now := s.now()
	stop, expires := s.pollStop(d)
	expired := !stop.IsZero() && !now.Before(stop)
	var wait time.Duration // how long the vendor asked us to wait
	switch {
	case err == nil:
		d.VendorState = string(st.State)
		if st.Raw != nil {
			d.Response = registry.SanitizeText(s.scrubText(string(st.Raw), d.Tokens), maxResponseBytes)
		}
		d.ErrorKind, d.ErrorCode = "", ""
		if st.State.Final() {
			d.State = registry.DeliveryDone
		}
	case provider.KindOf(err).Retryable() || provider.KindOf(err) == provider.Auth || errors.Is(err, context.Canceled) ||
		provider.KindOf(err) == provider.InvalidRequest && provider.CodeOf(err) == "":
		// An auth refusal says nothing of the task: credentials rotated,
		// an IP allow-list changed. Nor does a refusal without the
		// vendor's own code (a gateway's or a proxy's 400 or 404 page):
		// polled again at the interval, until fixed or the push expires;
		// the delivery's error_kind says why.
		d.ErrorKind, d.ErrorCode = provider.KindOf(err).String(), registry.SanitizeText(provider.CodeOf(err), 64)
		wait = provider.RetryAfterOf(err)
	default:
		// The vendor cannot tell us more (unknown task, no poll support):
		// the push stays accepted, and polling ends.
		d.ErrorKind, d.ErrorCode = provider.KindOf(err).String(), registry.SanitizeText(provider.CodeOf(err), 64)
		endPoll(d)
	}
	if d.State == registry.DeliveryAccepted {
		switch {
		case expired && expires:
			d.State = registry.DeliveryDone
			d.VendorState = string(provider.StateExpired)
			if s.capsOf(d).Polling.DoneAtExpiry {
				// Decided here from the stored expiry, not by the client
				// that sent it (which alone remembers the send): the same
				// on every instance.
				d.VendorState = string(provider.StateDone)
			}
		case expired:
			// The horizon: the vendor may still count, but polling ends
			// with the last counts it reported. A state that is not final
			// (sending) would read as still in flight for good: it ends
			// accepted, as when the vendor cannot tell us more.
			endPoll(d)
		case errors.Is(err, context.Canceled) && wait == 0:
			// Stopped mid-call (the instance shuts down): a poll asks and
			// changes nothing, so it is due again at once, for the next
			// pass of any instance, not a whole interval later.
			d.NextAttemptAt = now
		default:
			d.NextAttemptAt = now.Add(max(s.pollInterval(d), wait))
			if !stop.IsZero() && d.NextAttemptAt.After(stop) {
				d.NextAttemptAt = stop // the last poll comes when polling ends
			}
		}
	}
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	if ferr := s.store.FinishDelivery(wctx, d); ferr != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "recording poll outcome failed", slog.Int64("delivery_id", d.ID),
			slog.String("error", ferr.Error()))
		return
	}
	s.log.LogAttrs(ctx, slog.LevelDebug, "receipt polled", slog.Int64("delivery_id", d.ID),
		slog.String("vendor_state", d.VendorState), slog.String("state", string(d.State)))
}

// endPoll ends the polling of d before its vendor state is final: d is
// done, its vendor state accepted unless it is final already (nothing
// follows it any more).
func endPoll(d *registry.Delivery) {
	d.State = registry.DeliveryDone
	if !provider.State(d.VendorState).Final() {
		d.VendorState = string(provider.StateAccepted)
	}
}

// pollInterval is the wait between polls of d: its provider's
// Polling.Interval, or Config.PollInterval.
func (s *Service) pollInterval(d *registry.Delivery) time.Duration {
	if iv := s.capsOf(d).Polling.Interval; iv > 0 {
		return iv
	}
	return s.poll
}

// pollStop returns when polling d ends (zero: never, for lack of an
// expiry and a send time), and whether it ends because the push expires
// there (the caller's expiry, or the provider's MaxTimeToLive after the
// send) rather than at the provider's Polling.Horizon.
func (s *Service) pollStop(d *registry.Delivery) (stop time.Time, expires bool) {
	earlier := func(t time.Time, exp bool) {
		if stop.IsZero() || t.Before(stop) || t.Equal(stop) && exp {
			stop, expires = t, exp
		}
	}
	if d.ExpireAt != nil {
		earlier(*d.ExpireAt, true)
	}
	c := s.capsOf(d)
	if d.SentAt != nil {
		if c.MaxTimeToLive > 0 {
			earlier(d.SentAt.Add(c.MaxTimeToLive), true)
		}
		if c.Polling.Horizon > 0 {
			earlier(d.SentAt.Add(c.Polling.Horizon), false)
		}
	}
	return stop, expires
}

// Receipts are the receipt counts of a push per platform, summed over its
// deliveries when read.
type Receipts struct {
	IOS     registry.ReceiptCounts
	Android registry.ReceiptCounts
}

// RecordReport counts a receipt a vendor posted (see umeng.ReceiptHandler)
// on the delivery it names, found by (r.Provider, r.MsgID): Event arrived
// adds to its arrived count, opened to opened, dismissed to dismissed.
// When r.Token is set, the delivery must have gone to that token, and
// the device's event counts once: a receipt recorded again (the vendor
// posting it again, or two posts of it at once) adds nothing.
//
// A receipt whose msg id no delivery has yet may be about a send whose
// outcome is still being recorded: on a store that is a
// registry.ReceiptHolder it is held (nil is returned) and counted by
// AdoptReceipts once that outcome is recorded, or dropped after
// Config.ReceiptHold; at Config.MaxHeldReceipts it is not held, and is
// answered as naming no push we sent. A receipt that names a delivery it cannot be about
// (a token the delivery did not go to), or no delivery on a store that
// cannot hold it, is an error wrapping
// provider.ErrUnknownReport (and registry.ErrNotFound); an invalid one (no
// provider, no msg id, an unknown event, a provider, msg id or token that
// is not UTF-8 of at most 255 characters without NUL) is a *FieldError,
// and nothing is asked of the store.
//
// A count without a token is not idempotent, and a vendor posts again a
// receipt it was not answered for. So once started the count is written
// on its own clock (WriteTimeout), detached from ctx's cancellation, and
// its result returned; a count cancelled after it was written would be
// answered as failed, posted again and counted twice. A ctx that has
// ended before the count starts counts nothing, and the error wraps
// ctx's.
func (s *Service) RecordReport(ctx context.Context, r provider.Report) error {
	if s.unbuilt() {
		return notBuilt("Service.RecordReport", "push.New")
	}
	var c registry.ReceiptCounts
	switch r.Event {
	case provider.EventArrived:
		c.Arrived = 1
	case provider.EventOpened:
		c.Opened = 1
	case provider.EventDismissed:
		c.Dismissed = 1
	default:
		return invalid("event", "must be %q, %q or %q, got %q", provider.EventArrived, provider.EventOpened,
			provider.EventDismissed, registry.Clip(string(r.Event), 32))
	}
	if r.Provider == "" {
		return invalid("provider", "is required")
	}
	if r.MsgID == "" {
		return invalid("msg_id", "is required")
	}
	for _, f := range []struct{ name, v string }{{"provider", r.Provider}, {"msg_id", r.MsgID}, {"token", r.Token}} {
		if err := checkVarchar(f.name, f.v); err != nil {
			return err
		}
	}
	_, err := detached(ctx, s, func(ctx context.Context) (struct{}, error) {
		return struct{}{}, s.recordOrHold(ctx, r, c)
	})
	if errors.Is(err, registry.ErrNotFound) {
		return fmt.Errorf("push: record receipt %q of %s: %w (%w)", registry.Clip(r.MsgID, 64), r.Provider, provider.ErrUnknownReport, err)
	}
	if err != nil {
		return fmt.Errorf("push: record receipt: %w", err)
	}
	return nil
}

// recordOrHold records r's counts c, or holds them when no delivery has
// r.MsgID yet and the store can hold a receipt (see RecordReport).
func (s *Service) recordOrHold(ctx context.Context, r provider.Report, c registry.ReceiptCounts) error {
	err := s.store.RecordReceipts(ctx, r.Provider, r.MsgID, r.Token, c)
	h, ok := s.store.(registry.ReceiptHolder)
	if !ok || !errors.Is(err, registry.ErrNotFound) {
		return err
	}
	if full, err := s.heldFull(ctx); err != nil {
		return err
	} else if full {
		s.tel.adoptedReceipts(ctx, 0, 1)
		return fmt.Errorf("not held: %d receipts are held, the cap (Config.MaxHeldReceipts): %w", s.maxHeld, registry.ErrNotFound)
	}
	held, err := h.HoldReceipt(ctx, r.Provider, r.MsgID, r.Token, c, s.now())
	switch {
	case err != nil:
		return err
	case held:
		s.heldOne()
		s.tel.heldReceipt(ctx, r.Provider)
		s.log.DebugContext(ctx, "receipt held until its delivery is recorded", "provider", r.Provider,
			"msg_id", registry.Clip(r.MsgID, 64))
		return nil
	}
	// A delivery has the id: its outcome was recorded in the meantime,
	// or it did not go to r.Token.
	return s.store.RecordReceipts(ctx, r.Provider, r.MsgID, r.Token, c)
}

// heldCount is how many receipts the store holds, as a Service last
// counted them plus those it held since (see Config.MaxHeldReceipts).
type heldCount struct {
	mu    sync.Mutex
	known bool      // n was counted, and not given up since a failed count
	n     int64     // receipts held
	at    time.Time // when n was counted (Config.Now)
}

// heldRecount is how often a Service counts the held receipts again while
// it holds receipts: other instances hold and adopt theirs.
const heldRecount = time.Second

// heldFull reports whether the store holds Config.MaxHeldReceipts
// receipts or more, counting them when they were not counted within
// heldRecount. On a store that cannot count them it is never full.
func (s *Service) heldFull(ctx context.Context) (bool, error) {
	c, ok := s.store.(registry.HeldReceiptCounter)
	if !ok {
		return false, nil
	}
	h := &s.held
	h.mu.Lock()
	n, fresh := h.n, h.known && s.now().Sub(h.at) < heldRecount
	h.mu.Unlock()
	if !fresh {
		var err error
		if n, err = s.countHeld(ctx, c); err != nil {
			return false, err
		}
	}
	return n >= s.maxHeld, nil
}

// heldOne counts a receipt this Service held on the last count.
func (s *Service) heldOne() {
	h := &s.held
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.known {
		h.n++
	}
}

// recountHeld counts the receipts held again after AdoptReceipts dropped
// and adopted some. When the count fails, the next hold counts.
func (s *Service) recountHeld(ctx context.Context) {
	c, ok := s.store.(registry.HeldReceiptCounter)
	if !ok {
		return
	}
	if _, err := detached(ctx, s, func(ctx context.Context) (int64, error) { return s.countHeld(ctx, c) }); err != nil {
		s.held.mu.Lock()
		s.held.known = false
		s.held.mu.Unlock()
		if cerr := ctx.Err(); cerr == nil || !errors.Is(err, cerr) { // not counted for ctx's end: a stop, no failure
			s.log.WarnContext(ctx, "counting the held receipts failed", "error", err.Error())
		}
	}
}

// countHeld reads how many receipts the store holds into s.held.
func (s *Service) countHeld(ctx context.Context, c registry.HeldReceiptCounter) (int64, error) {
	at := s.now()
	n, err := c.CountHeldReceipts(ctx)
	if err != nil {
		return 0, fmt.Errorf("count held receipts: %w", err)
	}
	h := &s.held
	h.mu.Lock()
	h.known, h.n, h.at = true, n, at
	h.mu.Unlock()
	return n, nil
}

// AdoptReceipts drops the receipts RecordReport held longer than
// Config.ReceiptHold whose delivery is still unknown, then counts the held
// receipts whose delivery's outcome has since been recorded (see
// registry.ReceiptHolder). Each call does a bounded amount of work,
// whatever the number of receipts held (another system's pushes' are held
// until they expire): it drops up to 100 windows of limit, and looks at up
// to 100 windows of limit held receipts, going on from where its last
// call stopped and starting again from the first after the last. It
// returns how many held receipts it recorded (one whose device's event
// was already counted is recorded and adds nothing, as RecordReport would
// add nothing); the Scanner calls it each pass
// until it counts fewer than limit. On a store that cannot hold receipts
// it does nothing. A limit below 1 is a *FieldError naming "limit".
func (s *Service) AdoptReceipts(ctx context.Context, limit int) (int, error) {
	if s.unbuilt() {
		return 0, notBuilt("Service.AdoptReceipts", "push.New")
	}
	if limit < 1 {
		return 0, invalid("limit", "must be at least 1, got %d", limit)
	}
	h, ok := s.store.(registry.ReceiptHolder)
	if !ok {
		return 0, nil
	}
	defer s.recountHeld(ctx)
	// A failed drop does not keep the adoption from its turn, nor a
	// failed adoption the drop: each pass does both.
	dropped, dropErr := s.dropHeld(ctx, h, limit)
	var got registry.Adoption
	for range adoptWindows {
		after := s.adoptAfter.Load()
		a, err := detached(ctx, s, func(ctx context.Context) (registry.Adoption, error) {
			return h.AdoptReceipts(ctx, after, limit)
		})
		got.Adopted, got.Dropped = got.Adopted+a.Adopted, got.Dropped+a.Dropped
		// Past what the call looked at, even when a receipt of it failed:
		// that one is tried again on the next lap, and does not hold the
		// others up.
		s.adoptAfter.CompareAndSwap(after, a.Next)
		if err != nil {
			s.tel.adoptedReceipts(ctx, got.Adopted, got.Dropped+dropped)
			return got.Adopted, errors.Join(dropErr, fmt.Errorf("push: adopt held receipts: %w", err))
		}
		if a.Next == 0 || got.Adopted >= limit || ctx.Err() != nil {
			break
		}
	}
	s.tel.adoptedReceipts(ctx, got.Adopted, got.Dropped+dropped)
	if n := got.Dropped + dropped; n > 0 {
		s.log.InfoContext(ctx, "held receipts dropped", "count", n, "receipt_hold", s.receiptHold)
	}
	return got.Adopted, dropErr
}

// adoptWindows bounds the windows of held receipts one AdoptReceipts call
// looks at, and the batches of expired ones it drops.
const adoptWindows = 100

// dropHeld drops the receipts held longer than ReceiptHold whose delivery
// is unknown, limit at a time, at most adoptWindows batches.
func (s *Service) dropHeld(ctx context.Context, h registry.ReceiptHolder, limit int) (int, error) {
	before := s.now().Add(-s.receiptHold)
	total := 0
	for range adoptWindows {
		n, err := detached(ctx, s, func(ctx context.Context) (int, error) { return h.DropHeldReceipts(ctx, before, limit) })
		total += n
		if err != nil {
			return total, fmt.Errorf("push: drop expired held receipts: %w", err)
		}
		if n == 0 || ctx.Err() != nil {
			break
		}
	}
	return total, nil
}
