package sqlstore_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// targetUsers is the user of each of ts, in order.
func targetUsers(ts []registry.Target) []string {
	var out []string
	for _, t := range ts {
		out = append(out, t.UserNum)
	}
	return out
}

// TestListByRange: on SQLite a chunk of users is listed by the range of
// user_num its users span, and the links of the users in that range who
// are not in the chunk are dropped. A range that holds more than twice
// the rows kept (plus 16), or more than the page, turns ranges off for a
// minute; one that holds more than the page is listed again by an IN
// list, so that the page is the same.
func TestListByRange(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectSQLite)
	db, _ := dbtest.Open(t, sqlstore.DialectSQLite)
	now := base
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Now: func() time.Time { return now }})
	require.NoError(t, err)
	ctx := t.Context()
	require.NoError(t, s.Migrate(ctx))
	var all []string
	for i := range 60 {
		u := fmt.Sprintf("u%02d", i)
		all = append(all, u)
		_, _, err := s.RegisterDevice(ctx, device("d"+u, registry.PlatformIOS, "tok-"+u), u)
		require.NoError(t, err)
	}
	// Byte order, as Go sorts: "U" sorts before "u", "u1" before "u10".
	for _, u := range []string{"U05", "u0", "u059"} {
		_, _, err := s.RegisterDevice(ctx, device("d"+u, registry.PlatformIOS, "tok-"+u), u)
		require.NoError(t, err)
	}
	require.True(t, s.ListsByRange(ctx))

	list := func(users []string, limit int) []string {
		t.Helper()
		ts, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: users, Limit: limit})
		require.NoError(t, err)
		return targetUsers(ts)
	}
	// Every second user from u00 to u56: the range holds 57 of the 60
	// and "u059", 29 kept; no more than twice plus 16, so ranges stay on.
	var second []string
	for i := 0; i <= 56; i += 2 {
		second = append(second, all[i])
	}
	assert.Equal(t, second, list(second, 100))
	assert.True(t, s.ListsByRange(ctx), "58 rows read for 29 kept")

	// Two users at the ends of the table: 60 rows read for 2.
	assert.Equal(t, []string{"u00", "u59"}, list([]string{"u59", "u00"}, 100))
	assert.False(t, s.ListsByRange(ctx), "a sparse chunk turns ranges off")
	assert.Equal(t, []string{"u00", "u59"}, list([]string{"u59", "u00"}, 100), "by IN lists meanwhile")
	now = now.Add(59 * time.Second)
	assert.False(t, s.ListsByRange(ctx))
	now = now.Add(time.Second)
	assert.True(t, s.ListsByRange(ctx), "on again after a minute")

	// A dense chunk with more targets than the page: listed again by an
	// IN list, the page the same.
	assert.Equal(t, all[10:15], list(all[10:30], 5))
	assert.False(t, s.ListsByRange(ctx))
	now = now.Add(time.Minute)

	// All 60, in link order: "u059", in their range, is not among them.
	assert.Equal(t, all, list(all, 1000))
	assert.True(t, s.ListsByRange(ctx))
	// Byte order: "U05" < "u0" < "u00", the range ["U05", "u00"].
	assert.Equal(t, []string{"u00", "U05", "u0"}, list([]string{"u00", "u0", "U05"}, 100))
	assert.True(t, s.ListsByRange(ctx))
}

// TestListByRangeOnlyWhereBytesCompare: an index on user_num that
// compares without case (a schema another program made) would not hold
// in a range the users Go sorted between its ends: such a Store lists by
// IN lists, and finds what they find.
func TestListByRangeOnlyWhereBytesCompare(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectSQLite)
	s, db := newStore(t, sqlstore.DialectSQLite)
	ctx := t.Context()
	for _, u := range []string{"a1", "B1", "c1"} {
		_, _, err := s.RegisterDevice(ctx, device("d"+u, registry.PlatformIOS, "tok-"+u), u)
		require.NoError(t, err)
	}
	_, err := db.ExecContext(ctx, "DROP INDEX ix_sys_user_devices_user_num_state")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "CREATE INDEX ix_sys_user_devices_user_num_state ON sys_user_devices (user_num COLLATE NOCASE, state)")
	require.NoError(t, err)
	fresh, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Now: fixedClock(base)})
	require.NoError(t, err)
	assert.False(t, fresh.ListsByRange(ctx))
	ts, err := fresh.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"c1", "B1", "a1"}})
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"a1", "B1", "c1"}, targetUsers(ts))
}
