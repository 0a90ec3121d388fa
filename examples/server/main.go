// Command server is the runnable push server: the product brief's HTTP API on an
// embedded SQLite database (or MySQL/PostgreSQL), with the message center
// Scanner running beside it. With no Umeng appkeys configured it starts a
// built-in fake Umeng (umengtest) and says so: demo mode. On SIGINT or
// SIGTERM it drains the HTTP requests and the Scanner together, letting the
// vendor calls in flight finish and be recorded, then exits.
//
//	go run ./examples/server
//
// Configuration is by environment variables; see README.md.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Getenv, log); err != nil {
		fmt.Fprintln(os.Stderr, "server:", err)
		os.Exit(1)
	}
}
