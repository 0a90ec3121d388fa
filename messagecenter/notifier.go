package messagecenter

import (
	"context"
	"errors"
	"fmt"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Notifier delivers center messages of one notify_mode other than "push"
// (sms, email, or any name the host chooses). The host implements it.
//
// Notify is called with the row and its receivers (split as documented on
// SplitReceivers). It returns a short result stored in send_result, or an
// error. Errors are classified like provider errors: wrap with Permanent,
// or return a *provider.Error whose Kind is not retryable, to fail the row
// at once; a RateLimited or QuotaExceeded provider.Error reschedules it
// without spending an attempt; any other error is retried with backoff.
// A Notify that panics fails its row for good (it may have delivered),
// the remark naming the panic's type, its value and stack in the log:
// the Scanner recovers it, since it runs in a goroutine of its own,
// where it would end the process. A Notify that ends its goroutine with
// runtime.Goexit fails its row alike.
// Notify may be called concurrently by several Scanners and must honour
// ctx, whose deadline is NotifyTimeout. One that does not (net/smtp's
// SendMail takes no ctx: dial with a deadline instead) is waited for up to
// one more Lease, holding its row and the Run that started it; then it is
// given up on (ErrGivenUp), and its row is tried again once its lease runs
// out, up to MaxAttempts.
type Notifier interface {
	Notify(ctx context.Context, m registry.CenterMessage, receivers []string) (result string, err error)
}

// NotifierFunc adapts a function to Notifier.
type NotifierFunc func(ctx context.Context, m registry.CenterMessage, receivers []string) (string, error)

// Notify calls f.
func (f NotifierFunc) Notify(ctx context.Context, m registry.CenterMessage, receivers []string) (string, error) {
	return f(ctx, m, receivers)
}

// ErrPermanent marks an error that retrying cannot fix.
var ErrPermanent = errors.New("permanent failure")

// Permanent wraps err so that the Scanner fails the row at once. A nil
// err stays nil, so that a Notifier may return Permanent(err) whatever
// err is.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%w: %w", ErrPermanent, err)
}

// disposition is what a failed row's error asks for.
type disposition int

const (
	retrySpending disposition = iota // back off, spend an attempt
	retryFree                        // back off, keep the attempt (rate limit)
	failNow                          // permanent
)

func classify(err error) disposition {
	if errors.Is(err, ErrPermanent) {
		return failNow
	}
	var pe *provider.Error
	if errors.As(err, &pe) {
		switch {
		case !pe.Kind.SpendsAttempt():
			return retryFree
		case !pe.Kind.Retryable():
			return failNow
		}
	}
	return retrySpending
}
