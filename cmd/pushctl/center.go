package main

import (
	"context"
	"flag"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
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
func enqueueCmd(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
	var users listFlag
	fs.Var(&users, "user", "a receiver's user_num, repeatable (required)")
	mode := fs.String("mode", "push", "the notify_mode: push, sms or email")
	title := fs.String("title", "", "the title (required)")
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
			if len(messagecenter.SplitReceivers(u)) == 0 {
				return usagef("--user: %q names no user", u)
			}
		}
		if strings.TrimSpace(*title) == "" || strings.TrimSpace(*content) == "" {
			return usagef("--title and --content are required, and not blank")
		}
		switch *mode {
		case "push", "sms", "email":
		default:
			return usagef("--mode: %q is not push, sms or email", *mode)
		}
		if c := provider.Class(*class); !c.Valid() {
			return usagef("--class: %q is not marketing or service", *class)
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

// tailWindow is how many ids below the highest one read each poll of
// center tail reads again. An id is taken when a row is inserted but the
// row is seen only when its transaction commits, so a row can appear
// below ids already printed; one that commits within tailWindow ids is
// still printed, once.
const tailWindow = 1000

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
		t := &tailer{e: e, d: d, watching: map[int64]rowState{}, read: map[int64]bool{}, floor: max(*since, 0),
			after: max(*since, 0), quietFinal: *since < 0}
		for {
			if err := t.poll(ctx); err != nil {
				if ctx.Err() != nil {
					return nil // interrupted: the normal end of a tail
				}
				return err
			}
			t.quietFinal = false
			select {
			case <-ctx.Done():
				return nil
			case <-time.After(*interval):
			}
		}
	}
}

// rowState is what center tail prints of a row.
type rowState struct {
	state          int
	result, remark string
}

// tailer follows sys_message_center: rows above after are new, and so are
// rows in the tailWindow ids below it that were not read before (they
// committed late); watching holds the rows seen that are not final yet,
// with their last printed state. Final rows (sent, failed) are forgotten,
// and read keeps only the ids of the window, so memory follows the rows in
// flight, not the table.
type tailer struct {
	e *env
	d *database
	// floor is --since-id: rows at or below it are never printed.
	floor int64
	// after is the highest id read.
	after    int64
	watching map[int64]rowState
	// read holds the ids in (after-tailWindow, after] already read.
	read map[int64]bool
	// quietFinal skips the rows already final in the first pass of a
	// tail without --since-id: history, not news.
	quietFinal bool
}

// poll reads the watched rows and the new ones, printing each change.
func (t *tailer) poll(ctx context.Context) error {
	if err := t.reread(ctx); err != nil {
		return err
	}
	cursor := max(t.after-tailWindow, t.floor)
	for {
		page, err := t.d.store.ListCenterMessages(ctx, cursor, tailPage)
		if err != nil {
			return err
		}
		for _, m := range page {
			cursor = m.ID
			if t.read[m.ID] {
				continue
			}
			t.read[m.ID] = true
			t.after = max(t.after, m.ID)
			if t.quietFinal && final(m.SendState) {
				continue
			}
			t.see(m, rowState{}, false)
		}
		if len(page) < tailPage {
			break
		}
	}
	for id := range t.read {
		if id <= t.after-tailWindow {
			delete(t.read, id)
		}
	}
	return nil
}

// reread reads the watched rows again in keyset pages, each starting at
// the lowest watched id not read yet: a page of tailPage rows per query
// where they lie close together (a queue's backlog), a query per row at
// worst. (One query per watched row made a tail of a 20,000-row backlog
// a load on the database.)
func (t *tailer) reread(ctx context.Context) error {
	ids := slices.Sorted(maps.Keys(t.watching))
	for len(ids) > 0 {
		page, err := t.d.store.ListCenterMessages(ctx, ids[0]-1, tailPage)
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
			i, ok := got[id]
			if !ok {
				// Deleted by someone else: said once, then forgotten.
				fmt.Fprintf(t.e.stdout, "id=%d deleted\n", id)
				delete(t.watching, id)
				continue
			}
			t.see(page[i], t.watching[id], true)
		}
	}
	return nil
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
