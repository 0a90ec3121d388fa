package sqlstore

import (
	"context"
	"time"

	"github.com/tuisong/push/registry"
)

var _ registry.BacklogCounter = (*Store)(nil)

// Backlog implements registry.BacklogCounter with two counts: the
// deliveries an index range scan of (state, next_attempt_at) finds, and
// the center rows of the unsent send_state (a NULL send_state, which only
// other programs write, counts as unsent) that are due. A time value the
// Store cannot read counts as due, as it does for claims.
func (s *Store) Backlog(ctx context.Context, now time.Time) (deliveries, center int64, err error) {
	if s.unbuilt() {
		return 0, 0, notBuilt("Store.Backlog")
	}
	const op = "Backlog"
	if now.IsZero() {
		return 0, 0, wrap(op, invalid("now", "is required"))
	}
	at := s.timeArg(now)
	err = s.queryRow(ctx, s.q, "SELECT COUNT(*) FROM sys_push_deliveries WHERE state = ? AND next_attempt_at <= ?",
		string(registry.DeliveryPending), at).Scan(&deliveries)
	if err != nil {
		return 0, 0, wrap(op, step("count deliveries", err))
	}
	err = s.queryRow(ctx, s.q, "SELECT COUNT(*) FROM sys_message_center WHERE (send_state = ? OR send_state IS NULL)"+
		" AND (send_at IS NULL OR "+s.foreignDue("send_at")+")"+
		" AND (next_attempt_at IS NULL OR next_attempt_at <= ?"+s.orUnreadable("next_attempt_at")+")",
		append(append([]any{registry.SendStateUnsent}, s.foreignArgs(now)...), at)...).Scan(&center)
	if err != nil {
		return 0, 0, wrap(op, step("count center rows", err))
	}
	return deliveries, center, nil
}
