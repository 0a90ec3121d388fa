package push_test

import (
	"context"
	"fmt"
	"testing"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
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
