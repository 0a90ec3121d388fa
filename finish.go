package push

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/tuisong/push/internal/storeretry"
	"github.com/tuisong/push/registry"
)

// recordSent writes the outcome of a delivery that was sent. The vendor
// has done its work; if the outcome is not written, the delivery is sent
// again when its lease runs out and the devices are shown the push twice.
// So a write that failed for a reason that may pass (the database
// unreachable or hung for a moment: transientStoreError) is tried again,
// with backoff, while the claim still holds: until WriteTimeout before the
// lease's end. Once ctx is done (the caller left, or the host is
// shutting down) it stops WriteTimeout after its first try, so that a
// drain keeps to DrainTimeout. A retry that finds the claim released
// after a try whose fate is unknown (it timed out, or its connection broke
// during the commit: registry.ErrCommit) reports success: that try's
// commit landed.
func (s *Service) recordSent(ctx context.Context, d *registry.Delivery) error {
	return s.retryWrite(ctx, d, "recording delivery outcome", func(wctx context.Context) error {
		return s.store.FinishDelivery(wctx, d)
	}, func(err error, timedOut bool) bool {
		if timedOut && errors.Is(err, registry.ErrClaimLost) {
			s.log.LogAttrs(ctx, slog.LevelWarn, "delivery outcome taken as recorded: a try that timed out or lost its connection had released the claim",
				slog.Int64("delivery_id", d.ID))
			return true
		}
		return false
	})
}

// disableSent disables the tokens the vendor reported invalid for d,
// retried as recordSent retries its write: a token left enabled is sent
// to again. Disabling is idempotent, so a try after one that timed out is
// safe.
func (s *Service) disableSent(ctx context.Context, d *registry.Delivery, tokens []string) (int64, error) {
	// In both spellings, as reheld looks them up: the device may have
	// registered again since the delivery was recorded.
	tokens, _ = s.spellings(d.Provider, d.Platform, tokens)
	var n int64
	err := s.retryWrite(ctx, d, "disabling tokens", func(wctx context.Context) error {
		var err error
		n, err = s.store.DisableTokens(wctx, d.Provider, d.Platform, tokens, "invalid token reported by "+d.Provider)
		return err
	}, nil)
	return n, err
}

// retryWrite runs write, each try on its own WriteTimeout, until it
// succeeds, fails for a reason that will not pass, or the budget of
// recordSent ends, and returns its last error. settled, when set, may
// take a failed retry as success (fateUnknown: an earlier try timed out
// or lost its connection while committing).
func (s *Service) retryWrite(ctx context.Context, d *registry.Delivery, what string, write func(context.Context) error,
	settled func(err error, fateUnknown bool) bool) error {
	leaseLeft := s.writeTO
	if d.LeaseUntil != nil {
		leaseLeft = max(d.LeaseUntil.Sub(s.now())-s.writeTO, s.writeTO)
	}
	tries, took, err := storeretry.Write{
		TryCtx: s.writeCtx,
		Budget: func(ctx context.Context) time.Duration {
			if ctx.Err() != nil && !requestTimedOut(ctx) {
				// Stopped (a drain, or the caller left): keep to the
				// drain's bound. A Handler's own Timeout is no stop: the
				// outcome is worth the lease.
				return s.writeTO
			}
			return leaseLeft
		},
		Settled: settled,
		Retrying: func(try int, wait time.Duration, err error) {
			s.log.LogAttrs(ctx, slog.LevelWarn, what+" failed, trying again", slog.Int64("delivery_id", d.ID),
				slog.Int("try", try), slog.Duration("in", wait), slog.String("error", err.Error()))
		},
	}.Do(ctx, write)
	if err == nil && tries > 1 && !took {
		s.log.LogAttrs(ctx, slog.LevelInfo, what+": done after a retry", slog.Int64("delivery_id", d.ID), slog.Int("tries", tries))
	}
	return err
}

// transientStoreError reports whether a store call failed for a reason
// that may pass (storeretry.Transient). Writes are retried on it
// (retryWrite); the Handler answers it 503.
func transientStoreError(err error) bool { return storeretry.Transient(err) }
