package provider

import (
	"encoding/json"
	"fmt"
	"time"
)

// AudienceKind says how a Request selects its devices.
type AudienceKind string

// The kinds of audience. Not every vendor supports every kind; see
// Capabilities.Audiences.
const (
	AudienceTokens    AudienceKind = "tokens"    // explicit device tokens
	AudienceBroadcast AudienceKind = "broadcast" // every device of the app
	AudienceAliases   AudienceKind = "aliases"   // aliases of one alias type
	AudienceFilter    AudienceKind = "filter"    // a vendor tag/filter expression or a group
	AudienceFile      AudienceKind = "file"      // a previously uploaded file of tokens or aliases
)

// Audience selects the devices of a Request. Exactly the fields of its Kind
// are used.
type Audience struct {
	Kind      AudienceKind
	Tokens    []string        // AudienceTokens
	Aliases   []string        // AudienceAliases
	AliasType string          // AudienceAliases, and AudienceFile of aliases, where the vendor types aliases (Capabilities.NeedsAliasType)
	Filter    json.RawMessage // AudienceFilter: a vendor filter object (Umeng groupcast "filter")
	GroupID   string          // AudienceFilter: a vendor group id instead of Filter
	Tags      []string        // AudienceFilter: plain tags, for vendors that take tag lists
	FileID    string          // AudienceFile: an id returned by an upload
}

// Notification is what the user sees, or the data the app receives.
type Notification struct {
	Title    string
	Subtitle string // iOS only
	Body     string
	// Extras are delivered to the app with the notification (Umeng "extra"
	// on Android, custom top-level keys on iOS).
	Extras map[string]string
	Badge  *int // iOS badge; nil leaves it unchanged
	// Sound is the name of the sound to play. Empty plays the platform's
	// default sound: on iOS DefaultSound is sent, as an alert without a
	// sound key plays none. NoSound plays none (see IOSSound, AndroidSound).
	Sound string
	Image string // http(s) URL of an image, where supported
	// Silent sends a data-only message (Android "message" display type, iOS
	// content-available without an alert).
	Silent bool
	// Class is the message class phone makers' channels throttle by; empty
	// leaves it to the vendor and the phone maker. See Class.
	Class          Class
	Category       string // iOS category
	ThreadID       string // iOS thread-id
	MutableContent bool   // iOS mutable-content
}

// Request is one send to one platform of one vendor.
type Request struct {
	Platform     Platform
	Audience     Audience
	Notification Notification
	// StartTime schedules the push; the zero value sends at once.
	StartTime time.Time
	// ExpireTime is when the vendor stops trying; the zero value is the
	// vendor's default.
	ExpireTime time.Time
	// IdempotencyKey identifies this send across retries. Vendors that can
	// deduplicate (Umeng out_biz_no on task casts, Getui request_id and list
	// tasks, JPush cid) are given it, so a retried send is not shown twice.
	// A key names one request: sent again with other content or another
	// audience, it may be answered with the first send's result and send
	// nothing new (push.Service gives every delivery, and every part of a
	// split one, a key of its own). Its shape is the Service's: 16 hex
	// digits of a random nonce, "-" and the delivery's number, then ".i"
	// for each split ("c1d2d0600ffe7ec1-0", "c1d2d0600ffe7ec1-0.1.0"),
	// ASCII of at most registry.MaxVarchar characters; a row another
	// program wrote may hold any key of that length. A provider whose
	// vendor takes a shorter field hashes the key to fit it, the same key
	// always to the same value.
	IdempotencyKey string
	// RetryToken is what an earlier try of IdempotencyKey left in its
	// error (Error.RetryToken), given back so that a retry made by another
	// process, which never saw that try, is deduplicated as well as one
	// made by the same Client: JPush's cid, a Getui list push's task. Empty
	// on a first try. Its form is the provider's own; a provider ignores a
	// token it cannot read (another program may have written it) and sends
	// as on a first try. push.Service keeps it with the delivery.
	RetryToken string
	// Description is a free-text note shown in vendor consoles.
	Description string
	// Overrides holds vendor-specific options keyed by provider name, for
	// example Overrides["umeng"] = &umeng.Options{…}. A provider ignores the
	// keys of others and rejects a value of the wrong type for its own key.
	// Every provider also accepts its options' JSON as a json.RawMessage,
	// decoded strictly (unknown fields refused): that is how the push
	// Service stores them with a push, so that every retry sends them.
	Overrides map[string]any
}

// Validate checks what every vendor requires: a valid platform, an audience
// whose fields match its kind, and some visible or data content. It returns
// an InvalidRequest error naming the field. Vendors check their own limits
// on top, such as Umeng's required Audience.AliasType
// (Capabilities.NeedsAliasType).
func (r *Request) Validate() error {
	if r == nil {
		return Invalid("request", "is nil")
	}
	if !r.Platform.Valid() {
		return Invalid("platform", fmt.Sprintf("must be %q or %q, got %q", IOS, Android, r.Platform))
	}
	a := &r.Audience
	switch a.Kind {
	case AudienceTokens:
		if len(a.Tokens) == 0 {
			return Invalid("audience.tokens", "is empty")
		}
		for i, t := range a.Tokens {
			if t == "" {
				return Invalid(fmt.Sprintf("audience.tokens[%d]", i), "is empty")
			}
		}
	case AudienceBroadcast:
	case AudienceAliases:
		if len(a.Aliases) == 0 {
			return Invalid("audience.aliases", "is empty")
		}
	case AudienceFilter:
		if len(a.Filter) == 0 && a.GroupID == "" && len(a.Tags) == 0 {
			return Invalid("audience.filter", "needs a filter, a group id or tags")
		}
		if len(a.Filter) > 0 && !json.Valid(a.Filter) {
			return Invalid("audience.filter", "is not valid JSON")
		}
	case AudienceFile:
		if a.FileID == "" {
			return Invalid("audience.file_id", "is required")
		}
	case "":
		return Invalid("audience.kind", "is required")
	default:
		return Invalid("audience.kind", fmt.Sprintf("unknown kind %q", a.Kind))
	}
	n := &r.Notification
	if !n.Class.Valid() {
		return Invalid("notification.class", fmt.Sprintf("must be %q, %q or empty, got %q", ClassMarketing, ClassService, n.Class))
	}
	if !n.Silent && n.Title == "" && n.Body == "" {
		return Invalid("notification.body", "a visible notification needs a title or a body")
	}
	if !r.ExpireTime.IsZero() && !r.StartTime.IsZero() && !r.ExpireTime.After(r.StartTime) {
		return Invalid("expire_time", "must be after start_time")
	}
	return nil
}

// DefaultSound is the iOS sound an alert plays when Notification.Sound is
// empty.
const DefaultSound = "default"

// NoSound, as Notification.Sound, sends an alert that plays no sound: no
// sound is named to the vendor at all. (A sound file named "none" cannot
// be chosen.)
const NoSound = "none"

// IOSSound is the aps "sound" of an iOS alert of n: n.Sound, DefaultSound
// when it is empty, and "" (no sound key) for NoSound.
func IOSSound(n *Notification) string {
	switch n.Sound {
	case "":
		return DefaultSound
	case NoSound:
		return ""
	}
	return n.Sound
}

// AndroidSound is the sound an Android notification of n names: n.Sound,
// and "" (the channel's own) for NoSound.
func AndroidSound(n *Notification) string {
	if n.Sound == NoSound {
		return ""
	}
	return n.Sound
}
