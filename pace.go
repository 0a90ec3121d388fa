package push

import (
	"sync/atomic"
	"time"
)

// callPace estimates how long a vendor call takes, so that the passes
// over due work (RetryPending, PollReceipts) claim what they can start
// soon and no more: an exponentially weighted mean of the durations of
// this Service's calls (each new one weighs 1/8). The zero value knows
// no call yet.
type callPace struct {
	mean atomic.Int64 // nanoseconds; 0 until a call was timed
}

// observe adds one call's duration to the mean.
func (p *callPace) observe(d time.Duration) {
	for {
		old := p.mean.Load()
		n := int64(d)
		if old != 0 {
			n = old + (int64(d)-old)/8
		}
		if p.mean.CompareAndSwap(old, max(n, 1)) {
			return
		}
	}
}

// round returns how many due items one claim should take for conc calls
// at once: as many as those calls start within hold at the mean pace, at
// least 2·conc (also while no call was timed: a slow vendor must not find
// a whole batch held by one instance), at most limit.
func (p *callPace) round(conc int, hold time.Duration, limit int) int {
	r := 2 * conc
	if m := p.mean.Load(); m > 0 {
		r = max(r, int(min(int64(conc)*(int64(hold)/m), int64(limit))))
	}
	return min(r, limit)
}
