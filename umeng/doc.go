// Package umeng is a client for the Umeng U-Push server API (the msgapi
// API), and the push library's first complete provider.
//
// # Overview
//
// [New] builds a [Client] from a [Config]. The Client implements
// provider.Provider, provider.StatusQuerier, provider.Canceler and
// provider.Validator ([Client.Validate] checks a request without sending
// it), and adds
// [Client.Upload] and the raw [Client.Post] for the endpoints it does not
// wrap. Umeng runs every platform as a separate app, so Config takes an
// [App] (appkey and App Master Secret) for iOS and one for Android; a
// platform left empty is not configured.
//
// Every call is a POST of a JSON body to BaseURL + path, signed as Umeng
// requires: sign = md5("POST" + url + body + app master secret) over exactly
// the bytes sent, in the "sign" query parameter (see [Sign]). Each body is
// marshalled once and those bytes are both signed and sent.
//
// # Audiences and cast types
//
// Send maps a provider.Request to one of Umeng's six cast types:
//
//	tokens      1 token → unicast, 2–500 → listcast (StrategyListcast, default)
//	            /upload, then filecast (StrategyFilecast); with
//	            Config.FilecastThreshold, 501–MaxFileTokens tokens (a batch
//	            the push.Service made by file) → /upload, then filecast
//	broadcast   broadcast
//	filter      groupcast with the filter object, the group_id, or a filter
//	            built from Tags that matches any of them
//	aliases     customizedcast with alias_type and up to 500 aliases
//	file        filecast by file_id, or customizedcast by file when AliasType is set
//
// Umeng answers unicast, listcast and customizedcast by alias with a msg_id
// that its status API cannot report on: those receipts are not Pollable and
// are final once accepted. The other casts return a task id that
// [Client.Status] polls and [Client.Cancel] stops.
// What happens next to such a push is told by the receipts Umeng posts
// to Options.ReceiptURL: [ReceiptHandler] verifies and parses them and
// hands each to a callback (push.Service.RecordReport), which counts it.
//
// # Payloads
//
// On Android the Notification becomes a "notification" (title, text, ticker,
// sound, image) whose Extras go to payload.extra or, when Silent, a
// "message". Umeng ignores payload.extra on messages, so a message carries
// everything in body.custom: Options.Custom when set (Extras are then
// refused rather than lost), or else a JSON string holding the object
//
//	{"title":"…","body":"…","extras":{"key":"value",…}}
//
// with empty members left out; the app decodes it from UMessage.custom.
// On iOS it becomes aps (alert as a string when there is only a body, as an
// object with a title or subtitle; badge, sound, category, thread-id,
// mutable-content; content-available for silent pushes) and Extras, like
// Options.IOSKeys, become top-level keys whose values Umeng accepts as
// strings only. Subtitle is iOS-only and Image Android-only. Everything
// Umeng-specific (after_open and its url, activity or custom; display type;
// icons; big_body, expand_image, re_pop; builder_id; the play_* flags;
// badges, including iOS's relative "+1"; interruption-level; the typed
// channel_properties of the phone makers' channels and local_properties;
// mipush; max_send_num, notification_closed_filter, apns_collapse_id,
// uapp_arg; raw iOS keys; receipts and callback_params) is set with an
// [Options] in Request.Overrides["umeng"], over the [App]'s Defaults.
//
// # Phone makers' channels
//
// On Xiaomi, Huawei, Honor, OPPO, vivo and Meizu phones a push reaches a
// closed app only through the phone maker's channel. Those channels need
// ChannelProperties.ChannelActivity (set it once in App.Defaults) and
// throttle messages by class: Notification.Class maps to Umeng's top-level
// "category" (0 marketing, 1 service), which Umeng uses for Xiaomi and
// vivo, and to channel_properties.huawei_channel_importance (LOW, NORMAL)
// for Huawei and Honor, unless Options sets the importance itself. Umeng
// documents "category" for Android only, so iOS sends carry neither. An
// unset class sends neither field. Each maker also gives every class a
// channel or category of its own (Xiaomi's channel id, OPPO's channel id
// and category, vivo's category): set them per class in
// App.ClassDefaults, so that a service push goes out on the service
// channel and a marketing push on the marketing one without every request
// naming them. channel_activity and
// notification_closed_filter apply to notifications only and are left out
// of a message. Payloads over MaxAndroidPayloadBytes or
// MaxIOSPayloadBytes are rejected before any network call, naming the part
// of the request that takes the most bytes of the encoded payload:
// "notification.body", "notification.title" (counted twice on an Android
// notification, where it is the ticker too), "notification.subtitle",
// "notification.extras", "overrides.umeng.custom" or
// "overrides.umeng.ios_keys", ties going to the first of that list. On iOS
// the extras keys "aps", "d" and "p" are refused as
// notification.extras["aps"] and so on.
//
// # Delivery semantics
//
// Send, Status, Cancel and Upload never retry and never sleep. Send makes one
// call, or two with an upload (StrategyFilecast, or a batch by file). The idempotency key
// goes to policy.out_biz_no on task casts, the only casts Umeng deduplicates.
//
// Schedules are sent in Beijing time (yyyy-MM-dd HH:mm:ss, to the second)
// without needing tzdata. Umeng refuses a start_time that is not in the
// future by its clock, so a StartTime less than a minute ahead once
// truncated to the second, or already past, is left out and the push goes
// at once: a retried scheduled push is sent rather than failing for good.
// Umeng honours start_time on task casts only and sends every other cast at
// once, so a StartTime a minute or more ahead on a unicast, listcast or
// customizedcast by alias is an InvalidRequest error naming "start_time"
// (use StrategyFilecast to schedule pushes to tokens), as is one more than
// seven days ahead. An ExpireTime that is not in the future, or more than
// seven days after the start, is rejected. policy.max_send_num takes 0
// (Umeng's default) or at least MinMaxSendNum.
//
// # Errors
//
// New's configuration errors wrap a *provider.FieldError naming the
// field. Every error of a call is a *provider.Error with Provider "umeng" and Op "validate",
// "send", "status", "cancel", "upload" or "post"; Code and Message are
// Umeng's error_code (a string or a number on the wire) and error_msg.
// One table maps each documented code to a Kind; codes it does not list
// count as InvalidRequest in the 1000–2999 range and are otherwise judged by
// the HTTP status. In short:
//
//   - Bad input is found before any network call and is InvalidRequest,
//     wrapping a *provider.FieldError that names the field by its Request
//     path, in the scheme of package provider. [Client.Validate] runs the
//     same checks through the same code, without sending, and returns the
//     same errors.
//   - A platform without credentials is Auth, as are bad signs, IP
//     whitelists, unknown or disabled appkeys, certificates and clock skew.
//   - HTTP 429 and Umeng's rate codes are RateLimited (with Retry-After when
//     sent); the daily broadcast allowance is QuotaExceeded.
//   - Token codes are InvalidToken. Umeng does not say which token, so on a
//     listcast the caller cannot tell which of its tokens is dead. No device
//     bound to an alias (2010) is InvalidRequest: no token is at fault.
//     4026 on a send (some tokens failed, the rest were sent) is not an
//     error: the send happened, and Send returns its receipt.
//   - HTTP 5xx, Umeng's busy codes and transport errors before the request
//     was written are Temporary; a context that ended before sending is too.
//   - A failure after the whole request was written (a timeout, a lost
//     connection, an unreadable 200) is Indeterminate: Umeng may have sent
//     the push. So is Umeng's own asynchronous timeout, 4021.
//
// Errors, logs and Receipt.Raw never contain the App Master Secret, the sign
// or a URL with its query; neither does a Client, an App or a Config printed
// with any fmt verb or logged with slog.
//
// # Testing
//
// Point Config.BaseURL at a fake: package umengtest serves one that checks
// signs as Umeng does, and Config.HTTPClient accepts any transport, such as
// httpmock's. Config.Now fixes the clock, which makes request bodies
// reproducible: this package's own tests compare them with golden files under
// testdata/, rewritten by go test ./umeng -update.
package umeng
