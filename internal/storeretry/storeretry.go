// Package storeretry retries a store write whose failure would make work
// that already had effects elsewhere happen twice: the outcome of a
// vendor call (push.Service) or of a notifier's call (messagecenter). Such
// a write is tried again while the claim it writes under still holds,
// when it failed for a reason that may pass (Transient).
package storeretry

import (
	"context"
	"database/sql/driver"
	"errors"
	"net"
	"syscall"
	"time"

	"github.com/tuisong/push/internal/sqlerr"
	"github.com/tuisong/push/registry"
)

// Bounds of the wait between tries, doubled from First up to Max.
const (
	First = 100 * time.Millisecond
	Max   = 2 * time.Second
)

// Transient reports whether a store call failed for a reason that may
// pass: the connection was refused, reset or lost (a database restarting,
// a network blip, a failover), the call timed out (a database hung for a
// moment), or the database said it cannot take calls for now (shutting
// down, starting up, out of connections: sqlerr.Unavailable).
func Transient(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE) ||
		sqlerr.Unavailable(err)
}

// FateUnknown reports whether a try that failed with err may have
// written all the same: it timed out, or its commit (registry.ErrCommit)
// failed as the session ended: the connection broke, or the server ended
// the session (PostgreSQL's 57P01 of pg_terminate_backend, a failover,
// sqlerr.Unavailable). Taking such a commit as unknown costs nothing when
// it did not land: the retry finds the claim still held and writes.
func FateUnknown(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || (errors.Is(err, registry.ErrCommit) && sqlerr.Unavailable(err))
}

// Write is one write retried.
type Write struct {
	// TryCtx gives each try its context, derived from Do's ctx (its own
	// timeout, and ctx's values without its cancellation).
	TryCtx func(ctx context.Context) (context.Context, context.CancelFunc)
	// Budget is how long after the first try began a retry may still
	// begin its wait, asked again before each retry with Do's ctx (so
	// that it may shrink once ctx has ended).
	Budget func(ctx context.Context) time.Duration
	// Settled, when set, may take a try's error as success; fateUnknown
	// says that an earlier try may have written (FateUnknown).
	Settled func(err error, fateUnknown bool) bool
	// Retrying, when set, is told of each retry before its wait.
	Retrying func(try int, wait time.Duration, err error)
}

// Do runs write until it succeeds, Settled takes its error as success,
// it fails for a reason that will not pass, or the budget ends. It
// returns how many tries it made, whether Settled took the last one's
// error as success, and the last try's error (nil when write succeeded
// or its error was settled). The waits between tries are
// not cut short by ctx: Budget already is. A retry ends with the budget,
// asked again after the wait: once ctx has ended and the budget shrunk, a
// retry is not begun, or is cut short, rather than run a whole try past
// it.
func (w Write) Do(ctx context.Context, write func(context.Context) error) (tries int, settled bool, err error) {
	start := time.Now()
	wait, unknown := First, false
	var left time.Duration // of the budget, for a retry; 0 for the first try
	for try := 1; ; try++ {
		tctx, cancel := w.TryCtx(ctx)
		if left > 0 {
			var cancelLeft context.CancelFunc
			tctx, cancelLeft = context.WithTimeout(tctx, left)
			cancelTry := cancel
			cancel = func() { cancelLeft(); cancelTry() }
		}
		err := write(tctx)
		cancel()
		switch {
		case err == nil:
			return try, false, nil
		case w.Settled != nil && w.Settled(err, unknown):
			return try, true, nil
		case !Transient(err):
			return try, false, err
		}
		unknown = unknown || FateUnknown(err)
		if time.Since(start)+wait > w.Budget(ctx) {
			return try, false, err
		}
		if w.Retrying != nil {
			w.Retrying(try, wait, err)
		}
		t := time.NewTimer(wait)
		<-t.C
		wait = min(2*wait, Max)
		// ctx may have ended during the wait, shrinking the budget.
		if left = w.Budget(ctx) - time.Since(start); left <= 0 {
			return try, false, err
		}
	}
}
