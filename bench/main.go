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
// See README.md for every flag and how to read the RESULT line.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
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
	flag.IntVar(&o.scanConc, "scanner-concurrency", 0, "scanner: messagecenter.Config.Concurrency (0: its default)")
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
	flag.Parse()

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	var err error
	switch o.scenario {
	case "fanout":
		err = runFanout(ctx, o)
	case "scanner":
		err = runScanner(ctx, o)
	case "api":
		err = runAPI(ctx, o)
	default:
		err = errors.New(`-scenario must be fanout, scanner or api`)
		flag.Usage()
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

// printResult prints the scenario's RESULT line: numbers plain, floats
// with at most three decimals.
func printResult(scenario string, pairs ...kv) {
	var b strings.Builder
	b.WriteString("RESULT scenario=" + scenario)
	for _, p := range pairs {
		b.WriteString(" " + p.key + "=")
		switch v := p.val.(type) {
		case float64:
			b.WriteString(fmt.Sprintf("%.3f", v))
		default:
			b.WriteString(fmt.Sprint(v))
		}
	}
	fmt.Println(b.String())
}

// logf writes a progress line to stderr when -v is set.
func (o options) logf(format string, args ...any) {
	if o.verbose {
		fmt.Fprintf(os.Stderr, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05.000")}, args...)...)
	}
}
