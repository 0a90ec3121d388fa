package messagecenter

import (
	"context"
	"log/slog"
)

// warnDefault is the handler of the Scanner's own lines when
// Config.Logger is unset: the records at warn level and above, handed to
// slog.Default()'s handler as it is when each is logged (a host that sets
// its default logger after New is followed).
type warnDefault struct {
	// with replays the attributes and groups added to this handler on
	// the default handler of the moment.
	with func(slog.Handler) slog.Handler
}

func (h warnDefault) handler() slog.Handler {
	d := slog.Default().Handler()
	if h.with != nil {
		d = h.with(d)
	}
	return d
}

func (h warnDefault) Enabled(ctx context.Context, l slog.Level) bool {
	return l >= slog.LevelWarn && h.handler().Enabled(ctx, l)
}

func (h warnDefault) Handle(ctx context.Context, r slog.Record) error {
	return h.handler().Handle(ctx, r)
}

func (h warnDefault) WithAttrs(attrs []slog.Attr) slog.Handler {
	return h.wrap(func(d slog.Handler) slog.Handler { return d.WithAttrs(attrs) })
}

func (h warnDefault) WithGroup(name string) slog.Handler {
	return h.wrap(func(d slog.Handler) slog.Handler { return d.WithGroup(name) })
}

func (h warnDefault) wrap(f func(slog.Handler) slog.Handler) slog.Handler {
	prev := h.with
	return warnDefault{with: func(d slog.Handler) slog.Handler {
		if prev != nil {
			d = prev(d)
		}
		return f(d)
	}}
}
