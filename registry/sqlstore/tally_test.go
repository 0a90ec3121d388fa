package sqlstore_test

import (
	"encoding/json"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// recordingStore is mockStore whose sqlmock also records every statement
// the Store runs, in order.
func recordingStore(t *testing.T) (*sqlstore.Store, sqlmock.Sqlmock, func() []string) {
	t.Helper()
	var mu sync.Mutex
	var seen []string
	matcher := sqlmock.QueryMatcherFunc(func(expected, actual string) error {
		mu.Lock()
		seen = append(seen, actual)
		mu.Unlock()
		return sqlmock.QueryMatcherRegexp.Match(expected, actual)
	})
	db, mock, err := sqlmock.New(sqlmock.QueryMatcherOption(matcher))
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, mock.ExpectationsWereMet(), "every expected statement ran")
		_ = db.Close()
	})
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectMySQL, Now: fixedClock(base)})
	require.NoError(t, err)
	return s, mock, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return append([]string(nil), seen...)
	}
}

// tallyJSON is the tally column of ds.
func tallyJSON(t *testing.T, ds ...registry.Delivery) string {
	t.Helper()
	b, err := json.Marshal(registry.NewTally(registry.PlatformIOS, ds))
	require.NoError(t, err)
	return string(b)
}

// TestFinishDeliveryNeitherReadsNorWritesTokens: a finish updates the
// summary from the message's tally and the delivery's previous outcome.
// No statement names a tokens column: the deliveries' tokens are not read
// and device_tokens is not written, whatever the size of the push. A
// message without a tally has it computed from its deliveries' outcome
// columns, and the response of the latest sent one only.
func TestFinishDeliveryNeitherReadsNorWritesTokens(t *testing.T) {
	ctx := t.Context()
	ms := strconv.FormatInt(base.UnixMilli(), 10)
	// Delivery 5 (umeng, ios, seq 3) of message 2 ends done; delivery 6
	// is still pending.
	done := registry.Delivery{ID: 5, PushMessageID: 2, Provider: "umeng", Platform: registry.PlatformIOS, Seq: 3,
		State: registry.DeliveryDone, VendorState: "accepted", ReceiptID: "ul-5", Response: "ok", SentAt: &base}
	other := registry.Delivery{ID: 6, PushMessageID: 2, Provider: "umeng", Platform: registry.PlatformIOS, Seq: 4,
		State: registry.DeliveryPending}
	before := done
	before.State, before.VendorState, before.ReceiptID, before.Response, before.SentAt = registry.DeliveryPending, "", "", "", nil
	finish := func() *registry.Delivery {
		d := done
		d.Ret, d.Attempts, d.ClaimToken = registry.RetSuccess, 1, "tok.5"
		return &d
	}
	expectUntilSummary := func(m sqlmock.Sqlmock, tally any) {
		m.ExpectBegin()
		expectReadOldDelivery(m)
		m.ExpectQuery(sqlPrefix("SELECT id, ios_tally FROM sys_push_messages WHERE id = ? FOR UPDATE")).WithArgs(2).
			WillReturnRows(sqlmock.NewRows([]string{"id", "ios_tally"}).AddRow(2, tally))
		m.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries SET state = ?")).WillReturnResult(sqlmock.NewResult(0, 1))
	}
	expectSummary := func(m sqlmock.Sqlmock, ret, status, tally string) {
		m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_task_id = ?, ios_ret = ?, ios_status = ?, ios_response = ?, ios_timestamp = ?, is_send_ios = ?, ios_tally = ?, updated_at = ? WHERE id = ?")).
			WithArgs("ul-5", ret, status, "ok", ms, 1, tally, sqlmock.AnyArg(), 2).
			WillReturnResult(sqlmock.NewResult(0, 1))
		m.ExpectCommit()
	}
	noTokens := func(t *testing.T, statements []string) {
		t.Helper()
		require.NotEmpty(t, statements)
		for _, st := range statements {
			assert.NotContains(t, strings.ToLower(st), "tokens", "a finish names no tokens column")
		}
	}

	t.Run("with a tally", func(t *testing.T) {
		s, m, statements := recordingStore(t)
		expectUntilSummary(m, tallyJSON(t, before, other))
		expectSummary(m, registry.RetPending, registry.StatusPending, tallyJSON(t, done, other))

		require.NoError(t, s.FinishDelivery(ctx, finish()))

		noTokens(t, statements())
		assert.Len(t, statements(), 4, "read the delivery, lock the message, write the delivery, write the summary")
	})

	t.Run("without a tally", func(t *testing.T) {
		s, m, statements := recordingStore(t)
		expectUntilSummary(m, nil)
		m.ExpectQuery(sqlPrefix("SELECT id, provider, seq, state, vendor_state, receipt_id, CAST(sent_at AS CHAR) FROM sys_push_deliveries WHERE push_message_id = ? AND platform = ?")).
			WithArgs(2, "ios").
			WillReturnRows(sqlmock.NewRows([]string{"id", "provider", "seq", "state", "vendor_state", "receipt_id", "sent_at"}).
				AddRow(5, "umeng", 3, "done", "accepted", "ul-5", "2030-06-15 08:00:00").
				AddRow(6, "umeng", 4, "pending", nil, nil, nil))
		m.ExpectQuery(sqlPrefix("SELECT response FROM sys_push_deliveries WHERE id = ?")).WithArgs(5).
			WillReturnRows(sqlmock.NewRows([]string{"response"}).AddRow("ok"))
		expectNoFanout(m)
		expectSummary(m, registry.RetPending, registry.StatusPending, tallyJSON(t, done, other))

		require.NoError(t, s.FinishDelivery(ctx, finish()))

		noTokens(t, statements())
	})

	t.Run("with an unreadable tally", func(t *testing.T) {
		s, m, statements := recordingStore(t)
		expectUntilSummary(m, "{not json")
		m.ExpectQuery(sqlPrefix("SELECT id, provider, seq, state, vendor_state, receipt_id, CAST(sent_at AS CHAR) FROM sys_push_deliveries")).
			WillReturnRows(sqlmock.NewRows([]string{"id", "provider", "seq", "state", "vendor_state", "receipt_id", "sent_at"}).
				AddRow(5, "umeng", 3, "done", "accepted", "ul-5", "2030-06-15 08:00:00"))
		m.ExpectQuery(sqlPrefix("SELECT response FROM sys_push_deliveries WHERE id = ?")).WithArgs(5).
			WillReturnRows(sqlmock.NewRows([]string{"response"}).AddRow("ok"))
		expectNoFanout(m)
		expectSummary(m, registry.RetSuccess, "accepted", tallyJSON(t, done))

		require.NoError(t, s.FinishDelivery(ctx, finish()))

		noTokens(t, statements())
	})
}

// expectNoFanout expects the read of message 2's fanout claim (none), by
// a tally computed from the deliveries.
func expectNoFanout(m sqlmock.Sqlmock) {
	m.ExpectQuery(sqlPrefix("SELECT fanout_claim FROM sys_push_messages WHERE id = ?")).WithArgs(2).
		WillReturnRows(sqlmock.NewRows([]string{"fanout_claim"}).AddRow(nil))
}

// TestFinishLeavesDeviceTokensAlone: on every database, CreatePushMessage
// stores the tallies, and a finish writes the summary without touching
// device_tokens: a value put there by hand survives it, while the other
// summary columns follow the outcome.
func TestFinishLeavesDeviceTokensAlone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		m := registry.PushMessage{Title: "t", Content: "c", PushType: registry.PushTypeUsers}
		dv := delivery("alone", registry.PlatformIOS, base, "a", "b")
		dv.ClaimToken, dv.LeaseUntil = "mine", &base
		require.NoError(t, s.CreatePushMessage(ctx, &m, []*registry.Delivery{dv}))
		var iosTally, androidTally string
		require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT ios_tally, android_tally FROM sys_push_messages WHERE id = ?"), m.ID).
			Scan(&iosTally, &androidTally))
		assert.JSONEq(t, tallyJSON(t, registry.Delivery{ID: dv.ID, Provider: "umeng", Platform: registry.PlatformIOS, State: registry.DeliveryPending}), iosTally)
		assert.JSONEq(t, `{}`, androidTally)
		_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_push_messages SET ios_device_tokens = ? WHERE id = ?"), "set-by-hand", m.ID)
		require.NoError(t, err)

		out := *dv
		out.State, out.VendorState, out.ReceiptID, out.Ret, out.SentAt = registry.DeliveryDone, "accepted", "ul-1", registry.RetSuccess, &base
		require.NoError(t, s.FinishDelivery(ctx, &out))

		got, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.PlatformSummary{DeviceTokens: "set-by-hand", TaskID: "ul-1", Ret: registry.RetSuccess, Status: "accepted",
			Timestamp: strconv.FormatInt(base.UnixMilli(), 10), IsSend: true}, got.IOS)
	})
}
