// Command pushctl operates a push database from the command line: it
// applies the migrations, imports devices from another push service,
// sends a push, shows a push's status, and enqueues and follows rows of
// the message center. It is configured by the same environment variables
// as examples/server (PUSH_DB_DRIVER, PUSH_DB_DSN, UMENG_*, JPUSH_*,
// GETUI_*; README.md has the table), except the server's own PUSH_ADDR,
// PUSH_API_TOKEN and PUSH_SCAN_INTERVAL, which it ignores. Unlike the
// server it never starts fakes: push needs a provider's credentials; the
// commands that only read (status, devices list) need none.
//
//	pushctl migrate                   apply the migrations
//	pushctl migrate status [--check]  show the applied and latest versions (--check: exit 1 if any is pending)
//	pushctl devices list USER [--json] list a user's devices
//	pushctl devices import FILE.csv   register the devices of a CSV file
//	pushctl push USER... --title T --content C [--class marketing|service] [--extra k=v]... [--dedupe-key K]
//	pushctl status ID [--json]        show a push's status and receipts
//	pushctl center enqueue --user U --mode push|sms|email --title T --content C [--send-at TIME]
//	pushctl center tail [--since-id N] [--interval 1s]
//
// "pushctl help COMMAND" and "pushctl COMMAND -h" describe each command.
// Exit status: 0 ok, 1 failure, 2 usage error (a flag or argument, or a
// value the library refused before it wrote anything); an error is one
// line on standard error, "pushctl: COMMAND: what went wrong".
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/tuisong/push/internal/serverenv"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	done := make(chan struct{})
	go func() {
		select {
		case <-ctx.Done():
			// The first signal stops the command, which lets the vendor
			// calls and writes in flight finish (a minute at most); a
			// second one, no longer caught, ends the process at once.
			stop()
			fmt.Fprintln(os.Stderr, "pushctl: interrupted: finishing the calls and writes in flight; interrupt again to quit at once")
		case <-done:
		}
	}()
	// The MySQL driver's own notes as slog lines on stderr, as every
	// other warning.
	_ = mysql.SetLogger(serverenv.DriverLog{Log: slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr, os.Getenv)
	// Not stop(): that would end ctx too, and the goroutine, finding both
	// cases ready, could report an interruption that never happened.
	close(done)
	os.Exit(code)
}
