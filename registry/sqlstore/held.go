package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/tuisong/push/registry"
)

var _ registry.ReceiptHolder = (*Store)(nil)

// HoldReceipt implements registry.ReceiptHolder: in one transaction it
// looks for a delivery of provider with receiptID (the index of migration
// 0006) and, when there is none, inserts the receipt into
// sys_push_receipts_held (migration 0013).
func (s *Store) HoldReceipt(ctx context.Context, provider, receiptID, token string, c registry.ReceiptCounts, at time.Time) (bool, error) {
	if s.unbuilt() {
		return false, notBuilt("Store.HoldReceipt")
	}
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

var _ registry.HeldReceiptCounter = (*Store)(nil)

// CountHeldReceipts implements registry.HeldReceiptCounter.
func (s *Store) CountHeldReceipts(ctx context.Context) (int64, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.CountHeldReceipts")
	}
	var n int64
	if err := s.queryRow(ctx, s.q, "SELECT COUNT(*) FROM sys_push_receipts_held").Scan(&n); err != nil {
		return 0, wrap("CountHeldReceipts", step("count held receipts", err))
	}
	return n, nil
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
	known               bool // a delivery has its receipt id
}

// AdoptReceipts implements registry.ReceiptHolder. It reads the window of
// up to limit held receipts after after by the primary key, each with
// whether a delivery has its receipt id (through the index of migration
// 0006), and records each that one has in a transaction of its own that
// first deletes its row: a concurrent caller that deleted it first has
// recorded it, and this one skips it.
func (s *Store) AdoptReceipts(ctx context.Context, after int64, limit int) (registry.Adoption, error) {
	if s.unbuilt() {
		return registry.Adoption{}, notBuilt("Store.AdoptReceipts")
	}
	const op = "AdoptReceipts"
	var a registry.Adoption
	if limit < 1 {
		return a, wrap(op, invalid("limit", "must be at least 1, got %d", limit))
	}
	hs, err := s.heldWindow(ctx, after, limit)
	if err != nil {
		return a, wrap(op, step("select held receipts", err))
	}
	if len(hs) == limit {
		a.Next = hs[len(hs)-1].id // there may be more
	}
	var firstErr error
	for _, h := range hs {
		if ctx.Err() != nil {
			a.Next = after // the rest of the window, next time
			return a, wrap(op, ctx.Err())
		}
		if !h.known {
			continue
		}
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
			err = s.recordReceipts(ctx, q, h.provider, h.receiptID, h.token, h.c, false)
			if errors.Is(err, registry.ErrNotFound) {
				return nil // a token the delivery did not go to
			}
			counted = err == nil
			return err
		})
		if err != nil {
			// This receipt stays held, to be tried again on the next
			// lap; the others of the window go on.
			if firstErr == nil {
				firstErr = wrap(op, fmt.Errorf("held receipt %d: %w", h.id, err))
			}
			continue
		}
		switch {
		case counted:
			a.Adopted++
		case gone:
			a.Dropped++
		}
	}
	return a, firstErr
}

// heldWindow reads up to limit held receipts after id after, in id order,
// each with whether a delivery has its receipt id.
func (s *Store) heldWindow(ctx context.Context, after int64, limit int) ([]heldReceipt, error) {
	rows, err := s.query(ctx, s.q, `SELECT h.id, h.provider, h.receipt_id, h.token, h.arrived, h.opened, h.dismissed,
		CASE WHEN EXISTS (SELECT 1 FROM sys_push_deliveries d WHERE d.receipt_id = h.receipt_id AND d.provider = h.provider) THEN 1 ELSE 0 END
		FROM sys_push_receipts_held h WHERE h.id > ? ORDER BY h.id LIMIT ?`, after, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var hs []heldReceipt
	for rows.Next() {
		var h heldReceipt
		var known int
		if err := rows.Scan(&h.id, zeroIfNull(&h.provider), zeroIfNull(&h.receiptID), zeroIfNull(&h.token),
			zeroIfNull(&h.c.Arrived), zeroIfNull(&h.c.Opened), zeroIfNull(&h.c.Dismissed), &known); err != nil {
			return nil, err
		}
		h.known = known == 1
		hs = append(hs, h)
	}
	return hs, rows.Err()
}

// maxDropBatch is the most expired held receipts one DropHeldReceipts
// call deletes, whatever its limit.
const maxDropBatch = 500

// DropHeldReceipts implements registry.ReceiptHolder: one DELETE of the
// ids the oldest limit (at most maxDropBatch) such receipts have, read
// through the held_at index.
func (s *Store) DropHeldReceipts(ctx context.Context, heldBefore time.Time, limit int) (int, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.DropHeldReceipts")
	}
	const op = "DropHeldReceipts"
	if limit < 1 {
		return 0, wrap(op, invalid("limit", "must be at least 1, got %d", limit))
	}
	if heldBefore.IsZero() {
		return 0, wrap(op, invalid("held_before", "is required"))
	}
	// One statement's id list: bounded whatever limit asks (a database
	// takes 32,766 to 65,535 parameters), and a few sizes only.
	limit = min(limit, maxDropBatch)
	at := s.timeArg(heldBefore)
	var one int
	err := s.queryRow(ctx, s.q, "SELECT 1 FROM sys_push_receipts_held WHERE held_at <= ? LIMIT 1", at).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap(op, step("look for expired held receipts", err))
	}
	// In a transaction: READ COMMITTED on MySQL, without the gap locks
	// that deadlocked with other instances' adoptions, and retried on a
	// deadlock all the same. The ids are read first and deleted by a list
	// of them: MySQL's DELETE … WHERE id IN (subquery) scans the whole
	// table whatever the subquery finds (230 ms a batch at 300,000 held).
	// The DELETE checks again that no delivery has a receipt's id, which
	// one may have got since the read.
	var n int64
	err = s.inTx(ctx, func(q DBTX) error {
		n = 0
		ids, err := s.expiredHeld(ctx, q, at, limit)
		if err != nil || len(ids) == 0 {
			return err
		}
		args := make([]any, len(ids))
		for i, id := range ids {
			args[i] = id
		}
		res, err := s.exec(ctx, q, "DELETE FROM sys_push_receipts_held WHERE id IN ("+placeholders(len(ids))+`) AND NOT EXISTS
			(SELECT 1 FROM sys_push_deliveries d WHERE d.receipt_id = sys_push_receipts_held.receipt_id AND d.provider = sys_push_receipts_held.provider)`,
			args...)
		if err != nil {
			return err
		}
		n, err = affected(res)
		return err
	})
	if err != nil {
		return 0, wrap(op, step("delete expired held receipts", err))
	}
	return int(n), nil
}

// expiredHeld reads the ids of up to limit receipts held at or before at
// that no delivery has claimed, oldest first, through the held_at index.
func (s *Store) expiredHeld(ctx context.Context, q DBTX, at any, limit int) ([]int64, error) {
	return s.queryIDs(ctx, q, `SELECT h.id FROM sys_push_receipts_held h WHERE h.held_at <= ?
		AND NOT EXISTS (SELECT 1 FROM sys_push_deliveries d WHERE d.receipt_id = h.receipt_id AND d.provider = h.provider)
		ORDER BY h.held_at LIMIT ?`, at, limit)
}
