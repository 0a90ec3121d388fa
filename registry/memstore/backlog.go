package memstore

import (
	"context"
	"time"

	"github.com/tuisong/push/registry"
)

var _ registry.BacklogCounter = (*Store)(nil)

// Backlog implements registry.BacklogCounter.
func (s *Store) Backlog(ctx context.Context, now time.Time) (deliveries, center int64, err error) {
	if s.unbuilt() {
		return 0, 0, notBuilt("Store.Backlog")
	}
	const op = "Backlog"
	if err := begin(ctx, op); err != nil {
		return 0, 0, err
	}
	if now.IsZero() {
		return 0, 0, wrap(op, &registry.ValidationError{Field: "now", Reason: "is required"})
	}
	now = now.Round(0)
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deliveries {
		if d.State == registry.DeliveryPending && !d.NextAttemptAt.After(now) {
			deliveries++
		}
	}
	for _, m := range s.center {
		if m.SendState == registry.SendStateUnsent && due(m.SendAt, now) && due(m.NextAttemptAt, now) {
			center++
		}
	}
	return deliveries, center, nil
}
