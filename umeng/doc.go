// Package umeng is a client for the Umeng U-Push server API (the msgapi
// API), and the push library's first complete provider.
//
// # Overview
//
// [New] builds a [Client] from a [Config]. The Client implements
// provider.Provider, provider.StatusQuerier and provider.Canceler, and adds
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
//	            /upload, then filecast (StrategyFilecast)
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
//
// # Payloads
//
// On Android the Notification becomes a "notification" (title, text, ticker,
// sound, image) or, when Silent, a "message" whose body.custom is
// Options.Custom or else the Notification body. Extras go to payload.extra.
// On iOS it becomes aps (alert as a string when there is only a body, as an
// object with a title or subtitle; badge, sound, category, thread-id,
// mutable-content; content-available for silent pushes) and Extras become
// top-level keys. Subtitle is iOS-only and Image Android-only. Everything
// Umeng-specific (after_open and its url, activity or custom; display type;
// icons; builder_id; the play_* flags; badges; channel_properties; mipush;
// max_send_num; raw iOS keys; receipts) is set with an [Options] in
// Request.Overrides["umeng"]. Payloads over MaxAndroidPayloadBytes or
// MaxIOSPayloadBytes are rejected before any network call.
//
// # Delivery semantics
//
// Send, Status, Cancel and Upload never retry and never sleep. Send makes one
// call, or two with StrategyFilecast (upload, then send). The idempotency key
// goes to policy.out_biz_no on task casts, the only casts Umeng deduplicates.
// Schedules are sent in Beijing time (yyyy-MM-dd HH:mm:ss) without needing
// tzdata. A StartTime that is no longer in the future is left out, so a
// retried scheduled push goes at once instead of failing; an ExpireTime in
// the past or more than seven days after the start is rejected.
//
// # Errors
//
// Every error is a *provider.Error with Provider "umeng" and Op "validate",
// "send", "status", "cancel", "upload" or "post"; Code and Message are
// Umeng's error_code (a string or a number on the wire) and error_msg.
// One table maps each documented code to a Kind; codes it does not list
// count as InvalidRequest in the 1000–2999 range and are otherwise judged by
// the HTTP status. In short:
//
//   - Bad input is found before any network call and is InvalidRequest,
//     wrapping a *provider.FieldError that names the field.
//   - A platform without credentials is Auth, as are bad signs, IP
//     whitelists, unknown or disabled appkeys, certificates and clock skew.
//   - HTTP 429 and Umeng's rate codes are RateLimited (with Retry-After when
//     sent); the daily broadcast allowance is QuotaExceeded.
//   - Token codes are InvalidToken. Umeng does not say which token, so on a
//     listcast the caller cannot tell which of its tokens is dead.
//   - HTTP 5xx, Umeng's busy codes and transport errors before the request
//     was written are Temporary; a context that ended before sending is too.
//   - A failure after the whole request was written (a timeout, a lost
//     connection, an unreadable 200) is Indeterminate: Umeng may have sent
//     the push.
//
// Errors, logs and Receipt.Raw never contain the App Master Secret, the sign
// or a URL with its query.
//
// # Testing
//
// Point Config.BaseURL at a fake: package umengtest serves one that checks
// signs as Umeng does, and Config.HTTPClient accepts any transport, such as
// httpmock's. Config.Now fixes the clock, which makes request bodies
// reproducible: this package's own tests compare them with golden files under
// testdata/, rewritten by go test ./umeng -update.
package umeng
