package umeng

import (
	"fmt"
	"strings"
	"time"

	"github.com/tuisong/push/internal/cst"
	"github.com/tuisong/push/provider"
)

// Schedule and rate limits of Umeng's policy object.
const (
	// maxExpiry is how far after the start (or now) Umeng accepts
	// expire_time.
	maxExpiry = MaxTimeToLive
	// maxStartAhead is how far ahead a start_time may be.
	maxStartAhead = 7 * 24 * time.Hour
	// minStartLead is how far ahead a start_time must be, after truncation
	// to the second, to be sent at all. Umeng refuses a start_time that is
	// not in the future by its own clock (2002, a permanent failure), and
	// the request spends time on the wire and in Umeng's queue; a start
	// closer than this is sent at once instead.
	minStartLead = time.Minute
	// MinMaxSendNum is the smallest policy.max_send_num Umeng accepts.
	MinMaxSendNum = 1000
)

// policy is the send body's policy object. Times are Beijing time as
// yyyy-MM-dd HH:mm:ss.
type policy struct {
	StartTime                string `json:"start_time,omitempty"`
	ExpireTime               string `json:"expire_time,omitempty"`
	MaxSendNum               int    `json:"max_send_num,omitempty"`
	OutBizNo                 string `json:"out_biz_no,omitempty"`
	NotificationClosedFilter *bool  `json:"notification_closed_filter,omitempty"`
	APNsCollapseID           string `json:"apns_collapse_id,omitempty"`
	UappArg                  string `json:"uapp_arg,omitempty"`
}

// buildPolicy maps the schedule, rate and idempotency key of r. It returns
// nil when nothing needs saying.
//
// A StartTime less than a minute ahead (after truncation to the second, as
// Umeng reads it) is left out, so the push goes at once: Umeng refuses a
// start that is not in the future, and a retried scheduled push must not
// fail only because its moment passed while it waited. A StartTime further
// ahead is an error on a cast that is not a task, because Umeng ignores
// start_time there and would send at once, and an error when more than
// seven days ahead. An ExpireTime that is not in the future, or more than
// seven days after the start (or now), is an error. out_biz_no carries
// IdempotencyKey on task casts only, because Umeng deduplicates nothing else
// by it. The platform's own policy options follow: Android's
// notification_closed_filter (left out of a message, to which Umeng does
// not apply it), iOS's apns_collapse_id (at most 64 bytes), and uapp_arg,
// which Umeng takes on production iOS sends only.
func buildPolicy(r *provider.Request, o *Options, task, testMode bool, now time.Time) (*policy, error) {
	var p policy
	base := now
	if start, ok := scheduledStart(r.StartTime, now); ok {
		switch {
		case !task:
			return nil, invalid("start_time", "Umeng schedules task casts only (broadcast, groupcast, filecast, "+
				"customizedcast by file) and would send this one at once; use StrategyFilecast or a task audience")
		case start.Sub(now) > maxStartAhead:
			return nil, invalid("start_time", "is more than 7 days ahead")
		}
		p.StartTime = beijingTime(start)
		base = start
	}
	if !r.ExpireTime.IsZero() {
		expire := r.ExpireTime.Truncate(time.Second)
		switch {
		case !expire.After(now):
			return nil, invalid("expire_time", "is not in the future")
		case expire.Sub(base) > maxExpiry:
			return nil, invalid("expire_time", "is more than 7 days after the start")
		}
		p.ExpireTime = beijingTime(expire)
	}
	if o.MaxSendNum != 0 && o.MaxSendNum < MinMaxSendNum {
		return nil, invalid("overrides.umeng.max_send_num",
			fmt.Sprintf("must be 0 (Umeng's default) or at least %d, got %d", MinMaxSendNum, o.MaxSendNum))
	}
	p.MaxSendNum = o.MaxSendNum
	if task {
		p.OutBizNo = r.IdempotencyKey
	}
	switch r.Platform {
	case provider.Android:
		if displayType(&r.Notification, o) == DisplayNotification {
			p.NotificationClosedFilter = o.NotificationClosedFilter
		}
	case provider.IOS:
		if len(o.APNsCollapseID) > MaxAPNsCollapseIDBytes {
			return nil, invalid("overrides.umeng.apns_collapse_id",
				fmt.Sprintf("is %d bytes; Umeng takes at most %d", len(o.APNsCollapseID), MaxAPNsCollapseIDBytes))
		}
		p.APNsCollapseID = o.APNsCollapseID
		if o.UappArg != "" && testMode {
			return nil, invalid("overrides.umeng.uapp_arg", "Umeng takes it on production iOS sends only, and the client is in TestMode")
		}
	}
	if strings.ContainsFunc(o.UappArg, isSpaceOrControl) {
		return nil, invalid("overrides.umeng.uapp_arg", "must not contain white space")
	}
	p.UappArg = o.UappArg
	if p == (policy{}) {
		return nil, nil
	}
	return &p, nil
}

// scheduledStart returns start as Umeng will read it, truncated to the
// second, and whether it is at least minStartLead after now, that is
// whether it is sent as start_time at all.
func scheduledStart(start, now time.Time) (time.Time, bool) {
	if start.IsZero() {
		return time.Time{}, false
	}
	t := start.Truncate(time.Second)
	return t, t.Sub(now) >= minStartLead
}

// beijingTime formats t as Umeng's policy times: yyyy-MM-dd HH:mm:ss in
// Beijing time.
func beijingTime(t time.Time) string { return t.In(cst.Location).Format(time.DateTime) }
