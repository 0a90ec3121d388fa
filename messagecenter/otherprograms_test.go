package messagecenter_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// eachDialect runs test, in parallel, on each dialect whose database
// this run has.
func eachDialect(t *testing.T, test func(t *testing.T, d sqlstore.Dialect)) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			test(t, d)
		})
	}
}

// sqlEnv is a Scanner with the Mock provider on a migrated store of a
// fresh database of dialect d (its Config changed by mod, when set), and a
// function that runs a statement on that database.
func sqlEnv(t *testing.T, d sqlstore.Dialect, mod func(*messagecenter.Config)) (*env, func(query string, args ...any)) {
	t.Helper()
	db, _ := dbtest.Open(t, d)
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	store, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: clk.Now})
	require.NoError(t, err)
	require.NoError(t, store.Migrate(t.Context()))
	e := newEnv(t, store, clk, mod)
	exec := func(query string, args ...any) {
		t.Helper()
		_, err := db.ExecContext(context.Background(), query, args...)
		require.NoError(t, err, query)
	}
	return e, exec
}

// TestReusedIDWithTheSameCreatedAtIsANewPush: another program writes the
// same created_at on every row (a constant, or MySQL's zero date read as
// no time) and reuses an id after deleting the row. The new row is pushed,
// not taken for the old one and marked sent with the old push.
func TestReusedIDWithTheSameCreatedAtIsANewPush(t *testing.T) {
	eachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		e, exec := sqlEnv(t, d, nil)
		e.register(t, "u1", "d1", "android", "tok-1")
		insert := func(title string) {
			exec(fmt.Sprintf(`INSERT INTO sys_message_center (id, title, content, notify_mode, receivers, send_state, created_at, updated_at)
				VALUES (7, '%s', 'c', 'push', 'u1', 0, '2001-01-01 00:00:00', '2001-01-01 00:00:00')`, title))
		}
		insert("first message")
		rep, err := e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, rep.Sent)
		first := e.row(t, 7).SendResult

		exec("DELETE FROM sys_message_center WHERE id = 7")
		insert("SECOND message")
		rep, err = e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		require.Equal(t, 1, rep.Sent)
		row := e.row(t, 7)
		assert.Equal(t, registry.SendStateSent, row.SendState)
		assert.NotEqual(t, first, row.SendResult, "a push of its own")
		reqs := e.mock.Requests()
		require.Len(t, reqs, 2, "the second message reached the vendor")
		assert.Equal(t, "SECOND message", reqs[1].Notification.Title)
	})
}

// TestRequeuedRowOfAFailedPushSaysWhy: a push row whose every delivery
// failed for good fails with the vendor's reason. Re-queued unchanged by
// another program, it finds its push (no second send) and fails again
// with the same reason, read from the push's record.
func TestRequeuedRowOfAFailedPushSaysWhy(t *testing.T) {
	eachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		e, exec := sqlEnv(t, d, nil)
		e.register(t, "u1", "d1", "android", "tok-1")
		id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})
		e.mock.FailNext(1, &provider.Error{Provider: "umeng", Op: "send", Kind: provider.Auth, Code: "2015", Message: "bad_app_key"})
		_, err := e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		row := e.row(t, id)
		require.Equal(t, registry.SendStateFailed, row.SendState)
		require.Contains(t, row.Remark, "bad_app_key")

		exec(fmt.Sprintf("UPDATE sys_message_center SET send_state = 0, remark = NULL, send_result = NULL WHERE id = %d", id))
		_, err = e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		again := e.row(t, id)
		assert.Equal(t, registry.SendStateFailed, again.SendState)
		assert.NotContains(t, again.Remark, "%!")
		assert.Contains(t, again.Remark, "every delivery failed")
		assert.Contains(t, again.Remark, "auth")
		assert.Contains(t, again.Remark, "2015")
		assert.Equal(t, row.SendResult, again.SendResult, "the same push")
		assert.Equal(t, 1, e.mock.Calls(), "not sent again")
	})
}

// TestRowFinishedByAnotherProgramMeanwhileKeepsItsState: while a Scanner
// holds a row, another program cancels it (send_state 2 and its remark).
// The Scanner's finish does not overwrite what that program wrote; the
// row counts as lost to the Scanner, and the other rows are finished.
func TestRowFinishedByAnotherProgramMeanwhileKeepsItsState(t *testing.T) {
	eachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		var exec func(string, ...any)
		var cancelled int64
		sms := messagecenter.NotifierFunc(func(_ context.Context, m registry.CenterMessage, _ []string) (string, error) {
			if m.ID == cancelled {
				exec(fmt.Sprintf("UPDATE sys_message_center SET send_state = 2, remark = 'cancelled by ops' WHERE id = %d", m.ID))
			}
			return "sms#ok", nil
		})
		e, ex := sqlEnv(t, d, func(c *messagecenter.Config) {
			c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
			c.Concurrency = 1
		})
		exec = ex
		var ids []int64
		for i := range 5 {
			ids = append(ids, e.enqueue(t, registry.CenterMessage{Title: fmt.Sprint("t", i), Content: "c", NotifyMode: "sms", Receivers: "138"}))
		}
		cancelled = ids[2]
		rep, err := e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, 4, rep.Sent)
		assert.Equal(t, 1, rep.Lost)
		for _, id := range ids {
			row := e.row(t, id)
			assert.Empty(t, row.ClaimToken, "row %d", id)
			if id == cancelled {
				assert.Equal(t, registry.SendStateFailed, row.SendState, "the other program's state stays")
				assert.Equal(t, "cancelled by ops", row.Remark)
				assert.Empty(t, row.SendResult)
				continue
			}
			assert.Equal(t, registry.SendStateSent, row.SendState, "row %d", id)
		}
	})
}

// TestLeaseWithoutAClaimHoldsNothing: another program wrote a lease_until
// far ahead on rows no Scanner claimed (claim_token NULL or empty), or a
// claim_token with a lease no claim gives (further ahead than
// registry.MaxCenterLease). No Scanner would ever finish them, so they
// are due like any unsent row; a claim's lease within the bound holds.
func TestLeaseWithoutAClaimHoldsNothing(t *testing.T) {
	eachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		e, exec := sqlEnv(t, d, func(c *messagecenter.Config) {
			c.Notifiers = map[string]messagecenter.Notifier{"sms": messagecenter.NotifierFunc(
				func(context.Context, registry.CenterMessage, []string) (string, error) { return "sms#ok", nil })}
		})
		a := e.enqueue(t, registry.CenterMessage{Title: "a", Content: "c", NotifyMode: "sms", Receivers: "138"})
		b := e.enqueue(t, registry.CenterMessage{Title: "b", Content: "c", NotifyMode: "sms", Receivers: "138"})
		forever := e.enqueue(t, registry.CenterMessage{Title: "forever", Content: "c", NotifyMode: "sms", Receivers: "138"})
		held := e.enqueue(t, registry.CenterMessage{Title: "held", Content: "c", NotifyMode: "sms", Receivers: "138"})
		exec(fmt.Sprintf("UPDATE sys_message_center SET lease_until = '2999-12-31 23:59:59', claim_token = NULL WHERE id = %d", a))
		exec(fmt.Sprintf("UPDATE sys_message_center SET lease_until = '2999-12-31 23:59:59', claim_token = '' WHERE id = %d", b))
		exec(fmt.Sprintf("UPDATE sys_message_center SET lease_until = '2999-12-31 23:59:59', claim_token = 'someone' WHERE id = %d", forever))
		// Two hours past the clock sqlEnv's Store reads: another
		// instance's lease, within registry.MaxCenterLease.
		exec(fmt.Sprintf("UPDATE sys_message_center SET lease_until = '2026-11-28 12:00:00', claim_token = 'someone' WHERE id = %d", held))
		rep, err := e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, 3, rep.Sent)
		assert.Equal(t, registry.SendStateSent, e.row(t, a).SendState)
		assert.Equal(t, registry.SendStateSent, e.row(t, b).SendState)
		assert.Equal(t, registry.SendStateSent, e.row(t, forever).SendState, "a lease no claim gives")
		assert.Equal(t, registry.SendStateUnsent, e.row(t, held).SendState, "a claim's lease holds")
	})
}

// behindASlowRow is an env on dialect d whose sms notifier handles one
// row at a time, with n rows enqueued (titles t0, t1, …; their ids in
// ids): the call for the first advances the clock past the Scanner's
// re-check threshold (a slow call) and runs change, as another program
// writing while the other rows wait for their turn. sent lists the titles
// sent; exec runs SQL on the env's database.
func behindASlowRow(t *testing.T, d sqlstore.Dialect, n int, change func(exec func(string, ...any), ids []int64)) (e *env, exec func(string, ...any), ids []int64, sent func() []string) {
	t.Helper()
	var mu sync.Mutex
	var titles []string
	sms := messagecenter.NotifierFunc(func(_ context.Context, m registry.CenterMessage, _ []string) (string, error) {
		mu.Lock()
		titles = append(titles, m.Title)
		mu.Unlock()
		if m.ID == ids[0] {
			e.clk.Advance(2 * time.Second) // past recheckAfter
			change(exec, ids)
		}
		return "sms#ok", nil
	})
	e, exec = sqlEnv(t, d, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
		c.Concurrency = 1
	})
	for i := range n {
		ids = append(ids, e.enqueue(t, registry.CenterMessage{Title: fmt.Sprint("t", i), Content: "c", NotifyMode: "sms", Receivers: "138"}))
	}
	return e, exec, ids, func() []string {
		mu.Lock()
		defer mu.Unlock()
		return slices.Clone(titles)
	}
}

// TestRowChangedWhileItWaitedIsReadAgain: rows wait for their turn behind
// a slow notifier after their claim; meanwhile another program cancels
// one, postpones one and edits one. The cancelled row is not sent and
// keeps its state; the postponed one is given back and sent when due; the
// edited one is given back and sent as it now reads. A row whose turn
// comes at once is not read again.
func TestRowChangedWhileItWaitedIsReadAgain(t *testing.T) {
	eachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := context.Background()
		e, exec, ids, sent := behindASlowRow(t, d, 4, func(exec func(string, ...any), ids []int64) {
			exec(fmt.Sprintf("UPDATE sys_message_center SET send_state = 2, remark = 'cancelled by ops' WHERE id = %d", ids[1]))
			exec(fmt.Sprintf("UPDATE sys_message_center SET send_at = '2026-11-29 10:00:00' WHERE id = %d", ids[2]))
			exec(fmt.Sprintf("UPDATE sys_message_center SET title = 'edited' WHERE id = %d", ids[3]))
		})
		// Written by another program with NULLs and spaces, and not
		// changed while it waits: read again, it is sent, not taken for
		// an edited row.
		exec(`INSERT INTO sys_message_center (title, content, notify_mode, receivers, extra_params_string, push_class, send_state, created_at, updated_at)
			VALUES ('t4', 'c', ' SMS ', '138 ', NULL, NULL, 0, '2026-11-28 09:00:00', '2026-11-28 09:00:00')`)
		rep, err := e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"t0", "t4"}, sent(), "nothing changed was sent from its old copy; the unchanged row was")
		assert.Equal(t, 2, rep.Sent)
		assert.Equal(t, 1, rep.Lost)
		assert.Equal(t, 2, rep.Released)

		cancelled := e.row(t, ids[1])
		assert.Equal(t, registry.SendStateFailed, cancelled.SendState)
		assert.Equal(t, "cancelled by ops", cancelled.Remark)
		assert.Empty(t, cancelled.ClaimToken, "the claim is given back")
		assert.Nil(t, cancelled.LeaseUntil)
		for _, id := range ids[2:] {
			row := e.row(t, id)
			assert.Equal(t, registry.SendStateUnsent, row.SendState)
			assert.Zero(t, row.Attempts, "the attempt is refunded")
			assert.Empty(t, row.ClaimToken)
		}

		_, err = e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"t0", "t4", "edited"}, sent(), "the edited row as it now reads; the postponed one waits")
		e.clk.Advance(24 * time.Hour)
		_, err = e.scanner.RunOnce(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"t0", "t4", "edited", "t2"}, sent())
	})
}

// TestRowGoneClaimedOrReclassedWhileItWaited: as above, the row read
// again after its wait is never sent from its old copy:
//   - deleted by another program: not sent, counted lost (nothing to give
//     back);
//   - claimed by another instance (its claim_token changed): left to it,
//     nothing written, counted lost;
//   - edited (its push_class changed): given back, its attempt refunded,
//     to be sent as it now reads.
func TestRowGoneClaimedOrReclassedWhileItWaited(t *testing.T) {
	for _, tc := range []struct {
		name, change string // change: SQL with the row's id for %d
		check        func(t *testing.T, e *env, rep messagecenter.Report, id int64)
	}{
		{"deleted", "DELETE FROM sys_message_center WHERE id = %d", func(t *testing.T, e *env, rep messagecenter.Report, id int64) {
			assert.Equal(t, 1, rep.Lost, "gone: lost")
			assert.Zero(t, rep.Released)
			_, err := e.store.GetCenterMessage(context.Background(), id)
			assert.ErrorIs(t, err, registry.ErrNotFound)
		}},
		{"claimed by another", "UPDATE sys_message_center SET claim_token = 'another-instance' WHERE id = %d", func(t *testing.T, e *env, rep messagecenter.Report, id int64) {
			assert.Equal(t, 1, rep.Lost, "another instance's now")
			assert.Zero(t, rep.Released)
			row := e.row(t, id)
			assert.Equal(t, registry.SendStateUnsent, row.SendState)
			assert.Equal(t, "another-instance", row.ClaimToken, "the other instance's claim stays")
		}},
		{"class edited", "UPDATE sys_message_center SET push_class = 'marketing' WHERE id = %d", func(t *testing.T, e *env, rep messagecenter.Report, id int64) {
			assert.Equal(t, 1, rep.Released, "edited: given back")
			assert.Zero(t, rep.Lost)
			row := e.row(t, id)
			assert.Equal(t, registry.SendStateUnsent, row.SendState)
			assert.Empty(t, row.ClaimToken, "given back")
			assert.Equal(t, 0, row.Attempts, "its attempt refunded")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			eachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
				e, _, ids, sent := behindASlowRow(t, d, 2, func(exec func(string, ...any), ids []int64) {
					exec(fmt.Sprintf(tc.change, ids[1]))
				})
				rep, err := e.scanner.RunOnce(context.Background())
				require.NoError(t, err)
				assert.Equal(t, []string{"t0"}, sent(), "the changed row is not sent from its old copy")
				assert.Equal(t, 1, rep.Sent)
				tc.check(t, e, rep, ids[1])
			})
		})
	}
}

// TestSendAtSQLiteCannotCompareIsSentWhenDue: SQLite cannot compare a
// send_at such as " 2026-11-28 10:30:00" (a leading space) or
// "2026-11-28 7:30:00" as a time, so the store claims it at once; the
// Scanner reads it and gives it back untried, its attempt refunded, until
// it is due, then sends it.
func TestSendAtSQLiteCannotCompareIsSentWhenDue(t *testing.T) {
	ctx := context.Background()
	e, exec := sqlEnv(t, sqlstore.DialectSQLite, nil)
	e.register(t, "u1", "d1", "android", "tok-1")
	for _, at := range []string{" 2026-11-28 10:30:00", "2026-11-28 9:30:00"} {
		exec(`INSERT INTO sys_message_center (title, content, receivers, notify_mode, send_state, send_at, created_at, updated_at)
			VALUES (?, 'c', 'u1', 'push', 0, ?, '2026-11-28 09:00:00', '2026-11-28 09:00:00')`, at, at)
	}
	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Claimed)
	assert.Equal(t, 1, rep.Sent, "9:30 is past")
	assert.Equal(t, 1, rep.Released, "10:30 is not yet")
	require.Len(t, e.mock.Requests(), 1)
	assert.Equal(t, "2026-11-28 9:30:00", e.mock.Requests()[0].Notification.Title)

	rep, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed, "not claimed again before its send_at")
	e.clk.Advance(29 * time.Minute)
	rep, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Zero(t, rep.Claimed)
	e.clk.Advance(time.Minute)
	rep, err = e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, 1, rep.Sent, "sent at 10:30")
	require.Len(t, e.mock.Requests(), 2)
	var sent int
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, r := range e.results {
		if r.Outcome == messagecenter.OutcomeSent {
			sent++
		}
	}
	assert.Equal(t, 2, sent, "each row sent once")
}

// TestABadReceiverFailsAlone: a receiver another program wrote that can be
// no user_num (longer than the column) is left out and named in the row's
// remark by its place; the other receivers get the push. A row whose every
// receiver is such fails with the reason.
func TestABadReceiverFailsAlone(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			e := newEnv(t, dbtest.NewStore(t, d), nil, nil)
			e.register(t, "g1", "g1-phone", "android", "tok-g1")
			long := strings.Repeat("x", 300)
			mixed := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "g1," + long})
			only := e.enqueue(t, registry.CenterMessage{Title: "t2", Content: "c", NotifyMode: "push", Receivers: long})

			_, err := e.scanner.RunOnce(t.Context())
			require.NoError(t, err)
			row := e.row(t, mixed)
			assert.Equal(t, registry.SendStateSent, row.SendState, row.Remark)
			assert.Contains(t, row.Remark, "1 receiver(s) that can be no user_num, not pushed: #2 (is 300 characters, longer than 255)")
			require.Len(t, e.mock.Requests(), 1)
			assert.Equal(t, []string{"tok-g1"}, e.mock.Requests()[0].Audience.Tokens)
			row = e.row(t, only)
			assert.Equal(t, registry.SendStateFailed, row.SendState)
			assert.Contains(t, row.Remark, "#1 (is 300 characters, longer than 255)")
		})
	}
}
