package sqlstore_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestCreateBatchNeverReusesTheIdsOfDeletedRows: a batch of creates gives
// its pushes and deliveries ids after every id the tables ever gave, as
// CreatePushMessage alone does: when another program deleted the rows of
// the highest ids, their ids are not given again (on SQLite the
// AUTOINCREMENT sequence, not only the rows left, bounds them), so that
// nothing that still names an old push or delivery comes to name a new
// one.
func TestCreateBatchNeverReusesTheIdsOfDeletedRows(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		m1, ds1 := newPush(1, 2, "")
		m2, ds2 := newPush(2, 2, "")
		for i, err := range s.CreateBatch([]*registry.PushMessage{m1, m2}, [][]*registry.Delivery{ds1, ds2}) {
			require.NoError(t, err, "push %d", i)
		}
		for _, table := range []string{"sys_push_message_users", "sys_push_deliveries", "sys_push_messages"} {
			_, err := db.ExecContext(ctx, "DELETE FROM "+table)
			require.NoError(t, err)
		}
		m3, ds3 := newPush(3, 2, "")
		m4, ds4 := newPush(4, 2, "")
		for i, err := range s.CreateBatch([]*registry.PushMessage{m3, m4}, [][]*registry.Delivery{ds3, ds4}) {
			require.NoError(t, err, "push %d", i)
		}
		assert.Greater(t, m3.ID, m2.ID, "a push's id")
		assert.Greater(t, ds3[0].ID, ds2[1].ID, "a delivery's id")
	})
}
