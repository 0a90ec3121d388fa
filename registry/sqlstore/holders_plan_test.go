package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestPushHoldersOfALargePushLeadWithTheTokens: on PostgreSQL, with
// statistics of a push to every one of 200,000 users, the holders of a
// delivery's 500 tokens are found through the token index, not by a scan
// of every device (what the plan of the tokens' condition joined with OR
// was; SQLite's order is checked by TestHotQueriesUseIndexes).
func TestPushHoldersOfALargePushLeadWithTheTokens(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	t.Parallel()
	s, db := newStore(t, sqlstore.DialectPostgres)
	ctx := t.Context()
	for _, q := range []string{
		`INSERT INTO sys_devices (id, platform, uuid, push_device_token, push_platform)
			SELECT g, CASE WHEN g % 2 = 0 THEN 'ios' ELSE 'android' END, 'uuid' || g, md5(g::text) || md5((g + 1)::text), 'umeng'
			FROM generate_series(1, 200000) g`,
		`INSERT INTO sys_user_devices (id, user_num, device_id, state) SELECT g, 'U' || g, g, 1 FROM generate_series(1, 200000) g`,
		`INSERT INTO sys_push_message_users (push_message_id, user_num) SELECT 1, 'U' || g FROM generate_series(1, 200000) g`,
		`ANALYZE`,
	} {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	var tokens []string
	require.NoError(t, func() error {
		rows, err := db.QueryContext(ctx, "SELECT push_device_token FROM sys_devices WHERE id % 400 = 0 ORDER BY id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var tok string
			if err := rows.Scan(&tok); err != nil {
				return err
			}
			tokens = append(tokens, tok)
		}
		return rows.Err()
	}())
	require.Len(t, tokens, 500)
	q, args := s.HoldersQuery(1, tokens)
	rows, err := db.QueryContext(ctx, "EXPLAIN "+q, args...)
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		plan = append(plan, line)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	var scans []string // the plan's lines that read a table, without the token lists
	for _, line := range plan {
		if strings.Contains(line, "Scan") {
			scans = append(scans, line)
		}
	}
	text := strings.Join(scans, "\n")
	assert.NotContains(t, text, "Seq Scan", "the holders of 500 tokens are found by index:\n%s", text)
	assert.Contains(t, text, "ix_sys_devices_push_device_token", "the tokens are looked up:\n%s", text)

	holders, recorded, err := s.PushHolders(ctx, 1, tokens)
	require.NoError(t, err)
	assert.True(t, recorded)
	assert.Len(t, holders, 500, "every token's device is a holder")
	for _, h := range holders {
		assert.Equal(t, fmt.Sprint("U", h.DeviceID), h.UserNum, "device %d's holder", h.DeviceID)
		assert.Zero(t, h.DeviceID%400, "device %d is no device of the tokens", h.DeviceID)
	}
}
