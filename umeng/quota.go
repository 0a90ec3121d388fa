package umeng

import (
	"github.com/tuisong/push/provider"
)

// quotaKey names one bucket: an app (by platform) and a limited cast.
type quotaKey struct {
	platform provider.Platform
	cast     castType // castBroadcast, castGroupcast, castFilecast or castCustomizedcast (by file)
}

// quotaOf returns the bucket key of a send to t on platform p, and false
// for the casts Umeng does not limit.
func quotaOf(p provider.Platform, t *target) (quotaKey, bool) {
	switch {
	case t.cast == castBroadcast || t.cast == castGroupcast:
		return quotaKey{p, t.cast}, true
	case t.cast == castFilecast, t.cast == castCustomizedcast && t.alias == "":
		return quotaKey{p, t.cast}, true
	}
	return quotaKey{}, false
}

// quota returns the Quota of bucket k.
func (q Quotas) quota(k quotaKey) provider.Quota {
	switch k.cast {
	case castBroadcast:
		return q.Broadcast
	case castGroupcast:
		return q.Groupcast
	}
	return q.Filecast
}

// takeQuota takes a token for a send to t on platform p, or returns the
// RateLimited error of an empty bucket. It is called once per Send, before
// any network call (the upload of StrategyFilecast included).
func (c *Client) takeQuota(p provider.Platform, t *target) error {
	k, limited := quotaOf(p, t)
	if !limited {
		return nil
	}
	if wait, ok := c.limits.Take(k, c.now()); !ok {
		return provider.QuotaError(Name, opSend, string(p)+" "+string(k.cast), c.quotas.quota(k), wait)
	}
	return nil
}
