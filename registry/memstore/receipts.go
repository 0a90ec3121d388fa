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
	if s.unbuilt() {
		return notBuilt("Store.RecordReceipts")
	}
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
	id                         int64
	provider, receiptID, token string
	c                          registry.ReceiptCounts
	at                         time.Time
}

var _ registry.ReceiptHolder = (*Store)(nil)

// HoldReceipt implements registry.ReceiptHolder.
func (s *Store) HoldReceipt(ctx context.Context, provider, receiptID, token string, c registry.ReceiptCounts, at time.Time) (bool, error) {
	if s.unbuilt() {
		return false, notBuilt("Store.HoldReceipt")
	}
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
	s.heldSeq++
	s.held = append(s.held, heldReceipt{s.heldSeq, provider, receiptID, token, c, at})
	return true, nil
}

// AdoptReceipts implements registry.ReceiptHolder.
func (s *Store) AdoptReceipts(ctx context.Context, after int64, limit int) (registry.Adoption, error) {
	if s.unbuilt() {
		return registry.Adoption{}, notBuilt("Store.AdoptReceipts")
	}
	const op = "AdoptReceipts"
	var a registry.Adoption
	if err := begin(ctx, op); err != nil {
		return a, err
	}
	if limit < 1 {
		return a, wrap(op, &registry.ValidationError{Field: "limit", Reason: fmt.Sprintf("must be at least 1, got %d", limit)})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	kept, seen := s.held[:0], 0
	for _, h := range s.held {
		if h.id <= after || seen == limit {
			kept = append(kept, h)
			continue
		}
		seen++
		a.Next = h.id
		if !s.hasReceiptID(h.provider, h.receiptID) {
			kept = append(kept, h)
			continue
		}
		if s.recordReceipts(h.provider, h.receiptID, h.token, h.c) == nil {
			a.Adopted++
		} else {
			a.Dropped++
		}
	}
	clear(s.held[len(kept):])
	s.held = kept
	if seen < limit {
		a.Next = 0
	}
	return a, nil
}

var _ registry.HeldReceiptCounter = (*Store)(nil)

// CountHeldReceipts implements registry.HeldReceiptCounter.
func (s *Store) CountHeldReceipts(ctx context.Context) (int64, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.CountHeldReceipts")
	}
	if err := begin(ctx, "CountHeldReceipts"); err != nil {
		return 0, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return int64(len(s.held)), nil
}

// DropHeldReceipts implements registry.ReceiptHolder.
func (s *Store) DropHeldReceipts(ctx context.Context, heldBefore time.Time, limit int) (int, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.DropHeldReceipts")
	}
	const op = "DropHeldReceipts"
	if err := begin(ctx, op); err != nil {
		return 0, err
	}
	if limit < 1 {
		return 0, wrap(op, &registry.ValidationError{Field: "limit", Reason: fmt.Sprintf("must be at least 1, got %d", limit)})
	}
	if heldBefore.IsZero() {
		return 0, wrap(op, &registry.ValidationError{Field: "held_before", Reason: "is required"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Oldest first, as sqlstore drops them.
	order := slices.Clone(s.held)
	slices.SortStableFunc(order, func(a, b heldReceipt) int { return a.at.Compare(b.at) })
	drop := map[int64]bool{}
	for _, h := range order {
		if len(drop) == limit {
			break
		}
		if !h.at.After(heldBefore) && !s.hasReceiptID(h.provider, h.receiptID) {
			drop[h.id] = true
		}
	}
	kept := s.held[:0]
	for _, h := range s.held {
		if !drop[h.id] {
			kept = append(kept, h)
		}
	}
	clear(s.held[len(kept):])
	s.held = kept
	return len(drop), nil
}

// receiptEvent is a device's receipt of one event about a delivery.
type receiptEvent struct {
	delivery int64
	event    registry.ReceiptEvent
	token    string
}

// ReceiptTotals implements registry.PushMessages.
func (s *Store) ReceiptTotals(ctx context.Context, pushMessageID int64) (ios, android registry.ReceiptCounts, err error) {
	if s.unbuilt() {
		return registry.ReceiptCounts{}, registry.ReceiptCounts{}, notBuilt("Store.ReceiptTotals")
	}
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
