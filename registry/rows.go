package registry

import (
	"strings"
	"time"
)

// Platforms stored in sys_devices.platform.
const (
	PlatformIOS     = "ios"
	PlatformAndroid = "android"
)

// DefaultPushPlatform is the product brief's default sys_devices.push_platform.
const DefaultPushPlatform = "umeng"

// TokenTakenOver is the TokenDisabledReason of a device whose token another
// device registered since.
const TokenTakenOver = "token registered by another device"

// Device is a row of sys_devices.
type Device struct {
	ID           int64
	UUID         string // the app-generated device id; unique per Platform
	Platform     string // "ios" or "android"
	PushToken    string // push_device_token, issued by the vendor's SDK
	PushPlatform string // vendor name, the provider's Name(); "" means DefaultPushPlatform
	Name         string
	OS           string
	OSVersion    string
	Alias        string
	// TokenDisabledAt is set when the vendor reported the token invalid; the
	// token is not pushed to again until the device registers anew.
	TokenDisabledAt     *time.Time
	TokenDisabledReason string
	CreatedAt           time.Time
	UpdatedAt           time.Time
}

// UserDevice is a row of sys_user_devices: a user's login on a device.
type UserDevice struct {
	ID        int64
	UserNum   string
	DeviceID  int64
	Active    bool // the product brief's state = 1
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Target is one pushable device of a user: an active link to a device whose
// token is set and not disabled.
type Target struct {
	UserDeviceID int64
	UserNum      string
	DeviceID     int64
	// Platform is PlatformIOS or PlatformAndroid, whatever spelling the row
	// holds ("iOS", " Android" in rows other programs wrote).
	Platform string
	// PushPlatform is the device's vendor; DefaultPushPlatform when the row
	// has none.
	PushPlatform string
	Token        string
}

// TargetQuery pages through the targets of a set of users, ordered by
// UserDeviceID.
type TargetQuery struct {
	UserNums []string
	// AfterUserDeviceID is the keyset cursor: only links with a larger id are
	// returned. Pass the last UserDeviceID of the previous page.
	AfterUserDeviceID int64
	// Limit is the page size; 0 means DefaultPageSize.
	Limit int
	// Census, when not nil, is one the store took (TargetCensus): the
	// store may then check for a newer link or a newer holder of the token
	// only the devices it names. A store may ignore it and check every
	// target.
	Census *Census
}

// Census is a snapshot, taken by TargetCensus.TakeCensus, of the device
// rows whose targets ListTargets must check for a newer link (the device
// has more than one active link) or a newer holder of their token
// (another device row holds it too): in a store whose rows keep the
// library's rules, none or few. A device that gains a second link or a
// second holder after the census (rows other programs write meanwhile) is
// not checked by the listings that use it, as if it had come after them;
// push.Service takes a new census at least every minute of a listing.
// Takeovers and logouts through a Store are not affected: they disable
// the old token or link, which every listing reads.
type Census struct {
	suspects map[int64]struct{}
}

// NewCensus returns the census naming the device rows devices.
func NewCensus(devices []int64) *Census {
	c := &Census{suspects: make(map[int64]struct{}, len(devices))}
	for _, id := range devices {
		c.suspects[id] = struct{}{}
	}
	return c
}

// Suspect reports whether the device row id must be checked: every device
// of a nil Census.
func (c *Census) Suspect(id int64) bool {
	if c == nil {
		return true
	}
	_, ok := c.suspects[id]
	return ok
}

// Len is how many device rows c names.
func (c *Census) Len() int {
	if c == nil {
		return 0
	}
	return len(c.suspects)
}

// DefaultPageSize is the page size of a TargetQuery without a Limit.
const DefaultPageSize = 1000

// Push message types stored in sys_push_messages.push_type.
const (
	PushTypeUsers     = "users"     // to the devices of listed users
	PushTypeBroadcast = "broadcast" // to every device of a platform
)

// PushMessage is a row of sys_push_messages. The per-platform columns are a
// summary of the message's deliveries, kept current by the store with
// Summarize whenever a delivery changes.
type PushMessage struct {
	ID       int64
	Title    string
	Content  string
	Extra    string // extra_params_string: a JSON object of string values, or ""
	PushType string // PushTypeUsers or PushTypeBroadcast
	// DedupeKey makes creation idempotent: a second CreatePushMessage with the
	// same non-empty key fails with ErrConflict. The Scanner uses
	// "message_center#<id>@<created_at>#<fingerprint>" (messagecenter.DedupeKey).
	DedupeKey string
	// ExpireAt is when the vendor stops trying; polling stops then too.
	ExpireAt *time.Time
	// Class is the message class (a provider.Class: "marketing",
	// "service"), or "" when unset. Stored in push_class.
	Class string
	// Overrides is the JSON object of per-provider options, keyed by
	// provider name, or "": every send of the push, retries included, hands
	// each provider its own entry. Stored in push_overrides.
	Overrides string
	// UserNums are the users a PushTypeUsers push was addressed to.
	// CreatePushMessage stores each once, without trailing spaces, for
	// Reads.ListPushMessages and Reads.IsPushMessageUser; reads of the
	// message leave it nil.
	UserNums []string
	// TraceParent is the W3C traceparent of the call that recorded the
	// push ("00-<trace id>-<span id>-<flags>"), or "" when it was not
	// traced: a retry by any instance links its vendor call to that
	// trace. At most MaxTraceParent characters. Stored in trace_parent.
	TraceParent string
	// Fanout, when set, says that the deliveries of a large push are
	// recorded in stages while its audience is listed (see Fanouts): the
	// users up to Fanout.After, in byte order, have theirs recorded, the
	// others not yet. Nil once every delivery is recorded, and for every
	// push recorded whole by CreatePushMessage. Only ClaimFanouts reads
	// it (AddDeliveries keeps the caller's up to date); GetPushMessage and
	// the other reads leave it nil.
	Fanout    *Fanout
	IOS       PlatformSummary
	Android   PlatformSummary
	CreatedAt time.Time
	UpdatedAt time.Time
}

// Fanout is the state of a push whose deliveries are recorded in stages
// (see Fanouts): how far the listing of its audience has got, and the
// claim of the instance listing it.
type Fanout struct {
	// After is the last user, in byte order, whose deliveries are
	// recorded; "" when none is. The push's users (sys_push_message_users)
	// greater than After are still to be listed.
	After string
	// ClaimToken and LeaseUntil are the claim of the instance that lists
	// the rest: once the lease runs out, another instance may claim the
	// push (Fanouts.ClaimFanouts) and go on from After.
	ClaimToken string
	LeaseUntil time.Time
	// Claims is how many times Fanouts.ClaimFanouts has claimed the push
	// since its listing last moved on: 0 while the call that created it
	// lists, one more for each instance that took the listing over, and 0
	// again whenever AddDeliveries records deliveries or moves After on.
	// The store counts it; the Claims of the next fanout given to
	// AddDeliveries is ignored. The Service ends a fanout claimed more
	// times than its retry policy allows (push.RetryPolicy.MaxAttempts)
	// without progress, so that a listing that fails, or kills its
	// instance, every time is not taken over forever, while one stopped
	// now and then (a rolling restart) goes on to the end. A takeover
	// stopped before it tried gives its claim back with Refund.
	Claims int
	// Refund, given to AddDeliveries with no deliveries and After
	// unchanged (a claim given back), lowers the stored Claims by one, not
	// below 0: the instance that claimed the push was stopped (a
	// shutdown) before it tried, which counts no takeover. Otherwise it
	// is ignored. The store never sets it.
	Refund bool
}

// MaxTraceParent is the length of the trace_parent column.
const MaxTraceParent = 64

// Summary returns the summary of platform p ("ios" or "android").
func (m *PushMessage) Summary(p string) *PlatformSummary {
	if p == PlatformIOS {
		return &m.IOS
	}
	return &m.Android
}

// PlatformSummary is the product brief's ios_* / android_* columns.
type PlatformSummary struct {
	DeviceTokens string // comma-separated tokens of every delivery
	TaskID       string // comma-separated vendor ids of accepted deliveries
	Ret          string // RetSuccess, RetFail, RetPending, RetPartial or ""
	Status       string // a provider.State, StatusPending, StatusPartial or ""
	Response     string // the latest vendor response or error, secrets removed
	Timestamp    string // unix milliseconds of the latest send attempt
	IsSend       bool   // whether anything is to be sent for this platform
}

// Summary values of Ret and Status.
const (
	RetSuccess    = "SUCCESS" // every delivery accepted (Umeng's own word)
	RetFail       = "FAIL"    // every delivery failed
	RetPending    = "PENDING" // some delivery not yet accepted or failed
	RetPartial    = "PARTIAL" // some accepted, some failed, none pending
	StatusPending = "pending" // waiting to be sent
	StatusPartial = "partial" // final, with mixed outcomes
)

// DeliveryState is where a delivery is in its life.
type DeliveryState string

// Delivery states.
const (
	// DeliveryPending: not yet accepted by the vendor. Due for a send at
	// NextAttemptAt.
	DeliveryPending DeliveryState = "pending"
	// DeliveryAccepted: the vendor accepted it and it is pollable; due for a
	// status poll at NextAttemptAt until VendorState is final.
	DeliveryAccepted DeliveryState = "accepted"
	// DeliveryDone: final; VendorState says how it ended.
	DeliveryDone DeliveryState = "done"
	// DeliveryFailed: final; the vendor refused it or attempts ran out.
	DeliveryFailed DeliveryState = "failed"
	// DeliverySplit: final; the delivery was replaced by smaller deliveries of
	// the same message (see PushMessages.SplitDelivery). Summarize ignores it:
	// its tokens and outcomes live on in the parts.
	DeliverySplit DeliveryState = "split"
)

// Final reports whether s is a final state.
func (s DeliveryState) Final() bool {
	return s == DeliveryDone || s == DeliveryFailed || s == DeliverySplit
}

// Delivery audiences.
const (
	AudienceTokens    = "tokens"
	AudienceBroadcast = "broadcast"
)

// Delivery is a row of sys_push_deliveries: one vendor call of a push
// message (one provider, one platform, at most the provider's MaxTokens
// tokens). It is the outbox: written before the call, finished after it.
type Delivery struct {
	ID             int64
	PushMessageID  int64
	Provider       string // provider name
	Platform       string // "ios" or "android"
	Seq            int    // chunk number within (message, provider, platform), from 0
	Audience       string // AudienceTokens or AudienceBroadcast
	Tokens         []string
	IdempotencyKey string // unique across all deliveries; reused by every retry
	State          DeliveryState
	// Attempts counts send attempts. ClaimDeliveries(ClaimSend) adds one; a
	// finishing write may set it back (rate limits do not spend attempts).
	Attempts      int
	NextAttemptAt time.Time // when State is pending: next send; accepted: next poll
	ExpireAt      *time.Time
	ReceiptID     string // vendor task id or msg id
	Pollable      bool
	VendorState   string // a provider.State, once known
	Ret           string // RetSuccess or RetFail once known
	Response      string // vendor response or error text, secrets removed
	ErrorKind     string // provider.Kind name of the last error
	ErrorCode     string // vendor code of the last error
	// RetryToken is what the provider asked to be given back with the next
	// try of IdempotencyKey (provider.Error.RetryToken: JPush's cid, a Getui
	// list push's task), so that a retry by any instance is deduplicated
	// by the vendor. Empty when the last try left none.
	RetryToken string
	// SentAt is when the last vendor call of the delivery returned; nil
	// before any. A try that made no call (the push expired first) leaves
	// it as it was.
	SentAt     *time.Time
	ClaimToken string
	LeaseUntil *time.Time
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// Center message send states (sys_message_center.send_state).
const (
	SendStateUnsent = 0 // waiting; the product brief's default
	SendStateSent   = 1 // delivered; send_result says how
	SendStateFailed = 2 // given up; remark says why
)

// CenterMessage is a row of sys_message_center.
type CenterMessage struct {
	ID          int64
	Title       string
	Content     string
	Extra       string // extra_params_string
	NotifyMode  string // "push", "sms", "email" or a host-defined mode
	NotifyLevel int    // higher is more urgent; claimed first
	Receivers   string // list of user_nums (see the Scanner's docs for separators)
	SendState   int
	SendResult  string // for push: "push_message#<id>"
	Remark      string
	// Class is the message class of a push row ("marketing", "service"),
	// or "" when unset; stored in push_class, our additive nullable column.
	Class string
	// SendAt delays the row until then (nil: due at once).
	SendAt        *time.Time
	Attempts      int
	NextAttemptAt *time.Time // set by retries; nil: due at SendAt
	ClaimToken    string
	LeaseUntil    *time.Time
	CreatedAt     time.Time
	UpdatedAt     time.Time
	// Unreadable is empty when the store read every column of the row.
	// Otherwise it names each column whose value the store could not read
	// and why, joined with "; ", e.g. `created_at: cannot read "not a date"
	// as a date-time`: a value another program wrote (text that is no
	// date, PostgreSQL's infinity, MySQL's 2024-00-00). Such a column reads
	// as the zero time (a non-nil pointer to it for SendAt, NextAttemptAt
	// and LeaseUntil), and a claim treats it as due, so that the row is
	// handed out and can be failed with this reason instead of stopping
	// the claim of every other row. Stores set it; it is never written.
	Unreadable string
}

// ClaimKind selects what ClaimDeliveries claims.
type ClaimKind int

// Claim kinds.
const (
	ClaimSend ClaimKind = iota + 1 // pending deliveries due for a send
	ClaimPoll                      // accepted pollable deliveries due for a status poll
)

// MaxCenterLease bounds the lease of a claim of center messages
// (messagecenter.Config.Lease): a sys_message_center row whose lease runs
// further ahead than this was leased by no claim. Another program wrote it
// (a lease_until in 9999, say), and the row is claimable as if it had no
// lease, rather than never sent and never explained.
const MaxCenterLease = 24 * time.Hour

// ClaimParams says what to claim and for how long.
type ClaimParams struct {
	Now   time.Time     // decides what is due and when the lease ends
	Limit int           // at most this many rows; must be > 0
	Lease time.Duration // the claim lasts until Now+Lease; must be > 0
	Kind  ClaimKind     // deliveries only
	// SkipModes, for center messages only, names the notify modes whose
	// rows are not claimed, nor changed in any way: another program
	// delivers them. A row's notify_mode is compared trimmed of spaces and
	// in lower case, byte for byte (a NULL one reads as "", which is never
	// skipped); each entry must be so already, printable ASCII without
	// spaces, and not empty (ValidateSkipModes).
	SkipModes []string
}

// NormalizeMode is a notify_mode as a claim compares it (SkipModes):
// trimmed of spaces (only: SQL's TRIM) and in lower case.
func NormalizeMode(mode string) string { return strings.ToLower(strings.Trim(mode, " ")) }

// ValidateSkipModes checks ClaimParams.SkipModes: every entry non-empty,
// of at most 255 characters (the notify_mode column), printable ASCII
// without spaces (each database lowers ASCII letters alike, not others),
// and in lower case.
func ValidateSkipModes(modes []string) error {
	for _, m := range modes {
		switch {
		case m == "":
			return invalid("skip_modes", "an entry is empty")
		case len(m) > 255:
			return invalid("skip_modes", "%q is longer than the notify_mode column's 255 characters", Clip(m, 40))
		case strings.IndexFunc(m, func(r rune) bool { return r <= ' ' || r > '~' }) >= 0:
			return invalid("skip_modes", "%q must be printable ASCII without spaces", Clip(m, 40))
		case NormalizeMode(m) != m:
			return invalid("skip_modes", "%q must be lower-case: %q", m, NormalizeMode(m))
		}
	}
	return nil
}

// ReceiptCounts counts the receipts a vendor posted about deliveries: how
// many devices reported the push arrived, how many opened it (a click on
// the notification) and how many dismissed it. A receipt that names its
// device counts once per delivery however often it is posted (see
// PushMessages.RecordReceipts); one that names none counts each time.
type ReceiptCounts struct {
	Arrived   int64
	Opened    int64
	Dismissed int64
}

// Add returns the sum of c and o.
func (c ReceiptCounts) Add(o ReceiptCounts) ReceiptCounts {
	return ReceiptCounts{Arrived: c.Arrived + o.Arrived, Opened: c.Opened + o.Opened, Dismissed: c.Dismissed + o.Dismissed}
}

// IsZero reports whether c counts nothing.
func (c ReceiptCounts) IsZero() bool { return c == ReceiptCounts{} }

// ReceiptEvent names one counter of ReceiptCounts. The numbers are
// sqlstore's sys_push_receipts.event.
type ReceiptEvent int

// The receipt events.
const (
	ReceiptArrived   ReceiptEvent = 1
	ReceiptOpened    ReceiptEvent = 2
	ReceiptDismissed ReceiptEvent = 3
)

// Once returns what a device's receipts c add when each event of a
// device counts once (see PushMessages.RecordReceipts): it calls first
// with each event c counts, in the order arrived, opened, dismissed, and
// the result counts 1 for each event first reports as new. An error of
// first stops it and is returned.
func (c ReceiptCounts) Once(first func(ReceiptEvent) (bool, error)) (ReceiptCounts, error) {
	var add ReceiptCounts
	for _, e := range []struct {
		event ReceiptEvent
		n     int64
		to    *int64
	}{{ReceiptArrived, c.Arrived, &add.Arrived}, {ReceiptOpened, c.Opened, &add.Opened}, {ReceiptDismissed, c.Dismissed, &add.Dismissed}} {
		if e.n == 0 {
			continue
		}
		isNew, err := first(e.event)
		if err != nil {
			return add, err
		}
		if isNew {
			*e.to = 1
		}
	}
	return add, nil
}

// FanoutMovesOn reports whether Fanouts.AddDeliveries(m, ds, next), next
// not nil, moves the fanout of m on: it records deliveries or moves After
// past m.Fanout.After. A call that does neither only renews or gives back
// the lease, and keeps Fanout.Claims; one that moves on sets it to 0.
func FanoutMovesOn(m *PushMessage, ds []*Delivery, next *Fanout) bool {
	return len(ds) > 0 || m.Fanout == nil || next.After != m.Fanout.After
}
