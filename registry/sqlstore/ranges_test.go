package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"path/filepath"
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

// rangeVsIn lists random sets of 200 random users (case, prefixes, spaces,
// accents, private-use and astral characters) on db, with random pages
// and cursors, by s and by s.NoRanges, and fails on any difference. It
// returns whether s listed by range at all; advance moves s's clock on
// past the minute a sparse set turns ranges off for.
func rangeVsIn(t *testing.T, db *sql.DB, s *sqlstore.Store, advance func()) bool {
	t.Helper()
	ctx := t.Context()
	r := rand.New(rand.NewPCG(1, 2))
	alpha := []string{"a", "A", "b", "é", "É", "z", " ", "0", "1", "9", "\u00ff", "\U0001F600", "\uffff", "\ue000", "ā"}
	var pool []string
	for i := range 200 {
		u := ""
		for range 1 + r.IntN(4) {
			u += alpha[r.IntN(len(alpha))]
		}
		pool = append(pool, u)
		_, err := db.ExecContext(ctx, "INSERT INTO sys_devices (uuid, platform, push_device_token) VALUES (?, 'ios', ?)",
			fmt.Sprint("d", i), fmt.Sprint("tok", i))
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "INSERT INTO sys_user_devices (user_num, device_id, state) VALUES (?, (SELECT MAX(id) FROM sys_devices), 1)", u)
		require.NoError(t, err)
	}
	ids := func(ts []registry.Target) []string {
		var out []string
		for _, t := range ts {
			out = append(out, fmt.Sprintf("%d/%s/%s", t.UserDeviceID, t.UserNum, t.Token))
		}
		return out
	}
	byIn := s.NoRanges()
	used := false
	for range 300 {
		advance()
		var users []string
		for range 2 + r.IntN(40) {
			users = append(users, pool[r.IntN(len(pool))])
		}
		q := registry.TargetQuery{UserNums: users, Limit: 5 + r.IntN(100)}
		if r.IntN(3) == 0 {
			q.AfterUserDeviceID = int64(r.IntN(200))
		}
		used = used || s.ListsByRange(ctx)
		a, err := s.ListTargets(ctx, q)
		require.NoError(t, err)
		b, err := byIn.ListTargets(ctx, q)
		require.NoError(t, err)
		require.Equal(t, ids(b), ids(a), "users %q, limit %d, after %d", users, q.Limit, q.AfterUserDeviceID)
	}
	return used
}

// TestListByRangeFindsWhatInListsFind: on UTF-8 (ranges used, and turned
// off and on again by the sparse sets), on a database stored as UTF-16
// (where BINARY compares UTF-16 bytes, not Go's order) and on a table
// another program made with user_num INT (whose values compare as
// numbers), a listing finds what IN lists find; the last two never list
// by range.
func TestListByRangeFindsWhatInListsFind(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectSQLite)
	open := func(t *testing.T, dsn string, before string) (*sql.DB, *sqlstore.Store, func()) {
		db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "push.db"))+dsn)
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		if before != "" {
			_, err := db.ExecContext(t.Context(), before)
			require.NoError(t, err)
		}
		now := base
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Now: func() time.Time { return now }})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))
		return db, s, func() { now = now.Add(2 * time.Minute) }
	}
	t.Run("UTF-8", func(t *testing.T) {
		db, s, advance := open(t, "", "")
		assert.True(t, rangeVsIn(t, db, s, advance))
	})
	t.Run("UTF-16", func(t *testing.T) {
		db, s, advance := open(t, "&_pragma=encoding('UTF-16le')", "")
		assert.False(t, rangeVsIn(t, db, s, advance))
	})
	t.Run("user_num INT", func(t *testing.T) {
		_, s, _ := open(t, "", `CREATE TABLE sys_user_devices (id INTEGER PRIMARY KEY AUTOINCREMENT, user_num int(11) DEFAULT NULL,
			device_id int(11) DEFAULT NULL, state tinyint(1) DEFAULT '1', created_at datetime DEFAULT CURRENT_TIMESTAMP,
			updated_at datetime DEFAULT CURRENT_TIMESTAMP)`)
		for _, u := range []string{"100", "20", "3", "45"} {
			_, _, err := s.RegisterDevice(t.Context(), device("d"+u, registry.PlatformIOS, "tok-"+u), u)
			require.NoError(t, err)
		}
		ts, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: []string{"100", "20", "3"}})
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"100", "20", "3"}, targetUsers(ts))
		assert.False(t, s.ListsByRange(t.Context()))
	})
}

// TestListByRangeCheckWaitsForNoLock: the first listing's check of the
// schema runs outside any lock of the Store, so a listing in a host's
// transaction, on a pool of one connection, is not kept waiting by a
// listing that waits for that connection.
func TestListByRangeCheckWaitsForNoLock(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectSQLite)
	ctx := t.Context()
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "push.db")))
	require.NoError(t, err)
	defer db.Close()
	m, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
	require.NoError(t, err)
	require.NoError(t, m.Migrate(ctx))
	db.SetMaxOpenConns(1)
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
	require.NoError(t, err)
	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	outside := make(chan error, 1)
	go func() {
		_, err := s.ListTargets(context.Background(), registry.TargetQuery{UserNums: []string{"a", "b"}}) // waits for the connection
		outside <- err
	}()
	time.Sleep(100 * time.Millisecond)
	inside := make(chan error, 1)
	go func() {
		_, err := s.WithTx(tx).ListTargets(ctx, registry.TargetQuery{UserNums: []string{"a", "b"}})
		inside <- err
	}()
	select {
	case err := <-inside:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("the listing in the transaction waited for the one outside it")
	}
	require.NoError(t, tx.Rollback())
	require.NoError(t, <-outside)
}
