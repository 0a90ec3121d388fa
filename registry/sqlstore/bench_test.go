package sqlstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
)

// BenchmarkClaimCenterMessages measures one claim of a batch of 100 due
// rows (and finishing them) from a table that already holds 10,000 sent
// rows: the per-tick query must not grow with the table.
func BenchmarkClaimCenterMessages(b *testing.B) {
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			s := dbtest.NewStore(b, d)
			ctx := context.Background()
			now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
			enqueue := func(n int) {
				for i := range n {
					m := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: fmt.Sprint("u", i)}
					if err := s.EnqueueCenterMessage(ctx, &m); err != nil {
						b.Fatal(err)
					}
				}
			}
			finish := func(rows []registry.CenterMessage) {
				for i := range rows {
					rows[i].SendState = registry.SendStateSent
					if err := s.FinishCenterMessage(ctx, &rows[i]); err != nil {
						b.Fatal(err)
					}
				}
			}
			enqueue(10000)
			for {
				rows, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: 500, Lease: time.Minute})
				if err != nil {
					b.Fatal(err)
				}
				if len(rows) == 0 {
					break
				}
				finish(rows)
			}
			b.ResetTimer()
			for b.Loop() {
				b.StopTimer()
				enqueue(100)
				b.StartTimer()
				rows, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: 100, Lease: time.Minute})
				if err != nil || len(rows) != 100 {
					b.Fatalf("claimed %d: %v", len(rows), err)
				}
				b.StopTimer()
				finish(rows)
				b.StartTimer()
			}
		})
	}
}
