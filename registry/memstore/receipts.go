package memstore

import (
	"context"
	"fmt"
	"slices"
	"time"

	"github.com/tuisong/push/registry"
)

// RecordReceipts implements registry.PushMessages. It looks at every
// delivery: fine for the test and demo sizes memstore is for.
func (s *Store) RecordReceipts(ctx context.Context, provider, receiptID, token string, c registry.ReceiptCounts) error {
	const op = "RecordReceipts"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidateReceipts(provider, receiptID, c); err != nil {
		return wrap(op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if err := s.recordReceipts(provider, receiptID, token, c); err != nil {
		return wrap(op, err)
	}
	return nil
}

// recordReceipts is RecordReceipts's work; s.mu is held.
func (s *Store) recordReceipts(provider, receiptID, token string, c registry.ReceiptCounts) error {
	var hit []int64
	for _, d := range s.deliveries {
		if d.Provider != provider || d.ReceiptID != receiptID {
			continue
		}
		if token != "" && d.Audience == registry.AudienceTokens && !slices.Contains(d.Tokens, token) {
			continue
		}
		hit = append(hit, d.ID)
	}
	if len(hit) == 0 {
		return fmt.Errorf("receipt %q of %s: %w", receiptID, provider, registry.ErrNotFound)
	}
	for _, id := range hit {
		add := c
		if token != "" {
			// A device's event counts once per delivery, as on sqlstore.
			add, _ = c.Once(func(e registry.ReceiptEvent) (bool, error) {
				k := receiptEvent{id, e, token}
				if s.receiptEvents[k] {
					return false, nil
				}
				s.receiptEvents[k] = true
				return true, nil
			})
		}
		s.receipts[id] = s.receipts[id].Add(add)
	}
	return nil
}

// hasReceiptID reports whether a delivery of provider has receiptID; s.mu
// is held.
func (s *Store) hasReceiptID(provider, receiptID string) bool {
	for _, d := range s.deliveries {
		if d.Provider == provider && d.ReceiptID == receiptID {
			return true
		}
	}
	return false
}

// heldReceipt is a receipt HoldReceipt keeps.
type heldReceipt struct {
	provider, receiptID, token string
	c                          registry.ReceiptCounts
	at                         time.Time
}

var _ registry.ReceiptHolder = (*Store)(nil)

// HoldReceipt implements registry.ReceiptHolder.
func (s *Store) HoldReceipt(ctx context.Context, provider, receiptID, token string, c registry.ReceiptCounts, at time.Time) (bool, error) {
	const op = "HoldReceipt"
	if err := begin(ctx, op); err != nil {
		return false, err
	}
	if err := registry.ValidateReceipts(provider, receiptID, c); err != nil {
		return false, wrap(op, err)
	}
	if err := registry.ValidateVarchar("token", token); err != nil {
		return false, wrap(op, err)
	}
	if at.IsZero() {
		return false, wrap(op, &registry.ValidationError{Field: "at", Reason: "is required"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.hasReceiptID(provider, receiptID) {
		return false, nil
	}
	s.held = append(s.held, heldReceipt{provider, receiptID, token, c, at})
	return true, nil
}

// AdoptReceipts implements registry.ReceiptHolder.
func (s *Store) AdoptReceipts(ctx context.Context, limit int, heldBefore time.Time) (adopted, dropped int, err error) {
	const op = "AdoptReceipts"
	if err := begin(ctx, op); err != nil {
		return 0, 0, err
	}
	if limit < 1 {
		return 0, 0, wrap(op, &registry.ValidationError{Field: "limit", Reason: fmt.Sprintf("must be at least 1, got %d", limit)})
	}
	if heldBefore.IsZero() {
		return 0, 0, wrap(op, &registry.ValidationError{Field: "held_before", Reason: "is required"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept, taken := s.held[:0], 0
	for _, h := range s.held {
		switch {
		case taken < limit && s.hasReceiptID(h.provider, h.receiptID):
			taken++
			if s.recordReceipts(h.provider, h.receiptID, h.token, h.c) == nil {
				adopted++
			} else {
				dropped++
			}
		case !h.at.After(heldBefore) && !s.hasReceiptID(h.provider, h.receiptID):
			dropped++
		default:
			kept = append(kept, h)
		}
	}
	clear(s.held[len(kept):])
	s.held = kept
	return adopted, dropped, nil
}

// receiptEvent is a device's receipt of one event about a delivery.
type receiptEvent struct {
	delivery int64
	event    registry.ReceiptEvent
	token    string
}

// ReceiptTotals implements registry.PushMessages.
func (s *Store) ReceiptTotals(ctx context.Context, pushMessageID int64) (ios, android registry.ReceiptCounts, err error) {
	const op = "ReceiptTotals"
	if err := begin(ctx, op); err != nil {
		return ios, android, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range s.deliveriesByMessage[pushMessageID] {
		switch d.Platform {
		case registry.PlatformIOS:
			ios = ios.Add(s.receipts[d.ID])
		case registry.PlatformAndroid:
			android = android.Add(s.receipts[d.ID])
		}
	}
	return ios, android, nil
}
