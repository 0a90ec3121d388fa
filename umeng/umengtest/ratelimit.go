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
}

// sendLimits are the limits by task cast. Single casts (unicast, listcast,
// customizedcast by alias) are not limited. Broadcast and groupcast are
// limited in production mode only, because test mode applies to them
// alone; filecast and customizedcast by file are limited in either mode.
var sendLimits = map[string]sendLimit{
	castBroadcast:      {10, 24 * time.Hour, "10 a day"},
	castGroupcast:      {5, time.Minute, "5 a minute"},
	castFilecast:       {300, time.Hour, "300 an hour"},
	castCustomizedcast: {300, time.Hour, "300 an hour"},
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
		return refuse(CodeRateLimited, "type: %s is limited to %s", kind, lim.label)
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
