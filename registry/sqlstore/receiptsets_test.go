package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// largeDelivery creates a push with one accepted delivery to n tokens
// under receipt id rid, and returns the tokens.
func largeDelivery(t *testing.T, s *sqlstore.Store, rid string, n int) []string {
	t.Helper()
	ts := make([]string, n)
	for i := range ts {
		ts[i] = fmt.Sprintf("tok-%s-%05d", rid, i)
	}
	now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
	d := &registry.Delivery{Provider: "umeng", Platform: registry.PlatformAndroid, Audience: registry.AudienceTokens, Tokens: ts,
		IdempotencyKey: "large-" + rid, State: registry.DeliveryAccepted, NextAttemptAt: now, ReceiptID: rid, Ret: registry.RetSuccess}
	m := registry.PushMessage{Title: "large", Content: "c", PushType: registry.PushTypeUsers}
	require.NoError(t, s.CreatePushMessage(t.Context(), &m, []*registry.Delivery{d}))
	return ts
}

// TestReceiptsOfALargeDeliveryCheckTheirTokens: the receipts of a
// delivery to many tokens (whose list the Store keeps after the first)
// count for its tokens only, exactly compared, each device once; and once
// the delivery is deleted, a receipt is not found and leaves nothing.
func TestReceiptsOfALargeDeliveryCheckTheirTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := dbtest.NewStoreDB(t, d)
		ctx := t.Context()
		ts := largeDelivery(t, s, "uf-large", 1500)
		one := registry.ReceiptCounts{Arrived: 1}
		for _, tok := range []string{ts[0], ts[700], ts[1499], ts[700]} {
			require.NoError(t, s.RecordReceipts(ctx, "umeng", "uf-large", tok, one), tok)
		}
		for _, tok := range []string{"tok-uf-large-01500", ts[3] + " ", ts[3][:len(ts[3])-1], ts[3] + "," + ts[4], "TOK-UF-LARGE-00003"} {
			assert.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "uf-large", tok, one), registry.ErrNotFound, "%q", tok)
		}
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "uf-large", "", one), "without a token")
		var arrived int64
		require.NoError(t, db.QueryRow("SELECT arrived FROM sys_push_deliveries WHERE receipt_id = 'uf-large'").Scan(&arrived))
		assert.Equal(t, int64(4), arrived, "three devices once each, and one receipt without a token")

		_, err := db.Exec("DELETE FROM sys_push_deliveries WHERE receipt_id = 'uf-large'")
		require.NoError(t, err)
		err = s.RecordReceipts(ctx, "umeng", "uf-large", ts[9], one)
		require.ErrorIs(t, err, registry.ErrNotFound, "a deleted delivery counts no more receipts")
		var events int
		require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM sys_push_receipts").Scan(&events))
		assert.Equal(t, 3, events, "the failed receipt's event was rolled back")
		assert.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "uf-large", ts[10], one), registry.ErrNotFound, "read again, and not found")
	})
}

// TestReceiptsOfALargeDeliveryFollowItsReceiptID: a delivery kept for its
// receipts does not hide another that gets the same receipt id later, nor
// does one deleted since keep the others' receipts from counting.
func TestReceiptsOfALargeDeliveryFollowItsReceiptID(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := dbtest.NewStoreDB(t, d)
		ctx := t.Context()
		one := registry.ReceiptCounts{Arrived: 1}
		arrived := func(key string) int64 {
			t.Helper()
			var n int64
			require.NoError(t, db.QueryRow(dbtest.Rebind(d, "SELECT COALESCE(arrived, 0) FROM sys_push_deliveries WHERE idempotency_key = ?"), key).Scan(&n))
			return n
		}
		large := largeDelivery(t, s, "shared", 1200)
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "shared", large[5], one), "kept from here on")
		now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
		late := &registry.Delivery{Provider: "umeng", Platform: registry.PlatformAndroid, Audience: registry.AudienceTokens,
			Tokens: []string{"late-tok"}, IdempotencyKey: "late", State: registry.DeliveryAccepted, NextAttemptAt: now,
			ReceiptID: "shared", Ret: registry.RetSuccess}
		m := registry.PushMessage{Title: "late", Content: "c", PushType: registry.PushTypeUsers}
		require.NoError(t, s.CreatePushMessage(ctx, &m, []*registry.Delivery{late}))
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "shared", "late-tok", one), "the later delivery is found")
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "shared", "", one), "a receipt without a token counts on both")
		assert.Equal(t, int64(2), arrived("large-shared"))
		assert.Equal(t, int64(2), arrived("late"))

		_, err := db.Exec("DELETE FROM sys_push_deliveries WHERE idempotency_key = 'large-shared'")
		require.NoError(t, err)
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "shared", "", one), "the deleted one does not sink the other's")
		assert.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "shared", large[6], one), registry.ErrNotFound)
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "shared", "late-tok", registry.ReceiptCounts{Opened: 1}))
		assert.Equal(t, int64(3), arrived("late"))
	})
}

// TestReceiptsOfALargeDeliveryReadItsTokensOnce: after the first receipt
// of a delivery to many tokens, the next ones do not read its list again;
// a small delivery's list is read with each receipt.
func TestReceiptsOfALargeDeliveryReadItsTokensOnce(t *testing.T) {
	s, mock, _ := mockStore(t)
	ctx := context.Background()
	list := ""
	for i := range 1000 {
		if i > 0 {
			list += ","
		}
		list += fmt.Sprintf("t%d", i)
	}
	selectDeliveries := sqlPrefix("SELECT id, audience, tokens FROM sys_push_deliveries")
	recorded := func() {
		mock.ExpectExec(sqlPrefix("INSERT IGNORE INTO sys_push_receipts")).WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries SET arrived")).WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectCommit()
	}
	mock.ExpectBegin()
	mock.ExpectQuery(selectDeliveries).WillReturnRows(sqlmock.NewRows([]string{"id", "audience", "tokens"}).AddRow(7, "tokens", list))
	recorded()
	mock.ExpectBegin()
	recorded() // no SELECT: the list is kept
	mock.ExpectBegin()
	// t1000 is none of the kept delivery's tokens: the deliveries are read
	// again, since another may have got the receipt id since.
	mock.ExpectQuery(selectDeliveries).WillReturnRows(sqlmock.NewRows([]string{"id", "audience", "tokens"}).AddRow(7, "tokens", list))
	mock.ExpectRollback()
	mock.ExpectBegin()
	recorded() // kept again: no SELECT
	mock.ExpectBegin()
	mock.ExpectQuery(selectDeliveries).WillReturnRows(sqlmock.NewRows([]string{"id", "audience", "tokens"}).AddRow(8, "tokens", "s1,s2"))
	recorded()
	mock.ExpectBegin()
	mock.ExpectQuery(selectDeliveries).WillReturnRows(sqlmock.NewRows([]string{"id", "audience", "tokens"}).AddRow(8, "tokens", "s1,s2"))
	recorded()

	one := registry.ReceiptCounts{Arrived: 1}
	require.NoError(t, s.RecordReceipts(ctx, "umeng", "uf-1", "t5", one))
	require.NoError(t, s.RecordReceipts(ctx, "umeng", "uf-1", "t999", one))
	require.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "uf-1", "t1000", one), registry.ErrNotFound)
	require.NoError(t, s.RecordReceipts(ctx, "umeng", "uf-1", "t998", one))
	require.NoError(t, s.RecordReceipts(ctx, "umeng", "us-1", "s1", one))
	require.NoError(t, s.RecordReceipts(ctx, "umeng", "us-1", "s2", one), "a small delivery's list is read again")
}
