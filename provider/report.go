package provider

import (
	"errors"
	"time"
)

// Event is what a device reported about a push it received.
type Event string

// Events a vendor's receipt callbacks report.
const (
	EventArrived   Event = "arrived"   // the push reached the device
	EventOpened    Event = "opened"    // the user tapped the notification
	EventDismissed Event = "dismissed" // the user dismissed the notification
)

// Valid reports whether e is one of the events above.
func (e Event) Valid() bool { return e == EventArrived || e == EventOpened || e == EventDismissed }

// Report is one receipt a vendor posted back about a push: the vendor
// (Provider, its Name), the id its send returned (Receipt.ID, the msg_id or
// task_id), the device token it is about (empty when the vendor does not
// say), the event and when the vendor says it happened (zero when it does
// not). Vendor packages parse their callbacks into Reports; the push
// Service counts them (push.Service.RecordReport).
type Report struct {
	Provider string
	MsgID    string
	Token    string
	Event    Event
	At       time.Time
}

// ErrUnknownReport is the error of a Report that names no push we sent
// (an unknown msg_id, or a token the push did not go to). A callback
// handler answers it as done, since the vendor would only post it again.
var ErrUnknownReport = errors.New("provider: receipt names no push we sent")
