package messagecenter_test

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// unreadableTime is a time value another program can store in dialect
// d's DATETIME columns that the store cannot read as a date-time.
func unreadableTime(d sqlstore.Dialect) string {
	switch d {
	case sqlstore.DialectMySQL:
		return "2024-00-00 00:00:00" // a zero month, which sql_mode '' lets in
	case sqlstore.DialectPostgres:
		return "infinity"
	}
	return "not a date"
}

// spoilCenterRow writes unreadableTime into column of center row id, as
// another program would.
func spoilCenterRow(t *testing.T, db *sql.DB, d sqlstore.Dialect, column string, id int64) {
	t.Helper()
	ctx := context.Background()
	conn, err := db.Conn(ctx)
	require.NoError(t, err)
	defer conn.Close()
	query := "UPDATE sys_message_center SET " + column + " = ? WHERE id = ?"
	switch d {
	case sqlstore.DialectMySQL:
		_, err := conn.ExecContext(ctx, "SET SESSION sql_mode = ''")
		require.NoError(t, err)
		defer func() { _, _ = conn.ExecContext(ctx, "SET SESSION sql_mode = DEFAULT") }()
	case sqlstore.DialectPostgres:
		query = "UPDATE sys_message_center SET " + column + " = $1 WHERE id = $2"
	}
	_, err = conn.ExecContext(ctx, query, unreadableTime(d), id)
	require.NoError(t, err)
}

// smsEnv is a Scanner on a migrated store of db whose only notifier, for
// "sms", counts its calls by title in notified.
func smsEnv(t *testing.T, db *sql.DB, d sqlstore.Dialect) (e *env, clk *clock, notified map[string]int) {
	t.Helper()
	clk = &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	store, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: clk.Now})
	require.NoError(t, err)
	require.NoError(t, store.Migrate(t.Context()))
	var mu sync.Mutex
	notified = map[string]int{}
	sms := messagecenter.NotifierFunc(func(_ context.Context, m registry.CenterMessage, _ []string) (string, error) {
		mu.Lock()
		notified[m.Title]++
		mu.Unlock()
		return "sms#ok", nil
	})
	e = newEnv(t, store, clk, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
		c.BatchSize = 50
	})
	return e, clk, notified
}

// TestUnreadableRowFailsAlone: a center row another program wrote with a
// time the store cannot read fails alone, with a remark naming the column,
// and every row around it is handled in the same pass. On MySQL this holds
// whether the DSN has parseTime or not.
func TestUnreadableRowFailsAlone(t *testing.T) {
	type target struct {
		name    string
		dialect sqlstore.Dialect
		open    func(t *testing.T) *sql.DB
	}
	var targets []target
	for _, d := range dbtest.Dialects() {
		targets = append(targets, target{string(d), d, func(t *testing.T) *sql.DB { db, _ := dbtest.Open(t, d); return db }})
	}
	targets = append(targets, target{"mysql-parseTime", sqlstore.DialectMySQL, func(t *testing.T) *sql.DB {
		_, dsn := dbtest.Open(t, sqlstore.DialectMySQL)
		cfg, err := mysql.ParseDSN(dsn)
		require.NoError(t, err)
		cfg.ParseTime = true
		return dbtest.OpenPool(t, sqlstore.DialectMySQL, cfg.FormatDSN())
	}})
	for _, tg := range targets {
		t.Run(tg.name, func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, tg.dialect)
			t.Parallel()
			ctx := context.Background()
			db := tg.open(t)
			e, _, notified := smsEnv(t, db, tg.dialect)

			// A claim replaces lease_until and updated_at: rows with those
			// unreadable are sent like the others.
			failing := []string{"send_at", "next_attempt_at", "created_at"}
			replaced := []string{"lease_until", "updated_at"}
			bad := map[string]int64{}
			var good []int64
			for _, col := range append(append([]string{}, failing...), replaced...) {
				good = append(good, e.enqueue(t, registry.CenterMessage{Title: "good before " + col, Content: "c", NotifyMode: "sms", Receivers: "A01"}))
				id := e.enqueue(t, registry.CenterMessage{Title: "bad " + col, Content: "c", NotifyMode: "sms", Receivers: "A01"})
				spoilCenterRow(t, db, tg.dialect, col, id)
				bad[col] = id
			}
			good = append(good, e.enqueue(t, registry.CenterMessage{Title: "good last", Content: "c", NotifyMode: "sms", Receivers: "A01"}))

			rep, err := e.scanner.RunOnce(ctx)
			require.NoError(t, err)
			assert.Equal(t, messagecenter.Report{Claimed: len(good) + len(bad), Sent: len(good) + len(replaced), Failed: len(failing)}, rep)

			for _, id := range good {
				assert.Equal(t, registry.SendStateSent, e.row(t, id).SendState, "good row %d", id)
			}
			for _, col := range failing {
				row := e.row(t, bad[col])
				assert.Equal(t, registry.SendStateFailed, row.SendState, col)
				assert.Regexp(t, "^unreadable row: "+col+`: cannot read "`+regexp.QuoteMeta(unreadableTime(tg.dialect))+`(\.0+)?" as a date-time$`,
					row.Remark, col)
				assert.Zero(t, notified["bad "+col], "no notifier call for an unreadable row")
			}
			for _, col := range replaced {
				row := e.row(t, bad[col])
				assert.Equal(t, registry.SendStateSent, row.SendState, col)
				assert.Empty(t, row.Unreadable, col)
			}
			outcomes := map[int64]messagecenter.Outcome{}
			for _, r := range e.results {
				outcomes[r.ID] = r.Outcome
			}
			for _, col := range failing {
				assert.Equal(t, messagecenter.OutcomeFailed, outcomes[bad[col]], col)
			}
		})
	}
}

// TestOtherProgramsCountsAndLevels: attempts and notify_level values
// another program wrote, outside the INT column's use or no number at all,
// never stop the queue. A count below zero or at the INT maximum is
// claimed and handled (it used to fail the claim of every row on MySQL and
// PostgreSQL, or leave the row unfinishable); a value that is no whole
// number (SQLite keeps text and fractions in any column) fails its row
// alone, with the reason, and every row around it is sent in the same
// pass.
func TestOtherProgramsCountsAndLevels(t *testing.T) {
	type spoil struct {
		title, column, value string
		sqliteOnly           bool
		state                int    // the row's send_state after the pass
		attempts             int    // and its attempts
		remark               string // and its remark, a regexp
	}
	spoils := []spoil{
		{title: "negative count", column: "attempts", value: "-5", state: registry.SendStateSent, attempts: 1},
		{title: "largest count", column: "attempts", value: "2147483647", state: registry.SendStateSent, attempts: math.MaxInt32},
		{title: "text count", column: "attempts", value: "'many'", sqliteOnly: true, state: registry.SendStateSent, attempts: math.MaxInt32},
		{title: "fraction count", column: "attempts", value: "2.5", sqliteOnly: true, state: registry.SendStateFailed,
			remark: `^unreadable row: attempts: cannot read 3\.5 \(float64\) as an integer$`},
		{title: "text level", column: "notify_level", value: "'high'", sqliteOnly: true, state: registry.SendStateFailed,
			attempts: 1, remark: `^unreadable row: notify_level: cannot read "high" as an integer$`},
		{title: "fraction level", column: "notify_level", value: "1.5", sqliteOnly: true, state: registry.SendStateFailed,
			attempts: 1, remark: `^unreadable row: notify_level: cannot read 1\.5 \(float64\) as an integer$`},
	}
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			ctx := context.Background()
			db, _ := dbtest.Open(t, d)
			e, clk, notified := smsEnv(t, db, d)
			var good []int64
			bad := map[string]int64{}
			var used []spoil
			for _, sp := range spoils {
				if sp.sqliteOnly && d != sqlstore.DialectSQLite {
					continue
				}
				used = append(used, sp)
				good = append(good, e.enqueue(t, registry.CenterMessage{Title: "good before " + sp.title, Content: "c", NotifyMode: "sms", Receivers: "A01"}))
				id := e.enqueue(t, registry.CenterMessage{Title: sp.title, Content: "c", NotifyMode: "sms", Receivers: "A01"})
				_, err := db.ExecContext(ctx, fmt.Sprintf("UPDATE sys_message_center SET %s = %s WHERE id = %d", sp.column, sp.value, id))
				require.NoError(t, err, sp.title)
				bad[sp.title] = id
			}
			good = append(good, e.enqueue(t, registry.CenterMessage{Title: "good last", Content: "c", NotifyMode: "sms", Receivers: "A01"}))

			rep, err := e.scanner.RunOnce(ctx)
			require.NoError(t, err)
			assert.Equal(t, len(good)+len(used), rep.Claimed)
			assert.Zero(t, rep.Lost+rep.Released+rep.Rescheduled, "every row is finished in the pass")

			for _, id := range good {
				assert.Equal(t, registry.SendStateSent, e.row(t, id).SendState, "good row %d", id)
			}
			for _, sp := range used {
				row := e.row(t, bad[sp.title])
				assert.Equal(t, sp.state, row.SendState, sp.title)
				assert.Equal(t, sp.attempts, row.Attempts, sp.title)
				assert.Empty(t, row.ClaimToken, sp.title)
				want := 1
				if sp.remark != "" {
					assert.Regexp(t, sp.remark, row.Remark, sp.title)
					want = 0
				}
				assert.Equal(t, want, notified[sp.title], "%s: notified", sp.title)
			}

			// A later pass finds nothing left to do: no row comes back.
			clk.Advance(time.Hour)
			rep, err = e.scanner.RunOnce(ctx)
			require.NoError(t, err)
			assert.Zero(t, rep.Claimed)
		})
	}
}

// TestABlankOrTextSendStateOnSQLite: SQLite keeps text in send_state. A
// blank one, like NULL, is no state: the row is sent. Other text is no
// state of ours: the row is left alone, and it fails neither the reads of
// it nor the listing of the rows around it.
func TestABlankOrTextSendStateOnSQLite(t *testing.T) {
	db, _ := dbtest.Open(t, sqlstore.DialectSQLite)
	e, _, notified := smsEnv(t, db, sqlstore.DialectSQLite)
	ids := map[string]int64{}
	for _, title := range []string{"blank", "text", "good"} {
		ids[title] = e.enqueue(t, registry.CenterMessage{Title: title, Content: "c", NotifyMode: "sms", Receivers: "138"})
	}
	_, err := db.ExecContext(t.Context(), "UPDATE sys_message_center SET send_state = '' WHERE id = ?", ids["blank"])
	require.NoError(t, err)
	_, err = db.ExecContext(t.Context(), "UPDATE sys_message_center SET send_state = 'x' WHERE id = ?", ids["text"])
	require.NoError(t, err)

	_, err = e.scanner.RunOnce(t.Context())
	require.NoError(t, err)
	assert.Equal(t, map[string]int{"blank": 1, "good": 1}, notified)
	assert.Equal(t, registry.SendStateSent, e.row(t, ids["blank"]).SendState)
	text := e.row(t, ids["text"])
	assert.Contains(t, text.Unreadable, "send_state")
	rows, err := e.store.(*sqlstore.Store).ListCenterMessages(t.Context(), 0, 10)
	require.NoError(t, err, "the listing reads past the odd row")
	assert.Len(t, rows, 3)
}
