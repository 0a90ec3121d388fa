// Package testlog sets slog's default logger for a test and restores it.
package testlog

import (
	"log"
	"log/slog"
	"testing"
)

// SetDefault makes l slog's default logger until tb ends, and then
// restores the default and what slog.SetDefault changed of the log
// package's: its output and flags, which restoring the default logger
// alone leaves pointing at l's handler.
func SetDefault(tb testing.TB, l *slog.Logger) {
	old, w, flags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(l)
	tb.Cleanup(func() {
		slog.SetDefault(old)
		log.SetOutput(w)
		log.SetFlags(flags)
	})
}
