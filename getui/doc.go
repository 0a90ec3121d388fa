// Package getui is a client for Getui's RestAPI v2 (个推推送) behind the
// vendor-neutral provider contract.
//
// # Overview
//
// [New] builds a [Client] from a [Config] holding the app's AppID, AppKey
// and MasterSecret, the last wrapped by [NewSecret] so that no printer, not
// even fmt's reflection on a verb it cannot apply, shows it. Getui runs one app for every platform, so one Client
// serves iOS and Android. The Client implements provider.Provider,
// provider.Validator ([Client.Validate] checks a request without sending
// it or authenticating), provider.StatusQuerier ([Client.Status], from the
// task report's counts) and provider.Canceler ([Client.Cancel], which stops
// a task).
//
// Every path is BaseURL/{appId}/…, BaseURL defaulting to
// https://restapi.getui.com/v2.
//
// # Authentication
//
// Calls carry the header "token", which POST /auth issues for
// {sign, timestamp, appkey}: sign is the lowercase hex SHA-256 of appkey,
// timestamp (milliseconds, as sent) and master secret ([Sign]); the answer
// is {token, expire_time (milliseconds)}. The token is cached and shared by
// every goroutine of the Client: goroutines that find no usable token join
// the one auth call in flight, so N concurrent first sends make one auth
// call. A token is replaced Config.TokenRefreshAhead (default ten minutes)
// before its expire_time; when that refresh fails, the old token serves
// until it expires. The auth call runs on its own clock
// (Config.Timeout), so a caller that gives up while waiting does not fail
// the others; it gets a Temporary error.
//
// When Getui answers 10001 (token expired or invalid), the Client drops the
// token, authenticates again and repeats the call once; a second 10001 is
// an Auth error. Auth is limited by Getui to 100 calls a minute; its
// refusal 10003 is RateLimited. Any other refusal of /auth is Auth (the
// auth call carries nothing of the caller's request), and a lost auth
// answer is Temporary (auth delivers nothing).
//
// Code 301 means the app lives on another host: the Client switches, for
// the rest of its life, to data.host_list[0].domain_list[0] (https:// is
// added to a bare domain, and the current path, /v2, to a domain without
// one; see [Client.BaseURL]) and returns a Temporary error with code 301.
// It does not repeat the call itself: providers never retry, and the
// caller's retry goes to the new host.
//
// # Audiences
//
// Send picks the route from the audience:
//
//	1 cid          /push/single/cid, audience {"cid":[…]}
//	2–200 cids     /push/list/message (creates a task from the message and
//	               delivers nothing), then /push/list/cid
//	               {audience {"cid":[…]}, taskid, is_async false}
//	1 alias        /push/single/alias, audience {"alias":[…]}
//	2–200 aliases  /push/list/message, then /push/list/alias
//	broadcast      /push/tag with the one condition phone_type = platform,
//	               because a Request targets one platform; with
//	               Options.AllDevices, /push/all with audience "all"
//	filter         /push/tag: Filter is a JSON array of Getui tag conditions
//	               {"key","values","opt_type"}, Tags adds a custom_tag "or"
//	               condition, phone_type = platform is added (not with
//	               AllDevices). GroupID has no Getui counterpart and is
//	               refused ("audience.group_id").
//	file           not supported.
//
// A retry of a list push (its key's task kept by the Client, or brought
// back in Request.RetryToken) stays a list push with the task it created
// when it has fewer targets, down to one: a single push would reach again
// the devices an earlier try whose answer was lost had reached.
//
// Getui aliases have no type: Audience.AliasType is optional, accepted
// whatever it is and ignored (Capabilities.NeedsAliasType is false).
//
// The list push is used for 2–200 cids rather than /push/single/batch/cid
// because it yields one taskid for the whole send — a receipt that Status
// can poll and Cancel can stop — where a batch yields one per cid. 200 is
// the lower of the figures Getui's pages give for audience.cid (200, some
// say 1000); Capabilities reports it as MaxTokens.
//
// # Delivery semantics
//
// Each route makes one delivering call; a list push is preceded by the
// task creation, which delivers nothing, and any call may be preceded by
// the shared auth call and repeated once after a 10001. All of them
// together are bounded by the caller's ctx, each HTTP call by
// Config.Timeout. Capabilities declares it: CallsPerSend is four (auth,
// create, auth again after 10001, send) and SendTimeout four times
// Config.Timeout, which push.Service uses to bound each Send. A Send whose
// two calls are each answered 10001 makes up to seven calls; past that
// bound it is cut short and tried again as an answer lost (see
// CallsPerSend). Task
// receipts are polled every [PollInterval] for [PollHorizon]
// (Capabilities.Polling), and per-cid failures make TokenFailures true.
//
// request_id is derived from Request.IdempotencyKey ([RequestID], 32 hex
// digits) on single, tag and broadcast pushes: Getui drops a repeated
// request_id, so a send retried after an Indeterminate error is not shown
// twice. Whether Getui then repeats its first answer or refuses the
// request_id as used is unconfirmed; Send takes either as the push sent
// (see the 20001 entry below). A list push's task creation gets a random request_id instead; a
// retry reuses the key's task and repeats only the delivering call (see
// [Client.Send]): the Client keeps the task in memory, and a failed
// Send's error carries it (provider.Error.RetryToken), which push.Service
// stores with the delivery and gives back with the next try, in whatever
// process that runs. [Client.IssueRetryToken] (provider.RetryTokenIssuer)
// creates the task before the Send, so that push.Service stores its token
// first: a retry after the process died in the middle of the push
// delivers the same task. A send without a key gets a random request_id
// and cannot be deduplicated.
//
// settings.ttl is the time until ExpireTime in milliseconds, rounded up and
// clamped to [MaxTimeToLive] (three days); or Config.DefaultTimeToLive;
// or left out for Getui's default. A future StartTime becomes
// settings.schedule_time on tag and broadcast pushes and is refused on the
// others ("start_time"), as is one more than [MaxScheduleAhead] (7 days)
// ahead; one already past is ignored.
//
// # Payloads
//
// Android: a visible push is push_message.notification {title (≤50
// characters, required), body (≤256, required; both counted in UTF-16
// units, an emoji two: see MaxTitleRunes), click_type, intent, url,
// payload, channel_id} plus the same notification for the phone makers'
// channels in push_channel.android.ups, with Options.UpsOptions as
// ups.options. Notification.Class adds vivo's "/classification" (0
// marketing, 1 service) and Huawei's
// "/message/android/notification/importance" ("LOW", "NORMAL") to those
// options, unless UpsOptions sets them. Extras become the click payload (click_type payload, a JSON
// object); another click type with extras is refused. A Silent push is a
// transmission (push_message.transmission and ups.transmission), a JSON
// object of title, subtitle, body and extras, at most 3072 bytes.
//
// iOS: push_channel.ios {type "notify", aps {alert {title, subtitle, body},
// sound, content-available, category, thread-id}, auto_badge (Badge, or
// Options.AutoBadge), payload (extras as a JSON object), apns-collapse-id}
// carries the notification through APNs; push_message.transmission carries
// the same content through Getui's connection while the app runs. A Silent
// push has no alert and content-available 1. MutableContent is not sent
// (Getui sets it for its multimedia field, which is not wrapped); Image and
// Sound are not sent on Android.
//
// # Results
//
// Single and list pushes answer data {taskid: {cid: status}}. Statuses
// "successed_online" and "successed_offline" are successes; any other is
// reported in Receipt.Failures for that cid: InvalidToken for
// "successed_ignore" (the device has not been active for 90 days, and
// nothing was sent to it) and for a status that says the target is
// invalid or unknown, Unknown otherwise. The receipt ID is the taskid.
//
// # Errors
//
// New's configuration errors wrap a *provider.FieldError naming the
// field. Every error of a call is a *provider.Error with Provider "getui" and Op
// "validate", "auth", "send", "status" or "cancel"; Code and Message are
// Getui's code and msg. One table maps codes to kinds:
//
//	1      Unknown (Getui's generic failure; retried, spending attempts)
//	2      Temporary (the service is starting)
//	301    Temporary, after switching host (see Authentication)
//	10001  token expired: a new token and one repeat, then Auth
//	10002  Auth (blacklisted)
//	10003  RateLimited (auth rate, 100 a minute)
//	10005  RateLimited (call rate)
//	10004  Auth (no permission to query message details)
//	20001  InvalidToken for a send by cid (one, or a list's cids) whose
//	       msg blames the target ("target user is invalid": the Service
//	       halves a list to find the cid); no error at all for a single,
//	       tag or broadcast push whose msg names its request_id as used
//	       or repeated ("request_id重复"): that request_id came from the
//	       Request's IdempotencyKey, so an earlier try of the push reached
//	       Getui, and Send returns a receipt without ID, not pollable
//	       (final as accepted), whose Raw is the refusal; InvalidRequest
//	       otherwise
//	22001, 22002, 23001  InvalidRequest (a task already run or invalid,
//	       a tag operation refused)
//	30000–30019  the plan's limits, with HTTP 403: a day's total spent
//	       (30004, 30006–30011: /push/all and /push/tag 100 a day, list
//	       pushes 2,000,000) QuotaExceeded; a minute's rate (30012–30015,
//	       30018: /push/all and /push/tag 5 a minute) RateLimited; 30019
//	       (busy) Temporary; 30005, 30016 (tags) InvalidRequest; an API the
//	       plan lacks (30000–30003, 30017) Auth
//
// Codes the table does not list are judged by the HTTP status: 429
// RateLimited, 401/403 Auth, 5xx Temporary, 400/404/405/413
// InvalidRequest, an unknown code with 2xx Unknown, an unreadable 2xx
// Indeterminate. Transport errors before the request was written in full
// are Temporary, after it Indeterminate; a ctx already done is Temporary
// without a call. Getui sends no Retry-After, so RetryAfter stays 0.
//
// Bad input is found before any network call and is InvalidRequest
// wrapping a *provider.FieldError naming the field by its Request path.
//
// The master secret, the sign and the token never appear in errors, logs,
// receipts or the formatting of a Client or Config.
//
// # Receipts
//
// Getui posts receipts to the callback URL set in its console: text, one
// JSON receipt a line, each signed with the MD5 of appid, cid, taskid,
// msgid and the master secret ([ReceiptSign]). [ReceiptHandler] checks
// each line alone and hands the arrivals and clicks of successful pushes
// to a callback as provider.Reports (MsgID the taskid, Token the cid):
// wire it to push.Service.RecordReport. receipt.go lists the actions
// counted.
//
// # Testing
//
// Point Config.BaseURL at package getuitest, a strict fake of the RestAPI
// (its ClientConfig gives the whole Config; the BaseURL includes /v2).
// Config.Now fixes the clock; this package's tests compare request bodies
// with golden files under testdata/, rewritten by go test ./getui -update.
package getui
