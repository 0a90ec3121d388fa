package sqlstore_test

import (
	"context"
	"database/sql"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// unreadableValue is a time value another program can store in dialect
// d's DATETIME columns that the Store cannot read as a date-time.
func unreadableValue(d sqlstore.Dialect) string {
	switch d {
	case sqlstore.DialectMySQL:
		return "2024-00-00 00:00:00" // a zero month, which sql_mode '' lets in
	case sqlstore.DialectPostgres:
		return "infinity"
	}
	return "not a date"
}

// unreadableReason matches the Unreadable of a row whose column col holds
// bad (MySQL shows a DATETIME(6) with its six fractional digits).
func unreadableReason(col, bad string) string {
	return "^" + col + `: cannot read "` + regexp.QuoteMeta(bad) + `(\.0+)?" as a date-time$`
}

// spoil writes unreadableValue into column of the row id of table, as
// another program would: on MySQL in a session whose sql_mode lets zero
// months in.
func spoil(t *testing.T, db *sql.DB, d sqlstore.Dialect, table, column string, id int64) {
	t.Helper()
	spoilWith(t, db, d, table, column, id, unreadableValue(d))
}

// spoilWith is spoil writing value.
func spoilWith(t *testing.T, db *sql.DB, d sqlstore.Dialect, table, column string, id int64, value string) {
	t.Helper()
	ctx := t.Context()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	if d == sqlstore.DialectMySQL {
		_, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''")
		require.NoError(t, err)
		// The pool may hand this connection out again: put the mode back.
		defer func() { _, _ = conn.ExecContext(ctx, "SET SESSION sql_mode = DEFAULT") }()
	}
	_, err = conn.ExecContext(ctx, dbtest.Rebind(d, "UPDATE "+table+" SET "+column+" = ? WHERE id = ?"), value, id)
	require.NoError(t, err)
}

// unreadableStores runs fn for every dialect on a fresh migrated database,
// and on MySQL also through a pool whose DSN has parseTime=true, which
// makes the driver convert DATETIME values itself.
func unreadableStores(t *testing.T, fn func(t *testing.T, d sqlstore.Dialect, s *sqlstore.Store, db *sql.DB)) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		fn(t, d, s, db)
	})
	t.Run("mysql-parseTime", func(t *testing.T) {
		dbtest.SkipUnlessAvailable(t, sqlstore.DialectMySQL)
		t.Parallel()
		_, dsn := dbtest.Open(t, sqlstore.DialectMySQL)
		cfg, err := mysql.ParseDSN(dsn)
		require.NoError(t, err)
		cfg.ParseTime = true
		db := dbtest.OpenPool(t, sqlstore.DialectMySQL, cfg.FormatDSN())
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectMySQL, Now: fixedClock(base)})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))
		fn(t, sqlstore.DialectMySQL, s, db)
	})
}

// TestUnreadableCenterRowFailsAlone: a sys_message_center row with a time
// value the Store cannot read is claimed with the others, named in
// Unreadable; it never fails the claim, and the rows around it are claimed
// in the same call.
func TestUnreadableCenterRowFailsAlone(t *testing.T) {
	unreadableStores(t, func(t *testing.T, d sqlstore.Dialect, s *sqlstore.Store, db *sql.DB) {
		ctx := t.Context()
		bad := unreadableValue(d)
		enqueue := func(title string) int64 {
			m := &registry.CenterMessage{Title: title, Content: "c", NotifyMode: "sms", Receivers: "A01"}
			require.NoError(t, s.EnqueueCenterMessage(ctx, m))
			return m.ID
		}
		// The claim rewrites lease_until and updated_at: those rows come out
		// readable. The others keep their unreadable value.
		columns := []string{"send_at", "next_attempt_at", "lease_until", "created_at", "updated_at"}
		var good []int64
		spoiled := map[int64]string{}
		for _, col := range columns {
			good = append(good, enqueue("good before "+col))
			id := enqueue("bad " + col)
			spoil(t, db, d, "sys_message_center", col, id)
			spoiled[id] = col
		}
		good = append(good, enqueue("good last"))

		for id, col := range spoiled {
			m, err := s.GetCenterMessage(ctx, id)
			require.NoError(t, err, col)
			assert.Regexp(t, unreadableReason(col, bad), m.Unreadable, col)
		}

		got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: at(time.Minute), Limit: 50, Lease: time.Minute})
		require.NoError(t, err)
		claimed := map[int64]registry.CenterMessage{}
		for _, m := range got {
			claimed[m.ID] = m
		}
		require.Len(t, claimed, len(good)+len(spoiled), "every row is claimed in one call")
		for _, id := range good {
			assert.Empty(t, claimed[id].Unreadable, "good row %d", id)
		}
		for id, col := range spoiled {
			m := claimed[id]
			switch col {
			case "lease_until", "updated_at":
				assert.Empty(t, m.Unreadable, "the claim replaced %s", col)
			default:
				assert.Regexp(t, unreadableReason(col, bad), m.Unreadable, col)
			}
			assert.Equal(t, 1, m.Attempts, col)
			m.SendState, m.Remark = registry.SendStateFailed, "unreadable row: "+m.Unreadable
			require.NoError(t, s.FinishCenterMessage(ctx, &m), col)
		}
	})
}

// TestUnreadableDeviceRowsAreRepaired: a device or link row of an adopted
// database with time values the Store cannot read is read, registered
// again and logged out without an error; the write replaces the unreadable
// values with its own stamp.
func TestUnreadableDeviceRowsAreRepaired(t *testing.T) {
	unreadableStores(t, func(t *testing.T, d sqlstore.Dialect, s *sqlstore.Store, db *sql.DB) {
		ctx := t.Context()
		dev, link, err := s.RegisterDevice(ctx, device("old", registry.PlatformIOS, "tok-old"), "A01")
		require.NoError(t, err)
		_, other, err := s.RegisterDevice(ctx, device("other", registry.PlatformAndroid, "tok-other"), "A02")
		require.NoError(t, err)
		for _, col := range []string{"token_disabled_at", "created_at", "updated_at"} {
			spoil(t, db, d, "sys_devices", col, dev.ID)
		}
		for _, l := range []int64{link.ID, other.ID} {
			spoil(t, db, d, "sys_user_devices", "created_at", l)
			spoil(t, db, d, "sys_user_devices", "updated_at", l)
		}

		got, err := s.GetDevice(ctx, dev.ID)
		require.NoError(t, err)
		require.NotNil(t, got.TokenDisabledAt, "a token_disabled_at that is set but unreadable still disables")
		_, err = s.GetUserDevice(ctx, link.ID)
		require.NoError(t, err)
		targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"A01", "A02"}})
		require.NoError(t, err)
		assert.Len(t, targets, 1, "the device whose token is disabled is no target")

		later := base.Add(time.Hour)
		s2, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: fixedClock(later)})
		require.NoError(t, err)
		again, l2, err := s2.RegisterDevice(ctx, device("old", registry.PlatformIOS, "tok-old"), "A01")
		require.NoError(t, err)
		assert.Equal(t, dev.ID, again.ID)
		assert.Nil(t, again.TokenDisabledAt)
		assert.True(t, later.Equal(again.CreatedAt), "created_at replaced: %v", again.CreatedAt)
		assert.True(t, later.Equal(again.UpdatedAt))
		assert.Equal(t, link.ID, l2.ID)
		assert.True(t, later.Equal(l2.CreatedAt), "link created_at replaced: %v", l2.CreatedAt)
		stored, err := s2.GetDevice(ctx, dev.ID)
		require.NoError(t, err)
		assert.Equal(t, again, stored)
		storedLink, err := s2.GetUserDevice(ctx, link.ID)
		require.NoError(t, err)
		assert.Equal(t, l2, storedLink)
		assert.Equal(t, "2030-06-15 09:00:00", rawTime(t, db, d, "sys_devices", "created_at", dev.ID))

		require.NoError(t, s2.DeactivateLink(ctx, "A02", other.ID))
		out, err := s2.GetUserDevice(ctx, other.ID)
		require.NoError(t, err)
		assert.False(t, out.Active)
		assert.True(t, later.Equal(out.CreatedAt), "link created_at replaced: %v", out.CreatedAt)
		assert.True(t, later.Equal(out.UpdatedAt))
	})
}

// TestAZeroDateTokenDisabledAtDisablesAndIsUnreadable: a token_disabled_at
// that another program set to MySQL's zero date (or, on SQLite, to its
// text) is not NULL: it disables the token, as the Store's own queries
// take it, and reads as set but unreadable, named in the listing's
// Unreadable, never as an enabled token. PostgreSQL's timestamp holds no
// zero date.
func TestAZeroDateTokenDisabledAtDisablesAndIsUnreadable(t *testing.T) {
	unreadableStores(t, func(t *testing.T, d sqlstore.Dialect, s *sqlstore.Store, db *sql.DB) {
		if d == sqlstore.DialectPostgres {
			t.Skip("PostgreSQL's timestamp holds no zero date")
		}
		ctx := t.Context()
		const zero = "0000-00-00 00:00:00"
		dev, _, err := s.RegisterDevice(ctx, device("zero", registry.PlatformIOS, "tok-zero"), "A01")
		require.NoError(t, err)
		_, _, err = s.RegisterDevice(ctx, device("fine", registry.PlatformAndroid, "tok-fine"), "A01")
		require.NoError(t, err)
		spoilWith(t, db, d, "sys_devices", "token_disabled_at", dev.ID, zero)

		got, err := s.GetDevice(ctx, dev.ID)
		require.NoError(t, err)
		assert.NotNil(t, got.TokenDisabledAt, "a zero date is set, not NULL: the token is disabled")
		byUUID, _, err := s.DeviceByUUID(ctx, registry.PlatformIOS, "zero")
		require.NoError(t, err)
		assert.NotNil(t, byUUID.TokenDisabledAt)
		links, err := s.ListUserDevices(ctx, "A01")
		require.NoError(t, err)
		require.Len(t, links, 2)
		for _, l := range links {
			if l.Device.ID != dev.ID {
				assert.Nil(t, l.Device.TokenDisabledAt)
				assert.Empty(t, l.Unreadable)
				continue
			}
			assert.NotNil(t, l.Device.TokenDisabledAt)
			assert.Regexp(t, "^device."+unreadableReason("token_disabled_at", zero)[1:], l.Unreadable)
		}
		targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"A01"}})
		require.NoError(t, err)
		require.Len(t, targets, 1, "the device whose token is disabled is no target")
		assert.NotEqual(t, dev.ID, targets[0].DeviceID)
	})
}

// TestPostgresDatesBCAreUnreadable: a PostgreSQL timestamp before the
// year 1 ('2500-06-01 BC') reads as a value the Store cannot read, named
// with its era, in every time column; a center row with one is claimed
// (the database compares it as long past) and fails with that reason.
// to_char wrote it without its era, so the Scanner read 2500-06-01 AD,
// gave the row back untried until then and parked it for centuries.
func TestPostgresDatesBCAreUnreadable(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	d := sqlstore.DialectPostgres
	s, db := newStore(t, d)
	ctx := t.Context()
	enqueue := func(title string) int64 {
		m := &registry.CenterMessage{Title: title, Content: "c", NotifyMode: "sms", Receivers: "A01"}
		require.NoError(t, s.EnqueueCenterMessage(ctx, m))
		return m.ID
	}
	good := enqueue("good")
	bc := map[int64][2]string{} // column, value
	for col, value := range map[string]string{"send_at": "2500-06-01 BC", "next_attempt_at": "4713-01-01 BC", "created_at": "0044-03-15 12:00:00 BC"} {
		id := enqueue("bc " + col)
		spoilWith(t, db, d, "sys_message_center", col, id, value)
		bc[id] = [2]string{col, value}
	}
	reason := func(col, value string) string {
		text := strings.TrimSuffix(value, " BC")
		if !strings.Contains(text, ":") {
			text += " 00:00:00"
		}
		return unreadableReason(col, text+" BC")
	}
	for id, cv := range bc {
		m, err := s.GetCenterMessage(ctx, id)
		require.NoError(t, err, cv[0])
		assert.Regexp(t, reason(cv[0], cv[1]), m.Unreadable, cv[0])
	}

	got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: at(time.Minute), Limit: 10, Lease: time.Minute})
	require.NoError(t, err)
	claimed := map[int64]registry.CenterMessage{}
	for _, m := range got {
		claimed[m.ID] = m
	}
	require.Len(t, claimed, 1+len(bc), "every row is claimed, the dates BC as long past")
	assert.Empty(t, claimed[good].Unreadable)
	for id, cv := range bc {
		m := claimed[id]
		assert.Regexp(t, reason(cv[0], cv[1]), m.Unreadable, cv[0])
		if cv[0] == "send_at" {
			require.NotNil(t, m.SendAt)
			assert.True(t, m.SendAt.IsZero(), "the zero time, not 2500-06-01 AD: %v", m.SendAt)
		}
	}

	// The deliveries' columns, read the same way.
	pm := &registry.PushMessage{Title: "x"}
	dl := delivery("bc", registry.PlatformIOS, base, "t1")
	require.NoError(t, s.CreatePushMessage(ctx, pm, []*registry.Delivery{dl}))
	spoilWith(t, db, d, "sys_push_deliveries", "next_attempt_at", dl.ID, "2500-06-01 BC")
	list, err := s.ListDeliveries(ctx, pm.ID)
	require.NoError(t, err)
	require.Len(t, list, 1)
	assert.True(t, list[0].NextAttemptAt.IsZero(), "the zero time, not 2500-06-01 AD: %v", list[0].NextAttemptAt)
}

// TestUnreadablePushRowsAreRead: push messages and deliveries with time
// values the Store cannot read are read, listed and claimed without an
// error, and never keep the rows around them from being claimed.
func TestUnreadablePushRowsAreRead(t *testing.T) {
	unreadableStores(t, func(t *testing.T, d sqlstore.Dialect, s *sqlstore.Store, db *sql.DB) {
		ctx := t.Context()
		m := &registry.PushMessage{Title: "x", ExpireAt: ptr(at(time.Hour))}
		ds := []*registry.Delivery{
			delivery("good-1", registry.PlatformIOS, base, "t1"),
			delivery("bad-times", registry.PlatformIOS, base, "t2"),
			delivery("bad-next", registry.PlatformIOS, base, "t3"),
			delivery("good-2", registry.PlatformIOS, base, "t4"),
		}
		ds[1].ExpireAt = ptr(at(time.Hour))
		require.NoError(t, s.CreatePushMessage(ctx, m, ds))
		for _, col := range []string{"expire_at", "created_at", "updated_at"} {
			spoil(t, db, d, "sys_push_messages", col, m.ID)
		}
		for _, col := range []string{"expire_at", "sent_at", "lease_until", "created_at", "updated_at"} {
			spoil(t, db, d, "sys_push_deliveries", col, ds[1].ID)
		}
		spoil(t, db, d, "sys_push_deliveries", "next_attempt_at", ds[2].ID)

		got, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, "x", got.Title)
		_, err = s.GetPushMessageByDedupeKey(ctx, "nothing")
		require.ErrorIs(t, err, registry.ErrNotFound)
		list, err := s.ListDeliveries(ctx, m.ID)
		require.NoError(t, err)
		require.Len(t, list, 4)

		claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: at(time.Minute), Limit: 10, Lease: time.Minute, Kind: registry.ClaimSend})
		require.NoError(t, err)
		keys := map[string]bool{}
		for _, c := range claimed {
			keys[c.IdempotencyKey] = true
		}
		for _, k := range []string{"good-1", "bad-times", "good-2"} {
			assert.True(t, keys[k], "%s claimed", k)
		}
		for _, c := range claimed {
			c.State, c.Ret = registry.DeliveryDone, registry.RetSuccess
			require.NoError(t, s.FinishDelivery(ctx, &c), c.IdempotencyKey)
		}
	})
}

// TestNullSendStateIsUnsent: a center row another program wrote with a
// NULL send_state is claimed as unsent (0), in claim order with the rows
// around it.
func TestNullSendStateIsUnsent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		var ids []int64
		for i, level := range []int{0, 5, 0, 5} {
			m := &registry.CenterMessage{Title: fmt.Sprint("row ", i), Content: "c", NotifyMode: "sms", NotifyLevel: level, Receivers: "A01"}
			require.NoError(t, s.EnqueueCenterMessage(ctx, m))
			ids = append(ids, m.ID)
		}
		for _, id := range []int64{ids[1], ids[2]} {
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET send_state = NULL WHERE id = ?"), id)
			require.NoError(t, err)
		}
		sent := &registry.CenterMessage{Title: "sent", Content: "c", NotifyMode: "sms", Receivers: "A01"}
		require.NoError(t, s.EnqueueCenterMessage(ctx, sent))
		_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET send_state = 1 WHERE id = ?"), sent.ID)
		require.NoError(t, err)

		got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: at(time.Minute), Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		var order []int64
		for _, m := range got {
			order = append(order, m.ID)
			assert.Equal(t, registry.SendStateUnsent, m.SendState, "row %d", m.ID)
		}
		assert.Equal(t, []int64{ids[1], ids[3], ids[0], ids[2]}, order, "level 5 first, then by id; the sent row stays")
	})
}

// TestManyNullSendStatesAreUnsent: more NULL send_states than one batch
// of their write takes are all read as unsent by one claim.
func TestManyNullSendStatesAreUnsent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		n := 2*sqlstore.NullStatesBatch + 1
		values := strings.Repeat("('t', 'c', 'sms', 'A01', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00'), ", n-1) +
			"('t', 'c', 'sms', 'A01', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
		_, err := db.ExecContext(ctx, "INSERT INTO sys_message_center (title, content, notify_mode, receivers, send_state, created_at, updated_at) VALUES "+values)
		require.NoError(t, err)
		got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: at(time.Minute), Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		assert.Len(t, got, 10)
		var unsent, null int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_message_center WHERE send_state = 0").Scan(&unsent))
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_message_center WHERE send_state IS NULL").Scan(&null))
		assert.Equal(t, n, unsent)
		assert.Zero(t, null)
	})
}

// TestALockedNullSendStateHoldsUpNoClaim: a NULL send_state on a row
// another program holds locked (its write left open) is no reason to
// wait: the claim of the other rows goes on at once, and the row gets its
// 0 from a claim after the lock is gone. The claim wrote every NULL state
// with one UPDATE, which waited for the lock, and every claim failed for
// as long as it was held. SQLite has no row locks.
func TestALockedNullSendStateHoldsUpNoClaim(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		if d == sqlstore.DialectSQLite {
			t.Skip("SQLite has no row locks: its one writer waits for the whole database")
		}
		s, db := newStore(t, d)
		ctx := t.Context()
		held := &registry.CenterMessage{Title: "held", Content: "c", NotifyMode: "sms", Receivers: "A01", SendAt: ptr(time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC))}
		require.NoError(t, s.EnqueueCenterMessage(ctx, held))
		_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET send_state = NULL WHERE id = ?"), held.ID)
		require.NoError(t, err)

		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		defer func() { _ = tx.Rollback() }()
		_, err = tx.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET remark = 'held' WHERE id = ?"), held.ID)
		require.NoError(t, err)

		good := &registry.CenterMessage{Title: "good", Content: "c", NotifyMode: "sms", Receivers: "A01"}
		require.NoError(t, s.EnqueueCenterMessage(ctx, good))
		// Bounded, so that a claim that waits for the lock fails the test
		// instead of hanging it.
		bounded, cancel := context.WithTimeout(ctx, 10*time.Second)
		defer cancel()
		got, err := s.ClaimCenterMessages(bounded, registry.ClaimParams{Now: at(time.Minute), Limit: 10, Lease: time.Minute})
		require.NoError(t, err, "the claim does not wait for the held row")
		require.Len(t, got, 1)
		assert.Equal(t, good.ID, got[0].ID)

		require.NoError(t, tx.Commit())
		_, err = s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: at(2 * time.Minute), Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		var state sql.NullInt64
		require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT send_state FROM sys_message_center WHERE id = ?"), held.ID).Scan(&state))
		assert.Equal(t, sql.NullInt64{Int64: int64(registry.SendStateUnsent), Valid: true}, state, "a later claim reads the NULL as unsent")
	})
}

// TestALockedUnreadableDeliveryHoldsUpNoClaim: on PostgreSQL a claim
// first makes due the deliveries whose next_attempt_at is 'infinity'. A
// session that holds one of them locked (a transaction left open) must
// not hold up that sweep, and with it every claim: the sweep skips the
// row, and a later one makes it due once the lock is gone.
func TestALockedUnreadableDeliveryHoldsUpNoClaim(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	s, db := newStore(t, sqlstore.DialectPostgres)
	ctx := t.Context()
	held := delivery("held", registry.PlatformIOS, base, "t1")
	good := delivery("good", registry.PlatformIOS, base, "t2")
	require.NoError(t, s.CreatePushMessage(ctx, &registry.PushMessage{Title: "x"}, []*registry.Delivery{held, good}))
	spoil(t, db, sqlstore.DialectPostgres, "sys_push_deliveries", "next_attempt_at", held.ID)

	tx, err := db.BeginTx(ctx, nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	_, err = tx.ExecContext(ctx, "UPDATE sys_push_deliveries SET updated_at = updated_at WHERE id = $1", held.ID)
	require.NoError(t, err)

	// Bounded, so that a claim that waits for the lock fails the test
	// instead of hanging it.
	bounded, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	got, err := s.ClaimDeliveries(bounded, registry.ClaimParams{Now: at(time.Minute), Limit: 10, Lease: time.Minute, Kind: registry.ClaimSend})
	require.NoError(t, err, "the claim does not wait for the held row")
	require.Len(t, got, 1)
	assert.Equal(t, "good", got[0].IdempotencyKey)

	require.NoError(t, tx.Commit())
	got, err = s.ClaimDeliveries(ctx, registry.ClaimParams{Now: at(time.Hour), Limit: 10, Lease: time.Minute, Kind: registry.ClaimSend})
	require.NoError(t, err)
	var keys []string
	for _, c := range got {
		keys = append(keys, c.IdempotencyKey)
	}
	assert.Contains(t, keys, "held", "a later sweep makes the row due")
}

// TestOtherProgramsSendFlags: is_send_ios and is_send_android are 0/1 flags,
// but another program may write any integer (or, on SQLite, text) there.
// Any value reads (non-zero as sent), and neither a single read nor a page
// of the listing fails for it.
func TestOtherProgramsSendFlags(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		values := [][2]string{{"2", "-1"}, {"0", "NULL"}, {"127", "1"}}
		want := [][2]bool{{true, true}, {false, false}, {true, true}}
		if d == sqlstore.DialectSQLite {
			values = append(values, [2]string{"'yes'", "'1'"})
			want = append(want, [2]bool{false, true})
		}
		ids := make([]int64, len(values))
		for i, v := range values {
			m := &registry.PushMessage{Title: fmt.Sprint("flags ", i)}
			require.NoError(t, s.CreatePushMessage(ctx, m, nil))
			ids[i] = m.ID
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_push_messages SET is_send_ios = "+v[0]+
				", is_send_android = "+v[1]+" WHERE id = ?"), m.ID)
			require.NoError(t, err)
		}
		for i, id := range ids {
			got, err := s.GetPushMessage(ctx, id)
			require.NoError(t, err, "row %d (%v)", i, values[i])
			assert.Equal(t, want[i], [2]bool{got.IOS.IsSend, got.Android.IsSend}, "row %d (%v)", i, values[i])
		}
		list, err := s.ListPushMessages(ctx, registry.PushMessageQuery{})
		require.NoError(t, err)
		require.Len(t, list, len(ids))
		for _, m := range list {
			i := slices.Index(ids, m.ID)
			assert.Equal(t, want[i], [2]bool{m.IOS.IsSend, m.Android.IsSend}, "listed row %d", i)
		}
	})
}
