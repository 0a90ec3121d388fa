package sqlstore

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"

	"github.com/tuisong/push/registry"
)

// RecordReceipts implements registry.PushMessages. In one transaction it
// finds the deliveries of provider with receiptID through the index of
// migration 0006 (reading their tokens only to check token; the token
// lists of deliveries to receiptSetMin tokens or more are kept after the
// first receipt, see receiptSets), and adds to
// their counters with one UPDATE each (col = col + ?), so concurrent calls
// add up. Deliveries whose counters are NULL (rows written by other
// programs) count from 0.
//
// With a token, each event of c is first inserted into sys_push_receipts
// (migration 0012) as (delivery, event, SHA-256 of the token), ignoring a
// row that is there; only an event whose row this call inserted adds 1.
// A receipt posted again, or by two posts at once, so counts once: the
// second insert waits for the first's transaction and then finds its row.
func (s *Store) RecordReceipts(ctx context.Context, provider, receiptID, token string, c registry.ReceiptCounts) error {
	if s.unbuilt() {
		return notBuilt("Store.RecordReceipts")
	}
	const op = "RecordReceipts"
	if err := registry.ValidateReceipts(provider, receiptID, c); err != nil {
		return wrap(op, err)
	}
	record := func(cached bool) error {
		return s.inTx(ctx, func(q DBTX) error { return s.recordReceipts(ctx, q, provider, receiptID, token, c, cached) })
	}
	err := record(true)
	if errors.Is(err, errStaleReceiptSet) {
		// A delivery kept was gone: once more, as the database has them.
		err = record(false)
	}
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// errStaleReceiptSet is recordReceipts's answer when a delivery it found
// among those kept (receiptSets) is gone: its transaction rolls back, and
// RecordReceipts records the receipt again from what the database holds.
var errStaleReceiptSet = errors.New("a delivery kept for its receipts is gone")

// recordReceipts is RecordReceipts's work, in q (a transaction). With
// cached, the deliveries of a receipt naming a token come from
// receiptSets when it has them; a token none of them went to, or a
// delivery gone, is looked up in the database again, since another
// delivery may have got the receipt id since they were kept.
func (s *Store) recordReceipts(ctx context.Context, q DBTX, provider, receiptID, token string, c registry.ReceiptCounts, cached bool) error {
	key := receiptSetKey{provider, receiptID}
	var ds []receiptDelivery
	fromSet := false
	if token != "" && cached {
		ds, fromSet = s.receiptSets.get(key)
	}
	hits := func() []int64 {
		var hit []int64
		for i := range ds {
			if token == "" || !ds[i].byTokens || ds[i].has(token) {
				hit = append(hit, ds[i].id)
			}
		}
		return hit
	}
	hit := hits()
	if len(hit) == 0 {
		if fromSet {
			s.receiptSets.drop(key)
			fromSet = false
		}
		var err error
		// Without a token no list is checked: the ids alone.
		if ds, err = s.receiptDeliveries(ctx, q, provider, receiptID, token != ""); err != nil {
			return step("select deliveries", err)
		}
		if token != "" {
			s.receiptSets.put(key, ds)
		}
		hit = hits()
	}
	if len(hit) == 0 {
		return notFound("receipt", fmt.Sprintf("%q of %s", receiptID, provider))
	}
	if c.IsZero() {
		return nil
	}
	for _, id := range hit {
		add := c
		if token != "" {
			var err error
			if add, err = s.firstReceipts(ctx, q, id, token, c); err != nil {
				return step("record receipt events", err)
			}
			if add.IsZero() {
				continue
			}
		}
		res, err := s.exec(ctx, q, `UPDATE sys_push_deliveries SET arrived = COALESCE(arrived, 0) + ?,
			opened = COALESCE(opened, 0) + ?, dismissed = COALESCE(dismissed, 0) + ? WHERE id = ?`,
			add.Arrived, add.Opened, add.Dismissed, id)
		if err != nil {
			return step("update receipts", err)
		}
		if n, err := res.RowsAffected(); err == nil && n == 0 && fromSet {
			// Kept, and deleted since (or never committed: read inside a
			// host's transaction that rolled back).
			s.receiptSets.drop(key)
			return errStaleReceiptSet
		}
		// Read in this transaction and deleted since by another: it is
		// gone, and counts nothing.
	}
	return nil
}

// receiptDeliveries reads the deliveries of provider with receiptID, in
// id order: their ids, and with lists their audiences and tokens.
func (s *Store) receiptDeliveries(ctx context.Context, q DBTX, provider, receiptID string, lists bool) (ds []receiptDelivery, err error) {
	query := "SELECT id, '', '' FROM sys_push_deliveries WHERE receipt_id = ? AND provider = ? ORDER BY id"
	if lists {
		query = "SELECT id, audience, tokens FROM sys_push_deliveries WHERE receipt_id = ? AND provider = ? ORDER BY id"
	}
	rows, err := s.query(ctx, q, query, receiptID, provider)
	if err != nil {
		return nil, err
	}
	defer func() { err = errors.Join(err, rows.Close()) }()
	for rows.Next() {
		var d receiptDelivery
		var audience, tokens string
		if err := rows.Scan(&d.id, zeroIfNull(&audience), zeroIfNull(&tokens)); err != nil {
			return nil, err
		}
		if d.byTokens = audience == registry.AudienceTokens; d.byTokens {
			d.tokens = splitList(tokens)
		}
		ds = append(ds, d)
	}
	return ds, rows.Err()
}

// firstReceipts records, for each event c counts, that token's receipt of
// it about delivery id (sys_push_receipts.event is the
// registry.ReceiptEvent), and returns the counts to add: 1 for each event
// recorded now, 0 for one recorded before.
func (s *Store) firstReceipts(ctx context.Context, q DBTX, id int64, token string, c registry.ReceiptCounts) (registry.ReceiptCounts, error) {
	query := "INSERT INTO sys_push_receipts (delivery_id, event, token_key) VALUES (?, ?, ?) ON CONFLICT DO NOTHING"
	if s.dialect == DialectMySQL {
		// INSERT IGNORE affects 0 rows on a duplicate key whatever the
		// connection's clientFoundRows; the values cannot be truncated.
		query = "INSERT IGNORE INTO sys_push_receipts (delivery_id, event, token_key) VALUES (?, ?, ?)"
	}
	key := receiptKey(token)
	return c.Once(func(e registry.ReceiptEvent) (bool, error) {
		res, err := s.exec(ctx, q, query, id, int(e), key)
		if err != nil {
			return false, err
		}
		n, err := res.RowsAffected()
		return n > 0, err
	})
}

// receiptKey is the sys_push_receipts key of a device token: its SHA-256
// in hex.
func receiptKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// ReceiptTotals implements registry.PushMessages: a SUM over the
// message's deliveries, per platform, when read.
func (s *Store) ReceiptTotals(ctx context.Context, pushMessageID int64) (ios, android registry.ReceiptCounts, err error) {
	if s.unbuilt() {
		return registry.ReceiptCounts{}, registry.ReceiptCounts{}, notBuilt("Store.ReceiptTotals")
	}
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
