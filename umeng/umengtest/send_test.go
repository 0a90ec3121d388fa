package umengtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// body mutators for the validation table.

func set(path string, v any) func(map[string]any) {
	return func(b map[string]any) {
		keys := strings.Split(path, ".")
		m := b
		for _, k := range keys[:len(keys)-1] {
			next, ok := m[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				m[k] = next
			}
			m = next
		}
		last := keys[len(keys)-1]
		if _, drop := v.(omit); drop {
			delete(m, last)
			return
		}
		m[last] = v
	}
}

func manyTokens(app App, n int) string {
	list := make([]string, n)
	for i := range list {
		list[i] = tokenFor(app, strconv.Itoa(i))
	}
	return strings.Join(list, ",")
}

// tagFilter is a groupcast filter of one tag condition whose tag is n
// bytes long.
func tagFilter(n int) map[string]any {
	return map[string]any{"where": map[string]any{"and": []any{map[string]any{"tag": strings.Repeat("t", n)}}}}
}

// androidPayloadOf is an Android notification payload of n bytes as JSON.
func androidPayloadOf(n int) map[string]any {
	return map[string]any{"display_type": "notification", "body": map[string]any{"title": "t", "text": strings.Repeat("x", n-62)}}
}

func TestSendValidation(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	aToken, iToken := AndroidToken("v"), IOSToken("v")
	longText := strings.Repeat("x", maxAndroidPayload)
	manyAliases := strings.Repeat("a,", maxAliases) + "a"
	hugeFilter := map[string]any{"where": map[string]any{"and": []any{map[string]any{"tag": strings.Repeat("t", maxFilterBytes)}}}}

	tests := []struct {
		name  string
		ios   bool                   // send for the iOS app; default Android
		base  map[string]any         // default: a valid unicast
		edits []func(map[string]any) // applied to the full body, appkey and timestamp included
		want  string                 // vendor code
	}{
		// authentication
		{name: "appkey missing", edits: []func(map[string]any){set("appkey", omit{})}, want: CodeMissingAppKey},
		{name: "appkey not a string", edits: []func(map[string]any){set("appkey", 12)}, want: CodeMissingAppKey},
		{name: "appkey empty", edits: []func(map[string]any){set("appkey", "")}, want: CodeMissingAppKey},
		{name: "appkey unknown", edits: []func(map[string]any){set("appkey", "nosuchapp")}, want: CodeUnknownAppKey},
		{name: "timestamp missing", edits: []func(map[string]any){set("timestamp", omit{})}, want: CodeMissingTimestamp},
		{name: "timestamp empty", edits: []func(map[string]any){set("timestamp", "")}, want: CodeMissingTimestamp},
		{name: "timestamp a fraction", edits: []func(map[string]any){set("timestamp", 1772330400.5)}, want: CodeBadTimestamp},
		{name: "timestamp a negative number", edits: []func(map[string]any){set("timestamp", -1772330400)}, want: CodeBadTimestamp},
		{name: "timestamp a boolean", edits: []func(map[string]any){set("timestamp", true)}, want: CodeBadTimestamp},
		{name: "timestamp a stale number", edits: []func(map[string]any){set("timestamp", now.Add(-11*time.Minute).UnixMilli())}, want: CodeStaleTimestamp},
		{name: "timestamp not digits", edits: []func(map[string]any){set("timestamp", "yesterday")}, want: CodeBadTimestamp},
		{name: "timestamp 11 digits", edits: []func(map[string]any){set("timestamp", "17000000000")}, want: CodeBadTimestamp},
		{name: "timestamp 11 minutes old", edits: []func(map[string]any){set("timestamp", strconv.FormatInt(now.Add(-11*time.Minute).UnixMilli(), 10))}, want: CodeStaleTimestamp},
		{name: "timestamp 11 minutes ahead in seconds", edits: []func(map[string]any){set("timestamp", strconv.FormatInt(now.Add(11*time.Minute).Unix(), 10))}, want: CodeStaleTimestamp},

		// type and mode
		{name: "type missing", edits: []func(map[string]any){set("type", omit{})}, want: CodeMissingType},
		{name: "type empty", edits: []func(map[string]any){set("type", "")}, want: CodeMissingType},
		{name: "type unknown", edits: []func(map[string]any){set("type", "multicast")}, want: CodeBadType},
		{name: "type a number", edits: []func(map[string]any){set("type", 1)}, want: CodeBadType},
		{name: "production_mode a boolean", edits: []func(map[string]any){set("production_mode", true)}, want: CodeBadProductionMode},
		{name: "production_mode yes", edits: []func(map[string]any){set("production_mode", "yes")}, want: CodeBadProductionMode},

		// payload shape
		{name: "payload missing", edits: []func(map[string]any){set("payload", omit{})}, want: CodeBadPayload},
		{name: "payload a JSON string", edits: []func(map[string]any){set("payload", `{"display_type":"notification"}`)}, want: CodeBadPayload},

		// targets
		{name: "unicast without device_tokens", edits: []func(map[string]any){set("device_tokens", omit{})}, want: CodeMissingDeviceTokens},
		{name: "unicast device_tokens an array", edits: []func(map[string]any){set("device_tokens", []string{aToken})}, want: CodeMissingDeviceTokens},
		{name: "unicast device_tokens only commas", edits: []func(map[string]any){set("device_tokens", " , ,")}, want: CodeMissingDeviceTokens},
		{name: "unicast two tokens", edits: []func(map[string]any){set("device_tokens", aToken+","+AndroidToken("w"))}, want: CodeTooManyDeviceTokens},
		{name: "unicast malformed Android token", edits: []func(map[string]any){set("device_tokens", "short")}, want: CodeBadDeviceToken},
		{name: "unicast iOS token to the Android app", edits: []func(map[string]any){set("device_tokens", iToken)}, want: CodeBadDeviceToken},
		{name: "unicast Android token to the iOS app", ios: true, edits: []func(map[string]any){set("device_tokens", aToken)}, want: CodeBadDeviceToken},
		{name: "listcast without device_tokens", edits: []func(map[string]any){set("type", "listcast"), set("device_tokens", omit{})}, want: CodeMissingDeviceTokens},
		{name: "listcast of 501 tokens", edits: []func(map[string]any){set("type", "listcast"), set("device_tokens", manyTokens(App{Platform: PlatformAndroid}, 501))}, want: CodeTooManyDeviceTokens},
		{name: "filecast without file_id", edits: []func(map[string]any){set("type", "filecast"), set("device_tokens", omit{})}, want: CodeMissingFileID},
		{name: "filecast of an unknown file", edits: []func(map[string]any){set("type", "filecast"), set("file_id", "PF000000000000000001")}, want: CodeFileNotFound},
		{name: "customizedcast without alias_type", edits: []func(map[string]any){set("type", "customizedcast"), set("alias", "u1")}, want: CodeMissingAliasType},
		{name: "customizedcast with alias and file_id", edits: []func(map[string]any){set("type", "customizedcast"), set("alias_type", "uid"), set("alias", "u1"), set("file_id", "PF1")}, want: CodeAliasAndFile},
		{name: "customizedcast with neither", edits: []func(map[string]any){set("type", "customizedcast"), set("alias_type", "uid")}, want: CodeMissingAliasOrFile},
		{name: "customizedcast alias only commas", edits: []func(map[string]any){set("type", "customizedcast"), set("alias_type", "uid"), set("alias", " , ")}, want: CodeMissingAliasOrFile},
		{name: "customizedcast with 501 aliases", edits: []func(map[string]any){set("type", "customizedcast"), set("alias_type", "uid"), set("alias", manyAliases)}, want: CodeTooManyAliases},
		{name: "customizedcast to unbound aliases", edits: []func(map[string]any){set("type", "customizedcast"), set("alias_type", "uid"), set("alias", "nobody")}, want: CodeAliasNoDevices},
		{name: "customizedcast of an unknown file", edits: []func(map[string]any){set("type", "customizedcast"), set("alias_type", "uid"), set("file_id", "PF000000000000000002")}, want: CodeFileNotFound},
		{name: "groupcast without filter or group_id", edits: []func(map[string]any){set("type", "groupcast")}, want: CodeMissingFilter},
		{name: "groupcast group_id a number", edits: []func(map[string]any){set("type", "groupcast"), set("group_id", 7)}, want: CodeMissingFilter},
		{name: "groupcast group_id blank, no filter", edits: []func(map[string]any){set("type", "groupcast"), set("group_id", " ")}, want: CodeMissingFilter},
		{name: "groupcast group_id blank, bad filter", edits: []func(map[string]any){set("type", "groupcast"), set("group_id", ""), set("filter", map[string]any{"and": []any{}})}, want: CodeBadFilter},
		{name: "groupcast filter a string", edits: []func(map[string]any){set("type", "groupcast"), set("filter", `{"where":{}}`)}, want: CodeMissingFilter},
		{name: "groupcast filter without where", edits: []func(map[string]any){set("type", "groupcast"), set("filter", map[string]any{"and": []any{}})}, want: CodeBadFilter},
		{name: "groupcast filter unknown condition", edits: []func(map[string]any){set("type", "groupcast"), set("filter", map[string]any{"where": map[string]any{"and": []any{map[string]any{"planet": "mars"}}}})}, want: CodeBadFilter},
		{name: "groupcast filter empty and", edits: []func(map[string]any){set("type", "groupcast"), set("filter", map[string]any{"where": map[string]any{"and": []any{}}})}, want: CodeBadFilter},
		{name: "groupcast filter tag a number", edits: []func(map[string]any){set("type", "groupcast"), set("filter", map[string]any{"where": map[string]any{"not": map[string]any{"tag": 3}}})}, want: CodeBadFilter},
		{name: "groupcast filter channel a number", edits: []func(map[string]any){set("type", "groupcast"), set("filter", map[string]any{"where": map[string]any{"and": []any{map[string]any{"channel": 360}}}})}, want: CodeBadFilter},
		{name: "groupcast filter bad condition under not", edits: []func(map[string]any){set("type", "groupcast"), set("filter", map[string]any{"where": map[string]any{"not": map[string]any{"or": "x"}}})}, want: CodeBadFilter},
		{name: "groupcast filter over 3000 bytes", edits: []func(map[string]any){set("type", "groupcast"), set("filter", hugeFilter)}, want: CodeBadFilter},
		// {"where":{"and":[{"tag":"…"}]}} is 30 bytes and the tag's.
		{name: "groupcast filter of 3001 bytes", edits: []func(map[string]any){set("type", "groupcast"), set("filter", tagFilter(maxFilterBytes-29))}, want: CodeBadFilter},

		// Android payload
		{name: "display_type missing", edits: []func(map[string]any){set("payload.display_type", omit{})}, want: CodeMissingDisplayType},
		{name: "iOS payload to the Android app", edits: []func(map[string]any){set("payload", alert("a", "b"))}, want: CodeMissingDisplayType},
		{name: "display_type unknown", edits: []func(map[string]any){set("payload.display_type", "popup")}, want: CodeBadDisplayType},
		{name: "body missing", edits: []func(map[string]any){set("payload.body", omit{})}, want: CodeMissingBody},
		{name: "body a string", edits: []func(map[string]any){set("payload.body", "hello")}, want: CodeMissingBody},
		{name: "title missing", edits: []func(map[string]any){set("payload.body.title", omit{})}, want: CodeMissingTitle},
		{name: "text empty", edits: []func(map[string]any){set("payload.body.text", "")}, want: CodeMissingText},
		{name: "message without custom", edits: []func(map[string]any){set("payload.display_type", "message")}, want: CodeMissingCustom},
		{name: "go_custom without custom", edits: []func(map[string]any){set("payload.body.after_open", "go_custom")}, want: CodeMissingCustom},
		{name: "play_vibrate a boolean", edits: []func(map[string]any){set("payload.body.play_vibrate", true)}, want: CodeBadPlayVibrate},
		{name: "play_lights yes", edits: []func(map[string]any){set("payload.body.play_lights", "yes")}, want: CodeBadPlayLights},
		{name: "play_sound a number", edits: []func(map[string]any){set("payload.body.play_sound", 1)}, want: CodeBadPlaySound},
		{name: "img not http", edits: []func(map[string]any){set("payload.body.img", "ftp://x/y.png")}, want: CodeBadImageURL},
		{name: "after_open unknown", edits: []func(map[string]any){set("payload.body.after_open", "go_home")}, want: CodeBadAfterOpen},
		{name: "go_url without url", edits: []func(map[string]any){set("payload.body.after_open", "go_url")}, want: CodeMissingURL},
		{name: "go_url to a bare host", edits: []func(map[string]any){set("payload.body.after_open", "go_url"), set("payload.body.url", "www.example.com")}, want: CodeBadURL},
		{name: "go_activity without activity", edits: []func(map[string]any){set("payload.body.after_open", "go_activity")}, want: CodeMissingActivity},
		{name: "extra a string", edits: []func(map[string]any){set("payload.extra", `{"k":"v"}`)}, want: CodeBadExtra},
		{name: "extra with a number", edits: []func(map[string]any){set("payload.extra", map[string]any{"n": 1})}, want: CodeBadExtra},
		{name: "Android payload too long", edits: []func(map[string]any){set("payload.body.text", longText)}, want: CodePayloadTooLong},

		// iOS payload
		{name: "aps missing", ios: true, edits: []func(map[string]any){set("payload.aps", omit{}), set("payload.k", "v")}, want: CodeMissingAPS},
		{name: "Android payload to the iOS app", ios: true, edits: []func(map[string]any){set("payload", note("a", "b"))}, want: CodeMissingAPS},
		{name: "aps a string", ios: true, edits: []func(map[string]any){set("payload.aps", "alert")}, want: CodeMissingAPS},
		{name: "reserved key d", ios: true, edits: []func(map[string]any){set("payload.d", "x")}, want: CodeReservedKey},
		{name: "reserved key p", ios: true, edits: []func(map[string]any){set("payload.p", "x")}, want: CodeReservedKey},
		{name: "alert missing", ios: true, edits: []func(map[string]any){set("payload.aps.alert", omit{})}, want: CodeMissingAlert},
		{name: "alert empty string", ios: true, edits: []func(map[string]any){set("payload.aps.alert", "")}, want: CodeMissingAlert},
		{name: "alert object without title or body", ios: true, edits: []func(map[string]any){set("payload.aps.alert", map[string]any{"subtitle": "s"})}, want: CodeMissingAlert},
		{name: "alert a number", ios: true, edits: []func(map[string]any){set("payload.aps.alert", 5)}, want: CodeBadAlert},
		{name: "custom value an object", ios: true, edits: []func(map[string]any){set("payload.deeplink", map[string]any{"path": "/a"})}, want: CodeBadCustomValue},
		{name: "custom value an array", ios: true, edits: []func(map[string]any){set("payload.ids", []any{"a"})}, want: CodeBadCustomValue},
		{name: "custom value a number", ios: true, edits: []func(map[string]any){set("payload.v", 2)}, want: CodeBadCustomValue},
		{name: "custom value a boolean", ios: true, edits: []func(map[string]any){set("payload.new", true)}, want: CodeBadCustomValue},
		{name: "custom value null", ios: true, edits: []func(map[string]any){set("payload.gone", nil)}, want: CodeBadCustomValue},
		{name: "iOS payload too long", ios: true, edits: []func(map[string]any){set("payload.aps.alert", strings.Repeat("y", maxIOSPayload))}, want: CodePayloadTooLong},
		// {"body":{"text":"…","title":"t"},"display_type":"notification"} is
		// 62 bytes and the text's; {"aps":{"alert":"…"}} 20 and the alert's.
		{name: "Android payload one byte over", edits: []func(map[string]any){set("payload", androidPayloadOf(maxAndroidPayload+1))}, want: CodePayloadTooLong},
		{name: "iOS payload one byte over", ios: true, edits: []func(map[string]any){set("payload", map[string]any{"aps": map[string]any{"alert": strings.Repeat("y", maxIOSPayload+1-20)}})}, want: CodePayloadTooLong},

		// policy
		{name: "policy a string", edits: []func(map[string]any){set("policy", "{}")}, want: CodeBadPolicy},
		{name: "out_biz_no a number", edits: []func(map[string]any){set("policy.out_biz_no", 7)}, want: CodeBadPolicy},
		{name: "start_time with slashes", edits: []func(map[string]any){set("policy.start_time", "2026/03/01 12:00:00")}, want: CodeBadTimeFormat},
		{name: "expire_time without seconds", edits: []func(map[string]any){set("policy.expire_time", "2026-03-01 12:00")}, want: CodeBadTimeFormat},
		{name: "expire_time with a one-digit hour", edits: []func(map[string]any){set("policy.expire_time", "2026-03-01 9:00:00")}, want: CodeBadTimeFormat},
		{name: "expire_time a number", edits: []func(map[string]any){set("policy.expire_time", 1)}, want: CodeBadTimeFormat},
		{name: "start_time in the past on a task", edits: []func(map[string]any){set("type", "broadcast"), set("policy.start_time", policyTime(now.Add(-time.Hour)))}, want: CodeStartTimePast},
		{name: "start_time 8 days ahead on a task", edits: []func(map[string]any){set("type", "broadcast"), set("policy.start_time", policyTime(now.Add(8*24*time.Hour)))}, want: CodeStartTooFar},
		{name: "expire_time in the past", edits: []func(map[string]any){set("policy.expire_time", policyTime(now.Add(-time.Second)))}, want: CodeExpireBeforeStart},
		{name: "expire_time before start_time", edits: []func(map[string]any){set("type", "broadcast"), set("policy.start_time", policyTime(now.Add(2*time.Hour))), set("policy.expire_time", policyTime(now.Add(time.Hour)))}, want: CodeExpireBeforeStart},
		{name: "expire_time 8 days ahead", edits: []func(map[string]any){set("policy.expire_time", policyTime(now.Add(8*24*time.Hour)))}, want: CodeExpireTooFar},
		{name: "max_send_num zero", edits: []func(map[string]any){set("policy.max_send_num", 0)}, want: CodeBadMaxSendNum},
		{name: "max_send_num one", edits: []func(map[string]any){set("policy.max_send_num", 1)}, want: CodeBadMaxSendNum},
		{name: "max_send_num 999", edits: []func(map[string]any){set("policy.max_send_num", 999)}, want: CodeBadMaxSendNum},
		{name: "max_send_num 1000.5", edits: []func(map[string]any){set("policy.max_send_num", 1000.5)}, want: CodeBadMaxSendNum},

		// receipts
		{name: "receipt_type a number", edits: []func(map[string]any){set("receipt_url", "https://h.example.com"), set("receipt_type", 3)}, want: CodeBadReceiptType},
		{name: "receipt_type 4", edits: []func(map[string]any){set("receipt_url", "https://h.example.com"), set("receipt_type", "4")}, want: CodeBadReceiptType},
		{name: "receipt_type empty", edits: []func(map[string]any){set("receipt_type", "")}, want: CodeBadReceiptType},
		{name: "max_send_num a string", edits: []func(map[string]any){set("policy.max_send_num", "1000")}, want: CodeBadMaxSendNum},

		// classes, vendor channels and the newer optional fields
		{name: "category a string", edits: []func(map[string]any){set("category", "1")}, want: CodeBadCategory},
		{name: "category 2", edits: []func(map[string]any){set("category", 2)}, want: CodeBadCategory},
		{name: "mipush a boolean", edits: []func(map[string]any){set("mipush", true)}, want: CodeBadMiPush},
		{name: "mipush yes", edits: []func(map[string]any){set("mipush", "yes")}, want: CodeBadMiPush},
		{name: "mi_activity a number", edits: []func(map[string]any){set("mipush", "true"), set("mi_activity", 7)}, want: CodeBadMiPush},
		{name: "channel_properties a string", edits: []func(map[string]any){set("channel_properties", "{}")}, want: CodeBadChannelProperties},
		{name: "channel_activity a number", edits: []func(map[string]any){set("channel_properties", map[string]any{"channel_activity": 1})}, want: CodeBadChannelProperties},
		{name: "huawei importance HIGH", edits: []func(map[string]any){set("channel_properties", map[string]any{"huawei_channel_importance": "HIGH"})}, want: CodeBadChannelProperties},
		{name: "vivo_addbadge a boolean", edits: []func(map[string]any){set("channel_properties", map[string]any{"vivo_addbadge": true})}, want: CodeBadChannelProperties},
		{name: "oppo_notify_level 3", edits: []func(map[string]any){set("channel_properties", map[string]any{"oppo_notify_level": "3", "oppo_category": "IM"})}, want: CodeBadChannelProperties},
		{name: "oppo_notify_level without category", edits: []func(map[string]any){set("channel_properties", map[string]any{"oppo_notify_level": "1"})}, want: CodeBadChannelProperties},
		{name: "channel_fcm a number", edits: []func(map[string]any){set("channel_properties", map[string]any{"channel_fcm": 0})}, want: CodeBadChannelProperties},
		{name: "meizu_msg_type 2", edits: []func(map[string]any){set("channel_properties", map[string]any{"meizu_msg_type": "2"})}, want: CodeBadChannelProperties},
		{name: "oppo template without id", edits: []func(map[string]any){set("channel_properties", map[string]any{"oppo_private_msg_template": map[string]any{}})}, want: CodeBadChannelProperties},
		{name: "oppo template a string", edits: []func(map[string]any){set("channel_properties", map[string]any{"oppo_private_msg_template": "t"})}, want: CodeBadChannelProperties},
		{name: "xiaomi extra a number", edits: []func(map[string]any){set("channel_properties", map[string]any{"xiaomi_extra_properties": map[string]any{"template_id": 1}})}, want: CodeBadChannelProperties},
		{name: "local_properties a number", edits: []func(map[string]any){set("local_properties", map[string]any{"category": 1})}, want: CodeBadLocalProperties},
		{name: "callback_params a string", edits: []func(map[string]any){set("callback_params", "push=7")}, want: CodeBadCallbackParams},
		{name: "big_body over 120 characters", edits: []func(map[string]any){set("payload.body.big_body", strings.Repeat("长", 121))}, want: CodeBadBody},
		{name: "expand_image not a URL", edits: []func(map[string]any){set("payload.body.expand_image", "e.png")}, want: CodeBadBody},
		{name: "re_pop a string", edits: []func(map[string]any){set("payload.body.re_pop", "1")}, want: CodeBadBody},
		{name: "set_badge a string", edits: []func(map[string]any){set("payload.body.set_badge", "1")}, want: CodeBadBody},
		{name: "iOS badge +x", ios: true, edits: []func(map[string]any){set("payload.aps.badge", "+x")}, want: CodeBadAPS},
		{name: "iOS badge negative number", ios: true, edits: []func(map[string]any){set("payload.aps.badge", -1)}, want: CodeBadAPS},
		{name: "iOS interruption-level loud", ios: true, edits: []func(map[string]any){set("payload.aps.interruption-level", "loud")}, want: CodeBadAPS},
		{name: "notification_closed_filter a string", edits: []func(map[string]any){set("policy.notification_closed_filter", "true")}, want: CodeBadPolicy},
		{name: "apns_collapse_id over 64 bytes", ios: true, edits: []func(map[string]any){set("policy.apns_collapse_id", strings.Repeat("c", 65))}, want: CodeBadPolicy},
		{name: "uapp_arg a number", edits: []func(map[string]any){set("policy.uapp_arg", 3)}, want: CodeBadPolicy},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, token := f.android, aToken
			if tt.ios {
				app, token = f.ios, iToken
			}
			base := tt.base
			if base == nil {
				base = unicast(app, token)
			}
			body := f.fields(app, base)
			for _, edit := range tt.edits {
				edit(body)
			}
			r := f.post(app, pathSend, body)
			assert.Equal(t, http.StatusBadRequest, r.status, "body: %s", r.raw)
			assert.Equal(t, "FAIL", r.Ret)
			assert.Equal(t, tt.want, r.code(), "message: %s", r.str("error_msg"))
			assert.NotEmpty(t, r.str("error_msg"))
		})
	}
	assert.Empty(t, f.srv.Sends(), "no refused send may be accepted")
	assert.Empty(t, f.srv.Deliveries(), "no refused send may deliver")
	assert.Empty(t, f.srv.Tasks(), "no refused send may create a task")
}

func TestSendMalformedBody(t *testing.T) {
	f := newFixture(t)
	tests := []struct {
		name string
		raw  string
	}{
		{"not JSON", "appkey=1"},
		{"JSON array", `[1,2]`},
		{"JSON null", `null`},
		{"truncated", `{"appkey":"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := f.postRaw(pathSend, []byte(tt.raw), "0123")
			assert.Equal(t, http.StatusBadRequest, r.status)
			assert.Equal(t, CodeBadJSON, r.code())
		})
	}
}

func TestSendSuccessByCast(t *testing.T) {
	f := newFixture(t)
	for _, app := range []App{f.android, f.ios} {
		f.addDevice(app, Device{Token: tokenFor(app, "d1"), Aliases: map[string]string{"uid": "u1"}, Tags: []string{"vip"}})
	}
	tests := []struct {
		name   string
		fields map[string]any
		prefix string
		task   bool
	}{
		{"unicast", map[string]any{"type": "unicast", "device_tokens": "TOKEN"}, prefixUnicast, false},
		{"listcast", map[string]any{"type": "listcast", "device_tokens": "TOKEN,TOKEN2"}, prefixListcast, false},
		{"customizedcast by alias", map[string]any{"type": "customizedcast", "alias_type": "uid", "alias": "u1,u2"}, prefixAliasCast, false},
		{"broadcast", map[string]any{"type": "broadcast", "production_mode": "false"}, prefixBroadcast, true},
		{"groupcast", map[string]any{"type": "groupcast", "filter": map[string]any{"where": map[string]any{"and": []any{map[string]any{"tag": "vip"}, map[string]any{"app_version": "1.0"}}}}}, prefixGroupcast, true},
		{"filecast", map[string]any{"type": "filecast", "file_id": "FILE"}, prefixFilecast, true},
		{"customizedcast by file", map[string]any{"type": "customizedcast", "alias_type": "uid", "file_id": "ALIASFILE"}, prefixFileCustomized, true},
	}
	seen := map[string]bool{}
	for _, app := range []App{f.android, f.ios} {
		files := map[string]string{
			"FILE":      f.upload(app, tokenFor(app, "d1")+"\n").str("file_id"),
			"ALIASFILE": f.upload(app, "u1\r\nu2\r\n").str("file_id"),
		}
		for _, tt := range tests {
			t.Run(app.Platform+"/"+tt.name, func(t *testing.T) {
				fields := map[string]any{"payload": payloadFor(app)}
				for k, v := range tt.fields {
					if s, ok := v.(string); ok {
						s = strings.ReplaceAll(s, "TOKEN2", tokenFor(app, "d2"))
						s = strings.ReplaceAll(s, "TOKEN", tokenFor(app, "d1"))
						if id, isFile := files[s]; isFile {
							s = id
						}
						v = s
					}
					fields[k] = v
				}
				r := f.send(app, fields)
				require.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
				assert.Equal(t, "SUCCESS", r.Ret)
				key, other := "msg_id", "task_id"
				if tt.task {
					key, other = other, key
				}
				id := r.str(key)
				assert.Len(t, id, 22)
				assert.True(t, strings.HasPrefix(id, tt.prefix), "id %s wants prefix %s", id, tt.prefix)
				assert.NotContains(t, r.Data, other)
				assert.False(t, seen[id], "id %s issued twice", id)
				seen[id] = true
				_, isTask := f.srv.Task(id)
				assert.Equal(t, tt.task, isTask)
			})
		}
	}
}

func TestSendAcceptsDocumentedVariants(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	aToken, iToken := AndroidToken("ok"), IOSToken("ok")
	tests := []struct {
		name  string
		ios   bool
		edits []func(map[string]any)
	}{
		{name: "seconds timestamp", edits: []func(map[string]any){set("timestamp", strconv.FormatInt(now.Unix(), 10))}},
		{name: "timestamp 9 minutes old", edits: []func(map[string]any){set("timestamp", strconv.FormatInt(now.Add(-9*time.Minute).UnixMilli(), 10))}},
		{name: "production_mode false", edits: []func(map[string]any){set("production_mode", "false")}},
		{name: "message with string custom", edits: []func(map[string]any){set("payload.display_type", "message"), set("payload.body", map[string]any{"custom": "c"})}},
		{name: "message with object custom", edits: []func(map[string]any){set("payload.display_type", "message"), set("payload.body", map[string]any{"custom": map[string]any{"k": "v"}})}},
		{name: "no ticker and no after_open", edits: []func(map[string]any){set("payload.body.ticker", omit{}), set("payload.body.after_open", omit{})}},
		{name: "go_url with https", edits: []func(map[string]any){set("payload.body.after_open", "go_url"), set("payload.body.url", "https://example.com/x")}},
		{name: "go_activity", edits: []func(map[string]any){set("payload.body.after_open", "go_activity"), set("payload.body.activity", "com.example.Main")}},
		{name: "go_custom with custom", edits: []func(map[string]any){set("payload.body.after_open", "go_custom"), set("payload.body.custom", "c")}},
		{name: "bool strings and img", edits: []func(map[string]any){set("payload.body.play_sound", "false"), set("payload.body.play_vibrate", "true"), set("payload.body.img", "http://example.com/i.png")}},
		{name: "string extras", edits: []func(map[string]any){set("payload.extra", map[string]any{"order": "42"})}},
		{name: "full policy", edits: []func(map[string]any){set("policy", map[string]any{"expire_time": policyTime(now.Add(7 * 24 * time.Hour)), "max_send_num": 1000, "out_biz_no": "b1"})}},
		{name: "large max_send_num", edits: []func(map[string]any){set("policy.max_send_num", 50000)}},
		{name: "receipts", edits: []func(map[string]any){set("receipt_url", "https://h.example.com/r"), set("receipt_type", "1"), set("callback_params", map[string]any{"push": 7})}},
		{name: "category marketing", edits: []func(map[string]any){set("category", 0)}},
		{name: "category service", edits: []func(map[string]any){set("category", 1)}},
		{name: "every channel property", edits: []func(map[string]any){set("channel_properties", map[string]any{
			"channel_activity": "com.example.Push", "main_activity": "com.example.Main", "xiaomi_channel_id": "x",
			"vivo_category": "IM", "vivo_addbadge": "true", "oppo_channel_id": "o", "oppo_category": "IM", "oppo_notify_level": "16",
			"huawei_channel_importance": "NORMAL", "huawei_channel_category": "IM", "channel_fcm": "0", "meizu_msg_type": "1",
			"oppo_private_msg_template": map[string]any{"private_msg_template_id": "t", "private_title_parameters": map[string]any{"a": "b"}},
			"xiaomi_extra_properties":   map[string]any{"template_id": "t", "template_param": "{}"},
			"honor_channel_importance":  "LOW",
		})}},
		{name: "local properties", edits: []func(map[string]any){set("local_properties", map[string]any{"category": "CATEGORY_PROMO", "importance": "IMPORTANCE_MIN", "channel_id": "c", "channel_name": "n"})}},
		{name: "new body fields", edits: []func(map[string]any){set("payload.body.big_body", strings.Repeat("长", 120)), set("payload.body.expand_image", "https://example.com/e.png"), set("payload.body.re_pop", 1), set("payload.body.add_badge", -1)}},
		{name: "new policy fields", edits: []func(map[string]any){set("policy", map[string]any{"notification_closed_filter": true, "uapp_arg": "plan"})}},
		{name: "iOS relative badge", ios: true, edits: []func(map[string]any){set("payload.aps.badge", "+1"), set("payload.aps.interruption-level", "time-sensitive")}},
		{name: "iOS clearing badge", ios: true, edits: []func(map[string]any){set("payload.aps.badge", "")}},
		{name: "iOS collapse id", ios: true, edits: []func(map[string]any){set("policy", map[string]any{"apns_collapse_id": strings.Repeat("c", 64), "uapp_arg": "plan"})}},
		{name: "start_time ignored on unicast", edits: []func(map[string]any){set("policy.start_time", policyTime(now.Add(-time.Hour)))}},
		{name: "iOS alert string", ios: true, edits: []func(map[string]any){set("payload.aps", map[string]any{"alert": "hi", "badge": 1, "sound": "default"})}},
		{name: "iOS silent push", ios: true, edits: []func(map[string]any){set("payload.aps", map[string]any{"content-available": 1})}},
		{name: "iOS custom keys", ios: true, edits: []func(map[string]any){set("payload.order", "42")}},
		{name: "iOS custom key holding JSON text", ios: true, edits: []func(map[string]any){set("payload.deeplink", `{"path":"/a"}`)}},
		{name: "groupcast filter of 3000 bytes", edits: []func(map[string]any){set("type", "groupcast"), set("device_tokens", omit{}), set("filter", tagFilter(maxFilterBytes-30))}},
		{name: "Android payload at its limit", edits: []func(map[string]any){set("payload", androidPayloadOf(maxAndroidPayload))}},
		{name: "iOS payload at its limit", ios: true, edits: []func(map[string]any){set("payload", map[string]any{"aps": map[string]any{"alert": strings.Repeat("y", maxIOSPayload-20)}})}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			app, token := f.android, aToken
			if tt.ios {
				app, token = f.ios, iToken
			}
			body := f.fields(app, unicast(app, token))
			for _, edit := range tt.edits {
				edit(body)
			}
			r := f.post(app, pathSend, body)
			assert.Equal(t, http.StatusOK, r.status, "body: %s", r.raw)
			assert.Equal(t, "SUCCESS", r.Ret)
		})
	}
}

func TestSendRecordsTheRequest(t *testing.T) {
	f := newFixture(t)
	token := IOSToken("rec")
	body := f.fields(f.ios, unicast(f.ios, token))
	set("policy.out_biz_no", "biz-1")(body)
	set("production_mode", "false")(body)
	raw, err := json.Marshal(body)
	require.NoError(t, err)
	sig := clientSign(f.url+pathSend, raw, f.ios.AppMasterSecret)
	r := f.postRaw(pathSend, raw, sig)
	require.Equal(t, http.StatusOK, r.status)

	reqs := f.srv.Requests()
	require.Len(t, reqs, 1)
	got := reqs[0]
	assert.Equal(t, 1, got.Seq)
	assert.Equal(t, start, got.At)
	assert.Equal(t, http.MethodPost, got.Method)
	assert.Equal(t, pathSend, got.Path)
	assert.Equal(t, sig, got.Sign)
	assert.Equal(t, raw, got.Body)
	assert.Equal(t, f.ios.AppKey, got.AppKey)
	assert.Equal(t, castUnicast, got.Type)
	assert.Equal(t, []string{token}, got.DeviceTokens)
	assert.Equal(t, "biz-1", got.OutBizNo)
	assert.False(t, got.ProductionMode)
	assert.Equal(t, "biz-1", got.Policy["out_biz_no"])
	assert.Contains(t, got.Payload, "aps")
	assert.Equal(t, http.StatusOK, got.StatusCode)
	assert.Empty(t, got.Code)
	assert.Equal(t, r.str("msg_id"), got.ID)
	assert.True(t, got.Accepted)

	deliveries := f.srv.Deliveries()
	require.Len(t, deliveries, 1)
	assert.True(t, got.Sandbox, "iOS test mode is the APNs sandbox")
	assert.Equal(t, Delivery{
		AppKey: f.ios.AppKey, Token: token, ID: got.ID, Type: castUnicast, OutBizNo: "biz-1",
		Title: "Hello", Text: "World", Sandbox: true, At: start,
	}, deliveries[0])
}

func TestSendInvalidTokens(t *testing.T) {
	f := newFixture(t)
	dead, alive := AndroidToken("dead"), AndroidToken("alive")
	f.srv.MarkInvalid(dead)

	r := f.send(f.android, unicast(f.android, dead))
	assert.Equal(t, http.StatusBadRequest, r.status)
	assert.Equal(t, CodeInvalidDeviceToken, r.code())

	// A listcast is accepted; the dead token and a malformed one just
	// receive nothing, and a repeated token receives once.
	f.mustSend(f.android, map[string]any{
		"type": "listcast", "device_tokens": dead + ", " + alive + ",short," + alive, "payload": note("t", "x"),
	})
	assert.Zero(t, f.srv.DeliveryCount(dead))
	assert.Zero(t, f.srv.DeliveryCount("short"))
	assert.Equal(t, 1, f.srv.DeliveryCount(alive))
}

func TestSendAcceptAnyToken(t *testing.T) {
	f := newFixture(t, func(c *Config) { c.AcceptAnyToken = true })
	f.mustSend(f.android, unicast(f.android, "tok-1"))
	assert.Equal(t, 1, f.srv.DeliveryCount("tok-1"))
	require.NoError(t, f.srv.AddDevice(f.android.AppKey, Device{Token: "tok-2"}))
}

func TestSendRateLimits(t *testing.T) {
	f := newFixture(t)
	broadcast := map[string]any{"type": "broadcast", "payload": note("t", "x")}
	for range 10 {
		f.mustSend(f.android, broadcast)
	}
	r := f.send(f.android, broadcast)
	assert.Equal(t, CodeBroadcastQuota, r.code(), "the daily broadcast cap has its own code")

	// Test mode is not limited, nor is the other app.
	testMode := map[string]any{"type": "broadcast", "payload": note("t", "x"), "production_mode": "false"}
	f.mustSend(f.android, testMode)
	f.mustSend(f.ios, map[string]any{"type": "broadcast", "payload": alert("t", "x")})

	// The window slides with the clock.
	f.clock.Advance(24 * time.Hour)
	f.mustSend(f.android, broadcast)

	groupcast := map[string]any{"type": "groupcast", "payload": note("t", "x"),
		"filter": map[string]any{"where": map[string]any{"and": []any{map[string]any{"tag": "x"}}}}}
	for range 5 {
		f.mustSend(f.android, groupcast)
	}
	assert.Equal(t, CodeRateLimited, f.send(f.android, groupcast).code())
	f.clock.Advance(time.Minute)
	f.mustSend(f.android, groupcast)

	unlimited := newFixture(t, func(c *Config) { c.NoRateLimits = true })
	for range 11 {
		unlimited.mustSend(unlimited.android, broadcast)
	}
}

func TestSendGroupcastAudience(t *testing.T) {
	f := newFixture(t)
	vip, plain, banned := AndroidToken("vip"), AndroidToken("plain"), AndroidToken("banned")
	f.addDevice(f.android, Device{Token: vip, Tags: []string{"vip"}})
	f.addDevice(f.android, Device{Token: plain})
	f.addDevice(f.android, Device{Token: banned, Tags: []string{"vip", "banned"}})
	where := map[string]any{"and": []any{
		map[string]any{"or": []any{map[string]any{"tag": "vip"}, map[string]any{"tag": "staff"}}},
		map[string]any{"not": map[string]any{"tag": "banned"}},
	}}
	id := f.mustSend(f.android, map[string]any{"type": "groupcast", "payload": note("t", "x"), "filter": map[string]any{"where": where}})
	require.NoError(t, f.srv.AdvanceTask(id, StatusDone))
	assert.Equal(t, 1, f.srv.DeliveryCount(vip))
	assert.Zero(t, f.srv.DeliveryCount(plain))
	assert.Zero(t, f.srv.DeliveryCount(banned))
}

func TestSendCustomizedcastByAlias(t *testing.T) {
	f := newFixture(t)
	a, b, c := IOSToken("a"), IOSToken("b"), IOSToken("c")
	f.addDevice(f.ios, Device{Token: a, Aliases: map[string]string{"uid": "u1"}})
	f.addDevice(f.ios, Device{Token: b, Aliases: map[string]string{"uid": "u2", "email": "u1"}})
	f.addDevice(f.ios, Device{Token: c, Aliases: map[string]string{"uid": "u1"}})
	f.srv.MarkInvalid(c)

	id := f.mustSend(f.ios, map[string]any{"type": "customizedcast", "alias_type": "uid", "alias": "u1", "payload": alert("t", "x")})
	assert.True(t, strings.HasPrefix(id, prefixAliasCast))
	assert.Equal(t, 1, f.srv.DeliveryCount(a))
	assert.Zero(t, f.srv.DeliveryCount(b), "alias of another alias_type")
	assert.Zero(t, f.srv.DeliveryCount(c), "invalid token")
}

func TestSendGroupcastByGroupID(t *testing.T) {
	f := newFixture(t)
	inGroup, other, both := AndroidToken("g1"), AndroidToken("g2"), AndroidToken("g3")
	f.addDevice(f.android, Device{Token: inGroup, Groups: []string{"G1"}})
	f.addDevice(f.android, Device{Token: other, Groups: []string{"G2"}, Tags: []string{"vip"}})
	f.addDevice(f.android, Device{Token: both, Groups: []string{"G2", "G1"}})
	vip := map[string]any{"where": map[string]any{"and": []any{map[string]any{"tag": "vip"}}}}
	tests := []struct {
		name    string
		fields  map[string]any
		want    []string // tokens delivered to
		ignored []string
	}{
		{"group_id alone", map[string]any{"group_id": "G1"}, []string{inGroup, both}, nil},
		{"group_id wins over a filter", map[string]any{"group_id": "G1", "filter": vip}, []string{inGroup, both}, []string{"filter"}},
		{"a filter beside group_id is not read", map[string]any{"group_id": "G2", "filter": "not an object"}, []string{other, both}, []string{"filter"}},
		{"an empty group_id leaves the filter", map[string]any{"group_id": "", "filter": vip}, []string{other}, nil},
		{"a group without devices", map[string]any{"group_id": "G9"}, nil, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.srv.Reset()
			fields := map[string]any{"type": "groupcast", "payload": note("t", "x")}
			for k, v := range tt.fields {
				fields[k] = v
			}
			id := f.mustSend(f.android, fields)
			assert.True(t, strings.HasPrefix(id, prefixGroupcast))
			sends := f.srv.Sends()
			require.Len(t, sends, 1)
			assert.Equal(t, tt.ignored, sends[0].Ignored)
			if g, _ := tt.fields["group_id"].(string); g != "" {
				assert.Equal(t, g, sends[0].GroupID)
			}
			f.clock.Advance(2 * DefaultTaskStep)
			var got []string
			for _, d := range f.srv.Deliveries() {
				got = append(got, d.Token)
			}
			assert.Equal(t, tt.want, got)
			task, ok := f.srv.Task(id)
			require.True(t, ok)
			if tt.want == nil {
				assert.Equal(t, StatusEmpty, task.Status)
			} else {
				assert.Equal(t, StatusDone, task.Status)
			}
		})
	}
}

// TestSendRecordsIgnoredFields checks that fields the real service accepts
// and ignores are flagged, so tests can catch a client relying on them.
func TestSendRecordsIgnoredFields(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	token := AndroidToken("ig")
	message := map[string]any{"display_type": "message", "body": map[string]any{"custom": "c"}, "extra": map[string]any{"k": "v"}}
	tests := []struct {
		name   string
		fields map[string]any
		want   []string
	}{
		{"nothing ignored", unicast(f.android, token), nil},
		{"start_time on a unicast", map[string]any{"type": "unicast", "device_tokens": token, "payload": note("t", "x"),
			"policy": map[string]any{"start_time": policyTime(now.Add(time.Hour))}}, []string{"policy.start_time"}},
		{"start_time on a listcast", map[string]any{"type": "listcast", "device_tokens": token + "," + AndroidToken("ig2"), "payload": note("t", "x"),
			"policy": map[string]any{"start_time": policyTime(now.Add(time.Hour))}}, []string{"policy.start_time"}},
		{"extra on a message", map[string]any{"type": "unicast", "device_tokens": token, "payload": message}, []string{"payload.extra"}},
		{"mi_activity without mipush", map[string]any{"type": "unicast", "device_tokens": token, "payload": note("t", "x"),
			"mi_activity": "com.example.Open"}, []string{"mi_activity"}},
		{"mi_activity with mipush", map[string]any{"type": "unicast", "device_tokens": token, "payload": note("t", "x"),
			"mipush": "true", "mi_activity": "com.example.Open"}, nil},
		{"start_time on a broadcast is honoured", map[string]any{"type": "broadcast", "payload": note("t", "x"),
			"policy": map[string]any{"start_time": policyTime(now.Add(time.Hour))}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.srv.Reset()
			f.mustSend(f.android, tt.fields)
			sends := f.srv.Sends()
			require.Len(t, sends, 1)
			assert.Equal(t, tt.want, sends[0].Ignored)
		})
	}
}

// TestSendDeliversCustomAndExtras checks what the app receives: extras with
// a notification, none with a message, and body.custom as text.
func TestSendDeliversCustomAndExtras(t *testing.T) {
	f := newFixture(t)
	aToken, iToken := AndroidToken("ce"), IOSToken("ce")
	tests := []struct {
		name   string
		app    App
		token  string
		pay    map[string]any
		custom string
		extras map[string]string
	}{
		{"Android notification", f.android, aToken, map[string]any{"display_type": "notification",
			"body":  map[string]any{"title": "t", "text": "x", "after_open": "go_custom", "custom": map[string]any{"screen": "order"}},
			"extra": map[string]any{"order": "42"}}, `{"screen":"order"}`, map[string]string{"order": "42"}},
		{"Android message drops extra", f.android, aToken, map[string]any{"display_type": "message",
			"body":  map[string]any{"custom": `{"body":"sync","extras":{"order":"42"}}`},
			"extra": map[string]any{"order": "42"}}, `{"body":"sync","extras":{"order":"42"}}`, nil},
		{"iOS custom keys", f.ios, iToken, map[string]any{"aps": map[string]any{"alert": "hi"}, "order": "42", "page": "goods"},
			"", map[string]string{"order": "42", "page": "goods"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f.srv.Reset()
			f.mustSend(tt.app, map[string]any{"type": "unicast", "device_tokens": tt.token, "payload": tt.pay})
			d := f.srv.Deliveries()
			require.Len(t, d, 1)
			assert.Equal(t, tt.custom, d[0].Custom)
			assert.Equal(t, tt.extras, d[0].Extras)
		})
	}
}

// TestSendFileLimitsInProductionOnly checks that the file cast limits
// apply to production sends, and that test-mode sends neither count nor
// are refused.
func TestSendFileLimitsInProductionOnly(t *testing.T) {
	f := newFixture(t)
	fileID := f.upload(f.android, AndroidToken("fl")).str("file_id")
	aliasFile := f.upload(f.android, "u1").str("file_id")
	filecast := map[string]any{"type": "filecast", "file_id": fileID, "payload": note("t", "x")}
	testFilecast := map[string]any{"type": "filecast", "file_id": fileID, "payload": note("t", "x"), "production_mode": "false"}
	for range 300 {
		f.mustSend(f.android, filecast)
	}
	assert.Equal(t, CodeRateLimited, f.send(f.android, filecast).code())
	f.mustSend(f.android, testFilecast)

	byFile := map[string]any{"type": "customizedcast", "alias_type": "uid", "file_id": aliasFile, "payload": note("t", "x")}
	for range 300 {
		f.mustSend(f.android, byFile)
	}
	assert.Equal(t, CodeRateLimited, f.send(f.android, byFile).code())

	f.clock.Advance(time.Hour)
	f.mustSend(f.android, filecast)

	// Test-mode sends did not use up any of the allowance.
	other := newFixture(t)
	otherFile := other.upload(other.android, AndroidToken("fl")).str("file_id")
	for range 400 {
		other.mustSend(other.android, map[string]any{"type": "filecast", "file_id": otherFile, "payload": note("t", "x"), "production_mode": "false"})
	}
	other.mustSend(other.android, map[string]any{"type": "filecast", "file_id": otherFile, "payload": note("t", "x")})
}

// TestSendTimestampNumber checks that a JSON number timestamp, in seconds
// or milliseconds, is accepted as the string form is.
func TestSendTimestampNumber(t *testing.T) {
	f := newFixture(t)
	now := f.clock.Now()
	for _, ts := range []int64{now.Unix(), now.UnixMilli()} {
		body := unicast(f.android, AndroidToken("num"))
		body["timestamp"] = ts
		f.mustSend(f.android, body)
	}
	assert.Equal(t, 2, f.srv.DeliveryCount(AndroidToken("num")))
}

// TestSendSandbox checks that iOS test-mode sends are recorded as APNs
// sandbox sends, and Android test-mode and iOS production sends are not.
func TestSendSandbox(t *testing.T) {
	f := newFixture(t)
	ios, android := IOSToken("sb"), AndroidToken("sb")
	f.mustSend(f.ios, map[string]any{"type": "unicast", "device_tokens": ios, "payload": alert("t", "x"), "production_mode": "false"})
	f.mustSend(f.ios, map[string]any{"type": "unicast", "device_tokens": ios, "payload": alert("t", "x")})
	f.mustSend(f.android, map[string]any{"type": "unicast", "device_tokens": android, "payload": note("t", "x"), "production_mode": "false"})
	d := f.srv.Deliveries()
	require.Len(t, d, 3)
	assert.True(t, d[0].Sandbox)
	assert.False(t, d[1].Sandbox)
	assert.False(t, d[2].Sandbox)
}

// TestSendRecordsVendorFields checks that the class, channel and local
// properties and callback params are recorded as sent, and that the
// fields the service would not act on are noted as ignored.
func TestSendRecordsVendorFields(t *testing.T) {
	f := newFixture(t)
	f.mustSend(f.android, map[string]any{
		"type": "unicast", "device_tokens": AndroidToken("v"), "payload": note("t", "x"), "category": 1,
		"channel_properties": map[string]any{"channel_activity": "com.example.Push", "oppo_notify_level": "2", "oppo_category": "IM"},
		"local_properties":   map[string]any{"importance": "IMPORTANCE_MIN"},
		"callback_params":    map[string]any{"push": 7},
	})
	r := f.srv.Sends()[0]
	require.NotNil(t, r.Category)
	assert.Equal(t, 1, *r.Category)
	assert.Equal(t, map[string]any{"channel_activity": "com.example.Push", "oppo_notify_level": "2", "oppo_category": "IM"}, r.ChannelProperties)
	assert.Equal(t, map[string]any{"importance": "IMPORTANCE_MIN"}, r.LocalProperties)
	assert.Equal(t, map[string]any{"push": json.Number("7")}, r.CallbackParams)
	assert.Equal(t, []string{"local_properties.importance"}, r.Ignored)

	f.srv.Reset()
	f.mustSend(f.android, map[string]any{
		"type": "unicast", "device_tokens": AndroidToken("v"),
		"payload":            map[string]any{"display_type": "message", "body": map[string]any{"custom": "c"}},
		"channel_properties": map[string]any{"channel_activity": "com.example.Push"},
		"policy":             map[string]any{"notification_closed_filter": true},
	})
	assert.Equal(t, []string{"channel_properties.channel_activity", "policy.notification_closed_filter"}, f.srv.Sends()[0].Ignored)

	f.srv.Reset()
	f.mustSend(f.ios, map[string]any{
		"type": "unicast", "device_tokens": IOSToken("v"), "payload": alert("t", "x"), "category": 0,
		"channel_properties": map[string]any{"xiaomi_channel_id": "x"},
	})
	r = f.srv.Sends()[0]
	assert.Equal(t, []string{"category", "channel_properties"}, r.Ignored, "Android-only fields on iOS")
	assert.Nil(t, f.srv.Sends()[0].LocalProperties)
}
