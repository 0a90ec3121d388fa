package sqlstore

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/tuisong/push/internal/storeretry"
)

// A groupQueue writes concurrent calls of one kind (FinishDelivery,
// FinishCenterMessage, CreatePushMessage) together, one transaction per
// batch: a caller that finds fewer than writers writing writes batches,
// oldest calls first, until its own call is written or its ctx ends; the
// others wait. What is still queued then is written by a goroutine that
// takes its place, until the queue is empty, so that under a steady
// stream of calls no caller is kept writing the others' batches, its own
// long done. (With keep set a goroutine writes from the start: see
// below.)
// A Scanner handles rows Concurrency at a time, and each row's
// writes would otherwise cost a commit of their own — on PostgreSQL and
// MariaDB a WAL flush each, on SQLite a turn of the one writer (issue #9).
//
// A caller whose ctx ends while its call is still queued gets ctx's error.
// With keep unset it takes its call back: nothing of it is written, so
// that a call reported failed never is written later (CreatePushMessage).
// With keep set the call stays queued and is written anyway: an outcome
// recorded late beats one left to a lease's end (FinishDelivery,
// FinishCenterMessage; the write is guarded by the claim); such a caller
// leaves at its ctx's end even once a batch holds its call, the batches
// being written by a goroutine of the queue's, so that a database that
// stops answering holds no caller past its own clock. Without keep, once
// a batch holds a call, it is written on the batch's own clock and its
// caller waits for the result.
type groupQueue[T any] struct {
	mu      sync.Mutex
	pending []*groupReq[T]
	writing int // callers writing batches
	// keep leaves a call queued when its caller's ctx ends.
	keep bool
	// writers bounds the callers writing at once: 1 on SQLite, whose one
	// writer takes the batches in turn anyway; more on the servers, where
	// a batch's round trips, not its work, bound a single writer.
	writers int
	// maxBatch bounds the calls of one batch; 0 means maxGroupBatch.
	maxBatch int
}

// batchCap is the most calls one batch of g takes.
func (g *groupQueue[T]) batchCap() int {
	if g.maxBatch > 0 {
		return g.maxBatch
	}
	return maxGroupBatch
}

// concurrentWriters is how many batches of one queue a Store writes at
// once on MySQL and PostgreSQL (see groupQueue.writers).
const concurrentWriters = 4

// newGroupQueue returns the queue of a Store of dialect d.
func newGroupQueue[T any](d Dialect) *groupQueue[T] {
	return &groupQueue[T]{writers: writersFor(d)}
}

// keepOnCancel sets keep and returns g.
func (g *groupQueue[T]) keepOnCancel() *groupQueue[T] {
	g.keep = true
	return g
}

// writersFor is groupQueue.writers for dialect d.
func writersFor(d Dialect) int {
	if d == DialectSQLite {
		return 1
	}
	return concurrentWriters
}

// groupReq is one queued call and, once written, its result.
type groupReq[T any] struct {
	v     T
	err   error
	taken bool // a batch holds it; under the queue's mu
	done  chan struct{}
}

// written reports whether r's batch has been written.
func (r *groupReq[T]) written() bool {
	select {
	case <-r.done:
		return true
	default:
		return false
	}
}

// maxGroupBatch bounds the calls of one transaction of a groupQueue.
const maxGroupBatch = 64

// groupBatchTimeout bounds each transaction of a batch: the batch's own,
// and each of the ones its calls are written again in, one by one, when
// it fails (see writeBatch). Each runs on its own clock, not the
// queue's nor its callers': a row another program holds locked past it
// fails its own call, and the others are still written.
const groupBatchTimeout = 30 * time.Second

// batchClock is a clock of a batch's own: s.batchTimeout
// (groupBatchTimeout), detached from every caller.
func (s *Store) batchClock() (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), s.batchTimeout)
}

// batchTx runs fn in a transaction of s on a clock of its own (batchClock).
func (s *Store) batchTx(fn func(ctx context.Context, q DBTX) error) error {
	ctx, cancel := s.batchClock()
	defer cancel()
	return s.inTx(ctx, func(q DBTX) error { return fn(ctx, q) })
}

// do queues v and returns its result: write writes a batch (see
// writeBatch: each of its transactions on a clock of its own) and sets
// each request's err.
func (g *groupQueue[T]) do(ctx context.Context, v T, write func(batch []*groupReq[T])) error {
	r := &groupReq[T]{v: v, done: make(chan struct{})}
	g.mu.Lock()
	g.pending = append(g.pending, r)
	lead := g.writing < max(g.writers, 1)
	if lead {
		g.writing++
	}
	g.mu.Unlock()
	switch {
	case lead && g.keep:
		// The batches are written by a goroutine of their own, so that
		// this caller can leave when its ctx ends, as a caller waiting
		// for another's batch does, rather than be held by a batch that
		// waits on a database that stopped answering (its call is
		// written anyway: see keep). A stopping Scanner or Service
		// keeps to its bound that way.
		go g.writeAll(context.Background(), nil, write)
	case lead:
		g.writeAll(ctx, r, write)
	}
	select {
	case <-r.done:
		return r.err
	case <-ctx.Done():
	}
	if g.keep {
		return ctx.Err()
	}
	g.mu.Lock()
	if !r.taken {
		// Still queued: take it back, unwritten.
		for i, p := range g.pending {
			if p == r {
				g.pending = append(g.pending[:i:i], g.pending[i+1:]...)
				break
			}
		}
		g.mu.Unlock()
		return ctx.Err()
	}
	g.mu.Unlock()
	<-r.done
	return r.err
}

// writeAll writes batches of the queue until it is empty, or, for a
// caller (own set), until own is written or ctx ends: then, if calls are
// still queued, a goroutine takes the caller's place and writes them.
func (g *groupQueue[T]) writeAll(ctx context.Context, own *groupReq[T], write func(batch []*groupReq[T])) {
	for {
		g.mu.Lock()
		n := min(len(g.pending), g.batchCap())
		if n == 0 {
			g.writing--
			g.mu.Unlock()
			return
		}
		if own != nil && (own.written() || ctx.Err() != nil) {
			g.mu.Unlock()
			go g.writeAll(context.Background(), nil, write)
			return
		}
		batch := g.pending[:n:n]
		g.pending = g.pending[n:]
		for _, r := range batch {
			r.taken = true
		}
		g.mu.Unlock()
		write(batch)
		for _, r := range batch {
			close(r.done)
		}
		// The queue's backing array still holds the batch: let go of it,
		// so that a written call (a create's every token) is not kept
		// until the array is reused.
		clear(batch)
	}
}

// writeBatch writes batch in one transaction of s. Each transaction it
// runs, the batch's and each one-by-one one below, has a clock of its own
// (batchTx), so that a call whose row another program holds locked past
// it fails alone.
//
// When set is given and the batch holds more than one call, set(ctx, q,
// vs) first writes every call of the batch with statements for the whole
// batch: when it succeeds, every call did. When it returns errSetShort
// (a guarded write changed fewer rows than the batch holds: a lost claim)
// the transaction is rolled back and the batch written call by call, as
// below, which tells which calls lost their claims. Any other error fails
// the transaction as a whole: each call is written again alone.
//
// Call by call, one(ctx, q, v) writes one call and returns its own
// error, which fails that call alone when it is marked so by isOwn (a
// lost claim: nothing of that call was written), and the whole
// transaction otherwise. When the transaction fails as a whole, each call
// is written again in a transaction of its own, so that one bad row fails
// alone. done(v) runs for each call whose transaction committed without
// an error of its own, after the commit.
func writeBatch[T any](s *Store, batch []*groupReq[T],
	set func(ctx context.Context, q DBTX, vs []T) error,
	one func(ctx context.Context, q DBTX, v T) error, isOwn func(error) bool, done func(T)) {
	if set != nil && len(batch) > 1 {
		vs := make([]T, len(batch))
		for i, r := range batch {
			vs[i] = r.v
		}
		err := s.batchTx(func(ctx context.Context, q DBTX) error { return set(ctx, q, vs) })
		switch {
		case err == nil:
			for _, r := range batch {
				r.err = nil
				done(r.v)
			}
			return
		case !errors.Is(err, errSetShort):
			for _, r := range batch {
				writeBatch(s, []*groupReq[T]{r}, nil, one, isOwn, done)
				r.err = aloneAfter(err, r.err, isOwn)
			}
			return
		}
	}
	errs := make([]error, len(batch))
	err := s.batchTx(func(ctx context.Context, q DBTX) error {
		clear(errs)
		for i, r := range batch {
			err := one(ctx, q, r.v)
			if err != nil && isOwn(err) {
				errs[i] = err
				continue
			}
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			writeBatch(s, []*groupReq[T]{r}, nil, one, isOwn, done)
			r.err = aloneAfter(err, r.err, isOwn)
		}
		return
	}
	for i, r := range batch {
		r.err = err
		if r.err == nil {
			r.err = errs[i]
		}
		if r.err == nil {
			done(r.v)
		}
	}
}

// aloneAfter is the error of a call written again alone (its error
// alone) after its batch's transaction failed with batchErr. When the
// batch's fate is unknown (its connection broke while it committed, or
// it timed out: storeretry.FateUnknown) and the call alone found its
// claim released (own), the batch's commit may well have written it and
// released the claim: the call's fate is the batch's, and so is its
// error. Reported as a lost claim, a delivery's outcome that was
// recorded read as never recorded (an outcome the caller counts
// unrecorded); with the batch's error, the caller's retry finds the
// claim released after a try of unknown fate and takes it as written
// (see storeretry.Write.Settled).
func aloneAfter(batchErr, alone error, own func(error) bool) error {
	if alone != nil && own(alone) && storeretry.FateUnknown(batchErr) {
		return batchErr
	}
	return alone
}
