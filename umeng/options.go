package umeng

import (
	"bytes"
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
// (or an Options value, or its JSON as a json.RawMessage, which is how a
// Service stores the overrides of a push) in Request.Overrides["umeng"];
// any other type there is an InvalidRequest error naming
// "overrides.umeng". An App's Defaults are
// Options too, merged under each request's own (see [App]).
//
// A Request targets one platform, so one Options may be shared by the
// Android and the iOS request of a push: fields marked Android are ignored
// (and not validated) on iOS, and the other way round. An App's Defaults
// and ClassDefaults serve its own platform only: New refuses an option
// of the other platform there, which would do nothing.
//
// Options round-trips through encoding/json (Marshal, then Unmarshal, gives
// an equal value; JSON values in Custom, IOSKeys and CallbackParams come
// back compacted), so a caller may store it with a push and send it later.
// Its JSON names are the snake_case field paths that errors name after
// "overrides.umeng.".
type Options struct {
	// DisplayType overrides the Android display type. Empty means
	// DisplayMessage for a silent Notification and DisplayNotification
	// otherwise. Android.
	DisplayType DisplayType `json:"display_type,omitempty"`
	// AfterOpen is the tap action, default AfterOpenApp. Android.
	AfterOpen AfterOpen `json:"after_open,omitempty"`
	// URL is opened by AfterOpenURL; it must be an http(s) URL. Android.
	URL string `json:"url,omitempty"`
	// Activity is the full class name opened by AfterOpenActivity. Android.
	Activity string `json:"activity,omitempty"`
	// Custom is body.custom: a JSON string or object. AfterOpenCustom needs
	// it. A message (DisplayMessage) without Custom carries the Notification
	// instead, as a JSON string holding the object
	// {"title":…,"body":…,"extras":{…}} (empty members left out), because
	// Umeng drops payload.extra on messages. For the same reason a message
	// with Custom refuses Notification.Extras: put that data in Custom.
	// Android.
	Custom json.RawMessage `json:"custom,omitempty"`
	// Ticker is the status-bar text; default the notification title. Android.
	Ticker string `json:"ticker,omitempty"`
	// Icon and LargeIcon name drawables or, for LargeIcon, an image URL.
	// Android.
	Icon      string `json:"icon,omitempty"`
	LargeIcon string `json:"large_icon,omitempty"`
	// Img is an http(s) image URL and wins over Notification.Image. Android.
	Img string `json:"img,omitempty"`
	// BigBody is body.big_body, the long text of an expanded notification,
	// at most MaxBigBodyChars characters. Android.
	BigBody string `json:"big_body,omitempty"`
	// ExpandImage is body.expand_image, a large http(s) image shown under
	// the notification by Umeng's own channel and, of the phone makers,
	// by Xiaomi only (876×324 px, uploaded in Umeng's console). Android.
	ExpandImage string `json:"expand_image,omitempty"`
	// RePop is body.re_pop: show the notification again (Umeng Pro, device
	// SDK 6.5.7 and later). Sent as 1 or 0; nil leaves Umeng's default (0).
	// Android.
	RePop *bool `json:"re_pop,omitempty"`
	// BuilderID selects a notification style registered in the app. Android.
	BuilderID *int `json:"builder_id,omitempty"`
	// PlayVibrate, PlayLights and PlaySound are sent as the strings "true"
	// and "false" Umeng expects; nil leaves Umeng's default. Android.
	PlayVibrate *bool `json:"play_vibrate,omitempty"`
	PlayLights  *bool `json:"play_lights,omitempty"`
	PlaySound   *bool `json:"play_sound,omitempty"`
	// SetBadge sets the launcher badge and AddBadge adds to it (negative
	// values subtract) on Umeng's own channel, Huawei, Honor and vivo; at
	// most one may be set, because Umeng would silently drop AddBadge.
	// Umeng's own channel takes any number; the Huawei and Honor channels
	// take 1–99 and ignore other values, and need
	// ChannelProperties.MainActivity. Android.
	SetBadge *int `json:"set_badge,omitempty"`
	AddBadge *int `json:"add_badge,omitempty"`
	// ChannelProperties are the phone makers' channel settings, sent as
	// channel_properties. Android.
	ChannelProperties ChannelProperties `json:"channel_properties,omitzero"`
	// LocalProperties are the settings of notifications that the device SDK
	// shows itself (local_properties). Android.
	LocalProperties LocalProperties `json:"local_properties,omitzero"`
	// NotificationClosedFilter is policy.notification_closed_filter: skip
	// devices whose user turned notifications off, so they do not use up
	// the phone makers' quotas. Umeng applies it to notifications only, so
	// a message leaves it out. Android.
	NotificationClosedFilter *bool `json:"notification_closed_filter,omitempty"`
	// MiPush and MiActivity are the legacy vendor-channel switch and the
	// activity it opens; MiActivity needs MiPush. Prefer
	// ChannelProperties.ChannelActivity. Android.
	MiPush     bool   `json:"mipush,omitempty"`
	MiActivity string `json:"mi_activity,omitempty"`

	// ContentAvailable sets aps.content-available on a visible
	// notification too (a silent one always has it). iOS.
	ContentAvailable bool `json:"content_available,omitempty"`
	// InterruptionLevel is aps.interruption-level (iOS 15 and later). iOS.
	InterruptionLevel InterruptionLevel `json:"interruption_level,omitempty"`
	// IOSBadge is aps.badge as Umeng's string forms: "N" sets the badge to
	// N, "+N" adds N, "-N" subtracts N and "" clears it (as "0" does). It
	// cannot be combined with Notification.Badge, which sets an absolute
	// number; nil leaves the badge to Notification.Badge. iOS.
	IOSBadge *string `json:"ios_badge,omitempty"`
	// APNsCollapseID is policy.apns_collapse_id: of several notifications
	// with the same id the device shows only the latest. At most
	// MaxAPNsCollapseIDBytes bytes. iOS.
	APNsCollapseID string `json:"apns_collapse_id,omitempty"`
	// IOSKeys are extra top-level payload keys, next to Notification.Extras.
	// Each value must be a JSON string: Umeng refuses JSON objects, arrays,
	// numbers and booleans as custom values, so encode structured data as
	// a string. "aps", "d" and "p" are reserved. iOS.
	IOSKeys map[string]json.RawMessage `json:"ios_keys,omitempty"`

	// MaxSendNum is policy.max_send_num, the most devices Umeng sends to per
	// second on a task cast; zero leaves Umeng's default. Umeng accepts
	// MinMaxSendNum (1000) and up.
	MaxSendNum int `json:"max_send_num,omitempty"`
	// UappArg is policy.uapp_arg, the id of a U-App smart-operations plan
	// the push belongs to. Umeng takes it on production iOS sends only, so
	// an iOS send in TestMode refuses it.
	UappArg string `json:"uapp_arg,omitempty"`
	// ReceiptURL and ReceiptType ask Umeng to post receipts (Umeng Pro).
	// ReceiptType needs ReceiptURL; zero means Umeng's default (3). The
	// current documentation no longer lists these two fields (receipts are
	// configured in Umeng's console there); the client still sends them
	// when set, for accounts that use them.
	ReceiptURL  string      `json:"receipt_url,omitempty"`
	ReceiptType ReceiptType `json:"receipt_type,omitempty"`
	// CallbackParams is callback_params, a JSON object Umeng hands back with
	// every receipt of the push. Umeng documents it as an object (not a
	// string); any other JSON value is refused.
	CallbackParams json.RawMessage `json:"callback_params,omitempty"`
}

// Limits of Options fields, from Umeng's API documentation.
const (
	// MaxBigBodyChars is the longest Options.BigBody Umeng takes, in
	// characters.
	MaxBigBodyChars = 120
	// MaxAPNsCollapseIDBytes is the longest Options.APNsCollapseID Umeng
	// takes, in bytes.
	MaxAPNsCollapseIDBytes = 64
)

// InterruptionLevel is the iOS aps.interruption-level.
type InterruptionLevel string

// The interruption levels iOS 15 defines and Umeng passes on.
const (
	InterruptionPassive       InterruptionLevel = "passive"
	InterruptionActive        InterruptionLevel = "active"
	InterruptionTimeSensitive InterruptionLevel = "time-sensitive"
	InterruptionCritical      InterruptionLevel = "critical"
)

// HuaweiImportance is channel_properties.huawei_channel_importance, the
// message class of the Huawei and Honor channels.
type HuaweiImportance string

// The Huawei and Honor message classes Umeng documents.
const (
	// HuaweiImportanceLow marks news and marketing ("资讯营销类").
	HuaweiImportanceLow HuaweiImportance = "LOW"
	// HuaweiImportanceNormal marks service and communication
	// ("服务与通讯类").
	HuaweiImportanceNormal HuaweiImportance = "NORMAL"
)

// OppoNotifyLevel is channel_properties.oppo_notify_level, how an OPPO
// notification alerts the user. It needs ChannelProperties.OppoCategory.
type OppoNotifyLevel int

// The OPPO notify levels Umeng documents.
const (
	OppoNotifyTray           OppoNotifyLevel = 1  // the notification tray only
	OppoNotifyTrayLockScreen OppoNotifyLevel = 2  // tray and lock screen
	OppoNotifyAll            OppoNotifyLevel = 16 // tray, lock screen, banner, vibration and sound
)

// ChannelProperties are the settings Umeng hands to the phone makers'
// channels (channel_properties). Every field is optional; the zero value
// sends nothing. Umeng passes the category values on unchecked, so the
// client checks only their shape; see each phone maker's documentation for
// the values.
type ChannelProperties struct {
	// ChannelActivity is the full class name of the activity a phone
	// maker's channel opens when the notification is tapped. Umeng's
	// documentation calls it required for vendor channels: without it,
	// pushes to closed apps on Xiaomi, Huawei, Honor, OPPO, vivo and Meizu
	// phones are not shown. It applies to notifications only, so a message
	// leaves it out. Set it once in App.Defaults.
	ChannelActivity string `json:"channel_activity,omitempty"`
	// MainActivity is the full class name of the app's launcher activity,
	// which Huawei badges need.
	MainActivity string `json:"main_activity,omitempty"`
	// XiaomiChannelID is the Xiaomi notification channel id.
	XiaomiChannelID string `json:"xiaomi_channel_id,omitempty"`
	// XiaomiExtraProperties are passed to Xiaomi as its "extra" parameters,
	// such as template_id and template_param (a JSON string) for private
	// messages.
	XiaomiExtraProperties map[string]string `json:"xiaomi_extra_properties,omitempty"`
	// HuaweiChannelImportance is the Huawei and Honor message class. Empty
	// follows Notification.Class (LOW for marketing, NORMAL for service).
	HuaweiChannelImportance HuaweiImportance `json:"huawei_channel_importance,omitempty"`
	// HuaweiChannelCategory is Huawei's own message category, such as
	// "MARKETING", "IM" or "WORK".
	HuaweiChannelCategory string `json:"huawei_channel_category,omitempty"`
	// OppoChannelID is the OPPO notification channel id; device SDK 6.0.5
	// and later create "upush_default".
	OppoChannelID string `json:"oppo_channel_id,omitempty"`
	// OppoCategory is OPPO's message category, such as "MARKETING".
	OppoCategory string `json:"oppo_category,omitempty"`
	// OppoNotifyLevel is how the OPPO notification alerts; zero leaves
	// OPPO's default. It needs OppoCategory.
	OppoNotifyLevel OppoNotifyLevel `json:"oppo_notify_level,omitempty"`
	// OppoPrivateMsgTemplate fills an OPPO private-message template.
	OppoPrivateMsgTemplate *OppoPrivateMsgTemplate `json:"oppo_private_msg_template,omitempty"`
	// VivoCategory is vivo's second-level message category, such as "IM"
	// or "MARKETING" (provider.VivoSystemCategories,
	// provider.VivoOperationalCategories, or one vivo granted the app).
	// Umeng passes it on unchecked; the Client refuses one that is not in
	// vivo's upper-case form, and one of the other class's categories, in a
	// class's default (Config) or in a push of that class (whatever its
	// source: the push's own, the class's or the app's Defaults).
	VivoCategory string `json:"vivo_category,omitempty"`
	// VivoAddBadge turns on vivo's badge (vivo_addbadge); the app must have
	// integrated vivo's badge API first, or vivo refuses the push.
	VivoAddBadge *bool `json:"vivo_addbadge,omitempty"`
	// MeizuMsgType is Meizu's message type: 0 public (Meizu's default),
	// 1 private. nil sends nothing.
	MeizuMsgType *int `json:"meizu_msg_type,omitempty"`
	// ChannelFCM turns the FCM channel on (true) or off (false); nil leaves
	// Umeng's default.
	ChannelFCM *bool `json:"channel_fcm,omitempty"`
	// Extra holds channel properties this package has no field for, sent
	// as strings next to the typed ones. A key must not be empty or name a
	// typed field.
	Extra map[string]string `json:"extra,omitempty"`
}

// OppoPrivateMsgTemplate is channel_properties.oppo_private_msg_template,
// the template of an OPPO private message and the values of its
// parameters.
type OppoPrivateMsgTemplate struct {
	// TemplateID is the id OPPO gave the template. Required.
	TemplateID string `json:"private_msg_template_id"`
	// TitleParameters and ContentParameters fill the template's title and
	// content placeholders; either may be empty.
	TitleParameters   map[string]string `json:"private_title_parameters,omitempty"`
	ContentParameters map[string]string `json:"private_content_parameters,omitempty"`
}

// LocalProperties are local_properties, for notifications the device SDK
// shows itself rather than through a phone maker's channel. Umeng checks
// Category and Importance against Huawei's values, derives Importance from
// Category when only Category is set, and ignores both when only
// Importance is set, which the client therefore refuses. ChannelID and
// ChannelName name the vivo notification channel.
type LocalProperties struct {
	Category    string `json:"category,omitempty"`
	Importance  string `json:"importance,omitempty"`
	ChannelID   string `json:"channel_id,omitempty"`
	ChannelName string `json:"channel_name,omitempty"`
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
	case json.RawMessage:
		// The JSON of an Options, as a Service stores a push's overrides:
		// strict, so that a misspelt or foreign field is refused, not lost.
		var opts Options
		dec := json.NewDecoder(bytes.NewReader(o))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&opts); err != nil {
			return nil, invalid("overrides."+Name, fmt.Sprintf("is not the JSON of a umeng.Options: %v", err))
		}
		if dec.More() {
			return nil, invalid("overrides."+Name, "has data after its JSON object")
		}
		return &opts, nil
	}
	return nil, invalid("overrides."+Name, fmt.Sprintf("must be *umeng.Options or its JSON, got %T", v))
}

// Format prints o as fmt would print its fields, with the value of every
// "secret=" parameter of ReceiptURL (see ReceiptURLWithSecret) redacted,
// for every verb: an Options logged with %v or slog is no way to the
// receipt secret. Its JSON, the wire form, is unchanged.
func (o Options) Format(f fmt.State, verb rune) {
	type fields Options // without this method
	p := fields(o)
	p.ReceiptURL = redactReceiptSecrets(p.ReceiptURL)
	fmt.Fprintf(f, fmt.FormatString(f, verb), p)
}
