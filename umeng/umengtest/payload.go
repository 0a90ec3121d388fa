package umengtest

import (
	"bytes"
	"encoding/json"
	"maps"
	"slices"
	"strings"
)

// Payload size limits of the real service, in bytes of compact JSON, as
// its API documentation gives them.
const (
	maxAndroidPayload = 2048
	maxIOSPayload     = 2012
)

// checkPayload validates payload for the app's platform and returns what the
// push shows and hands the app. An iOS app given an Android payload fails
// for its missing aps (2025); an Android app given an iOS payload for its
// missing display_type (1004). Fields the real service ignores are noted in
// rec.
func checkPayload(platform string, raw json.RawMessage, p map[string]any, rec *Request) (content, *refusal) {
	limit := maxAndroidPayload
	if platform == PlatformIOS {
		limit = maxIOSPayload
	}
	var compact bytes.Buffer
	if err := json.Compact(&compact, raw); err == nil && compact.Len() > limit {
		return content{}, refuse(CodePayloadTooLong, "payload: %d bytes is over the %s limit of %d", compact.Len(), platform, limit)
	}
	if platform == PlatformIOS {
		return checkIOSPayload(p)
	}
	return checkAndroidPayload(p, rec)
}

// boolStrings are the body fields the real service wants as the strings
// "true" or "false", never JSON booleans.
var boolStrings = []struct{ key, code string }{
	{"play_vibrate", CodeBadPlayVibrate},
	{"play_lights", CodeBadPlayLights},
	{"play_sound", CodeBadPlaySound},
}

func checkAndroidPayload(p map[string]any, rec *Request) (content, *refusal) {
	dt, _ := p["display_type"].(string)
	if dt == "" {
		return content{}, refuse(CodeMissingDisplayType, "payload.display_type: required, \"notification\" or \"message\"")
	}
	if dt != "notification" && dt != "message" {
		return content{}, refuse(CodeBadDisplayType, "payload.display_type: %q is neither \"notification\" nor \"message\"", dt)
	}
	body, ok := p["body"].(map[string]any)
	if !ok {
		return content{}, refuse(CodeMissingBody, "payload.body: required, a JSON object")
	}
	for _, f := range boolStrings {
		if v, present := body[f.key]; present {
			if s, ok := v.(string); !ok || (s != "true" && s != "false") {
				return content{}, refuse(f.code, "payload.body.%s: must be the string \"true\" or \"false\"", f.key)
			}
		}
	}
	if v, present := body["img"]; present {
		if s, ok := v.(string); !ok || !isHTTPURL(s) {
			return content{}, refuse(CodeBadImageURL, "payload.body.img: must be an http or https URL")
		}
	}
	if aerr := checkAndroidBodyExtras(body, rec); aerr != nil {
		return content{}, aerr
	}
	var extras map[string]string
	if v, present := p["extra"]; present {
		var aerr *refusal
		if extras, aerr = checkExtra(v); aerr != nil {
			return content{}, aerr
		}
	}
	if dt == "message" {
		if !hasCustom(body) {
			return content{}, refuse(CodeMissingCustom, "payload.body.custom: required when display_type is \"message\"")
		}
		// The real service delivers extra with notifications only; a
		// message's extras never reach the app.
		if _, present := p["extra"]; present {
			rec.ignore("payload.extra")
		}
		return content{custom: customText(body)}, nil
	}
	title, _ := body["title"].(string)
	if title == "" {
		return content{}, refuse(CodeMissingTitle, "payload.body.title: required for a notification")
	}
	text, _ := body["text"].(string)
	if text == "" {
		return content{}, refuse(CodeMissingText, "payload.body.text: required for a notification")
	}
	if aerr := checkAfterOpen(body); aerr != nil {
		return content{}, aerr
	}
	return content{title: title, text: text, custom: customText(body), extras: extras}, nil
}

// customText renders body.custom as the device SDK hands it to the app: a
// string as itself, an object as its compact JSON text.
func customText(body map[string]any) string {
	switch c := body["custom"].(type) {
	case string:
		return c
	case map[string]any:
		b, err := json.Marshal(c)
		if err != nil {
			// Decoded JSON always encodes again.
			return ""
		}
		return string(b)
	}
	return ""
}

// checkAfterOpen enforces after_open and the field each action needs.
func checkAfterOpen(body map[string]any) *refusal {
	v, present := body["after_open"]
	if !present {
		return nil // go_app by default
	}
	action, _ := v.(string)
	switch action {
	case "go_app":
	case "go_url":
		u, _ := body["url"].(string)
		if u == "" {
			return refuse(CodeMissingURL, "payload.body.url: required when after_open is \"go_url\"")
		}
		if !isHTTPURL(u) {
			return refuse(CodeBadURL, "payload.body.url: must be an http or https URL")
		}
	case "go_activity":
		if a, _ := body["activity"].(string); a == "" {
			return refuse(CodeMissingActivity, "payload.body.activity: required when after_open is \"go_activity\"")
		}
	case "go_custom":
		if !hasCustom(body) {
			return refuse(CodeMissingCustom, "payload.body.custom: required when after_open is \"go_custom\"")
		}
	default:
		return refuse(CodeBadAfterOpen, "payload.body.after_open: must be \"go_app\", \"go_url\", \"go_activity\" or \"go_custom\"")
	}
	return nil
}

// hasCustom reports whether body.custom is a non-empty string or an object.
func hasCustom(body map[string]any) bool {
	switch c := body["custom"].(type) {
	case string:
		return c != ""
	case map[string]any:
		return true
	}
	return false
}

// checkExtra enforces payload.extra as an object of string values, which
// it returns (nil for an empty object): the device SDK hands extras to the
// app as a string map.
func checkExtra(v any) (map[string]string, *refusal) {
	extra, ok := v.(map[string]any)
	if !ok {
		return nil, refuse(CodeBadExtra, "payload.extra: must be a JSON object")
	}
	if len(extra) == 0 {
		return nil, nil
	}
	out := make(map[string]string, len(extra))
	for k, e := range extra {
		s, ok := e.(string)
		if !ok {
			return nil, refuse(CodeBadExtra, "payload.extra.%s: values must be strings", k)
		}
		out[k] = s
	}
	return out, nil
}

func isHTTPURL(s string) bool {
	return strings.HasPrefix(s, "http://") || strings.HasPrefix(s, "https://")
}

// reservedIOSKeys are top-level payload keys the service keeps for itself.
var reservedIOSKeys = []string{"d", "p"}

func checkIOSPayload(p map[string]any) (content, *refusal) {
	aps, ok := p["aps"].(map[string]any)
	if !ok {
		return content{}, refuse(CodeMissingAPS, "payload.aps: required, a JSON object")
	}
	for _, k := range reservedIOSKeys {
		if _, present := p[k]; present {
			return content{}, refuse(CodeReservedKey, "payload.%s: the keys \"d\" and \"p\" are reserved", k)
		}
	}
	extras, aerr := checkIOSCustom(p)
	if aerr != nil {
		return content{}, aerr
	}
	if aerr := checkAPSExtras(aps); aerr != nil {
		return content{}, aerr
	}
	silent := false
	if n, ok := aps["content-available"].(json.Number); ok && n.String() == "1" {
		silent = true
	}
	switch alert := aps["alert"].(type) {
	case nil:
		if !silent {
			return content{}, refuse(CodeMissingAlert, "payload.aps.alert: required unless content-available is 1")
		}
		return content{extras: extras}, nil
	case string:
		if alert == "" && !silent {
			return content{}, refuse(CodeMissingAlert, "payload.aps.alert: required unless content-available is 1")
		}
		return content{text: alert, extras: extras}, nil
	case map[string]any:
		title, _ := alert["title"].(string)
		body, _ := alert["body"].(string)
		if title == "" && body == "" && !silent {
			return content{}, refuse(CodeMissingAlert, "payload.aps.alert: needs a title or a body unless content-available is 1")
		}
		return content{title: title, text: body, extras: extras}, nil
	default:
		return content{}, refuse(CodeBadAlert, "payload.aps.alert: must be a string or an object")
	}
}

// checkIOSCustom returns the custom keys of an iOS payload, every top-level
// key but aps. The real service wants their values to be strings and
// refuses JSON values (objects, arrays, numbers, booleans, null).
func checkIOSCustom(p map[string]any) (map[string]string, *refusal) {
	var extras map[string]string
	for _, k := range slices.Sorted(maps.Keys(p)) {
		if k == "aps" {
			continue
		}
		s, ok := p[k].(string)
		if !ok {
			return nil, refuse(CodeBadCustomValue, "payload.%s: custom values must be strings, not JSON values", k)
		}
		if extras == nil {
			extras = make(map[string]string)
		}
		extras[k] = s
	}
	return extras, nil
}
