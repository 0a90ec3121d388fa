package getui

import (
	"bytes"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"maps"
	"strconv"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/tuisong/push/provider"
)

// pushBody is the PushDTO of every push path. Field order is wire order.
type pushBody struct {
	RequestID   string       `json:"request_id"`
	Settings    *settings    `json:"settings,omitempty"`
	Audience    any          `json:"audience,omitempty"` // "all" or *audience; absent on /push/list/message
	PushMessage *pushMessage `json:"push_message"`
	PushChannel *pushChannel `json:"push_channel,omitempty"`
}

type settings struct {
	TTL          *int64         `json:"ttl,omitempty"`
	Strategy     map[string]int `json:"strategy,omitempty"`
	ScheduleTime int64          `json:"schedule_time,omitempty"`
}

type audience struct {
	CID   []string    `json:"cid,omitempty"`
	Alias []string    `json:"alias,omitempty"`
	Tag   []condition `json:"tag,omitempty"`
}

// condition is one entry of audience.tag.
type condition struct {
	Key     string   `json:"key"`
	Values  []string `json:"values"`
	OptType string   `json:"opt_type"`
}

type pushMessage struct {
	Notification *notification `json:"notification,omitempty"`
	Transmission string        `json:"transmission,omitempty"`
}

type notification struct {
	Title     string `json:"title"`
	Body      string `json:"body"`
	ClickType string `json:"click_type"`
	Intent    string `json:"intent,omitempty"`
	URL       string `json:"url,omitempty"`
	Payload   string `json:"payload,omitempty"`
	ChannelID string `json:"channel_id,omitempty"`
}

type pushChannel struct {
	IOS     *iosChannel     `json:"ios,omitempty"`
	Android *androidChannel `json:"android,omitempty"`
}

type iosChannel struct {
	Type       string `json:"type"`
	Aps        aps    `json:"aps"`
	AutoBadge  string `json:"auto_badge,omitempty"`
	Payload    string `json:"payload,omitempty"`
	CollapseID string `json:"apns-collapse-id,omitempty"`
}

type aps struct {
	Alert            *iosAlert `json:"alert,omitempty"`
	ContentAvailable int       `json:"content-available"`
	Sound            string    `json:"sound,omitempty"`
	Category         string    `json:"category,omitempty"`
	ThreadID         string    `json:"thread-id,omitempty"`
}

type iosAlert struct {
	Title    string `json:"title,omitempty"`
	Subtitle string `json:"subtitle,omitempty"`
	Body     string `json:"body,omitempty"`
}

type androidChannel struct {
	Ups ups `json:"ups"`
}

type ups struct {
	Notification *notification             `json:"notification,omitempty"`
	Transmission string                    `json:"transmission,omitempty"`
	Options      map[string]map[string]any `json:"options,omitempty"`
}

// listBody is the body of /push/list/cid and /push/list/alias.
type listBody struct {
	Audience audience `json:"audience"`
	TaskID   string   `json:"taskid"`
	IsAsync  bool     `json:"is_async"`
}

// route is how a request reaches Getui.
type route int

const (
	routeSingle route = iota // one call: /push/single/cid or /push/single/alias
	routeList                // /push/list/message, then /push/list/cid or /push/list/alias
	routeTask                // one call: /push/all or /push/tag
)

// prepared is a checked request: its bodies and what Send needs besides.
type prepared struct {
	route    route
	path     string // the first (or only) call
	listPath string // routeList: the second call
	body     []byte
	targets  []string // routeList: cids or aliases of the second call
	byCID    bool     // targets are cids (not aliases)
	oneToken bool
	ttl      time.Duration // how long Getui keeps the message
	start    time.Time     // schedule_time, zero when sent at once
}

// build checks r against Getui's rules and encodes the body. It is the
// whole of Validate and the part of Send before the network. With listed,
// a token or alias audience is a list push however few its targets (see
// retriesList).
func (c *Client) build(r *provider.Request, listed bool) (*prepared, error) {
	if err := r.Validate(); err != nil {
		return nil, withProvider(err)
	}
	o, err := optionsFrom(r.Overrides)
	if err != nil {
		return nil, err
	}
	if err := o.check(); err != nil {
		return nil, err
	}
	p, aud, err := buildAudience(r, o, listed)
	if err != nil {
		return nil, err
	}
	for k := range r.Notification.Extras {
		if strings.TrimSpace(k) == "" {
			return nil, invalid("notification.extras", "has an empty key")
		}
	}
	b := &pushBody{RequestID: RequestID(r.IdempotencyKey), Audience: aud}
	if r.Platform == provider.Android {
		err = androidContent(b, &r.Notification, o, c.huawei, c.classUps[r.Notification.Class])
	} else {
		err = iosContent(b, &r.Notification, o)
	}
	if err != nil {
		return nil, err
	}
	st := &settings{Strategy: strategyOf(r, o)}
	if p.ttl, err = c.timeToLive(r, st); err != nil {
		return nil, err
	}
	now := c.now()
	if !r.StartTime.IsZero() && r.StartTime.After(now) {
		if p.route != routeTask {
			return nil, invalid("start_time", "Getui schedules only broadcast and tag pushes; send single and list pushes at once")
		}
		if r.StartTime.Sub(now) > MaxScheduleAhead {
			return nil, invalid("start_time", "is more than 7 days ahead; Getui schedules a push at most 7 days ahead")
		}
		st.ScheduleTime = r.StartTime.UnixMilli()
		p.start = r.StartTime
	}
	if st.TTL != nil || st.Strategy != nil || st.ScheduleTime != 0 {
		b.Settings = st
	}
	if p.body, err = marshal(b); err != nil {
		return nil, err
	}
	return p, nil
}

// IOSStrategy is the settings.strategy an iOS push gets for the "ios"
// channel when its Options name neither "ios" nor "default": 4, APNs
// first and Getui's own connection only when APNs fails. Getui's default,
// 1, sends through its connection while it counts the app as online, and
// an app just sent to the background, still counted online, is shown
// nothing: Getui advises 2 or 4 for iOS.
const IOSStrategy = 4

// strategyOf is the settings.strategy of r: o's, with "ios" set to
// IOSStrategy on a push that reaches iOS devices (an iOS one, or one to
// all devices) unless o sets "ios" or "default". o is not
// changed.
func strategyOf(r *provider.Request, o *Options) map[string]int {
	if r.Platform != provider.IOS && !o.AllDevices {
		return o.Strategy
	}
	if _, ok := o.Strategy["ios"]; ok {
		return o.Strategy
	}
	if _, ok := o.Strategy["default"]; ok {
		return o.Strategy
	}
	st := make(map[string]int, len(o.Strategy)+1)
	maps.Copy(st, o.Strategy)
	st["ios"] = IOSStrategy
	return st
}

// distinct is list with each value once, in the order of its first
// place: Getui refuses a whole list push that names a cid or alias twice
// (20001 "contains duplicate cid"), where a Request may repeat one.
func distinct(list []string) []string {
	seen := make(map[string]bool, len(list))
	out := list[:0:0]
	for _, v := range list {
		if !seen[v] {
			seen[v] = true
			out = append(out, v)
		}
	}
	return out
}

// buildAudience picks the route and the audience for r: one cid or alias
// is a single push, unless listed.
func buildAudience(r *provider.Request, o *Options, listed bool) (*prepared, any, error) {
	a := &r.Audience
	phone := condition{Key: "phone_type", Values: []string{string(r.Platform)}, OptType: "and"}
	switch a.Kind {
	case provider.AudienceTokens:
		if len(a.Tokens) > MaxCIDs {
			return nil, nil, invalid("audience.tokens", fmt.Sprintf("has %d cids; Getui takes at most %d", len(a.Tokens), MaxCIDs))
		}
		for i, t := range a.Tokens {
			if strings.ContainsAny(t, " \t\r\n") || len(t) > 64 {
				return nil, nil, invalid(fmt.Sprintf("audience.tokens[%d]", i), "is not a Getui cid (no white space, at most 64 characters)")
			}
		}
		if len(a.Tokens) == 1 && !listed {
			return &prepared{route: routeSingle, path: "/push/single/cid", oneToken: true}, &audience{CID: a.Tokens}, nil
		}
		return &prepared{route: routeList, path: "/push/list/message", listPath: "/push/list/cid",
			targets: distinct(a.Tokens), byCID: true}, nil, nil
	case provider.AudienceAliases:
		// Getui aliases have no type: AliasType, which Request.Validate
		// requires, is accepted whatever it is and ignored.
		if len(a.Aliases) > MaxAliases {
			return nil, nil, invalid("audience.aliases", fmt.Sprintf("has %d aliases; Getui takes at most %d", len(a.Aliases), MaxAliases))
		}
		for i, s := range a.Aliases {
			if strings.TrimSpace(s) == "" || utf8.RuneCountInString(s) > 40 {
				return nil, nil, invalid(fmt.Sprintf("audience.aliases[%d]", i), "must be 1 to 40 characters, not blank")
			}
		}
		if len(a.Aliases) == 1 && !listed {
			return &prepared{route: routeSingle, path: "/push/single/alias"}, &audience{Alias: a.Aliases}, nil
		}
		return &prepared{route: routeList, path: "/push/list/message", listPath: "/push/list/alias",
			targets: distinct(a.Aliases)}, nil, nil
	case provider.AudienceBroadcast:
		if o.AllDevices {
			return &prepared{route: routeTask, path: "/push/all"}, "all", nil
		}
		return &prepared{route: routeTask, path: "/push/tag"}, &audience{Tag: []condition{phone}}, nil
	case provider.AudienceFilter:
		conds, err := filterConditions(a)
		if err != nil {
			return nil, nil, err
		}
		if !o.AllDevices {
			conds = append(conds, phone)
		}
		return &prepared{route: routeTask, path: "/push/tag"}, &audience{Tag: conds}, nil
	}
	return nil, nil, invalid("audience.kind", fmt.Sprintf("Getui cannot send to a %q audience", a.Kind))
}

// filterConditions reads Filter, a JSON array of Getui tag conditions
// ({"key","values","opt_type"}), and adds Tags as one custom_tag "or"
// condition. GroupID has no Getui counterpart.
func filterConditions(a *provider.Audience) ([]condition, error) {
	if a.GroupID != "" {
		return nil, invalid("audience.group_id", "Getui has no push groups; give tags or tag conditions")
	}
	var conds []condition
	if len(a.Filter) > 0 {
		dec := json.NewDecoder(bytes.NewReader(a.Filter))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&conds); err != nil {
			return nil, invalid("audience.filter", `must be a JSON array of {"key","values","opt_type"} tag conditions`)
		}
		for i, c := range conds {
			switch {
			case c.Key == "":
				return nil, invalid("audience.filter", fmt.Sprintf("condition %d has no key", i))
			case len(c.Values) == 0:
				return nil, invalid("audience.filter", fmt.Sprintf("condition %d has no values", i))
			case c.OptType != "or" && c.OptType != "and" && c.OptType != "not":
				return nil, invalid("audience.filter", fmt.Sprintf("condition %d: opt_type must be or, and or not", i))
			}
			for _, v := range c.Values {
				if strings.TrimSpace(v) == "" {
					return nil, invalid("audience.filter", fmt.Sprintf("condition %d has an empty value", i))
				}
			}
		}
	}
	if len(a.Tags) > 0 {
		for i, t := range a.Tags {
			if strings.TrimSpace(t) == "" {
				return nil, invalid(fmt.Sprintf("audience.tags[%d]", i), "is empty")
			}
		}
		conds = append(conds, condition{Key: "custom_tag", Values: a.Tags, OptType: "or"})
	}
	if len(conds) == 0 {
		return nil, invalid("audience.filter", "selects nothing: give tags or tag conditions")
	}
	return conds, nil
}

// androidContent fills the push message and the makers' channel of an
// Android push: a notification, or for a silent push a transmission.
func androidContent(b *pushBody, n *provider.Notification, o *Options, huawei string, classUps map[string]map[string]any) error {
	if n.Silent {
		data, err := transmission(n)
		if err != nil {
			return err
		}
		if err := checkVivoCategory(o.UpsOptions); err != nil {
			return err
		}
		b.PushMessage = &pushMessage{Transmission: data}
		b.PushChannel = &pushChannel{Android: &androidChannel{Ups: ups{Transmission: data, Options: o.UpsOptions}}}
		return nil
	}
	switch {
	case n.Title == "":
		return invalid("notification.title", "a Getui notification needs a title")
	case n.Body == "":
		return invalid("notification.body", "a Getui notification needs a body")
	case javaLen(n.Title) > MaxTitleRunes:
		return invalid("notification.title", fmt.Sprintf("has %d characters (UTF-16 units: an emoji counts two); Getui takes at most %d", javaLen(n.Title), MaxTitleRunes))
	case javaLen(n.Body) > MaxBodyRunes:
		return invalid("notification.body", fmt.Sprintf("has %d characters (UTF-16 units: an emoji counts two); Getui takes at most %d", javaLen(n.Body), MaxBodyRunes))
	}
	nt := notification{Title: n.Title, Body: n.Body, ClickType: o.ClickType, Intent: o.Intent, URL: o.URL, Payload: o.Payload}
	extras, err := extrasJSON(n.Extras)
	if err != nil {
		return err
	}
	if nt.ClickType == "" {
		nt.ClickType = ClickStartApp
		if extras != "" || nt.Payload != "" {
			nt.ClickType = ClickPayload
		}
	}
	if extras != "" && nt.ClickType != ClickPayload {
		return invalid("notification.extras", "Getui hands extras to the app as the click payload: they need click_type payload")
	}
	if nt.ClickType == ClickPayload && nt.Payload == "" {
		if extras == "" {
			return invalid(optionsField+".payload", "is required for click_type payload without extras")
		}
		if len(extras) > MaxPayloadBytes {
			return invalid("notification.extras", fmt.Sprintf("take %d bytes as a payload; Getui takes at most %d", len(extras), MaxPayloadBytes))
		}
		nt.Payload = extras
	}
	upsOpts := classOptions(n.Class, huawei, overlayUps(classUps, o.UpsOptions))
	if err := checkVivoCategory(upsOpts); err != nil {
		return err
	}
	third := nt
	nt.ChannelID = o.ChannelID
	b.PushMessage = &pushMessage{Notification: &nt}
	b.PushChannel = &pushChannel{Android: &androidChannel{Ups: ups{Notification: &third, Options: upsOpts}}}
	return nil
}

// checkVivoCategory refuses makers' options whose vivo "/category" vivo
// would refuse (checkVivoCategoryIn), under the push's own field.
func checkVivoCategory(opts map[string]map[string]any) error {
	if err := checkVivoCategoryIn(optionsField+".ups_options", opts, nil); err != nil {
		return &provider.Error{Provider: Name, Op: opValidate, Kind: provider.InvalidRequest, Err: err}
	}
	return nil
}

// classificationIn reads maker's "/classification" in the makers' options
// opts: nil when unset, an error when it is no integer (text or number).
func classificationIn(opts map[string]map[string]any, maker string) (*int, error) {
	v, ok := opts[maker][vivoClassification]
	if !ok {
		return nil, nil
	}
	n, err := strconv.Atoi(fmt.Sprint(v))
	if err != nil {
		return nil, fmt.Errorf("must be 0 or 1, got %v", v)
	}
	return &n, nil
}

// checkVivoCategoryIn checks the "/category" that vivo reads from the
// makers' options opts, its own ("VV") and the one every maker reads
// ("ALL"), as provider.CheckVivoCategory does: a string in vivo's form,
// not of the other classification than the "/classification" sent with
// it (vivo's own, else ALL's), or than class when it names one (nil: none
// is sent). The error is a *provider.FieldError under field.
func checkVivoCategoryIn(field string, opts map[string]map[string]any, class *int) error {
	cls := class
	for _, m := range []string{MakerAll, MakerVivo} { // vivo's own wins
		if n, err := classificationIn(opts, m); err == nil && n != nil {
			cls = n
		}
	}
	for _, m := range []string{MakerVivo, MakerAll} {
		v, ok := opts[m][vivoCategory]
		if !ok {
			continue
		}
		f := entry(entry(field, m), vivoCategory)
		cat, isString := v.(string)
		if !isString {
			return &provider.FieldError{Field: f, Reason: fmt.Sprintf("must be a string, got %T", v)}
		}
		if err := provider.CheckVivoCategory(f, cat, cls); err != nil {
			return err
		}
	}
	return nil
}

// classOptions returns the makers' options of an Android notification of
// class c: opts with vivo's "/classification" (0 marketing, 1 system),
// Huawei's and Honor's importance ("LOW" marketing, "NORMAL" service and
// communication) and Huawei's "/message/android/category" (MARKETING, or
// for service the category Huawei granted the app, huawei; none when it
// granted none) added: the makers' keys a class maps to without a channel
// of the app's own (Xiaomi's and OPPO's name a channel id the app
// registers). vivo's system class needs no application; Huawei files a
// push without a category it granted the app as marketing, and Honor one
// without an importance. A key opts sets already wins; opts itself is not
// changed. An unset class returns opts as it is.
func classOptions(c provider.Class, huawei string, opts map[string]map[string]any) map[string]map[string]any {
	var vivo int
	var importance string
	switch c {
	case provider.ClassMarketing:
		vivo, importance = 0, "LOW"
	case provider.ClassService:
		vivo, importance = 1, "NORMAL"
	default:
		return opts
	}
	out := make(map[string]map[string]any, len(opts)+3)
	for maker, kv := range opts {
		out[maker] = kv
	}
	set := []struct {
		maker, key string
		v          any
	}{{MakerVivo, vivoClassification, vivo}, {MakerHuawei, huaweiImportance, importance}, {MakerHonor, honorImportance, importance}}
	if cat := provider.HuaweiCategory(c, huawei); cat != "" {
		set = append(set, struct {
			maker, key string
			v          any
		}{MakerHuawei, huaweiCategory, cat})
	}
	for _, d := range set {
		if _, ok := out[d.maker][d.key]; ok {
			continue
		}
		kv := make(map[string]any, len(out[d.maker])+1)
		for k, v := range out[d.maker] {
			kv[k] = v
		}
		kv[d.key] = d.v
		out[d.maker] = kv
	}
	return out
}

// overlayUps returns own's makers' options laid over def's (a class's
// Config.ClassUpsOptions), maker by maker and key by key, own's value
// winning; own itself when def has none. Neither map is changed.
func overlayUps(def, own map[string]map[string]any) map[string]map[string]any {
	if len(def) == 0 {
		return own
	}
	out := make(map[string]map[string]any, len(def)+len(own))
	for maker, kv := range def {
		out[maker] = maps.Clone(kv)
	}
	for maker, kv := range own {
		if out[maker] == nil {
			out[maker] = make(map[string]any, len(kv))
		}
		maps.Copy(out[maker], kv)
	}
	return out
}

// The makers' option keys a message class sets (see classOptions).
const (
	vivoClassification = "/classification"
	vivoCategory       = "/category"
	huaweiImportance   = "/message/android/notification/importance"
	huaweiCategory     = "/message/android/category"
	honorImportance    = "/android/notification/importance"
)

// iosContent fills an iOS push: APNs carries the notification
// (push_channel.ios); Getui's own connection, used while the app runs,
// carries the same content as a transmission.
func iosContent(b *pushBody, n *provider.Notification, o *Options) error {
	data, err := transmission(n)
	if err != nil {
		return err
	}
	ch := &iosChannel{Type: "notify", AutoBadge: o.AutoBadge, CollapseID: o.APNsCollapseID,
		Aps: aps{Category: n.Category, ThreadID: n.ThreadID}}
	if ch.AutoBadge == "" && n.Badge != nil {
		if *n.Badge < 0 {
			return invalid("notification.badge", "must not be negative")
		}
		ch.AutoBadge = strconv.Itoa(*n.Badge)
	}
	if n.Silent {
		ch.Aps.ContentAvailable = 1
	} else {
		ch.Aps.Alert = &iosAlert{Title: n.Title, Subtitle: n.Subtitle, Body: n.Body}
		ch.Aps.Sound = provider.IOSSound(n)
	}
	if ch.Payload, err = extrasJSON(n.Extras); err != nil {
		return err
	}
	if len(ch.Payload) > MaxPayloadBytes {
		return invalid("notification.extras", fmt.Sprintf("take %d bytes as the iOS payload; Getui takes at most %d", len(ch.Payload), MaxPayloadBytes))
	}
	b.PushMessage = &pushMessage{Transmission: data}
	b.PushChannel = &pushChannel{IOS: ch}
	return nil
}

// transmission encodes what the app receives as data: a JSON object of
// title, subtitle, body and extras, each left out when empty. Over
// MaxPayloadBytes it is refused, naming the largest part.
func transmission(n *provider.Notification) (string, error) {
	type data struct {
		Title    string            `json:"title,omitempty"`
		Subtitle string            `json:"subtitle,omitempty"`
		Body     string            `json:"body,omitempty"`
		Extras   map[string]string `json:"extras,omitempty"`
	}
	raw, err := marshal(data{n.Title, n.Subtitle, n.Body, n.Extras})
	if err != nil {
		return "", err
	}
	if len(raw) <= MaxPayloadBytes {
		return string(raw), nil
	}
	field, size := largestPart(n)
	return "", invalid(field, fmt.Sprintf("takes %d bytes of a transmission of %d; Getui takes at most %d", size, len(raw), MaxPayloadBytes))
}

// largestPart names the part of the content that takes the most bytes.
// Ties go to the first of body, title, subtitle, extras.
func largestPart(n *provider.Notification) (string, int) {
	enc := func(v any) int {
		b, _ := marshal(v)
		return len(b)
	}
	parts := []struct {
		field string
		size  int
	}{
		{"notification.body", enc(n.Body)},
		{"notification.title", enc(n.Title)},
		{"notification.subtitle", enc(n.Subtitle)},
		{"notification.extras", 0},
	}
	if len(n.Extras) > 0 {
		parts[3].size = enc(n.Extras)
	}
	field, size := "notification.body", 0
	for _, p := range parts {
		if p.size > size {
			field, size = p.field, p.size
		}
	}
	return field, size
}

// extrasJSON encodes extras as a JSON object; "" when there are none.
func extrasJSON(extras map[string]string) (string, error) {
	if len(extras) == 0 {
		return "", nil
	}
	raw, err := marshal(extras)
	return string(raw), err
}

// timeToLive sets st.TTL from ExpireTime (milliseconds from now, rounded
// up, clamped to MaxTimeToLive) or Config.DefaultTimeToLive, and returns
// how long Getui keeps the message (its default of two hours when nothing
// is sent, as its push API page gives it).
func (c *Client) timeToLive(r *provider.Request, st *settings) (time.Duration, error) {
	var d time.Duration
	switch {
	case !r.ExpireTime.IsZero():
		from := c.now()
		if r.StartTime.After(from) {
			from = r.StartTime
		}
		d = r.ExpireTime.Sub(from)
		if d <= 0 {
			return 0, invalid("expire_time", "is not in the future")
		}
		if rem := d % time.Millisecond; rem != 0 {
			d += time.Millisecond - rem
		}
		d = min(d, MaxTimeToLive)
	case c.defaultTTL > 0:
		d = c.defaultTTL.Truncate(time.Millisecond)
	default:
		return getuiDefaultTTL, nil
	}
	ms := d.Milliseconds()
	st.TTL = &ms
	return d, nil
}

// getuiDefaultTTL is what Getui keeps a message for without settings.ttl:
// two hours, by Getui's push API page (an older copy said one hour).
const getuiDefaultTTL = 2 * time.Hour

// RequestID returns the request_id sent for an idempotency key: the first
// 32 hex digits of the key's SHA-256, so the same key always gives the same
// id and Getui drops a repeat. An empty key gets 32 random hex digits: a
// send without a key cannot be deduplicated.
func RequestID(key string) string {
	if key == "" {
		var b [16]byte
		_, _ = rand.Read(b[:])
		return hex.EncodeToString(b[:])
	}
	sum := sha256.Sum256([]byte(key))
	return hex.EncodeToString(sum[:16])
}

// marshal encodes v without HTML escaping, so URLs keep their "&" and the
// sizes are what Getui counts.
func marshal(v any) ([]byte, error) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, invalid("request", "cannot be encoded as JSON: "+err.Error())
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// javaLen is the length of s as Java counts it: UTF-16 code units, two for
// a character beyond U+FFFF (see MaxTitleRunes). Invalid UTF-8 counts one
// unit a byte, as it is sent replaced by U+FFFD.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
