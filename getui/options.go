package getui

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"sort"
	"strings"
)

// Click types: what a tap on an Android notification does
// (push_message.notification.click_type and its ups twin).
const (
	ClickIntent   = "intent"   // open the page of Options.Intent
	ClickURL      = "url"      // open Options.URL in a browser
	ClickPayload  = "payload"  // start the app and hand it the payload
	ClickStartApp = "startapp" // open the app's launch page
	ClickNone     = "none"     // nothing
)

// Phone makers of push_channel.android.ups.options, and "ALL" for options
// every maker reads.
const (
	MakerAll    = "ALL"
	MakerXiaomi = "XM"
	MakerHuawei = "HW"
	MakerHonor  = "HO"
	MakerOPPO   = "OP"
	MakerVivo   = "VV"
	MakerMeizu  = "MZ"
	// MakerUPS, MakerST and MakerFCM are the other keys Getui documents
	// for ups.options; FCM is Google's channel.
	MakerUPS = "UPS"
	MakerST  = "ST"
	MakerFCM = "FCM"
)

// Options carries Getui-specific settings for one Request. Put a *Options
// or an Options value in Request.Overrides["getui"], or its JSON encoding
// as a json.RawMessage (Options round-trips through encoding/json, so a
// caller may store it as JSON and hand it back); any other type there is an
// InvalidRequest error naming "overrides.getui".
//
// A Request targets one platform, so one Options may serve the Android and
// the iOS request of a push: fields marked Android are ignored on iOS and
// the other way round.
type Options struct {
	// ClickType is one of the Click… constants. Default: ClickPayload when
	// the notification has extras (they become the payload), ClickStartApp
	// otherwise. Android.
	ClickType string `json:"click_type,omitempty"`
	// Intent is the page ClickIntent opens:
	// "intent:#Intent;component=…;end", at most 4096 bytes. Android.
	Intent string `json:"intent,omitempty"`
	// URL is the http(s) page ClickURL opens, at most 1024 bytes. Android.
	URL string `json:"url,omitempty"`
	// Payload is what ClickPayload hands the app, at most 3072 bytes.
	// Default: the extras as a JSON object. Android.
	Payload string `json:"payload,omitempty"`
	// ChannelID is the Android notification channel of Getui's own
	// connection (push_message.notification.channel_id). Android.
	ChannelID string `json:"channel_id,omitempty"`
	// UpsOptions is push_channel.android.ups.options: per maker (the
	// Maker… constants), the maker's own option keys as Getui documents
	// them, such as {"HW": {"/message/android/category": "IM"}}. Values
	// are strings, numbers or booleans; after a JSON round trip numbers
	// come back as float64, which encode the same. Android.
	UpsOptions map[string]map[string]any `json:"ups_options,omitempty"`

	// AutoBadge is push_channel.ios.auto_badge, such as "+1" or "5"; it
	// wins over Notification.Badge. iOS.
	AutoBadge string `json:"auto_badge,omitempty"`
	// APNsCollapseID is apns-collapse-id: a newer notification with the
	// same id replaces an older one. At most 64 bytes. iOS.
	APNsCollapseID string `json:"apns_collapse_id,omitempty"`

	// Strategy is settings.strategy: per channel ("default", "ios", "st",
	// "hw", "xm", "vv", "mz", "op", "ho", …) 1 (Getui's connection first,
	// the maker's when offline), 2 (the maker's only), 3 (Getui's only) or
	// 4 (the maker's first). A push that reaches iOS devices gets "ios":
	// IOSStrategy (APNs first) unless Strategy names "ios" or "default".
	Strategy map[string]int `json:"strategy,omitempty"`
	// AllDevices sends a broadcast with /push/all to every device of the
	// app, iOS and Android alike, instead of /push/tag restricted to the
	// Request's platform. Send such a broadcast once, not once per
	// platform.
	AllDevices bool `json:"all_devices,omitempty"`
}

const optionsField = "overrides." + Name

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
		var out Options
		dec := json.NewDecoder(bytes.NewReader(o))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&out); err != nil {
			return nil, invalid(optionsField, "is not the JSON of getui.Options: "+err.Error())
		}
		return &out, nil
	}
	return nil, invalid(optionsField, fmt.Sprintf("must be *getui.Options, getui.Options or json.RawMessage, got %T", v))
}

var (
	strategyKey = regexp.MustCompile(`^[a-z]{2,16}$`)
	upsKey      = regexp.MustCompile(`^\S{1,128}$`)
)

// check validates the options that do not depend on the notification.
func (o *Options) check() error {
	f := optionsField
	switch o.ClickType {
	case "", ClickIntent, ClickURL, ClickPayload, ClickStartApp, ClickNone:
	default:
		return invalid(f+".click_type", fmt.Sprintf("must be intent, url, payload, startapp or none, got %q", o.ClickType))
	}
	switch {
	case o.ClickType == ClickIntent && o.Intent == "":
		return invalid(f+".intent", "is required for click_type intent")
	case o.Intent != "" && (!strings.HasPrefix(o.Intent, "intent:") || len(o.Intent) > 4096):
		return invalid(f+".intent", "must be an intent: URI of at most 4096 bytes")
	case o.ClickType == ClickURL && o.URL == "":
		return invalid(f+".url", "is required for click_type url")
	case o.URL != "" && (!isHTTPURL(o.URL) || len(o.URL) > 1024):
		return invalid(f+".url", "must be an http or https URL of at most 1024 bytes")
	case len(o.Payload) > MaxPayloadBytes:
		return invalid(f+".payload", fmt.Sprintf("must be at most %d bytes", MaxPayloadBytes))
	case len(o.APNsCollapseID) > 64:
		return invalid(f+".apns_collapse_id", "must be at most 64 bytes")
	case o.AutoBadge != "" && !validBadge(o.AutoBadge):
		return invalid(f+".auto_badge", `must be a number, or one with a sign such as "+1"`)
	}
	for _, k := range sortedKeys(o.Strategy) {
		if !strategyKey.MatchString(k) {
			return invalid(entry(f+".strategy", k), "is not a channel name (lower-case letters)")
		}
		if v := o.Strategy[k]; v < 1 || v > 4 {
			return invalid(entry(f+".strategy", k), fmt.Sprintf("must be 1, 2, 3 or 4, got %d", v))
		}
	}
	makers := []string{MakerAll, MakerXiaomi, MakerHuawei, MakerHonor, MakerOPPO, MakerVivo, MakerMeizu, MakerUPS, MakerST, MakerFCM}
	for _, m := range sortedKeys(o.UpsOptions) {
		field := entry(f+".ups_options", m)
		if !slices.Contains(makers, m) {
			return invalid(field, "is not a maker Getui knows: "+strings.Join(makers, ", "))
		}
		if o.UpsOptions[m] == nil {
			return invalid(field, "must be an object of the maker's option keys, not null")
		}
		for _, k := range sortedKeys(o.UpsOptions[m]) {
			if !upsKey.MatchString(k) {
				return invalid(field, fmt.Sprintf("has a bad option key %q", k))
			}
			switch o.UpsOptions[m][k].(type) {
			case string, bool, int, int32, int64, float64, json.Number:
			default:
				return invalid(entry(field, k), fmt.Sprintf("must be a string, a number or a boolean, got %T", o.UpsOptions[m][k]))
			}
		}
	}
	return nil
}

func validBadge(s string) bool {
	t := strings.TrimLeft(s, "+-")
	if len(s)-len(t) > 1 || t == "" || len(t) > 5 {
		return false
	}
	for _, c := range []byte(t) {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}
