package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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
		assert.Contains(t, statements()[0], "WHERE (id = ? AND claim_token = ?) OR (id = ? AND claim_token = ?) OR (id = ? AND claim_token = ?)")
	})
	t.Run("a lost claim: row by row", func(t *testing.T) {
		s, m, _ := recordingStore(t)
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix(setPrefix)).WillReturnResult(sqlmock.NewResult(0, 2))
		m.ExpectRollback()
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix(onePrefix)).WithArgs(1, nil, nil, 0, nil, sqlmock.AnyArg(), 1, "x.1").WillReturnResult(sqlmock.NewResult(0, 1))
		m.ExpectExec(sqlPrefix(onePrefix)).WithArgs(1, nil, nil, 0, nil, sqlmock.AnyArg(), 2, "x.2").WillReturnResult(sqlmock.NewResult(0, 0))
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
