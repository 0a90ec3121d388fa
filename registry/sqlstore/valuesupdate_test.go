package sqlstore_test

import (
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

// pgMockStore is a PostgreSQL Store on sqlmock (see mockStore).
func pgMockStore(t *testing.T) (*sqlstore.Store, sqlmock.Sqlmock) {
	t.Helper()
	s, mock, _ := mockStoreOf(t, sqlstore.DialectPostgres)
	return s, mock
}

// centerTypes are the column types of sys_message_center as pg_catalog
// gives them, without remark's when remark is false.
func centerTypes(remark bool) *sqlmock.Rows {
	rows := sqlmock.NewRows([]string{"attname", "format_type"}).
		AddRow("id", "bigint").AddRow("claim_token", "character varying").AddRow("send_state", "smallint").
		AddRow("send_result", "text").AddRow("attempts", "integer").AddRow("next_attempt_at", "timestamp with time zone")
	if remark {
		rows.AddRow("remark", "character varying")
	}
	return rows
}

// TestGuardedSetWriteByValuesOnPostgres: on PostgreSQL a batch of center
// finishes is one UPDATE joined to a VALUES list, one row of casts a
// finish, each cast to its column's type as pg_catalog names it (read
// once per table, in the batch's transaction); a table that lacks a column
// the write sets is written by CASE lists.
func TestGuardedSetWriteByValuesOnPostgres(t *testing.T) {
	batch := func() []*registry.CenterMessage {
		return []*registry.CenterMessage{{ID: 1, ClaimToken: "x.1", SendState: 1}, {ID: 2, ClaimToken: "x.2", SendState: 2, SendResult: "r"}}
	}
	// $1 is updated_at; each row's seven casts follow.
	var rows []string
	for r := range 2 {
		p := 2 + 7*r
		rows = append(rows, fmt.Sprintf("(CAST($%d AS bigint), CAST($%d AS character varying), CAST($%d AS smallint), CAST($%d AS text), "+
			"CAST($%d AS character varying), CAST($%d AS integer), CAST($%d AS timestamp with time zone))", p, p+1, p+2, p+3, p+4, p+5, p+6))
	}
	values := strings.Join(rows, ", ")
	want := "UPDATE sys_message_center SET send_state = v.push_v0, send_result = v.push_v1, remark = v.push_v2, attempts = v.push_v3, " +
		"next_attempt_at = v.push_v4, claim_token = NULL, lease_until = NULL, updated_at = $1 FROM (VALUES " + values +
		") AS v(push_id, push_claim, push_v0, push_v1, push_v2, push_v3, push_v4) WHERE sys_message_center.id = v.push_id AND " +
		"sys_message_center.claim_token = v.push_claim AND send_state + 0 = 0"
	typesQuery := `SELECT attname, format_type\(atttypid, NULL\) FROM pg_catalog.pg_attribute`

	s, m := pgMockStore(t)
	m.ExpectBegin()
	m.ExpectQuery(typesQuery).WithArgs("sys_message_center").WillReturnRows(centerTypes(true))
	m.ExpectExec("^"+regexp.QuoteMeta(want)+"$").
		WithArgs(sqlmock.AnyArg(), 1, "x.1", 1, nil, nil, 0, nil, 2, "x.2", 2, "r", nil, 0, nil).
		WillReturnResult(sqlmock.NewResult(0, 2))
	m.ExpectCommit()
	// The types are read once.
	m.ExpectBegin()
	m.ExpectExec("^" + regexp.QuoteMeta(want) + "$").WillReturnResult(sqlmock.NewResult(0, 2))
	m.ExpectCommit()
	for range 2 {
		for _, err := range s.FinishCenterBatch(batch()) {
			require.NoError(t, err)
		}
	}
	assert.True(t, s.KnowsColumnTypes("sys_message_center"))

	t.Run("a column the table lacks: CASE lists", func(t *testing.T) {
		s, m := pgMockStore(t)
		m.ExpectBegin()
		m.ExpectQuery(typesQuery).WithArgs("sys_message_center").WillReturnRows(centerTypes(false))
		m.ExpectExec(regexp.QuoteMeta("UPDATE sys_message_center SET send_state = CASE id WHEN $1 THEN $2 WHEN $3 THEN $4 ELSE send_state END")).
			WillReturnResult(sqlmock.NewResult(0, 2))
		m.ExpectCommit()
		for _, err := range s.FinishCenterBatch(batch()) {
			require.NoError(t, err)
		}
	})
}

// TestSetWriteOnAnotherProgramsColumnTypes: on PostgreSQL, a batch of
// finishes of a sys_message_center whose columns another program typed
// its own way (smallint, timestamptz, a shorter varchar) is written by a
// VALUES list with those types, reads back as written, and a remark too
// long for its column fails that row alone: refused, not cut short by
// the cast.
func TestSetWriteOnAnotherProgramsColumnTypes(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	s, db := newStore(t, sqlstore.DialectPostgres)
	_, err := db.ExecContext(t.Context(), `ALTER TABLE sys_message_center ALTER COLUMN send_state TYPE smallint,
		ALTER COLUMN remark TYPE varchar(40), ALTER COLUMN next_attempt_at TYPE timestamptz, ALTER COLUMN attempts TYPE bigint`)
	require.NoError(t, err)
	rows := claimCenter(t, s, 4)
	ms := make([]*registry.CenterMessage, len(rows))
	for i := range rows {
		ms[i] = centerOutcome(&rows[i], i)
	}
	ms[3].Remark = strings.Repeat("长", 41) // 41 characters: one too many
	errs := s.FinishCenterBatch(ms)
	assert.True(t, s.KnowsColumnTypes("sys_message_center"), "written by a VALUES list")
	for i, m := range ms {
		got, err := s.GetCenterMessage(t.Context(), m.ID)
		require.NoError(t, err)
		if i == 3 {
			require.Error(t, errs[i])
			assert.NotErrorIs(t, errs[i], registry.ErrClaimLost)
			assert.Equal(t, registry.SendStateUnsent, got.SendState, "nothing of it written")
			assert.Equal(t, rows[i].ClaimToken, got.ClaimToken, "it keeps its claim")
			continue
		}
		require.NoError(t, errs[i], "row %d", i)
		assert.Equal(t, m.SendState, got.SendState, "row %d", i)
		assert.Equal(t, m.SendResult, got.SendResult, "row %d", i)
		assert.Equal(t, m.Remark, got.Remark, "row %d", i)
		assert.Equal(t, m.Attempts, got.Attempts, "row %d", i)
		if m.NextAttemptAt != nil {
			require.NotNil(t, got.NextAttemptAt, "row %d", i)
			assert.True(t, m.NextAttemptAt.Equal(*got.NextAttemptAt), "row %d: %v, want %v", i, got.NextAttemptAt, m.NextAttemptAt)
		}
		assert.Empty(t, got.ClaimToken, "row %d", i)
	}
}

// TestPostgresClaimIsOneStatement: on PostgreSQL a claim picks, locks,
// stamps and returns its rows with one UPDATE … RETURNING, the due rows
// picked FOR UPDATE SKIP LOCKED in a WITH; nothing else runs in its
// transaction.
func TestPostgresClaimIsOneStatement(t *testing.T) {
	s, m := pgMockStore(t)
	m.ExpectQuery(sqlPrefix("SELECT 1 FROM sys_message_center WHERE send_state IS NULL")).WillReturnRows(sqlmock.NewRows([]string{"1"}))
	m.ExpectBegin()
	m.ExpectQuery(`^WITH due AS \(SELECT id FROM sys_message_center WHERE .+ ORDER BY .+ LIMIT 5 FOR UPDATE SKIP LOCKED\) ` +
		`UPDATE sys_message_center SET claim_token = .+ WHERE id IN \(SELECT id FROM due\) RETURNING id, title, `).
		WillReturnError(errDriver)
	m.ExpectRollback()
	_, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute})
	require.ErrorIs(t, err, errDriver)
	assert.ErrorContains(t, err, "sqlstore: ClaimCenterMessages: claim: ")
}
