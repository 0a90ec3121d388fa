package providertest

import (
	"maps"
	"slices"

	"github.com/tuisong/push/provider"
)

// cloneRequest returns a copy of r that shares no slice, map or pointer with
// it, so that neither the caller nor a scripted send function can change what
// the Mock recorded. Override values are copied by value: their own insides
// belong to the vendor packages that define them.
func cloneRequest(r *provider.Request) provider.Request {
	c := *r
	c.Audience.Tokens = slices.Clone(r.Audience.Tokens)
	c.Audience.Aliases = slices.Clone(r.Audience.Aliases)
	c.Audience.Tags = slices.Clone(r.Audience.Tags)
	c.Audience.Filter = slices.Clone(r.Audience.Filter)
	c.Notification.Extras = maps.Clone(r.Notification.Extras)
	if r.Notification.Badge != nil {
		b := *r.Notification.Badge
		c.Notification.Badge = &b
	}
	c.Overrides = maps.Clone(r.Overrides)
	return c
}

// cloneReceipt returns a copy of rc that shares no slice with it, so a
// receipt scripted once cannot be changed through the one handed out.
func cloneReceipt(rc *provider.Receipt) *provider.Receipt {
	c := *rc
	c.Raw = slices.Clone(rc.Raw)
	c.Failures = slices.Clone(rc.Failures)
	return &c
}

// cloneStatus returns a copy of s that shares no slice with it.
func cloneStatus(s provider.Status) *provider.Status {
	s.Raw = slices.Clone(s.Raw)
	return &s
}
