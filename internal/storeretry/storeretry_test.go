package storeretry

import (
	"context"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"net"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/registry"
)

func TestTransient(t *testing.T) {
	for _, tt := range []struct {
		err  error
		want bool
	}{
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, true},
		{fmt.Errorf("exec: %w", driver.ErrBadConn), true},
		{context.DeadlineExceeded, true},
		{syscall.ECONNREFUSED, true},
		{syscall.EPIPE, true},
		{errors.New("Error 1053 (08S01): Server shutdown in progress"), true},
		{errors.New("duplicate key"), false},
		{registry.ErrClaimLost, false},
		{context.Canceled, false},
	} {
		assert.Equal(t, tt.want, Transient(tt.err), "%v", tt.err)
	}
	assert.True(t, FateUnknown(fmt.Errorf("write: %w", context.DeadlineExceeded)))
	assert.True(t, FateUnknown(fmt.Errorf("%w: %w", registry.ErrCommit, io.ErrUnexpectedEOF)), "cut while committing")
	assert.False(t, FateUnknown(io.ErrUnexpectedEOF), "cut before the commit")
	// PostgreSQL ending the session (pg_terminate_backend) answers the
	// commit with 57P01; MariaDB's KILL with a connection the driver
	// finds invalid.
	assert.True(t, FateUnknown(fmt.Errorf("%w: %w", registry.ErrCommit, sqlState("57P01"))), "session ended at the commit")
	assert.True(t, FateUnknown(fmt.Errorf("%w: %w", registry.ErrCommit, errors.New("invalid connection"))))
	assert.False(t, FateUnknown(fmt.Errorf("%w: %w", registry.ErrCommit, sqlState("40001"))), "a serialization failure rolled back")
	assert.False(t, FateUnknown(sqlState("57P01")), "a session ended before the commit")
}

// sqlState is a driver error with a SQLSTATE, as pgx reports one.
type sqlState string

func (s sqlState) Error() string    { return "ERROR: (SQLSTATE " + string(s) + ")" }
func (s sqlState) SQLState() string { return string(s) }

// tries is a write that fails with errs in turn, then succeeds, and
// counts its calls.
type tries struct {
	errs  []error
	calls int
}

func (w *tries) write(context.Context) error {
	w.calls++
	if w.calls <= len(w.errs) {
		return w.errs[w.calls-1]
	}
	return nil
}

func plain(budget time.Duration) Write {
	return Write{
		TryCtx: func(ctx context.Context) (context.Context, context.CancelFunc) { return context.WithCancel(ctx) },
		Budget: func(context.Context) time.Duration { return budget },
	}
}

func TestDo(t *testing.T) {
	reset := &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	t.Run("transient errors are tried again", func(t *testing.T) {
		w := &tries{errs: []error{reset, reset}}
		var retried []time.Duration
		r := plain(time.Minute)
		r.Retrying = func(try int, wait time.Duration, err error) {
			assert.Equal(t, len(retried)+1, try)
			assert.Equal(t, reset, err)
			retried = append(retried, wait)
		}
		n, _, err := r.Do(t.Context(), w.write)
		assert.NoError(t, err)
		assert.Equal(t, 3, n)
		assert.Equal(t, []time.Duration{First, 2 * First}, retried, "backoff doubles")
	})
	t.Run("an error that will not pass is returned at once", func(t *testing.T) {
		boom := errors.New("boom")
		w := &tries{errs: []error{boom}}
		n, _, err := plain(time.Minute).Do(t.Context(), w.write)
		assert.Equal(t, boom, err)
		assert.Equal(t, 1, n)
	})
	t.Run("the budget ends the retries", func(t *testing.T) {
		w := &tries{errs: []error{reset, reset, reset, reset}}
		n, _, err := plain(First+First/2).Do(t.Context(), w.write) // room for the first wait, not the second
		assert.Equal(t, reset, err)
		assert.Equal(t, 2, n)
	})
	t.Run("the budget is asked with ctx before each retry", func(t *testing.T) {
		ctx, cancel := context.WithCancel(t.Context())
		w := &tries{errs: []error{reset, reset, reset}}
		r := plain(0)
		r.Budget = func(ctx context.Context) time.Duration {
			if ctx.Err() != nil {
				return 0 // stopped: no more retries
			}
			return time.Minute
		}
		r.Retrying = func(int, time.Duration, error) { cancel() }
		n, _, err := r.Do(ctx, w.write)
		assert.Equal(t, reset, err)
		assert.Equal(t, 1, n, "ctx ended during the wait, and the budget with it: no retry")
	})
	t.Run("settled takes an error as success, told whether an earlier try's fate is unknown", func(t *testing.T) {
		var seen []bool
		w := &tries{errs: []error{context.DeadlineExceeded, registry.ErrClaimLost}}
		r := plain(time.Minute)
		r.Settled = func(err error, fateUnknown bool) bool {
			seen = append(seen, fateUnknown)
			return fateUnknown && errors.Is(err, registry.ErrClaimLost)
		}
		n, settled, err := r.Do(t.Context(), w.write)
		assert.NoError(t, err)
		assert.True(t, settled)
		assert.Equal(t, 2, n)
		assert.Equal(t, []bool{false, true}, seen)

		w = &tries{errs: []error{reset, registry.ErrClaimLost}}
		n, settled, err = r.Do(t.Context(), w.write)
		assert.False(t, settled)
		assert.ErrorIs(t, err, registry.ErrClaimLost, "a reset before the statement: the claim was lost to another")
		assert.Equal(t, 2, n)
	})
	t.Run("each try gets its own context", func(t *testing.T) {
		type key struct{}
		ctx := context.WithValue(t.Context(), key{}, "v")
		r := plain(time.Minute)
		made := 0
		r.TryCtx = func(ctx context.Context) (context.Context, context.CancelFunc) {
			made++
			return context.WithTimeout(context.WithoutCancel(ctx), time.Second)
		}
		w := &tries{errs: []error{reset}}
		_, _, err := r.Do(ctx, func(tctx context.Context) error {
			assert.Equal(t, "v", tctx.Value(key{}))
			_, ok := tctx.Deadline()
			assert.True(t, ok)
			return w.write(tctx)
		})
		assert.NoError(t, err)
		assert.Equal(t, 2, made)
	})
}

// TestDoKeepsToAShrunkBudget: when ctx ends during a wait, the budget is
// asked again before the retry: one left with none is not made, and one
// left with a little is cut short to it, so that a stop is not held a
// whole try past its bound (review of 2026-12-06: 19.6 s for a 10 s
// bound).
func TestDoKeepsToAShrunkBudget(t *testing.T) {
	reset := &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}
	for _, tt := range []struct {
		name      string
		stopped   time.Duration // the budget once ctx has ended
		tries     int
		deadlines int // tries with a deadline within the stopped budget
	}{
		{"no budget left", 0, 1, 0},
		{"a little left", First + 50*time.Millisecond, 2, 1},
	} {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithCancel(t.Context())
			r := plain(0)
			r.TryCtx = func(ctx context.Context) (context.Context, context.CancelFunc) {
				return context.WithTimeout(context.WithoutCancel(ctx), time.Hour)
			}
			r.Budget = func(ctx context.Context) time.Duration {
				if ctx.Err() != nil {
					return tt.stopped
				}
				return time.Hour
			}
			r.Retrying = func(int, time.Duration, error) { cancel() } // the stop comes during the wait
			tries, deadlines := 0, 0
			n, _, err := r.Do(ctx, func(tctx context.Context) error {
				tries++
				if d, ok := tctx.Deadline(); ok && time.Until(d) <= tt.stopped {
					deadlines++
				}
				return reset
			})
			assert.Equal(t, reset, err)
			assert.Equal(t, tt.tries, n)
			assert.Equal(t, tt.tries, tries)
			assert.Equal(t, tt.deadlines, deadlines)
		})
	}
}
