package umengtest

import "time"

// rateKey names one limited kind of send of one app.
type rateKey struct {
	appKey string
	kind   string // cast type; "customizedcast" stands for customizedcast by file
}

// sendLimit is a production limit of the real service: at most max
// accepted sends within a sliding window.
type sendLimit struct {
	max    int
	window time.Duration
	label  string
	code   string // the error_code of a refusal
}

// sendLimits are the production limits by task cast. Single casts
// (unicast, listcast, customizedcast by alias) are not limited, and no
// send in test mode is. The daily broadcast cap is refused with 2012, the
// code the real service documents for it ("today's broadcasts of this
// appkey are over the limit"); the others with 2050.
var sendLimits = map[string]sendLimit{
	castBroadcast:      {10, 24 * time.Hour, "10 a day", CodeBroadcastQuota},
	castGroupcast:      {5, time.Minute, "5 a minute", CodeRateLimited},
	castFilecast:       {300, time.Hour, "300 an hour", CodeRateLimited},
	castCustomizedcast: {300, time.Hour, "300 an hour", CodeRateLimited},
}

// checkRateLocked refuses a task send over its limit. It does not count the
// send; noteSendLocked does once the send is accepted. The caller holds s.mu
// and has decided the send is subject to limits.
func (s *Server) checkRateLocked(appKey, kind string, now time.Time) *refusal {
	lim, limited := sendLimits[kind]
	if !limited || s.cfg.NoRateLimits {
		return nil
	}
	key := rateKey{appKey, kind}
	log := s.sendLog[key]
	keep := log[:0]
	for _, at := range log {
		if now.Sub(at) < lim.window {
			keep = append(keep, at)
		}
	}
	s.sendLog[key] = keep
	if len(keep) >= lim.max {
		return refuse(lim.code, "type: %s is limited to %s", kind, lim.label)
	}
	return nil
}

// noteSendLocked counts an accepted task send that is subject to limits.
// The caller holds s.mu.
func (s *Server) noteSendLocked(appKey, kind string, now time.Time) {
	if _, limited := sendLimits[kind]; limited && !s.cfg.NoRateLimits {
		key := rateKey{appKey, kind}
		s.sendLog[key] = append(s.sendLog[key], now)
	}
}
