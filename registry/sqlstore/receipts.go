package sqlstore

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/tuisong/push/registry"
)

// RecordReceipts implements registry.PushMessages. In one transaction it
// finds the deliveries of provider with receiptID through the index of
// migration 0006 (reading their tokens only to check token), and adds c to
// their counters with one UPDATE each (col = col + ?), so concurrent calls
// add up. Deliveries whose counters are NULL (rows written by other
// programs) count from 0.
func (s *Store) RecordReceipts(ctx context.Context, provider, receiptID, token string, c registry.ReceiptCounts) error {
	const op = "RecordReceipts"
	if err := registry.ValidateReceipts(provider, receiptID, c); err != nil {
		return wrap(op, err)
	}
	err := s.inTx(ctx, func(q DBTX) error {
		rows, err := s.query(ctx, q, "SELECT id, audience, tokens FROM sys_push_deliveries WHERE receipt_id = ? AND provider = ? ORDER BY id",
			receiptID, provider)
		if err != nil {
			return step("select deliveries", err)
		}
		var hit []int64
		err = func() error {
			defer rows.Close()
			for rows.Next() {
				var id int64
				var audience, tokens string
				if err := rows.Scan(&id, zeroIfNull(&audience), zeroIfNull(&tokens)); err != nil {
					return err
				}
				if token != "" && audience == registry.AudienceTokens && !slices.Contains(strings.Split(tokens, ","), token) {
					continue
				}
				hit = append(hit, id)
			}
			return rows.Err()
		}()
		if err != nil {
			return step("select deliveries", err)
		}
		if len(hit) == 0 {
			return notFound("receipt", fmt.Sprintf("%q of %s", receiptID, provider))
		}
		if c.IsZero() {
			return nil
		}
		for _, id := range hit {
			if _, err := s.exec(ctx, q, `UPDATE sys_push_deliveries SET arrived = COALESCE(arrived, 0) + ?,
				opened = COALESCE(opened, 0) + ?, dismissed = COALESCE(dismissed, 0) + ? WHERE id = ?`,
				c.Arrived, c.Opened, c.Dismissed, id); err != nil {
				return step("update receipts", err)
			}
		}
		return nil
	})
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// ReceiptTotals implements registry.PushMessages: a SUM over the
// message's deliveries, per platform, when read.
func (s *Store) ReceiptTotals(ctx context.Context, pushMessageID int64) (ios, android registry.ReceiptCounts, err error) {
	const op = "ReceiptTotals"
	if !s.intID(pushMessageID) {
		return ios, android, nil
	}
	rows, err := s.query(ctx, s.q, `SELECT platform, COALESCE(SUM(arrived), 0), COALESCE(SUM(opened), 0), COALESCE(SUM(dismissed), 0)
		FROM sys_push_deliveries WHERE push_message_id = ? GROUP BY platform`, pushMessageID)
	if err != nil {
		return ios, android, wrap(op, step("sum receipts", err))
	}
	defer rows.Close()
	for rows.Next() {
		var platform string
		var c registry.ReceiptCounts
		if err := rows.Scan(&platform, &c.Arrived, &c.Opened, &c.Dismissed); err != nil {
			return registry.ReceiptCounts{}, registry.ReceiptCounts{}, wrap(op, step("sum receipts", err))
		}
		switch platform {
		case registry.PlatformIOS:
			ios = ios.Add(c)
		case registry.PlatformAndroid:
			android = android.Add(c)
		}
	}
	if err := rows.Err(); err != nil {
		return registry.ReceiptCounts{}, registry.ReceiptCounts{}, wrap(op, step("sum receipts", err))
	}
	return ios, android, nil
}
