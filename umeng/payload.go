package umeng

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"sort"
	"strings"
	"unicode/utf8"

	"github.com/tuisong/push/provider"
)

// androidPayload is the payload of an Android send. extra sits at payload
// level, next to body, not inside it.
type androidPayload struct {
	DisplayType DisplayType       `json:"display_type"`
	Body        androidBody       `json:"body"`
	Extra       map[string]string `json:"extra,omitempty"`
}

// androidBody is payload.body. Umeng wants its booleans as the strings
// "true" and "false".
type androidBody struct {
	Ticker      string          `json:"ticker,omitempty"`
	Title       string          `json:"title,omitempty"`
	Text        string          `json:"text,omitempty"`
	BigBody     string          `json:"big_body,omitempty"`
	Icon        string          `json:"icon,omitempty"`
	LargeIcon   string          `json:"largeIcon,omitempty"`
	Img         string          `json:"img,omitempty"`
	ExpandImage string          `json:"expand_image,omitempty"`
	Sound       string          `json:"sound,omitempty"`
	BuilderID   *int            `json:"builder_id,omitempty"`
	PlayVibrate string          `json:"play_vibrate,omitempty"`
	PlayLights  string          `json:"play_lights,omitempty"`
	PlaySound   string          `json:"play_sound,omitempty"`
	SetBadge    *int            `json:"set_badge,omitempty"`
	AddBadge    *int            `json:"add_badge,omitempty"`
	RePop       *int            `json:"re_pop,omitempty"`
	AfterOpen   AfterOpen       `json:"after_open,omitempty"`
	URL         string          `json:"url,omitempty"`
	Activity    string          `json:"activity,omitempty"`
	Custom      json.RawMessage `json:"custom,omitempty"`
}

// aps is the iOS payload's aps dictionary.
type aps struct {
	// Alert is a string, or an alert object when there is a title or
	// subtitle.
	Alert any `json:"alert,omitempty"`
	// Badge is a number, or one of Umeng's string forms ("+1", "-1", "").
	Badge             any               `json:"badge,omitempty"`
	Sound             string            `json:"sound,omitempty"`
	ContentAvailable  int               `json:"content-available,omitempty"`
	MutableContent    int               `json:"mutable-content,omitempty"`
	Category          string            `json:"category,omitempty"`
	ThreadID          string            `json:"thread-id,omitempty"`
	InterruptionLevel InterruptionLevel `json:"interruption-level,omitempty"`
}

type apsAlert struct {
	Title    string `json:"title,omitempty"`
	Subtitle string `json:"subtitle,omitempty"`
	Body     string `json:"body,omitempty"`
}

// buildPayload encodes the payload for r's platform and checks its size.
func buildPayload(r *provider.Request, o *Options) (json.RawMessage, error) {
	var (
		b     []byte
		err   error
		limit int
	)
	switch r.Platform {
	case provider.Android:
		b, err = androidPayloadJSON(&r.Notification, o)
		limit = MaxAndroidPayloadBytes
	default:
		b, err = iosPayloadJSON(&r.Notification, o)
		limit = MaxIOSPayloadBytes
	}
	if err != nil {
		return nil, err
	}
	if len(b) > limit {
		field, size := largestPart(r.Platform, &r.Notification, o)
		return nil, invalid(field, fmt.Sprintf("takes %d bytes of a payload of %d; Umeng accepts at most %d for %s",
			size, len(b), limit, r.Platform))
	}
	return b, nil
}

// largestPart names the part of the caller's content that takes the most
// bytes of the encoded payload, and how many, so that a payload over its
// limit is reported against a field the caller wrote rather than against
// Umeng's "payload". Each part is measured by its JSON encoding; an Android
// title counts twice when it also serves as the ticker. Ties go to the
// first of body, title, subtitle, extras, custom, iOS keys, big body.
func largestPart(p provider.Platform, n *provider.Notification, o *Options) (field string, size int) {
	encoded := func(v any) int {
		b, err := marshal(v)
		if err != nil {
			return 0
		}
		return len(b)
	}
	title := encoded(n.Title)
	parts := []struct {
		field string
		size  int
	}{
		{"notification.body", encoded(n.Body)},
		{"notification.title", title},
		{"notification.subtitle", 0},
		{"notification.extras", 0},
		{"overrides.umeng.custom", len(o.Custom)},
		{"overrides.umeng.ios_keys", 0},
		{"overrides.umeng.big_body", 0},
	}
	if len(n.Extras) > 0 {
		parts[3].size = encoded(n.Extras)
	}
	switch p {
	case provider.IOS:
		parts[2].size = encoded(n.Subtitle)
		parts[4].size = 0
		if len(o.IOSKeys) > 0 {
			parts[5].size = encoded(o.IOSKeys)
		}
	default:
		if !n.Silent && o.Ticker == "" {
			parts[1].size = 2 * title
		}
		if o.BigBody != "" {
			parts[6].size = encoded(o.BigBody)
		}
	}
	for _, pt := range parts {
		if pt.size > size {
			field, size = pt.field, pt.size
		}
	}
	if field == "" {
		field = "notification.body"
	}
	return field, size
}

// displayType is the Android display type a send of n with o uses.
func displayType(n *provider.Notification, o *Options) DisplayType {
	switch {
	case o.DisplayType != "":
		return o.DisplayType
	case n.Silent:
		return DisplayMessage
	}
	return DisplayNotification
}

func androidPayloadJSON(n *provider.Notification, o *Options) ([]byte, error) {
	dt := displayType(n, o)
	for k := range n.Extras {
		if k == "" {
			return nil, invalid("notification.extras", "has an empty key")
		}
	}
	// Umeng honours payload.extra on notifications only; a message carries
	// the extras inside body.custom instead (see androidMessageBody).
	p := androidPayload{DisplayType: dt}
	var err error
	switch dt {
	case DisplayNotification:
		p.Body, err = androidNotificationBody(n, o)
		p.Extra = n.Extras
	case DisplayMessage:
		p.Body, err = androidMessageBody(n, o)
	default:
		err = invalid("overrides.umeng.display_type", fmt.Sprintf("must be %q or %q, got %q", DisplayNotification, DisplayMessage, dt))
	}
	if err != nil {
		return nil, err
	}
	return marshal(p)
}

func androidNotificationBody(n *provider.Notification, o *Options) (androidBody, error) {
	if n.Title == "" {
		return androidBody{}, invalid("notification.title", "is required for an Android notification")
	}
	if n.Body == "" {
		return androidBody{}, invalid("notification.body", "is required for an Android notification")
	}
	b := androidBody{
		Ticker:      o.Ticker,
		Title:       n.Title,
		Text:        n.Body,
		Icon:        o.Icon,
		LargeIcon:   o.LargeIcon,
		Img:         n.Image,
		Sound:       provider.AndroidSound(n),
		BuilderID:   o.BuilderID,
		PlayVibrate: boolString(o.PlayVibrate),
		PlayLights:  boolString(o.PlayLights),
		PlaySound:   boolString(o.PlaySound),
		SetBadge:    o.SetBadge,
		AddBadge:    o.AddBadge,
		AfterOpen:   o.AfterOpen,
	}
	if b.Ticker == "" {
		b.Ticker = n.Title
	}
	if b.AfterOpen == "" {
		b.AfterOpen = AfterOpenApp
	}
	imgField := "notification.image"
	if o.Img != "" {
		b.Img, imgField = o.Img, "overrides.umeng.img"
	}
	if b.Img != "" && !isHTTPURL(b.Img) {
		return androidBody{}, invalid(imgField, "must be an http or https URL")
	}
	if b.BuilderID != nil && *b.BuilderID < 0 {
		return androidBody{}, invalid("overrides.umeng.builder_id", "must not be negative")
	}
	// Umeng's own channel takes any badge number; Huawei and Honor ignore
	// values outside 1–99 by themselves, so the client does not refuse them.
	if b.SetBadge != nil && b.AddBadge != nil {
		return androidBody{}, invalid("overrides.umeng.set_badge", "cannot be combined with add_badge: Umeng would ignore add_badge")
	}
	if n := utf8.RuneCountInString(o.BigBody); n > MaxBigBodyChars {
		return androidBody{}, invalid("overrides.umeng.big_body", fmt.Sprintf("has %d characters; Umeng takes at most %d", n, MaxBigBodyChars))
	}
	b.BigBody = o.BigBody
	if o.ExpandImage != "" && !isHTTPURL(o.ExpandImage) {
		return androidBody{}, invalid("overrides.umeng.expand_image", "must be an http or https URL")
	}
	b.ExpandImage = o.ExpandImage
	if o.RePop != nil {
		rePop := 0
		if *o.RePop {
			rePop = 1
		}
		b.RePop = &rePop
	}
	if len(o.Custom) > 0 {
		if err := checkCustom(o.Custom); err != nil {
			return androidBody{}, err
		}
		b.Custom = o.Custom
	}
	switch b.AfterOpen {
	case AfterOpenApp:
	case AfterOpenURL:
		if o.URL == "" {
			return androidBody{}, invalid("overrides.umeng.url", "is required when after_open is go_url")
		}
		if !isHTTPURL(o.URL) {
			return androidBody{}, invalid("overrides.umeng.url", "must be an http or https URL")
		}
		b.URL = o.URL
	case AfterOpenActivity:
		if o.Activity == "" {
			return androidBody{}, invalid("overrides.umeng.activity", "is required when after_open is go_activity")
		}
		b.Activity = o.Activity
	case AfterOpenCustom:
		if len(o.Custom) == 0 {
			return androidBody{}, invalid("overrides.umeng.custom", "is required when after_open is go_custom")
		}
	default:
		return androidBody{}, invalid("overrides.umeng.after_open",
			fmt.Sprintf("must be one of go_app, go_url, go_activity, go_custom; got %q", b.AfterOpen))
	}
	return b, nil
}

// messageData is what a message without Options.Custom hands the app in
// body.custom, JSON-encoded into a string.
type messageData struct {
	Title  string            `json:"title,omitempty"`
	Body   string            `json:"body,omitempty"`
	Extras map[string]string `json:"extras,omitempty"`
}

// androidMessageBody builds the body of a data-only message, which Umeng
// hands to the app as body.custom without showing anything. Umeng drops
// payload.extra on messages, so the extras travel inside body.custom: as
// part of messageData, or, with Options.Custom, not at all, which is why
// that combination is refused rather than losing them.
func androidMessageBody(n *provider.Notification, o *Options) (androidBody, error) {
	if len(o.Custom) > 0 {
		if len(n.Extras) > 0 {
			return androidBody{}, invalid("notification.extras",
				"Umeng drops extras on a message; put them in overrides.umeng.custom or leave custom empty")
		}
		if err := checkCustom(o.Custom); err != nil {
			return androidBody{}, err
		}
		return androidBody{Custom: o.Custom}, nil
	}
	if n.Title == "" && n.Body == "" && len(n.Extras) == 0 {
		return androidBody{}, invalid("overrides.umeng.custom",
			"is required for a message without a title, body or extras")
	}
	data, err := marshal(messageData{Title: n.Title, Body: n.Body, Extras: n.Extras})
	if err != nil {
		return androidBody{}, err
	}
	custom, err := marshal(string(data))
	if err != nil {
		return androidBody{}, err
	}
	return androidBody{Custom: custom}, nil
}

// checkCustom accepts a JSON string or object, the two forms Umeng takes.
func checkCustom(raw json.RawMessage) error {
	t := bytes.TrimSpace(raw)
	if !json.Valid(t) || (t[0] != '"' && t[0] != '{') {
		return invalid("overrides.umeng.custom", "must be a JSON string or object")
	}
	return nil
}

func iosPayloadJSON(n *provider.Notification, o *Options) ([]byte, error) {
	a := aps{
		Category: n.Category,
		ThreadID: n.ThreadID,
	}
	switch {
	case n.Badge != nil && o.IOSBadge != nil:
		return nil, invalid("overrides.umeng.ios_badge", "cannot be combined with notification.badge")
	case n.Badge != nil && *n.Badge < 0:
		return nil, invalid("notification.badge", "must not be negative")
	case n.Badge != nil:
		a.Badge = *n.Badge
	case o.IOSBadge != nil:
		if !validIOSBadge(*o.IOSBadge) {
			return nil, invalid("overrides.umeng.ios_badge",
				fmt.Sprintf(`must be "N", "+N", "-N" (N digits) or "" to clear, got %q`, *o.IOSBadge))
		}
		a.Badge = *o.IOSBadge
	}
	switch o.InterruptionLevel {
	case "", InterruptionPassive, InterruptionActive, InterruptionTimeSensitive, InterruptionCritical:
		a.InterruptionLevel = o.InterruptionLevel
	default:
		return nil, invalid("overrides.umeng.interruption_level",
			fmt.Sprintf("must be passive, active, time-sensitive or critical, got %q", o.InterruptionLevel))
	}
	if n.MutableContent {
		a.MutableContent = 1
	}
	if n.Silent || o.ContentAvailable {
		a.ContentAvailable = 1
	}
	if !n.Silent {
		// A bare body travels as the short alert string; anything with a
		// title or subtitle needs the alert object.
		if n.Title == "" && n.Subtitle == "" {
			a.Alert = n.Body
		} else {
			a.Alert = apsAlert{Title: n.Title, Subtitle: n.Subtitle, Body: n.Body}
		}
		a.Sound = provider.IOSSound(n)
	}
	apsJSON, err := marshal(a)
	if err != nil {
		return nil, err
	}
	payload := map[string]json.RawMessage{"aps": apsJSON}
	for _, k := range sortedKeys(n.Extras) {
		if err := checkIOSKey("notification.extras", k); err != nil {
			return nil, err
		}
		v, err := marshal(n.Extras[k])
		if err != nil {
			return nil, err
		}
		payload[k] = v
	}
	for _, k := range sortedKeys(o.IOSKeys) {
		field := "overrides.umeng.ios_keys"
		if err := checkIOSKey(field, k); err != nil {
			return nil, err
		}
		if _, dup := n.Extras[k]; dup {
			return nil, invalid(entry(field, k), "duplicates a notification.extras key")
		}
		v := bytes.TrimSpace(o.IOSKeys[k])
		var text string
		if len(v) == 0 || v[0] != '"' || json.Unmarshal(v, &text) != nil {
			return nil, invalid(entry(field, k), "must be a JSON string; Umeng refuses other custom values on iOS")
		}
		payload[k] = v
	}
	return marshal(payload)
}

// checkIOSKey rejects keys Umeng reserves ("d", "p") or that would replace
// aps.
func checkIOSKey(field, k string) error {
	switch k {
	case "":
		return invalid(field, "has an empty key")
	case "aps", "d", "p":
		return invalid(entry(field, k), fmt.Sprintf("%q is reserved by Umeng and APNs", k))
	}
	return nil
}

// validIOSBadge reports whether s is one of Umeng's badge strings: digits,
// optionally signed, or empty (clear the badge).
func validIOSBadge(s string) bool {
	digits := strings.TrimLeft(s, "+-")
	if s == "" {
		return true
	}
	if len(s)-len(digits) > 1 || digits == "" || len(digits) > 9 {
		return false
	}
	return !strings.ContainsFunc(digits, func(r rune) bool { return r < '0' || r > '9' })
}

func boolString(b *bool) string {
	switch {
	case b == nil:
		return ""
	case *b:
		return "true"
	}
	return "false"
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// marshal encodes v without HTML escaping, so that URLs keep their "&" and
// the payload size is what Umeng counts.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, invalid("request", "cannot be encoded as JSON: "+err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}
