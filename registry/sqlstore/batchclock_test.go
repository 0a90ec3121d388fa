package sqlstore_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestRowLockedPastTheBatchClockFailsNoOtherRow: when another program
// holds one row of a batch of center finishes locked past the batch's
// transaction clock, the batch fails, and each finish is written again
// alone on a clock of its own: the rows nobody locked are written, and so
// is the locked one once the lock is gone within its own clock. Before,
// the one-by-one writes shared the batch's spent clock and every finish of
// the batch failed, leaving rows claimed whose notifier had been called,
// to be called again when their lease ran out. (No row locks on SQLite.)
func TestRowLockedPastTheBatchClockFailsNoOtherRow(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		if d == sqlstore.DialectSQLite {
			t.Skip("SQLite has no row locks: its one writer takes batches in turn")
		}
		// Margins of a couple of seconds each side of the release (see
		// below), for a machine loaded by a whole -race run.
		const clock = 5 * time.Second
		s, db := newStore(t, d)
		s.SetBatchTimeout(clock)
		ctx := t.Context()
		const n = 9
		for i := range n {
			require.NoError(t, s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms",
				Receivers: fmt.Sprint("u", i)}))
		}
		rows, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: n, Lease: time.Hour})
		require.NoError(t, err)
		require.Len(t, rows, n)
		// lock holds rows in a transaction of "another program" until the
		// function it returns is called.
		lock := func(ids ...int64) func() {
			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err)
			for _, id := range ids {
				q := "UPDATE sys_message_center SET title = 'ops' WHERE id = ?"
				if d == sqlstore.DialectPostgres {
					q = "UPDATE sys_message_center SET title = 'ops' WHERE id = $1"
				}
				_, err := tx.ExecContext(ctx, q, id)
				require.NoError(t, err)
			}
			return func() { require.NoError(t, tx.Rollback()) }
		}
		// Rows 0–3 keep the queue's four writers waiting, so that 4–8
		// queue up behind them and go as one batch, whose row 4 is held.
		unlockFirst := lock(rows[0].ID, rows[1].ID, rows[2].ID, rows[3].ID)
		unlockHeld := lock(rows[4].ID)
		errs := make([]error, n)
		var wg sync.WaitGroup
		finish := func(i int) {
			wg.Go(func() {
				m := rows[i]
				m.SendState, m.SendResult = registry.SendStateSent, fmt.Sprint("ok ", i)
				errs[i] = s.FinishCenterMessage(context.Background(), &m)
			})
		}
		for i := range 4 {
			// One at a time, so that each leads a writer of its own
			// rather than joining another's batch.
			finish(i)
			time.Sleep(50 * time.Millisecond)
		}
		time.Sleep(300 * time.Millisecond)
		for i := 4; i < n; i++ {
			finish(i)
		}
		time.Sleep(300 * time.Millisecond)
		unlockFirst()
		// Held past the batch's clock, released within row 4's own: the
		// batch started no later than about now and failed a clock later;
		// row 4's own clock then runs a clock more.
		time.Sleep(clock + clock/2)
		unlockHeld()
		wg.Wait()
		for i := range n {
			require.NoError(t, errs[i], "row %d", i)
			got, err := s.GetCenterMessage(ctx, rows[i].ID)
			require.NoError(t, err)
			assert.Equal(t, registry.SendStateSent, got.SendState, "row %d", i)
			assert.Equal(t, fmt.Sprint("ok ", i), got.SendResult, "row %d", i)
			assert.Empty(t, got.ClaimToken, "row %d", i)
		}
	})
}
