// Package leaseslot takes a place in a bounded set of concurrent calls
// for claimed work whose lease is running down: the Service's deliveries
// and the Scanner's notifier rows wait for a place the same way.
package leaseslot

import "time"

// step bounds one wait of Take before it reads the clock again, so that
// a clock that is not the wall's (an injected one) is followed.
const step = 250 * time.Millisecond

// Take takes a place in sem for work whose lease ends at until (nil: no
// lease, and it waits as long as it takes), waiting no later than
// reserve before until by now's clock, and reports whether it got one:
// false means the lease ran too low for the work, which its caller gives
// back untried.
func Take(sem chan struct{}, until *time.Time, now func() time.Time, reserve time.Duration) bool {
	select {
	case sem <- struct{}{}:
		return true
	default:
	}
	if until == nil {
		sem <- struct{}{}
		return true
	}
	for {
		left := until.Sub(now()) - reserve
		if left <= 0 {
			return false
		}
		t := time.NewTimer(min(left, step))
		select {
		case sem <- struct{}{}:
			t.Stop()
			return true
		case <-t.C:
		}
	}
}
