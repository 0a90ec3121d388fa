package jpush

import (
	"bytes"
	"encoding/json"
	"fmt"
	"reflect"
	"slices"
	"sort"
	"strings"

	"github.com/tuisong/push/provider"
)

// Android notification styles (notification.android.style).
const (
	StyleDefault    = 0 // plain notification
	StyleBigText    = 1 // Options.BigText expanded
	StyleInbox      = 2 // inbox lines; not wrapped by this client
	StyleBigPicture = 3 // Options.BigPicPath, or Notification.Image
)

// Distribution values of a third-party (phone maker) channel: how JPush
// chooses between its own connection and the maker's push service.
const (
	DistributionJPush         = "jpush"          // JPush's own connection only
	DistributionOSPush        = "ospush"         // the maker's channel only; refused with 1012 (QuotaExceeded) when its quota is spent
	DistributionFirstOSPush   = "first_ospush"   // the maker's channel first, JPush's if that fails
	DistributionSecondaryPush = "secondary_push" // JPush's connection first, the maker's channel for offline devices
)

// DistributionFCM values of a third-party channel: how JPush delivers to
// a device that has both an FCM token and a Chinese maker's token.
const (
	DistributionFCMJPush        = "jpush"              // JPush's own connection only
	DistributionFCMFCM          = "fcm"                // FCM only
	DistributionFCMPNS          = "pns"                // the Chinese maker's channel only
	DistributionFCMSecondaryFCM = "secondary_fcm_push" // JPush's connection first, FCM for offline devices
	DistributionFCMSecondaryPNS = "secondary_pns_push" // JPush's connection first, the maker's channel for offline devices
)

// OPPO notification levels (ThirdPartyChannel.NotifyLevel), as OPPO
// defines them; each needs a Category.
const (
	OPPONotifyBar           = 1  // the notification bar only
	OPPONotifyBarLockScreen = 2  // the notification bar and the lock screen
	OPPONotifyAll           = 16 // bar, lock screen, banner, vibration and ringtone
)

// Phone-maker channels JPush forwards through, the keys of
// Options.ThirdPartyChannel (JPush's "notification delivery strategy"
// lists these ten).
const (
	ChannelXiaomi = "xiaomi"
	ChannelHuawei = "huawei"
	ChannelHonor  = "honor"
	ChannelOPPO   = "oppo"
	ChannelVivo   = "vivo"
	ChannelMeizu  = "meizu"
	ChannelFCM    = "fcm"
	ChannelNIO    = "nio"
	ChannelASUS   = "asus"
	ChannelHMOS   = "hmos" // HarmonyOS NEXT
)

// Channels returns the keys of Options.ThirdPartyChannel JPush knows, the
// Channel… constants, in a new slice.
func Channels() []string {
	return []string{ChannelXiaomi, ChannelHuawei, ChannelHonor, ChannelOPPO, ChannelVivo, ChannelMeizu, ChannelFCM,
		ChannelNIO, ChannelASUS, ChannelHMOS}
}

// ThirdPartyChannel is options.third_party_channel.<maker>: how a push goes
// through one phone maker's push service. Every field is optional; JPush
// documents which maker reads which.
type ThirdPartyChannel struct {
	// Distribution is one of the Distribution… constants; empty leaves
	// JPush's default.
	Distribution string `json:"distribution,omitempty"`
	// ChannelID is the maker's notification channel (xiaomi, oppo; huawei
	// and honor read it too). Xiaomi and OPPO need a registered channel for
	// private (non-marketing) messages to escape their daily quotas.
	ChannelID string `json:"channel_id,omitempty"`
	// Importance is the Huawei/Honor message importance: "LOW", "NORMAL" or
	// "HIGH".
	Importance string `json:"importance,omitempty"`
	// Category is the maker's message category (Huawei, Vivo, OPPO), such as
	// "IM" or "ACCOUNT"; it decides which quota the message counts against.
	Category string `json:"category,omitempty"`
	// Classification is Vivo's message class: 0 operational, 1 system.
	// Options.Classification, when set, wins over it.
	Classification *int `json:"classification,omitempty"`
	// DistributionFCM is one of the DistributionFCM… constants: the
	// strategy for devices with both an FCM token and a Chinese maker's
	// token (Distribution covers those with one of them). Empty leaves
	// JPush's default (secondary_fcm_push without a VIP plan).
	DistributionFCM string `json:"distribution_fcm,omitempty"`
	// SkipQuota (Xiaomi, OPPO; other makers ignore it) skips JPush's own
	// check and count of the maker's quota; the maker's limits still
	// apply.
	SkipQuota *bool `json:"skip_quota,omitempty"`
	// NotifyLevel is OPPO's notification level, one of the OPPONotify…
	// constants; it needs Category. Other makers ignore it.
	NotifyLevel *int `json:"notify_level,omitempty"`
}

// Options carries JPush-specific settings for one Request. Put a *Options
// (or an Options value, or its JSON as a json.RawMessage, which is how a
// Service stores the overrides of a push) in Request.Overrides["jpush"];
// any other type there is an InvalidRequest error naming
// "overrides.jpush".
//
// A Request targets one platform, so one Options may be shared by the
// Android and the iOS request of a push: fields marked Android are ignored
// (and not validated) on iOS, and the other way round.
type Options struct {
	// BuilderID selects a notification layout registered in the app. Android.
	BuilderID *int `json:"builder_id,omitempty"`
	// ChannelID is the Android notification channel (channel_id). Android.
	ChannelID string `json:"channel_id,omitempty"`
	// Category is the Android notification category, such as "msg". Android.
	Category string `json:"category,omitempty"`
	// Priority is the notification priority, -2 to 2. Android.
	Priority *int `json:"priority,omitempty"`
	// Style is one of the Style… constants; StyleBigText needs BigText and
	// StyleBigPicture needs BigPicPath or Notification.Image. StyleInbox is
	// refused: its inbox object is not wrapped. Android.
	Style int `json:"style,omitempty"`
	// BigText is the expanded text of StyleBigText. Android.
	BigText string `json:"big_text,omitempty"`
	// BigPicPath is the picture of StyleBigPicture, an http(s) URL or a
	// media id; it wins over Notification.Image. Android.
	BigPicPath string `json:"big_pic_path,omitempty"`
	// LargeIcon is the large icon, an http(s) URL or a media id. Android.
	LargeIcon string `json:"large_icon,omitempty"`
	// IntentURL is notification.android.intent.url, what a tap opens (an
	// intent: URI, a deep link or an activity). Android.
	IntentURL string `json:"intent_url,omitempty"`
	// BadgeAddNum adds 1–99 to the launcher badge where supported. Android.
	BadgeAddNum *int `json:"badge_add_num,omitempty"`
	// AlertType is the sum of the sound (1), vibration (2) and light (4)
	// flags, or -1 for all of them. Android.
	AlertType *int `json:"alert_type,omitempty"`

	// ContentAvailable sets content-available on a visible notification
	// too (a silent one always has it). iOS.
	ContentAvailable bool `json:"content_available,omitempty"`
	// InterruptionLevel is "passive", "active", "time-sensitive" or
	// "critical". iOS.
	InterruptionLevel string `json:"interruption_level,omitempty"`

	// ContentType is message.content_type of a silent (pass-through)
	// message. Android.
	ContentType string `json:"content_type,omitempty"`

	// Classification is options.classification: 0 operational, 1 system
	// message (a class some phone makers exempt from quotas).
	Classification *int `json:"classification,omitempty"`
	// APNsCollapseID is options.apns_collapse_id: a newer notification with
	// the same id replaces an older one on the device. At most 64 bytes.
	APNsCollapseID string `json:"apns_collapse_id,omitempty"`
	// OverrideMsgID is options.override_msg_id: the msg_id of an earlier
	// push this one replaces on the device, when that one has not been
	// shown yet. Zero leaves it out. JPush applies it to Android alone, and
	// only to a push of the last day: the iOS request of the push leaves it
	// out, and an older or unknown msg_id is refused (code 1003), the push
	// not sent.
	OverrideMsgID int64 `json:"override_msg_id,omitempty"`
	// ThirdPartyChannel is options.third_party_channel, keyed by one of the
	// Channel… constants.
	ThirdPartyChannel map[string]ThirdPartyChannel `json:"third_party_channel,omitempty"`
}

// optionsKeys maps each key an Options object may have in JSON, in lower
// case, to its field's JSON name: the JSON name itself ("channel_id") and
// the field's Go name ("ChannelID"), which overrides stored before
// Options had JSON names hold (encoding/json matched it in any case).
// optionsGoNames maps each JSON name to the field's Go name.
var optionsKeys, optionsGoNames = func() (map[string]string, map[string]string) {
	keys, goNames := map[string]string{}, map[string]string{}
	for _, f := range reflect.VisibleFields(reflect.TypeFor[Options]()) {
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		keys[strings.ToLower(name)] = name
		keys[strings.ToLower(f.Name)] = name
		goNames[name] = f.Name
	}
	return keys, goNames
}()

// MarshalJSON writes the options set, under their Go field names
// ("ChannelID"), which every version of this package reads: overrides a
// newer instance stores are then read by an older one still running
// during a rolling upgrade, which would refuse the JSON names. Read,
// both are taken (UnmarshalJSON).
func (o Options) MarshalJSON() ([]byte, error) {
	type plain Options // without these methods
	b, err := json.Marshal(plain(o))
	if err != nil {
		return nil, err
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	out := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		out[optionsGoNames[k]] = v
	}
	return json.Marshal(out)
}

// UnmarshalJSON decodes the JSON of an Options strictly: a key that names
// no option, or one option under two spellings (its JSON name and its Go
// name), is an error, so that a misspelt option is refused rather than
// lost. Keys match without regard to case, as encoding/json matches them,
// and the Go field names ("ThirdPartyChannel") are read as the JSON names
// ("third_party_channel"). JSON null changes nothing. (Do not embed
// Options in a type of your own: these methods would be promoted to it.)
func (o *Options) UnmarshalJSON(b []byte) error {
	if string(bytes.TrimSpace(b)) == "null" {
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return err
	}
	norm := make(map[string]json.RawMessage, len(m))
	for k, v := range m {
		name, ok := optionsKeys[strings.ToLower(k)]
		if !ok {
			return fmt.Errorf("json: unknown field %q", k)
		}
		if _, dup := norm[name]; dup {
			return fmt.Errorf("json: option %q given twice", name)
		}
		norm[name] = v
	}
	nb, err := json.Marshal(norm)
	if err != nil {
		return err
	}
	type plain Options // without these methods
	var p plain
	dec := json.NewDecoder(bytes.NewReader(nb))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*o = Options(p)
	return nil
}

// optionsFrom returns the Options in overrides, or an empty Options.
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
			return nil, invalid("overrides."+Name, fmt.Sprintf("is not the JSON of a jpush.Options: %v", err))
		}
		if dec.More() {
			return nil, invalid("overrides."+Name, "has data after its JSON object")
		}
		return &opts, nil
	}
	return nil, invalid("overrides."+Name, fmt.Sprintf("must be *jpush.Options or its JSON, got %T", v))
}

const optionsField = "overrides." + Name

// checkCommon validates the options every platform uses.
func (o *Options) checkCommon() error {
	if o.Classification != nil && *o.Classification != 0 && *o.Classification != 1 {
		return invalid(optionsField+".classification", "must be 0 (operational) or 1 (system)")
	}
	if len(o.APNsCollapseID) > 64 {
		return invalid(optionsField+".apns_collapse_id", "must be at most 64 bytes")
	}
	if o.OverrideMsgID < 0 {
		return invalid(optionsField+".override_msg_id", "must not be negative")
	}
	known := Channels()
	keys := make([]string, 0, len(o.ThirdPartyChannel))
	for k := range o.ThirdPartyChannel {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		field := entry(optionsField+".third_party_channel", k)
		if !slices.Contains(known, k) {
			return invalid(field, "is not a channel JPush knows: "+strings.Join(known, ", "))
		}
		ch := o.ThirdPartyChannel[k]
		switch ch.Distribution {
		case "", DistributionJPush, DistributionOSPush, DistributionFirstOSPush, DistributionSecondaryPush:
		default:
			return invalid(field+".distribution", fmt.Sprintf("must be jpush, ospush, first_ospush or secondary_push, got %q", ch.Distribution))
		}
		switch ch.Importance {
		case "", "LOW", "NORMAL", "HIGH":
		default:
			return invalid(field+".importance", fmt.Sprintf("must be LOW, NORMAL or HIGH, got %q", ch.Importance))
		}
		if ch.Classification != nil && *ch.Classification != 0 && *ch.Classification != 1 {
			return invalid(field+".classification", "must be 0 (operational) or 1 (system)")
		}
		if k == ChannelVivo {
			if err := provider.CheckVivoCategory(field+".category", ch.Category, nil); err != nil {
				return &provider.Error{Provider: Name, Op: opValidate, Kind: provider.InvalidRequest, Err: err}
			}
		}
		switch ch.DistributionFCM {
		case "", DistributionFCMJPush, DistributionFCMFCM, DistributionFCMPNS, DistributionFCMSecondaryFCM, DistributionFCMSecondaryPNS:
		default:
			return invalid(field+".distribution_fcm", fmt.Sprintf("must be jpush, fcm, pns, secondary_fcm_push or secondary_pns_push, got %q", ch.DistributionFCM))
		}
		if n := ch.NotifyLevel; n != nil {
			switch {
			case *n != OPPONotifyBar && *n != OPPONotifyBarLockScreen && *n != OPPONotifyAll:
				return invalid(field+".notify_level", fmt.Sprintf("must be 1, 2 or 16, got %d", *n))
			case ch.Category == "":
				return invalid(field+".notify_level", "needs category: OPPO reads the level only with a category")
			}
		}
	}
	return nil
}
