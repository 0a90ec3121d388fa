package umeng

import (
	"time"

	"github.com/tuisong/push/provider"
)

// maxExpiry is how far after the start (or now) Umeng accepts expire_time.
const maxExpiry = 7 * 24 * time.Hour

// policy is the send body's policy object. Times are Beijing time as
// yyyy-MM-dd HH:mm:ss.
type policy struct {
	StartTime  string `json:"start_time,omitempty"`
	ExpireTime string `json:"expire_time,omitempty"`
	MaxSendNum int    `json:"max_send_num,omitempty"`
	OutBizNo   string `json:"out_biz_no,omitempty"`
}

// buildPolicy maps the schedule, rate and idempotency key of r. It returns
// nil when nothing needs saying.
//
// A StartTime that is not in the future is left out, so the push goes at
// once: Umeng refuses past start times, and a retried scheduled push must not
// fail only because its moment passed while it waited. An ExpireTime in the
// past, or more than seven days after the start (or now), is an error.
// out_biz_no carries IdempotencyKey on task casts only, because Umeng
// deduplicates nothing else by it.
func buildPolicy(r *provider.Request, o *Options, task bool, now time.Time) (*policy, error) {
	var p policy
	base := now
	if !r.StartTime.IsZero() && r.StartTime.After(now) {
		p.StartTime = beijingTime(r.StartTime)
		base = r.StartTime
	}
	if !r.ExpireTime.IsZero() {
		switch {
		case !r.ExpireTime.After(now):
			return nil, invalid("expire_time", "is not in the future")
		case r.ExpireTime.Sub(base) > maxExpiry:
			return nil, invalid("expire_time", "is more than 7 days after the start")
		}
		p.ExpireTime = beijingTime(r.ExpireTime)
	}
	if o.MaxSendNum < 0 {
		return nil, invalid("overrides.umeng.max_send_num", "must not be negative")
	}
	p.MaxSendNum = o.MaxSendNum
	if task {
		p.OutBizNo = r.IdempotencyKey
	}
	if p == (policy{}) {
		return nil, nil
	}
	return &p, nil
}

// beijing is Umeng's time zone, built without tzdata so the client runs on
// minimal images.
func beijing() *time.Location { return time.FixedZone("CST", 8*3600) }

// beijingTime formats t as Umeng's policy times: yyyy-MM-dd HH:mm:ss in
// Beijing time.
func beijingTime(t time.Time) string { return t.In(beijing()).Format(time.DateTime) }
