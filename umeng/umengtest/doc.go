// Package umengtest is a fake Umeng U-Push server for tests, in the shape of
// net/http/httptest. It is independent of this module's Umeng client on
// purpose: it knows the vendor's wire protocol, not our code, so a client
// that passes against it speaks the protocol rather than agreeing with
// itself. Host applications use it in their own tests and demos.
//
// # Overview
//
// In a test, start a server, point the Umeng client under test at srv.URL
// instead of https://msgapi.umeng.com, give it an app of the server's
// Config, push, and assert on what the fake saw:
//
//	srv := umengtest.NewServer(t, umengtest.Config{Now: clock.Now})
//	app := umengtest.DefaultApps()[1] // Android: AppKey, AppMasterSecret
//	// ... the code under test pushes to umengtest.AndroidToken("phone") ...
//	require.Equal(t, 1, srv.DeliveryCount(umengtest.AndroidToken("phone")))
//
// NewServer starts the fake on a loopback port and closes it when the test
// ends; a bad Config fails the test. Outside a test, New returns an
// unstarted *Server (or an error naming the bad Config field) to Start or to
// mount through Handler on a listener of the program's own, as the demo
// server does (its client's config is then ClientConfigAt the URL of that
// listener). Close waits for in-flight requests, like httptest.Server.
//
// A Config needs no fields: DefaultApps supplies one iOS and one Android
// demo app with fake keys and secrets. AndroidToken and IOSToken make
// well-formed device tokens.
//
// # Wire behaviour
//
// The fake serves POST /api/send, /api/status, /api/cancel and /upload with
// JSON bodies; any other path is answered with HTTP 404 and the JSON error
// 2056* naming the path, so a client with a wrong BaseURL prefix sees an
// error in the service's shape. Every request is checked in this order, the first failure
// answered with HTTP 400 and {"ret":"FAIL","data":{"error_code":"NNNN",
// "error_msg":"..."}}, the message naming the field. Codes marked * are
// invented: the real service documents none for the rule (or none we could
// confirm), so the fake picks one in the 1xxx or 2xxx range, which clients
// treat as a request error.
//
//	2008  body is not a JSON object
//	1000  appkey absent, empty or not a string
//	2021  appkey unknown
//	2007  no ?sign=
//	2027  sign ≠ lowercase hex md5("POST" + scheme://Host/path + raw body +
//	      App Master Secret); scheme is https only over TLS, Host is the Host
//	      header, path is the path of the request line (so http.StripPrefix
//	      mounts check what the client called); any altered byte fails
//	2052  timestamp absent or empty
//	2036  timestamp not 10 (seconds) or 13 (milliseconds) digits, as a
//	      string or as a JSON integer (the documentation shows a string,
//	      its examples and SDKs send numbers too)
//	2028  timestamp more than Config.TimestampWindow (10 minutes) from Now
//
// A send is then checked for:
//
//	1016  type absent or empty            2048  type not one of the six casts
//	1017  production_mode not the string "true" or "false" (a JSON boolean too)
//	1001  payload absent or not a JSON object (a JSON string of an object too)
//	1015  unicast/listcast without device_tokens (a comma-separated string)
//	2015  listcast over 500 tokens, or unicast with more than one
//	4020  unicast token malformed: Android 44 characters of [A-Za-z0-9_-],
//	      iOS 64 hex digits (off with Config.AcceptAnyToken)
//	2018  filecast without file_id
//	2047  customizedcast without alias_type
//	2049  customizedcast with both alias and file_id
//	2009  customizedcast with neither     2011  more than 500 aliases
//	2016  groupcast with neither a filter object nor a group_id; a group_id
//	      that is not a string. A non-empty group_id wins over a filter,
//	      which is then not read at all, as on the real service
//	2031  filter over 3000 bytes, without a "where" object, or malformed
//	2022  payload over 2048 bytes (Android) or 2012 bytes (iOS), compact JSON,
//	      the documented limits
//
// Android payloads:
//
//	1004  display_type absent (also an iOS payload sent to an Android app)
//	1019  display_type not notification or message
//	1002  body absent or not an object
//	1011, 1012, 1013  play_vibrate, play_lights, play_sound not the string
//	      "true" or "false"
//	1005  img not an http(s) URL
//	1026  extra (at payload level) not an object; also, by the fake's own
//	      rule, an object with a value that is not a string
//	1003  message without body.custom, or after_open go_custom without it
//	1009, 1010  notification without body.title, body.text
//	1021* after_open not go_app, go_url, go_activity or go_custom
//	1022  go_url without url              1007  url not http(s)
//	1024  go_activity without activity
//
// iOS payloads:
//
//	2025  aps absent or not an object (also an Android payload sent to an iOS app)
//	5002  top-level key "d" or "p" (reserved)
//	1029* a custom top-level value (any key but aps) that is not a string:
//	      the real service refuses JSON values there
//	5003  alert absent or empty unless aps.content-available is 1
//	5004  alert neither a string nor an object
//
// Optional body and aps fields (the documented types and values):
//
//	1035* Android body.big_body not a string of at most 120 characters,
//	      expand_image not http(s), re_pop not the number 0 or 1,
//	      set_badge or add_badge not an integer (any integer: the limit
//	      of 1–99 is the Huawei and Honor channels', not Umeng's)
//	1036* iOS aps.badge neither a non-negative integer nor a string "N",
//	      "+N", "-N" or ""; aps.interruption-level not passive, active,
//	      time-sensitive or critical
//	1037* mipush not the string "true" or "false" (the legacy docs' type),
//	      mi_activity not a string
//
// Receipts, classes and vendor channels:
//
//	1030* receipt_type not the string "1", "2" or "3" (the type SDK sources
//	      send; a JSON number is refused). receipt_url is not checked
//	1034* callback_params not a JSON object (the documented type)
//	1031* category not the JSON number 0 (marketing) or 1 (service)
//	1032* channel_properties not an object; a member other than
//	      oppo_private_msg_template and xiaomi_extra_properties not a
//	      string; huawei_channel_importance not LOW or NORMAL;
//	      vivo_addbadge not "true" or "false"; oppo_notify_level not "1",
//	      "2" or "16", or without oppo_category; channel_fcm or
//	      meizu_msg_type not "0" or "1"; oppo_private_msg_template not an
//	      object with a private_msg_template_id string and object
//	      parameters; xiaomi_extra_properties not an object of strings.
//	      Other keys pass as strings, as the service passes them on
//	1033* local_properties not an object of strings
//
// Request.Category, ChannelProperties, LocalProperties and CallbackParams
// record them as sent.
//
// Policies (times "yyyy-MM-dd HH:mm:ss" in Config.Location, UTC+8):
//
//	1027  policy not an object; also, by the fake's own rule, out_biz_no
//	      not a string
//	2039  start_time or expire_time in another format
//	2002  start_time not after now        2046  start_time over 7 days ahead
//	      (start_time applies to task casts only; on others it is ignored)
//	2003  expire_time not after start_time and now
//	2040  expire_time over 7 days after the send time
//	2024  max_send_num not an integer of at least 1000 (the documented
//	      minimum)
//	1027* notification_closed_filter not a boolean, apns_collapse_id not a
//	      string of at most 64 bytes, uapp_arg not a string
//
// Then, against the server's state: 5000 for a unicast to a token marked
// with MarkInvalid; 2010 for a customizedcast whose aliases match no device;
// 2019 for a file_id that is unknown, of another app or older than two
// months; 2012 for a broadcast over the daily cap of 10 and 2050 for a
// task send over the other real limits (groupcast 5 a minute, filecast and
// customizedcast by file 300 an hour), per appkey, sliding windows, off
// with Config.NoRateLimits. The limits are production limits: a send with
// production_mode "false" is neither counted nor refused.
//
// An upload is refused with 2029 when content is absent, not a string or
// holds no line, and with 2051* when it is over 10 MB: not 2023, which the
// real service uses for "upload failed, try again", because retrying an
// oversized file cannot help.
//
// Where the documentation is stricter than common clients expect, the fake
// follows the project's protocol notes: body.ticker is not required.
//
// # Ignored fields
//
// Some fields the real service takes without complaint and without effect.
// The fake accepts them too and lists them in Request.Ignored, so a test can
// catch a client that relies on them: "policy.start_time" on a unicast,
// listcast or customizedcast by alias (sent at once, not scheduled),
// "payload.extra" on an Android message (the app never receives it),
// "filter" on a groupcast that also has a group_id,
// "channel_properties.channel_activity" and
// "policy.notification_closed_filter" on an Android message (the service
// applies them to notifications), "payload.body.add_badge" next to
// set_badge (set_badge wins), "local_properties.importance" without a
// category, "mi_activity" without "mipush" "true", the Android fields
// "category", "mipush", "channel_properties",
// "local_properties" and "policy.notification_closed_filter" on iOS, and
// "policy.apns_collapse_id" on Android.
//
// # Casts, ids and deliveries
//
// A successful send answers 200 {"ret":"SUCCESS","data":{...}} with a
// 22-character id carrying the real prefix: msg_id uu… (unicast), ul…
// (listcast), ua… (customizedcast by alias); task_id um… (broadcast), us…
// (groupcast), uf… (filecast), uc… (customizedcast by file). /upload answers
// a file_id PF… of 20 characters.
//
// Unicast, listcast and filecast reach any well-formed token not marked
// invalid; broadcast, groupcast and customizedcast reach devices registered
// with AddDevice (groupcast by filter matches their tags through
// and/or/not, other filter conditions being checked for shape and matching
// everyone; groupcast by group_id reaches the devices whose Device.Groups
// hold it). Single casts deliver when accepted; task casts when their task
// is done. A listcast or filecast with invalid or malformed tokens is
// accepted and those tokens receive nothing, as on the real service. A
// Delivery records what the app receives: title and text, body.custom and
// the extras (Android payload.extra of a notification only, iOS custom
// keys). Test mode does not narrow an audience to test devices: the fake
// keeps no such list. On iOS, test mode is the APNs sandbox, for every
// cast: Request.Sandbox and Delivery.Sandbox record it.
//
// # Task lifecycle
//
// A task is queued (0), sending (1) after Config.TaskStep and done (2) after
// another, measured on Config.Now, or scheduled (7) until its start_time.
// It expires (5) if its expire_time comes first, ends empty (6) when a
// broadcast or groupcast matches no device, and AdvanceTask moves it at
// once (also to failed, 3). Tasks progress lazily whenever the server is
// observed, so an injected clock drives them with no goroutine and no
// sleeping. /api/status answers task_id, status and the counts Umeng
// documents for the task's platform: sent_count, open_count and
// dismiss_count for Android (no total_count: Umeng counts no audience
// there), total_count (devices handed to APNs), sent_count and open_count
// for iOS; a msg_id is not a task there (1014). The fake counts a device
// sent when the task is done; the real service's Android sent_count keeps
// rising until the push expires, as devices come online.
// /api/cancel sets cancelled (4) for a scheduled or queued task, or a
// sending Android one; otherwise 1028; 2053 without task_id.
//
// # Delivery semantics
//
// policy.out_biz_no deduplicates task casts per appkey: a repeat is answered
// with the original task_id, recorded with Request.Deduplicated and
// delivers nothing. On single casts out_biz_no is ignored, as on the real
// service, so a repeated unicast is delivered again. DeliveryCount and
// DeliveryCountByOutBizNo count what devices received.
//
// # Faults
//
// FailNext fails the next n requests (optionally of one path) with an HTTP
// status, a vendor code, a delay or a dropped connection (Fault.Timeout);
// Fault.AfterAccept lets the request take effect first, to test the
// "sent, answer lost" case. FailRate injects faults at random from a fixed
// seed. SetLatency slows every request. MarkInvalid kills tokens. Stall
// holds every request before it changes anything until released, and
// WaitStalled tells a test its request has arrived — the tool for crash
// tests.
//
// # Recording
//
// Requests returns every request with its raw body, sign, parsed fields and
// answer; Sends and SendsFor the accepted sends; Deliveries what devices
// received; Tasks and Task the tasks. Reset forgets requests and deliveries.
// Everything returned is a copy. A server that runs for long, such as a
// demo server's, sets Config.Keep to remember only the newest requests,
// deliveries and receipt posts.
//
// # Receipts
//
// A unicast, listcast or customizedcast by alias whose send carries a
// receipt_url has its receipts posted there, as the real service posts
// them for Umeng Pro accounts. The body is invented: Umeng documents
// receipt_url and receipt_type ("1" arrival, "2" click, "3" both, the
// default) on the send, and callback_params as handed back with every
// receipt, but we found no public description of the receipt itself nor of
// any signature on it (see the comment above umeng.ReceiptConfig). The fake
// posts one JSON object per device and event, Content-Type
// application/json, with no signature:
//
//	{"appkey":"<app key>","msg_id":"<msg_id>","device_token":"<token>",
//	 "type":"arrival"|"click"|"dismiss","ts":<unix milliseconds of Now>,
//	 "callback_params":<the send's object, when it had one>}
//
// Arrival receipts (receipt_type "1" or "3") are queued when the send is
// delivered and posted by PostReceipts, so that a test posts them once the
// code under test has recorded the msg_id the send returned (the real
// service posts them seconds later). Click and Dismiss post a click or
// dismiss receipt at once for every such send delivered to a token
// (receipt_type "2" or "3"); "dismiss" and its coupling to the click
// selection are invented too. Posts are not retried; ReceiptPosts records
// each with the status it was answered. Task casts post no receipts.
//
// # Errors
//
// Refusals on the wire carry the Code… constants. Go methods return errors
// wrapping ErrInvalidConfig, ErrInvalidArgument, ErrUnknownApp,
// ErrUnknownTask, ErrBadTransition or ErrClosed, naming the offending
// argument; a refused call changes nothing. Secrets and expected signs never
// appear in answers, errors or logs.
//
// # Testing
//
// All methods are safe for concurrent use; the package's own tests run
// under -race, drive time with an injected clock, and include the
// acceptance test that a body altered by one byte is refused with 2027.
package umengtest
