package push

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/tuisong/push/provider"
)

// guard runs call, a call of provider name's method op, and makes a panic
// in it an error of kind Unknown (retried, as an unexplained failure is),
// logged at error level with its stack. A provider is the host's or a
// third party's code, and the Service calls it in goroutines of its own,
// where a panic would end the host's process: the Scanner guards a
// Notifier the same way. tokens are scrubbed from the log line.
func guard[T any](ctx context.Context, s *Service, name, op string, tokens []string, call func() (T, error)) (v T, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		var zero T
		v, err = zero, &provider.Error{Provider: name, Op: op, Kind: provider.Unknown, Message: fmt.Sprintf("the provider panicked: %v", r)}
		s.log.LogAttrs(ctx, slog.LevelError, "provider panicked", slog.String("provider", name), slog.String("operation", op),
			slog.String("error", s.scrubErr(err, tokens).Error()), slog.String("stack", string(debug.Stack())))
	}()
	return call()
}

// noAnswer is the error of a provider call that returned neither a result
// nor an error: a provider's bug, retried as an unexplained failure is.
func noAnswer(name, op string) error {
	return &provider.Error{Provider: name, Op: op, Kind: provider.Unknown, Message: "the provider returned no result and no error"}
}
