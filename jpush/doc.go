// Package jpush is a client for JPush's Push API v3 (极光推送) behind the
// vendor-neutral provider contract.
//
// # Overview
//
// [New] builds a [Client] from a [Config] holding the app's AppKey and
// MasterSecret. JPush runs one app for every platform, so one Client serves
// iOS and Android. The Client implements provider.Provider,
// provider.Validator ([Client.Validate] checks a request without sending
// it), provider.StatusQuerier ([Client.Status], from the Report API's
// delivery counts) and provider.Canceler ([Client.Cancel], JPush's
// withdraw), and adds [Client.ValidateRemote] (POST /v3/push/validate) and
// [Client.MessageStatus] (per-registration-id delivery).
//
// Every call carries HTTP Basic authentication, appKey:masterSecret.
// Pushes go to BaseURL (https://api.jpush.cn), status calls to
// ReportBaseURL (https://report.jpush.cn).
//
// # Audiences
//
// Send maps a provider.Request to one POST /v3/push whose platform is
// ["android"] or ["ios"], following Request.Platform:
//
//	tokens      {"registration_id":[…]}, at most 1000
//	broadcast   "all"
//	aliases     {"alias":[…]}, at most 1000. JPush aliases have no type:
//	            Audience.AliasType is optional, accepted whatever it is
//	            and ignored (Capabilities.NeedsAliasType is false).
//	filter      {"tag":[…],"tag_and":[…],"tag_not":[…]} from Filter, a JSON
//	            object of those three arrays, with Tags added to "tag";
//	            at most 20 tags each. GroupID becomes {"segment":[id]}, a
//	            JPush user segment. tag_not alone is refused.
//	file        not supported: JPush's file push is another API.
//
// # Payloads
//
// A visible Android push is notification.android {alert (the body, or the
// title when there is no body), title, builder_id, channel_id, category,
// priority, style, big_text, big_pic_path (Notification.Image makes the
// big-picture style), large_icon, intent.url, badge_add_num, sound,
// extras}. A Silent Android push is a pass-through message {msg_content
// (the body, or the title), title, content_type, extras}, which the app
// receives without anything shown.
//
// An iOS push is notification.ios {alert — a string when there is only a
// body, an object {title, subtitle, body} otherwise —, sound, badge,
// content-available, mutable-content, category, thread-id,
// interruption-level, extras}. A Silent iOS push is a background APNs
// notification (alert "" and content-available) rather than a JPush
// message, because JPush messages reach an iOS app only while it runs in
// the foreground.
//
// options carries sendno (see [SendNo]: a positive int32 hashed from the
// idempotency key; JPush echoes it but does not deduplicate by it),
// time_to_live (seconds until ExpireTime, rounded up and clamped to the
// app's limit: [MaxTimeToLiveOrdinary], three days, or [MaxTimeToLive],
// ten days, with Config.VIP; or Config.DefaultTimeToLive; or left out for
// JPush's default of one day), apns_production (true unless Config.APNsSandbox,
// always sent) and whatever [Options] in Request.Overrides["jpush"] sets:
// third_party_channel per phone maker (xiaomi, huawei, honor, oppo, vivo,
// meizu, fcm: distribution, channel_id, importance, category,
// classification), classification, apns_collapse_id, override_msg_id.
// An Android request whose Notification.Class is set, without an explicit
// Options.Classification, gets classification 0 (marketing) or 1
// (service): the message class JPush passes to the phone makers'
// channels, which cap marketing messages a day.
//
// Subtitle, Category, ThreadID and MutableContent are iOS-only; Image is
// Android-only (the big-picture style) and ignored on iOS, where a picture
// needs the app's notification service extension.
//
// An iOS notification may take [MaxIOSNotificationBytes] (2000) bytes,
// counted as JPush documents it: "ios":{…} in UTF-8, its key and braces
// included. The notification and message objects together may take
// [MaxPayloadBytes] (4000) bytes of compact JSON, which is what JPush
// allows an Android notification and message. A push over a limit is
// refused before any call, naming the largest part of the caller's
// content: "notification.body", "notification.title",
// "notification.subtitle", "notification.extras" or
// "overrides.jpush.big_text".
//
// # Delivery semantics
//
// Send, Status, Cancel, MessageStatus and ValidateRemote each make one call
// (Send may fetch cids first), never retry and never sleep. JPush
// deduplicates pushes by cid, an id taken beforehand from
// GET /v3/push/cid and valid for a day: Send gives every idempotency key
// a cid and sends it with each retry of the key, so a push retried after
// an Indeterminate error is answered with its first result and shown once
// (see [Client.Send]). A failed Send's error carries the key's cid
// (provider.Error.RetryToken), which push.Service stores with the delivery
// and gives back with the next try (provider.Request.RetryToken), so that
// a retry by another process, or after a restart, sends the same cid.
// [Client.IssueRetryToken] (provider.RetryTokenIssuer) names the cid
// before the Send, so that push.Service stores it first: a retry after
// the process died in the middle of the push sends it too. A
// request without an IdempotencyKey, or any with Config.DisableCID, may
// be shown twice. /v3/push sends at
// once: a StartTime in the future is refused ("start_time"), one already
// past is ignored.
//
// Receipts are pollable: [Client.Status] maps the counts of
// GET /v3/received/detail to a state (see its documentation: JPush has no
// final state and reports no count of the devices targeted, so done means
// "the time to live is over"; until then the counts of what was sent and
// received grow). [Client.Statuses] asks about up to [MaxReceivedIDs]
// messages in one call (provider.BatchStatusQuerier), and push.Service
// polls through it. Capabilities.Polling asks callers to poll every [PollInterval]
// for [PollHorizon] after the send, and Capabilities.MaxTimeToLive tells
// them the time past which JPush keeps nothing: three days, or ten with
// Config.VIP.
//
// # Errors
//
// New's configuration errors wrap a *provider.FieldError naming the
// field. Every error of a call is a *provider.Error with Provider "jpush" and Op "validate",
// "send", "validate_remote", "status", "message_status" or "cancel"; Code
// and Message are JPush's error.code (a number or a string on the wire) and
// error.message. A body carrying an error is a failure even when it also
// carries a msg_id. One table maps codes to kinds:
//
//	1000, 1030          Temporary (JPush internal error, internal timeout)
//	1001, 1002, 1005,   InvalidRequest (method, missing parameter, too long,
//	1020                HTTPS only)
//	1003                InvalidToken when the message blames the
//	                    registration_id (the id it names, a whole word
//	                    of "The registration_id … is invalid!", in
//	                    Failures), InvalidRequest otherwise
//	1004, 1008          Auth (Basic auth, app key)
//	1011                InvalidToken for an audience of registration ids,
//	                    every one named in Failures (JPush answers 1011 only
//	                    when it knows none of them); InvalidRequest for any
//	                    other audience, which then matched no device
//	1012                QuotaExceeded (a phone maker's quota is spent, with
//	                    distribution ospush: the maker's channel only)
//	2002                RateLimited, RetryAfter from X-Rate-Limit-Reset
//	2003, 2004, 2006,   Auth (app restricted, no permission, paid feature,
//	2007                API forbidden)
//	2005                QuotaExceeded (send volume over the allowed range)
//
// Codes the table does not list are judged by the HTTP status: 429
// RateLimited (always, whatever the code), 401/403 Auth, 5xx Temporary,
// 400/404/405/413 InvalidRequest, an unreadable 2xx Indeterminate. Rate
// headers are read under both names in use ([ParseRateLimit]). Transport
// errors before the request was written in full are Temporary, after it
// Indeterminate; a ctx already done is Temporary without a call.
//
// Bad input is found before any network call and is InvalidRequest wrapping
// a *provider.FieldError that names the field by its Request path.
//
// The master secret never appears in errors, logs, receipts or the
// formatting of a Client or Config.
//
// # Testing
//
// Point Config.BaseURL at package jpushtest, a strict fake of the JPush
// APIs (ReportBaseURL follows it; jpushtest's ClientConfig sets both). Config.Now fixes the clock; this package's
// own tests compare request bodies with golden files under testdata/,
// rewritten by go test ./jpush -update.
package jpush
