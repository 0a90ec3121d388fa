package push

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"

	"go.opentelemetry.io/otel/trace"

	"github.com/tuisong/push/registry"
)

// PushRequest is one message of PushMany.
type PushRequest struct {
	// Ctx is the context the message's Push would have run under: its
	// trace span is the parent of the message's "push.Push" span. Only
	// the span is taken from it; PushMany's ctx decides when to stop.
	// Nil means PushMany's ctx.
	Ctx     context.Context
	Message Message
}

// PushOutcome is what PushMany did with one message: what Push would have
// returned for it.
type PushOutcome struct {
	Result *Result
	Err    error
}

// PushManyOptions tunes PushMany.
type PushManyOptions struct {
	// MaxCalls bounds the vendor calls of all the messages in flight at
	// once. Default: SendConcurrency for each message, for up to 16 of
	// them. Ignored when Calls is set.
	MaxCalls int
	// Calls, when set, is the bound instead: one shared with the other
	// PushMany calls given the same CallLimit, so that overlapping
	// batches (the Scanner's) have no more vendor calls in flight
	// together than one would.
	Calls *CallLimit
}

// CallLimit bounds the vendor calls in flight of the PushMany calls that
// share it (PushManyOptions.Calls). Make one with NewCallLimit.
type CallLimit struct{ sem chan struct{} }

// NewCallLimit returns a CallLimit of n calls at once (at least 1).
func NewCallLimit(n int) *CallLimit { return &CallLimit{sem: make(chan struct{}, max(n, 1))} }

// manyCallsPerMessage: by default PushMany makes at once SendConcurrency
// vendor calls for each of up to this many messages.
const manyCallsPerMessage = 16

// PushMany pushes each message of reqs as Push would, and returns their
// outcomes in the order of reqs; each message succeeds or fails alone. A
// DedupeKey that two messages share is the earlier one's, as with two
// Push calls in that order: the later is answered as its duplicate. It
// does the work of many small pushes together: it looks their dedupe keys
// up in one query (when the Store implements registry.DedupeKeyFinder),
// lists the targets of all their users at once, and records them and
// finishes their deliveries through the Store's concurrent writers, whose
// transactions many pushes share. A message to more than 500 users is
// pushed on its own, as by Push, alongside the others (its vendor calls
// within the same bound).
//
// The vendor calls of all the messages share one bound, opts.MaxCalls (or
// opts.Calls, shared with other PushMany calls too). As with
// Push, the calls run on their own clocks: when ctx ends, the calls in
// flight finish and are recorded, and the deliveries not yet sent are
// released for the Scanner.
func (s *Service) PushMany(ctx context.Context, reqs []PushRequest, opts *PushManyOptions) []PushOutcome {
	out := make([]PushOutcome, len(reqs))
	if len(reqs) == 0 {
		return out
	}
	if s.unbuilt() {
		err := notBuilt("Service.PushMany", "push.New")
		for i := range out {
			out[i].Err = err
		}
		return out
	}
	type item struct {
		i    int
		ctx  context.Context
		span trace.Span
		m    Message
		p    *preparedPush
	}
	var small, repeats []*item
	var wg, large sync.WaitGroup
	var sem chan struct{}
	switch {
	case opts != nil && opts.Calls != nil && opts.Calls.sem != nil:
		sem = opts.Calls.sem
	case opts != nil && opts.MaxCalls > 0:
		sem = make(chan struct{}, opts.MaxCalls)
	default:
		sem = make(chan struct{}, s.conc*min(len(reqs), manyCallsPerMessage))
	}
	finish := func(it *item, r *Result, err error) {
		out[it.i] = PushOutcome{Result: r, Err: err}
		endPush(it.span, r, err)
	}
	// A DedupeKey repeated within reqs is the first one's: the repeats
	// (large or small) wait for the rest of the batch, as a second Push
	// would for the first, and are then pushed: answered as its duplicate,
	// unless it failed before it was recorded.
	taken := map[string]bool{}
	for i, req := range reqs {
		pctx := ctx
		if req.Ctx != nil {
			pctx = trace.ContextWithSpan(ctx, trace.SpanFromContext(req.Ctx))
		}
		pctx, span := s.tel.startPush(pctx, "push.Push", pushAttrs(len(req.Message.UserNums))...)
		it := &item{i: i, ctx: pctx, span: span, m: req.Message}
		if k := req.Message.DedupeKey; k != "" {
			if taken[k] {
				repeats = append(repeats, it)
				continue
			}
			taken[k] = true
		}
		if len(req.Message.UserNums) > targetChunk {
			// A large audience: pushed on its own, as by Push.
			large.Add(1)
			go func() {
				defer large.Done()
				r, err := s.pushUsers(it.ctx, sem, req.Message)
				finish(it, r, err)
			}()
			continue
		}
		p, err := s.preparePush(req.Message)
		if err != nil {
			finish(it, nil, err)
			continue
		}
		it.p = p
		small = append(small, it)
	}

	// The small messages, together (a return below ends only this part).
	func() {
		// The dedupe keys: a push recorded already is returned, not sent.
		var keys []string
		for _, it := range small {
			if k := it.p.m.DedupeKey; k != "" {
				keys = append(keys, k)
			}
		}
		found, err := s.findDedupeKeys(ctx, keys)
		if err != nil {
			for _, it := range small {
				finish(it, nil, err)
			}
			return
		}
		var fresh []*item
		for _, it := range small {
			if k := it.p.m.DedupeKey; k != "" && (found == nil || found[k]) {
				r, ok, err := s.existing(it.ctx, k)
				if ok || err != nil {
					finish(it, r, err)
					continue
				}
			}
			fresh = append(fresh, it)
		}

		// The targets of all their users, listed at once.
		var users []string
		seen := map[string]bool{}
		for _, it := range fresh {
			for _, u := range it.p.users {
				if !seen[u] {
					seen[u] = true
					users = append(users, u)
				}
			}
		}
		byUser := map[string][]registry.Target{}
		if err := s.eachTarget(ctx, users, func(t registry.Target) { byUser[t.UserNum] = append(byUser[t.UserNum], t) }); err != nil {
			for _, it := range fresh {
				finish(it, nil, err)
			}
			return
		}

		// Each message built, then all of them recorded at once: their
		// creates share the Store's transactions.
		type built struct {
			*item
			msg *registry.PushMessage
			ds  []*registry.Delivery
			r   *Result
		}
		var recs []*built
		for _, it := range fresh {
			// In UserDeviceID order, as Push lists them.
			var ts []registry.Target
			for _, u := range it.p.users {
				ts = append(ts, byUser[u]...)
			}
			slices.SortFunc(ts, func(a, b registry.Target) int { return cmp.Compare(a.UserDeviceID, b.UserDeviceID) })
			tokens := newTokenSet(it.p.users)
			for _, t := range ts {
				tokens.add(s, t)
			}
			tokens.reach.done(it.p.users)
			tokens.distinct()
			msg, ds, err := s.build(it.ctx, it.p, tokens)
			if err != nil {
				finish(it, nil, err)
				continue
			}
			b := &built{item: it, msg: msg, ds: ds}
			recs = append(recs, b)
			wg.Add(1)
			go func() {
				defer wg.Done()
				var err error
				if b.r, err = s.create(it.ctx, msg, ds, tokens.devices(), tokens.skipped.n); err != nil {
					finish(it, nil, err)
				} else if !b.r.Duplicate {
					b.r.Unreached, b.r.UnreachedCount = tokens.reach.names, tokens.reach.count
				}
			}()
		}
		wg.Wait()

		// Then their deliveries sent, in the order of reqs, sharing the bound
		// of vendor calls.
		var ctxs []context.Context
		var ds []*registry.Delivery
		msgs := map[int64]*registry.PushMessage{}
		var sending []*built
		for _, b := range recs {
			switch {
			case b.r == nil: // not recorded: finished above
				continue
			case b.r.Duplicate:
				finish(b.item, b.r, nil)
				continue
			}
			sending = append(sending, b)
			msgs[b.msg.ID] = sendable(b.msg)
			for _, d := range b.ds {
				ctxs = append(ctxs, b.ctx)
				ds = append(ds, d)
			}
		}
		outs := s.sendEach(ctxs, sem, func(id int64) *registry.PushMessage { return msgs[id] }, ds)
		for _, b := range sending {
			for _, o := range outs[:len(b.ds)] {
				b.r.Deliveries = append(b.r.Deliveries, o...)
			}
			outs = outs[len(b.ds):]
			finish(b.item, b.r, nil)
		}
	}()
	large.Wait()
	for _, it := range repeats {
		r, err := s.pushUsers(it.ctx, sem, it.m)
		finish(it, r, err)
	}
	return out
}

// findDedupeKeys returns which of keys name a recorded push, in one query,
// when the Store implements registry.DedupeKeyFinder; nil when it does
// not: then each key is for existing to look up.
func (s *Service) findDedupeKeys(ctx context.Context, keys []string) (map[string]bool, error) {
	f, ok := s.store.(registry.DedupeKeyFinder)
	if !ok {
		return nil, nil
	}
	found := map[string]bool{}
	if len(keys) == 0 {
		return found, nil
	}
	ids, err := f.FindDedupeKeys(ctx, keys)
	if err != nil {
		return nil, fmt.Errorf("push: look up dedupe keys: %w", err)
	}
	for k := range ids {
		found[k] = true
	}
	return found, nil
}
