package memstore_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// BenchmarkFinishDelivery measures one FinishDelivery in a push of 400
// deliveries of 500 tokens (issue #9): it must not grow with the push.
func BenchmarkFinishDelivery(b *testing.B) {
	const deliveries, tokens = 400, 500
	ctx := context.Background()
	s, err := memstore.New(memstore.Config{})
	if err != nil {
		b.Fatal(err)
	}
	now := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
	ds := make([]*registry.Delivery, deliveries)
	for i := range ds {
		ts := make([]string, tokens)
		for j := range ts {
			ts[j] = fmt.Sprintf("tok%040d", i*tokens+j)
		}
		ds[i] = &registry.Delivery{Provider: "umeng", Platform: registry.PlatformAndroid, Seq: i,
			Audience: registry.AudienceTokens, Tokens: ts, IdempotencyKey: fmt.Sprint("bench-", i),
			State: registry.DeliveryPending, NextAttemptAt: now}
	}
	m := registry.PushMessage{Title: "bench", Content: "c", PushType: registry.PushTypeUsers}
	if err := s.CreatePushMessage(ctx, &m, ds); err != nil {
		b.Fatal(err)
	}
	n := 0
	b.ReportAllocs()
	for b.Loop() {
		i := n % deliveries
		if i == 0 {
			b.StopTimer()
			// Every delivery is claimable again: pending ones by a send
			// claim, accepted ones by a poll claim, each a minute later.
			at := now.Add(time.Duration(n/deliveries+1) * time.Hour)
			kind := registry.ClaimSend
			if n > 0 {
				kind = registry.ClaimPoll
			}
			claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: at, Limit: deliveries, Lease: time.Minute, Kind: kind})
			if err != nil || len(claimed) != deliveries {
				b.Fatalf("claimed %d: %v", len(claimed), err)
			}
			for j := range claimed {
				*ds[j] = claimed[j]
			}
			b.StartTimer()
		}
		n++
		out := *ds[i]
		out.State, out.Pollable, out.VendorState = registry.DeliveryAccepted, true, "queued"
		out.ReceiptID, out.Ret, out.Response = fmt.Sprint("uf-", i), registry.RetSuccess, `{"ret":"SUCCESS"}`
		sent := now.Add(time.Duration(n) * time.Millisecond)
		out.SentAt, out.NextAttemptAt = &sent, now
		if err := s.FinishDelivery(ctx, &out); err != nil {
			b.Fatal(err)
		}
	}
}
