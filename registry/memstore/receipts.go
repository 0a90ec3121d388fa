package memstore

import (
	"context"
	"fmt"
	"slices"

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
		return wrap(op, fmt.Errorf("receipt %q of %s: %w", receiptID, provider, registry.ErrNotFound))
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
