// Command bench measures the push library: one Service.Push to many users
// (fanout), the message-center Scanner draining a queue (scanner), and the
// example server's HTTP API (api). Each scenario measures its baseline in
// the same run and ends by printing one line:
//
//	RESULT scenario=<name> key=value ...
//
// Run it from this directory:
//
//	go run . -scenario fanout -users 100000
//	go run . -scenario scanner -rows 20000 -db postgres
//	go run . -scenario api -duration 10s -clients 16
//
// With -count N each run prints its line as "RUN i/N scenario=…" and the
// RESULT line holds the median of each key over the N runs.
//
// See README.md for every flag and how to read the RESULT line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// options are the command-line flags of every scenario.
type options struct {
	scenario       string
	users          int
	devicesPerUser int
	concurrency    int
	// filecastThreshold is umeng.Config.FilecastThreshold for fanout.
	filecastThreshold int
	// whole hides the store's registry.Fanouts from fanout's Service.
	whole       bool
	rows        int
	batch       int
	scanConc    int
	db          string
	dsn         string
	duration    time.Duration
	clients     int
	apiUsers    int
	maxRequests int
	timeout     time.Duration
	cpuProfile  string
	memProfile  string
	verbose     bool
	// count is how many times the scenario runs (-count); results
	// collects each run's pairs, run is the run under way (from 1).
	count   int
	run     int
	results *[][]kv
}

func main() {
	// The fake Umeng runs in a child process of this binary, so that its
	// CPU and memory stay out of what is measured here.
	if len(os.Args) > 1 && os.Args[1] == fakeCommand {
		if err := serveFake(os.Args[2:]); err != nil {
			fmt.Fprintln(os.Stderr, "bench fake umeng:", err)
			os.Exit(1)
		}
		return
	}
	var o options
	flag.StringVar(&o.scenario, "scenario", "", "fanout, scanner or api (required)")
	flag.IntVar(&o.users, "users", 100000, "fanout: users to push to")
	flag.IntVar(&o.devicesPerUser, "devices-per-user", 2, "fanout: devices per user, alternating iOS and Android")
	flag.IntVar(&o.concurrency, "concurrency", 0, "fanout: Service.SendConcurrency and the raw baseline's workers (0: the Service's default, 4)")
	flag.IntVar(&o.filecastThreshold, "filecast-threshold", 0, "fanout: umeng.Config.FilecastThreshold (0: listcasts only; min_calls stays the listcasts' minimum)")
	flag.BoolVar(&o.whole, "whole", false, "fanout: record the push whole, as on a store without registry.Fanouts (the default records a push to more than 10,000 users in stages)")
	flag.IntVar(&o.rows, "rows", 20000, "scanner: message-center rows (and users)")
	flag.IntVar(&o.batch, "batch", 0, "scanner: messagecenter.Config.BatchSize (0: its default)")
	flag.IntVar(&o.scanConc, "scanner-concurrency", 0, "scanner: messagecenter.Config.Concurrency and the raw baseline's workers (0: its default, 8)")
	flag.StringVar(&o.db, "db", "sqlite", "scanner: sqlite, mysql or postgres")
	flag.StringVar(&o.dsn, "dsn", "", "scanner: server DSN for mysql/postgres (default: $PUSH_TEST_MYSQL_DSN / $PUSH_TEST_POSTGRES_DSN, else the local server); a fresh database push_bench_<random> is created on it and dropped at the end")
	flag.DurationVar(&o.duration, "duration", 10*time.Second, "api: how long each phase (push, query) runs")
	flag.IntVar(&o.clients, "clients", 16, "api: concurrent HTTP clients")
	flag.IntVar(&o.apiUsers, "api-users", 1000, "api: users registered, each with an iOS and an Android device")
	flag.IntVar(&o.maxRequests, "max-requests", 1000000, "api: most requests per phase")
	flag.DurationVar(&o.timeout, "timeout", 10*time.Minute, "bound of the measured operation; exceeding it fails the run")
	flag.StringVar(&o.cpuProfile, "cpuprofile", "", "fanout, scanner: write a CPU profile of the measured operation to this file")
	flag.StringVar(&o.memProfile, "memprofile", "", "fanout, scanner: write a heap profile taken after the measured operation to this file")
	flag.BoolVar(&o.verbose, "v", false, "log progress to stderr")
	flag.IntVar(&o.count, "count", 1, "runs of the scenario, one after another; the RESULT line holds each key's median")
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var run func(context.Context, options) error
	switch o.scenario {
	case "fanout":
		run = runFanout
	case "scanner":
		run = runScanner
	case "api":
		run = runAPI
	}
	err := checkOptions(o)
	if run == nil {
		err = errors.New(`-scenario must be fanout, scanner or api`)
		flag.Usage()
	}
	if err == nil {
		o.results = new([][]kv)
		for o.run = 1; o.run <= o.count && err == nil; o.run++ {
			err = run(ctx, o)
		}
		if err == nil && o.count > 1 {
			fmt.Println(resultLine("RESULT", o.scenario, medians(*o.results)))
		}
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// kv is one key=value pair of a RESULT line.
type kv struct {
	key string
	val any
}

// checkOptions refuses flags that cannot work together.
func checkOptions(o options) error {
	switch {
	case o.count < 1:
		return fmt.Errorf("-count must be at least 1, not %d", o.count)
	case o.count > 1 && (o.cpuProfile != "" || o.memProfile != ""):
		return errors.New("-cpuprofile and -memprofile profile one run: use them with -count 1")
	}
	return nil
}

// printResult prints the line of the run under way: the RESULT line with
// -count 1, else "RUN i/N …" (main prints the RESULT line of the medians
// after the last run).
func (o options) printResult(scenario string, pairs ...kv) {
	if o.results != nil {
		*o.results = append(*o.results, pairs)
	}
	prefix := "RESULT"
	if o.count > 1 {
		prefix = fmt.Sprintf("RUN %d/%d", o.run, o.count)
	}
	fmt.Println(resultLine(prefix, scenario, pairs))
}

// resultLine formats a result: numbers plain, floats with at most three
// decimals.
func resultLine(prefix, scenario string, pairs []kv) string {
	var b strings.Builder
	b.WriteString(prefix + " scenario=" + scenario)
	for _, p := range pairs {
		b.WriteString(" " + p.key + "=")
		switch v := p.val.(type) {
		case float64:
			b.WriteString(fmt.Sprintf("%.3f", v))
		default:
			b.WriteString(fmt.Sprint(v))
		}
	}
	return b.String()
}

// medians returns the pairs of the first run with each value the median
// of that key over all runs: a value every run shares is kept as it is;
// numbers that differ give their median (the mean of the middle two for an
// even count); anything else that differs is the runs' values joined
// with commas. A ratio's median is the median of each run's own ratio,
// whose baseline was measured in that run.
func medians(runs [][]kv) []kv {
	if len(runs) == 0 {
		return nil
	}
	out := slices.Clone(runs[0])
	for i, p := range out {
		var texts []string
		var nums []float64
		numeric := true
		for _, r := range runs {
			v := r[i].val
			texts = append(texts, fmt.Sprint(v))
			switch n := v.(type) {
			case float64:
				nums = append(nums, n)
			case int:
				nums = append(nums, float64(n))
			case int64:
				nums = append(nums, float64(n))
			default:
				numeric = false
			}
		}
		switch {
		case len(slices.Compact(slices.Clone(texts))) == 1:
			// every run the same
		case numeric:
			slices.Sort(nums)
			m := nums[len(nums)/2]
			if len(nums)%2 == 0 {
				m = (nums[len(nums)/2-1] + m) / 2
			}
			if _, isFloat := p.val.(float64); !isFloat && m == float64(int64(m)) {
				out[i].val = strconv.FormatInt(int64(m), 10)
			} else {
				out[i].val = m
			}
		default:
			out[i].val = strings.Join(texts, ",")
		}
	}
	return append([]kv{{"runs", len(runs)}}, out...)
}

// logf writes a progress line to stderr when -v is set.
func (o options) logf(format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
}
