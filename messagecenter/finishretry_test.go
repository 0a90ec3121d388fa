package messagecenter_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/registry/sqlstore"
)

// flakyFinishStore fails the first failures FinishCenterMessage calls
// with err; with landed, each failed call writes first (the commit landed,
// its answer was lost).
type flakyFinishStore struct {
	registry.Store
	mu       sync.Mutex
	failures int
	err      error
	landed   bool
	calls    int
}

func (s *flakyFinishStore) FinishCenterMessage(ctx context.Context, m *registry.CenterMessage) error {
	s.mu.Lock()
	s.calls++
	fail := s.failures > 0
	if fail {
		s.failures--
	}
	s.mu.Unlock()
	if !fail {
		return s.Store.FinishCenterMessage(ctx, m)
	}
	if s.landed {
		if err := s.Store.FinishCenterMessage(ctx, m); err != nil {
			return err
		}
	}
	return s.err
}

// resetErr is a connection reset before the statement reached the server.
var resetErr = &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}

// TestNotifierRowOutcomeWriteIsRetried: an sms row whose notifier sent it
// but whose outcome write failed on a connection that broke (once, twice)
// is recorded by a retry: sent once, and a later pass, past the lease,
// does not send it again. An sms row has no dedupe key: before the
// retries, it was sent twice (review of 2026-12-06). A write whose commit
// landed but whose answer was lost (a timeout) is taken as recorded when
// the retry finds the claim released; a refusal that will not pass is not
// retried.
func TestNotifierRowOutcomeWriteIsRetried(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			for _, tt := range []struct {
				name      string
				failures  int
				err       error
				landed    bool
				calls     int
				outcome   messagecenter.Outcome
				sentState int
			}{
				{"a reset", 1, resetErr, false, 2, messagecenter.OutcomeSent, registry.SendStateSent},
				{"two resets", 2, resetErr, false, 3, messagecenter.OutcomeSent, registry.SendStateSent},
				{"an answer lost after the commit", 1, context.DeadlineExceeded, true, 2, messagecenter.OutcomeSent, registry.SendStateSent},
				{"a refusal", 1, errors.New("refused for good"), false, 1, messagecenter.OutcomeLost, registry.SendStateUnsent},
			} {
				t.Run(tt.name, func(t *testing.T) {
					db, _ := dbtest.Open(t, d)
					clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
					store, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: clk.Now})
					require.NoError(t, err)
					require.NoError(t, store.Migrate(t.Context()))
					flaky := &flakyFinishStore{Store: store, failures: tt.failures, err: tt.err, landed: tt.landed}
					var mu sync.Mutex
					sent := 0
					sms := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
						mu.Lock()
						sent++
						mu.Unlock()
						return "sms#ok", nil
					})
					e := newEnv(t, flaky, clk, func(c *messagecenter.Config) {
						c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
					})
					id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "验证码 1234", NotifyMode: "sms", Receivers: "13800000000"})

					_, err = e.scanner.RunOnce(t.Context())
					require.NoError(t, err)
					require.Len(t, e.results, 1)
					assert.Equal(t, tt.outcome, e.results[0].Outcome)
					assert.Equal(t, tt.calls, flaky.calls, "tries of the outcome's write")
					row := e.row(t, id)
					assert.Equal(t, tt.sentState, row.SendState)

					clk.Advance(time.Hour) // past the lease
					_, err = e.scanner.RunOnce(t.Context())
					require.NoError(t, err)
					want := 1
					if tt.outcome == messagecenter.OutcomeLost {
						want = 2 // the write was refused: the row is handled again, as before
					}
					assert.Equal(t, want, sent, "notifier calls")
				})
			}
		})
	}
}

// killSessions terminates, every 10 to 30 ms until stop is called, one
// session of db's database other than its own (a failover, a pooler
// restarting, an operator's KILL), and returns how many it ended. Faster,
// it would be an outage rather than blips: at one kill every 8 ms, on a
// PostgreSQL that ends sessions at once, a transaction of a few
// statements could not finish in the 50 s a delivery's outcome is
// retried, and a delivery whose outcome was never written is sent again
// after its lease, as documented.
//
// The pace follows the host's speed: each wait is also at least
// killPace times as long as listing the sessions took lately. On a
// loaded host (CI running every package at once) every transaction
// takes longer, and a wall-clock pace made for a quiet one turned the
// blips into an outage (682 kills in a run of 116 s, where a quiet host
// sees 40 to 110 in 2 to 12 s).
func killSessions(t *testing.T, d sqlstore.Dialect, db *sql.DB) (stop func() int) {
	t.Helper()
	list := "SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()"
	kill := "SELECT pg_terminate_backend($1)"
	if d == sqlstore.DialectMySQL {
		list = "SELECT id FROM information_schema.processlist WHERE db = DATABASE() AND id <> CONNECTION_ID()"
		kill = "KILL ?"
	}
	conn, err := db.Conn(t.Context())
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan int)
	go func() {
		defer conn.Close()
		killed := 0
		var took time.Duration // listing the sessions, smoothed
		for i := 0; ctx.Err() == nil; i++ {
			time.Sleep(max(time.Duration(10+i%21)*time.Millisecond, killPace*took))
			var ids []int64
			start := time.Now()
			rows, err := conn.QueryContext(ctx, list)
			if err != nil {
				continue
			}
			took = (3*took + time.Since(start)) / 4
			for rows.Next() {
				var id int64
				if rows.Scan(&id) == nil {
					ids = append(ids, id)
				}
			}
			rows.Close()
			if len(ids) > 0 {
				if _, err := conn.ExecContext(ctx, kill, ids[i%len(ids)]); err == nil {
					killed++
				}
			}
		}
		done <- killed
	}()
	return func() int { cancel(); return <-done }
}

// killPace is how many times as long as listing the sessions a kill
// waits at least (see killSessions).
const killPace = 5

// countAfterKills runs a COUNT(*) query on db, whose idle connections
// killSessions may have ended: such a connection fails its next
// statement, so the query is tried up to three times.
func countAfterKills(t *testing.T, db *sql.DB, q string) int {
	t.Helper()
	var n int
	var err error
	for range 3 {
		if err = db.QueryRowContext(t.Context(), q).Scan(&n); err == nil {
			return n
		}
	}
	require.NoError(t, err, q)
	return n
}

// TestNotifierRowsUnderSessionKills: two Scanners on one MariaDB or
// PostgreSQL database drain 300 sms rows while their database sessions
// are killed one after another. Every row is sent, and no message is sent
// twice: each write of an outcome cut by a kill is tried again, and one
// whose commit landed before the kill is taken as recorded. Before the
// Scanner retried these writes, 6 to 24 rows a run were sent twice.
func TestNotifierRowsUnderSessionKills(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.DialectMySQL, sqlstore.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			const rows = 300
			admin, dsn := dbtest.Open(t, d)
			clk := &clock{t: time.Now().Truncate(time.Second)}
			st, err := sqlstore.New(admin, sqlstore.Options{Dialect: d, Now: clk.Now})
			require.NoError(t, err)
			require.NoError(t, st.Migrate(t.Context()))
			var mu sync.Mutex
			sent := map[int64]int{}
			sms := messagecenter.NotifierFunc(func(_ context.Context, m registry.CenterMessage, _ []string) (string, error) {
				time.Sleep(2 * time.Millisecond)
				mu.Lock()
				sent[m.ID]++
				mu.Unlock()
				return "sms#ok", nil
			})
			var scanners []*messagecenter.Scanner
			for range 2 {
				store, err := sqlstore.New(dbtest.OpenPool(t, d, dsn), sqlstore.Options{Dialect: d, Now: clk.Now})
				require.NoError(t, err)
				e := newEnv(t, store, clk, func(c *messagecenter.Config) {
					c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
					c.BatchSize = 20
				})
				scanners = append(scanners, e.scanner)
			}
			for i := range rows {
				m := registry.CenterMessage{Title: "t", Content: fmt.Sprint("验证码 ", i), NotifyMode: "sms", Receivers: fmt.Sprint(13800001000 + i)}
				require.NoError(t, st.EnqueueCenterMessage(t.Context(), &m))
			}
			stop := killSessions(t, d, admin)
			for range 8 {
				var wg sync.WaitGroup
				for _, sc := range scanners {
					wg.Go(func() { _, _ = sc.RunOnce(context.Background()) })
				}
				wg.Wait()
				clk.Advance(30 * time.Minute) // past every lease
			}
			killed := stop()
			var done int
			for range 8 {
				for _, sc := range scanners {
					// A connection killed while idle in the pool fails its
					// next statement once: that pass fails, the next goes on.
					if _, err := sc.RunOnce(t.Context()); err != nil {
						t.Logf("pass: %v", err)
					}
				}
				done = countAfterKills(t, admin, "SELECT COUNT(*) FROM sys_message_center WHERE send_state = 1")
				if done == rows {
					break
				}
				clk.Advance(30 * time.Minute)
			}
			mu.Lock()
			defer mu.Unlock()
			var twice []int64
			for id, n := range sent {
				if n > 1 {
					twice = append(twice, id)
				}
			}
			t.Logf("%d sessions killed", killed)
			assert.Positive(t, killed, "sessions killed")
			assert.Equal(t, rows, done, "rows sent")
			assert.Len(t, sent, rows, "rows notified")
			assert.Empty(t, twice, "rows notified more than once")
		})
	}
}

// downStore is a store whose outcome writes all fail on a broken
// connection (the database is down) and whose claim, armed with its
// caller's cancel, cancels it: the Scanner is stopping.
type downStore struct {
	registry.Store
	mu     sync.Mutex
	cancel context.CancelFunc
	calls  int
}

func (s *downStore) ClaimCenterMessages(ctx context.Context, p registry.ClaimParams) ([]registry.CenterMessage, error) {
	rows, err := s.Store.ClaimCenterMessages(ctx, p)
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
	}
	s.mu.Unlock()
	return rows, err
}

// stoppedPass runs a pass of e's Scanner that its claim, on s, stops.
func (s *downStore) stoppedPass(t *testing.T, e *env) messagecenter.Report {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	s.mu.Lock()
	s.cancel = cancel
	s.mu.Unlock()
	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	return rep
}

func (s *downStore) FinishCenterMessage(context.Context, *registry.CenterMessage) error {
	s.mu.Lock()
	s.calls++
	s.mu.Unlock()
	return resetErr
}

// TestRowsGivenBackWhileStoppingAreWrittenOnce: a Scanner stopped with the
// database down gives back the rows it claimed but did not try with one
// write each, push and sms alike: no work was done for them, so the
// retries a notifier's outcome gets would only hold up the stop (about 9 s
// a row, one row after another; review of 2026-12-06).
func TestRowsGivenBackWhileStoppingAreWrittenOnce(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	st := &downStore{Store: ms}
	sms := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
		t.Error("a notifier was called while stopping")
		return "", nil
	})
	e := newEnv(t, st, clk, func(c *messagecenter.Config) {
		c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
		c.BatchSize, c.Concurrency = 12, 2
	})
	e.register(t, "u1", "d1", "android", "atok")
	for i := range 6 {
		e.enqueue(t, registry.CenterMessage{Title: "t", Content: fmt.Sprint("c", i), NotifyMode: "push", Receivers: "u1"})
		e.enqueue(t, registry.CenterMessage{Title: "t", Content: fmt.Sprint("c", i), NotifyMode: "sms", Receivers: "13800000000"})
	}
	rep := st.stoppedPass(t, e)
	assert.Equal(t, 12, rep.Claimed)
	assert.Equal(t, 12, st.calls, "one write a row")
	assert.Zero(t, e.mock.Calls(), "nothing pushed")
}

// hangingStore is downStore whose outcome writes hang (a database that
// takes connections and answers nothing) until all rows of the pass have
// begun theirs, or a second has passed: it counts how many were in flight
// at once.
type hangingStore struct {
	downStore
	rows    int
	arrived chan struct{}
	inFlight,
	most int
}

func (s *hangingStore) FinishCenterMessage(context.Context, *registry.CenterMessage) error {
	s.mu.Lock()
	s.calls++
	s.inFlight++
	s.most = max(s.most, s.inFlight)
	if s.calls == s.rows {
		close(s.arrived)
	}
	s.mu.Unlock()
	select {
	case <-s.arrived:
	case <-time.After(time.Second):
	}
	s.mu.Lock()
	s.inFlight--
	s.mu.Unlock()
	return context.DeadlineExceeded
}

// TestRowsGivenBackWhileStoppingAreWrittenTogether: the push rows a
// stopping Scanner gives back untried are written at once, not one after
// another: against a database that hangs, each write waits out its
// timeout, and one after another they held the stop that long a row.
func TestRowsGivenBackWhileStoppingAreWrittenTogether(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	const rows = 5
	st := &hangingStore{downStore: downStore{Store: ms}, rows: rows, arrived: make(chan struct{})}
	e := newEnv(t, st, clk, func(c *messagecenter.Config) { c.BatchSize = rows })
	e.register(t, "u1", "d1", "android", "atok")
	for i := range rows {
		e.enqueue(t, registry.CenterMessage{Title: "t", Content: fmt.Sprint("c", i), NotifyMode: "push", Receivers: "u1"})
	}
	rep := st.stoppedPass(t, e)
	assert.Equal(t, rows, rep.Claimed)
	assert.Equal(t, rows, st.calls, "one write a row")
	assert.Equal(t, rows, st.most, "every row's write in flight at once")
	assert.Zero(t, e.mock.Calls())
}

// TestPushRowOutcomeWriteSurvivesABlip: a push row whose outcome write
// fails on a connection that broke is written again a tenth of a second
// later, so that a blip does not leave it claimed, and its push waiting,
// for a whole lease (an outage trial saw a row whose push failed on the
// blip pushed five minutes later). A database that stays down costs the
// row that one retry, and a refusal that will not pass is not retried.
func TestPushRowOutcomeWriteSurvivesABlip(t *testing.T) {
	for _, tt := range []struct {
		name     string
		failures int
		err      error
		outcome  messagecenter.Outcome
		state    int
	}{
		{"a reset", 1, resetErr, messagecenter.OutcomeSent, registry.SendStateSent},
		{"down", 1000, resetErr, messagecenter.OutcomeLost, registry.SendStateUnsent},
		{"a refusal", 1, errors.New("refused for good"), messagecenter.OutcomeLost, registry.SendStateUnsent},
	} {
		t.Run(tt.name, func(t *testing.T) {
			clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
			ms, err := memstore.New(memstore.Config{Now: clk.Now})
			require.NoError(t, err)
			flaky := &flakyFinishStore{Store: ms, failures: tt.failures, err: tt.err}
			e := newEnv(t, flaky, clk, nil)
			e.register(t, "u1", "d1", "android", "atok")
			id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u1"})
			began := time.Now()
			_, err = e.scanner.RunOnce(t.Context())
			require.NoError(t, err)
			took := time.Since(began)
			require.Len(t, e.results, 1)
			assert.Equal(t, tt.outcome, e.results[0].Outcome)
			assert.Equal(t, tt.state, e.row(t, id).SendState)
			assert.Equal(t, 1, e.mock.Calls(), "pushed once")
			switch tt.name {
			case "a reset":
				assert.Equal(t, 2, flaky.calls)
			case "down":
				assert.Equal(t, 2, flaky.calls, "tried once more")
				assert.Less(t, took, 5*time.Second, "an outage costs the row a tenth of a second")
			default:
				assert.Equal(t, 1, flaky.calls)
			}
		})
	}
}

// TestOutagePassTakesLittlePerRow: with the database down for the
// outcome writes, each push row's write is tried twice, a tenth of a
// second apart, so that a pass over a batch costs little (a review
// measured 6.4 s for 500 push rows, and 17 s for 40 rows settled one
// after another, with retries over most of a second).
func TestOutagePassTakesLittlePerRow(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	st := &downStore{Store: ms}
	const rows, conc = 200, 8
	e := newEnv(t, st, clk, func(c *messagecenter.Config) { c.BatchSize, c.Concurrency = rows, conc })
	e.register(t, "u1", "d1", "android", "atok")
	for i := range rows {
		e.enqueue(t, registry.CenterMessage{Title: "t", Content: fmt.Sprint("c", i), NotifyMode: "push", Receivers: "u1"})
	}
	began := time.Now()
	rep, err := e.scanner.RunOnce(t.Context())
	require.NoError(t, err)
	took := time.Since(began)
	assert.Equal(t, rows, rep.Claimed)
	assert.Less(t, took, 5*time.Second, "the pass")
	st.mu.Lock()
	defer st.mu.Unlock()
	assert.Equal(t, 2*rows, st.calls, "one retry a row")
}
