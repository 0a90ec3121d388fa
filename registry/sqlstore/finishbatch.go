package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"

	"github.com/tuisong/push/registry"
)

// Concurrent FinishDelivery calls on one Store are written together (see
// groupQueue): the outcomes queued while a batch is written go in the
// next one, in one transaction per batch, with statements for the whole batch (see
// finishSet): one summary write for both platforms.
// A push's sends finish at once, and each finish would otherwise lock and
// rewrite the same sys_push_messages row — on SQLite, a row that holds
// every token of the push, rewritten whole — one after the other: at
// 100,000 devices the queue outgrew the callers' write timeouts and
// accepted chunks went unrecorded. On MySQL and PostgreSQL up to four
// callers write batches at once (messages locked in id order, so they do
// not deadlock), since there a batch's round trips bound one writer; on
// SQLite one.
// maxFinishBatch bounds the finishes of one transaction: more than the
// other queues' maxGroupBatch, because each batch writes the summary of
// each of its messages once, and on SQLite that rewrites the message's
// whole row — every token of the push, 13 MB at 200,000 devices. A push
// of 400 deliveries was written in 11 batches of at most 64 (bench
// fanout); its statements are still chunked by setChunks.
const maxFinishBatch = 512

// newFinishQueue returns the queue of a Store's FinishDelivery calls.
func newFinishQueue(d Dialect) *groupQueue[*registry.Delivery] {
	q := newGroupQueue[*registry.Delivery](d).keepOnCancel()
	q.maxBatch = maxFinishBatch
	return q
}

// finishQueued queues d's outcome on s.finishes (a groupQueue that keeps
// a call whose caller gave up: the outcome is still written, later) and
// returns its result.
func (s *Store) finishQueued(ctx context.Context, d *registry.Delivery) error {
	return s.finishes.do(ctx, d, func(batch []*groupReq[*registry.Delivery]) {
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
// own (groupBatchTimeout), not the queue's nor its callers': the caller
// that happens to write it may give up sooner, and the outcomes of the
// others must be written anyway.
func (s *Store) finishBatch(batch []*groupReq[*registry.Delivery]) {
	errs := make([]error, len(batch))
	write := s.finishAll
	if len(batch) > 1 {
		write = s.finishSet
	}
	err := s.batchTx(func(ctx context.Context, q DBTX) error {
		clear(errs)
		return write(ctx, q, batch, errs)
	})
	if errors.Is(err, errSetShort) {
		// A claim was lost: written again delivery by delivery, which
		// tells which one.
		err = s.batchTx(func(ctx context.Context, q DBTX) error {
			clear(errs)
			return s.finishAll(ctx, q, batch, errs)
		})
	}
	if err != nil && len(batch) > 1 {
		for _, r := range batch {
			s.finishBatch([]*groupReq[*registry.Delivery]{r})
			r.err = aloneAfter(err, r.err, isClaimLost)
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
	gone := map[group]bool{}
	for _, g := range groups {
		if !summarized(g.platform) {
			// Another program's platform: the outcome is written, there
			// is no summary to keep.
			gone[g] = true
			continue
		}
		t, err := s.lockTally(ctx, q, g.msgID, g.platform)
		if errors.Is(err, sql.ErrNoRows) {
			// Deleted by another program: the outcome is written, there
			// is no summary to keep (see FinishDelivery).
			gone[g] = true
			continue
		}
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
		if len(changes[g]) == 0 || gone[g] {
			continue
		}
		if err := s.writeSummary(ctx, q, g.msgID, g.platform, tallies[g], changes[g], now); err != nil {
			return err
		}
	}
	return nil
}

// finishGroup is a message and platform whose summary a batch of finishes
// changes.
type finishGroup struct {
	msgID    int64
	platform string
}

// finishSet writes the outcomes of batch on q as finishAll does, with
// statements for the whole batch: one read of the deliveries, one lock of
// their messages (in id order), one guarded write of the outcomes and one
// summary write for both platforms (per chunk of setChunks messages). An unknown
// delivery is that call's ErrClaimLost. When the outcomes' write changes
// fewer rows than it should (a claim lost), or a delivery comes twice, it
// returns errSetShort: the caller rolls back and writes the batch with
// finishAll.
func (s *Store) finishSet(ctx context.Context, q DBTX, batch []*groupReq[*registry.Delivery], errs []error) error {
	ids := make([]int64, len(batch))
	for i, r := range batch {
		ids[i] = r.v.ID
	}
	if len(slices.Compact(slices.Sorted(slices.Values(ids)))) != len(ids) {
		return errSetShort
	}
	olds, err := s.readFinishingSet(ctx, q, ids)
	if err != nil {
		return err
	}
	var live []int // the indexes of batch whose delivery exists
	var msgIDs []int64
	for i, r := range batch {
		old, ok := olds[r.v.ID]
		if !ok {
			errs[i] = claimLost("delivery", r.v.ID)
			continue
		}
		live = append(live, i)
		msgIDs = append(msgIDs, old.PushMessageID)
	}
	if len(live) == 0 {
		return nil
	}
	tallies, err := s.lockTallies(ctx, q, msgIDs)
	if err != nil {
		return err
	}
	now := s.timeArg(s.stamp())
	for _, chunk := range chunked(s, live) {
		ds := make([]*registry.Delivery, len(chunk))
		for j, i := range chunk {
			ds[j] = batch[i].v
		}
		if err := s.writeOutcomes(ctx, q, ds, now); err != nil {
			return err
		}
	}
	var groups []finishGroup
	changes := map[finishGroup][]outcomeChange{}
	for _, i := range live {
		d := batch[i].v
		old := olds[d.ID]
		nw := *old
		nw.State, nw.VendorState, nw.ReceiptID, nw.SentAt, nw.Response = d.State, d.VendorState, d.ReceiptID, d.SentAt, d.Response
		g := finishGroup{old.PushMessageID, old.Platform}
		if _, ok := changes[g]; !ok {
			groups = append(groups, g)
		}
		changes[g] = append(changes[g], outcomeChange{old, &nw})
	}
	slices.SortFunc(groups, func(a, b finishGroup) int {
		return cmp.Or(cmp.Compare(a.platform, b.platform), cmp.Compare(a.msgID, b.msgID))
	})
	var of []finishGroup
	var msgs []int64 // of's messages, in id order
	for _, g := range groups {
		if _, ok := tallies[g]; ok { // not a message another program deleted
			of = append(of, g)
			msgs = append(msgs, g.msgID)
		}
	}
	slices.Sort(msgs)
	msgs = slices.Compact(msgs)
	for _, chunk := range chunked(s, msgs) {
		var in []finishGroup
		for _, g := range of {
			if _, ok := slices.BinarySearch(chunk, g.msgID); ok {
				in = append(in, g)
			}
		}
		if err := s.writeSummaries(ctx, q, chunk, in, tallies, changes, now); err != nil {
			return err
		}
	}
	return nil
}

// readFinishingSet is readFinishing of the deliveries ids, which differ
// from each other: an unknown one is missing from the map.
func (s *Store) readFinishingSet(ctx context.Context, q DBTX, ids []int64) (map[int64]*registry.Delivery, error) {
	olds := make(map[int64]*registry.Delivery, len(ids))
	err := queryIn(ctx, s, q, chunked(s, ids), func(in string) string {
		return "SELECT " + s.selectList("id, "+finishingColumns) + " FROM sys_push_deliveries WHERE id IN (" + in + ")"
	}, func(rows *sql.Rows) error {
		old := &registry.Delivery{}
		if err := s.scanFinishing(rows, old, &old.ID); err != nil {
			return err
		}
		olds[old.ID] = old
		return nil
	})
	if err != nil {
		return nil, step("select deliveries", err)
	}
	return olds, nil
}

// lockTallies locks the push messages msgIDs in id order (on SQLite the
// transaction holds the database's write lock already) and reads their
// tallies of each platform. A message missing (another program deleted
// it) is missing from the map.
func (s *Store) lockTallies(ctx context.Context, q DBTX, msgIDs []int64) (map[finishGroup]sql.NullString, error) {
	msgIDs = slices.Compact(slices.Sorted(slices.Values(msgIDs)))
	tallies := make(map[finishGroup]sql.NullString, 2*len(msgIDs))
	err := queryIn(ctx, s, q, chunked(s, msgIDs), func(in string) string {
		return "SELECT id, ios_tally, android_tally FROM sys_push_messages WHERE id IN (" + in + ") ORDER BY id" + s.dialect.forUpdate()
	}, func(rows *sql.Rows) error {
		var id int64
		var ios, android sql.NullString
		if err := rows.Scan(&id, &ios, &android); err != nil {
			return err
		}
		tallies[finishGroup{id, registry.PlatformIOS}] = ios
		tallies[finishGroup{id, registry.PlatformAndroid}] = android
		return nil
	})
	if err != nil {
		return nil, step("lock push messages", err)
	}
	return tallies, nil
}

// writeOutcomes is writeOutcome of each of ds, in one UPDATE: errSetShort
// when it changes fewer rows than ds holds (a claim lost).
func (s *Store) writeOutcomes(ctx context.Context, q DBTX, ds []*registry.Delivery, now any) error {
	rows := make([]guardedRow, len(ds))
	for j, d := range ds {
		rows[j] = guardedRow{id: d.ID, claim: d.ClaimToken, values: []any{string(d.State), d.Attempts, s.timeArg(d.NextAttemptAt),
			nullIfEmpty(d.ReceiptID), boolInt(d.Pollable), nullIfEmpty(d.VendorState), nullIfEmpty(d.Ret), nullIfEmpty(d.Response),
			nullIfEmpty(d.ErrorKind), nullIfEmpty(d.ErrorCode), s.nullTimeArg(d.SentAt), nullIfEmpty(d.RetryToken)}}
	}
	return s.updateClaimed(ctx, q, "sys_push_deliveries", "update deliveries", "", []string{"state", "attempts", "next_attempt_at",
		"receipt_id", "pollable", "vendor_state", "ret", "response", "error_kind", "error_code", "sent_at", "retry_token"}, rows, now)
}

// writeSummaries is writeSummary of each of groups, of the messages
// msgs, in one UPDATE: the columns of both platforms, each set for the
// messages of its groups. One statement, not one a platform: besides the
// round trip, SQLite rewrites the whole row on each UPDATE, every token of
// the push's summary included.
func (s *Store) writeSummaries(ctx context.Context, q DBTX, msgs []int64, groups []finishGroup,
	tallies map[finishGroup]sql.NullString, changes map[finishGroup][]outcomeChange, now any) error {
	var cols []setColumn
	for _, platform := range []string{registry.PlatformAndroid, registry.PlatformIOS} {
		var of []finishGroup
		for _, g := range groups {
			if g.platform == platform {
				of = append(of, g)
			}
		}
		if len(of) == 0 {
			continue
		}
		names := []string{platform + "_task_id", platform + "_ret", platform + "_status", platform + "_response", platform + "_timestamp",
			"is_send_" + platform, platform + "_tally"}
		keys := make([]any, len(of))
		pcols := make([]setColumn, len(names))
		for i, name := range names {
			pcols[i] = setColumn{name: name, values: make([]any, len(of)), keys: keys}
		}
		for j, g := range of {
			t, err := s.nextTally(ctx, q, g.msgID, platform, tallies[g], changes[g])
			if err != nil {
				return err
			}
			enc, err := encodeTally(t)
			if err != nil {
				return err
			}
			keys[j] = g.msgID
			for i, v := range append(outcomeArgs(t.Summary("")), enc) {
				pcols[i].values[j] = v
			}
		}
		if s.dialect == DialectSQLite {
			// Each platform's CASE as long as the chunk (its last row
			// again, which changes nothing), so that the texts are as
			// few as the chunks' sizes and stay in the statement cache.
			for len(keys) < len(msgs) {
				keys = append(keys, keys[len(keys)-1])
				for i := range pcols {
					pcols[i].values = append(pcols[i].values, pcols[i].values[len(pcols[i].values)-1])
				}
			}
			for i := range pcols {
				pcols[i].keys = keys
			}
		}
		cols = append(cols, pcols...)
	}
	ids := make([]any, len(msgs))
	for i, id := range msgs {
		ids[i] = id
	}
	query, args := caseUpdate("sys_push_messages", ids, cols, "updated_at = ?", []any{now},
		"id IN ("+placeholders(len(ids))+")", ids)
	_, err := s.exec(ctx, q, query, args...)
	return step("update summaries", err)
}
