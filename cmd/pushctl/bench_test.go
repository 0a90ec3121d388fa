package main

import (
	"context"
	"runtime/metrics"
	"strings"
	"sync"
	"testing"
	"time"
)

// BenchmarkImport imports a file of 100,000 devices into a fresh SQLite
// database (-benchtime=1x: one import per run) and reports rows/s and the
// peak live heap sampled during the import.
func BenchmarkImport(b *testing.B) {
	const rows = 100_000
	path := writeCSV(b, rows, umengToken)
	ctx := context.Background()
	b.StopTimer()
	for range b.N {
		env := sqliteEnv(b)
		if r := runCLI(b, ctx, env, "migrate"); r.code != 0 {
			b.Fatal(r.stderr)
		}
		peak, stop := heapPeak()
		b.StartTimer()
		start := time.Now()
		r := runCLI(b, ctx, env, "devices", "import", "--quiet", path)
		el := time.Since(start)
		b.StopTimer()
		stop()
		if r.code != 0 || !strings.HasPrefix(r.stdout, "imported=100000 ") {
			b.Fatalf("exit %d: %s%s", r.code, r.stdout, r.stderr)
		}
		b.ReportMetric(float64(rows)/el.Seconds(), "rows/s")
		b.ReportMetric(float64(*peak)/(1<<20), "peak-heap-MiB")
	}
	b.StartTimer()
}

// heapPeak samples the heap's live objects every 10ms until stop, and
// records the highest reading in *peak.
func heapPeak() (peak *uint64, stop func()) {
	peak = new(uint64)
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Go(func() {
		s := []metrics.Sample{{Name: "/memory/classes/heap/objects:bytes"}}
		t := time.NewTicker(10 * time.Millisecond)
		defer t.Stop()
		for {
			metrics.Read(s)
			*peak = max(*peak, s[0].Value.Uint64())
			select {
			case <-done:
				return
			case <-t.C:
			}
		}
	})
	return peak, func() { close(done); wg.Wait() }
}
