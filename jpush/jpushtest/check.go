package jpushtest

import (
	"bytes"
	"encoding/json"
	"regexp"
	"slices"
	"strconv"
)

// payloadSize is the size of the notification and message objects of a
// body that decodes as a JSON object: their compact JSON as the client
// wrote it. Re-encoding the decoded objects would count escapes the client
// never sent ("<" as \u003c), and refuse a payload JPush accepts.
func payloadSize(body []byte) int {
	var top map[string]json.RawMessage
	if json.Unmarshal(body, &top) != nil {
		return 0
	}
	size := 0
	for _, k := range []string{"notification", "message"} {
		if raw, ok := top[k]; ok {
			var buf bytes.Buffer
			if json.Compact(&buf, raw) == nil {
				size += buf.Len()
			}
		}
	}
	return size
}

// iosNotificationSize is the size JPush holds an iOS notification to:
// "ios":{…} as the client wrote it, compacted, its key and braces
// included. It is 0 when the body has no notification.ios.
func iosNotificationSize(body []byte) int {
	var top struct {
		Notification struct {
			IOS json.RawMessage `json:"ios"`
		} `json:"notification"`
	}
	if json.Unmarshal(body, &top) != nil || len(top.Notification.IOS) == 0 {
		return 0
	}
	var buf bytes.Buffer
	if json.Compact(&buf, top.Notification.IOS) != nil {
		return 0
	}
	return len(`"ios":`) + buf.Len()
}

// checkPush applies the body rules of the package documentation, in order,
// and fills rec with what it parsed.
func (s *Server) checkPush(body []byte, rec *Request) (*parsed, *refusal) {
	v, err := decode(body)
	obj, ok := v.(map[string]any)
	if err != nil || !ok {
		return nil, bad(CodeInvalid, "body: not a JSON object")
	}
	p := &parsed{}
	if aerr := checkPlatform(obj, p, rec); aerr != nil {
		return nil, aerr
	}
	if aerr := s.checkAudience(obj, p, rec); aerr != nil {
		return nil, aerr
	}
	_, hasN := obj["notification"]
	_, hasM := obj["message"]
	if !hasN && !hasM {
		return nil, bad(CodeMissing, "notification or message is required")
	}
	if hasN {
		n, ok := obj["notification"].(map[string]any)
		if !ok {
			return nil, bad(CodeInvalid, "notification: must be an object")
		}
		if aerr := checkNotification(n); aerr != nil {
			return nil, aerr
		}
		p.notif, rec.Notification = n, cloneObject(n)
	}
	if hasM {
		m, ok := obj["message"].(map[string]any)
		if !ok {
			return nil, bad(CodeInvalid, "message: must be an object")
		}
		if aerr := checkMessage(m); aerr != nil {
			return nil, aerr
		}
		p.msg, rec.PushMessage = m, cloneObject(m)
	}
	if size := iosNotificationSize(body); size > maxIOSNotificationBytes {
		return nil, bad(CodeTooLarge, "notification.ios takes %d bytes; at most %d", size, maxIOSNotificationBytes)
	}
	if size := payloadSize(body); size > maxPayloadBytes {
		return nil, bad(CodeTooLarge, "notification and message take %d bytes; at most %d", size, maxPayloadBytes)
	}
	if aerr := checkOptions(obj, rec); aerr != nil {
		return nil, aerr
	}
	if raw, ok := obj["cid"]; ok {
		cid, isString := raw.(string)
		if !isString || cid == "" {
			return nil, bad(CodeInvalid, "cid: must be a non-empty string")
		}
		p.cid, rec.CID = cid, cid
	}
	for k := range obj {
		switch k {
		case "platform", "audience", "notification", "message", "options", "cid", "notification_3rd", "inapp_message", "sms_message", "callback":
		default:
			return nil, bad(CodeInvalid, "%s: unknown field", k)
		}
	}
	return p, nil
}

func checkPlatform(obj map[string]any, p *parsed, rec *Request) *refusal {
	raw, ok := obj["platform"]
	if !ok {
		return bad(CodeMissing, "platform is required")
	}
	if s, ok := raw.(string); ok {
		if s != "all" {
			return bad(CodeInvalid, "platform: a string must be \"all\"")
		}
		p.platforms, rec.Platform = []string{"all"}, []string{"all"}
		return nil
	}
	list, ok := stringList(raw)
	if !ok || len(list) == 0 {
		return bad(CodeInvalid, "platform: must be \"all\" or a non-empty array of platforms")
	}
	for i, pl := range list {
		if !slices.Contains([]string{"android", "ios", "quickapp", "hmos"}, pl) || slices.Contains(list[:i], pl) {
			return bad(CodeInvalid, "platform: %q is unknown or repeated", pl)
		}
	}
	p.platforms, rec.Platform = list, slices.Clone(list)
	return nil
}

// stringList returns v as a []string when it is an array of strings.
func stringList(v any) ([]string, bool) {
	arr, ok := v.([]any)
	if !ok {
		return nil, false
	}
	out := make([]string, len(arr))
	for i, e := range arr {
		s, ok := e.(string)
		if !ok {
			return nil, false
		}
		out[i] = s
	}
	return out, true
}

func (s *Server) checkAudience(obj map[string]any, p *parsed, rec *Request) *refusal {
	raw, ok := obj["audience"]
	if !ok {
		return bad(CodeMissing, "audience is required")
	}
	if str, ok := raw.(string); ok {
		if str != "all" {
			return bad(CodeInvalid, "audience: a string must be \"all\"")
		}
		p.aud.all, rec.Broadcast = true, true
		return nil
	}
	a, ok := raw.(map[string]any)
	if !ok || len(a) == 0 {
		return bad(CodeInvalid, "audience: must be \"all\" or a non-empty object")
	}
	limits := map[string]int{"registration_id": maxRegistrationIDs, "alias": maxAliases,
		"tag": maxTags, "tag_and": maxTags, "tag_not": maxTags, "segment": 1}
	for k, v := range a {
		limit, known := limits[k]
		if !known {
			return bad(CodeInvalid, "audience.%s: unknown audience type", k)
		}
		list, ok := stringList(v)
		if !ok || len(list) == 0 {
			return bad(CodeInvalid, "audience.%s: must be a non-empty array of strings", k)
		}
		if len(list) > limit {
			return bad(CodeInvalid, "audience.%s: %d values; at most %d", k, len(list), limit)
		}
		for _, e := range list {
			if e == "" {
				return bad(CodeInvalid, "audience.%s: has an empty value", k)
			}
			if k != "registration_id" && k != "segment" && len(e) > maxNameBytes {
				// JPush: each tag and alias at most 40 bytes of UTF-8.
				return bad(CodeInvalid, "audience.%s: %q is %d bytes; at most %d", k, e, len(e), maxNameBytes)
			}
			if k == "registration_id" && !s.cfg.AcceptAnyRegistrationID && !wellFormedRegistrationID(e) {
				return bad(CodeInvalid, "The registration_id %s is invalid!", e)
			}
		}
		switch k {
		case "registration_id":
			p.aud.rids, rec.RegistrationIDs = list, slices.Clone(list)
		case "alias":
			p.aud.aliases, rec.Aliases = list, slices.Clone(list)
		case "tag":
			p.aud.tag, rec.Tags = list, slices.Clone(list)
		case "tag_and":
			p.aud.tagAnd, rec.TagAnd = list, slices.Clone(list)
		case "tag_not":
			p.aud.tagNot, rec.TagNot = list, slices.Clone(list)
		case "segment":
			p.aud.seg, rec.Segments = list, slices.Clone(list)
		}
	}
	if len(a) == 1 && p.aud.tagNot != nil {
		return bad(CodeInvalid, "audience.tag_not: cannot be the only audience type")
	}
	return nil
}

// intIn reports whether v is a JSON integer within [lo, hi].
func intIn(v any, lo, hi int64) bool {
	n, ok := v.(json.Number)
	if !ok {
		return false
	}
	i, err := strconv.ParseInt(string(n), 10, 64)
	return err == nil && i >= lo && i <= hi
}

func checkStrings(obj map[string]any, where string, keys ...string) *refusal {
	for _, k := range keys {
		if v, ok := obj[k]; ok {
			if _, ok := v.(string); !ok {
				return bad(CodeInvalid, "%s.%s: must be a string", where, k)
			}
		}
	}
	return nil
}

func checkExtras(obj map[string]any, where string) *refusal {
	v, ok := obj["extras"]
	if !ok {
		return nil
	}
	ex, ok := v.(map[string]any)
	if !ok {
		return bad(CodeInvalid, "%s.extras: must be an object", where)
	}
	if _, empty := ex[""]; empty {
		return bad(CodeInvalid, "%s.extras: has an empty key", where)
	}
	return nil
}

func checkNotification(n map[string]any) *refusal {
	top, hasTop := n["alert"]
	topAlert := ""
	if hasTop {
		s, ok := top.(string)
		if !ok {
			return bad(CodeInvalid, "notification.alert: must be a string")
		}
		topAlert = s
	}
	for k, v := range n {
		switch k {
		case "alert":
		case "android":
			a, ok := v.(map[string]any)
			if !ok {
				return bad(CodeInvalid, "notification.android: must be an object")
			}
			if aerr := checkAndroid(a, topAlert); aerr != nil {
				return aerr
			}
		case "ios":
			i, ok := v.(map[string]any)
			if !ok {
				return bad(CodeInvalid, "notification.ios: must be an object")
			}
			if aerr := checkIOS(i, hasTop); aerr != nil {
				return aerr
			}
		case "hmos", "quickapp", "voip":
			if _, ok := v.(map[string]any); !ok {
				return bad(CodeInvalid, "notification.%s: must be an object", k)
			}
		default:
			return bad(CodeInvalid, "notification.%s: unknown field", k)
		}
	}
	return nil
}

func checkAndroid(a map[string]any, topAlert string) *refusal {
	const w = "notification.android"
	alert, has := a["alert"]
	if !has && topAlert == "" {
		return bad(CodeMissing, "%s.alert is required", w)
	}
	if has {
		s, ok := alert.(string)
		if !ok || s == "" {
			return bad(CodeInvalid, "%s.alert: must be a non-empty string", w)
		}
	}
	if aerr := checkStrings(a, w, "title", "channel_id", "category", "big_text", "big_pic_path", "large_icon", "sound", "uri_activity", "uri_action"); aerr != nil {
		return aerr
	}
	ranges := []struct {
		key    string
		lo, hi int64
	}{{"builder_id", 0, 1 << 31}, {"priority", -2, 2}, {"style", 0, 3}, {"alert_type", -1, 7}, {"badge_add_num", 1, 99}}
	for _, r := range ranges {
		if v, ok := a[r.key]; ok && !intIn(v, r.lo, r.hi) {
			return bad(CodeInvalid, "%s.%s: must be an integer in [%d, %d]", w, r.key, r.lo, r.hi)
		}
	}
	style, _ := a["style"].(json.Number)
	switch style {
	case "1":
		if s, _ := a["big_text"].(string); s == "" {
			return bad(CodeInvalid, "%s.big_text: required by style 1", w)
		}
	case "2":
		if _, ok := a["inbox"].(map[string]any); !ok {
			return bad(CodeInvalid, "%s.inbox: required by style 2", w)
		}
	case "3":
		if s, _ := a["big_pic_path"].(string); s == "" {
			return bad(CodeInvalid, "%s.big_pic_path: required by style 3", w)
		}
	}
	if v, ok := a["intent"]; ok {
		in, ok := v.(map[string]any)
		if !ok {
			return bad(CodeInvalid, "%s.intent: must be an object", w)
		}
		if u, ok := in["url"].(string); !ok || u == "" {
			return bad(CodeInvalid, "%s.intent.url: must be a non-empty string", w)
		}
	}
	return checkExtras(a, w)
}

var badgeString = regexp.MustCompile(`^[+-]?[0-9]{1,5}$`)

func checkIOS(i map[string]any, hasTopAlert bool) *refusal {
	const w = "notification.ios"
	alert, has := i["alert"]
	if !has && !hasTopAlert {
		return bad(CodeMissing, "%s.alert is required", w)
	}
	if has {
		switch a := alert.(type) {
		case string:
		case map[string]any:
			for k, v := range a {
				if _, ok := v.(string); !ok && k != "title-loc-args" && k != "loc-args" {
					return bad(CodeInvalid, "%s.alert.%s: must be a string", w, k)
				}
			}
		default:
			return bad(CodeInvalid, "%s.alert: must be a string or an object", w)
		}
	}
	if v, ok := i["sound"]; ok {
		switch v.(type) {
		case string, map[string]any:
		default:
			return bad(CodeInvalid, "%s.sound: must be a string or an object", w)
		}
	}
	if v, ok := i["badge"]; ok {
		s, isStr := v.(string)
		if !intIn(v, 0, 99999) && !(isStr && badgeString.MatchString(s)) {
			return bad(CodeInvalid, "%s.badge: must be an integer in [0, 99999] or a string such as \"+1\"", w)
		}
	}
	for _, k := range []string{"content-available", "mutable-content"} {
		if v, ok := i[k]; ok {
			if _, ok := v.(bool); !ok {
				return bad(CodeInvalid, "%s.%s: must be a boolean", w, k)
			}
		}
	}
	if aerr := checkStrings(i, w, "category", "thread-id"); aerr != nil {
		return aerr
	}
	if v, ok := i["interruption-level"]; ok {
		if s, _ := v.(string); !slices.Contains([]string{"passive", "active", "time-sensitive", "critical"}, s) {
			return bad(CodeInvalid, "%s.interruption-level: unknown level", w)
		}
	}
	return checkExtras(i, w)
}

func checkMessage(m map[string]any) *refusal {
	c, ok := m["msg_content"]
	if !ok {
		return bad(CodeMissing, "message.msg_content is required")
	}
	if s, ok := c.(string); !ok || s == "" {
		return bad(CodeInvalid, "message.msg_content: must be a non-empty string")
	}
	if aerr := checkStrings(m, "message", "title", "content_type"); aerr != nil {
		return aerr
	}
	return checkExtras(m, "message")
}

var (
	distributions  = []string{"jpush", "ospush", "first_ospush", "secondary_push"}
	importances    = []string{"LOW", "NORMAL", "HIGH"}
	makersChannels = []string{"xiaomi", "huawei", "honor", "oppo", "vivo", "meizu", "fcm", "nio", "asus", "hmos"}
	fcmStrategies  = []string{"jpush", "fcm", "pns", "secondary_fcm_push", "secondary_pns_push"}
)

func checkOptions(obj map[string]any, rec *Request) *refusal {
	raw, ok := obj["options"]
	if !ok {
		return nil
	}
	o, ok := raw.(map[string]any)
	if !ok {
		return bad(CodeInvalid, "options: must be an object")
	}
	rec.Options = cloneObject(o)
	for k, v := range o {
		switch k {
		case "sendno":
			if !intIn(v, 0, maxSendNo) {
				return bad(CodeInvalid, "options.sendno: must be an integer in [0, %d]", maxSendNo)
			}
			rec.SendNo, _ = v.(json.Number).Int64()
		case "time_to_live":
			if !intIn(v, 0, maxTimeToLive) {
				return bad(CodeInvalid, "options.time_to_live: must be an integer in [0, %d]", maxTimeToLive)
			}
			n, _ := v.(json.Number).Int64()
			rec.TimeToLive = &n
		case "override_msg_id":
			if !intIn(v, 1, 1<<62) {
				return bad(CodeInvalid, "options.override_msg_id: must be a positive integer")
			}
		case "apns_production":
			b, ok := v.(bool)
			if !ok {
				return bad(CodeInvalid, "options.apns_production: must be a boolean")
			}
			rec.APNsProduction = &b
		case "apns_collapse_id":
			if s, ok := v.(string); !ok || len(s) > 64 {
				return bad(CodeInvalid, "options.apns_collapse_id: must be a string of at most 64 bytes")
			}
		case "classification":
			if !intIn(v, 0, 1) {
				return bad(CodeInvalid, "options.classification: must be 0 or 1")
			}
		case "big_push_duration":
			if !intIn(v, 0, 1400) {
				return bad(CodeInvalid, "options.big_push_duration: must be an integer in [0, 1400]")
			}
		case "third_party_channel":
			if aerr := checkThirdParty(v); aerr != nil {
				return aerr
			}
		default:
			return bad(CodeInvalid, "options.%s: unknown option", k)
		}
	}
	return nil
}

func checkThirdParty(v any) *refusal {
	tp, ok := v.(map[string]any)
	if !ok {
		return bad(CodeInvalid, "options.third_party_channel: must be an object")
	}
	for maker, cv := range tp {
		w := "options.third_party_channel." + maker
		if !slices.Contains(makersChannels, maker) {
			return bad(CodeInvalid, "%s: unknown channel", w)
		}
		ch, ok := cv.(map[string]any)
		if !ok {
			return bad(CodeInvalid, "%s: must be an object", w)
		}
		if d, ok := ch["distribution"]; ok {
			if s, _ := d.(string); !slices.Contains(distributions, s) {
				return bad(CodeInvalid, "%s.distribution: unknown distribution", w)
			}
		}
		if im, ok := ch["importance"]; ok {
			if s, _ := im.(string); !slices.Contains(importances, s) {
				return bad(CodeInvalid, "%s.importance: must be LOW, NORMAL or HIGH", w)
			}
		}
		if c, ok := ch["classification"]; ok && !intIn(c, 0, 1) {
			return bad(CodeInvalid, "%s.classification: must be 0 or 1", w)
		}
		if d, ok := ch["distribution_fcm"]; ok {
			if s, _ := d.(string); !slices.Contains(fcmStrategies, s) {
				return bad(CodeInvalid, "%s.distribution_fcm: unknown distribution", w)
			}
		}
		if sq, ok := ch["skip_quota"]; ok {
			if _, isBool := sq.(bool); !isBool {
				return bad(CodeInvalid, "%s.skip_quota: must be a boolean", w)
			}
		}
		if nl, ok := ch["notify_level"]; ok {
			if !intIn(nl, 1, 16) || !(intIn(nl, 1, 2) || intIn(nl, 16, 16)) {
				return bad(CodeInvalid, "%s.notify_level: must be 1, 2 or 16", w)
			}
			if c, _ := ch["category"].(string); c == "" {
				return bad(CodeInvalid, "%s.notify_level: needs a category", w)
			}
		}
		if aerr := checkStrings(ch, w, "channel_id", "category"); aerr != nil {
			return aerr
		}
	}
	return nil
}
