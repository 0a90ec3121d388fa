package vendorhttp

import (
	"context"
	"log/slog"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/internal/syncbuf"
)

// TestPostLog: the first MaxLoggedPerPost lines are logged as they come;
// Close logs one count of the rest at the highest of their levels, and
// nothing when none was left out.
func TestPostLog(t *testing.T) {
	var buf syncbuf.Buffer
	log := slog.New(slog.NewTextHandler(&buf, nil))
	p := NewPostLog(context.Background(), log)
	for range MaxLoggedPerPost {
		p.Log(slog.LevelWarn, "refused")
	}
	p.Close("summary")
	assert.Equal(t, MaxLoggedPerPost, strings.Count(buf.String(), "\n"), "nothing left out, no count")

	var buf2 syncbuf.Buffer
	p = NewPostLog(context.Background(), slog.New(slog.NewTextHandler(&buf2, nil)))
	for i := range MaxLoggedPerPost + 5 {
		level := slog.LevelWarn
		if i == MaxLoggedPerPost+2 {
			level = slog.LevelError
		}
		p.Log(level, "refused")
	}
	p.Close("summary", slog.Int("lines", 15))
	lines := strings.Split(strings.TrimSpace(buf2.String()), "\n")
	assert.Len(t, lines, MaxLoggedPerPost+1)
	last := lines[len(lines)-1]
	assert.Contains(t, last, "level=ERROR")
	assert.Contains(t, last, "msg=summary not_logged=5 lines=15")
}
