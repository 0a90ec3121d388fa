package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestSetChunks: a set write takes at most 64 rows a statement; on SQLite
// the rest goes as powers of two (few statement texts to keep prepared),
// on the servers in one statement.
func TestSetChunks(t *testing.T) {
	for _, tt := range []struct {
		d    sqlstore.Dialect
		n    int
		want []int
	}{
		{sqlstore.DialectSQLite, 1, []int{1}},
		{sqlstore.DialectSQLite, 64, []int{64}},
		{sqlstore.DialectSQLite, 63, []int{32, 16, 8, 4, 2, 1}},
		{sqlstore.DialectSQLite, 130, []int{64, 64, 2}},
		{sqlstore.DialectMySQL, 63, []int{63}},
		{sqlstore.DialectPostgres, 130, []int{64, 64, 2}},
		{sqlstore.DialectPostgres, 0, nil},
	} {
		db, _, err := sqlmock.New()
		require.NoError(t, err)
		t.Cleanup(func() { _ = db.Close() })
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: tt.d})
		require.NoError(t, err)
		assert.Equal(t, tt.want, s.SetChunks(tt.n), "%s %d", tt.d, tt.n)
	}
}

// claimCenter enqueues n center messages on s and claims them.
func claimCenter(t *testing.T, s *sqlstore.Store, n int) []registry.CenterMessage {
	t.Helper()
	for i := range n {
		require.NoError(t, s.EnqueueCenterMessage(t.Context(), &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push",
			Receivers: fmt.Sprint("u", i)}))
	}
	rows, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: base, Limit: n, Lease: time.Hour})
	require.NoError(t, err)
	require.Len(t, rows, n)
	return rows
}

// centerOutcome sets an outcome of its own on row i.
func centerOutcome(m *registry.CenterMessage, i int) *registry.CenterMessage {
	m.SendState, m.SendResult, m.Remark, m.Attempts = registry.SendStateSent, fmt.Sprint("push_message#", i), fmt.Sprint("remark ", i), i
	if i%2 == 0 {
		m.SendState, m.Remark = registry.SendStateFailed, ""
		next := at(time.Duration(i) * time.Minute)
		m.NextAttemptAt = &next
	}
	return m
}

// TestFinishCenterBatch: a batch of center finishes is written as the
// same finishes one call at a time write it; a batch with a lost claim, or
// with one row twice, writes the others and fails that one alone with
// ErrClaimLost.
func TestFinishCenterBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		const n = 11
		batched, _ := newStore(t, d)
		alone, _ := newStore(t, d)
		rows, want := claimCenter(t, batched, n), claimCenter(t, alone, n)
		ms := make([]*registry.CenterMessage, n)
		for i := range rows {
			ms[i] = centerOutcome(&rows[i], i)
			require.NoError(t, alone.FinishCenterMessage(t.Context(), centerOutcome(&want[i], i)))
		}
		for i, err := range batched.FinishCenterBatch(ms) {
			require.NoError(t, err, "row %d", i)
		}
		for i := range rows {
			got, err := batched.GetCenterMessage(t.Context(), rows[i].ID)
			require.NoError(t, err)
			exp, err := alone.GetCenterMessage(t.Context(), want[i].ID)
			require.NoError(t, err)
			assert.Equal(t, exp, got, "row %d as one call at a time writes it", i)
		}

		t.Run("lost claim", func(t *testing.T) {
			rows := claimCenter(t, batched, 5)
			ms := make([]*registry.CenterMessage, len(rows))
			for i := range rows {
				ms[i] = centerOutcome(&rows[i], i)
			}
			stale := *ms[2]
			stale.ClaimToken += "-stale"
			ms[2] = &stale
			errs := batched.FinishCenterBatch(ms)
			for i, m := range ms {
				got, err := batched.GetCenterMessage(t.Context(), m.ID)
				require.NoError(t, err)
				if i == 2 {
					assert.ErrorIs(t, errs[i], registry.ErrClaimLost)
					assert.Equal(t, registry.SendStateUnsent, got.SendState, "nothing written under a lost claim")
					assert.Equal(t, rows[2].ClaimToken, got.ClaimToken, "the row keeps its claim")
					continue
				}
				require.NoError(t, errs[i], "row %d", i)
				assert.Equal(t, m.SendResult, got.SendResult, "row %d", i)
				assert.Empty(t, got.ClaimToken, "row %d", i)
			}
		})

		t.Run("one row twice", func(t *testing.T) {
			rows := claimCenter(t, batched, 3)
			first, second := rows[1], rows[1]
			first.SendState, first.SendResult = registry.SendStateSent, "first"
			second.SendState, second.SendResult = registry.SendStateSent, "second"
			errs := batched.FinishCenterBatch([]*registry.CenterMessage{centerOutcome(&rows[0], 0), &first, &second, centerOutcome(&rows[2], 2)})
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])
			assert.ErrorIs(t, errs[2], registry.ErrClaimLost, "the first finish released the claim")
			require.NoError(t, errs[3])
			got, err := batched.GetCenterMessage(t.Context(), rows[1].ID)
			require.NoError(t, err)
			assert.Equal(t, "first", got.SendResult)
		})
	})
}

// TestFinishCenterBatchStatements: a batch of center finishes is one
// UPDATE; when it changes fewer rows than the batch holds, it is rolled
// back and the batch written row by row, which finds the lost claim; when
// it fails, each row is written alone.
func TestFinishCenterBatchStatements(t *testing.T) {
	batch := func() []*registry.CenterMessage {
		return []*registry.CenterMessage{{ID: 1, ClaimToken: "x.1", SendState: 1}, {ID: 2, ClaimToken: "x.2", SendState: 1},
			{ID: 3, ClaimToken: "x.3", SendState: 2, SendResult: "r"}}
	}
	const setPrefix = "UPDATE sys_message_center SET send_state = CASE id WHEN ? THEN ? WHEN ? THEN ? WHEN ? THEN ? ELSE send_state END, send_result = CASE id"
	const onePrefix = "UPDATE sys_message_center SET send_state = ?, send_result = ?"
	t.Run("one statement", func(t *testing.T) {
		s, m, statements := recordingStore(t)
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix(setPrefix)).
			WithArgs(1, 1, 2, 1, 3, 2, 1, nil, 2, nil, 3, "r", 1, nil, 2, nil, 3, nil, 1, 0, 2, 0, 3, 0, 1, nil, 2, nil, 3, nil,
				sqlmock.AnyArg(), 1, "x.1", 2, "x.2", 3, "x.3").
			WillReturnResult(sqlmock.NewResult(0, 3))
		m.ExpectCommit()
		for _, err := range s.FinishCenterBatch(batch()) {
			require.NoError(t, err)
		}
		assert.Len(t, statements(), 1)
		assert.Contains(t, statements()[0], "WHERE (id = ? AND claim_token = ? AND send_state + 0 = 0) OR (id = ? AND claim_token = ? AND send_state + 0 = 0) OR (id = ? AND claim_token = ? AND send_state + 0 = 0)")
	})
	t.Run("a lost claim: row by row", func(t *testing.T) {
		s, m, _ := recordingStore(t)
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix(setPrefix)).WillReturnResult(sqlmock.NewResult(0, 2))
		m.ExpectRollback()
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix(onePrefix)).WithArgs(1, nil, nil, 0, nil, sqlmock.AnyArg(), 1, "x.1").WillReturnResult(sqlmock.NewResult(0, 1))
		m.ExpectExec(sqlPrefix(onePrefix)).WithArgs(1, nil, nil, 0, nil, sqlmock.AnyArg(), 2, "x.2").WillReturnResult(sqlmock.NewResult(0, 0))
		// Not written: a claim still its own (a row another program
		// finished) is released, nothing else.
		m.ExpectExec(`^\s*UPDATE sys_message_center SET claim_token = NULL, lease_until = NULL\s+WHERE id = \? AND claim_token = \?$`).
			WithArgs(2, "x.2").WillReturnResult(sqlmock.NewResult(0, 0))
		m.ExpectExec(sqlPrefix(onePrefix)).WithArgs(2, "r", nil, 0, nil, sqlmock.AnyArg(), 3, "x.3").WillReturnResult(sqlmock.NewResult(0, 1))
		m.ExpectCommit()
		errs := s.FinishCenterBatch(batch())
		require.NoError(t, errs[0])
		assert.ErrorIs(t, errs[1], registry.ErrClaimLost)
		require.NoError(t, errs[2])
	})
	t.Run("the statement fails: each row alone", func(t *testing.T) {
		s, m, _ := recordingStore(t)
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix(setPrefix)).WillReturnError(errDriver)
		m.ExpectRollback()
		for i := range 3 {
			m.ExpectBegin()
			e := m.ExpectExec(sqlPrefix(onePrefix))
			if i == 1 {
				e.WillReturnError(errDriver)
				m.ExpectRollback()
				continue
			}
			e.WillReturnResult(sqlmock.NewResult(0, 1))
			m.ExpectCommit()
		}
		errs := s.FinishCenterBatch(batch())
		require.NoError(t, errs[0])
		require.ErrorIs(t, errs[1], errDriver)
		assert.ErrorContains(t, errs[1], "update center message: ")
		require.NoError(t, errs[2])
	})
	t.Run("rows affected fails", func(t *testing.T) {
		s, m, _ := recordingStore(t)
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix(setPrefix)).WillReturnResult(sqlmock.NewErrorResult(errDriver))
		m.ExpectRollback()
		for range 3 {
			m.ExpectBegin()
			m.ExpectExec(sqlPrefix(onePrefix)).WillReturnResult(sqlmock.NewErrorResult(errDriver))
			m.ExpectRollback()
		}
		for _, err := range s.FinishCenterBatch(batch()) {
			require.ErrorIs(t, err, errDriver)
			assert.ErrorContains(t, err, "rows affected: ")
		}
	})
}

// claimedPush creates on s a push of 2 iOS and 2 Android deliveries, each
// claimed with token "claim", and returns them.
func claimedPush(t *testing.T, s *sqlstore.Store, name string) []*registry.Delivery {
	t.Helper()
	lease := at(time.Hour)
	var ds []*registry.Delivery
	for i := range 4 {
		platform := registry.PlatformIOS
		if i%2 == 1 {
			platform = registry.PlatformAndroid
		}
		d := delivery(fmt.Sprint(name, "-", i), platform, base, fmt.Sprint(name, "-tok", i))
		d.Seq, d.ClaimToken, d.LeaseUntil = i/2, "claim", &lease
		ds = append(ds, d)
	}
	m := registry.PushMessage{Title: name, Content: "c", PushType: registry.PushTypeUsers}
	require.NoError(t, s.CreatePushMessage(t.Context(), &m, ds))
	return ds
}

// outcome is an outcome of delivery d of its own, by i.
func outcome(d *registry.Delivery, i int) *registry.Delivery {
	out := *d
	out.Tokens = nil
	sent := at(time.Duration(i) * time.Second)
	switch i % 4 {
	case 0:
		out.State, out.Pollable, out.VendorState, out.ReceiptID, out.Ret, out.SentAt = registry.DeliveryAccepted, true, "queued",
			fmt.Sprint("uf-", i), registry.RetSuccess, &sent
		out.Response = fmt.Sprintf(`{"ret":"SUCCESS","n":%d}`, i)
	case 1:
		out.State, out.Ret, out.SentAt, out.Response = registry.DeliveryDone, registry.RetSuccess, &sent, fmt.Sprint("ok ", i)
	case 2:
		out.State, out.Ret, out.ErrorKind, out.ErrorCode = registry.DeliveryFailed, registry.RetFail, "invalid", fmt.Sprint("E", i)
	default:
		out.State, out.Attempts, out.NextAttemptAt, out.ErrorKind = registry.DeliveryPending, 2, at(time.Minute), "transient"
	}
	return &out
}

// storedPush reads back everything of the push of ds a finish writes: the
// message, its raw tally columns and its deliveries.
type storedPush struct {
	msg        registry.PushMessage
	ios, andro sql.NullString
	deliveries []registry.Delivery
}

func readPush(t *testing.T, s *sqlstore.Store, db *sql.DB, d sqlstore.Dialect, msgID int64) storedPush {
	t.Helper()
	var p storedPush
	var err error
	p.msg, err = s.GetPushMessage(t.Context(), msgID)
	require.NoError(t, err)
	require.NoError(t, db.QueryRowContext(t.Context(), dbtest.Rebind(d, "SELECT ios_tally, android_tally FROM sys_push_messages WHERE id = ?"), msgID).
		Scan(&p.ios, &p.andro))
	p.deliveries, err = s.ListDeliveries(t.Context(), msgID)
	require.NoError(t, err)
	return p
}

// TestFinishDeliveryBatch: a batch of finishes writes the outcomes,
// summaries and tallies the same finishes write one call at a time, on
// fresh stores holding the same pushes. An unknown delivery and a lost
// claim fail alone with ErrClaimLost, a delivery twice in the batch fails
// the second time, and a delivery whose stored platform is neither ios
// nor android (another program's) gets its outcome written, with no
// summary to keep.
func TestFinishDeliveryBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		batched, bdb := newStore(t, d)
		alone, adb := newStore(t, d)
		var bds, ads []*registry.Delivery
		for m := range 3 {
			bds = append(bds, claimedPush(t, batched, fmt.Sprint("m", m))...)
			ads = append(ads, claimedPush(t, alone, fmt.Sprint("m", m))...)
		}
		// Message 1 has no tallies: they are rebuilt from its deliveries.
		for _, db := range []*sql.DB{bdb, adb} {
			_, err := db.ExecContext(t.Context(), dbtest.Rebind(d, "UPDATE sys_push_messages SET ios_tally = NULL, android_tally = NULL WHERE id = ?"),
				bds[4].PushMessageID)
			require.NoError(t, err)
		}
		compare := func(t *testing.T) {
			t.Helper()
			for m := range 3 {
				id := bds[4*m].PushMessageID
				require.Equal(t, id, ads[4*m].PushMessageID)
				assert.Equal(t, readPush(t, alone, adb, d, id), readPush(t, batched, bdb, d, id), "message %d", id)
			}
		}
		var outs []*registry.Delivery
		for i := range bds {
			outs = append(outs, outcome(bds[i], i))
			require.NoError(t, alone.FinishDelivery(t.Context(), outcome(ads[i], i)))
		}
		unknown := outcome(bds[0], 0)
		unknown.ID = 999999
		errs := batched.FinishDeliveryBatch(append(outs, unknown))
		for i := range outs {
			require.NoError(t, errs[i], "delivery %d", i)
		}
		assert.ErrorIs(t, errs[len(outs)], registry.ErrClaimLost, "unknown delivery")
		compare(t)

		reclaim := func(t *testing.T, ids ...int64) {
			for _, db := range []*sql.DB{bdb, adb} {
				for _, id := range ids {
					_, err := db.ExecContext(t.Context(), dbtest.Rebind(d, "UPDATE sys_push_deliveries SET claim_token = 'again' WHERE id = ?"), id)
					require.NoError(t, err)
				}
			}
		}
		second := func(ds []*registry.Delivery, i int) *registry.Delivery {
			out := outcome(ds[i], i+1)
			out.ClaimToken = "again"
			return out
		}

		t.Run("lost claim", func(t *testing.T) {
			reclaim(t, bds[0].ID, bds[1].ID, bds[5].ID, bds[8].ID)
			batch := []*registry.Delivery{second(bds, 0), second(bds, 1), second(bds, 5), second(bds, 8)}
			batch[2].ClaimToken = "stale"
			errs := batched.FinishDeliveryBatch(batch)
			for i, err := range errs {
				if i == 2 {
					assert.ErrorIs(t, err, registry.ErrClaimLost)
					continue
				}
				require.NoError(t, err, "delivery %d", i)
			}
			for _, i := range []int{0, 1, 8} {
				require.NoError(t, alone.FinishDelivery(t.Context(), second(ads, i)))
			}
			compare(t)
		})

		t.Run("twice in a batch", func(t *testing.T) {
			reclaim(t, bds[2].ID, bds[3].ID)
			again := second(bds, 2)
			again.ReceiptID = "second write"
			errs := batched.FinishDeliveryBatch([]*registry.Delivery{second(bds, 2), second(bds, 3), again})
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])
			assert.ErrorIs(t, errs[2], registry.ErrClaimLost, "the first write released the claim")
			for _, i := range []int{2, 3} {
				require.NoError(t, alone.FinishDelivery(t.Context(), second(ads, i)))
			}
			compare(t)
		})

		t.Run("another program's platform", func(t *testing.T) {
			reclaim(t, bds[9].ID, bds[10].ID, bds[11].ID)
			for _, db := range []*sql.DB{bdb, adb} {
				_, err := db.ExecContext(t.Context(), dbtest.Rebind(d, "UPDATE sys_push_deliveries SET platform = 'web' WHERE id = ?"), bds[10].ID)
				require.NoError(t, err)
			}
			errs := batched.FinishDeliveryBatch([]*registry.Delivery{second(bds, 9), second(bds, 10), second(bds, 11)})
			for i, err := range errs {
				require.NoError(t, err, "delivery %d", 9+i)
			}
			for _, i := range []int{9, 10, 11} {
				require.NoError(t, alone.FinishDelivery(t.Context(), second(ads, i)))
			}
			ds, err := batched.ListDeliveries(t.Context(), bds[10].PushMessageID)
			require.NoError(t, err)
			var found bool
			for _, got := range ds {
				if got.ID == bds[10].ID {
					found = true
					assert.Empty(t, got.ClaimToken, "the outcome is written and the claim released")
					assert.Equal(t, second(bds, 10).State, got.State)
				}
			}
			assert.True(t, found)
			compare(t)
		})
	})
}

// TestFinishDeliveryBatchStatements: a batch of finishes reads its
// deliveries in one statement, locks their messages in one, writes the
// outcomes in one and the summaries of both platforms in one, naming no
// tokens column. A failure anywhere rolls the batch back and writes each
// finish alone; an outcomes' write that changes fewer rows than it should
// rolls back and writes the batch finish by finish, which finds the lost
// claim.
func TestFinishDeliveryBatchStatements(t *testing.T) {
	const (
		selectSet  = "SELECT id, push_message_id, provider, platform, seq, state, vendor_state, receipt_id, CAST(sent_at AS CHAR) FROM sys_push_deliveries WHERE id IN (?, ?)"
		lockSet    = "SELECT id, ios_tally, android_tally FROM sys_push_messages WHERE id IN (?, ?) ORDER BY id FOR UPDATE"
		updateSet  = "UPDATE sys_push_deliveries SET state = CASE id WHEN ? THEN ? WHEN ? THEN ? ELSE state END, attempts = CASE id"
		summaries  = "UPDATE sys_push_messages SET android_task_id = CASE id WHEN ? THEN ? ELSE android_task_id END"
		summaryIOS = ", ios_task_id = CASE id WHEN ? THEN ? ELSE ios_task_id END"
	)
	batch := func() []*registry.Delivery {
		five := finishDelivery()
		six := finishDelivery()
		six.ID, six.PushMessageID, six.Platform, six.ClaimToken = 6, 3, registry.PlatformAndroid, "tok.6"
		return []*registry.Delivery{five, six}
	}
	expectRead := func(m sqlmock.Sqlmock) {
		m.ExpectQuery(sqlPrefix(selectSet)).WithArgs(5, 6).WillReturnRows(sqlmock.NewRows(append([]string{"id"}, oldDeliveryRow...)).
			AddRow(5, 2, "umeng", "ios", 3, "pending", nil, nil, nil).
			AddRow(6, 3, "umeng", "android", 0, "pending", nil, nil, nil))
	}
	expectLock := func(m sqlmock.Sqlmock) {
		m.ExpectQuery(sqlPrefix(lockSet)).WithArgs(2, 3).WillReturnRows(sqlmock.NewRows([]string{"id", "ios_tally", "android_tally"}).
			AddRow(2, `{"p":1}`, `{}`).AddRow(3, `{}`, `{"p":1}`))
	}
	// expectEachAloneFails expects each finish written alone, failing at
	// its first statement.
	expectEachAloneFails := func(m sqlmock.Sqlmock) {
		for range 2 {
			m.ExpectBegin()
			m.ExpectQuery(sqlPrefix("SELECT push_message_id")).WillReturnError(errDriver)
			m.ExpectRollback()
		}
	}
	tests := []struct {
		name   string
		expect func(m sqlmock.Sqlmock)
		want   []string // each call's error starts with this; "" none
		lost   int      // the index of the call whose claim is lost, or -1
	}{
		{
			name: "four statements",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				expectRead(m)
				expectLock(m)
				m.ExpectExec(sqlPrefix(updateSet)).WillReturnResult(sqlmock.NewResult(0, 2))
				m.ExpectExec(sqlPrefix(summaries)+".*"+regexp.QuoteMeta(summaryIOS)+".*"+regexp.QuoteMeta("WHERE id IN (?, ?)")).
					WithArgs(3, sqlmock.AnyArg(), 3, sqlmock.AnyArg(), 3, sqlmock.AnyArg(), 3, sqlmock.AnyArg(), 3, sqlmock.AnyArg(),
						3, sqlmock.AnyArg(), 3, sqlmock.AnyArg(), 2, sqlmock.AnyArg(), 2, sqlmock.AnyArg(), 2, sqlmock.AnyArg(), 2, sqlmock.AnyArg(),
						2, sqlmock.AnyArg(), 2, sqlmock.AnyArg(), 2, sqlmock.AnyArg(), sqlmock.AnyArg(), 2, 3).
					WillReturnResult(sqlmock.NewResult(0, 2))
				m.ExpectCommit()
			},
			want: []string{"", ""}, lost: -1,
		},
		{
			name: "read fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				m.ExpectQuery(sqlPrefix(selectSet)).WillReturnError(errDriver)
				m.ExpectRollback()
				expectEachAloneFails(m)
			},
			want: []string{"select delivery: ", "select delivery: "}, lost: -1,
		},
		{
			name: "lock fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				expectRead(m)
				m.ExpectQuery(sqlPrefix(lockSet)).WillReturnError(errDriver)
				m.ExpectRollback()
				expectEachAloneFails(m)
			},
			want: []string{"select delivery: ", "select delivery: "}, lost: -1,
		},
		{
			name: "outcomes' write fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				expectRead(m)
				expectLock(m)
				m.ExpectExec(sqlPrefix(updateSet)).WillReturnResult(sqlmock.NewErrorResult(errDriver))
				m.ExpectRollback()
				expectEachAloneFails(m)
			},
			want: []string{"select delivery: ", "select delivery: "}, lost: -1,
		},
		{
			name: "summaries' write fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				expectRead(m)
				expectLock(m)
				m.ExpectExec(sqlPrefix(updateSet)).WillReturnResult(sqlmock.NewResult(0, 2))
				m.ExpectExec(sqlPrefix(summaries)).WillReturnError(errDriver)
				m.ExpectRollback()
				expectEachAloneFails(m)
			},
			want: []string{"select delivery: ", "select delivery: "}, lost: -1,
		},
		{
			name: "a claim lost: finish by finish",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				expectRead(m)
				expectLock(m)
				m.ExpectExec(sqlPrefix(updateSet)).WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectRollback()
				m.ExpectBegin()
				expectReadOldDelivery(m)
				m.ExpectQuery(sqlPrefix("SELECT push_message_id")).WillReturnRows(sqlmock.NewRows(oldDeliveryRow).
					AddRow(3, "umeng", "android", 0, "pending", nil, nil, nil))
				m.ExpectQuery(sqlPrefix("SELECT id, ios_tally FROM sys_push_messages WHERE id = ? FOR UPDATE")).WithArgs(2).
					WillReturnRows(sqlmock.NewRows([]string{"id", "ios_tally"}).AddRow(2, `{"p":1}`))
				m.ExpectQuery(sqlPrefix("SELECT id, android_tally FROM sys_push_messages WHERE id = ? FOR UPDATE")).WithArgs(3).
					WillReturnRows(sqlmock.NewRows([]string{"id", "android_tally"}).AddRow(3, `{"p":1}`))
				m.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries SET state = ?")).WithArgs(sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(),
					sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(),
					sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), 5, "tok.5").WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries SET state = ?")).WillReturnResult(sqlmock.NewResult(0, 0))
				m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_task_id = ?")).WithArgs(sqlmock.AnyArg(), sqlmock.AnyArg(),
					sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), 2).
					WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectCommit()
			},
			want: []string{"", "delivery 6: registry: conflict: claim no longer held"}, lost: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, m, statements := recordingStore(t)
			tt.expect(m)
			errs := s.FinishDeliveryBatch(batch())
			for i, err := range errs {
				if tt.want[i] == "" {
					require.NoError(t, err, "call %d", i)
					continue
				}
				require.Error(t, err, "call %d", i)
				assert.Regexp(t, "^"+regexp.QuoteMeta(tt.want[i]), err.Error(), "call %d", i)
				if i == tt.lost {
					assert.ErrorIs(t, err, registry.ErrClaimLost)
				} else {
					assert.ErrorIs(t, err, errDriver)
				}
			}
			for _, st := range statements() {
				assert.NotContains(t, strings.ToLower(st), "tokens", "a finish names no tokens column")
			}
			if tt.name == "four statements" {
				assert.Len(t, statements(), 4)
			}
		})
	}
}

// newPush is push i: n deliveries alternating between the platforms,
// users with a duplicate and a padded one, and dedupe key key.
func newPush(i, n int, key string) (*registry.PushMessage, []*registry.Delivery) {
	m := &registry.PushMessage{Title: fmt.Sprint("t", i), Content: "c", PushType: registry.PushTypeUsers, DedupeKey: key,
		UserNums: []string{fmt.Sprint("B", i), fmt.Sprint("A", i), fmt.Sprint("B", i), fmt.Sprint("C", i, "  ")}}
	var ds []*registry.Delivery
	for j := range n {
		platform := registry.PlatformIOS
		if j%2 == 1 {
			platform = registry.PlatformAndroid
		}
		d := delivery(fmt.Sprintf("k%d-%d", i, j), platform, at(time.Duration(j)*time.Second), fmt.Sprintf("tok%d-%d", i, j))
		d.Seq = j / 2
		if j%3 == 0 {
			sent := at(time.Duration(j) * time.Millisecond)
			d.State, d.ReceiptID, d.SentAt, d.VendorState = registry.DeliveryAccepted, fmt.Sprint("r", j), &sent, "queued"
		}
		ds = append(ds, d)
	}
	return m, ds
}

// messageUsers returns the (message, user) rows of sys_push_message_users.
func messageUsers(t *testing.T, db *sql.DB) []string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "SELECT push_message_id, user_num FROM sys_push_message_users ORDER BY push_message_id, user_num")
	require.NoError(t, err)
	defer rows.Close()
	var out []string
	for rows.Next() {
		var id int64
		var u string
		require.NoError(t, rows.Scan(&id, &u))
		out = append(out, fmt.Sprint(id, "/", u))
	}
	require.NoError(t, rows.Err())
	return out
}

// TestCreatePushMessageBatch: a batch of creates stores what the same
// creates store one call at a time, ids included (fresh stores), and
// returns the same ids and times; a push of more deliveries than one
// statement takes is stored whole. Later creates draw ids after the
// batch's. A dedupe key stored already, or twice in one batch, and an
// idempotency key stored already fail their own call alone with
// ErrConflict, changing nothing of it; the others are stored.
func TestCreatePushMessageBatch(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		batched, bdb := newStore(t, d)
		alone, adb := newStore(t, d)
		sizes := []int{2, 0, 1, 70, 3, 5}
		var bms, ams []*registry.PushMessage
		var bdss, adss [][]*registry.Delivery
		for i, n := range sizes {
			key := ""
			if i%2 == 0 {
				key = fmt.Sprint("dedupe-", i)
			}
			m, ds := newPush(i, n, key)
			bms, bdss = append(bms, m), append(bdss, ds)
			m, ds = newPush(i, n, key)
			require.NoError(t, alone.CreatePushMessage(t.Context(), m, ds))
			ams, adss = append(ams, m), append(adss, ds)
		}
		for i, err := range batched.CreateBatch(bms, bdss) {
			require.NoError(t, err, "push %d", i)
		}
		for i := range bms {
			assert.Equal(t, ams[i], bms[i], "push %d as CreatePushMessage returns it", i)
			assert.Equal(t, adss[i], bdss[i], "push %d's deliveries as CreatePushMessage returns them", i)
			assert.Equal(t, readPush(t, alone, adb, d, ams[i].ID), readPush(t, batched, bdb, d, bms[i].ID), "push %d as stored", i)
		}
		assert.Equal(t, messageUsers(t, adb), messageUsers(t, bdb))
		assert.Len(t, messageUsers(t, bdb), 3*len(sizes))

		later, lds := newPush(99, 1, "")
		require.NoError(t, batched.CreatePushMessage(t.Context(), later, lds))
		assert.Greater(t, later.ID, bms[len(bms)-1].ID, "ids after the batch's")
		assert.Greater(t, lds[0].ID, bdss[3][69].ID, "ids after the batch's")

		t.Run("conflicts", func(t *testing.T) {
			msgsBefore, deliveriesBefore := count(t, bdb, "sys_push_messages"), count(t, bdb, "sys_push_deliveries")
			var ms []*registry.PushMessage
			var dss [][]*registry.Delivery
			for i, key := range []string{"new-1", "dedupe-0", "new-2", "new-2", "", "new-3"} {
				m, ds := newPush(100+i, 2, key)
				ms, dss = append(ms, m), append(dss, ds)
			}
			dss[4][1].IdempotencyKey = "k0-0" // push 0's, stored
			errs := batched.CreateBatch(ms, dss)
			for i, err := range errs {
				if i == 1 || i == 3 || i == 4 {
					require.ErrorIs(t, err, registry.ErrConflict, "push %d", i)
					assert.Zero(t, ms[i].ID, "push %d", i)
					assert.Zero(t, dss[i][0].ID, "push %d", i)
					continue
				}
				require.NoError(t, err, "push %d", i)
				got, err := batched.ListDeliveries(t.Context(), ms[i].ID)
				require.NoError(t, err)
				require.Len(t, got, 2)
				assert.Equal(t, []int64{dss[i][0].ID, dss[i][1].ID}, []int64{got[0].ID, got[1].ID})
			}
			assert.ErrorContains(t, errs[1], `dedupe key "dedupe-0" exists`)
			assert.ErrorContains(t, errs[3], `dedupe key "new-2" exists`)
			assert.ErrorContains(t, errs[4], `idempotency key "k0-0" exists`)
			assert.Equal(t, msgsBefore+3, count(t, bdb, "sys_push_messages"))
			assert.Equal(t, deliveriesBefore+6, count(t, bdb, "sys_push_deliveries"))
		})
	})
}

// TestCreateBatchStatements: on MySQL (no INSERT … RETURNING) a batch of
// creates inserts each message and delivery alone, then the message users
// of the whole batch in one INSERT and the tallies in one UPDATE. Any
// failure (a duplicate dedupe key included) rolls the batch back and
// writes each create alone, where a duplicate fails its own call only.
func TestCreateBatchStatements(t *testing.T) {
	pushes := func() ([]*registry.PushMessage, [][]*registry.Delivery) {
		return []*registry.PushMessage{{Title: "a", UserNums: []string{"U1", "U2"}}, {Title: "b", DedupeKey: "k", UserNums: []string{"U3"}}},
			[][]*registry.Delivery{{delivery("a1", "ios", base, "t1")}, {delivery("b1", "android", base, "t2"), delivery("b2", "ios", base, "t3")}}
	}
	dup := errors.New("Error 1062 (23000): Duplicate entry 'k' for key 'ux_sys_push_messages_dedupe_key'")
	// expectAlone expects push a written alone as message 7, delivery 20.
	expectAlone := func(m sqlmock.Sqlmock) {
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnResult(sqlmock.NewResult(7, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(20, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_message_users (push_message_id, user_num) VALUES (?, ?), (?, ?)")).
			WithArgs(7, "U1", 7, "U2").WillReturnResult(sqlmock.NewResult(0, 2))
		m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_tally = ?, android_tally = ? WHERE id = ?")).WillReturnResult(sqlmock.NewResult(0, 1))
		m.ExpectCommit()
	}
	t.Run("users and tallies once a batch", func(t *testing.T) {
		s, m, statements := recordingStore(t)
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnResult(sqlmock.NewResult(2, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnResult(sqlmock.NewResult(3, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(10, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(11, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(12, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_message_users (push_message_id, user_num) VALUES (?, ?), (?, ?), (?, ?)")).
			WithArgs(2, "U1", 2, "U2", 3, "U3").WillReturnResult(sqlmock.NewResult(0, 3))
		m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_tally = CASE id WHEN ? THEN ? WHEN ? THEN ? ELSE ios_tally END, "+
			"android_tally = CASE id WHEN ? THEN ? WHEN ? THEN ? ELSE android_tally END WHERE id IN (?, ?)")).
			WithArgs(2, sqlmock.AnyArg(), 3, sqlmock.AnyArg(), 2, sqlmock.AnyArg(), 3, sqlmock.AnyArg(), 2, 3).
			WillReturnResult(sqlmock.NewResult(0, 2))
		m.ExpectCommit()
		ms, dss := pushes()
		for _, err := range s.CreateBatch(ms, dss) {
			require.NoError(t, err)
		}
		assert.Len(t, statements(), 7)
		assert.Equal(t, []int64{2, 3}, []int64{ms[0].ID, ms[1].ID})
		assert.Equal(t, []int64{10, 11, 12}, []int64{dss[0][0].ID, dss[1][0].ID, dss[1][1].ID})
		assert.Equal(t, int64(3), dss[1][1].PushMessageID)
	})
	t.Run("a duplicate dedupe key fails its own call", func(t *testing.T) {
		s, m, _ := recordingStore(t)
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnResult(sqlmock.NewResult(2, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnError(dup)
		m.ExpectRollback()
		expectAlone(m)
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnError(dup)
		m.ExpectRollback()
		ms, dss := pushes()
		errs := s.CreateBatch(ms, dss)
		require.NoError(t, errs[0])
		assert.Equal(t, int64(7), ms[0].ID, "the ids of the transaction that committed")
		assert.Equal(t, int64(20), dss[0][0].ID)
		require.ErrorIs(t, errs[1], registry.ErrConflict)
		assert.Zero(t, ms[1].ID)
		assert.Zero(t, dss[1][0].ID)
	})
	for _, step := range []string{"delivery", "users", "tallies"} {
		t.Run(step+" fails", func(t *testing.T) {
			s, m, _ := recordingStore(t)
			m.ExpectBegin()
			m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnResult(sqlmock.NewResult(2, 1))
			m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnResult(sqlmock.NewResult(3, 1))
			fail := m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries"))
			if step != "delivery" {
				fail.WillReturnResult(sqlmock.NewResult(10, 1))
				m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(11, 1))
				m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(12, 1))
				fail = m.ExpectExec(sqlPrefix("INSERT INTO sys_push_message_users"))
				if step == "tallies" {
					fail.WillReturnResult(sqlmock.NewResult(0, 3))
					fail = m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_tally = CASE"))
				}
			}
			fail.WillReturnError(errDriver)
			m.ExpectRollback()
			expectAlone(m)
			m.ExpectBegin()
			m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnError(errDriver)
			m.ExpectRollback()
			ms, dss := pushes()
			errs := s.CreateBatch(ms, dss)
			require.NoError(t, errs[0])
			assert.Equal(t, int64(7), ms[0].ID)
			require.ErrorIs(t, errs[1], errDriver)
			assert.ErrorContains(t, errs[1], "insert push message: ")
			assert.Zero(t, ms[1].ID)
		})
	}
}

// TestSplitRefusesAnotherProgramsPlatform: a claimed delivery whose stored
// platform another program set to neither ios nor android cannot be split
// (its push keeps no summary of that platform): ErrInvalid naming
// delivery.platform, and nothing is written.
func TestSplitRefusesAnotherProgramsPlatform(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ds := claimedPush(t, s, "web")
		_, err := db.ExecContext(t.Context(), dbtest.Rebind(d, "UPDATE sys_push_deliveries SET platform = 'web' WHERE id = ?"), ds[1].ID)
		require.NoError(t, err)
		out := outcome(ds[1], 3)
		part := delivery("web-1.0", registry.PlatformAndroid, base, "web-tok1")
		err = s.SplitDelivery(t.Context(), out, []*registry.Delivery{part})
		var verr *registry.ValidationError
		require.ErrorAs(t, err, &verr)
		assert.Equal(t, "delivery.platform", verr.Field)
		assert.Zero(t, part.ID, "the part is unchanged")
		got, err := s.ListDeliveries(t.Context(), ds[1].PushMessageID)
		require.NoError(t, err)
		require.Len(t, got, 4, "no part inserted")
		assert.Equal(t, "claim", got[1].ClaimToken, "the delivery is not written")
		assert.Equal(t, registry.DeliveryPending, got[1].State)
	})
}
