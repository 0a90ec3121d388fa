package push_test

import (
	"context"
	"fmt"
	"math"
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// BenchmarkPush measures the Service's own cost of a push to many users
// (target paging, chunking, the outbox writes, outcome bookkeeping) on the
// in-memory store and the Mock provider, without any network.
func BenchmarkPush(b *testing.B) {
	for _, users := range []int{1, 100, 2000} {
		b.Run(fmt.Sprintf("users=%d", users), func(b *testing.B) {
			ctx := context.Background()
			st, _ := memstore.New(memstore.Config{})
			m, _ := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}})
			if err != nil {
				b.Fatal(err)
			}
			nums := make([]string, users)
			for i := range users {
				nums[i] = fmt.Sprintf("u%05d", i)
				platform := "android"
				if i%3 == 0 {
					platform = "ios"
				}
				if _, err := svc.RegisterDevice(ctx, push.Device{UserNum: nums[i], UUID: "d" + nums[i], Platform: platform,
					PushToken: fmt.Sprintf("tok%040d", i)}); err != nil {
					b.Fatal(err)
				}
			}
			msg := push.Message{UserNums: nums, Title: "到货提醒", Content: "您关注的商品已到货"}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := svc.Push(ctx, msg); err != nil {
					b.Fatal(err)
				}
				m.Reset()
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(users), "ns/device")
		})
	}
}

// BenchmarkPushOneUser measures what the example server's push_message
// costs without its HTTP: pushes to one user with an iOS and an Android
// device, from 16 callers at once (GOMAXPROCS of them when it is more),
// on each SQL store and the Mock provider. Each push records its message
// and two deliveries and then their outcomes, so on SQLite it measures the
// one writer's turns (the Store's group commits) under concurrent callers.
// MySQL and PostgreSQL run when their DSN variables are set. The devices
// are registered once per store: the sub-benchmark is what runs b.N times.
func BenchmarkPushOneUser(b *testing.B) {
	const users, callers = 1000, 16
	nums := make([]string, users)
	for i := range nums {
		nums[i] = fmt.Sprint("u", i)
	}
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			st, _ := dbtest.NewStoreDB(b, d)
			m, _ := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}})
			if err != nil {
				b.Fatal(err)
			}
			for i, num := range nums {
				for j, p := range []string{"ios", "android"} {
					if _, err := svc.RegisterDevice(ctx, push.Device{UserNum: num, UUID: fmt.Sprint("d", i, "-", j),
						Platform: p, PushToken: fmt.Sprintf("tok%040d", 2*i+j)}); err != nil {
						b.Fatal(err)
					}
				}
			}
			b.Run(fmt.Sprint("callers=", callers), func(b *testing.B) {
				var n atomic.Int64
				b.SetParallelism(max(1, callers/runtime.GOMAXPROCS(0)))
				b.ReportAllocs()
				b.RunParallel(func(pb *testing.PB) {
					for pb.Next() {
						num := nums[n.Add(1)%users]
						res, err := svc.Push(ctx, push.Message{UserNums: []string{num}, Title: "到货提醒", Content: "您关注的商品已到货"})
						if err != nil {
							b.Error(err)
							return
						}
						// The Mock answers a unicast as done.
						if res.Devices != 2 || len(res.Deliveries) != 2 || res.Deliveries[0].State != registry.DeliveryDone ||
							res.Deliveries[1].State != registry.DeliveryDone {
							b.Errorf("push to %s: %d devices, deliveries %+v; want 2 devices in 2 done deliveries", num, res.Devices, res.Deliveries)
							return
						}
					}
				})
				b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "pushes/s")
			})
		})
	}
}

// BenchmarkRetryPending measures a pass over a wave of due retries: 500
// deliveries (one per push) that the Mock refuses again, so that each
// round of b.N claims, sends and reschedules the same 500. It reports the
// pass's cost per delivery on each SQL store (MySQL and PostgreSQL when
// their DSN variables are set): the claims (rounds of twice
// SendConcurrency), the message reads, the calls and the finishes.
func BenchmarkRetryPending(b *testing.B) {
	const due = 500
	for _, d := range dbtest.Dialects() {
		b.Run(string(d), func(b *testing.B) {
			ctx := context.Background()
			st, _ := dbtest.NewStoreDB(b, d)
			m, _ := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			var now atomic.Int64
			now.Store(time.Now().Truncate(time.Second).UnixNano())
			clock := func() time.Time { return time.Unix(0, now.Load()) }
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clock,
				Retry: push.RetryPolicy{MaxAttempts: math.MaxInt32, Jitter: -1}})
			if err != nil {
				b.Fatal(err)
			}
			refused := m.Err(provider.Temporary, "503")
			m.FailNext(due, refused)
			for i := range due {
				num := fmt.Sprint("u", i)
				if _, err := svc.RegisterDevice(ctx, push.Device{UserNum: num, UUID: "d" + num, Platform: "android",
					PushToken: fmt.Sprintf("tok%040d", i)}); err != nil {
					b.Fatal(err)
				}
				if _, err := svc.Push(ctx, push.Message{UserNums: []string{num}, Title: "到货提醒", Content: "您关注的商品已到货"}); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				now.Add(int64(2 * time.Hour)) // past every backoff
				m.FailNext(due, refused)
				n, err := svc.RetryPending(ctx, 10*due)
				if err != nil {
					b.Fatal(err)
				}
				if n != due {
					b.Fatalf("claimed %d, want %d", n, due)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*due), "ns/delivery")
		})
	}
}
