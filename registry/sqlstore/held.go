package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tuisong/push/registry"
)

var _ registry.ReceiptHolder = (*Store)(nil)

// HoldReceipt implements registry.ReceiptHolder: in one transaction it
// looks for a delivery of provider with receiptID (the index of migration
// 0006) and, when there is none, inserts the receipt into
// sys_push_receipts_held (migration 0013).
func (s *Store) HoldReceipt(ctx context.Context, provider, receiptID, token string, c registry.ReceiptCounts, at time.Time) (bool, error) {
	const op = "HoldReceipt"
	if err := validHold(provider, receiptID, token, c, at); err != nil {
		return false, wrap(op, err)
	}
	held := false
	err := s.inTx(ctx, func(q DBTX) error {
		held = false
		var one int
		err := s.queryRow(ctx, q, "SELECT 1 FROM sys_push_deliveries WHERE receipt_id = ? AND provider = ? LIMIT 1",
			receiptID, provider).Scan(&one)
		if err == nil {
			return nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return step("find delivery", err)
		}
		if _, err := s.exec(ctx, q, `INSERT INTO sys_push_receipts_held (provider, receipt_id, token, arrived, opened, dismissed, held_at)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, provider, receiptID, token, c.Arrived, c.Opened, c.Dismissed, s.timeArg(at)); err != nil {
			return step("hold receipt", err)
		}
		held = true
		return nil
	})
	if err != nil {
		return false, wrap(op, err)
	}
	return held, nil
}

// validHold checks HoldReceipt's arguments.
func validHold(provider, receiptID, token string, c registry.ReceiptCounts, at time.Time) error {
	if err := registry.ValidateReceipts(provider, receiptID, c); err != nil {
		return err
	}
	if err := registry.ValidateVarchar("token", token); err != nil {
		return err
	}
	if at.IsZero() {
		return invalid("at", "is required")
	}
	return nil
}

// heldReceipt is a row of sys_push_receipts_held.
type heldReceipt struct {
	id                  int64
	provider, receiptID string
	token               string
	c                   registry.ReceiptCounts
}

// AdoptReceipts implements registry.ReceiptHolder. It reads up to limit
// held receipts whose delivery is now known, oldest first, and records
// each in a transaction of its own that first deletes its row: a
// concurrent caller that deleted it first has recorded it, and this one
// skips it. Then it deletes, in one statement, the receipts held at or
// before heldBefore that still name no delivery.
func (s *Store) AdoptReceipts(ctx context.Context, limit int, heldBefore time.Time) (adopted, dropped int, err error) {
	const op = "AdoptReceipts"
	if limit < 1 {
		return 0, 0, wrap(op, invalid("limit", "must be at least 1, got %d", limit))
	}
	if heldBefore.IsZero() {
		return 0, 0, wrap(op, invalid("held_before", "is required"))
	}
	hs, err := s.adoptable(ctx, limit)
	if err != nil {
		return 0, 0, wrap(op, step("select held receipts", err))
	}
	for _, h := range hs {
		var counted, gone bool
		err := s.inTx(ctx, func(q DBTX) error {
			counted, gone = false, false
			res, err := s.exec(ctx, q, "DELETE FROM sys_push_receipts_held WHERE id = ?", h.id)
			if err != nil {
				return step("delete held receipt", err)
			}
			if n, err := affected(res); err != nil || n == 0 {
				return step("delete held receipt", err) // another caller's
			}
			gone = true
			if registry.ValidateReceipts(h.provider, h.receiptID, h.c) != nil {
				return nil // not a row HoldReceipt wrote
			}
			err = s.recordReceipts(ctx, q, h.provider, h.receiptID, h.token, h.c)
			if errors.Is(err, registry.ErrNotFound) {
				return nil // a token the delivery did not go to
			}
			counted = err == nil
			return err
		})
		if err != nil {
			return adopted, dropped, wrap(op, err)
		}
		switch {
		case counted:
			adopted++
		case gone:
			dropped++
		}
	}
	n, err := s.dropExpired(ctx, heldBefore)
	if err != nil {
		return adopted, dropped, wrap(op, step("delete expired held receipts", err))
	}
	return adopted, dropped + n, nil
}

// dropExpired deletes the receipts held at or before heldBefore that
// still name no delivery; it writes nothing when no receipt is that old.
func (s *Store) dropExpired(ctx context.Context, heldBefore time.Time) (int, error) {
	at := s.timeArg(heldBefore)
	var one int
	err := s.queryRow(ctx, s.q, "SELECT 1 FROM sys_push_receipts_held WHERE held_at <= ? LIMIT 1", at).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, err
	}
	defer s.writing()()
	res, err := s.exec(ctx, s.q, `DELETE FROM sys_push_receipts_held WHERE held_at <= ? AND NOT EXISTS
		(SELECT 1 FROM sys_push_deliveries d WHERE d.receipt_id = sys_push_receipts_held.receipt_id AND d.provider = sys_push_receipts_held.provider)`,
		at)
	if err != nil {
		return 0, err
	}
	n, err := affected(res)
	return int(n), err
}

// adoptable reads up to limit held receipts that a delivery now has the
// receipt id of, oldest first.
func (s *Store) adoptable(ctx context.Context, limit int) ([]heldReceipt, error) {
	rows, err := s.query(ctx, s.q, `SELECT h.id, h.provider, h.receipt_id, h.token, h.arrived, h.opened, h.dismissed
		FROM sys_push_receipts_held h WHERE EXISTS
		(SELECT 1 FROM sys_push_deliveries d WHERE d.receipt_id = h.receipt_id AND d.provider = h.provider)
		ORDER BY h.id LIMIT ?`, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hs []heldReceipt
	for rows.Next() {
		var h heldReceipt
		if err := rows.Scan(&h.id, zeroIfNull(&h.provider), zeroIfNull(&h.receiptID), zeroIfNull(&h.token),
			zeroIfNull(&h.c.Arrived), zeroIfNull(&h.c.Opened), zeroIfNull(&h.c.Dismissed)); err != nil {
			return nil, err
		}
		hs = append(hs, h)
	}
	return hs, rows.Err()
}
