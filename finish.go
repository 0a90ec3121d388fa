package push

import (
	"context"
	"database/sql/driver"
	"errors"
	"log/slog"
	"net"
	"syscall"
	"time"

	"github.com/tuisong/push/registry"
)

// Bounds of recordSent's retries.
const (
	finishRetryFirst = 100 * time.Millisecond
	finishRetryMax   = 2 * time.Second
)

// recordSent writes the outcome of a delivery that was sent. The vendor
// has done its work; if the outcome is not written, the delivery is sent
// again when its lease runs out and the devices are shown the push twice.
// So a write that failed for a reason that may pass (the database
// unreachable or hung for a moment: transientWrite) is tried again, with
// backoff, while the claim still holds: until WriteTimeout before the
// lease's end. Once ctx is done (the caller left, or the host is
// shutting down) it stops WriteTimeout after its first try, so that a
// drain keeps to DrainTimeout. A retry that finds the claim released
// after a try that timed out reports success: that try's commit landed.
func (s *Service) recordSent(ctx context.Context, d *registry.Delivery) error {
	start := time.Now()
	leaseLeft := s.writeTO
	if d.LeaseUntil != nil {
		leaseLeft = max(d.LeaseUntil.Sub(s.now())-s.writeTO, s.writeTO)
	}
	wait, ambiguous := finishRetryFirst, false
	for try := 1; ; try++ {
		wctx, cancel := s.writeCtx(ctx)
		err := s.store.FinishDelivery(wctx, d)
		cancel()
		switch {
		case err == nil:
			if try > 1 {
				s.log.LogAttrs(ctx, slog.LevelInfo, "delivery outcome recorded after a retry", slog.Int64("delivery_id", d.ID),
					slog.Int("tries", try))
			}
			return nil
		case ambiguous && errors.Is(err, registry.ErrClaimLost):
			s.log.LogAttrs(ctx, slog.LevelWarn, "delivery outcome taken as recorded: a try that timed out had released the claim",
				slog.Int64("delivery_id", d.ID), slog.Int("tries", try))
			return nil
		case !transientWrite(err):
			return err
		}
		ambiguous = ambiguous || errors.Is(err, context.DeadlineExceeded)
		budget := leaseLeft
		if ctx.Err() != nil {
			budget = s.writeTO
		}
		if time.Since(start)+wait > budget {
			return err
		}
		s.log.LogAttrs(ctx, slog.LevelWarn, "recording delivery outcome failed, trying again", slog.Int64("delivery_id", d.ID),
			slog.Int("try", try), slog.Duration("in", wait), slog.String("error", err.Error()))
		t := time.NewTimer(wait)
		<-t.C // not cut short by ctx: the budget above already is
		wait = min(2*wait, finishRetryMax)
	}
}

// transientWrite reports whether a store write failed for a reason that
// may pass: the connection was refused, reset or lost (a database
// restarting, a network blip, a failover), or the write timed out (a
// database hung for a moment).
func transientWrite(err error) bool {
	var ne net.Error
	return errors.As(err, &ne) || errors.Is(err, driver.ErrBadConn) || errors.Is(err, context.DeadlineExceeded) ||
		errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}
