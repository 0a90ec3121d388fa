package vendorhttp

import (
	"context"
	"log/slog"
)

// MaxLoggedPerPost is how many lines a receipt handler logs about the
// receipts of one post (refused, repeated, unknown or failed ones): a
// post is the caller's to fill, and 1 MiB of bad lines must not become a
// log line each.
const MaxLoggedPerPost = 10

// PostLog logs what a receipt handler has to say about the receipts of
// one post: the first MaxLoggedPerPost lines as they come, then only a
// count, which Close logs as one line. Make one with NewPostLog.
type PostLog struct {
	log      *slog.Logger
	ctx      context.Context
	left     int
	notDone  int        // lines not logged
	maxLevel slog.Level // the highest level of those
}

// NewPostLog returns a PostLog that writes to log.
func NewPostLog(ctx context.Context, log *slog.Logger) *PostLog {
	return &PostLog{log: log, ctx: ctx, left: MaxLoggedPerPost}
}

// Log logs msg with attrs at level while the post's budget of lines
// lasts; after that it only counts the line for Close.
func (p *PostLog) Log(level slog.Level, msg string, attrs ...slog.Attr) {
	if p.left > 0 {
		p.left--
		p.log.LogAttrs(p.ctx, level, msg, attrs...)
		return
	}
	if p.notDone == 0 || level > p.maxLevel {
		p.maxLevel = level
	}
	p.notDone++
}

// Close logs one line, at the highest level of the lines it did not log,
// saying how many those were, with the handler's counts of the post
// (attrs), if Log left any line out.
func (p *PostLog) Close(msg string, attrs ...slog.Attr) {
	if p.notDone == 0 {
		return
	}
	p.log.LogAttrs(p.ctx, p.maxLevel, msg, append([]slog.Attr{slog.Int("not_logged", p.notDone)}, attrs...)...)
}
