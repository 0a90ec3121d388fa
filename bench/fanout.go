package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// umengListcastMax is Umeng's most tokens per listcast (and the client's
// MaxTokens).
const umengListcastMax = 500

// umengClient returns an Umeng client for the fake's demo apps.
func umengClient(baseURL string, filecastThreshold int) (*umeng.Client, error) {
	cfg := umeng.Config{BaseURL: baseURL, FilecastThreshold: filecastThreshold}
	for _, app := range umengtest.DefaultApps() {
		creds := umeng.App{AppKey: app.AppKey, AppMasterSecret: app.AppMasterSecret}
		if app.Platform == umengtest.PlatformIOS {
			cfg.IOS = creds
		} else {
			cfg.Android = creds
		}
	}
	return umeng.New(cfg)
}

// runFanout times one Service.Push to every seeded user against the raw
// baseline: a bare net/http client posting the same listcasts.
func runFanout(ctx context.Context, o options) (err error) {
	if o.users < 1 || o.devicesPerUser < 1 {
		return errors.New("-users and -devices-per-user must be at least 1")
	}
	conc := o.concurrency
	if conc == 0 {
		conc = 4 // push.Config.SendConcurrency's default
	}
	dir, err := os.MkdirTemp("", "push-bench-fanout-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := openBenchDB(ctx, "sqlite", "", dir)
	if err != nil {
		return err
	}
	defer db.Close()
	t0 := time.Now()
	devices, err := db.seed(ctx, seedSpec{users: o.users, devicesPerUser: o.devicesPerUser})
	if err != nil {
		return err
	}
	o.logf("seeded %d users, %d devices in %v", o.users, devices, time.Since(t0))
	fake, err := startFake()
	if err != nil {
		return err
	}
	defer fake.Close()

	// The baseline's tokens: the seeded ones, per platform.
	tokens := map[string][]string{}
	for u := 1; u <= o.users; u++ {
		for j := 0; j < o.devicesPerUser; j++ {
			seed := fmt.Sprintf("%s-%d", userNum(u), j)
			if j%2 == 0 {
				tokens["ios"] = append(tokens["ios"], umengtest.IOSToken(seed))
			} else {
				tokens["android"] = append(tokens["android"], umengtest.AndroidToken(seed))
			}
		}
	}
	minCalls := 0
	for _, ts := range tokens {
		minCalls += (len(ts) + umengListcastMax - 1) / umengListcastMax
	}
	rawElapsed, err := rawListcasts(ctx, fake.URL, tokens, conc)
	if err != nil {
		return fmt.Errorf("raw baseline: %w", err)
	}
	rawTPS := float64(devices) / rawElapsed.Seconds()
	o.logf("raw baseline: %d tokens in %v", devices, rawElapsed)

	um, err := umengClient(fake.URL, o.filecastThreshold)
	if err != nil {
		return err
	}
	var st registry.Store = db.store
	if o.whole {
		st = struct{ registry.Store }{db.store} // without its Fanouts
	}
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{um}, SendConcurrency: o.concurrency})
	if err != nil {
		return err
	}
	users := make([]string, o.users)
	for i := range users {
		users[i] = userNum(i + 1)
	}
	before, err := fake.Stats()
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	load := loadAvg()
	runtime.GC()
	prof, err := startProfile(o.cpuProfile, o.memProfile)
	if err != nil {
		return err
	}
	heap := startHeapSampler(2 * time.Millisecond)
	start := time.Now()
	res, perr := svc.Push(pctx, push.Message{UserNums: users, Title: "bench", Content: "fan-out benchmark"})
	elapsed := time.Since(start)
	peakObj, peakLive := heap.Stop()
	if err := prof.Stop(); err != nil {
		return err
	}
	if perr != nil {
		if pctx.Err() != nil {
			return fmt.Errorf("Service.Push to %d users did not finish within -timeout %v: %w", o.users, o.timeout, perr)
		}
		return fmt.Errorf("Service.Push: %w", perr)
	}
	o.logf("push: %d devices, %d deliveries in %v", res.Devices, len(res.Deliveries), elapsed)
	after, err := fake.Stats()
	if err != nil {
		return err
	}
	calls := (after.Send - before.Send) + (after.Upload - before.Upload)
	// Only tokens whose delivery the vendor accepted count: a Push that
	// defers its deliveries to the Scanner has sent nothing.
	sent := 0
	for _, d := range res.Deliveries {
		if d.State == registry.DeliveryAccepted || d.State == registry.DeliveryDone {
			sent += d.Tokens
		}
	}
	tps := float64(sent) / elapsed.Seconds()
	// How long the first vendor call waited: the earliest send time the
	// deliveries recorded (the Service stamps it when the call returns).
	ds, err := db.store.ListDeliveries(ctx, res.PushMessageID)
	if err != nil {
		return err
	}
	var firstSent time.Time
	for _, d := range ds {
		if d.SentAt != nil && (firstSent.IsZero() || d.SentAt.Before(firstSent)) {
			firstSent = *d.SentAt
		}
	}
	o.printResult("fanout",
		kv{"users", o.users}, kv{"devices", devices}, kv{"tokens_sent", sent}, kv{"concurrency", conc},
		kv{"seconds", elapsed.Seconds()}, kv{"first_send_s", firstSent.Sub(start).Seconds()}, kv{"tokens_per_s", tps},
		kv{"raw_tokens_per_s", rawTPS}, kv{"ratio_vs_raw", tps / rawTPS},
		kv{"provider_calls", calls}, kv{"min_calls", minCalls}, kv{"filecast_threshold", o.filecastThreshold}, kv{"staged", !o.whole && o.filecastThreshold == 0},
		kv{"peak_heap_mib", peakObj}, kv{"peak_live_heap_mib", peakLive}, kv{"rss_mib", procStatusMiB("VmHWM")},
		kv{"deliveries_accepted", res.Accepted()}, kv{"deliveries_pending", res.Pending()}, kv{"deliveries_failed", res.Failed()},
		kv{"loadavg_1m", load})

	// The run counts only if every token was sent and recorded.
	var problems []error
	if res.Devices != devices {
		problems = append(problems, fmt.Errorf("pushed to %d devices, seeded %d", res.Devices, devices))
	}
	if res.Pending() > 0 || res.Failed() > 0 {
		problems = append(problems, fmt.Errorf("%d deliveries pending, %d failed (first error: %v)", res.Pending(), res.Failed(), res.FirstError()))
	}
	stored, err := db.count(ctx, "SELECT COUNT(*) FROM sys_push_deliveries WHERE push_message_id = ?", res.PushMessageID)
	if err != nil {
		return err
	}
	unfinished, err := db.count(ctx, "SELECT COUNT(*) FROM sys_push_deliveries WHERE push_message_id = ? AND (state NOT IN ('done', 'accepted') OR sent_at IS NULL)", res.PushMessageID)
	if err != nil {
		return err
	}
	if unfinished > 0 {
		for _, st := range []string{"pending", "accepted", "done", "failed", "split"} {
			n, _ := db.count(ctx, "SELECT COUNT(*) FROM sys_push_deliveries WHERE push_message_id = ? AND state = ?", res.PushMessageID, st)
			m, _ := db.count(ctx, "SELECT COUNT(*) FROM sys_push_deliveries WHERE push_message_id = ? AND state = ? AND sent_at IS NULL", res.PushMessageID, st)
			fmt.Fprintf(os.Stderr, "bench: %d deliveries %s (%d without sent_at)\n", n, st, m)
		}
	}
	if stored != len(res.Deliveries) || unfinished > 0 {
		problems = append(problems, fmt.Errorf("the store holds %d deliveries (%d not done or never sent), the result %d", stored, unfinished, len(res.Deliveries)))
	}
	if o.filecastThreshold > 0 {
		// A filecast is a task: the fake delivers it two task steps (2 s)
		// after it is sent, outside the measured time.
		for deadline := time.Now().Add(30 * time.Second); after.Deliveries-before.Deliveries < devices && time.Now().Before(deadline); {
			time.Sleep(200 * time.Millisecond)
			if after, err = fake.Stats(); err != nil {
				return err
			}
		}
	}
	if got := after.Deliveries - before.Deliveries; got != devices {
		problems = append(problems, fmt.Errorf("the fake Umeng delivered to %d devices, want %d", got, devices))
	}
	return errors.Join(problems...)
}

// rawCall is one pre-built, pre-signed vendor call of a raw baseline.
type rawCall struct {
	url  string
	body []byte
}

// rawUmeng builds raw baseline calls to the fake Umeng at baseURL.
type rawUmeng struct {
	baseURL string
	apps    map[string]umengtest.App
	ts      string
	expire  string
}

func newRawUmeng(baseURL string) *rawUmeng {
	r := &rawUmeng{baseURL: baseURL, apps: map[string]umengtest.App{}, ts: strconv.FormatInt(time.Now().Unix(), 10),
		expire: time.Now().Add(72 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format(time.DateTime)}
	for _, a := range umengtest.DefaultApps() {
		r.apps[a.Platform] = a
	}
	return r
}

// call is the signed /api/send of typ (listcast or unicast) to tokens of
// platform pl, showing title and text.
func (r *rawUmeng) call(pl, typ string, tokens []string, title, text string) (rawCall, error) {
	body := map[string]any{
		"appkey": r.apps[pl].AppKey, "timestamp": r.ts, "type": typ,
		"device_tokens":   strings.Join(tokens, ","),
		"production_mode": "true",
		"description":     "push_message#0",
		"policy":          map[string]any{"expire_time": r.expire},
	}
	if pl == "ios" {
		body["payload"] = map[string]any{"aps": map[string]any{"alert": map[string]any{"title": title, "body": text}}}
	} else {
		body["payload"] = map[string]any{"display_type": "notification",
			"body": map[string]any{"title": title, "text": text, "after_open": "go_app"}}
	}
	raw, err := json.Marshal(body)
	if err != nil {
		return rawCall{}, err
	}
	u := r.baseURL + "/api/send"
	return rawCall{url: u + "?sign=" + umeng.Sign(http.MethodPost, u, raw, r.apps[pl].AppMasterSecret), body: raw}, nil
}

// rawListcasts posts pre-built, pre-signed listcasts of at most 500 tokens
// to the fake with conc workers and a bare net/http client, and returns how
// long the posting took. Every answer must be 200 SUCCESS.
func rawListcasts(ctx context.Context, baseURL string, tokens map[string][]string, conc int) (time.Duration, error) {
	r := newRawUmeng(baseURL)
	var calls []rawCall
	for _, pl := range []string{"ios", "android"} {
		for toks := tokens[pl]; len(toks) > 0; {
			n := min(umengListcastMax, len(toks))
			c, err := r.call(pl, "listcast", toks[:n], "bench", "fan-out benchmark")
			if err != nil {
				return 0, err
			}
			calls = append(calls, c)
			toks = toks[n:]
		}
	}
	return postRaw(ctx, calls, conc)
}

// postRaw posts calls with conc workers and a bare net/http client, and
// returns how long the posting took. Every answer must be 200 SUCCESS.
func postRaw(ctx context.Context, calls []rawCall, conc int) (time.Duration, error) {
	client := &http.Client{Timeout: time.Minute, Transport: &http.Transport{MaxIdleConnsPerHost: conc}}
	defer client.CloseIdleConnections()
	var next atomic.Int64
	var wg sync.WaitGroup
	errs := make([]error, conc)
	start := time.Now()
	for w := range conc {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1)) - 1
				if i >= len(calls) || errs[w] != nil {
					return
				}
				req, err := http.NewRequestWithContext(ctx, http.MethodPost, calls[i].url, bytes.NewReader(calls[i].body))
				if err != nil {
					errs[w] = err
					return
				}
				req.Header.Set("Content-Type", "application/json")
				resp, err := client.Do(req)
				if err != nil {
					errs[w] = err
					return
				}
				answer, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if err != nil || resp.StatusCode != http.StatusOK || !bytes.Contains(answer, []byte(`"SUCCESS"`)) {
					errs[w] = fmt.Errorf("call %d: HTTP %d %s %v", i, resp.StatusCode, answer, err)
					return
				}
			}
		}()
	}
	wg.Wait()
	return time.Since(start), errors.Join(errs...)
}
