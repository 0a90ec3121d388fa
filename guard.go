package push

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"

	"github.com/tuisong/push/provider"
)

// guard runs call, a call of provider name's method op, and makes a panic
// in it an error of kind kind, logged at error level with the panic and
// its stack (tokens scrubbed from them). A provider is the host's or a
// third party's code, and the Service calls it in goroutines of its own,
// where a panic would end the host's process: the Scanner guards a
// Notifier the same way. A Send that panicked may have been accepted (it
// may panic reading the answer), so it is Indeterminate: retried with its
// idempotency key, as a lost answer is. The error keeps only the panic
// value's type; its text, which may hold anything, goes to the log alone.
func guard[T any](ctx context.Context, s *Service, name, op string, kind provider.Kind, tokens []string, call func() (T, error)) (v T, err error) {
	defer func() {
		r := recover()
		if r == nil {
			return
		}
		var zero T
		v, err = zero, &provider.Error{Provider: name, Op: op, Kind: kind, Message: fmt.Sprintf("the provider panicked (%T)", r)}
		s.log.LogAttrs(ctx, slog.LevelError, "provider panicked", slog.String("provider", name), slog.String("operation", op),
			slog.String("panic", s.scrubText(fmt.Sprint(r), tokens)), slog.String("stack", string(debug.Stack())))
	}()
	return call()
}

// noAnswer is the error of a provider call that returned neither a result
// nor an error: a provider's bug, retried as an unexplained failure is.
func noAnswer(name, op string) error {
	return &provider.Error{Provider: name, Op: op, Kind: provider.Unknown, Message: "the provider returned no result and no error"}
}
