package umeng

import (
	"encoding/json"
	"fmt"
)

// DisplayType is the Android payload's display_type.
type DisplayType string

const (
	// DisplayNotification shows a notification in the system tray.
	DisplayNotification DisplayType = "notification"
	// DisplayMessage delivers data to the app without showing anything;
	// Umeng requires body.custom for it.
	DisplayMessage DisplayType = "message"
)

// AfterOpen is what an Android notification does when tapped. Each value but
// AfterOpenApp needs its own field of Options.
type AfterOpen string

// The tap actions Umeng knows.
const (
	AfterOpenApp      AfterOpen = "go_app"      // open the app (default)
	AfterOpenURL      AfterOpen = "go_url"      // open Options.URL (http or https)
	AfterOpenActivity AfterOpen = "go_activity" // open Options.Activity
	AfterOpenCustom   AfterOpen = "go_custom"   // hand Options.Custom to the app
)

// ReceiptType selects which receipts Umeng posts to Options.ReceiptURL. It
// goes on the wire as a JSON string ("1", "2" or "3"), as an open-source Go
// SDK (github.com/yzchan/umeng-go) sends it; we could not confirm the type
// in Umeng's own documentation.
type ReceiptType int

// The receipt selections Umeng knows.
const (
	ReceiptArrival         ReceiptType = 1 // delivery receipts
	ReceiptClick           ReceiptType = 2 // click receipts
	ReceiptArrivalAndClick ReceiptType = 3 // both
)

// Options carries Umeng-specific settings for one Request. Put a *Options
// (or an Options value) in Request.Overrides["umeng"]; any other type there is
// an InvalidRequest error naming "overrides.umeng".
//
// A Request targets one platform, so one Options may be shared by the
// Android and the iOS request of a push: fields marked Android are ignored
// (and not validated) on iOS, and the other way round.
type Options struct {
	// DisplayType overrides the Android display type. Empty means
	// DisplayMessage for a silent Notification and DisplayNotification
	// otherwise. Android.
	DisplayType DisplayType
	// AfterOpen is the tap action, default AfterOpenApp. Android.
	AfterOpen AfterOpen
	// URL is opened by AfterOpenURL; it must be an http(s) URL. Android.
	URL string
	// Activity is the full class name opened by AfterOpenActivity. Android.
	Activity string
	// Custom is body.custom: a JSON string or object. AfterOpenCustom needs
	// it. A message (DisplayMessage) without Custom carries the Notification
	// instead, as a JSON string holding the object
	// {"title":…,"body":…,"extras":{…}} (empty members left out), because
	// Umeng drops payload.extra on messages. For the same reason a message
	// with Custom refuses Notification.Extras: put that data in Custom.
	// Android.
	Custom json.RawMessage
	// Ticker is the status-bar text; default the notification title. Android.
	Ticker string
	// Icon and LargeIcon name drawables or, for LargeIcon, an image URL.
	// Android.
	Icon      string
	LargeIcon string
	// Img is an http(s) image URL and wins over Notification.Image. Android.
	Img string
	// BuilderID selects a notification style registered in the app. Android.
	BuilderID *int
	// PlayVibrate, PlayLights and PlaySound are sent as the strings "true"
	// and "false" Umeng expects; nil leaves Umeng's default. Android.
	PlayVibrate *bool
	PlayLights  *bool
	PlaySound   *bool
	// SetBadge sets the launcher badge (0–99) and AddBadge adds to it
	// (1–99) on launchers that support it; at most one may be set. Android.
	SetBadge *int
	AddBadge *int
	// ChannelProperties is sent as channel_properties, the vendor-channel
	// settings (channel_activity, xiaomi_channel_id, oppo_channel_id,
	// huawei_channel_importance, …). Keys must not be empty. Android.
	ChannelProperties map[string]string
	// MiPush and MiActivity are the legacy vendor-channel switch and the
	// activity it opens; MiActivity needs MiPush. Android.
	MiPush     bool
	MiActivity string

	// ContentAvailable sets aps.content-available on a visible
	// notification too (a silent one always has it). iOS.
	ContentAvailable bool
	// IOSKeys are extra top-level payload keys, next to Notification.Extras.
	// Each value must be a JSON string: Umeng refuses JSON objects, arrays,
	// numbers and booleans as custom values, so encode structured data as
	// a string. "aps", "d" and "p" are reserved. iOS.
	IOSKeys map[string]json.RawMessage

	// MaxSendNum is policy.max_send_num, the most devices Umeng sends to per
	// second on a task cast; zero leaves Umeng's default. Umeng accepts
	// MinMaxSendNum (1000) and up.
	MaxSendNum int
	// ReceiptURL and ReceiptType ask Umeng to post receipts (Umeng Pro).
	// ReceiptType needs ReceiptURL; zero means Umeng's default (3).
	ReceiptURL  string
	ReceiptType ReceiptType
	// CallbackParams is sent as callback_params, which Umeng echoes to
	// ReceiptURL with every receipt. Its type is unverified: neither the
	// documentation nor the SDK sources we could consult show it. The
	// client sends a JSON string, so encode structured data into it (as
	// JSON text, for example).
	CallbackParams string
}

// optionsFrom returns the Options in overrides, or an empty Options when
// there are none.
func optionsFrom(overrides map[string]any) (*Options, error) {
	v, ok := overrides[Name]
	if !ok || v == nil {
		return &Options{}, nil
	}
	switch o := v.(type) {
	case *Options:
		if o == nil {
			return &Options{}, nil
		}
		return o, nil
	case Options:
		return &o, nil
	}
	return nil, invalid("overrides."+Name, fmt.Sprintf("must be *umeng.Options, got %T", v))
}
