package umengtest

import (
	"encoding/json"
	"maps"
	"slices"
	"strings"
	"unicode/utf8"
)

// Limits of the real service's optional fields, from its documentation.
const (
	maxBigBodyChars       = 120
	maxAPNsCollapseIDSize = 64
)

// channelValues are the documented values of the channel_properties keys
// the service checks; every other string-valued key is passed to the phone
// makers as it is.
var channelValues = map[string][]string{
	"huawei_channel_importance": {"LOW", "NORMAL"},
	"vivo_addbadge":             {"true", "false"},
	"oppo_notify_level":         {"1", "2", "16"},
	"channel_fcm":               {"0", "1"},
	"meizu_msg_type":            {"0", "1"},
}

// checkClassAndChannels validates the top-level category, mipush and
// mi_activity, channel_properties,
// local_properties and callback_params of a send and records them. message
// says whether an Android payload is a message, to which channel_activity
// does not apply.
func checkClassAndChannels(platform string, m message, message bool, rec *Request) *refusal {
	if m.has("category") {
		n, ok := jsonInt(m["category"])
		if !ok || (n != 0 && n != 1) {
			return refuse(CodeBadCategory, "category: must be the number 0 (marketing) or 1 (service)")
		}
		rec.Category = &n
		if platform == PlatformIOS {
			rec.ignore("category")
		}
	}
	if m.has("mipush") {
		mp, ok := m.str("mipush")
		if !ok || (mp != "true" && mp != "false") {
			return refuse(CodeBadMiPush, "mipush: must be the string \"true\" or \"false\"")
		}
		if platform == PlatformIOS {
			rec.ignore("mipush")
		}
	}
	if m.has("mi_activity") {
		if _, ok := m.str("mi_activity"); !ok {
			return refuse(CodeBadMiPush, "mi_activity: must be a string")
		}
		// The service opens it only with the legacy channel switched on.
		if mp, _ := m.str("mipush"); mp != "true" || platform == PlatformIOS {
			rec.ignore("mi_activity")
		}
	}
	if m.has("channel_properties") {
		cp, ok := decodeObject(m["channel_properties"])
		if !ok {
			return refuse(CodeBadChannelProperties, "channel_properties: must be a JSON object")
		}
		if aerr := checkChannelProperties(cp); aerr != nil {
			return aerr
		}
		rec.ChannelProperties = cp
		switch {
		case platform == PlatformIOS:
			rec.ignore("channel_properties")
		case message && cp["channel_activity"] != nil:
			rec.ignore("channel_properties.channel_activity")
		}
	}
	if m.has("local_properties") {
		lp, ok := decodeObject(m["local_properties"])
		if !ok {
			return refuse(CodeBadLocalProperties, "local_properties: must be a JSON object")
		}
		for _, k := range slices.Sorted(maps.Keys(lp)) {
			if _, ok := lp[k].(string); !ok {
				return refuse(CodeBadLocalProperties, "local_properties.%s: must be a string", k)
			}
		}
		rec.LocalProperties = lp
		// The service ignores an importance without a category.
		if lp["importance"] != nil && lp["category"] == nil {
			rec.ignore("local_properties.importance")
		}
		if platform == PlatformIOS {
			rec.ignore("local_properties")
		}
	}
	if m.has("callback_params") {
		cb, ok := decodeObject(m["callback_params"])
		if !ok {
			return refuse(CodeBadCallbackParams, "callback_params: must be a JSON object")
		}
		rec.CallbackParams = cb
	}
	return nil
}

// checkChannelProperties enforces the documented types and values of
// channel_properties: strings everywhere but the two nested objects, the
// enumerated values of channelValues, and oppo_notify_level only with
// oppo_category.
func checkChannelProperties(cp map[string]any) *refusal {
	for _, k := range slices.Sorted(maps.Keys(cp)) {
		v := cp[k]
		switch k {
		case "oppo_private_msg_template":
			t, ok := v.(map[string]any)
			if !ok {
				return refuse(CodeBadChannelProperties, "channel_properties.%s: must be a JSON object", k)
			}
			if id, _ := t["private_msg_template_id"].(string); id == "" {
				return refuse(CodeBadChannelProperties, "channel_properties.%s.private_msg_template_id: required, a string", k)
			}
			for _, p := range []string{"private_title_parameters", "private_content_parameters"} {
				if pv, present := t[p]; present {
					if _, ok := pv.(map[string]any); !ok {
						return refuse(CodeBadChannelProperties, "channel_properties.%s.%s: must be a JSON object", k, p)
					}
				}
			}
		case "xiaomi_extra_properties":
			x, ok := v.(map[string]any)
			if !ok {
				return refuse(CodeBadChannelProperties, "channel_properties.%s: must be a JSON object", k)
			}
			for _, xk := range slices.Sorted(maps.Keys(x)) {
				if _, ok := x[xk].(string); !ok {
					return refuse(CodeBadChannelProperties, "channel_properties.%s.%s: must be a string", k, xk)
				}
			}
		default:
			s, ok := v.(string)
			if !ok {
				return refuse(CodeBadChannelProperties, "channel_properties.%s: must be a string", k)
			}
			if allowed, checked := channelValues[k]; checked && !slices.Contains(allowed, s) {
				return refuse(CodeBadChannelProperties, "channel_properties.%s: must be one of %s, got %q", k, strings.Join(allowed, ", "), s)
			}
		}
	}
	if _, level := cp["oppo_notify_level"]; level {
		if c, _ := cp["oppo_category"].(string); c == "" {
			return refuse(CodeBadChannelProperties, "channel_properties.oppo_notify_level: needs oppo_category")
		}
	}
	return nil
}

// checkAndroidBodyExtras enforces the optional Android body fields: big_body
// (a string of at most 120 characters), expand_image (http or https),
// re_pop (0 or 1) and the badges (integers). Both badges are taken, and
// add_badge ignored, as the service documents.
func checkAndroidBodyExtras(body map[string]any, rec *Request) *refusal {
	if v, present := body["big_body"]; present {
		s, ok := v.(string)
		if !ok || utf8.RuneCountInString(s) > maxBigBodyChars {
			return refuse(CodeBadBody, "payload.body.big_body: must be a string of at most %d characters", maxBigBodyChars)
		}
	}
	if v, present := body["expand_image"]; present {
		if s, ok := v.(string); !ok || !isHTTPURL(s) {
			return refuse(CodeBadBody, "payload.body.expand_image: must be an http or https URL")
		}
	}
	if v, present := body["re_pop"]; present {
		if n, ok := numberInt(v); !ok || (n != 0 && n != 1) {
			return refuse(CodeBadBody, "payload.body.re_pop: must be the number 0 or 1")
		}
	}
	for _, k := range []string{"set_badge", "add_badge"} {
		if v, present := body[k]; present {
			if _, ok := numberInt(v); !ok {
				return refuse(CodeBadBody, "payload.body.%s: must be an integer", k)
			}
		}
	}
	if body["set_badge"] != nil && body["add_badge"] != nil {
		rec.ignore("payload.body.add_badge")
	}
	return nil
}

// checkAPSExtras enforces aps.badge as a non-negative integer or one of the
// service's strings ("N", "+N", "-N", "" to clear) and interruption-level
// as one of the four iOS levels.
func checkAPSExtras(aps map[string]any) *refusal {
	switch b := aps["badge"].(type) {
	case nil:
		if _, present := aps["badge"]; present {
			return refuse(CodeBadAPS, "payload.aps.badge: must be a number or a string")
		}
	case json.Number:
		if n, ok := numberInt(b); !ok || n < 0 {
			return refuse(CodeBadAPS, "payload.aps.badge: a number must be a non-negative integer")
		}
	case string:
		digits := strings.TrimPrefix(strings.TrimPrefix(b, "+"), "-")
		if b != "" && (digits == "" || len(b)-len(digits) > 1 || !allDigits(digits)) {
			return refuse(CodeBadAPS, `payload.aps.badge: a string must be "N", "+N", "-N" or ""`)
		}
	default:
		return refuse(CodeBadAPS, "payload.aps.badge: must be a number or a string")
	}
	if v, present := aps["interruption-level"]; present {
		if s, _ := v.(string); !slices.Contains([]string{"passive", "active", "time-sensitive", "critical"}, s) {
			return refuse(CodeBadAPS, "payload.aps.interruption-level: must be passive, active, time-sensitive or critical")
		}
	}
	return nil
}

// checkPolicyExtras enforces the optional policy fields:
// notification_closed_filter a boolean (Android notifications only; noted
// as ignored elsewhere), apns_collapse_id a string of at most 64 bytes
// (iOS only) and uapp_arg a string.
func checkPolicyExtras(platform string, obj map[string]any, message bool, rec *Request) *refusal {
	if v, present := obj["notification_closed_filter"]; present {
		if _, ok := v.(bool); !ok {
			return refuse(CodeBadPolicy, "policy.notification_closed_filter: must be true or false")
		}
		if platform == PlatformIOS || message {
			rec.ignore("policy.notification_closed_filter")
		}
	}
	if v, present := obj["apns_collapse_id"]; present {
		s, ok := v.(string)
		if !ok || len(s) > maxAPNsCollapseIDSize {
			return refuse(CodeBadPolicy, "policy.apns_collapse_id: must be a string of at most %d bytes", maxAPNsCollapseIDSize)
		}
		if platform != PlatformIOS {
			rec.ignore("policy.apns_collapse_id")
		}
	}
	if v, present := obj["uapp_arg"]; present {
		if _, ok := v.(string); !ok {
			return refuse(CodeBadPolicy, "policy.uapp_arg: must be a string")
		}
	}
	return nil
}

// jsonInt reads raw as a JSON integer; a string holding digits is not one.
func jsonInt(raw json.RawMessage) (int, bool) {
	if t := strings.TrimSpace(string(raw)); t == "" || t[0] == '"' {
		return 0, false
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err != nil {
		return 0, false
	}
	return numberInt(n)
}

// numberInt returns v as an int when it is a json.Number holding an
// integer.
func numberInt(v any) (int, bool) {
	n, ok := v.(json.Number)
	if !ok {
		return 0, false
	}
	i, err := n.Int64()
	if err != nil {
		return 0, false
	}
	return int(i), true
}
