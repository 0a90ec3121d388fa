package sqlstore_test

import (
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// TestClaimRetriedAfterAFailedCommitReturnsOnlyItsOwnRows: on MySQL a
// claim whose commit the database refused for a deadlock is run again;
// the rows the refused attempt read were never claimed, and when the
// attempt that commits finds no due row the claim returns none of them.
func TestClaimRetriedAfterAFailedCommitReturnsOnlyItsOwnRows(t *testing.T) {
	s, mock, _ := mockStore(t)
	cols := []string{"id", "title", "content", "extra_params_string", "notify_mode", "notify_level", "receivers", "send_state",
		"send_result", "remark", "send_at", "attempts", "next_attempt_at", "claim_token", "lease_until", "created_at", "updated_at",
		"push_class"}
	mock.ExpectQuery(sqlPrefix("SELECT 1 FROM sys_message_center WHERE send_state IS NULL")).WillReturnRows(sqlmock.NewRows([]string{"1"}))
	mock.ExpectBegin()
	mock.ExpectQuery(sqlPrefix("SELECT id FROM sys_message_center")).WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(1))
	mock.ExpectExec(sqlPrefix("UPDATE sys_message_center SET claim_token")).WillReturnResult(sqlmock.NewResult(0, 1))
	mock.ExpectQuery(sqlPrefix("SELECT id, title")).WillReturnRows(sqlmock.NewRows(cols).AddRow(1, "t", "c", nil, "push", 0, "A01", 0,
		nil, nil, nil, 1, nil, "x.1", "2030-06-15 08:01:00", "2030-06-15 08:00:00", "2030-06-15 08:00:00", nil))
	mock.ExpectCommit().WillReturnError(errDeadlock)
	mock.ExpectBegin()
	mock.ExpectQuery(sqlPrefix("SELECT id FROM sys_message_center")).WillReturnRows(sqlmock.NewRows([]string{"id"}))
	mock.ExpectCommit()
	got, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute})
	require.NoError(t, err)
	assert.Empty(t, got, "the refused attempt's row was never claimed")
}
