package push

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// Token states of a UserDeviceInfo.
const (
	// TokenEnabled: the device has a push token that pushes go to.
	TokenEnabled = "enabled"
	// TokenDisabled: the vendor reported the token invalid, or another
	// device registered it since; nothing is pushed to it until the
	// device registers anew.
	TokenDisabled = "disabled"
	// TokenMissing: the device has no push token (a row another program
	// wrote).
	TokenMissing = "missing"
)

// UserDeviceInfo is one device of a user as ListDevices reports it: the
// link (a sys_user_devices row) and the device it names (its sys_devices
// row). It never carries the whole push token: PushToken is masked.
type UserDeviceInfo struct {
	// UserDeviceID is the link's id, the product brief's user_device_id.
	UserDeviceID int64 `json:"user_device_id"`
	// Active reports whether the link is the device's current login: only
	// an active link's device receives the user's pushes, unless it is
	// Superseded.
	Active bool `json:"active"`
	// Superseded reports an active link whose phone is another user's
	// now, in rows another program wrote: the device has a newer active
	// link, or a newer device row holds its token. The user's pushes skip
	// it (registry.DeviceLink.Superseded).
	Superseded bool `json:"superseded,omitempty"`
	// LinkedAt and LinkUpdatedAt are the link's created_at and updated_at.
	LinkedAt      time.Time `json:"linked_at"`
	LinkUpdatedAt time.Time `json:"link_updated_at"`

	// DeviceID is the sys_devices id; 0 when the link names a device that
	// does not exist (a row another program wrote).
	DeviceID     int64  `json:"device_id"`
	DeviceUUID   string `json:"device_uuid"`
	Platform     string `json:"platform"`
	PushPlatform string `json:"push_platform"`
	Name         string `json:"name"`
	OS           string `json:"os"`
	OSVersion    string `json:"os_version"`
	// PushToken is the device's token masked by provider.MaskToken: enough to tell
	// two devices apart, never enough to push to one.
	PushToken string `json:"push_token"`
	// TokenState is TokenEnabled, TokenDisabled or TokenMissing.
	TokenState string `json:"token_state"`
	// TokenDisabledReason and TokenDisabledAt say why and since when the
	// token is disabled.
	TokenDisabledReason string     `json:"token_disabled_reason,omitempty"`
	TokenDisabledAt     *time.Time `json:"token_disabled_at,omitempty"`
	DeviceCreatedAt     time.Time  `json:"device_created_at"`
	DeviceUpdatedAt     time.Time  `json:"device_updated_at"`
	// Unreadable names the columns of the rows that could not be read and
	// why (see registry.DeviceLink); such a time reads as the zero time.
	Unreadable string `json:"unreadable,omitempty"`
}

// ListDevices returns every device userNum has logged in on, active or
// not, in the order of their links' ids, with each one's token state and a
// masked token. userNum is trimmed of white space, as Push trims it; a
// blank one, or one longer than the column's 255 characters, is a
// *FieldError. An unknown user has no devices: an empty list, no error.
func (s *Service) ListDevices(ctx context.Context, userNum string) ([]UserDeviceInfo, error) {
	if s.unbuilt() {
		return nil, notBuilt("Service.ListDevices", "push.New")
	}
	userNum = strings.TrimSpace(userNum)
	if userNum == "" {
		return nil, invalid("user_num", "is required")
	}
	if err := checkUserNum(userNum); err != nil {
		return nil, err
	}
	links, err := s.store.ListUserDevices(ctx, userNum)
	if err != nil {
		return nil, fmt.Errorf("push: list devices: %w", err)
	}
	out := make([]UserDeviceInfo, 0, len(links))
	for _, l := range links {
		d := l.Device
		info := UserDeviceInfo{
			UserDeviceID: l.Link.ID, Active: l.Link.Active, LinkedAt: l.Link.CreatedAt, LinkUpdatedAt: l.Link.UpdatedAt,
			DeviceID: d.ID, DeviceUUID: d.UUID, Platform: d.Platform, PushPlatform: d.PushPlatform,
			Name: d.Name, OS: d.OS, OSVersion: d.OSVersion, PushToken: provider.MaskToken(d.PushToken),
			TokenDisabledReason: d.TokenDisabledReason, TokenDisabledAt: d.TokenDisabledAt,
			DeviceCreatedAt: d.CreatedAt, DeviceUpdatedAt: d.UpdatedAt, Unreadable: l.Unreadable, Superseded: l.Superseded,
		}
		switch {
		case strings.TrimSpace(d.PushToken) == "":
			info.TokenState = TokenMissing
		case d.TokenDisabledAt != nil:
			info.TokenState = TokenDisabled
		default:
			info.TokenState = TokenEnabled
		}
		if info.PushPlatform == "" && d.ID != 0 {
			info.PushPlatform = registry.DefaultPushPlatform
		}
		out = append(out, info)
	}
	return out, nil
}

// Push message listing limits.
const (
	// DefaultPushMessagesLimit is the page size of a PushMessageFilter
	// without a Limit.
	DefaultPushMessagesLimit = 50
	// MaxPushMessagesLimit is the largest Limit ListPushMessages accepts.
	MaxPushMessagesLimit = 200
)

// PushMessageFilter selects the push messages ListPushMessages lists.
// Every field is optional.
type PushMessageFilter struct {
	// UserNum keeps the pushes addressed to this user (trimmed of white
	// space). Pushes other programs wrote into sys_push_messages name no
	// users: they are listed only without a UserNum.
	UserNum string
	// Since keeps the pushes created at or after it; Until those created
	// before it.
	Since, Until time.Time
	// Status keeps the pushes whose overall status (PushMessageSummary's
	// Status) is this one: "pending", "success", "partial" or "failed", in
	// any case; "fail" (the brief's FAIL) is "failed".
	Status string
	// After is the Next of the previous page; "" starts from the newest.
	After string
	// Limit is the page size: 0 means DefaultPushMessagesLimit, at most
	// MaxPushMessagesLimit.
	Limit int
}

// PushMessagePage is one page of ListPushMessages.
type PushMessagePage struct {
	Messages []PushMessageSummary `json:"push_messages"`
	// Next is the After of the next page; "" when this page is the last.
	Next string `json:"next,omitempty"`
}

// PushMessageSummary is one push as ListPushMessages lists it. It carries
// no device tokens.
type PushMessageSummary struct {
	PushMessageID int64  `json:"push_message_id"`
	Title         string `json:"title"`
	Content       string `json:"content"`
	PushType      string `json:"push_type"` // "users" or "broadcast"
	Class         string `json:"class,omitempty"`
	// Status is the push's overall status from its platforms' outcomes
	// (registry.PushState): "pending" while a platform is being sent,
	// "success" when every platform that has an outcome was accepted,
	// "failed" when every one failed, "partial" for a mix, and "" when no
	// platform has an outcome.
	Status string `json:"status"`
	// IOSStatus and AndroidStatus are the product brief's ios_status and
	// android_status, as GET query/push_message answers them.
	IOSStatus     string     `json:"ios_status"`
	AndroidStatus string     `json:"android_status"`
	CreatedAt     time.Time  `json:"created_at"`
	ExpireAt      *time.Time `json:"expire_at,omitempty"`
}

// ListPushMessages returns one page of the push messages f selects,
// newest first. Pages are a keyset on the push message id, which grows
// with time: a push created while a client pages is not on a later page,
// and none is repeated or skipped. Bad input is a *FieldError naming the
// field: status (not one of the four statuses), after (not a Next of
// ListPushMessages), limit (negative or above MaxPushMessagesLimit), until
// (not after since), user_num (too long).
func (s *Service) ListPushMessages(ctx context.Context, f PushMessageFilter) (PushMessagePage, error) {
	if s.unbuilt() {
		return PushMessagePage{}, notBuilt("Service.ListPushMessages", "push.New")
	}
	q, limit, err := filterQuery(f)
	if err != nil {
		return PushMessagePage{}, err
	}
	ms, err := s.store.ListPushMessages(ctx, q)
	if err != nil {
		return PushMessagePage{}, fmt.Errorf("push: list push messages: %w", err)
	}
	page := PushMessagePage{Messages: make([]PushMessageSummary, 0, min(len(ms), limit))}
	for i := range ms {
		if i == limit {
			page.Next = encodeCursor(ms[i-1].ID)
			break
		}
		m := &ms[i]
		page.Messages = append(page.Messages, PushMessageSummary{
			PushMessageID: m.ID, Title: m.Title, Content: m.Content, PushType: m.PushType, Class: m.Class,
			Status: registry.PushState(m), IOSStatus: m.IOS.Status, AndroidStatus: m.Android.Status,
			CreatedAt: m.CreatedAt, ExpireAt: m.ExpireAt,
		})
	}
	return page, nil
}

// pushState is a filter's status as registry.PushStates spells it: in
// any case, and FAIL, the brief's ios_ret/android_ret spelling, for
// failed.
func pushState(status string) string {
	s := strings.ToLower(strings.TrimSpace(status))
	if s == "fail" {
		return registry.PushStateFailed
	}
	return s
}

// filterQuery checks f and returns the store query of its page, and the
// page size.
func filterQuery(f PushMessageFilter) (registry.PushMessageQuery, int, error) {
	q := registry.PushMessageQuery{UserNum: strings.TrimSpace(f.UserNum), Since: f.Since, Until: f.Until, State: pushState(f.Status)}
	if q.UserNum != "" {
		if err := checkUserNum(q.UserNum); err != nil {
			return q, 0, err
		}
	}
	if q.State != "" && registry.PushStateIndex(q.State) < 0 {
		return q, 0, invalid("status", "must be one of %s, got %q", strings.Join(registry.PushStates(), ", "),
			registry.Clip(f.Status, 32))
	}
	limit := f.Limit
	switch {
	case limit < 0 || limit > MaxPushMessagesLimit:
		return q, 0, invalid("limit", "must be 1..%d, got %d", MaxPushMessagesLimit, limit)
	case limit == 0:
		limit = DefaultPushMessagesLimit
	}
	if !f.Since.IsZero() && !f.Until.IsZero() && !f.Until.After(f.Since) {
		return q, 0, invalid("until", "must be after since")
	}
	if f.After != "" {
		id, err := decodeCursor(f.After)
		if err != nil {
			return q, 0, err
		}
		q.BeforeID = id
	}
	// One more than the page tells whether another page follows.
	q.Limit = limit + 1
	return q, limit, nil
}

// cursorPrefix versions the cursor, so that its form can change without
// a client mistaking an old one for a new one.
const cursorPrefix = "pm1:"

// encodeCursor is the Next of a page whose last push is id.
func encodeCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(cursorPrefix + strconv.FormatInt(id, 10)))
}

// decodeCursor reads a Next back, refusing anything encodeCursor did not
// make.
func decodeCursor(c string) (int64, error) {
	bad := invalid("after", "is not a cursor of this listing (pass the next of the previous page)")
	if len(c) > 64 {
		return 0, bad
	}
	b, err := base64.RawURLEncoding.DecodeString(c)
	if err != nil {
		return 0, bad
	}
	num, ok := strings.CutPrefix(string(b), cursorPrefix)
	if !ok {
		return 0, bad
	}
	id, err := strconv.ParseInt(num, 10, 64)
	if err != nil || id <= 0 {
		return 0, bad
	}
	return id, nil
}

// checkUserNum checks a trimmed, non-empty user_num a read names.
func checkUserNum(userNum string) error {
	var ve *registry.ValidationError
	if err := registry.ValidateUserNum(userNum); errors.As(err, &ve) {
		return invalid("user_num", "%s", ve.Reason)
	}
	return nil
}

// PushStatusFor is PushStatus for the user userNum: a push that was not
// addressed to userNum is reported as not found (an error wrapping
// registry.ErrNotFound), as an unknown one is, so that its existence is
// not revealed to another user. A userNum no push can be addressed to
// (not UTF-8, a NUL, longer than the column) is not among any push's
// users either: not found, on every database, without a query.
func (s *Service) PushStatusFor(ctx context.Context, userNum string, pushMessageID int64) (Status, error) {
	if s.unbuilt() {
		return Status{}, notBuilt("Service.PushStatusFor", "push.New")
	}
	if pushMessageID <= 0 {
		return Status{}, invalid("push_message_id", "must be a positive id")
	}
	userNum = strings.TrimSpace(userNum)
	ok := checkUserNum(userNum) == nil
	var err error
	if ok {
		ok, err = s.store.IsPushMessageUser(ctx, pushMessageID, userNum)
	}
	if err != nil {
		return Status{}, fmt.Errorf("push: push status: %w", err)
	}
	if !ok {
		return Status{}, fmt.Errorf("push: push status: push message %d: %w", pushMessageID, registry.ErrNotFound)
	}
	return s.PushStatus(ctx, pushMessageID)
}
