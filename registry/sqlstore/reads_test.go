package sqlstore_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestReadQueriesUseIndexes: the listings of a user's devices and pushes
// find their rows through the user's index entries, never by scanning a
// table, however many other users' rows there are.
func TestReadQueriesUseIndexes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		for i := range 100 {
			user := fmt.Sprint("U", i%25)
			_, _, err := s.RegisterDevice(ctx, device(fmt.Sprint("u", i), registry.PlatformIOS, fmt.Sprint("t", i)), user)
			require.NoError(t, err)
			m := &registry.PushMessage{Title: "x", PushType: registry.PushTypeUsers, UserNums: []string{user, fmt.Sprint("U", (i+1)%25)}}
			require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{delivery(fmt.Sprint("k", i), registry.PlatformIOS, base, "t")}))
		}
		for _, q := range s.ReadQueries("U1") {
			plan := explain(t, db, d, q.SQL, q.Args)
			for _, step := range plan {
				switch d {
				case sqlstore.DialectSQLite:
					assert.NotRegexp(t, `detail=SCAN \w+($| )`, step, "%s scans a table: %s", q.Name, plan)
				case sqlstore.DialectMySQL:
					assert.NotRegexp(t, `type=(ALL|index) `, step, "%s scans a table: %s", q.Name, plan)
				case sqlstore.DialectPostgres:
					assert.NotContains(t, step, "Seq Scan", "%s scans a table: %s", q.Name, plan)
				}
			}
			assert.Contains(t, strings.Join(plan, "\n"), q.Index, "%s uses its index", q.Name)
		}
	})
}

// explain returns the plan of query, a line per step, with table scans
// priced out on PostgreSQL (tables this small are cheaper to scan).
func explain(t *testing.T, db *sql.DB, d sqlstore.Dialect, query string, args []any) []string {
	t.Helper()
	ctx := t.Context()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	prefix := "EXPLAIN "
	switch d {
	case sqlstore.DialectSQLite:
		prefix = "EXPLAIN QUERY PLAN "
	case sqlstore.DialectPostgres:
		_, err := conn.ExecContext(ctx, "SET enable_seqscan = off")
		require.NoError(t, err)
		defer func() { _, _ = conn.ExecContext(ctx, "SET enable_seqscan = on") }()
		_, err = conn.ExecContext(ctx, "ANALYZE")
		require.NoError(t, err)
	case sqlstore.DialectMySQL:
		_, err := conn.ExecContext(ctx, "ANALYZE TABLE sys_push_messages, sys_push_message_users, sys_user_devices, sys_devices")
		require.NoError(t, err)
	}
	rows, err := conn.QueryContext(ctx, prefix+query, args...)
	require.NoError(t, err)
	defer rows.Close()
	cols, err := rows.Columns()
	require.NoError(t, err)
	var plan []string
	for rows.Next() {
		vals := make([]any, len(cols))
		ptrs := make([]any, len(cols))
		for i := range vals {
			ptrs[i] = &vals[i]
		}
		require.NoError(t, rows.Scan(ptrs...))
		line := make([]string, len(cols))
		for i, v := range vals {
			if b, ok := v.([]byte); ok {
				v = string(b)
			}
			line[i] = fmt.Sprintf("%s=%v", cols[i], v)
		}
		plan = append(plan, strings.Join(line, " "))
	}
	require.NoError(t, rows.Err())
	return plan
}

// TestReadsOfOtherProgramsRows: the listings read rows other programs
// wrote leniently, and each odd row alone: a device with NULL platform,
// uuid and token, a link with a NULL state, a link to a missing device,
// unreadable dates, a push message without users and with a Ret spelled
// in lower case. Nothing fails the listing.
func TestReadsOfOtherProgramsRows(t *testing.T) {
	unreadableStores(t, func(t *testing.T, d sqlstore.Dialect, s *sqlstore.Store, db *sql.DB) {
		ctx := t.Context()
		exec := func(query string, args ...any) int64 {
			t.Helper()
			if d == sqlstore.DialectPostgres {
				var id int64
				require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, query)+" RETURNING id", args...).Scan(&id))
				return id
			}
			res, err := db.ExecContext(ctx, query, args...)
			require.NoError(t, err)
			id, err := res.LastInsertId()
			require.NoError(t, err)
			return id
		}
		bad := unreadableValue(d)
		_, good, err := s.RegisterDevice(ctx, device("od-good", registry.PlatformAndroid, "od-tok"), "OD1")
		require.NoError(t, err)
		odd := exec("INSERT INTO sys_devices (name, created_at, updated_at) VALUES ('odd', '2024-05-01 10:00:00', '2024-05-01 10:00:00')")
		spoil(t, db, d, "sys_devices", "created_at", odd)
		oddLink := exec("INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at) VALUES ('OD1', ?, NULL, '2024-05-01 10:00:00', '2024-05-01 10:00:00')", odd)
		spoil(t, db, d, "sys_user_devices", "updated_at", oddLink)
		orphan := exec("INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at) VALUES ('OD1', 999999, 1, '2024-05-01 10:00:00', '2024-05-01 10:00:00')")

		links, err := s.ListUserDevices(ctx, "OD1")
		require.NoError(t, err)
		require.Len(t, links, 3)
		assert.Equal(t, good.ID, links[0].Link.ID)
		assert.Empty(t, links[0].Unreadable)

		assert.Equal(t, oddLink, links[1].Link.ID)
		assert.False(t, links[1].Link.Active, "a NULL state is inactive")
		assert.Equal(t, odd, links[1].Device.ID)
		assert.Equal(t, "odd", links[1].Device.Name)
		assert.Empty(t, links[1].Device.Platform, "NULL platform")
		assert.Empty(t, links[1].Device.UUID, "NULL uuid")
		assert.True(t, links[1].Device.CreatedAt.IsZero())
		assert.True(t, links[1].Link.UpdatedAt.IsZero())
		assert.Regexp(t, `^updated_at: cannot read .* as a date-time; device\.created_at: cannot read .* as a date-time$`, links[1].Unreadable)
		assert.Contains(t, links[1].Unreadable, strings.TrimSuffix(bad, ":00"))

		assert.Equal(t, orphan, links[2].Link.ID)
		assert.True(t, links[2].Link.Active)
		assert.Equal(t, int64(999999), links[2].Link.DeviceID)
		assert.Equal(t, registry.Device{}, links[2].Device, "a missing device reads as the zero Device")

		mine := &registry.PushMessage{Title: "mine", PushType: registry.PushTypeUsers, UserNums: []string{"OD1"}}
		require.NoError(t, s.CreatePushMessage(ctx, mine, nil))
		other := exec("INSERT INTO sys_push_messages (title, ios_ret, created_at, updated_at) VALUES ('theirs', ' success', '2030-06-15 07:00:00', '2030-06-15 07:00:00')")
		spoilt := exec("INSERT INTO sys_push_messages (title, android_ret, created_at, updated_at) VALUES ('spoilt', 'FAIL', '2030-06-15 07:00:00', '2030-06-15 07:00:00')")
		spoil(t, db, d, "sys_push_messages", "created_at", spoilt)

		all, err := s.ListPushMessages(ctx, registry.PushMessageQuery{})
		require.NoError(t, err)
		require.Len(t, all, 3, "every push, newest first")
		assert.Equal(t, []int64{spoilt, other, mine.ID}, []int64{all[0].ID, all[1].ID, all[2].ID})
		assert.True(t, all[0].CreatedAt.IsZero(), "an unreadable created_at reads as the zero time")
		assert.Equal(t, registry.PushStateFailed, registry.PushState(&all[0]))

		success, err := s.ListPushMessages(ctx, registry.PushMessageQuery{State: registry.PushStateSuccess})
		require.NoError(t, err)
		require.Len(t, success, 1)
		assert.Equal(t, other, success[0].ID, "a Ret in lower case with a space counts")

		ranged, err := s.ListPushMessages(ctx, registry.PushMessageQuery{Since: at(-24 * time.Hour)})
		require.NoError(t, err)
		var ids []int64
		for _, m := range ranged {
			ids = append(ids, m.ID)
		}
		assert.Equal(t, []int64{other, mine.ID}, ids, "an unreadable created_at matches no range")

		byUser, err := s.ListPushMessages(ctx, registry.PushMessageQuery{UserNum: "OD1"})
		require.NoError(t, err)
		require.Len(t, byUser, 1, "pushes other programs wrote name no users")
		assert.Equal(t, mine.ID, byUser[0].ID)
	})
}
