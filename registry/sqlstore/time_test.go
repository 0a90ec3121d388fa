package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// rawTime returns the stored text of a DATETIME column of a row, without
// the zeros of unused fractional digits.
func rawTime(t *testing.T, db *sql.DB, d sqlstore.Dialect, table, column string, id int64) string {
	t.Helper()
	expr := "CAST(" + column + " AS TEXT)" // SQLite: no DATETIME column type, so no parsing by the driver
	switch d {
	case sqlstore.DialectMySQL:
		expr = "CAST(" + column + " AS CHAR)"
	case sqlstore.DialectPostgres:
		expr = column + "::text"
	}
	var v string
	require.NoError(t, db.QueryRowContext(t.Context(), dbtest.Rebind(d, "SELECT "+expr+" FROM "+table+" WHERE id = ?"), id).Scan(&v))
	if d == sqlstore.DialectMySQL && len(v) == len("2006-01-02 15:04:05.000000") && v[19:] == ".000000" {
		v = v[:19]
	}
	return v
}

// claimedContents claims up to 10 center rows due at now, with a lease of
// a nanosecond, and returns their contents.
func claimedContents(t *testing.T, s *sqlstore.Store, now time.Time) []string {
	t.Helper()
	cs, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: now, Limit: 10, Lease: time.Nanosecond})
	require.NoError(t, err)
	var out []string
	for _, c := range cs {
		out = append(out, c.Content)
	}
	return out
}

// TestLocation: DATETIME values are written and compared as wall-clock
// times in Options.Location, so they agree with rows other programs write
// with their own NOW(); second-precision values they write compare
// correctly with the store's microsecond ones.
func TestLocation(t *testing.T) {
	cst := time.FixedZone("CST", 8*3600)
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		db, _ := dbtest.Open(t, d)
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Location: cst, Now: fixedClock(base)})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(ctx))

		m := &registry.CenterMessage{Content: "ours", Receivers: "A01", NotifyMode: "push", SendAt: ptr(at(time.Hour))}
		require.NoError(t, s.EnqueueCenterMessage(ctx, m))
		assert.Equal(t, "2030-06-15 17:00:00", rawTime(t, db, d, "sys_message_center", "send_at", m.ID), "wall clock in Location")
		assert.Equal(t, "2030-06-15 16:00:00", rawTime(t, db, d, "sys_message_center", "created_at", m.ID))
		got, err := s.GetCenterMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.True(t, at(time.Hour).Equal(*got.SendAt), "read back as the same instant, got %v", got.SendAt)
		assert.Equal(t, cst, got.SendAt.Location())

		// Another program's row, due at 16:30 its time (08:30 UTC), to
		// the second.
		_, err = db.ExecContext(ctx, `INSERT INTO sys_message_center (content, receivers, notify_mode, send_state, send_at, created_at, updated_at)
			VALUES ('theirs', 'A02', 'push', 0, '2030-06-15 16:30:00', '2030-06-15 16:00:00', '2030-06-15 16:00:00')`)
		require.NoError(t, err)
		claim := func(now time.Time) []string { return claimedContents(t, s, now) }
		assert.Empty(t, claim(at(30*time.Minute-time.Millisecond)), "not due a millisecond early")
		assert.Equal(t, []string{"theirs"}, claim(at(30*time.Minute)), "due on the second")
		assert.Equal(t, []string{"theirs"}, claim(at(30*time.Minute+500*time.Millisecond)), "a lease of 1ns has run out")
		assert.Equal(t, []string{"ours", "theirs"}, claim(at(time.Hour+time.Microsecond)))
	})
}

// TestMySQLDSNSettingsDoNotMatter: the store reads and writes the same
// values whatever the host's DSN says about times, placeholders, found
// rows or multiple statements.
func TestMySQLDSNSettingsDoNotMatter(t *testing.T) {
	db, dsn := dbtest.Open(t, sqlstore.DialectMySQL)
	plain, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectMySQL, Now: fixedClock(base)})
	require.NoError(t, err)
	require.NoError(t, plain.Migrate(t.Context()))

	cfg, err := mysql.ParseDSN(dsn)
	require.NoError(t, err)
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	require.NoError(t, err)
	cfg.ParseTime = true
	cfg.Loc = shanghai
	cfg.InterpolateParams = true
	cfg.ClientFoundRows = true
	cfg.MultiStatements = true
	other, err := sqlstore.New(dbtest.OpenPool(t, sqlstore.DialectMySQL, cfg.FormatDSN()), sqlstore.Options{Dialect: sqlstore.DialectMySQL, Now: fixedClock(base)})
	require.NoError(t, err)

	ctx := t.Context()
	for i, s := range []*sqlstore.Store{plain, other} {
		uuid := []string{"plain", "other"}[i]
		dev, _, err := s.RegisterDevice(ctx, device(uuid, registry.PlatformIOS, "tok-"+uuid), "A01")
		require.NoError(t, err)
		// Registering again changes nothing but updated_at, which the
		// fixed clock keeps: found rows and changed rows differ.
		again, _, err := s.RegisterDevice(ctx, device(uuid, registry.PlatformIOS, "tok-"+uuid), "A01")
		require.NoError(t, err)
		assert.Equal(t, dev, again)
		assert.Equal(t, base, dev.CreatedAt)

		m := &registry.PushMessage{Title: uuid, ExpireAt: ptr(at(time.Hour + 123456*time.Microsecond))}
		require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{delivery(uuid, registry.PlatformIOS, at(time.Second), "tok-"+uuid)}))
		got, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.True(t, m.ExpireAt.Equal(*got.ExpireAt), "expire_at %v", got.ExpireAt)

		ds, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: at(time.Second), Limit: 1, Lease: time.Minute, Kind: registry.ClaimSend})
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Equal(t, uuid, ds[0].IdempotencyKey)
		assert.True(t, at(time.Second).Equal(ds[0].NextAttemptAt))
		assert.True(t, at(time.Minute+time.Second).Equal(*ds[0].LeaseUntil))
		d := ds[0]
		d.State = registry.DeliveryDone
		require.NoError(t, s.FinishDelivery(ctx, &d))
		require.ErrorIs(t, s.FinishDelivery(ctx, &d), registry.ErrClaimLost, "the token is spent, found rows or not")
		n, err := s.DisableTokens(ctx, "", registry.PlatformIOS, []string{"tok-" + uuid}, "gone")
		require.NoError(t, err)
		assert.Equal(t, int64(1), n)
		n, err = s.DisableTokens(ctx, "", registry.PlatformIOS, []string{"tok-" + uuid}, "gone")
		require.NoError(t, err)
		assert.Zero(t, n, "already disabled")
	}
	assert.Equal(t, "2030-06-15 08:00:01", rawTime(t, db, sqlstore.DialectMySQL, "sys_push_deliveries", "next_attempt_at", 2),
		"the parseTime/loc pool wrote UTC wall clock too")
}

// TestMySQLConnectionMustBeUTF8MB4: a DSN whose character set cannot carry
// emoji is refused by Migrate with a message that says what to change.
func TestMySQLConnectionMustBeUTF8MB4(t *testing.T) {
	_, dsn := dbtest.Open(t, sqlstore.DialectMySQL)
	cfg, err := mysql.ParseDSN(dsn)
	require.NoError(t, err)
	cfg.Params = map[string]string{"charset": "utf8"}
	s, err := sqlstore.New(dbtest.OpenPool(t, sqlstore.DialectMySQL, cfg.FormatDSN()), sqlstore.Options{Dialect: sqlstore.DialectMySQL})
	require.NoError(t, err)
	err = s.Migrate(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sqlstore: Migrate: the connection's character set is utf8mb3/utf8mb3")
	assert.Contains(t, err.Error(), "charset=utf8mb4")
	// And for a program that writes without migrating (pushctl, which
	// wrote garbled text through charset=latin1 and exited 0).
	err = s.CheckConnection(t.Context())
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sqlstore: CheckConnection: the connection's character set is utf8mb3/utf8mb3")

	good, err := sqlstore.New(dbtest.OpenPool(t, sqlstore.DialectMySQL, dsn), sqlstore.Options{Dialect: sqlstore.DialectMySQL})
	require.NoError(t, err)
	require.NoError(t, good.CheckConnection(t.Context()))
}

// TestQueryBoundsBeyondYear9999: a since or until whose wall clock in the
// Store's Location is past the year 9999 (valid RFC 3339 in another zone)
// bounds the pushes as any later time would: since matches none, until
// all. (On SQLite and MySQL the text "10000-…" sorted before every date.)
func TestQueryBoundsBeyondYear9999(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ds := claimedPush(t, s, "bounds")
		require.NotEmpty(t, ds)
		late := time.Date(9999, 12, 31, 23, 59, 59, 0, time.FixedZone("", -60)) // 10000-01-01T00:00:59Z
		got, err := s.ListPushMessages(t.Context(), registry.PushMessageQuery{Since: late})
		require.NoError(t, err)
		assert.Empty(t, got, "nothing was created after the year 9999")
		got, err = s.ListPushMessages(t.Context(), registry.PushMessageQuery{Until: late})
		require.NoError(t, err)
		assert.Len(t, got, 1, "everything was created before it")
	})
}

// TestSQLiteISOTimesAreDueOnTime: on SQLite, a send_at another program
// wrote in ISO 8601 ("T" between date and time, with or without a zone)
// is due at its time, not a day late as text comparison would make it.
func TestSQLiteISOTimesAreDueOnTime(t *testing.T) {
	ctx := t.Context()
	db, _ := dbtest.Open(t, sqlstore.DialectSQLite)
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Now: fixedClock(base)})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	due := at(30 * time.Minute).UTC()
	forms := []string{
		due.Format("2006-01-02T15:04:05"),
		due.Format("2006-01-02T15:04:05Z"),
		due.Format("2006-01-02T15:04:05.000Z"),
		due.Format("2006-01-02T15:04:05+00:00"),
		due.Add(8 * time.Hour).Format("2006-01-02T15:04:05+08:00"),
		due.Format("2006-01-02 15:04"),
	}
	for _, f := range forms {
		_, err = db.ExecContext(ctx, `INSERT INTO sys_message_center (content, receivers, notify_mode, send_state, send_at, created_at, updated_at)
			VALUES (?, 'A02', 'push', 0, ?, '2030-06-15 00:00:00', '2030-06-15 00:00:00')`, f, f)
		require.NoError(t, err)
	}
	claim := func(now time.Time) []string { return claimedContents(t, s, now) }
	assert.Empty(t, claim(due.Add(-time.Millisecond)), "not due a millisecond early")
	assert.ElementsMatch(t, forms, claim(due), "due on the second")

	// With a Location eight hours east, a value with a zone is the same
	// instant, and one without is a wall clock there.
	db2, _ := dbtest.Open(t, sqlstore.DialectSQLite)
	cst := time.FixedZone("CST", 8*3600)
	s2, err := sqlstore.New(db2, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Location: cst, Now: fixedClock(base)})
	require.NoError(t, err)
	require.NoError(t, s2.Migrate(ctx))
	cstForms := []string{
		due.Format("2006-01-02T15:04:05Z"),
		due.In(cst).Format("2006-01-02T15:04:05+08:00"),
		due.In(time.FixedZone("", -3600)).Format(time.RFC3339),
		due.In(cst).Format("2006-01-02T15:04:05"),
		due.In(cst).Format("2006-01-02 15:04:05"),
	}
	for _, f := range cstForms {
		_, err = db2.ExecContext(ctx, `INSERT INTO sys_message_center (content, receivers, notify_mode, send_state, send_at, created_at, updated_at)
			VALUES (?, 'A02', 'push', 0, ?, '2030-06-15 00:00:00', '2030-06-15 00:00:00')`, f, f)
		require.NoError(t, err)
	}
	assert.Empty(t, claimedContents(t, s2, due.Add(-time.Millisecond)), "not due early in another Location")
	assert.ElementsMatch(t, cstForms, claimedContents(t, s2, due))
	_, early, err := s.Backlog(ctx, due.Add(-time.Millisecond))
	require.NoError(t, err)
	assert.Zero(t, early)
	_, center, err := s.Backlog(ctx, due)
	require.NoError(t, err)
	assert.Equal(t, int64(len(forms)), center, "counted as due with the claim")
}

// TestClockSkew: the database's clock read in Location is about the
// Store's clock when Location is the database's zone, and a Location
// eight hours east reads it eight hours earlier; a Store whose clock is
// an hour ahead reads an hour's skew.
func TestClockSkew(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		skew := func(loc *time.Location, now func() time.Time) time.Duration {
			return readClock(t, db, d, loc, now, (*sqlstore.Store).ClockSkew)
		}
		utc := skew(time.UTC, time.Now)
		cst := skew(time.FixedZone("CST", 8*3600), time.Now)
		assert.InDelta(t, float64(-8*time.Hour), float64(cst-utc), float64(time.Minute), "a zone 8 h east reads the same clock 8 h earlier")
		ahead := skew(time.UTC, func() time.Time { return time.Now().Add(time.Hour) })
		assert.InDelta(t, float64(-time.Hour), float64(ahead-utc), float64(time.Minute))
		if d == sqlstore.DialectSQLite {
			assert.InDelta(t, 0, float64(utc), float64(time.Minute), "SQLite's clock is UTC")
		}
	})
}

// TestClockOffset: the database host's clock read in UTC is about the
// Store's whatever Location says (a zone is not a clock's offset), and a
// Store whose clock is 14 min 45 s ahead, a skew ClockSkew cannot tell
// from a zone's quarter hours, reads that much.
func TestClockOffset(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		offset := func(loc *time.Location, now func() time.Time) time.Duration {
			return readClock(t, db, d, loc, now, (*sqlstore.Store).ClockOffset)
		}
		assert.InDelta(t, 0, float64(offset(time.UTC, time.Now)), float64(5*time.Second), "the same host's clock")
		assert.InDelta(t, 0, float64(offset(time.FixedZone("CST", 8*3600), time.Now)), float64(5*time.Second), "a zone moves no clock")
		ahead := offset(time.UTC, func() time.Time { return time.Now().Add(14*time.Minute + 45*time.Second) })
		assert.InDelta(t, float64(-(14*time.Minute + 45*time.Second)), float64(ahead), float64(5*time.Second))
	})
}

// readClock reads the database's clock by read, on a Store of db whose
// Location is loc and clock now.
func readClock(t *testing.T, db *sql.DB, d sqlstore.Dialect, loc *time.Location, now func() time.Time,
	read func(*sqlstore.Store, context.Context) (time.Duration, error)) time.Duration {
	t.Helper()
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Location: loc, Now: now})
	require.NoError(t, err)
	got, err := read(s, t.Context())
	require.NoError(t, err)
	return got
}

// TestSQLiteSendAtSQLiteCannotRead: a send_at SQLite's strftime cannot
// read (a single-digit hour, a leading space) or reads otherwise than Go
// and the other databases (a number) is claimed at once, whatever its
// time, so that the Scanner reads it in Go: compared as text it sorted
// hours early or late. The claimed row carries the time Go reads (the
// Scanner gives it back until then), or the reason it cannot be read: a
// number always has one (it was read as Unix seconds). A value with a
// zone is read as that instant, in Location.
func TestSQLiteSendAtSQLiteCannotRead(t *testing.T) {
	ctx := t.Context()
	db, _ := dbtest.Open(t, sqlstore.DialectSQLite)
	cst := time.FixedZone("CST", 8*3600)
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Location: cst, Now: fixedClock(base)})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	now := time.Date(2026, 12, 6, 7, 0, 0, 0, cst)
	values := map[string]any{
		"single-digit hour": "2026-12-06 7:30:00",
		"leading space":     " 2026-12-06 08:00:00",
		"unix seconds":      now.Add(time.Hour).Unix(),
		"unix milliseconds": now.Add(time.Hour).UnixMilli(),
		"julian day":        2461380.5,
		"zulu, later":       "2026-12-06T00:30:00Z", // 08:30 in CST: not due
	}
	for name, v := range values {
		_, err = db.ExecContext(ctx, `INSERT INTO sys_message_center (content, receivers, notify_mode, send_state, send_at, created_at, updated_at)
			VALUES (?, 'A02', 'push', 0, ?, '2026-12-06 06:00:00', '2026-12-06 06:00:00')`, name, v)
		require.NoError(t, err)
	}
	cs, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: 10, Lease: time.Minute})
	require.NoError(t, err)
	got := map[string]registry.CenterMessage{}
	for _, c := range cs {
		got[c.Content] = c
	}
	require.ElementsMatch(t, []string{"single-digit hour", "leading space", "unix seconds", "unix milliseconds", "julian day"}, slices.Collect(maps.Keys(got)))
	wantAt := map[string]time.Time{
		"single-digit hour": time.Date(2026, 12, 6, 7, 30, 0, 0, cst),
		"leading space":     time.Date(2026, 12, 6, 8, 0, 0, 0, cst),
	}
	for name, want := range wantAt {
		require.NotNil(t, got[name].SendAt, name)
		assert.True(t, want.Equal(*got[name].SendAt), "%s: %v, want %v", name, got[name].SendAt, want)
		assert.Empty(t, got[name].Unreadable, name)
	}
	for _, name := range []string{"unix seconds", "unix milliseconds", "julian day"} {
		assert.Contains(t, got[name].Unreadable, "send_at", name)
	}

	later, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: time.Date(2026, 12, 6, 8, 30, 0, 0, cst), Limit: 10, Lease: time.Minute})
	require.NoError(t, err)
	i := slices.IndexFunc(later, func(c registry.CenterMessage) bool { return c.Content == "zulu, later" })
	require.GreaterOrEqual(t, i, 0, "due at 08:30 CST")
	require.NotNil(t, later[i].SendAt)
	assert.True(t, time.Date(2026, 12, 6, 8, 30, 0, 0, cst).Equal(*later[i].SendAt), "a UTC value read as its instant, not as a wall clock: %v", later[i].SendAt)
}

// TestSQLiteNumberSendAtFailsWithItsReason: send_at = '20991231', which
// means 2099-12-31 on MySQL and PostgreSQL, is kept by SQLite's DATETIME
// affinity as the integer 20991231. The claim takes it at once (a number
// is no date strftime compares) and the row reads as unreadable, with its
// reason, never as a time: it was read as Unix seconds, 1970-08-31, and
// pushed at once. A time column of the Store's own (next_attempt_at) with
// a number is due and unreadable alike.
func TestSQLiteNumberSendAtFailsWithItsReason(t *testing.T) {
	ctx := t.Context()
	s, db := newStore(t, sqlstore.DialectSQLite)
	_, err := db.ExecContext(ctx, `INSERT INTO sys_message_center (content, receivers, notify_mode, send_state, send_at, created_at, updated_at)
		VALUES ('a date as a number', 'A02', 'push', 0, '20991231', '2026-12-06 06:00:00', '2026-12-06 06:00:00')`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO sys_message_center (content, receivers, notify_mode, send_state, next_attempt_at, created_at, updated_at)
		VALUES ('a retry at a number', 'A02', 'push', 0, 20991231, '2026-12-06 06:00:00', '2026-12-06 06:00:00')`)
	require.NoError(t, err)
	var kind string
	require.NoError(t, db.QueryRowContext(ctx, "SELECT typeof(send_at) FROM sys_message_center WHERE content = 'a date as a number'").Scan(&kind))
	require.Equal(t, "integer", kind, "SQLite's DATETIME affinity keeps the text as a number")

	got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 10, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, got, 2, "claimed at once: no time SQLite compares")
	for _, m := range got {
		col := "send_at"
		ptr := m.SendAt
		if m.Content == "a retry at a number" {
			col, ptr = "next_attempt_at", m.NextAttemptAt
		}
		assert.Equal(t, col+": cannot read 20991231 (int64) as a date-time", m.Unreadable, m.Content)
		require.NotNil(t, ptr, m.Content)
		assert.True(t, ptr.IsZero(), "%s: the zero time, not 1970-08-31: %v", m.Content, ptr)
	}
}

// TestCenterRowsAhead: a center row another program created with a NOW()
// eight hours east of Location reads eight hours ahead; rows of the
// Store's own clock, or none, read 0.
func TestCenterRowsAhead(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		db, _ := dbtest.Open(t, d)
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: fixedClock(base)})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(ctx))
		ahead, err := s.CenterRowsAhead(ctx)
		require.NoError(t, err)
		assert.Zero(t, ahead, "no rows")
		require.NoError(t, s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"}))
		ahead, err = s.CenterRowsAhead(ctx)
		require.NoError(t, err)
		assert.Zero(t, ahead, "the Store's own row")
		_, err = db.ExecContext(ctx, dbtest.Rebind(d, `INSERT INTO sys_message_center (title, content, receivers, notify_mode, send_state, created_at, updated_at)
			VALUES ('t', 'c', 'u1', 'push', 0, ?, ?)`), base.Add(8*time.Hour).Format("2006-01-02 15:04:05"), base.Format("2006-01-02 15:04:05"))
		require.NoError(t, err)
		ahead, err = s.CenterRowsAhead(ctx)
		require.NoError(t, err)
		assert.Equal(t, 8*time.Hour, ahead)
	})
}

// TestUpperCaseTokens: enabled devices of the push platform and platform
// asked whose token holds an upper-case letter are counted, on MySQL
// whatever the column's collation; the
// Store's own lower-case rows are not, nor are disabled rows, rows of the
// other platform or of another push platform.
func TestUpperCaseTokens(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		s, db := newStore(t, d)
		_, _, err := s.RegisterDevice(ctx, device("OWN", registry.PlatformIOS, "abcdef01"), "u1")
		require.NoError(t, err)
		n, err := s.UpperCaseTokens(ctx, registry.DefaultPushPlatform, registry.PlatformIOS)
		require.NoError(t, err)
		assert.Zero(t, n, "the Store's own rows")

		now := base.Format("2006-01-02 15:04:05")
		for i, row := range []struct{ platform, pushPlatform, token, disabled string }{
			{"ios", "umeng", "ABCDEF02", ""},     // counted
			{" iOS", "", "abcDEF03", ""},         // counted: NULL-ish push platform is the default's
			{"ios", "umeng", "abcdef04", ""},     // lower case
			{"ios", "umeng", "ABCDEF05", now},    // disabled
			{"android", "umeng", "ABCDEF06", ""}, // other platform
			{"ios", "jpush", "ABCDEF07", ""},     // other push platform
			{"ios", "umeng", "ABCDEF08", ""},     // counted
		} {
			var disabled any
			if row.disabled != "" {
				disabled = row.disabled
			}
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, `INSERT INTO sys_devices (name, platform, uuid, push_device_token, push_platform,
				token_disabled_at, created_at, updated_at) VALUES ('p', ?, ?, ?, ?, ?, ?, ?)`),
				row.platform, fmt.Sprint("FOREIGN-", i), row.token, row.pushPlatform, disabled, now, now)
			require.NoError(t, err)
		}
		n, err = s.UpperCaseTokens(ctx, registry.DefaultPushPlatform, registry.PlatformIOS)
		require.NoError(t, err)
		assert.Equal(t, int64(3), n)
		if d == sqlstore.DialectMySQL {
			// A column an older system declared with a collation that
			// ignores case: the Store still tells the spellings apart
			// (push_token_key), and so does the count.
			_, err = db.ExecContext(ctx, "ALTER TABLE sys_devices MODIFY push_device_token varchar(255) CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci DEFAULT ''")
			require.NoError(t, err)
			n, err = s.UpperCaseTokens(ctx, registry.DefaultPushPlatform, registry.PlatformIOS)
			require.NoError(t, err)
			assert.Equal(t, int64(3), n, "under a collation that ignores case")
		}
	})
}

// TestSpacedUserNums: user_nums another program wrote with spaces around
// them are counted (trailing ones on PostgreSQL and SQLite, which compare
// with them); the Store's own rows are not, nor are tokens with spaces
// (compared trimmed: TestSpacedTokenIsTheSamePhone).
func TestSpacedUserNums(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		s, db := newStore(t, d)
		_, _, err := s.RegisterDevice(ctx, device("OWN", registry.PlatformAndroid, "own-token"), "u1")
		require.NoError(t, err)
		users, err := s.SpacedUserNums(ctx)
		require.NoError(t, err)
		assert.Zero(t, users, "the Store's own rows")

		now := base.Format("2006-01-02 15:04:05")
		for i, tok := range []string{" lead", "trail ", "plain"} {
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, `INSERT INTO sys_devices (name, platform, uuid, push_device_token, push_platform, created_at, updated_at)
				VALUES ('p', 'android', ?, ?, 'umeng', ?, ?)`), fmt.Sprint("FOREIGN-", i), tok, now, now)
			require.NoError(t, err)
		}
		for _, u := range []string{" L002", "T003 ", "u4"} {
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, `INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at)
				VALUES (?, 1, 1, ?, ?)`), u, now, now)
			require.NoError(t, err)
		}
		users, err = s.SpacedUserNums(ctx)
		require.NoError(t, err)
		want := int64(2)
		if d == sqlstore.DialectMySQL {
			want = 1 // trailing spaces do not count in MySQL's and MariaDB's comparisons
		}
		assert.Equal(t, want, users)
	})
}
