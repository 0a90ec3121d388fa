package umengtest

import (
	"encoding/json"
	"time"
)

// Policy rules of the real service.
const (
	policyTimeLayout = "2006-01-02 15:04:05"
	maxPolicyAhead   = 7 * 24 * time.Hour // start_time after now, expire_time after the send
	defaultExpiry    = 3 * 24 * time.Hour // expire_time when absent
	minMaxSendNum    = 1000               // the documented minimum of max_send_num
)

// policy is a checked send policy.
type policy struct {
	start    time.Time // zero: send at once
	expire   time.Time // always set
	outBizNo string
	raw      map[string]any
}

// checkPolicy validates the optional policy object. start_time only applies
// to task casts, as on the real service; on a single cast its format is
// still checked, its value ignored and the field noted in rec.Ignored.
func (s *Server) checkPolicy(platform string, m message, isTask, isMessage bool, now time.Time, rec *Request) (policy, *refusal) {
	var pol policy
	if !m.has("policy") {
		pol.expire = now.Add(defaultExpiry)
		return pol, nil
	}
	obj, ok := decodeObject(m["policy"])
	if !ok {
		return pol, refuse(CodeBadPolicy, "policy: must be a JSON object")
	}
	pol.raw = obj
	start, aerr := s.policyTime(obj, "start_time")
	if aerr != nil {
		return pol, aerr
	}
	if !start.IsZero() && !isTask {
		rec.ignore("policy.start_time")
	}
	if !start.IsZero() && isTask {
		if !start.After(now) {
			return pol, refuse(CodeStartTimePast, "policy.start_time: must be after the current time")
		}
		if start.Sub(now) > maxPolicyAhead {
			return pol, refuse(CodeStartTooFar, "policy.start_time: must be at most 7 days after the current time")
		}
		pol.start = start
	}
	sendAt := now
	if !pol.start.IsZero() {
		sendAt = pol.start
	}
	expire, aerr := s.policyTime(obj, "expire_time")
	if aerr != nil {
		return pol, aerr
	}
	switch {
	case expire.IsZero():
		pol.expire = sendAt.Add(defaultExpiry)
	case !expire.After(sendAt):
		return pol, refuse(CodeExpireBeforeStart, "policy.expire_time: must be after start_time and the current time")
	case expire.Sub(sendAt) > maxPolicyAhead:
		return pol, refuse(CodeExpireTooFar, "policy.expire_time: must be at most 7 days after the send time")
	default:
		pol.expire = expire
	}
	if v, present := obj["max_send_num"]; present {
		n, ok := v.(json.Number)
		i, err := n.Int64()
		if !ok || err != nil || i < minMaxSendNum {
			return pol, refuse(CodeBadMaxSendNum, "policy.max_send_num: must be an integer of at least %d", minMaxSendNum)
		}
	}
	if aerr := checkPolicyExtras(platform, obj, isMessage, rec); aerr != nil {
		return pol, aerr
	}
	if v, present := obj["out_biz_no"]; present {
		id, ok := v.(string)
		if !ok {
			return pol, refuse(CodeBadPolicy, "policy.out_biz_no: must be a string")
		}
		pol.outBizNo = id
	}
	return pol, nil
}

// policyTime reads policy field key as "yyyy-MM-dd HH:mm:ss" in the
// configured zone; absent gives the zero time.
func (s *Server) policyTime(obj map[string]any, key string) (time.Time, *refusal) {
	v, present := obj[key]
	if !present || v == nil {
		return time.Time{}, nil
	}
	str, ok := v.(string)
	if !ok || len(str) != len(policyTimeLayout) {
		return time.Time{}, refuse(CodeBadTimeFormat, "policy.%s: must be \"yyyy-MM-dd HH:mm:ss\"", key)
	}
	t, err := time.ParseInLocation(policyTimeLayout, str, s.cfg.Location)
	if err != nil {
		return time.Time{}, refuse(CodeBadTimeFormat, "policy.%s: must be \"yyyy-MM-dd HH:mm:ss\"", key)
	}
	return t, nil
}
