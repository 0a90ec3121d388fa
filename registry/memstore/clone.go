package memstore

import (
	"slices"
	"time"

	"github.com/tuisong/push/registry"
)

// The clone functions give the Store and its callers separate copies of a
// row: every pointer and slice is copied, so neither side can change the
// other's row through an alias.

func cloneTime(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	c := t.Round(0)
	return &c
}

func cloneDevice(d *registry.Device) registry.Device {
	c := *d
	c.TokenDisabledAt = cloneTime(d.TokenDisabledAt)
	return c
}

func clonePushMessage(m *registry.PushMessage) registry.PushMessage {
	c := *m
	c.ExpireAt = cloneTime(m.ExpireAt)
	return c
}

func cloneDelivery(d *registry.Delivery) registry.Delivery {
	c := *d
	c.Tokens = slices.Clone(d.Tokens)
	c.NextAttemptAt = d.NextAttemptAt.Round(0)
	c.ExpireAt = cloneTime(d.ExpireAt)
	c.SentAt = cloneTime(d.SentAt)
	c.LeaseUntil = cloneTime(d.LeaseUntil)
	return c
}

func cloneCenterMessage(m *registry.CenterMessage) registry.CenterMessage {
	c := *m
	c.SendAt = cloneTime(m.SendAt)
	c.NextAttemptAt = cloneTime(m.NextAttemptAt)
	c.LeaseUntil = cloneTime(m.LeaseUntil)
	return c
}
