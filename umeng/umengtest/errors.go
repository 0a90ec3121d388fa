package umengtest

import (
	"errors"
	"fmt"
)

// Vendor error codes the fake answers with, as strings exactly as they appear
// in data.error_code. The numbers are the real service's, except those
// marked "invented": for those rules the real service documents no code (or
// none we could confirm), so the fake picks one. Every invented code lies in
// the 1xxx or 2xxx range, which clients classify as a request error.
const (
	CodeMissingAppKey        = "1000" // appkey absent, empty or not a string
	CodeBadPayload           = "1001" // payload absent or not a JSON object
	CodeMissingBody          = "1002" // Android payload.body absent or not an object
	CodeMissingCustom        = "1003" // body.custom absent for display_type message or after_open go_custom
	CodeMissingDisplayType   = "1004" // Android payload.display_type absent or empty
	CodeBadImageURL          = "1005" // body.img not an http(s) URL
	CodeBadURL               = "1007" // body.url not an http(s) URL
	CodeMissingTitle         = "1009" // notification without body.title
	CodeMissingText          = "1010" // notification without body.text
	CodeBadPlayVibrate       = "1011" // body.play_vibrate not the string "true" or "false"
	CodeBadPlayLights        = "1012" // body.play_lights not the string "true" or "false"
	CodeBadPlaySound         = "1013" // body.play_sound not the string "true" or "false"
	CodeTaskNotFound         = "1014" // task_id unknown to this appkey (a msg_id included)
	CodeMissingDeviceTokens  = "1015" // unicast/listcast without device_tokens
	CodeMissingType          = "1016" // type absent or empty
	CodeBadProductionMode    = "1017" // production_mode not the string "true" or "false"
	CodeBadDisplayType       = "1019" // display_type not notification or message
	CodeBadAfterOpen         = "1021" // after_open not go_app/go_url/go_activity/go_custom (invented)
	CodeMissingURL           = "1022" // after_open go_url without body.url
	CodeMissingActivity      = "1024" // after_open go_activity without body.activity
	CodeBadExtra             = "1026" // payload.extra not an object (documented), or a value that is not a string (the fake's own rule)
	CodeBadPolicy            = "1027" // policy not an object (documented), or out_biz_no not a string (the fake's own rule)
	CodeCannotCancel         = "1028" // task is past the point it can be cancelled
	CodeBadCustomValue       = "1029" // an iOS custom top-level value is not a string (invented; Umeng refuses JSON values)
	CodeBadReceiptType       = "1030" // receipt_type not the string "1", "2" or "3" (invented)
	CodeBadCategory          = "1031" // category not the number 0 or 1 (invented)
	CodeBadChannelProperties = "1032" // channel_properties not an object, or a member of the wrong type or value (invented)
	CodeBadLocalProperties   = "1033" // local_properties not an object of strings (invented)
	CodeBadCallbackParams    = "1034" // callback_params not a JSON object (invented)
	CodeBadBody              = "1035" // big_body, expand_image, re_pop or a badge of an Android body malformed (invented)
	CodeBadAPS               = "1036" // aps.badge or aps.interruption-level malformed (invented)
	CodeBadMiPush            = "1037" // mipush not the string "true" or "false", or mi_activity not a string (invented)
	CodeStartTimePast        = "2002" // policy.start_time not after now
	CodeExpireBeforeStart    = "2003" // policy.expire_time not after start_time and now
	CodeUnsigned             = "2007" // no sign query parameter
	CodeBadJSON              = "2008" // body is not a JSON object
	CodeMissingAliasOrFile   = "2009" // customizedcast with neither alias nor file_id
	CodeBroadcastQuota       = "2012" // today's broadcasts of the appkey are over the daily limit
	CodeAliasNoDevices       = "2010" // no alias of a customizedcast is bound to a device
	CodeTooManyAliases       = "2011" // customizedcast with more than 500 aliases
	CodeTooManyDeviceTokens  = "2015" // listcast over 500 tokens, or unicast with more than one
	CodeMissingFilter        = "2016" // groupcast with neither a filter object nor a group_id
	CodeMissingFileID        = "2018" // filecast without file_id
	CodeFileNotFound         = "2019" // file_id unknown to this appkey or expired
	CodeUnknownAppKey        = "2021" // appkey not configured
	CodePayloadTooLong       = "2022" // payload over the platform's limit
	CodeBadMaxSendNum        = "2024" // policy.max_send_num not an integer of at least 1000
	CodeMissingAPS           = "2025" // iOS payload without an aps object
	CodeBadSign              = "2027" // sign does not match
	CodeStaleTimestamp       = "2028" // timestamp outside the window around now
	CodeMissingContent       = "2029" // upload without content
	CodeBadFilter            = "2031" // filter malformed or over 3000 bytes
	CodeBadTimestamp         = "2036" // timestamp not a string of 10 or 13 digits
	CodeBadTimeFormat        = "2039" // policy time not "yyyy-MM-dd HH:mm:ss"
	CodeExpireTooFar         = "2040" // expire_time more than 7 days after the send time
	CodeStartTooFar          = "2046" // start_time more than 7 days after now
	CodeMissingAliasType     = "2047" // customizedcast without alias_type
	CodeBadType              = "2048" // type not one of the six casts
	CodeAliasAndFile         = "2049" // customizedcast with both alias and file_id
	CodeRateLimited          = "2050" // send rate limit reached (groupcast, filecast, customizedcast by file)
	CodeUploadTooLarge       = "2051" // upload content over 10 MB (invented; never retryable, unlike 2023)
	CodeMissingTimestamp     = "2052" // timestamp absent or empty
	CodeNoSuchAPI            = "2056" // the path is not an API of the service (invented; answered with HTTP 404)
	CodeMissingTaskID        = "2053" // status/cancel without task_id
	CodeBadDeviceToken       = "4020" // unicast token of the wrong format for the platform
	CodeInvalidDeviceToken   = "5000" // unicast token marked invalid (uninstalled app)
	CodeReservedKey          = "5002" // iOS payload uses the reserved key "d" or "p"
	CodeMissingAlert         = "5003" // aps.alert absent on a non-silent iOS push
	CodeBadAlert             = "5004" // aps.alert neither a string nor an object
)

// Errors returned by the Server's Go methods. Each is wrapped with the
// offending argument named; match with errors.Is.
var (
	// ErrUnknownApp means an appkey the server was not configured with.
	ErrUnknownApp = errors.New("umengtest: unknown appkey")
	// ErrUnknownTask means a task id the server never issued.
	ErrUnknownTask = errors.New("umengtest: unknown task")
	// ErrBadTransition means a task cannot move to the requested status.
	ErrBadTransition = errors.New("umengtest: bad task transition")
	// ErrInvalidArgument means a bad argument to a Server method.
	ErrInvalidArgument = errors.New("umengtest: invalid argument")
	// ErrClosed means Start was called on a closed server.
	ErrClosed = errors.New("umengtest: server closed")
)

// refusal is an answer of FAIL in the vendor's terms: a code and a message
// naming the offending field. It never carries a secret or a sign.
type refusal struct {
	code string
	msg  string
}

func refuse(code, format string, args ...any) *refusal {
	return &refusal{code: code, msg: fmt.Sprintf(format, args...)}
}
