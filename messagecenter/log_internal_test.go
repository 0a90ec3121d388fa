package messagecenter

import (
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/internal/testlog"
)

// TestWarnDefaultKeepsAttrsAndGroups: the default handler drops what is
// under warn level and hands the rest, with the attributes and groups
// added to it, to slog.Default() as it is when the record is logged.
func TestWarnDefaultKeepsAttrsAndGroups(t *testing.T) {
	var buf syncbuf.Buffer
	testlog.SetDefault(t, slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	l := slog.New(warnDefault{}).With("scanner", "a").WithGroup("row").With("id", 7)
	l.Info("handled")
	l.Debug("given back")
	assert.Empty(t, buf.String())
	l.Warn("overran", "mode", "sms")
	assert.Contains(t, buf.String(), `level=WARN msg=overran scanner=a row.id=7 row.mode=sms`)
}
