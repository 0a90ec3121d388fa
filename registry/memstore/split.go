package memstore

import (
	"context"
	"fmt"

	"github.com/tuisong/push/registry"
)

// SplitDelivery implements registry.PushMessages. The call is checked with
// registry.ValidateSplit first, then the parts' idempotency keys (stored
// without trailing spaces) among themselves, then the claim, then the keys
// against the stored ones, each failure writing nothing: the order the SQL
// store reports them in. The parts are numbered after the highest Seq of
// the message's deliveries of the same provider and platform, and take
// those and the message id from the stored delivery.
func (s *Store) SplitDelivery(ctx context.Context, d *registry.Delivery, parts []*registry.Delivery) error {
	if s.unbuilt() {
		return notBuilt("Store.SplitDelivery")
	}
	const op = "SplitDelivery"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidateSplit(d, parts); err != nil {
		return wrap(op, err)
	}
	rows, err := cloneKeyed(parts, "parts")
	if err != nil {
		return wrap(op, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	row, err := s.claimed(d)
	if err != nil {
		return wrap(op, err)
	}
	if err := s.checkKeys(rows); err != nil {
		return wrap(op, err)
	}
	last := -1
	for _, o := range s.deliveriesByMessage[row.PushMessageID] {
		if o.Provider == row.Provider && o.Platform == row.Platform {
			last = max(last, o.Seq)
		}
	}
	for i := range rows {
		rows[i].Provider, rows[i].Platform, rows[i].Seq = row.Provider, row.Platform, last+1+i
		if err := registry.ValidateDelivery(&rows[i]); err != nil {
			return wrap(op, err)
		}
	}
	if err := s.checkTokens(row, rows); err != nil {
		return wrap(op, err)
	}

	now := s.stamp()
	finish(row, d, registry.DeliverySplit, now)
	stored := s.insertDeliveries(row.PushMessageID, rows, now)
	s.summarize(row.PushMessageID, row.Platform, now)
	for i, p := range parts {
		p.ID, p.PushMessageID = stored[i].ID, row.PushMessageID
		p.Provider, p.Platform, p.Seq = row.Provider, row.Platform, stored[i].Seq
	}
	return nil
}

// checkTokens refuses a split whose parts would make the message's
// summary of row's platform list more tokens than its column holds: what
// ValidatePushMessage checks when a message is created. Parts that share
// out row's tokens pass: the summary is then clipped, as the SQL store
// does. The caller holds
// s.mu.
func (s *Store) checkTokens(row *registry.Delivery, parts []registry.Delivery) error {
	if registry.SharesOut(row.Tokens, parts) {
		return nil // the summary stays as large as it was: clipped if it was (a fanout's)
	}
	n := -1
	for _, o := range s.deliveriesByMessage[row.PushMessageID] {
		if o.Platform == row.Platform && o != row && o.State != registry.DeliverySplit {
			for _, t := range o.Tokens {
				n += len(t) + 1
			}
		}
	}
	for _, p := range parts {
		for _, t := range p.Tokens {
			n += len(t) + 1
		}
	}
	if n > registry.MaxTokensText {
		return &registry.ValidationError{Field: row.Platform + "_device_tokens",
			Reason: fmt.Sprintf("the push's %d bytes of tokens exceed %d", n, registry.MaxTokensText)}
	}
	return nil
}

// cloneKeyed copies ds to insert them, their idempotency keys without
// trailing spaces: a key twice among them is an ErrConflict naming what
// they are.
func cloneKeyed(ds []*registry.Delivery, what string) ([]registry.Delivery, error) {
	rows := make([]registry.Delivery, len(ds))
	seen := make(map[string]bool, len(ds))
	for i, d := range ds {
		rows[i] = cloneDelivery(d)
		rows[i].IdempotencyKey = unpad(rows[i].IdempotencyKey)
		if seen[rows[i].IdempotencyKey] {
			return nil, fmt.Errorf("idempotency key %q twice among the %s: %w", rows[i].IdempotencyKey, what, registry.ErrConflict)
		}
		seen[rows[i].IdempotencyKey] = true
	}
	return rows, nil
}
