package jpush

import (
	"bytes"
	"encoding/json"
	"fmt"
	"hash/fnv"
	"maps"
	"net/url"
	"reflect"
	"strings"
	"time"

	"github.com/tuisong/push/provider"
)

// pushBody is the JSON body of /v3/push and /v3/push/validate. Field order
// is the wire order.
type pushBody struct {
	Platform     []string      `json:"platform"`
	Audience     any           `json:"audience"` // "all" or *audience
	Notification *notification `json:"notification,omitempty"`
	Message      *message      `json:"message,omitempty"`
	Options      pushOptions   `json:"options"`
}

type audience struct {
	RegistrationID []string `json:"registration_id,omitempty"`
	Alias          []string `json:"alias,omitempty"`
	Tag            []string `json:"tag,omitempty"`
	TagAnd         []string `json:"tag_and,omitempty"`
	TagNot         []string `json:"tag_not,omitempty"`
	Segment        []string `json:"segment,omitempty"`
}

type notification struct {
	Android *androidNotification `json:"android,omitempty"`
	IOS     *iosNotification     `json:"ios,omitempty"`
}

type androidNotification struct {
	Alert       string            `json:"alert"`
	Title       string            `json:"title,omitempty"`
	BuilderID   *int              `json:"builder_id,omitempty"`
	ChannelID   string            `json:"channel_id,omitempty"`
	Category    string            `json:"category,omitempty"`
	Priority    *int              `json:"priority,omitempty"`
	Style       int               `json:"style,omitempty"`
	AlertType   *int              `json:"alert_type,omitempty"`
	BigText     string            `json:"big_text,omitempty"`
	BigPicPath  string            `json:"big_pic_path,omitempty"`
	LargeIcon   string            `json:"large_icon,omitempty"`
	Intent      *intent           `json:"intent,omitempty"`
	BadgeAddNum *int              `json:"badge_add_num,omitempty"`
	Sound       string            `json:"sound,omitempty"`
	Extras      map[string]string `json:"extras,omitempty"`
}

type intent struct {
	URL string `json:"url"`
}

type iosNotification struct {
	// Alert is a string, or an alert object when there is a title or a
	// subtitle; "" on a silent push.
	Alert             any               `json:"alert"`
	Sound             string            `json:"sound,omitempty"`
	Badge             *int              `json:"badge,omitempty"`
	ContentAvailable  bool              `json:"content-available,omitempty"`
	MutableContent    bool              `json:"mutable-content,omitempty"`
	Category          string            `json:"category,omitempty"`
	ThreadID          string            `json:"thread-id,omitempty"`
	InterruptionLevel string            `json:"interruption-level,omitempty"`
	Extras            map[string]string `json:"extras,omitempty"`
}

type iosAlert struct {
	Title    string `json:"title,omitempty"`
	Subtitle string `json:"subtitle,omitempty"`
	Body     string `json:"body,omitempty"`
}

type message struct {
	MsgContent  string            `json:"msg_content"`
	Title       string            `json:"title,omitempty"`
	ContentType string            `json:"content_type,omitempty"`
	Extras      map[string]string `json:"extras,omitempty"`
}

type pushOptions struct {
	SendNo            int                          `json:"sendno,omitempty"`
	TimeToLive        *int64                       `json:"time_to_live,omitempty"`
	OverrideMsgID     int64                        `json:"override_msg_id,omitempty"`
	APNsProduction    bool                         `json:"apns_production"`
	APNsCollapseID    string                       `json:"apns_collapse_id,omitempty"`
	Classification    *int                         `json:"classification,omitempty"`
	ThirdPartyChannel map[string]ThirdPartyChannel `json:"third_party_channel,omitempty"`
}

// prepared is a checked request: its body and what Send needs besides.
type prepared struct {
	body   *pushBody
	bytes  []byte
	ttl    time.Duration // what JPush will keep the message for
	tokens []string      // the registration ids of a token audience
}

// build checks r against JPush's rules and encodes the body. now is the
// client's clock.
func (c *Client) build(r *provider.Request) (*prepared, error) {
	if err := r.Validate(); err != nil {
		return nil, withProvider(err)
	}
	o, err := optionsFrom(r.Overrides)
	if err != nil {
		return nil, err
	}
	aud, err := buildAudience(&r.Audience)
	if err != nil {
		return nil, err
	}
	// The push's own channels are checked as they will be sent, laid over
	// its class's: a notify_level may count on the class's category.
	channels := c.thirdPartyChannels(r, o)
	checked := *o
	checked.ThirdPartyChannel = channels
	if err := checked.checkCommon(); err != nil {
		return nil, err
	}
	if vivo, ok := channels[ChannelVivo]; ok && r.Platform == provider.Android {
		// vivo refuses a category of the other classification than the one
		// sent: options.classification (set, or the class's) over the
		// channel's own. An iOS request reaches no vivo phone: its form
		// alone is checked (checkCommon).
		cls := classification(r, o)
		if cls == nil {
			cls = vivo.Classification
		}
		if err := provider.CheckVivoCategory(entry(optionsField+".third_party_channel", ChannelVivo)+".category", vivo.Category, cls); err != nil {
			return nil, &provider.Error{Provider: Name, Op: opValidate, Kind: provider.InvalidRequest, Err: err}
		}
	}
	if err := checkExtras(r.Notification.Extras); err != nil {
		return nil, err
	}
	b := &pushBody{Platform: []string{string(r.Platform)}, Audience: aud}
	switch r.Platform {
	case provider.Android:
		if r.Notification.Silent {
			b.Message, err = androidMessage(&r.Notification, o)
		} else {
			var an *androidNotification
			an, err = androidNotif(&r.Notification, o)
			b.Notification = &notification{Android: an}
		}
	default:
		var in *iosNotification
		in, err = iosNotif(&r.Notification, o)
		b.Notification = &notification{IOS: in}
	}
	if err != nil {
		return nil, err
	}
	if err := checkSize(r, b, o); err != nil {
		return nil, err
	}
	ttl, sent, err := c.timeToLive(r)
	if err != nil {
		return nil, err
	}
	b.Options = pushOptions{
		SendNo:            SendNo(r.IdempotencyKey),
		APNsProduction:    !c.apnsSandbox,
		APNsCollapseID:    o.APNsCollapseID,
		Classification:    classification(r, o),
		ThirdPartyChannel: channels,
	}
	if r.Platform == provider.Android {
		// JPush applies it to Android alone; an iOS request leaves it out,
		// so that a msg_id JPush no longer knows cannot fail that request.
		b.Options.OverrideMsgID = o.OverrideMsgID
	}
	if sent {
		secs := int64(ttl / time.Second)
		b.Options.TimeToLive = &secs
	}
	raw, err := marshal(b)
	if err != nil {
		return nil, err
	}
	var tokens []string
	if r.Audience.Kind == provider.AudienceTokens {
		tokens = r.Audience.Tokens
	}
	return &prepared{body: b, bytes: raw, ttl: ttl, tokens: tokens}, nil
}

// classification is options.classification: Options.Classification
// when set, else, for an Android request whose notification has a class,
// 0 for marketing and 1 for service, the message class JPush passes to the
// phone makers' channels (vivo's and the others' quotas for marketing
// messages). JPush documents it for Android only.
func classification(r *provider.Request, o *Options) *int {
	if o.Classification != nil || r.Platform != provider.Android {
		return o.Classification
	}
	var v int
	switch r.Notification.Class {
	case provider.ClassMarketing:
		v = 0
	case provider.ClassService:
		v = 1
	default:
		return nil
	}
	return &v
}

// thirdPartyChannels returns options.third_party_channel of an Android
// request: o.ThirdPartyChannel laid over the class's ClassChannels, maker
// by maker and field by field, with huawei.category set, unless either
// sets one, to what the class and the app's granted service category say
// (provider.HuaweiCategory). The class is the one o.Classification
// names, when set, else the notification's. o itself is not changed.
func (c *Client) thirdPartyChannels(r *provider.Request, o *Options) map[string]ThirdPartyChannel {
	if r.Platform != provider.Android {
		return o.ThirdPartyChannel
	}
	class := classOf(r, o)
	channels := overlayChannels(c.classChannels[class], o.ThirdPartyChannel)
	if channels[ChannelHuawei].Category != "" {
		return channels
	}
	cat := provider.HuaweiCategory(class, c.huawei)
	if cat == "" {
		return channels
	}
	out := make(map[string]ThirdPartyChannel, len(channels)+1)
	maps.Copy(out, channels)
	hw := out[ChannelHuawei]
	hw.Category = cat
	out[ChannelHuawei] = hw
	return out
}

// SendNo is the options.sendno sent for an idempotency key: the FNV-1a
// 32-bit hash of key with its top bit cleared, so a positive int32, and 1
// where that would be 0; 0 (left out) for an empty key. JPush only echoes
// sendno back: it does not deduplicate pushes by it, so a retried push
// after an Indeterminate error may be shown twice. It ties a JPush answer
// and its console entry to the caller's push.
func SendNo(key string) int {
	if key == "" {
		return 0
	}
	h := fnv.New32a()
	_, _ = h.Write([]byte(key))
	n := int(h.Sum32() & 0x7fffffff)
	if n == 0 {
		n = 1
	}
	return n
}

// timeToLive returns the time_to_live for r and whether it is sent. A
// StartTime in the future is refused: /v3/push sends at once and
// scheduling goes through JPush's Schedule API, which this client does not
// wrap; a StartTime already past is ignored. ExpireTime must be in the
// future; it is rounded up to whole seconds and clamped to the app's
// longest (MaxTimeToLiveOrdinary, or MaxTimeToLive with Config.VIP).
func (c *Client) timeToLive(r *provider.Request) (time.Duration, bool, error) {
	now := c.now()
	if !r.StartTime.IsZero() && r.StartTime.After(now) {
		return 0, false, invalid("start_time", "JPush's push API sends at once; scheduled pushes are not supported")
	}
	if r.ExpireTime.IsZero() {
		if c.defaultTTL > 0 {
			return c.defaultTTL.Truncate(time.Second), true, nil
		}
		return defaultTTL, false, nil
	}
	d := r.ExpireTime.Sub(now)
	if d <= 0 {
		return 0, false, invalid("expire_time", "is not in the future")
	}
	if rem := d % time.Second; rem != 0 {
		d += time.Second - rem
	}
	return min(d, c.maxTTL), true, nil
}

// buildAudience maps r's audience to JPush's: "all" for a broadcast, or an
// object of registration ids, aliases, tags or a segment.
func buildAudience(a *provider.Audience) (any, error) {
	switch a.Kind {
	case provider.AudienceBroadcast:
		return "all", nil
	case provider.AudienceTokens:
		if len(a.Tokens) > MaxRegistrationIDs {
			return nil, invalid("audience.tokens", fmt.Sprintf("has %d registration ids; JPush takes at most %d", len(a.Tokens), MaxRegistrationIDs))
		}
		for i, t := range a.Tokens {
			if strings.TrimSpace(t) != t || strings.ContainsAny(t, " \t\r\n") {
				return nil, invalid(fmt.Sprintf("audience.tokens[%d]", i), "must not contain white space")
			}
		}
		return &audience{RegistrationID: a.Tokens}, nil
	case provider.AudienceAliases:
		// JPush aliases have no type (Capabilities.NeedsAliasType is
		// false): AliasType is ignored.
		if len(a.Aliases) > MaxAliases {
			return nil, invalid("audience.aliases", fmt.Sprintf("has %d aliases; JPush takes at most %d", len(a.Aliases), MaxAliases))
		}
		for i, s := range a.Aliases {
			if strings.TrimSpace(s) == "" {
				return nil, invalid(fmt.Sprintf("audience.aliases[%d]", i), "is empty")
			}
			if len(s) > MaxAliasBytes {
				return nil, invalid(fmt.Sprintf("audience.aliases[%d]", i), fmt.Sprintf("is %d bytes; JPush takes at most %d", len(s), MaxAliasBytes))
			}
		}
		return &audience{Alias: a.Aliases}, nil
	case provider.AudienceFilter:
		return filterAudience(a)
	}
	return nil, invalid("audience.kind", fmt.Sprintf("JPush cannot send to a %q audience", a.Kind))
}

// filterAudience builds a tag audience from Filter (an object of tag,
// tag_and and tag_not arrays), Tags (added to tag) and GroupID (a segment
// id).
func filterAudience(a *provider.Audience) (any, error) {
	out := &audience{}
	if len(a.Filter) > 0 {
		var f map[string]json.RawMessage
		if err := json.Unmarshal(a.Filter, &f); err != nil || f == nil {
			return nil, invalid("audience.filter", "must be a JSON object of tag, tag_and and tag_not arrays")
		}
		for k, raw := range f {
			var tags []string
			if err := json.Unmarshal(raw, &tags); err != nil {
				return nil, invalid("audience.filter", fmt.Sprintf("%q must be an array of strings", k))
			}
			switch k {
			case "tag":
				out.Tag = tags
			case "tag_and":
				out.TagAnd = tags
			case "tag_not":
				out.TagNot = tags
			default:
				return nil, invalid("audience.filter", fmt.Sprintf("unknown key %q; JPush takes tag, tag_and and tag_not", k))
			}
		}
	}
	out.Tag = append(append([]string(nil), out.Tag...), a.Tags...)
	if len(out.Tag) == 0 {
		out.Tag = nil
	}
	for _, g := range []struct {
		field string
		tags  []string
	}{{"tag", out.Tag}, {"tag_and", out.TagAnd}, {"tag_not", out.TagNot}} {
		field := "audience.filter"
		if g.field == "tag" && len(a.Tags) > 0 {
			field = "audience.tags"
		}
		if len(g.tags) > MaxTags {
			return nil, invalid(field, fmt.Sprintf("%s has %d tags; JPush takes at most %d", g.field, len(g.tags), MaxTags))
		}
		for _, t := range g.tags {
			if strings.TrimSpace(t) == "" {
				return nil, invalid(field, g.field+" has an empty tag")
			}
			if len(t) > MaxTagBytes {
				return nil, invalid(field, fmt.Sprintf("%s has a tag of %d bytes; JPush takes at most %d", g.field, len(t), MaxTagBytes))
			}
		}
	}
	if a.GroupID != "" {
		out.Segment = []string{a.GroupID}
	}
	if out.Tag == nil && out.TagAnd == nil && out.TagNot == nil && out.Segment == nil {
		return nil, invalid("audience.filter", "selects nothing: give tags, tag_and, tag_not or a group id")
	}
	if out.Tag == nil && out.TagAnd == nil && out.Segment == nil {
		return nil, invalid("audience.filter", "tag_not alone selects nothing; JPush needs tag, tag_and or a segment beside it")
	}
	return out, nil
}

func checkExtras(extras map[string]string) error {
	for k := range extras {
		if strings.TrimSpace(k) == "" {
			return invalid("notification.extras", "has an empty key")
		}
	}
	return nil
}

func androidNotif(n *provider.Notification, o *Options) (*androidNotification, error) {
	an := &androidNotification{
		Alert:       n.Body,
		Title:       n.Title,
		BuilderID:   o.BuilderID,
		ChannelID:   o.ChannelID,
		Category:    o.Category,
		Priority:    o.Priority,
		Style:       o.Style,
		AlertType:   o.AlertType,
		BigText:     o.BigText,
		BigPicPath:  o.BigPicPath,
		LargeIcon:   o.LargeIcon,
		BadgeAddNum: o.BadgeAddNum,
		Sound:       provider.AndroidSound(n),
		Extras:      n.Extras,
	}
	if an.Alert == "" {
		// JPush needs alert; a title-only notification shows its title.
		an.Alert, an.Title = n.Title, ""
	}
	const f = optionsField
	if o.IntentURL != "" {
		an.Intent = &intent{URL: o.IntentURL}
	}
	imageField := f + ".big_pic_path"
	if an.BigPicPath == "" && n.Image != "" {
		an.BigPicPath, imageField = n.Image, "notification.image"
		if an.Style == StyleDefault {
			an.Style = StyleBigPicture
		}
	}
	switch {
	case o.BuilderID != nil && *o.BuilderID < 0:
		return nil, invalid(f+".builder_id", "must not be negative")
	case o.Priority != nil && (*o.Priority < -2 || *o.Priority > 2):
		return nil, invalid(f+".priority", "must lie within -2 and 2")
	case o.AlertType != nil && (*o.AlertType < -1 || *o.AlertType > 7):
		return nil, invalid(f+".alert_type", "must be -1 or the sum of 1 (sound), 2 (vibration) and 4 (light)")
	case o.BadgeAddNum != nil && (*o.BadgeAddNum < 1 || *o.BadgeAddNum > 99):
		return nil, invalid(f+".badge_add_num", "must lie within 1 and 99")
	case an.Style == StyleInbox:
		return nil, invalid(f+".style", "the inbox style is not supported")
	case an.Style < StyleDefault || an.Style > StyleBigPicture:
		return nil, invalid(f+".style", fmt.Sprintf("must be 0, 1 or 3, got %d", an.Style))
	case an.Style == StyleBigText && an.BigText == "":
		return nil, invalid(f+".big_text", "is required for the big text style")
	case an.Style == StyleBigPicture && an.BigPicPath == "":
		return nil, invalid(f+".big_pic_path", "is required for the big picture style")
	case strings.Contains(an.BigPicPath, "://") && !isHTTPURL(an.BigPicPath):
		return nil, invalid(imageField, "must be an http or https URL or a media id")
	case strings.Contains(an.LargeIcon, "://") && !isHTTPURL(an.LargeIcon):
		return nil, invalid(f+".large_icon", "must be an http or https URL or a media id")
	}
	return an, nil
}

// androidMessage builds the pass-through message of a silent Android push:
// the app receives it without anything shown.
func androidMessage(n *provider.Notification, o *Options) (*message, error) {
	m := &message{MsgContent: n.Body, Title: n.Title, ContentType: o.ContentType, Extras: n.Extras}
	if m.MsgContent == "" {
		m.MsgContent, m.Title = n.Title, ""
	}
	if m.MsgContent == "" {
		return nil, invalid("notification.body", "a JPush pass-through message needs content: set a body")
	}
	return m, nil
}

func iosNotif(n *provider.Notification, o *Options) (*iosNotification, error) {
	in := &iosNotification{
		Badge:             n.Badge,
		ContentAvailable:  n.Silent || o.ContentAvailable,
		MutableContent:    n.MutableContent,
		Category:          n.Category,
		ThreadID:          n.ThreadID,
		InterruptionLevel: o.InterruptionLevel,
		Extras:            n.Extras,
	}
	if in.Badge != nil && (*in.Badge < 0 || *in.Badge > MaxBadge) {
		return nil, invalid("notification.badge", fmt.Sprintf("must lie within 0 and %d", MaxBadge))
	}
	switch o.InterruptionLevel {
	case "", "passive", "active", "time-sensitive", "critical":
	default:
		return nil, invalid(optionsField+".interruption_level",
			fmt.Sprintf("must be passive, active, time-sensitive or critical, got %q", o.InterruptionLevel))
	}
	switch {
	case n.Silent:
		// A background push: APNs wakes the app without showing anything.
		in.Alert = ""
	case n.Title == "" && n.Subtitle == "":
		in.Alert, in.Sound = n.Body, provider.IOSSound(n)
	default:
		in.Alert, in.Sound = iosAlert{Title: n.Title, Subtitle: n.Subtitle, Body: n.Body}, provider.IOSSound(n)
	}
	return in, nil
}

// iosKeyBytes is what the key of "ios":{…} adds to the object's own JSON
// in JPush's count of an iOS notification.
const iosKeyBytes = len(`"ios":`)

// checkSize refuses an iOS notification over MaxIOSNotificationBytes, and
// a notification and message over MaxPayloadBytes, naming the largest part
// of the caller's content.
func checkSize(r *provider.Request, b *pushBody, o *Options) error {
	size := 0
	if b.Notification != nil {
		raw, err := marshal(b.Notification)
		if err != nil {
			return err
		}
		size += len(raw)
		if b.Notification.IOS != nil {
			in, err := marshal(b.Notification.IOS)
			if err != nil {
				return err
			}
			if n := iosKeyBytes + len(in); n > MaxIOSNotificationBytes {
				field, part := largestPart(r.Platform, &r.Notification, o)
				return invalid(field, fmt.Sprintf("takes %d bytes of an iOS notification of %d; JPush accepts at most %d",
					part, n, MaxIOSNotificationBytes))
			}
		}
	}
	if b.Message != nil {
		raw, err := marshal(b.Message)
		if err != nil {
			return err
		}
		size += len(raw)
	}
	if size <= MaxPayloadBytes {
		return nil
	}
	field, part := largestPart(r.Platform, &r.Notification, o)
	return invalid(field, fmt.Sprintf("takes %d bytes of a notification and message of %d; JPush accepts at most %d",
		part, size, MaxPayloadBytes))
}

// largestPart names the part of the caller's content that takes the most
// bytes, measured by its JSON encoding. Ties go to the first of body,
// title, subtitle, extras, big_text.
func largestPart(p provider.Platform, n *provider.Notification, o *Options) (string, int) {
	encoded := func(v any) int {
		b, err := marshal(v)
		if err != nil {
			return 0
		}
		return len(b)
	}
	parts := []struct {
		field string
		size  int
	}{
		{"notification.body", encoded(n.Body)},
		{"notification.title", encoded(n.Title)},
		{"notification.subtitle", 0},
		{"notification.extras", 0},
		{optionsField + ".big_text", 0},
	}
	if len(n.Extras) > 0 {
		parts[3].size = encoded(n.Extras)
	}
	if p == provider.IOS {
		parts[2].size = encoded(n.Subtitle)
	} else if !n.Silent {
		parts[4].size = encoded(o.BigText)
	}
	field, size := "notification.body", 0
	for _, pt := range parts {
		if pt.size > size {
			field, size = pt.field, pt.size
		}
	}
	return field, size
}

func isHTTPURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// marshal encodes v without HTML escaping, so URLs keep their "&" and the
// size is what JPush counts.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, invalid("request", "cannot be encoded as JSON: "+err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// classOf is the class of r: the one o.Classification names, when set,
// else the notification's.
func classOf(r *provider.Request, o *Options) provider.Class {
	if o.Classification == nil {
		return r.Notification.Class
	}
	if *o.Classification == 0 {
		return provider.ClassMarketing
	}
	return provider.ClassService
}

// overlayChannels returns own's entries laid over def's, maker by maker
// and field by field (a field own sets wins); own itself when def has
// none. Neither map is changed.
func overlayChannels(def, own map[string]ThirdPartyChannel) map[string]ThirdPartyChannel {
	if len(def) == 0 {
		return own
	}
	out := maps.Clone(def)
	for k, o := range own {
		d := out[k]
		dv, ov := reflect.ValueOf(&d).Elem(), reflect.ValueOf(o)
		for i := range ov.NumField() {
			if !ov.Field(i).IsZero() {
				dv.Field(i).Set(ov.Field(i))
			}
		}
		out[k] = d
	}
	return out
}
