package messagecenter

import (
	"context"
	"log/slog"
)

// errorDefault is the Scanner's handler when Config.Logger is unset: the
// records at error level, handed to slog.Default()'s handler as it is when
// each is logged (a host that sets its default logger after New is
// followed).
type errorDefault struct {
	// with replays the attributes and groups added to this handler on
	// the default handler of the moment.
	with func(slog.Handler) slog.Handler
}

func (h errorDefault) handler() slog.Handler {
	d := slog.Default().Handler()
	if h.with != nil {
		d = h.with(d)
	}
	return d
}

func (h errorDefault) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelError && h.handler().Enabled(ctx, l)
}

func (h errorDefault) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

func (h errorDefault) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.wrap(func(d slog.Handler) slog.Handler { return d.WithAttrs(attrs) })
}

func (h errorDefault) WithGroup(name string) slog.Handler {
	return h.wrap(func(d slog.Handler) slog.Handler { return d.WithGroup(name) })
}

func (h errorDefault) wrap(f func(slog.Handler) slog.Handler) slog.Handler {
	prev := h.with
	return errorDefault{with: func(d slog.Handler) slog.Handler {
		if prev != nil {
			d = prev(d)
		}
		return f(d)
	}}
}
