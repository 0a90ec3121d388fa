package getuitest

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"time"
	"unicode/utf16"
	"unicode/utf8"
)

// object is a decoded JSON object, numbers as json.Number.
type object = map[string]any

func decodeObject(body []byte) (object, *refusal) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil || dec.More() {
		return nil, bad("body is not JSON")
	}
	o, ok := v.(object)
	if !ok {
		return nil, bad("body is not a JSON object")
	}
	return o, nil
}

// onlyKeys refuses a member of o outside allowed.
func onlyKeys(where string, o object, allowed ...string) *refusal {
	for k := range o {
		if !slices.Contains(allowed, k) {
			return bad("%s: unknown field %q", where, k)
		}
	}
	return nil
}

func str(o object, key string) (string, bool, *refusal) {
	v, ok := o[key]
	if !ok {
		return "", false, nil
	}
	s, isStr := v.(string)
	if !isStr {
		return "", true, bad("%s must be a string", key)
	}
	return s, true, nil
}

func integer(v any) (int64, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	return i, err == nil
}

func stringList(where string, v any, maxLen int) ([]string, *refusal) {
	arr, ok := v.([]any)
	if !ok || len(arr) == 0 {
		return nil, bad("%s must be a non-empty array", where)
	}
	if len(arr) > maxLen {
		return nil, bad("%s has %d entries; at most %d", where, len(arr), maxLen)
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok || strings.TrimSpace(s) == "" {
			return nil, bad("%s[%d] must be a non-empty string", where, i)
		}
		out[i] = s
	}
	return out, nil
}

// pushDTO is what the fake keeps of a checked PushDTO.
type pushDTO struct {
	requestID    string
	ttl          *int64
	scheduleTime int64
	cids         []string
	aliases      []string
	tags         []tagCondition
	all          bool
	notification object // push_message.notification
	transmission string
	ios          object // push_channel.ios
}

type tagCondition struct {
	key     string
	values  []string
	optType string
}

// audience modes of checkPushDTO.
type audienceMode int

const (
	audNone audienceMode = iota // /push/list/message: no audience
	audOneCID
	audOneAlias
	audAll
	audTag
)

const maxTTL = 3 * 24 * 3600 * 1000

// maxScheduleAhead is how far ahead a settings.schedule_time may be.
const maxScheduleAhead = 7 * 24 * time.Hour

// checkPushDTO validates a PushDTO for mode.
func (s *Server) checkPushDTO(o object, mode audienceMode) (*pushDTO, *refusal) {
	if rf := onlyKeys("body", o, "request_id", "settings", "audience", "push_message", "push_channel", "group_name"); rf != nil {
		return nil, rf
	}
	d := &pushDTO{}
	rid, _, rf := str(o, "request_id")
	if rf != nil {
		return nil, rf
	}
	if n := utf8.RuneCountInString(rid); n < 10 || n > 32 {
		return nil, bad("request_id must be 10 to 32 characters, got %d", n)
	}
	d.requestID = rid
	if v, ok := o["settings"]; ok {
		st, isObj := v.(object)
		if !isObj {
			return nil, bad("settings must be an object")
		}
		if rf := s.checkSettings(st, mode, d); rf != nil {
			return nil, rf
		}
	}
	if rf := s.checkAudience(o["audience"], mode, d); rf != nil {
		return nil, rf
	}
	pm, ok := o["push_message"].(object)
	if !ok {
		return nil, bad("push_message is required and must be an object")
	}
	if rf := checkPushMessage(pm, d); rf != nil {
		return nil, rf
	}
	if v, ok := o["push_channel"]; ok {
		pc, isObj := v.(object)
		if !isObj {
			return nil, bad("push_channel must be an object")
		}
		if rf := checkPushChannel(pc, d); rf != nil {
			return nil, rf
		}
	}
	return d, nil
}

func (s *Server) checkSettings(st object, mode audienceMode, d *pushDTO) *refusal {
	if rf := onlyKeys("settings", st, "ttl", "strategy", "speed", "schedule_time", "custom_callback", "filter_notify_off", "active_days", "need_backup"); rf != nil {
		return rf
	}
	if v, ok := st["ttl"]; ok {
		n, isInt := integer(v)
		if !isInt || n < -1 || n > maxTTL || n == 0 {
			return bad("settings.ttl must be -1 or an integer of milliseconds in [1, %d]", maxTTL)
		}
		d.ttl = &n
	}
	if v, ok := st["strategy"]; ok {
		m, isObj := v.(object)
		if !isObj {
			return bad("settings.strategy must be an object")
		}
		for k, sv := range m {
			n, isInt := integer(sv)
			if !isInt || n < 1 || n > 4 {
				return bad("settings.strategy.%s must be 1, 2, 3 or 4", k)
			}
		}
	}
	if v, ok := st["speed"]; ok {
		if n, isInt := integer(v); !isInt || n < 0 {
			return bad("settings.speed must be a non-negative integer")
		}
	}
	if v, ok := st["schedule_time"]; ok {
		n, isInt := integer(v)
		if !isInt {
			return bad("settings.schedule_time must be an integer of milliseconds")
		}
		if mode != audAll && mode != audTag {
			return bad("settings.schedule_time is only for /push/all and /push/tag")
		}
		if n <= s.now().UnixMilli() {
			return bad("settings.schedule_time must be in the future")
		}
		if n > s.now().Add(maxScheduleAhead).UnixMilli() {
			return bad("settings.schedule_time must be within 7 days")
		}
		d.scheduleTime = n
	}
	return nil
}

func (s *Server) checkAudience(v any, mode audienceMode, d *pushDTO) *refusal {
	switch mode {
	case audNone:
		if v != nil {
			return bad("/push/list/message takes no audience")
		}
		return nil
	case audAll:
		if v != "all" {
			return bad(`audience must be "all"`)
		}
		d.all = true
		return nil
	}
	a, ok := v.(object)
	if !ok {
		return bad("audience is required and must be an object")
	}
	switch mode {
	case audOneCID:
		if rf := onlyKeys("audience", a, "cid"); rf != nil {
			return rf
		}
		cids, rf := stringList("audience.cid", a["cid"], 1)
		if rf != nil {
			return rf
		}
		if rf := s.checkCIDs(cids); rf != nil {
			return rf
		}
		d.cids = cids
	case audOneAlias:
		if rf := onlyKeys("audience", a, "alias"); rf != nil {
			return rf
		}
		aliases, rf := stringList("audience.alias", a["alias"], 1)
		if rf != nil {
			return rf
		}
		d.aliases = aliases
	case audTag:
		if rf := onlyKeys("audience", a, "tag"); rf != nil {
			return rf
		}
		arr, ok := a["tag"].([]any)
		if !ok || len(arr) == 0 {
			return bad("audience.tag must be a non-empty array")
		}
		for i, e := range arr {
			c, ok := e.(object)
			if !ok {
				return bad("audience.tag[%d] must be an object", i)
			}
			if rf := onlyKeys(fmt.Sprintf("audience.tag[%d]", i), c, "key", "values", "opt_type"); rf != nil {
				return rf
			}
			key, _, rf := str(c, "key")
			if rf != nil || key == "" {
				return bad("audience.tag[%d].key must be a non-empty string", i)
			}
			vals, rf := stringList(fmt.Sprintf("audience.tag[%d].values", i), c["values"], 1000)
			if rf != nil {
				return rf
			}
			opt, _, _ := str(c, "opt_type")
			if opt != "or" && opt != "and" && opt != "not" {
				return bad("audience.tag[%d].opt_type must be or, and or not", i)
			}
			d.tags = append(d.tags, tagCondition{key, vals, opt})
		}
	}
	return nil
}

func (s *Server) checkCIDs(cids []string) *refusal {
	if s.cfg.AcceptAnyCID {
		return nil
	}
	for i, c := range cids {
		if !wellFormedCID(c) {
			// Getui's words for a cid it cannot use, which blames the
			// target: the client's InvalidToken.
			return bad("target user is invalid: cid[%d] %q is not a Getui cid", i, c)
		}
	}
	return nil
}

var clickTypes = []string{"intent", "url", "payload", "startapp", "none"}

// checkNotification validates a Getui or maker notification.
func checkNotification(where string, n object) *refusal {
	if rf := onlyKeys(where, n, "title", "body", "click_type", "intent", "url", "payload", "notify_id", "channel_id",
		"channel_name", "channel_level", "big_text", "big_image", "logo", "logo_url", "ring_name", "badge_add_num", "thread_id"); rf != nil {
		return rf
	}
	for k, v := range n {
		if _, ok := v.(string); !ok {
			return bad("%s.%s must be a string", where, k)
		}
	}
	title, body := n["title"], n["body"]
	switch t, b := stringOf(title), stringOf(body); {
	case t == "" || javaLen(t) > 50:
		return bad("%s.title must be 1 to 50 characters (UTF-16 units)", where)
	case b == "" || javaLen(b) > 256:
		return bad("%s.body must be 1 to 256 characters (UTF-16 units)", where)
	}
	ct := stringOf(n["click_type"])
	if !slices.Contains(clickTypes, ct) {
		return bad("%s.click_type must be intent, url, payload, startapp or none", where)
	}
	switch {
	case ct == "intent" && !strings.HasPrefix(stringOf(n["intent"]), "intent:"):
		return bad("%s.intent is required for click_type intent", where)
	case len(stringOf(n["intent"])) > 4096:
		return bad("%s.intent is over 4096 bytes", where)
	case ct == "url" && !httpURL(stringOf(n["url"])):
		return bad("%s.url must be an http(s) URL for click_type url", where)
	case len(stringOf(n["url"])) > 1024:
		return bad("%s.url is over 1024 bytes", where)
	case ct == "payload" && stringOf(n["payload"]) == "":
		return bad("%s.payload is required for click_type payload", where)
	case len(stringOf(n["payload"])) > 3072:
		return bad("%s.payload is over 3072 bytes", where)
	}
	return nil
}

func stringOf(v any) string {
	s, _ := v.(string)
	return s
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

func checkTransmission(where string, v any) (string, *refusal) {
	t, ok := v.(string)
	if !ok || t == "" || len(t) > 3072 {
		return "", bad("%s must be a string of 1 to 3072 bytes", where)
	}
	return t, nil
}

func checkPushMessage(pm object, d *pushDTO) *refusal {
	if rf := onlyKeys("push_message", pm, "notification", "transmission", "revoke", "duration"); rf != nil {
		return rf
	}
	n := 0
	for _, k := range []string{"notification", "transmission", "revoke"} {
		if _, ok := pm[k]; ok {
			n++
		}
	}
	if n != 1 {
		return bad("push_message needs exactly one of notification, transmission and revoke")
	}
	if v, ok := pm["notification"]; ok {
		nt, isObj := v.(object)
		if !isObj {
			return bad("push_message.notification must be an object")
		}
		if rf := checkNotification("push_message.notification", nt); rf != nil {
			return rf
		}
		d.notification = nt
	}
	if v, ok := pm["transmission"]; ok {
		t, rf := checkTransmission("push_message.transmission", v)
		if rf != nil {
			return rf
		}
		d.transmission = t
	}
	if v, ok := pm["revoke"]; ok {
		if _, isObj := v.(object); !isObj {
			return bad("push_message.revoke must be an object")
		}
	}
	return nil
}

var makers = []string{"ALL", "HW", "XM", "HO", "OP", "VV", "MZ", "UPS", "ST", "FCM"}

func checkPushChannel(pc object, d *pushDTO) *refusal {
	if rf := onlyKeys("push_channel", pc, "ios", "android", "harmony", "mp"); rf != nil {
		return rf
	}
	if v, ok := pc["ios"]; ok {
		ios, isObj := v.(object)
		if !isObj {
			return bad("push_channel.ios must be an object")
		}
		if rf := checkIOS(ios); rf != nil {
			return rf
		}
		d.ios = ios
	}
	if v, ok := pc["android"]; ok {
		an, isObj := v.(object)
		if !isObj {
			return bad("push_channel.android must be an object")
		}
		if rf := onlyKeys("push_channel.android", an, "ups"); rf != nil {
			return rf
		}
		u, isObj := an["ups"].(object)
		if !isObj {
			return bad("push_channel.android.ups is required and must be an object")
		}
		if rf := checkUps(u); rf != nil {
			return rf
		}
	}
	return nil
}

func checkUps(u object) *refusal {
	if rf := onlyKeys("push_channel.android.ups", u, "notification", "transmission", "options", "revoke"); rf != nil {
		return rf
	}
	_, hasN := u["notification"]
	_, hasT := u["transmission"]
	_, hasR := u["revoke"]
	if btoi(hasN)+btoi(hasT)+btoi(hasR) != 1 {
		return bad("push_channel.android.ups needs exactly one of notification, transmission and revoke")
	}
	if hasN {
		n, ok := u["notification"].(object)
		if !ok {
			return bad("push_channel.android.ups.notification must be an object")
		}
		if rf := checkNotification("push_channel.android.ups.notification", n); rf != nil {
			return rf
		}
	}
	if hasT {
		if _, rf := checkTransmission("push_channel.android.ups.transmission", u["transmission"]); rf != nil {
			return rf
		}
	}
	if v, ok := u["options"]; ok {
		opts, isObj := v.(object)
		if !isObj {
			return bad("push_channel.android.ups.options must be an object")
		}
		for m, mv := range opts {
			if !slices.Contains(makers, m) {
				return bad("push_channel.android.ups.options: unknown maker %q", m)
			}
			kv, isObj := mv.(object)
			if !isObj {
				return bad("push_channel.android.ups.options.%s must be an object", m)
			}
			for k, x := range kv {
				switch x.(type) {
				case string, json.Number, bool:
				default:
					return bad("push_channel.android.ups.options.%s.%s must be a string, number or boolean", m, k)
				}
			}
		}
	}
	return nil
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

func checkIOS(ios object) *refusal {
	if rf := onlyKeys("push_channel.ios", ios, "type", "aps", "auto_badge", "payload", "multimedia", "apns-collapse-id"); rf != nil {
		return rf
	}
	if t := stringOf(ios["type"]); t != "notify" && t != "voip" {
		return bad(`push_channel.ios.type must be "notify" or "voip"`)
	}
	for _, k := range []string{"auto_badge", "payload", "apns-collapse-id"} {
		if v, ok := ios[k]; ok {
			if _, isStr := v.(string); !isStr {
				return bad("push_channel.ios.%s must be a string", k)
			}
		}
	}
	if len(stringOf(ios["payload"])) > 3072 {
		return bad("push_channel.ios.payload is over 3072 bytes")
	}
	if len(stringOf(ios["apns-collapse-id"])) > 64 {
		return bad("push_channel.ios.apns-collapse-id is over 64 bytes")
	}
	aps, ok := ios["aps"].(object)
	if !ok {
		return bad("push_channel.ios.aps is required and must be an object")
	}
	if rf := onlyKeys("push_channel.ios.aps", aps, "alert", "content-available", "sound", "category", "thread-id"); rf != nil {
		return rf
	}
	ca := int64(0)
	if v, ok := aps["content-available"]; ok {
		n, isInt := integer(v)
		if !isInt || (n != 0 && n != 1) {
			return bad("push_channel.ios.aps.content-available must be 0 or 1")
		}
		ca = n
	}
	alert, hasAlert := aps["alert"]
	if hasAlert {
		a, isObj := alert.(object)
		if !isObj {
			return bad("push_channel.ios.aps.alert must be an object")
		}
		for k, v := range a {
			if _, isStr := v.(string); !isStr && !strings.HasSuffix(k, "-args") {
				return bad("push_channel.ios.aps.alert.%s must be a string", k)
			}
		}
		if stringOf(a["title"]) == "" && stringOf(a["body"]) == "" {
			return bad("push_channel.ios.aps.alert needs a title or a body")
		}
	}
	if !hasAlert && ca != 1 {
		return bad("push_channel.ios.aps needs an alert or content-available 1")
	}
	for _, k := range []string{"sound", "category", "thread-id"} {
		if v, ok := aps[k]; ok {
			if _, isStr := v.(string); !isStr {
				return bad("push_channel.ios.aps.%s must be a string", k)
			}
		}
	}
	return nil
}

// javaLen is the length of s in UTF-16 code units, as a Java server counts
// a string: a character beyond U+FFFF counts two.
func javaLen(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}
