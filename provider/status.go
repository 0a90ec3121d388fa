package provider

import "encoding/json"

// State is the vendor-neutral state of a sent push.
type State string

// States a push moves through. Final states never change again.
const (
	StateQueued    State = "queued"    // accepted, waiting at the vendor
	StateScheduled State = "scheduled" // accepted for a later start time
	StateSending   State = "sending"   // the vendor is delivering
	StateDone      State = "done"      // the vendor finished delivering (final)
	StateFailed    State = "failed"    // the vendor gave up (final)
	StateCanceled  State = "canceled"  // cancelled before completion (final)
	StateExpired   State = "expired"   // expire time reached first (final)
	StateEmpty     State = "empty"     // the audience matched no device (final)
	// StateAccepted is final for receipts that cannot be polled: the vendor
	// took the message and offers no further progress.
	StateAccepted State = "accepted"
)

// Final reports whether s can no longer change.
func (s State) Final() bool {
	switch s {
	case StateDone, StateFailed, StateCanceled, StateExpired, StateEmpty, StateAccepted:
		return true
	}
	return false
}

// Status is a vendor's answer to a status query.
type Status struct {
	ID    string
	State State
	// Code is the vendor's raw status value ("2" for Umeng done).
	Code      string
	Total     int // devices targeted, where reported
	Sent      int // devices sent to
	Opened    int // notifications opened
	Dismissed int // notifications dismissed
	Raw       json.RawMessage
}
