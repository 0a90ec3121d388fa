package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestBlankSendStateIsUnsentOnSQLite: SQLite keeps an empty string
// another program wrote in the INT send_state column; it is no state, and
// the claim reads it as unsent, as it reads a NULL.
func TestBlankSendStateIsUnsentOnSQLite(t *testing.T) {
	s, db := newStore(t, sqlstore.DialectSQLite)
	ctx := t.Context()
	_, err := db.ExecContext(ctx, "INSERT INTO sys_message_center (title, content, notify_mode, receivers, send_state, created_at, updated_at) VALUES "+
		"('blank', 'c', 'sms', 'A01', '', '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
	require.NoError(t, err)
	got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: at(time.Minute), Limit: 10, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, got, 1, "the blank send_state is unsent")
	assert.Equal(t, "blank", got[0].Title)
	assert.Equal(t, registry.SendStateUnsent, got[0].SendState)
}
