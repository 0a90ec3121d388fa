package sqlstore_test

import (
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// pgMockStore is a PostgreSQL Store on sqlmock (see mockStore).
func pgMockStore(t *testing.T) (*sqlstore.Store, sqlmock.Sqlmock) {
	t.Helper()
	s, mock, _ := mockStoreOf(t, sqlstore.DialectPostgres)
	return s, mock
}

// TestPostgresClaimIsOneStatement: on PostgreSQL a claim picks, locks,
// stamps and returns its rows with one UPDATE … RETURNING, the due rows
// picked FOR UPDATE SKIP LOCKED in a WITH; nothing else runs in its
// transaction but, for the center's claim, the setting that keeps the
// planner from sorting (walkIndex).
func TestPostgresClaimIsOneStatement(t *testing.T) {
	s, m := pgMockStore(t)
	m.ExpectQuery(sqlPrefix("SELECT 1 FROM sys_message_center WHERE send_state IS NULL")).WillReturnRows(sqlmock.NewRows([]string{"1"}))
	m.ExpectBegin()
	m.ExpectExec(`^SET LOCAL enable_sort = off$`).WillReturnResult(sqlmock.NewResult(0, 0))
	m.ExpectQuery(`^WITH due AS \(SELECT id FROM sys_message_center WHERE .+ ORDER BY .+ LIMIT 5 FOR UPDATE SKIP LOCKED\) ` +
		`UPDATE sys_message_center SET claim_token = .+ WHERE id IN \(SELECT id FROM due\) RETURNING id, title, `).
		WillReturnError(errDriver)
	m.ExpectRollback()
	_, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute})
	require.ErrorIs(t, err, errDriver)
	assert.ErrorContains(t, err, "sqlstore: ClaimCenterMessages: claim: ")
}

// TestPostgresClaimSettingFailsTheClaim: a claim whose planner setting
// fails claims nothing, and says which step failed.
func TestPostgresClaimSettingFailsTheClaim(t *testing.T) {
	s, m := pgMockStore(t)
	m.ExpectQuery(sqlPrefix("SELECT 1 FROM sys_message_center WHERE send_state IS NULL")).WillReturnRows(sqlmock.NewRows([]string{"1"}))
	m.ExpectBegin()
	m.ExpectExec(`^SET LOCAL enable_sort = off$`).WillReturnError(errDriver)
	m.ExpectRollback()
	_, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute})
	require.ErrorIs(t, err, errDriver)
	assert.ErrorContains(t, err, "sqlstore: ClaimCenterMessages: plan the claim: ")
	require.NoError(t, m.ExpectationsWereMet())
}
