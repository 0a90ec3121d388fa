package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"runtime"
	"time"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng/umengtest"
)

// runScanner times one Scanner with its default configuration draining
// -rows push rows of sys_message_center, each to one user with one
// Android device, and on PostgreSQL the same number of no-op River jobs.
func runScanner(ctx context.Context, o options) (err error) {
	if o.rows < 1 {
		return errors.New("-rows must be at least 1")
	}
	dir, err := os.MkdirTemp("", "push-bench-scanner-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	db, err := openBenchDB(ctx, o.db, serverDSN(o.db, o.dsn), dir)
	if err != nil {
		return err
	}
	defer func() {
		if cerr := db.Close(); cerr != nil && err == nil {
			err = fmt.Errorf("drop the bench database: %w", cerr)
		}
	}()
	t0 := time.Now()
	if _, err := db.seed(ctx, seedSpec{users: o.rows, devicesPerUser: 1, androidOnly: true, centerRows: true}); err != nil {
		return err
	}
	o.logf("seeded %d users and center rows on %s in %v", o.rows, o.db, time.Since(t0))
	fake, err := startFake()
	if err != nil {
		return err
	}
	defer fake.Close()
	um, err := umengClient(fake.URL, 0)
	if err != nil {
		return err
	}
	svc, err := push.New(push.Config{Store: db.store, Providers: []provider.Provider{um}})
	if err != nil {
		return err
	}
	// Default configuration (unless -batch or -scanner-concurrency say
	// otherwise), but RunOnce is called here pass after pass instead of
	// waiting for Run's minute.
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, BatchSize: o.batch, Concurrency: o.scanConc})
	if err != nil {
		return err
	}
	// The raw baseline: the same vendor calls, one unicast a row, posted
	// by a bare net/http client with the Scanner's vendor concurrency and
	// no database. Its rate bounds what any Scanner can reach here.
	conc := o.scanConc
	if conc == 0 {
		conc = 8 // messagecenter.Config.Concurrency's default
	}
	raw := newRawUmeng(fake.URL)
	calls := make([]rawCall, o.rows)
	for u := 1; u <= o.rows; u++ {
		user := userNum(u)
		if calls[u-1], err = raw.call("android", "unicast", []string{umengtest.AndroidToken(user + "-0")}, "bench", "bench message for "+user); err != nil {
			return err
		}
	}
	rawElapsed, err := postRaw(ctx, calls, conc)
	if err != nil {
		return fmt.Errorf("raw baseline: %w", err)
	}
	rawPS := float64(o.rows) / rawElapsed.Seconds()
	o.logf("raw baseline: %d unicasts in %v", o.rows, rawElapsed)
	before, err := fake.Stats()
	if err != nil {
		return err
	}
	sctx, cancel := context.WithTimeout(ctx, o.timeout)
	defer cancel()
	const unsentQuery = "SELECT COUNT(*) FROM sys_message_center WHERE send_state = 0"
	load := loadAvg()
	runtime.GC()
	prof, err := startProfile(o.cpuProfile, o.memProfile)
	if err != nil {
		return err
	}
	heap := startHeapSampler(2 * time.Millisecond)
	start := time.Now()
	passes, unsent := 0, o.rows
	var rep messagecenter.Report
	var runErr error
	for unsent > 0 && sctx.Err() == nil && passes < 10000 {
		r, err := sc.RunOnce(sctx)
		passes++
		rep.Claimed += r.Claimed
		rep.Sent += r.Sent
		rep.Failed += r.Failed
		rep.Rescheduled += r.Rescheduled
		if err != nil {
			runErr = err
			break
		}
		if unsent, err = db.count(ctx, unsentQuery); err != nil {
			runErr = err
			break
		}
	}
	elapsed := time.Since(start)
	peakObj, _ := heap.Stop()
	if err := prof.Stop(); err != nil {
		return err
	}
	if runErr != nil {
		return fmt.Errorf("scanner pass %d: %w", passes, runErr)
	}
	if unsent > 0 {
		return fmt.Errorf("%d of %d rows still unsent after %d passes and %v (-timeout %v)", unsent, o.rows, passes, elapsed, o.timeout)
	}
	o.logf("scanner: %d rows in %v, %d passes", o.rows, elapsed, passes)
	after, err := fake.Stats()
	if err != nil {
		return err
	}
	rowsPS := float64(o.rows) / elapsed.Seconds()
	result := []kv{{"db", o.db}, {"rows", o.rows}, {"batch", o.batch}, {"concurrency", o.scanConc}, {"passes", passes}, {"seconds", elapsed.Seconds()},
		{"rows_per_s", rowsPS}, {"raw_calls_per_s", rawPS}, {"ratio_vs_raw", rowsPS / rawPS}, {"sent", rep.Sent}, {"failed", rep.Failed}, {"rescheduled", rep.Rescheduled},
		{"provider_calls", (after.Send - before.Send) + (after.Upload - before.Upload)},
		{"peak_heap_mib", peakObj}, {"rss_mib", procStatusMiB("VmHWM")}, {"loadavg_1m", load}}

	if o.db == "postgres" {
		rt, err := riverBaseline(ctx, db.dsn, o.rows, o.timeout)
		if err != nil {
			return fmt.Errorf("river baseline: %w", err)
		}
		riverPS := float64(o.rows) / rt.Seconds()
		o.logf("river: %d jobs in %v", o.rows, rt)
		result = append(result, kv{"river_jobs_per_s", riverPS}, kv{"ratio_vs_river", rowsPS / riverPS})
	}
	o.printResult("scanner", result...)

	var problems []error
	sent, err := db.count(ctx, "SELECT COUNT(*) FROM sys_message_center WHERE send_state = 1")
	if err != nil {
		return err
	}
	if sent != o.rows {
		problems = append(problems, fmt.Errorf("%d of %d center rows sent (send_state 1)", sent, o.rows))
	}
	open, err := db.count(ctx, "SELECT COUNT(*) FROM sys_push_deliveries WHERE state NOT IN ('done', 'accepted')")
	if err != nil {
		return err
	}
	if open > 0 {
		problems = append(problems, fmt.Errorf("%d deliveries not done", open))
	}
	if got := after.Deliveries - before.Deliveries; got != o.rows {
		problems = append(problems, fmt.Errorf("the fake Umeng delivered to %d devices, want %d", got, o.rows))
	}
	return errors.Join(problems...)
}
