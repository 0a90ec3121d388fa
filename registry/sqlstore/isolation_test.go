package sqlstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestMySQLTransactionsReadCommitted: the Store's transactions on MySQL
// run at READ COMMITTED (InnoDB's own default is REPEATABLE READ), so
// that they take no gap locks and a statement after a lock wait reads
// what the lock's holder committed. Read off InnoDB's record of the
// transaction itself.
func TestMySQLTransactionsReadCommitted(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectMySQL)
	s, _ := newStore(t, sqlstore.DialectMySQL)
	var level string
	require.NoError(t, s.InTx(t.Context(), func(q sqlstore.DBTX) error {
		var n int
		// InnoDB starts the transaction at its first read of a table.
		if err := q.QueryRowContext(t.Context(), "SELECT COUNT(*) FROM sys_devices").Scan(&n); err != nil {
			return err
		}
		return q.QueryRowContext(t.Context(), "SELECT trx_isolation_level FROM information_schema.innodb_trx WHERE trx_mysql_thread_id = CONNECTION_ID()").Scan(&level)
	}))
	assert.Equal(t, "READ COMMITTED", level)
}

// TestFinishLocksItsPushesTallies: a finish's transaction locks the rows
// of the push messages whose tallies it adds to before it reads them, so
// that two instances finishing deliveries of one push never both add to
// the tally they read (one addition would be lost). Another connection
// finds the row locked while the transaction holds it (NOWAIT: no wait).
func TestFinishLocksItsPushesTallies(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.DialectMySQL, sqlstore.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			ctx := t.Context()
			s, db := newStore(t, d)
			m := &registry.PushMessage{Title: "t", Content: "c", PushType: registry.PushTypeUsers}
			require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{delivery("lock-1", registry.PlatformIOS, base, "tok-1")}))
			other, err := db.Conn(ctx)
			require.NoError(t, err)
			defer other.Close()
			require.NoError(t, s.InTx(ctx, func(q sqlstore.DBTX) error {
				if err := s.LockTallies(ctx, q, []int64{m.ID}); err != nil {
					return err
				}
				_, err := other.ExecContext(ctx, dbtest.Rebind(d, "SELECT id FROM sys_push_messages WHERE id = ? FOR UPDATE NOWAIT"), m.ID)
				assert.Error(t, err, "the row is locked by the finish's transaction")
				return nil
			}))
			_, err = other.ExecContext(ctx, dbtest.Rebind(d, "SELECT id FROM sys_push_messages WHERE id = ? FOR UPDATE NOWAIT"), m.ID)
			assert.NoError(t, err, "free once it ended")
		})
	}
}
