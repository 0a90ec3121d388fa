package memstore_test

import (
	"context"
	"fmt"
	"time"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// A device registered by one user and then by another belongs to the
// second user only: the first is logged out of it.
func ExampleStore_RegisterDevice() {
	ctx := context.Background()
	s, err := memstore.New(memstore.Config{})
	if err != nil {
		panic(err)
	}
	phone := &registry.Device{UUID: "phone-1", Platform: registry.PlatformAndroid, PushToken: "token-1"}
	for _, user := range []string{"alice", "bob"} {
		if _, _, err := s.RegisterDevice(ctx, phone, user); err != nil {
			panic(err)
		}
	}
	for _, user := range []string{"alice", "bob"} {
		targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{user}})
		if err != nil {
			panic(err)
		}
		fmt.Println(user, len(targets))
	}
	// Output:
	// alice 0
	// bob 1
}

// Center messages are claimed with a lease; a finishing write with the
// claim token releases the row.
func ExampleStore_ClaimCenterMessages() {
	ctx := context.Background()
	s, err := memstore.New(memstore.Config{})
	if err != nil {
		panic(err)
	}
	m := &registry.CenterMessage{Title: "Disk almost full", Content: "92% used", NotifyMode: "push", Receivers: "ops-1"}
	if err := s.EnqueueCenterMessage(ctx, m); err != nil {
		panic(err)
	}
	now := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	claimed, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: 10, Lease: time.Minute})
	if err != nil {
		panic(err)
	}
	row := claimed[0]
	fmt.Println(row.Title, "attempt", row.Attempts, "leased until", row.LeaseUntil.Format(time.TimeOnly))

	row.SendState, row.SendResult = registry.SendStateSent, "push_message#1"
	if err := s.FinishCenterMessage(ctx, &row); err != nil {
		panic(err)
	}
	again, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now.Add(time.Hour), Limit: 10, Lease: time.Minute})
	if err != nil {
		panic(err)
	}
	fmt.Println("claimable after sending:", len(again))
	// Output:
	// Disk almost full attempt 1 leased until 00:01:00
	// claimable after sending: 0
}
