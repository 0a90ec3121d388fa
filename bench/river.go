package main

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/riverqueue/river"
	"github.com/riverqueue/river/riverdriver/riverpgxv5"
	"github.com/riverqueue/river/rivermigrate"
)

// riverSchema is the schema of the River baseline, made in the scanner
// scenario's fresh database (and dropped with it).
const riverSchema = "river_bench"

// noopArgs is the River job of the baseline: it does nothing.
type noopArgs struct{}

func (noopArgs) Kind() string { return "bench_noop" }

type noopWorker struct {
	river.WorkerDefaults[noopArgs]
}

func (noopWorker) Work(context.Context, *river.Job[noopArgs]) error { return nil }

// riverBaseline migrates River into a fresh schema of the database at dsn,
// inserts n no-op jobs and times a client with MaxWorkers 1000,
// FetchCooldown 1ms and FetchPollInterval 1ms from Start until every job
// is completed.
func riverBaseline(ctx context.Context, dsn string, n int, timeout time.Duration) (time.Duration, error) {
	pool, err := pgxpool.New(ctx, dsn)
	if err != nil {
		return 0, err
	}
	defer pool.Close()
	if _, err := pool.Exec(ctx, "CREATE SCHEMA "+riverSchema); err != nil {
		return 0, err
	}
	driver := riverpgxv5.New(pool)
	quiet := slog.New(slog.DiscardHandler)
	mig, err := rivermigrate.New(driver, &rivermigrate.Config{Schema: riverSchema, Logger: quiet})
	if err != nil {
		return 0, err
	}
	if _, err := mig.Migrate(ctx, rivermigrate.DirectionUp, nil); err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	workers := river.NewWorkers()
	river.AddWorker(workers, noopWorker{})
	client, err := river.NewClient(driver, &river.Config{
		Schema:            riverSchema,
		Logger:            quiet,
		Queues:            map[string]river.QueueConfig{river.QueueDefault: {MaxWorkers: 1000}},
		FetchCooldown:     time.Millisecond,
		FetchPollInterval: time.Millisecond,
		Workers:           workers,
	})
	if err != nil {
		return 0, err
	}
	const perInsert = 1000
	for done := 0; done < n; done += perInsert {
		params := make([]river.InsertManyParams, min(perInsert, n-done))
		for i := range params {
			params[i] = river.InsertManyParams{Args: noopArgs{}}
		}
		if _, err := client.InsertMany(ctx, params); err != nil {
			return 0, fmt.Errorf("insert: %w", err)
		}
	}
	events, cancelSub := client.SubscribeConfig(&river.SubscribeConfig{ChanSize: n + 1024, Kinds: []river.EventKind{river.EventKindJobCompleted}})
	defer cancelSub()
	rctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	start := time.Now()
	if err := client.Start(rctx); err != nil {
		return 0, err
	}
	completed := 0
	for completed < n {
		select {
		case <-events:
			completed++
		case <-rctx.Done():
			_ = client.Stop(context.WithoutCancel(ctx))
			return 0, fmt.Errorf("%d of %d jobs completed within %v", completed, n, timeout)
		}
	}
	elapsed := time.Since(start)
	stopCtx, stopCancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
	defer stopCancel()
	if err := client.Stop(stopCtx); err != nil {
		return 0, fmt.Errorf("stop: %w", err)
	}
	var stored int
	if err := pool.QueryRow(ctx, "SELECT COUNT(*) FROM "+riverSchema+".river_job WHERE state = 'completed'").Scan(&stored); err != nil {
		return 0, err
	}
	if stored != n {
		return 0, fmt.Errorf("%d of %d jobs completed in the table", stored, n)
	}
	return elapsed, nil
}
