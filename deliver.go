package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/tuisong/push/internal/leaseslot"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Limits of the delivery columns that hold vendor text.
const (
	maxResponseBytes = registry.MaxText
	maxShortBytes    = 255
)

// newSem returns a semaphore of SendConcurrency vendor calls.
func (s *Service) newSem() chan struct{} { return make(chan struct{}, s.conc) }

// sendWith sends deliveries this instance has claimed, at most one vendor
// call per slot of sem at a time (the parts of a split delivery share it
// with the rest of the push), and returns their outcomes in the order
// given (a delivery split into parts is replaced by its parts' outcomes).
// A slot is taken before a vendor call and given back as soon as it
// returns. A delivery is sent only while ctx is live, and only once its
// lease covers a whole Send of its provider (its send timeout, enforced;
// see Config.SendTimeout) and the writing of its outcome (WriteTimeout),
// renewing it when it does not (see renew).
// A delivery not sent is released at once, without spending the attempt,
// so that this or another instance sends it in the next pass rather than
// after the lease runs out, and never at the same time.
func (s *Service) sendWith(ctx context.Context, sem chan struct{}, msgOf func(int64) *registry.PushMessage, ds []*registry.Delivery) []DeliveryOutcome {
	ctxs := make([]context.Context, len(ds))
	for i := range ctxs {
		ctxs[i] = ctx
	}
	var flat []DeliveryOutcome
	for _, o := range s.sendEach(ctxs, sem, msgOf, ds) {
		flat = append(flat, o...)
	}
	return flat
}

// sendEach is sendWith with a ctx for each delivery (the push it belongs
// to: its span and values), all of which end with the caller's; it
// returns each delivery's outcomes (its parts', when it was split). The
// deliveries take their slots of sem in order.
func (s *Service) sendEach(ctxs []context.Context, sem chan struct{}, msgOf func(int64) *registry.PushMessage, ds []*registry.Delivery) [][]DeliveryOutcome {
	return s.startEach(ctxs, sem, msgOf, ds)()
}

// startEach is sendEach in two steps: it returns once every delivery has
// taken its slot of sem (its call is under way) or was given back, and
// the function it returns waits for the calls and returns the outcomes.
func (s *Service) startEach(ctxs []context.Context, sem chan struct{}, msgOf func(int64) *registry.PushMessage, ds []*registry.Delivery) func() [][]DeliveryOutcome {
	out := make([][]DeliveryOutcome, len(ds))
	var wg sync.WaitGroup
	for i, d := range ds {
		ctx := ctxs[i]
		if !s.slotWithinLease(sem, d) {
			// Kept waiting, the claim would run out and another
			// instance take the delivery over, its attempt spent though
			// it was never tried. Given back now, any instance may send
			// it at once.
			out[i] = []DeliveryOutcome{s.release(ctx, d, "no send slot freed before its lease would end")}
			continue
		}
		if ctx.Err() != nil {
			<-sem
			out[i] = []DeliveryOutcome{s.release(ctx, d, "stopping")}
			continue
		}
		if err := s.renew(ctx, d); err != nil {
			<-sem
			if errors.Is(err, registry.ErrClaimLost) {
				// Another instance holds it now: its outcome is theirs to
				// write.
				o := outcomeOf(d, nil)
				o.Deferred = true
				out[i] = []DeliveryOutcome{o}
				continue
			}
			out[i] = []DeliveryOutcome{s.release(ctx, d, "its lease could not be renewed: "+err.Error())}
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			out[i] = s.send(ctx, sem, msgOf, d)
		}()
	}
	return func() [][]DeliveryOutcome {
		wg.Wait()
		return out
	}
}

// slotWithinLease takes a slot of sem for d, waiting no later than
// WriteTimeout before d's lease ends (the time its release needs), and
// reports whether it got one.
func (s *Service) slotWithinLease(sem chan struct{}, d *registry.Delivery) bool {
	return leaseslot.Take(sem, d.LeaseUntil, s.now, s.writeTO)
}

// renew takes the claim of d for its vendor call: when less of its lease
// is left than a whole Send of its provider (sendTimeoutOf) and the
// writing of its outcome
// (WriteTimeout), the lease is renewed for a full Lease from now. So a
// delivery claimed long ago (a large push, a slow batch) is still sent by
// its holder, and no other instance can claim it while the call is in
// flight. It fails with registry.ErrClaimLost when another instance took
// the delivery over.
func (s *Service) renew(ctx context.Context, d *registry.Delivery) error {
	now := s.now()
	if d.LeaseUntil != nil && d.LeaseUntil.Sub(now) >= s.sendTimeoutOf(d)+s.writeTO {
		return nil
	}
	return s.store.RenewDelivery(ctx, d, now.Add(s.lease))
}

// unrecordedOutcome notes a delivery sent whose outcome was not recorded
// (err is why): counted, and logged at error level when the store failed,
// at warn level when another instance holds the claim (a lease that ran
// out during a pause: the other's record stands).
func (s *Service) unrecordedOutcome(ctx context.Context, d *registry.Delivery, msg string, err error) {
	s.unrecorded.Add(1)
	lvl, reason := slog.LevelError, "store_error"
	if errors.Is(err, registry.ErrClaimLost) {
		lvl, reason = slog.LevelWarn, "claim_lost"
		msg += ": another instance holds the delivery's claim (its lease ran out), and its record stands"
	}
	s.tel.unrecordedOutcome(ctx, d, reason)
	s.log.LogAttrs(ctx, lvl, msg, slog.Int64("delivery_id", d.ID), slog.String("error", err.Error()))
}

// release gives a claimed delivery back untried: due at once, the claim's
// attempt refunded.
func (s *Service) release(ctx context.Context, d *registry.Delivery, why string) DeliveryOutcome {
	return s.releaseAt(ctx, d, why, s.now())
}

// releaseLater is release for a read of the store that failed (or ran past
// its bound) before the call: due after the retry policy's backoff for the
// delivery's attempts (the attempt refunded, it does not grow), not at
// once, so that a read that fails every time is made again once a backoff,
// not by every round of every pass, until the push expires.
// One stopped by its caller (ctx ended: a shutdown) is due at once, as
// every delivery a stopped pass gives back.
func (s *Service) releaseLater(ctx context.Context, d *registry.Delivery, why string) DeliveryOutcome {
	if ctx.Err() != nil {
		return s.release(ctx, d, why)
	}
	return s.releaseAt(ctx, d, why, s.now().Add(s.retry.Backoff(max(d.Attempts, 1), 0)))
}

// releaseAt is release, due at due.
func (s *Service) releaseAt(ctx context.Context, d *registry.Delivery, why string, due time.Time) DeliveryOutcome {
	d.Attempts = max(d.Attempts-1, 0)
	d.State = registry.DeliveryPending
	d.NextAttemptAt = due
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	if err := s.store.FinishDelivery(wctx, d); err != nil {
		lvl := slog.LevelError
		if errors.Is(err, registry.ErrClaimLost) {
			lvl = slog.LevelWarn // another instance took it over: nothing to give back
		}
		s.log.LogAttrs(ctx, lvl, "releasing delivery failed: it is taken again once its lease runs out", slog.Int64("delivery_id", d.ID),
			slog.String("reason", why), slog.String("error", err.Error()))
	} else {
		s.log.LogAttrs(ctx, slog.LevelInfo, "delivery released for a later pass", slog.Int64("delivery_id", d.ID),
			slog.String("reason", why))
	}
	o := outcomeOf(d, nil)
	o.Deferred = true
	return o
}

// abandon fails a claimed delivery for good without a vendor call (the
// claim's attempt refunded), the reason in its response.
func (s *Service) abandon(ctx context.Context, d *registry.Delivery, why string) {
	d.Attempts = max(d.Attempts-1, 0)
	d.State, d.Ret = registry.DeliveryFailed, registry.RetFail
	d.Response = registry.SanitizeText(why, maxResponseBytes)
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	if err := s.store.FinishDelivery(wctx, d); err != nil {
		s.log.LogAttrs(ctx, slog.LevelError, "failing delivery failed", slog.Int64("delivery_id", d.ID),
			slog.String("error", err.Error()))
		return
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "delivery failed without a call", slog.Int64("delivery_id", d.ID),
		slog.String("reason", why))
}

// send makes one vendor call for a delivery this instance has claimed,
// applies the outcome (errors drive behaviour: see the package's Delivery
// semantics) and records it. A multi-token delivery refused for an invalid
// token is split, and its parts sent at once, so that the dead token is
// found and disabled and the others still receive the push: when the
// vendor named the tokens it refused (provider.Error.Failures), those are
// disabled and the rest make one part; when it did not, the delivery is
// split in two halves, and a half refused again is halved again, so that
// one dead token among n costs about 2·log2(n) calls rather than n. A
// delivery whose parts cannot be stored (failUnsplit) fails with the
// vendor's refusal and the reason.
//
// The caller holds a slot of sem; send gives it back when the vendor call
// returns.
func (s *Service) send(ctx context.Context, sem chan struct{}, msgOf func(int64) *registry.PushMessage, d *registry.Delivery) []DeliveryOutcome {
	rc, err := s.call(ctx, msgOf, d)
	<-sem
	if errors.Is(err, errTakenOver) {
		s.log.LogAttrs(ctx, slog.LevelInfo, "delivery not sent: another instance took it over", slog.Int64("delivery_id", d.ID))
		o := outcomeOf(d, nil)
		o.Deferred = true
		return []DeliveryOutcome{o}
	}
	rc, err = s.scrubReceipt(rc, d.Tokens), s.scrubErr(err, d.Tokens)
	now := s.now()
	if !errors.Is(err, errExpiredUnsent) {
		d.SentAt = &now // the last call's time: a delivery that expired before its call keeps its earlier one, or none
	}
	disable, split := s.applySend(d, rc, err, now)
	s.tel.delivered(ctx, d)
	wctx, cancel := s.writeCtx(ctx)
	defer cancel()
	// The tokens the vendor refused are disabled after the outcome is
	// recorded, not before: both writes retry within the delivery's lease,
	// and a slow device write must not push the outcome's past it (another
	// instance would then send the delivery again). A crash between the two
	// costs only the disablement, which the next send's refusal repeats.
	disableTokens := func() {
		if len(disable) == 0 {
			return
		}
		n, derr := s.disableSent(ctx, d, disable)
		if derr != nil {
			s.log.LogAttrs(ctx, slog.LevelError, "disable tokens failed", slog.Int64("delivery_id", d.ID),
				slog.String("error", derr.Error()))
		} else {
			s.tel.disabledTokens(ctx, d, n)
			s.log.LogAttrs(ctx, slog.LevelInfo, "tokens disabled", slog.Int64("delivery_id", d.ID), slog.Int64("devices", n))
		}
	}
	if split != nil {
		// A split has no outcome of its own to record first: its parts
		// are written (SplitDelivery) and sent or failed at once.
		disableTokens()
		refused, send, dropped := storableGroups(split)
		groups := send
		if len(refused) > 0 {
			groups = append([][]string{refused}, groups...)
		}
		if len(groups) == 0 {
			return []DeliveryOutcome{s.failUnsplit(ctx, d, err, fmt.Sprintf("none of its %d tokens can be stored in a part", len(d.Tokens)))}
		}
		parts := s.splitParts(d, groups, now)
		if serr := s.store.SplitDelivery(wctx, d, parts); serr != nil {
			if !errors.Is(serr, registry.ErrClaimLost) && (errors.Is(serr, registry.ErrInvalid) || errors.Is(serr, registry.ErrConflict)) {
				// The store will refuse these parts at every try: kept
				// claimed, the delivery would be sent again at every
				// lease's end, forever.
				return []DeliveryOutcome{s.failUnsplit(ctx, d, err, "its parts cannot be stored: "+serr.Error())}
			}
			// The delivery stays claimed, and pending in the store, until
			// its lease runs out; then it is sent again and split then.
			s.log.LogAttrs(ctx, slog.LevelError, "splitting delivery failed", slog.Int64("delivery_id", d.ID),
				slog.String("error", serr.Error()))
			d.State = registry.DeliveryPending
			o := outcomeOf(d, err)
			o.Deferred = true
			return []DeliveryOutcome{o}
		}
		if dropped > 0 {
			s.log.LogAttrs(ctx, slog.LevelWarn, "tokens no store keeps left out of the split", slog.Int64("delivery_id", d.ID),
				slog.Int("tokens", dropped))
		}
		s.log.LogAttrs(ctx, slog.LevelInfo, "delivery split after an invalid-token answer",
			slog.Int64("delivery_id", d.ID), slog.Int("parts", len(parts)), slog.Int("tokens_refused", len(refused)))
		if len(refused) == 0 {
			return s.sendWith(ctx, sem, msgOf, parts)
		}
		// The tokens the vendor named keep their refusal in a part of
		// their own, failed at once, so that the push's record lists every
		// token once; the rest is sent again.
		named := parts[0]
		named.State, named.Ret, named.SentAt = registry.DeliveryFailed, registry.RetFail, &now
		named.ErrorKind, named.ErrorCode, named.Response = d.ErrorKind, d.ErrorCode, d.Response
		o := outcomeOf(named, err)
		if ferr := s.recordSent(ctx, named); ferr != nil {
			s.unrecordedOutcome(ctx, named, "recording refused tokens failed", ferr)
			o.Unrecorded = true
		}
		return append([]DeliveryOutcome{o}, s.sendWith(ctx, sem, msgOf, parts[1:])...)
	}
	recorded := true
	if ferr := s.recordSent(ctx, d); ferr != nil {
		// The outcome is lost only for this instance: the delivery stays
		// claimed until its lease runs out, then it is sent again with the
		// same idempotency key.
		recorded = false
		s.unrecordedOutcome(ctx, d, "recording delivery outcome failed", ferr)
	}
	disableTokens()
	lvl := slog.LevelInfo
	switch {
	case provider.KindOf(err) == provider.RateLimited && !vendorAnswered(err):
		// Flow control by this client's own quota (no call made): a
		// large push meets it for thousands of deliveries at once, and
		// push.deliveries counts them. A vendor's own refusal (a call
		// made) is logged as any other answer.
		lvl = slog.LevelDebug
	case err != nil:
		lvl = slog.LevelWarn
	}
	s.log.LogAttrs(ctx, lvl, "delivery sent", slog.Int64("push_message_id", d.PushMessageID), slog.Int64("delivery_id", d.ID),
		slog.String("provider", d.Provider), slog.String("platform", d.Platform), slog.Int("tokens", len(d.Tokens)),
		slog.Int("attempt", d.Attempts), slog.String("state", string(d.State)), slog.String("vendor_state", d.VendorState),
		slog.String("error_kind", d.ErrorKind),
		slog.String("error_code", d.ErrorCode), slog.Bool("recorded", recorded))
	o := outcomeOf(d, err)
	o.Unrecorded = !recorded
	return []DeliveryOutcome{o}
}

// errExpiredUnsent is the cause of the outcome of a delivery whose push
// expired before its call: failed, and not sent.
var errExpiredUnsent = errors.New("the push expired before it could be sent: no vendor call was made")

// call makes the vendor call of d on its own clock: bounded by its
// provider's send timeout (sendTimeoutOf) and detached from ctx's
// cancellation (its values are kept). A caller that hangs up, or a Scanner that is stopping, must not abort a call the vendor
// may already be carrying out: the answer would be lost, the delivery sent
// again, and the push shown twice. Stopping is decided
// before a call starts (cannotSend), never during one.
func (s *Service) call(ctx context.Context, msgOf func(int64) *registry.PushMessage, d *registry.Delivery) (*provider.Receipt, error) {
	if d.ExpireAt != nil && !s.now().Before(*d.ExpireAt) {
		d.VendorState = string(provider.StateExpired)
		return nil, &provider.Error{Provider: d.Provider, Op: "send", Kind: provider.InvalidRequest, Err: errExpiredUnsent}
	}
	p, err := s.Provider(d.Provider)
	if err != nil {
		// No call was made: the token the last one left stays for the next.
		return nil, &provider.Error{Provider: d.Provider, Op: "send", Kind: provider.Auth, Err: err, RetryToken: keptRetryToken(d.RetryToken)}
	}
	cctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), s.sendTimeoutOf(d))
	defer cancel()
	msg := msgOf(d.PushMessageID)
	req := s.request(msg, d)
	if iss, ok := p.(provider.RetryTokenIssuer); ok {
		if err := s.issueRetryToken(ctx, cctx, iss, d, req); err != nil {
			return nil, err
		}
	}
	cctx, end := s.tel.startCall(cctx, OpSend, d, msg)
	start := time.Now()
	rc, err := guard(ctx, s, d.Provider, OpSend, provider.Indeterminate, d.Tokens, func() (*provider.Receipt, error) { return p.Send(cctx, req) })
	if rc == nil && err == nil {
		err = noAnswer(d.Provider, OpSend)
	}
	if provider.KindOf(err) != provider.RateLimited || err == nil {
		// A rate refusal, often this client's own quota with no call
		// made, says nothing of how long the vendor takes: timed, it
		// would size the next claims as if sends took microseconds.
		s.sendPace.observe(time.Since(start))
	}
	// The span records the error's code, scrubbed like everything else.
	end(s.scrubErr(err, d.Tokens))
	return rc, err
}

// failUnsplit fails d, which the vendor refused for an invalid token and
// which cannot be split (why), for good: its outcome keeps the vendor's
// answer and why it was not split. Nothing was delivered by the refused
// call, and no later try could split it either.
func (s *Service) failUnsplit(ctx context.Context, d *registry.Delivery, err error, why string) DeliveryOutcome {
	d.State, d.Ret = registry.DeliveryFailed, registry.RetFail
	d.Response = registry.SanitizeText(fmt.Sprintf("not split to find the refused token: %s: %s", why, d.Response), maxResponseBytes)
	o := outcomeOf(d, err)
	if ferr := s.recordSent(ctx, d); ferr != nil {
		// Sent, and refused: the store still holds it pending, to be sent
		// again once its lease runs out.
		s.unrecordedOutcome(ctx, d, "recording delivery outcome failed", ferr)
		o.Unrecorded = true
	}
	s.log.LogAttrs(ctx, slog.LevelWarn, "delivery failed: it cannot be split", slog.Int64("delivery_id", d.ID),
		slog.String("reason", why))
	return o
}

// storableGroups is plan's refused tokens and groups to send without the
// tokens no store keeps in a part (registry.UsableToken: another program
// wrote them into the delivery), groups left empty dropped, and how many
// tokens were left out.
func storableGroups(plan *splitPlan) (refused []string, send [][]string, dropped int) {
	keep := func(toks []string) []string {
		out := toks[:0:0]
		for _, t := range toks {
			if registry.UsableToken(t) {
				out = append(out, t)
			} else {
				dropped++
			}
		}
		return out
	}
	refused = keep(plan.refused)
	for _, g := range plan.send {
		if g = keep(g); len(g) > 0 {
			send = append(send, g)
		}
	}
	return refused, send, dropped
}

// errTakenOver is call's error when another instance took the delivery
// over before its vendor call: nothing was sent, and the outcome is the
// other instance's to write.
var errTakenOver = fmt.Errorf("push: the delivery was taken over before its call: %w", registry.ErrClaimLost)

// issueRetryToken asks the provider for the retry token of d's try before
// its call (provider.RetryTokenIssuer), on cctx, the call's clock, and
// gives it to req; the store write is on that clock too, so that the
// lease renew took for the call covers it. It asks whether or not the try
// brings a token: a provider that can no longer use the one stored (a
// JPush cid too old) takes another, and that one must be stored too. A
// Store that implements registry.RetryTokens stores a token that differs
// from the one d holds, so that a retry after this instance died in the
// middle of the call finds it. A token the provider cannot issue, or the
// Store cannot write, is not worth a push: the call is made all the same.
// Only a claim another instance took over stops it (errTakenOver):
// nothing is sent.
func (s *Service) issueRetryToken(ctx, cctx context.Context, iss provider.RetryTokenIssuer, d *registry.Delivery, req *provider.Request) error {
	token, err := guard(ctx, s, d.Provider, "retry_token", provider.Unknown, d.Tokens, func() (string, error) { return iss.IssueRetryToken(cctx, req) })
	if err != nil {
		s.log.LogAttrs(ctx, slog.LevelWarn, "no retry token before the call: it is made without", slog.Int64("delivery_id", d.ID),
			slog.String("error", s.scrubErr(err, d.Tokens).Error()))
		return nil
	}
	if token = keptRetryToken(token); token == "" {
		return nil
	}
	req.RetryToken = token
	if token == d.RetryToken {
		return nil // stored already
	}
	w, ok := s.store.(registry.RetryTokens)
	if !ok {
		d.RetryToken = token
		return nil
	}
	// On the call's clock too: what comes before the outcome's write
	// stays within the send timeout the lease was renewed for (renew).
	wctx, cancel := context.WithTimeout(cctx, s.writeTO)
	defer cancel()
	err = w.SetRetryToken(wctx, d, token)
	switch {
	case errors.Is(err, registry.ErrClaimLost):
		return errTakenOver
	case err != nil:
		s.log.LogAttrs(ctx, slog.LevelError, "storing the retry token before the call failed: the call is made all the same",
			slog.Int64("delivery_id", d.ID), slog.String("error", err.Error()))
	}
	d.RetryToken = token
	return nil
}

// splitParts returns one claimed delivery per group of tokens, each with
// an idempotency key derived from d's (partKey).
func (s *Service) splitParts(d *registry.Delivery, groups [][]string, now time.Time) []*registry.Delivery {
	claim := newNonce()
	parts := make([]*registry.Delivery, len(groups))
	for i, toks := range groups {
		parts[i] = s.newDelivery(d.Provider, d.Platform, 0, registry.AudienceTokens, toks,
			partKey(d.IdempotencyKey, i), claim, now, d.ExpireAt)
	}
	return parts
}

// partKey is the idempotency key of part i of the delivery whose key is
// key: key and ".i", which a store keeps whole as long as key leaves room
// for the suffix. A longer key (another program's) gives up its tail for
// a digest of the whole key, so that the part key still fits
// registry.MaxVarchar characters and still differs from the parts' of
// every other key.
func partKey(key string, i int) string {
	suffix := "." + strconv.Itoa(i)
	if utf8.RuneCountInString(key)+len(suffix) <= registry.MaxVarchar {
		return key + suffix
	}
	sum := sha256.Sum256([]byte(key))
	digest := "~" + hex.EncodeToString(sum[:8])
	keep := []rune(strings.ToValidUTF8(key, "\uFFFD"))
	keep = keep[:min(len(keep), registry.MaxVarchar-len(digest)-len(suffix))]
	return string(keep) + digest + suffix
}

// splitPlan is how a delivery refused for an invalid token is split.
type splitPlan struct {
	// refused are the tokens the vendor named: they make one part,
	// failed at once. Empty when the vendor named none.
	refused []string
	// send are the parts to send.
	send [][]string
}

// splitRefused decides how a multi-token delivery refused for an invalid
// token goes on. When the vendor named refused tokens of d (err's
// provider.Error.Failures), it returns them to disable and the rest as the
// one group to send again (none when every token was named). When it named
// none, it returns d's tokens in two halves, each sent and, if refused
// again, halved again.
func splitRefused(d *registry.Delivery, err error) (disable []string, groups [][]string) {
	named := map[string]bool{}
	for _, f := range provider.FailuresOf(err) {
		if f.Kind == provider.InvalidToken {
			named[f.Token] = true
		}
	}
	var rest []string
	for _, t := range d.Tokens {
		if named[t] {
			disable = append(disable, t)
		} else {
			rest = append(rest, t)
		}
	}
	if len(disable) == 0 {
		half := (len(d.Tokens) + 1) / 2
		return nil, [][]string{d.Tokens[:half:half], d.Tokens[half:]}
	}
	if len(rest) == 0 {
		return disable, nil
	}
	return disable, [][]string{rest}
}

func outcomeOf(d *registry.Delivery, err error) DeliveryOutcome {
	return DeliveryOutcome{DeliveryID: d.ID, Provider: d.Provider, Platform: d.Platform, Tokens: len(d.Tokens),
		State: d.State, ReceiptID: d.ReceiptID, Err: err}
}

// applySend sets d's outcome fields from the vendor's answer. It returns
// the tokens to disable, and how d must be split (nil: it is not).
func (s *Service) applySend(d *registry.Delivery, rc *provider.Receipt, err error, now time.Time) (disable []string, split *splitPlan) {
	d.ErrorKind, d.ErrorCode = "", ""
	if token, ok := provider.RetryTokenOf(err); ok {
		d.RetryToken = keptRetryToken(token)
	} else if err == nil {
		d.RetryToken = ""
	}
	if err == nil {
		d.ReceiptID = registry.SanitizeText(rc.ID, maxShortBytes)
		// Pollable only when it can be: a receipt that says so from a
		// provider that cannot answer Status, or without an id, cannot.
		_, canPoll := s.providers[d.Provider].(provider.StatusQuerier)
		d.Pollable = rc.Pollable && canPoll && rc.ID != ""
		d.Ret = registry.RetSuccess
		d.Response = registry.SanitizeText(string(rc.Raw), maxResponseBytes)
		if d.Pollable && !s.capsOf(d).Polling.Disabled {
			d.State = registry.DeliveryAccepted
			d.VendorState = string(provider.StateQueued)
			d.NextAttemptAt = now.Add(s.pollInterval(d))
		} else {
			d.State = registry.DeliveryDone
			d.VendorState = string(provider.StateAccepted)
		}
		for _, f := range rc.Failures {
			if f.Kind == provider.InvalidToken {
				disable = append(disable, f.Token)
			}
		}
		if kind, all := everyTokenFailed(d.Tokens, rc.Failures); all {
			// The vendor took the request but sent it to none of its
			// tokens (Getui's successed_ignore: devices inactive for 90
			// days): nothing was delivered, and the record says so.
			d.State, d.Ret = registry.DeliveryFailed, registry.RetFail
			d.VendorState, d.Pollable = string(provider.StateFailed), false
			d.ErrorKind = kind.String()
		}
		return disable, nil
	}
	kind := provider.KindOf(err)
	d.ErrorKind = kind.String()
	d.ErrorCode = registry.SanitizeText(provider.CodeOf(err), 64)
	d.Response = registry.SanitizeText(err.Error(), maxResponseBytes)
	switch {
	case kind == provider.RateLimited || kind == provider.QuotaExceeded:
		// Not the delivery's fault: try again without spending an attempt.
		d.Attempts = max(d.Attempts-1, 0)
		d.State = registry.DeliveryPending
		d.NextAttemptAt = now.Add(s.retry.RateLimitWait(provider.RetryAfterOf(err)))
	case kind.Retryable() && !s.retry.Exhausted(d.Attempts):
		d.State = registry.DeliveryPending
		d.NextAttemptAt = now.Add(s.retry.Backoff(d.Attempts, provider.RetryAfterOf(err)))
	case kind.Retryable():
		d.State = registry.DeliveryFailed
		d.Ret = registry.RetFail
		d.Response = registry.SanitizeText(fmt.Sprintf("%v after %d attempts: %v", errExhausted, d.Attempts, err), maxResponseBytes)
	case kind == provider.InvalidToken && len(d.Tokens) > 1:
		disable, groups := splitRefused(d, err)
		if len(groups) > 0 {
			d.State = registry.DeliverySplit
			return disable, &splitPlan{refused: disable, send: groups}
		}
		// The vendor named every token: none is left to send.
		d.State = registry.DeliveryFailed
		d.Ret = registry.RetFail
		return disable, nil
	default:
		d.State = registry.DeliveryFailed
		d.Ret = registry.RetFail
		if kind == provider.InvalidToken && len(d.Tokens) == 1 {
			return d.Tokens, nil
		}
	}
	if d.State == registry.DeliveryPending && d.ExpireAt != nil && !d.NextAttemptAt.Before(*d.ExpireAt) {
		// The next try (a vendor's Retry-After can ask for years) would come
		// after the vendor stops showing the push: it ends here, expired.
		d.State = registry.DeliveryFailed
		d.Ret = registry.RetFail
		d.VendorState = string(provider.StateExpired)
		d.NextAttemptAt = now
		d.Response = registry.SanitizeText(fmt.Sprintf("expired: the next try would come after the push's expiry at %s: %v",
			d.ExpireAt.Format(time.RFC3339), err), maxResponseBytes)
	}
	return nil, nil
}

// everyTokenFailed reports whether failures name every one of tokens
// (at least one), and the kind of the first token's failure.
func everyTokenFailed(tokens []string, failures []provider.TokenFailure) (provider.Kind, bool) {
	if len(tokens) == 0 || len(failures) == 0 {
		return provider.Unknown, false // the usual case: no map
	}
	failed := make(map[string]provider.Kind, len(failures))
	for _, f := range failures {
		failed[f.Token] = f.Kind
	}
	for _, t := range tokens {
		if _, ok := failed[t]; !ok {
			return provider.Unknown, false
		}
	}
	return failed[tokens[0]], true
}

// keptRetryToken is the provider's RetryToken as a delivery keeps it: ""
// when it cannot be stored whole (longer than provider.MaxRetryToken
// bytes, not UTF-8, or holding a NUL). A token is an id to give back
// verbatim, so it is dropped rather than cut: the next try then goes
// without, as a first try does.
func keptRetryToken(token string) string {
	if len(token) > provider.MaxRetryToken || registry.FitVarchar(token) != token {
		return ""
	}
	return token
}

// request builds the vendor request of a delivery.
func (s *Service) request(msg *registry.PushMessage, d *registry.Delivery) *provider.Request {
	r := &provider.Request{
		Platform: provider.Platform(d.Platform),
		Notification: provider.Notification{Title: msg.Title, Body: msg.Content, Extras: ParseExtra(msg.Extra),
			Class: provider.Class(msg.Class)},
		IdempotencyKey: d.IdempotencyKey,
		RetryToken:     keptRetryToken(d.RetryToken), // a Store may hold what another program wrote
		Description:    fmt.Sprintf("push_message#%d", msg.ID),
	}
	if msg.Overrides != "" {
		// Stored by checkOptions as a JSON object of JSON values; a value
		// the provider cannot read fails that delivery as an invalid request.
		var byProvider map[string]json.RawMessage
		if err := json.Unmarshal([]byte(msg.Overrides), &byProvider); err == nil {
			r.Overrides = make(map[string]any, len(byProvider))
			for name, raw := range byProvider {
				r.Overrides[name] = raw
			}
		} else {
			r.Overrides = map[string]any{d.Provider: json.RawMessage(msg.Overrides)}
		}
	}
	if d.ExpireAt != nil {
		r.ExpireTime = *d.ExpireAt
		// The vendor keeps a push at most its MaxTimeToLive from now: a
		// longer expiry is clamped to that, here only (the stored
		// expire_at stays the caller's).
		if ttl := s.capsOf(d).MaxTimeToLive; ttl > 0 {
			if limit := s.now().Add(ttl); r.ExpireTime.After(limit) {
				r.ExpireTime = limit
			}
		}
	}
	if d.Audience == registry.AudienceBroadcast {
		r.Audience = provider.Audience{Kind: provider.AudienceBroadcast}
	} else {
		r.Audience = provider.Audience{Kind: provider.AudienceTokens, Tokens: d.Tokens}
	}
	return r
}

// vendorAnswered reports whether err carries a vendor's answer (an HTTP
// status or a vendor code), as opposed to a refusal the client made
// without a call (its own rate or quota).
func vendorAnswered(err error) bool {
	var pe *provider.Error
	return errors.As(err, &pe) && (pe.HTTPStatus != 0 || pe.Code != "")
}
