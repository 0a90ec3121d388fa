package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestCenterRowFinishedByAnotherProgramKeepsItsOutcome: a center row
// another program finished (or cancelled) while a Scanner held it keeps
// what that program wrote: the Scanner's renewal and finish, alone or in
// a batch, report the claim lost and write nothing, and the others of the
// batch are written.
func TestCenterRowFinishedByAnotherProgramKeepsItsOutcome(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		rows := claimCenter(t, s, 3)
		for _, m := range rows[:2] {
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET send_state = 1, send_result = 'theirs' WHERE id = ?"), m.ID)
			require.NoError(t, err)
		}
		theirs := func(i int) {
			t.Helper()
			got, err := s.GetCenterMessage(ctx, rows[i].ID)
			require.NoError(t, err)
			assert.Equal(t, registry.SendStateSent, got.SendState, "row %d", i)
			assert.Equal(t, "theirs", got.SendResult, "row %d", i)
		}

		assert.ErrorIs(t, s.RenewCenterMessage(ctx, &rows[0], at(time.Hour)), registry.ErrClaimLost, "renewal")
		m := rows[0]
		m.SendState, m.SendResult = registry.SendStateFailed, "ours"
		assert.ErrorIs(t, s.FinishCenterMessage(ctx, &m), registry.ErrClaimLost, "finish")
		theirs(0)

		batch := []*registry.CenterMessage{centerOutcome(&rows[1], 1), centerOutcome(&rows[2], 2)}
		errs := s.FinishCenterBatch(batch)
		assert.ErrorIs(t, errs[0], registry.ErrClaimLost, "the row another program finished")
		require.NoError(t, errs[1], "the other row of the batch")
		theirs(1)
		got, err := s.GetCenterMessage(ctx, rows[2].ID)
		require.NoError(t, err)
		assert.Equal(t, batch[1].SendResult, got.SendResult)
	})
}
