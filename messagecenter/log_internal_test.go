package messagecenter

import (
	"log"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/internal/syncbuf"
)

// TestErrorDefaultKeepsAttrsAndGroups: the default handler drops what is
// under error level and hands the rest, with the attributes and groups
// added to it, to slog.Default() as it is when the record is logged.
func TestErrorDefaultKeepsAttrsAndGroups(t *testing.T) {
	var buf syncbuf.Buffer
	setDefaultLogger(t, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l := slog.New(errorDefault{}).With("scanner", "a").WithGroup("row").With("id", 7)
	l.Info("handled")
	l.Debug("given back")
	l.Warn("overran")
	assert.Empty(t, buf.String())
	l.Error("pass failed", "mode", "sms")
	assert.Contains(t, buf.String(), `level=ERROR msg="pass failed" scanner=a row.id=7 row.mode=sms`)
}

// setDefaultLogger makes l slog's default logger until t ends, and then
// restores the default and what slog.SetDefault changed of the log
// package's (its output and flags).
func setDefaultLogger(t *testing.T, l *slog.Logger) {
	old, w, flags := slog.Default(), log.Writer(), log.Flags()
	slog.SetDefault(l)
	t.Cleanup(func() {
		slog.SetDefault(old)
		log.SetOutput(w)
		log.SetFlags(flags)
	})
}
