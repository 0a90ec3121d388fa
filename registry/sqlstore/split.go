package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"github.com/tuisong/push/registry"
)

// SplitDelivery implements registry.PushMessages. It takes the locks
// FinishDelivery takes, in the same order: in one transaction it locks the
// delivery's push message row, writes d's outcome with state split guarded
// by d.ClaimToken, numbers the parts after the highest seq of the
// message's deliveries of the stored delivery's provider and platform (the
// lock on the message makes two splits of one message take turns), inserts
// them as deliveries of that message, provider and platform, and writes
// the platform's refreshed summary and tally, computed from every delivery
// of the platform (device_tokens changes: splits are rare). A summary
// whose tokens outgrow the column is refused, unless the parts share out
// the split delivery's tokens: then it is clipped (a fanout's summary may
// be, see AddDeliveries). A lost claim, a stored idempotency key
// or any failed statement rolls everything back.
//
// A delivery whose stored platform is neither ios nor android (another
// program's) cannot be split: its push keeps no summary of it; that is an
// ErrInvalid for "delivery.platform".
//
// registry.ValidateSplit checks the call before any statement; then the
// parts' idempotency keys, stored without trailing spaces, must differ
// among themselves (ErrConflict without a query). On success each part's
// ID, PushMessageID, Provider, Platform, Seq, CreatedAt and UpdatedAt are
// set; on any error the parts are unchanged.
func (s *Store) SplitDelivery(ctx context.Context, d *registry.Delivery, parts []*registry.Delivery) error {
	if s.unbuilt() {
		return notBuilt("Store.SplitDelivery")
	}
	const op = "SplitDelivery"
	if err := registry.ValidateSplit(d, parts); err != nil {
		return wrap(op, err)
	}
	rows, err := s.normalizeKeyed(parts, "parts")
	if err != nil {
		return wrap(op, err)
	}
	if d.ClaimToken == "" {
		return wrap(op, claimLost("delivery", d.ID))
	}
	out := s.normalizeDelivery(*d)
	now := s.stamp()
	var split registry.Delivery
	ids := make([]int64, len(rows))
	err = s.inTx(ctx, func(q DBTX) error {
		nowArg := s.timeArg(now)
		row, err := s.finishClaimed(ctx, q, &out, registry.DeliverySplit, nowArg)
		if err != nil {
			return err
		}
		split = row.old
		// The split delivery itself is among the rows, so there is a
		// highest seq.
		var last sql.NullInt64
		if err := s.queryRow(ctx, q, "SELECT MAX(seq) FROM sys_push_deliveries WHERE push_message_id = ? AND provider = ? AND platform = ?",
			split.PushMessageID, split.Provider, split.Platform).Scan(&last); err != nil {
			return step("number parts", err)
		}
		for i := range rows {
			p := &rows[i]
			p.PushMessageID, p.Provider, p.Platform, p.Seq = split.PushMessageID, split.Provider, split.Platform, int(last.Int64)+1+i
			if err := registry.ValidateDelivery(p); err != nil {
				return err
			}
			if ids[i], err = s.insertDelivery(ctx, q, split.PushMessageID, p, now); err != nil {
				return err
			}
		}
		// Parts that share out the split delivery's tokens leave the
		// summary as large as it was: a push whose summary was clipped
		// (a fanout's) is clipped again rather than refused.
		var parent string
		if err := s.queryRow(ctx, q, "SELECT tokens FROM sys_push_deliveries WHERE id = ?", d.ID).Scan(zeroIfNull(&parent)); err != nil {
			return step("select delivery", err)
		}
		limit := -1 // refused over the column
		if registry.SharesOut(strings.Split(parent, ","), rows) {
			if limit, err = s.tokensLimit(ctx, q); err != nil {
				return err
			}
		}
		fanout, err := s.fanoutOpen(ctx, q, split.PushMessageID)
		if err != nil {
			return err
		}
		return s.refreshSummary(ctx, q, split.PushMessageID, split.Platform, nowArg, limit, fanout)
	})
	if err != nil {
		return wrap(op, err)
	}
	for i, p := range parts {
		p.ID, p.PushMessageID, p.Provider, p.Platform, p.Seq = ids[i], split.PushMessageID, split.Provider, split.Platform, rows[i].Seq
		p.CreatedAt, p.UpdatedAt = now, now
	}
	return nil
}

// normalizeKeyed is normalizeDelivery of each of ds, their idempotency
// keys without trailing spaces: a key twice among them is an ErrConflict
// naming what they are, found without a query.
func (s *Store) normalizeKeyed(ds []*registry.Delivery, what string) ([]registry.Delivery, error) {
	rows := make([]registry.Delivery, len(ds))
	seen := make(map[string]bool, len(ds))
	for i, d := range ds {
		rows[i] = s.normalizeDelivery(*d)
		rows[i].IdempotencyKey = unpad(rows[i].IdempotencyKey)
		if seen[rows[i].IdempotencyKey] {
			return nil, fmt.Errorf("idempotency key %q twice among the %s: %w", rows[i].IdempotencyKey, what, registry.ErrConflict)
		}
		seen[rows[i].IdempotencyKey] = true
	}
	return rows, nil
}
