package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"strconv"
	"strings"
	"time"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/textclip"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// extraFlag collects repeated --extra k=v.
type extraFlag map[string]string

func (f extraFlag) String() string { return "" }

func (f extraFlag) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || strings.TrimSpace(k) == "" {
		return fmt.Errorf("%q is not key=value", v)
	}
	k = strings.TrimSpace(k)
	if old, dup := f[k]; dup {
		// The first value would be dropped without a word.
		return fmt.Errorf("key %q given twice (%q and %q)", k, old, val)
	}
	f[k] = val
	return nil
}

// pushCmd sends a push to the devices of the users named.
func pushCmd(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
	title := fs.String("title", "", "the notification's title (required)")
	content := fs.String("content", "", "the notification's text (required)")
	class := fs.String("class", "", "the message class: marketing or service (default: unset)")
	expireIn := fs.Duration("expire-in", 0, "how long vendors keep trying, such as 5m or 2h (default: the Service's Expiry, 3 days)")
	dedupe := fs.String("dedupe-key", "", "makes the push idempotent: a push whose key was pushed before sends nothing and prints that push (a script's retry after a lost answer)")
	extra := extraFlag{}
	fs.Var(extra, "extra", "an extra key=value for the app, repeatable")
	return func(ctx context.Context, users []string) error {
		if len(users) == 0 {
			return usagef("at least one USER is required")
		}
		for _, u := range users {
			if err := checkUser(u); err != nil {
				return usagef("USER %q: %v (each USER is one user_num, given as an argument of its own)", registry.Clip(u, 64), err)
			}
		}
		if *title == "" || *content == "" {
			return usagef("--title and --content are required")
		}
		if c := provider.Class(*class); !c.Valid() {
			return usagef("--class: %q is not marketing or service", *class)
		}
		if *expireIn < 0 {
			return usagef("--expire-in: %v is negative", *expireIn)
		}
		d, svc, err := e.openService(ctx)
		if err != nil {
			return err
		}
		defer d.Close()
		m := push.Message{UserNums: users, Title: *title, Content: *content, Class: provider.Class(*class), Extra: extra, DedupeKey: *dedupe}
		if *expireIn > 0 {
			m.ExpireAt = time.Now().Add(*expireIn)
		}
		res, err := svc.Push(ctx, m)
		if err != nil {
			return err
		}
		printResult(e, res)
		return pushOutcome(res, ctx.Err() != nil)
	}
}

// pushOutcome is the error pushctl push exits with for res (interrupted:
// its ctx ended), nil when the push is done: an operator's test push, or
// a script, must see a push nobody will be shown, or one not all sent, or
// sent and not recorded, as not done, not only read it.
func pushOutcome(res *push.Result, interrupted bool) error {
	if n := len(res.Deliveries); n > 0 && res.Failed() == n {
		return fmt.Errorf("every delivery failed (push_message_id=%d): %w", res.PushMessageID, res.FirstError())
	}
	deferred, pending, unrecorded := countOf(res)
	switch {
	case res.Expired:
		return fmt.Errorf("push_message_id=%d expired before its whole audience was listed: the users after the recorded place are not pushed", res.PushMessageID)
	case res.Unlisted:
		return fmt.Errorf("the listing of push_message_id=%d stopped before its whole audience (%s): a Scanner (examples/server) lists and sends the rest",
			res.PushMessageID, map[bool]string{true: "interrupted", false: "a read of the database failed"}[interrupted])
	case unrecorded > 0:
		return fmt.Errorf("the vendor took %d %s of push_message_id=%d whose outcome could not be recorded: they stay pending, and a Scanner (examples/server) sends them again once their lease runs out (a vendor that cannot deduplicate shows the push twice)",
			unrecorded, plural(unrecorded, "delivery", "deliveries"), res.PushMessageID)
	case deferred > 0 && interrupted:
		return fmt.Errorf("interrupted: %d %s of push_message_id=%d %s not sent; a Scanner (examples/server) sends them",
			deferred, plural(deferred, "delivery", "deliveries"), res.PushMessageID, plural(deferred, "was", "were"))
	case pending > 0:
		return fmt.Errorf("%d %s of push_message_id=%d not sent yet (pending): a Scanner (examples/server) tries them again",
			pending, plural(pending, "delivery", "deliveries"), res.PushMessageID)
	}
	return nil
}

// countOf counts the deliveries of res that the call left to a later
// pass (deferred), those pending after it (deferred or to be tried
// again), and those sent whose outcome the store does not hold.
func countOf(res *push.Result) (deferred, pending, unrecorded int) {
	for _, d := range res.Deliveries {
		switch {
		case d.Unrecorded:
			unrecorded++
		case d.State == registry.DeliveryPending:
			pending++
			if d.Deferred {
				deferred++
			}
		}
	}
	return deferred, pending, unrecorded
}

// printResult prints the push id and one line per provider and platform.
func printResult(e *env, res *push.Result) {
	if res.Duplicate {
		fmt.Fprintf(e.stdout, "push_message_id=%d duplicate: pushed before with this --dedupe-key; nothing sent (pushctl status %d shows it)\n",
			res.PushMessageID, res.PushMessageID)
		return
	}
	fmt.Fprintf(e.stdout, "push_message_id=%d devices=%d skipped=%d\n", res.PushMessageID, res.Devices, res.Skipped)
	if len(res.Unreached) > 0 {
		fmt.Fprintf(e.stdout, "no device reached for: %s\n", strings.Join(res.Unreached, " "))
	}
	type key struct{ provider, platform string }
	type tally struct {
		tokens     int
		unrecorded int // sent, the outcome not recorded
		states     map[registry.DeliveryState]int
		err        error
	}
	var order []key
	per := map[key]*tally{}
	for _, d := range res.Deliveries {
		k := key{d.Provider, d.Platform}
		t := per[k]
		if t == nil {
			t = &tally{states: map[registry.DeliveryState]int{}}
			per[k] = t
			order = append(order, k)
		}
		t.tokens += d.Tokens
		if d.Unrecorded {
			t.unrecorded++
		} else {
			t.states[d.State]++
		}
		if t.err == nil && d.Err != nil {
			t.err = d.Err
		}
	}
	w := newTable(e.stdout)
	fmt.Fprintln(w, "PROVIDER\tPLATFORM\tTOKENS\tOUTCOME\tERROR")
	for _, k := range order {
		t := per[k]
		// The vendor calls' outcomes, in words of their own: the push's
		// status words (pushctl status) say what the vendor did since.
		var states []string
		for _, o := range []struct {
			word string
			n    int
		}{
			{"sent", t.states[registry.DeliveryAccepted] + t.states[registry.DeliveryDone]},
			{"pending", t.states[registry.DeliveryPending]},
			{"failed", t.states[registry.DeliveryFailed]},
			{"unrecorded", t.unrecorded},
		} {
			if o.n > 0 {
				states = append(states, fmt.Sprintf("%s=%d", o.word, o.n))
			}
		}
		msg := ""
		if t.err != nil {
			msg = oneLine(t.err.Error())
		}
		fmt.Fprintf(w, "%s\t%s\t%d\t%s\t%s\n", k.provider, k.platform, t.tokens, strings.Join(states, ","), msg)
	}
	_ = w.Flush() // a failed write to stdout has nowhere to be reported
}

// statusCmd prints a push's status.
func statusCmd(fs *flag.FlagSet, e *env) func(context.Context, []string) error {
	asJSON := fs.Bool("json", false, "print JSON instead of a table")
	return func(ctx context.Context, args []string) error {
		if err := wantArgs(args, 1, "the push message ID"); err != nil {
			return err
		}
		id, err := strconv.ParseInt(args[0], 10, 64)
		if err != nil || id <= 0 {
			return usagef("ID: %q is not a positive push message id", args[0])
		}
		d, svc, err := e.openReader(ctx)
		if err != nil {
			return err
		}
		defer d.Close()
		st, err := svc.PushStatus(ctx, id)
		if errors.Is(err, registry.ErrNotFound) {
			return fmt.Errorf("push message %d not found", id)
		}
		if err != nil {
			return err
		}
		ds, err := d.store.ListDeliveries(ctx, id)
		if err != nil {
			return err
		}
		view := statusView{PushMessageID: st.PushMessageID,
			IOS:     platformView(st.IOSStatus, st.IOS, st.Receipts.IOS, ds, registry.PlatformIOS),
			Android: platformView(st.AndroidStatus, st.Android, st.Receipts.Android, ds, registry.PlatformAndroid)}
		if *asJSON {
			enc := json.NewEncoder(e.stdout)
			enc.SetIndent("", "  ")
			return enc.Encode(view)
		}
		w := newTable(e.stdout)
		fmt.Fprintf(w, "push_message_id=%d\n", view.PushMessageID)
		fmt.Fprintln(w, "PLATFORM\tSTATUS\tRET\tTOKENS\tTASK_IDS\tARRIVED\tOPENED\tDISMISSED\tRESPONSE")
		for _, p := range []struct {
			name string
			v    platformStatus
		}{{"ios", view.IOS}, {"android", view.Android}} {
			fmt.Fprintf(w, "%s\t%s\t%s\t%d\t%s\t%d\t%d\t%d\t%s\n", p.name, dash(p.v.Status), dash(p.v.Ret), p.v.Tokens,
				dash(p.v.TaskID), p.v.Receipts.Arrived, p.v.Receipts.Opened, p.v.Receipts.Dismissed, dash(clip(p.v.Response, 80)))
		}
		return w.Flush()
	}
}

// statusView is what status prints: the summary without the device
// tokens, which are counted, never shown.
type statusView struct {
	PushMessageID int64          `json:"push_message_id"`
	IOS           platformStatus `json:"ios"`
	Android       platformStatus `json:"android"`
}

// platformStatus is one platform's summary and receipt counts.
type platformStatus struct {
	Status    string        `json:"status"`
	Ret       string        `json:"ret"`
	IsSend    bool          `json:"is_send"`
	Tokens    int           `json:"tokens"`
	TaskID    string        `json:"task_id"`
	Timestamp string        `json:"timestamp"`
	Response  string        `json:"response"`
	Receipts  receiptCounts `json:"receipts"`
}

// receiptCounts are the receipts vendors posted.
type receiptCounts struct {
	Arrived   int64 `json:"arrived"`
	Opened    int64 `json:"opened"`
	Dismissed int64 `json:"dismissed"`
}

// platformView is the status of platform. Its tokens are counted on the
// deliveries (the summary column is clipped to its width on a large push);
// a push another program recorded without deliveries has them counted in
// its summary.
func platformView(status string, s registry.PlatformSummary, r registry.ReceiptCounts, ds []registry.Delivery, platform string) platformStatus {
	n, found := 0, false
	for _, d := range ds {
		if d.Platform == platform {
			found = true
			if d.State != registry.DeliverySplit {
				n += len(d.Tokens)
			}
		}
	}
	if !found {
		for _, t := range strings.Split(s.DeviceTokens, ",") {
			if strings.TrimSpace(t) != "" {
				n++
			}
		}
	}
	return platformStatus{Status: status, Ret: s.Ret, IsSend: s.IsSend, Tokens: n, TaskID: s.TaskID, Timestamp: s.Timestamp,
		Response: s.Response, Receipts: receiptCounts{Arrived: r.Arrived, Opened: r.Opened, Dismissed: r.Dismissed}}
}

func dash(s string) string {
	// Values other programs wrote reach the terminal here: on one line,
	// without control characters (see oneLine).
	if s = oneLine(s); s == "" {
		return "-"
	}
	return s
}

// clip shortens s to n runes on one line.
func clip(s string, n int) string { return textclip.Runes(oneLine(s), n) }
