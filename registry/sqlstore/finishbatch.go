package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"time"

	"github.com/tuisong/push/registry"
)

// Concurrent FinishDelivery calls on one Store are written together: the
// first caller writes every outcome queued while it works, in one
// transaction per batch, with one summary write per message and platform.
// A push's sends finish at once, and each finish would otherwise lock and
// rewrite the same sys_push_messages row — on SQLite, a row that holds
// every token of the push, rewritten whole — one after the other: at
// 100,000 devices the queue outgrew the callers' write timeouts and
// accepted chunks went unrecorded. On MySQL and PostgreSQL up to four
// callers write batches at once (messages locked in id order, so they do
// not deadlock), since there a batch's round trips bound one writer; on
// SQLite one.
const (
	// finishBatchTimeout bounds one batch's transaction. It is the batch's
	// own: the caller that happens to write it may give up sooner, and the
	// outcomes of the others must be written anyway.
	finishBatchTimeout = 30 * time.Second
)

// finishQueued queues d's outcome on s.finishes (a groupQueue that keeps
// a call whose caller gave up: the outcome is still written, later) and
// returns its result.
func (s *Store) finishQueued(ctx context.Context, d *registry.Delivery) error {
	return s.finishes.do(ctx, d, func(_ context.Context, batch []*groupReq[*registry.Delivery]) {
		s.finishBatch(batch)
	})
}

// finishBatch writes the outcomes of batch in one transaction, setting each
// request's err: ErrClaimLost for a delivery whose claim no longer holds
// (the others are written). When the transaction fails as a whole, each
// outcome is written in a transaction of its own, so that one bad row
// fails alone.
//
// Each transaction, the one-by-one ones included, runs on a clock of its
// own (finishBatchTimeout), not the queue's.
func (s *Store) finishBatch(batch []*groupReq[*registry.Delivery]) {
	ctx, cancel := context.WithTimeout(context.Background(), finishBatchTimeout)
	defer cancel()
	errs := make([]error, len(batch))
	err := s.inTx(ctx, func(q DBTX) error {
		clear(errs)
		return s.finishAll(ctx, q, batch, errs)
	})
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			s.finishBatch([]*groupReq[*registry.Delivery]{r})
		}
		return
	}
	for i, r := range batch {
		r.err = cmp.Or(err, errs[i])
	}
}

// finishAll writes the outcomes of batch on q: it reads each delivery as it
// was, locks each message (in id order, so that batches of other
// instances do not deadlock with this one) and reads its tallies, writes
// the outcomes under their claims, then one summary per message and
// platform. A lost claim is that delivery's error in errs; any other error
// is the batch's.
func (s *Store) finishAll(ctx context.Context, q DBTX, batch []*groupReq[*registry.Delivery], errs []error) error {
	type group struct {
		msgID    int64
		platform string
	}
	olds := make([]registry.Delivery, len(batch))
	var groups []group
	for i, r := range batch {
		old, err := s.readFinishing(ctx, q, r.v.ID)
		if errors.Is(err, registry.ErrClaimLost) {
			errs[i] = err
			continue
		}
		if err != nil {
			return err
		}
		olds[i] = old
		if g := (group{old.PushMessageID, old.Platform}); !slices.Contains(groups, g) {
			groups = append(groups, g)
		}
	}
	slices.SortFunc(groups, func(a, b group) int {
		return cmp.Or(cmp.Compare(a.msgID, b.msgID), cmp.Compare(a.platform, b.platform))
	})
	tallies := make(map[group]sql.NullString, len(groups))
	for _, g := range groups {
		t, err := s.lockTally(ctx, q, g.msgID, g.platform)
		if err != nil {
			return err
		}
		tallies[g] = t
	}
	now := s.timeArg(s.stamp())
	changes := map[group][]outcomeChange{}
	for i, r := range batch {
		if errs[i] != nil {
			continue
		}
		if err := s.writeOutcome(ctx, q, r.v, r.v.State, now); errors.Is(err, registry.ErrClaimLost) {
			errs[i] = err
			continue
		} else if err != nil {
			return err
		}
		old := &olds[i]
		nw := *old
		nw.State, nw.VendorState, nw.ReceiptID, nw.SentAt, nw.Response = r.v.State, r.v.VendorState, r.v.ReceiptID, r.v.SentAt, r.v.Response
		g := group{old.PushMessageID, old.Platform}
		changes[g] = append(changes[g], outcomeChange{old, &nw})
	}
	for _, g := range groups {
		if len(changes[g]) == 0 {
			continue
		}
		if err := s.writeSummary(ctx, q, g.msgID, g.platform, tallies[g], changes[g], now); err != nil {
			return err
		}
	}
	return nil
}
