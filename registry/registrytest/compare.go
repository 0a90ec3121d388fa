package registrytest

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/registry"
)

// The norm functions make two rows comparable with assert.Equal when they
// hold the same values: times are moved to UTC (stores read DATETIME back in
// their own zone), the store-stamped CreatedAt/UpdatedAt are dropped (the
// suite does not control the store's clock), and an empty token list is nil
// however the store spells it.

func normTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := t.UTC()
	return &u
}

func normDelivery(d registry.Delivery) registry.Delivery {
	d.NextAttemptAt = d.NextAttemptAt.UTC()
	d.ExpireAt = normTime(d.ExpireAt)
	d.SentAt = normTime(d.SentAt)
	d.LeaseUntil = normTime(d.LeaseUntil)
	d.CreatedAt, d.UpdatedAt = time.Time{}, time.Time{}
	if len(d.Tokens) == 0 {
		d.Tokens = nil
	}
	return d
}

func normMessage(m registry.PushMessage) registry.PushMessage {
	m.ExpireAt = normTime(m.ExpireAt)
	m.CreatedAt, m.UpdatedAt = time.Time{}, time.Time{}
	m.UserNums = nil // written, never read back
	return m
}

func normCenter(m registry.CenterMessage) registry.CenterMessage {
	m.SendAt = normTime(m.SendAt)
	m.NextAttemptAt = normTime(m.NextAttemptAt)
	m.LeaseUntil = normTime(m.LeaseUntil)
	m.CreatedAt, m.UpdatedAt = time.Time{}, time.Time{}
	return m
}

func normDevice(d registry.Device) registry.Device {
	d.TokenDisabledAt = normTime(d.TokenDisabledAt)
	d.CreatedAt, d.UpdatedAt = time.Time{}, time.Time{}
	return d
}

func normLink(l registry.UserDevice) registry.UserDevice {
	l.CreatedAt, l.UpdatedAt = time.Time{}, time.Time{}
	return l
}

func assertDelivery(t *testing.T, want, got registry.Delivery, msgAndArgs ...any) bool {
	t.Helper()
	return assert.Equal(t, normDelivery(want), normDelivery(got), msgAndArgs...)
}

func assertDeliveries(t *testing.T, want, got []registry.Delivery, msgAndArgs ...any) bool {
	t.Helper()
	w := make([]registry.Delivery, len(want))
	for i, d := range want {
		w[i] = normDelivery(d)
	}
	g := make([]registry.Delivery, len(got))
	for i, d := range got {
		g[i] = normDelivery(d)
	}
	return assert.Equal(t, w, g, msgAndArgs...)
}

func assertCenter(t *testing.T, want, got registry.CenterMessage, msgAndArgs ...any) bool {
	t.Helper()
	return assert.Equal(t, normCenter(want), normCenter(got), msgAndArgs...)
}

func assertMessage(t *testing.T, want, got registry.PushMessage, msgAndArgs ...any) bool {
	t.Helper()
	return assert.Equal(t, normMessage(want), normMessage(got), msgAndArgs...)
}

// values dereferences the deliveries a test passed to CreatePushMessage,
// which the store has given their IDs.
func values(ds []*registry.Delivery) []registry.Delivery {
	out := make([]registry.Delivery, len(ds))
	for i, d := range ds {
		out[i] = *d
	}
	return out
}

// assertTimeEqual compares two instants whatever their zones.
func assertTimeEqual(t *testing.T, want time.Time, got *time.Time, msgAndArgs ...any) bool {
	t.Helper()
	if !assert.NotNil(t, got, msgAndArgs...) {
		return false
	}
	return assert.Equal(t, want.UTC(), got.UTC(), msgAndArgs...)
}
