package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// listFlag collects a repeatable string flag.
type listFlag []string

func (f *listFlag) String() string { return strings.Join(*f, ",") }

func (f *listFlag) Set(v string) error { *f = append(*f, v); return nil }

// enqueueCmd inserts a sys_message_center row for the Scanner.
// checkUser refuses a user_num no device can be registered for (too long,
// not UTF-8, a separator or an invisible character): a push to it, or a
// message-center row naming it, would reach nobody. Surrounding spaces
// are not part of it (the Service trims them).
func checkUser(u string) error {
	if err := registry.ValidateUserNum(u); err != nil {
		return err
	}
	return registry.ValidateRegisteredUserNum(strings.TrimSpace(u))
}

func enqueueCmd(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
	var users listFlag
	fs.Var(&users, "user", "a receiver's user_num, repeatable (required)")
	mode := fs.String("mode", "push", "the notify_mode: push, sms or email")
	title := fs.String("title", "", "the title (required for a push, unless PUSH_CENTER_DEFAULT_TITLE is set; an sms has none)")
	content := fs.String("content", "", "the content (required)")
	class := fs.String("class", "", "the message class of a push: marketing or service (default: unset)")
	level := fs.Int("level", 0, "the notify_level: higher rows are handled first")
	sendAt := fs.String("send-at", "", "when to send, RFC 3339 (2026-12-24T09:00:00+08:00); default: at once")
	return func(ctx context.Context, args []string) error {
		if err := wantArgs(args, 0, ""); err != nil {
			return err
		}
		if len(users) == 0 {
			return usagef("--user is required")
		}
		// Refused here rather than by the Scanner, which would fail the
		// row for good.
		for _, u := range users {
			switch got := messagecenter.SplitReceivers(u); {
			case len(got) == 0:
				return usagef("--user: %q names no user", u)
			case len(got) > 1:
				// The receivers column separates users by these; a value
				// holding one would reach several (give --user again).
				return usagef("--user: %q names several users (white space, commas, semicolons, | and 、 separate them in the receivers column): give --user once for each", u)
			case got[0] != u:
				return usagef("--user: %q would be read as user %q: the receivers column reads a JSON array as the users it lists", u, got[0])
			}
			if err := checkUser(u); err != nil {
				return usagef("--user: %q: %v", registry.Clip(u, 64), err)
			}
		}
		// Joined, the users must still read as themselves: ["a" and "b"]
		// each name one user, but together they make a JSON array.
		var want []string
		for _, u := range users {
			if !slices.Contains(want, u) {
				want = append(want, u)
			}
		}
		if got := messagecenter.SplitReceivers(strings.Join(users, ",")); !slices.Equal(got, want) {
			return usagef("--user: together the users would be read as %q: the receivers column reads a JSON array as the users it lists", got)
		}
		switch *mode {
		case "push", "sms", "email":
		default:
			return usagef("--mode: %q is not push, sms or email", *mode)
		}
		// The brief's title column takes NULL: an sms has no title, and a
		// push row without one takes the Scanner's default title, or fails.
		switch {
		case strings.TrimSpace(*content) == "":
			return usagef("--content is required, and not blank")
		case *title != "" && strings.TrimSpace(*title) == "":
			return usagef("--title is blank: leave it out for none")
		case *title == "" && *mode == "push" && strings.TrimSpace(e.getenv("PUSH_CENTER_DEFAULT_TITLE")) == "":
			return usagef("--title is required for --mode push (the Scanner fails a push row without one unless PUSH_CENTER_DEFAULT_TITLE is set)")
		}
		if c := provider.Class(*class); !c.Valid() {
			return usagef("--class: %q is not marketing or service", *class)
		} else if c != "" && *mode != "push" {
			return usagef("--class: only a push row has a class (--mode is %s)", *mode)
		}
		m := &registry.CenterMessage{Title: *title, Content: *content, NotifyMode: *mode, NotifyLevel: *level,
			Receivers: strings.Join(users, ","), Class: *class}
		if *sendAt != "" {
			t, err := time.Parse(time.RFC3339, *sendAt)
			if err != nil {
				return usagef("--send-at: %q is not an RFC 3339 time such as 2026-12-24T09:00:00+08:00", *sendAt)
			}
			m.SendAt = &t
		}
		d, err := e.openDB(ctx, false, false)
		if err != nil {
			return err
		}
		defer d.Close()
		if err := ctx.Err(); err != nil {
			return err
		}
		// Once started, the insert finishes even when interrupted: one
		// that committed and lost its answer would be reported failed,
		// and run again, the notification queued (and sent) twice.
		wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), writeTimeout)
		defer cancel()
		if err := d.store.EnqueueCenterMessage(wctx, m); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "id=%d\n", m.ID)
		return nil
	}
}

// tailPage is how many new rows one query of center tail reads.
const tailPage = 500

// tailWindow is how many ids below the highest one of a run read each
// poll of center tail reads again. An id is taken when a row is inserted
// but the row is seen only when its transaction commits, so a row can
// appear below ids already printed; one that commits within tailWindow ids
// is still printed, once.
const tailWindow = 1000

// maxSpans bounds the runs of ids center tail follows, and so its queries
// a poll.
const maxSpans = 16

// tailCmd polls sys_message_center and prints each row's state once per
// change, until ctx ends.
func tailCmd(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
	since := fs.Int64("since-id", -1, "print every row with a larger id, handled or not; -1: only the rows not yet handled, and new ones")
	interval := fs.Duration("interval", time.Second, "how often to poll")
	return func(ctx context.Context, args []string) error {
		if err := wantArgs(args, 0, ""); err != nil {
			return err
		}
		if *interval <= 0 {
			return usagef("--interval: must be positive, got %v", *interval)
		}
		if *since < -1 {
			return usagef("--since-id: must be an id (0 or more), got %d", *since)
		}
		d, err := e.openDB(ctx, false, false)
		if err != nil {
			return err
		}
		defer d.Close()
		// Without --since-id every row is followed, those another program
		// gave an id of 0 or below too.
		floor := int64(math.MinInt64)
		if *since >= 0 {
			floor = *since
		}
		t := &tailer{e: e, d: d, watching: map[int64]rowState{}, read: map[int64]bool{}, floor: floor, quietFinal: *since < 0}
		down := false // the last poll failed
		for {
			if err := t.poll(ctx); err != nil {
				if ctx.Err() != nil {
					return nil // interrupted: the normal end of a tail
				}
				if errors.Is(err, context.DeadlineExceeded) {
					err = fmt.Errorf("the database did not answer within %v: %w", time.Duration(tailPollTimeout.Load()), err)
				}
				// An outage is when an operator needs the tail most: it
				// says so once on stderr and polls on, until Ctrl-C.
				if !down {
					fmt.Fprintf(e.stderr, "pushctl: center tail: %v; polling on every %v\n", err, *interval)
					down = true
				}
			} else {
				if down {
					fmt.Fprintln(e.stderr, "pushctl: center tail: the database answers again")
					down = false
				}
				t.quietFinal = false
			}
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(*interval):
			}
		}
	}
}

// tailPollTimeout bounds each read of center tail, in nanoseconds: a
// database that stops answering is said on stderr rather than left a
// silence. (Each read,
// not a whole poll: a poll pages through a backlog, and prints as it goes
// to a terminal or a pager that may hold it.)
var tailPollTimeout = func() *atomic.Int64 {
	var d atomic.Int64
	d.Store(int64(30 * time.Second))
	return &d
}()

// bounded returns ctx bounded by tailPollTimeout for one read.
func bounded(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, time.Duration(tailPollTimeout.Load()))
}

// rowState is what center tail prints of a row.
type rowState struct {
	state          int
	result, remark string
}

// span is a run of ids read, lo to hi, with no gap wider than tailWindow
// between them; grew is the poll that last raised hi.
type span struct {
	lo, hi int64
	grew   uint64
}

// tailer follows sys_message_center. New rows appear above the highest id
// of the run a sequence is filling, or within tailWindow below it (they
// committed late). A table's ids usually form one run, but not always: a
// row another program inserts with an id of its own far above the rest
// does not move a PostgreSQL sequence, whose next rows still come below
// it. So the tailer follows each run of ids (spans): each poll reads,
// for every span, the ids from tailWindow below its highest up to the
// next span. Rows read and not seen before are new.
//
// watching holds the rows seen that are not final yet, with their last
// printed state. Final rows (sent, failed) are forgotten, and read keeps
// only the ids the next poll reads again, so memory follows the rows in
// flight, not the table.
type tailer struct {
	e *env
	d *database
	// floor is --since-id: rows at or below it are never printed.
	floor int64
	// spans are the runs followed, lowest first, more than tailWindow
	// apart.
	spans    []span
	polls    uint64
	watching map[int64]rowState
	// read holds the ids read that the next poll reads again.
	read map[int64]bool
	// quietFinal skips the rows already final in the first pass of a
	// tail without --since-id: history, not news.
	quietFinal bool
	// capped is set once the spans outgrew maxSpans (said once).
	capped bool
}

// region is a range of ids a poll reads: above after, below before, and
// math.MinInt64 or math.MaxInt64 when a bound is that id (see edges).
type region struct{ after, before int64 }

// holds reports whether a poll of r reads id.
func (r region) holds(id int64) bool {
	return (id > r.after || id == math.MinInt64 && r.after == math.MinInt64) &&
		(id < r.before || id == math.MaxInt64 && r.before == math.MaxInt64)
}

// regions are the ranges the next poll reads: everything above the floor
// until a row is read, then from tailWindow below the top of each span to
// the next span.
func (t *tailer) regions() []region {
	if len(t.spans) == 0 {
		return []region{{t.floor, math.MaxInt64}}
	}
	out := make([]region, len(t.spans))
	for i, s := range t.spans {
		from := int64(math.MinInt64) // a run that low is read whole
		if s.hi > math.MinInt64+tailWindow {
			from = s.hi - tailWindow
		}
		out[i] = region{max(from, t.floor), math.MaxInt64}
		if i+1 < len(t.spans) {
			out[i].before = t.spans[i+1].lo
		}
	}
	return out
}

// edges returns the rows at the ids region r bounds but its exclusive
// range query cannot reach: math.MinInt64 when r starts there, and
// math.MaxInt64 when it ends there (ids another program may give rows on
// SQLite).
func (t *tailer) edges(ctx context.Context, r region) (low, high []registry.CenterMessage, err error) {
	get := func(id int64) ([]registry.CenterMessage, error) {
		rctx, cancel := bounded(ctx)
		m, err := t.d.store.GetCenterMessage(rctx, id)
		cancel()
		switch {
		case errors.Is(err, registry.ErrNotFound):
			return nil, nil
		case err != nil:
			return nil, err
		}
		return []registry.CenterMessage{m}, nil
	}
	if r.after == math.MinInt64 {
		if low, err = get(math.MinInt64); err != nil {
			return nil, nil, err
		}
	}
	if r.before == math.MaxInt64 {
		if high, err = get(math.MaxInt64); err != nil {
			return nil, nil, err
		}
	}
	return low, high, nil
}

// near reports whether b is at most tailWindow above a (or below it).
func near(a, b int64) bool {
	return b <= a || uint64(b)-uint64(a) <= tailWindow
}

// poll reads the watched rows and the new ones, printing each change.
func (t *tailer) poll(ctx context.Context) error {
	if err := t.reread(ctx); err != nil {
		return err
	}
	t.polls++
	var spans []span
	for i, r := range t.regions() {
		if i < len(t.spans) {
			spans = append(spans, t.spans[i])
		}
		cursor := r.after
		low, high, err := t.edges(ctx, r)
		if err != nil {
			return err
		}
		for first := true; ; first = false {
			rctx, cancel := bounded(ctx)
			page, err := t.d.store.ListCenterMessagesBetween(rctx, cursor, r.before, tailPage)
			cancel()
			if err != nil {
				return err
			}
			full := len(page) == tailPage
			if first {
				page = append(low, page...)
			}
			if !full {
				page = append(page, high...)
			}
			for _, m := range page {
				cursor = m.ID
				switch last := len(spans) - 1; {
				case last < 0 || !near(spans[last].hi, m.ID):
					spans = append(spans, span{lo: m.ID, hi: m.ID, grew: t.polls})
				case m.ID > spans[last].hi:
					spans[last].hi, spans[last].grew = m.ID, t.polls
				default:
					spans[last].lo = min(spans[last].lo, m.ID)
				}
				if t.read[m.ID] {
					continue
				}
				t.read[m.ID] = true
				if t.quietFinal && final(m.SendState) {
					continue
				}
				t.see(m, rowState{}, false)
			}
			if !full {
				break
			}
		}
	}
	t.spans = t.join(spans)
	regions := t.regions()
	for id := range t.read {
		if !slices.ContainsFunc(regions, func(r region) bool { return r.holds(id) }) {
			delete(t.read, id)
		}
	}
	return nil
}

// join merges spans that came within tailWindow of each other, then, past
// maxSpans, the span that grew least recently into the one above it: the
// ids between them are no longer read, which stderr says once.
func (t *tailer) join(spans []span) []span {
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.lo, b.lo) })
	out := spans[:0]
	for _, s := range spans {
		if n := len(out) - 1; n >= 0 && near(out[n].hi, s.lo) {
			out[n].hi, out[n].grew = max(out[n].hi, s.hi), max(out[n].grew, s.grew)
			continue
		}
		out = append(out, s)
	}
	for len(out) > maxSpans {
		j := 0
		for i := range len(out) - 1 {
			if out[i].grew < out[j].grew {
				j = i
			}
		}
		if !t.capped {
			t.capped = true
			fmt.Fprintf(t.e.stderr, "pushctl: center tail: the ids of sys_message_center lie in more than %d runs far apart; "+
				"rows inserted between id %d and %d are no longer shown\n", maxSpans, out[j].hi, out[j+1].lo)
		}
		out[j] = span{lo: out[j].lo, hi: out[j+1].hi, grew: max(out[j].grew, out[j+1].grew)}
		out = slices.Delete(out, j+1, j+2)
	}
	return out
}

// reread reads the watched rows again in keyset pages, each starting at
// the lowest watched id not read yet: a page of tailPage rows per query
// where they lie close together (a queue's backlog), a query per row at
// worst. (One query per watched row made a tail of a 20,000-row backlog
// a load on the database.)
func (t *tailer) reread(ctx context.Context) error {
	ids := slices.Sorted(maps.Keys(t.watching))
	if len(ids) > 0 && ids[0] == math.MinInt64 {
		// The keyset page below would start at ids[0]-1, which wraps
		// around: that row is read alone.
		low, _, err := t.edges(ctx, region{after: math.MinInt64})
		if err != nil {
			return err
		}
		var m *registry.CenterMessage
		if len(low) == 1 {
			m = &low[0]
		}
		t.reseen(math.MinInt64, m)
		ids = ids[1:]
	}
	for len(ids) > 0 {
		rctx, cancel := bounded(ctx)
		page, err := t.d.store.ListCenterMessages(rctx, ids[0]-1, tailPage)
		cancel()
		if err != nil {
			return err
		}
		// The page holds every row from ids[0] to its last id (to the end
		// of the table when it is short): a watched id in that range that
		// is not in it was deleted.
		end := int64(math.MaxInt64)
		if len(page) == tailPage {
			end = page[len(page)-1].ID
		}
		got := make(map[int64]int, len(page))
		for i := range page {
			got[page[i].ID] = i
		}
		for len(ids) > 0 && ids[0] <= end {
			id := ids[0]
			ids = ids[1:]
			var m *registry.CenterMessage
			if i, ok := got[id]; ok {
				m = &page[i]
			}
			t.reseen(id, m)
		}
	}
	return nil
}

// reseen shows watched row id as read again, m, or that it was deleted
// when m is nil (said once, then forgotten).
func (t *tailer) reseen(id int64, m *registry.CenterMessage) {
	if m == nil {
		fmt.Fprintf(t.e.stdout, "id=%d deleted\n", id)
		delete(t.watching, id)
		return
	}
	t.see(*m, t.watching[id], true)
}

// see prints m unless its state is last, and watches or forgets it.
func (t *tailer) see(m registry.CenterMessage, last rowState, seen bool) {
	now := rowState{state: m.SendState, result: m.SendResult, remark: m.Remark}
	if !seen || now != last {
		fmt.Fprintf(t.e.stdout, "id=%d mode=%s state=%s result=%s remark=%s\n", m.ID, dash(clip(m.NotifyMode, 40)), stateName(m.SendState),
			strconv.Quote(clip(m.SendResult, 200)), strconv.Quote(clip(m.Remark, 200)))
	}
	if final(m.SendState) {
		delete(t.watching, m.ID)
	} else {
		t.watching[m.ID] = now
	}
}

func final(state int) bool {
	return state == registry.SendStateSent || state == registry.SendStateFailed
}

func stateName(state int) string {
	switch state {
	case registry.SendStateUnsent:
		return "unsent"
	case registry.SendStateSent:
		return "sent"
	case registry.SendStateFailed:
		return "failed"
	}
	return strconv.Itoa(state)
}
