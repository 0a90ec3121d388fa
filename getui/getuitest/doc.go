// Package getuitest is a fake Getui RestAPI v2 for tests, in the shape of
// net/http/httptest. It knows Getui's wire protocol, not this module's
// client, so a client that passes against it speaks the protocol rather
// than agreeing with itself.
//
// # Overview
//
//	srv := getuitest.NewServer(t, getuitest.Config{Now: clock.Now})
//	c, err := getui.New(srv.ClientConfig()) // BaseURL srv.BaseURL(), the demo app
//	// push to getuitest.CID("phone") …
//	require.Equal(t, 1, srv.DeliveryCount(getuitest.CID("phone")))
//
// NewServer starts the fake on a loopback port and closes it when the test
// ends. New returns an unstarted *Server to Start or to mount through
// Handler. Close waits for in-flight requests. DefaultApps supplies a demo
// app with fake credentials; CID makes well-formed cids.
//
// # Wire behaviour
//
// Every API lives at URL + BasePath ("/v2") + "/{appId}" + path:
//
//	POST   /auth                     {sign, timestamp, appkey} → {token, expire_time}
//	POST   /push/single/cid          one cid
//	POST   /push/single/alias        one alias
//	POST   /push/single/batch/cid    {is_async, msg_list: 1–200 single pushes}
//	POST   /push/list/message        creates a list task → {taskid}
//	POST   /push/list/cid            {audience {cid: 1–200}, taskid, is_async}
//	POST   /push/list/alias          {audience {alias: 1–200}, taskid, is_async}
//	POST   /push/all                 audience "all"
//	POST   /push/tag                 audience {tag: [{key, values, opt_type}]}
//	GET    /report/push/task/{taskid}
//	DELETE /task/{taskid}            stop a task
//
// Every answer is the envelope {"code":N,"msg":"…","data":…}, data left
// out when there is none. Codes marked * are invented (Getui documents no
// code for the rule, or none we could confirm). The HTTP statuses the fake
// pairs with codes: 10001, 10002, 10003 and 10005 401 (Getui's error-code
// page gives 401 for 10001–10005); 20001 400*, 404* 404, 405* 405,
// 30000–30019 403, everything else 200*.
//
//	404*   unknown path (any base path before MoveHost)
//	405*   wrong method for the path
//	301    after MoveHost, a request under another base path; data
//	       {"host_list":[{"domain_list":[URL + the new base path]}]}
//	20001  unknown appId*
//
// /auth is checked in this order: 10003 when the app made AuthRateLimit
// auth calls in the last minute (100 by default); 20001* for a body that is
// not an object of sign, timestamp and appkey, a timestamp that is not 13
// digits (string or number) or lies more than TimestampWindow (10 minutes*)
// from the server's clock, a wrong appkey, or a sign other than the
// lowercase hex SHA-256 of appkey + timestamp (as sent) + master secret.
// The answer is {token, expire_time}: expire_time is Now + TokenLifetime
// (one day) in milliseconds, as a string.
//
// Every other call needs the header token: missing, unknown, expired,
// another app's or cleared by ExpireTokens is 10001. Then 10005 when
// CallRateLimit is set and the app made that many calls in the last minute.
//
// A PushDTO (single, batch entries, list message, all, tag) is then checked;
// every refusal is 20001:
//
//	body not a JSON object; a top-level field other than request_id,
//	settings, audience, push_message, push_channel, group_name*
//	request_id not 10–32 characters
//	settings: unknown member*; ttl not an integer, -1 or 1..259200000 (three
//	days); strategy not an object of 1–4; schedule_time not an integer
//	in the future and within 7 days, or on a path other than /push/all
//	and /push/tag*
//	audience: /push/list/message takes none*; single cid exactly one cid of
//	32 lowercase hex digits (off with AcceptAnyCID); single alias exactly
//	one alias; all "all"; tag a non-empty array of {key, values (1–1000
//	non-empty strings), opt_type or|and|not}
//	push_message: exactly one of notification, transmission, revoke;
//	notification members strings, title 1–50 and body 1–256 characters
//	(UTF-16 units, as Java counts them: an emoji two),
//	click_type intent|url|payload|startapp|none with its intent (intent:…,
//	≤4096 bytes), url (http(s), ≤1024) or payload (≤3072) present;
//	transmission 1–3072 bytes; unknown members*
//	push_channel: ios {type notify|voip, aps {alert object of strings with
//	a title or a body, content-available 0|1, sound, category, thread-id},
//	auto_badge, payload (≤3072), apns-collapse-id (≤64), multimedia}, aps
//	needing an alert or content-available 1; android {ups {exactly one of
//	notification (as above), transmission, revoke; options {maker: {key:
//	string|number|boolean}} for makers ALL, HW, XM, HO, OP, VV, MZ, UPS, ST,
//	FCM}}; unknown members*
//
// # Delivery
//
// A single push to a cid marked with MarkInvalid is refused with 20001
// "target user is invalid"; a single alias push to an alias no device of
// AddDevice holds is refused the same way*. Otherwise the answer is
// {taskid: {cid: status}}, status "successed_online" for devices added
// with AddDevice, "successed_offline" for other well-formed cids,
// "successed_ignore" for cids marked with MarkInactive (inactive for 90
// days), and (list and batch pushes) "target user is invalid" for cids
// marked invalid; the last two receive nothing. With
// Config.KnownDevicesOnly a cid no device was added with is invalid too.
//
// /push/list/message answers {taskid} and delivers nothing; /push/list/cid
// and /push/list/alias deliver the task's message to their audience and
// answer per cid; a taskid that is not a list task of the app, or one
// stopped, is 20001*. /push/all and /push/tag answer {taskid} and deliver
// at once (a schedule_time is checked, not waited for*) to the devices of
// AddDevice they match: phone_type against the device's platform,
// custom_tag against its tags; other keys match nothing*. An app's pushes
// to all and to a tag together beyond TaskDailyLimit a day (100 by
// default; the day is China Standard Time's) are refused with 30007
// (/push/all) or 30010 (/push/tag), HTTP 403, and, when TaskMinuteLimit
// is set, beyond it in any 60 seconds with 30014, HTTP 403; a repeated
// request_id is not counted again.
//
// Taskids start RASS_ (single pushes), RASL_ (list tasks) or RASA_ (all and
// tag tasks), then the date (MMdd) and 24 hex digits.
//
// # Deduplication
//
// A request_id the app used before is not delivered again: the fake
// answers its first answer again (what Getui answers is unconfirmed*), or
// with Config.DropRepeatedRequestID refuses it with 20001*, and records the
// request as Duplicate. A list task delivers to each cid once,
// however often its cids are sent. A list push that names a cid or an
// alias twice is refused whole with 20001 "contains duplicate cid" (or
// alias), as Getui's code table says.
//
// # Reports and stop
//
// GET /report/push/task/{taskid} answers
// {taskid: {"total": {msg_num, target_num, receive_num, display_num,
// click_num}}}: msg_num the task's targets (deliverable), target_num its
// successful deliveries (dispatched), receive_num those to devices added
// with AddDevice (online: an offline device has received nothing yet), 0
// displays and clicks; or what SetReport set. DELETE /task/{taskid} stops a list, all or tag
// task (see Stopped). For a single push's taskid, an unknown one, or
// (stop) one already stopped the answer is 20001*.
//
// # Faults
//
// FailNext fails the next n requests (optionally of one API) with an HTTP
// status, a Getui code (with its status, and for 301 a host list naming
// the current base URL), a delay or a dropped connection (Timeout);
// AfterAccept lets the request take effect first. FailRate injects faults
// at random from a fixed seed; SetLatency slows every request; Stall holds
// requests (all, or those of the APIs named) before they change anything
// until released, and WaitStalled tells a test its request arrived.
// ExpireTokens and MoveHost drive a client's token refresh and host switch.
//
// # Recording
//
// Requests returns every request with its raw body and parsed fields;
// Deliveries and DeliveryCount what devices received; Arrived counts
// requests per API on arrival, DeliveringCalls those of the delivering
// APIs. Everything returned is a copy; Reset forgets requests,
// deliveries and receipt posts. A server that runs for long, such as a
// demo server's, sets Config.Keep to remember only the newest of them.
//
// # Receipts
//
// PostReceipts posts Getui's receipt callback to a URL (the one an app
// sets in Getui's console): one line per delivery since the last post,
// code "200" and actionId ActionArrived, signed as Getui signs them
// (getui.ReceiptSign). Receipt posts one receipt of any action (such as
// ActionClicked) for each delivery to a cid. ReceiptPosts returns the
// posts made, with the status each was answered.
//
// # Errors
//
// Go methods return errors wrapping ErrInvalidConfig, ErrInvalidArgument
// or ErrClosed. Secrets, signs and tokens never appear in logs.
package getuitest
