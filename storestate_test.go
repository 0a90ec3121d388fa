package push_test

import (
	"context"
	"errors"
	"testing"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// storeState is every row of a memstore that the handlers can write:
// devices, user-device links, push messages and their deliveries. Two
// states compare equal with reflect.DeepEqual exactly when nothing was
// written in between (the fixture's clock does not move by itself).
type storeState struct {
	Devices    []registry.Device
	Links      []registry.UserDevice
	Messages   []registry.PushMessage
	Deliveries []registry.Delivery
}

// readState reads every row of st through its public API. IDs are handed
// out from 1 without gaps, so each kind is read until its first missing ID.
func readState(t testing.TB, st *memstore.Store) storeState {
	t.Helper()
	ctx := context.Background()
	var s storeState
	for id := int64(1); ; id++ {
		d, err := st.GetDevice(ctx, id)
		if done(t, err) {
			break
		}
		s.Devices = append(s.Devices, d)
	}
	for id := int64(1); ; id++ {
		l, err := st.GetUserDevice(ctx, id)
		if done(t, err) {
			break
		}
		s.Links = append(s.Links, l)
	}
	for id := int64(1); ; id++ {
		m, err := st.GetPushMessage(ctx, id)
		if done(t, err) {
			break
		}
		s.Messages = append(s.Messages, m)
		ds, err := st.ListDeliveries(ctx, id)
		if err != nil {
			t.Fatalf("list deliveries of push message %d: %v", id, err)
		}
		s.Deliveries = append(s.Deliveries, ds...)
	}
	return s
}

// done reports whether err ends a scan of IDs: ErrNotFound. Any other error
// fails the test.
func done(t testing.TB, err error) bool {
	t.Helper()
	if errors.Is(err, registry.ErrNotFound) {
		return true
	}
	if err != nil {
		t.Fatalf("read the store: %v", err)
	}
	return false
}
