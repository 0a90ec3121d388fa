package registry

import (
	"strings"
	"time"
)

// DeviceLink is one link of a user to a device (a sys_user_devices row)
// with the device it names (its sys_devices row), as Reads.ListUserDevices
// lists them.
type DeviceLink struct {
	Link UserDevice
	// Device is the linked device; its zero value (ID 0) when the link
	// names no device, as rows other programs wrote may.
	Device Device
	// Unreadable is empty when the store read every column of both rows.
	// Otherwise it names each column it could not read and why, joined
	// with "; " (see CenterMessage.Unreadable); such a time reads as the
	// zero time.
	Unreadable string
	// Superseded reports an active link whose device ListTargets does not
	// list for the user: the device has a newer active link (another
	// user's login), or its token a newer enabled device row of the same
	// platforms (another user's install), in rows other programs wrote.
	// The phone is the newer row's; the user's pushes skip it. A store
	// that keeps those rules on every row it holds (memstore) never sets
	// it.
	Superseded bool
}

// Overall states of a push message, derived from its per-platform Ret
// columns by PushState: the values of PushMessageQuery.State.
const (
	// PushStatePending: some platform is still being sent (Ret PENDING).
	PushStatePending = "pending"
	// PushStateSuccess: every platform that has an outcome was accepted
	// (Ret SUCCESS).
	PushStateSuccess = "success"
	// PushStatePartial: final, with mixed outcomes: a platform PARTIAL, or
	// one SUCCESS and the other FAIL.
	PushStatePartial = "partial"
	// PushStateFailed: every platform that has an outcome failed (Ret
	// FAIL).
	PushStateFailed = "failed"
)

// PushStates lists the overall states, in the order of a push's life.
func PushStates() []string {
	return []string{PushStatePending, PushStateSuccess, PushStatePartial, PushStateFailed}
}

// PushState is the overall state of m from its iOS and Android Ret
// columns, compared in upper case without surrounding spaces (rows other
// programs wrote may say "success"): PushStatePending while either is
// PENDING; otherwise PushStateSuccess when each is SUCCESS or has no
// outcome, PushStateFailed when each is FAIL or has none, PushStatePartial
// for a PARTIAL or a SUCCESS beside a FAIL; and "" when neither platform
// has an outcome (nothing was sent, or another program wrote no Ret).
// Other Ret values count as no outcome. Every store filters by this rule.
func PushState(m *PushMessage) string {
	ios, android := normRet(m.IOS.Ret), normRet(m.Android.Ret)
	has := func(r string) bool { return ios == r || android == r }
	switch {
	case has(RetPending):
		return PushStatePending
	case has(RetPartial), has(RetSuccess) && has(RetFail):
		return PushStatePartial
	case has(RetSuccess):
		return PushStateSuccess
	case has(RetFail):
		return PushStateFailed
	}
	return ""
}

// normRet reads a Ret column as PushState compares it: one of the four
// Ret values, or "".
func normRet(r string) string {
	r = strings.ToUpper(strings.Trim(r, " "))
	switch r {
	case RetSuccess, RetFail, RetPending, RetPartial:
		return r
	}
	return ""
}

// Page sizes of a PushMessageQuery.
const (
	// DefaultMessagePageSize is the page size of a PushMessageQuery
	// without a Limit.
	DefaultMessagePageSize = 50
	// MaxMessagePageSize is the largest Limit a store accepts.
	MaxMessagePageSize = 1000
)

// PushMessageQuery selects one page of push messages, newest (highest ID)
// first. Every condition is optional.
type PushMessageQuery struct {
	// UserNum keeps the pushes addressed to this user (see
	// PushMessage.UserNums), compared without trailing spaces. Pushes other
	// programs wrote name no users, and are listed only without a UserNum.
	UserNum string
	// Since keeps the messages created at or after it; Until those created
	// before it. A created_at the store cannot read as a time matches no
	// range.
	Since, Until time.Time
	// State keeps the messages whose PushState is this one of PushStates;
	// "" keeps every message.
	State string
	// BeforeID is the keyset cursor: only messages with a smaller ID are
	// listed. Pass the last ID of the previous page; 0 starts from the
	// newest. IDs grow with insertion, so a message created during a
	// listing has a larger ID than any already listed and never shows up
	// on a later page: paging neither repeats nor skips a message that
	// existed when it started.
	BeforeID int64
	// Limit is the page size, at most MaxMessagePageSize; 0 means
	// DefaultMessagePageSize.
	Limit int
}

// ValidatePushMessageQuery checks q: State one of PushStates or "",
// BeforeID and Limit not negative, Limit at most MaxMessagePageSize, Until
// after Since when both are set, UserNum UTF-8 of at most 255 characters.
func ValidatePushMessageQuery(q PushMessageQuery) error {
	if q.State != "" && PushStateIndex(q.State) < 0 {
		return invalid("state", "must be one of %s, got %q", strings.Join(PushStates(), ", "), Clip(q.State, 32))
	}
	if q.BeforeID < 0 {
		return invalid("before_id", "must not be negative")
	}
	if q.Limit < 0 || q.Limit > MaxMessagePageSize {
		return invalid("limit", "is %d, outside 0..%d", q.Limit, MaxMessagePageSize)
	}
	if !q.Since.IsZero() && !q.Until.IsZero() && !q.Until.After(q.Since) {
		return invalid("until", "must be after since")
	}
	return varchar("user_num", q.UserNum)
}

// PushStateIndex is the position of s in PushStates, or -1.
func PushStateIndex(s string) int {
	for i, v := range PushStates() {
		if v == s {
			return i
		}
	}
	return -1
}

// PageLimit is q's page size: q.Limit, or DefaultMessagePageSize.
func (q PushMessageQuery) PageLimit() int {
	if q.Limit == 0 {
		return DefaultMessagePageSize
	}
	return q.Limit
}

// ValidateUserNum checks a user_num a read names: non-blank UTF-8 of at
// most 255 characters.
func ValidateUserNum(userNum string) error {
	if err := required("user_num", userNum); err != nil {
		return err
	}
	return varchar("user_num", userNum)
}
