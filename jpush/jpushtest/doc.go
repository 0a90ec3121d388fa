// Package jpushtest is a fake JPush service (Push API v3 and the Report
// API) for tests, in the shape of net/http/httptest. It knows JPush's wire
// protocol, not this module's client, so a client that passes against it
// speaks the protocol rather than agreeing with itself.
//
// # Overview
//
//	srv := jpushtest.NewServer(t, jpushtest.Config{Now: clock.Now})
//	c, err := jpush.New(srv.ClientConfig()) // srv.URL for both APIs, the demo app
//	// push to jpushtest.RegistrationID("phone") …
//	require.Equal(t, 1, srv.DeliveryCount(jpushtest.RegistrationID("phone")))
//
// NewServer starts the fake on a loopback port and closes it when the test
// ends. New returns an unstarted *Server to Start or to mount through
// Handler. Close waits for in-flight requests. DefaultApps supplies a demo
// app with a fake key and secret; RegistrationID makes well-formed ids.
//
// # Wire behaviour
//
// The fake serves, with HTTP Basic authentication appKey:masterSecret:
//
//	POST   /v3/push              push
//	POST   /v3/push/validate     the same checks, nothing delivered; msg_id "0"
//	DELETE /v3/push/{msg_id}     withdraw
//	GET    /v3/received/detail   delivery counts, ?msg_ids=a,b (at most 100)
//	POST   /v3/status/message    per-registration-id status
//	GET    /v3/push/cid          cids that deduplicate pushes, ?count=n&type=push
//
// Errors are {"error":{"code":N,"message":"…"}} with the HTTP status JPush
// uses: 400 unless listed. Codes marked * are invented: JPush documents no
// code for the rule, or none we could confirm.
//
//	1404* (404)  unknown path
//	1001  (405)  wrong method for the path
//	1004  (401)  Authorization absent, not Basic, undecodable, unknown app key
//	             or wrong master secret
//	1008         app key not 24 lowercase hex digits
//	2002  (429)  more pushes than Config.RateLimit per Config.RateWindow
//	             (push and validate count alike), with the rate headers
//
// A push (and a validate) is then checked in this order:
//
//	1003* body not a JSON object
//	1002  platform absent        1003 platform not "all" nor an array of
//	                                  android/ios/quickapp/hmos without repeats
//	1002  audience absent        1003 audience not "all" nor a non-empty
//	      object of registration_id (≤1000), alias (≤1000), tag, tag_and,
//	      tag_not (≤20 each), segment (1*): non-empty arrays of non-empty
//	      strings; tag_not alone*; an unknown audience type
//	1003  a registration_id that is not 11–64 characters of [0-9a-zA-Z]*
//	      (message "The registration_id … is invalid!", as JPush words it; off with
//	      Config.AcceptAnyRegistrationID)
//	1002* neither notification nor message
//	1003  notification not an object, an unknown member; notification.alert
//	      not a string
//	1002  notification.android without alert (and no notification.alert)
//	1003  android alert not a non-empty string; title, channel_id, category,
//	      big_text, big_pic_path, large_icon, sound not strings; builder_id
//	      not an integer ≥ 0; priority outside -2..2; style outside 0..3;
//	      alert_type outside -1..7; badge_add_num outside 1..99; style 1
//	      without big_text, 2 without inbox, 3 without big_pic_path; intent
//	      without a url; extras not an object or with an empty key
//	1002  notification.ios without alert (and no notification.alert)
//	1003  ios alert neither a string nor an object of strings; sound neither
//	      a string nor an object; badge neither an integer 0..99999 nor a
//	      string like "+1"; content-available or mutable-content not a JSON
//	      boolean; category, thread-id not strings; an unknown
//	      interruption-level; extras as on Android
//	1002  message without msg_content  1003 msg_content empty or not a
//	      string; title, content_type not strings; extras as above
//	1005  "ios":{…} of notification.ios over 2000 bytes (compact JSON, its
//	      key and braces counted); compact JSON of notification plus message
//	      over 4000 bytes
//	1003  options not an object, or an unknown option; sendno not an integer
//	      in [0, 2³¹-1]; time_to_live not an integer in [0, 864000] (ten
//	      days); override_msg_id not a positive integer; apns_production not
//	      a boolean; apns_collapse_id not a string of ≤64 bytes;
//	      classification not 0 or 1; big_push_duration outside 0..1400;
//	      third_party_channel not an object of xiaomi, huawei, honor, oppo,
//	      vivo, meizu, fcm, nio, asus, hmos objects whose distribution is
//	      jpush, ospush, first_ospush or secondary_push, distribution_fcm
//	      jpush, fcm, pns, secondary_fcm_push or secondary_pns_push,
//	      importance LOW, NORMAL or HIGH, classification 0 or 1, skip_quota
//	      a boolean, notify_level 1, 2 or 16 with a category, channel_id and
//	      category strings
//	1003* a top-level field other than platform, audience, notification,
//	      message, options, cid and the JPush fields the fake accepts
//	      unchecked (notification_3rd, inapp_message, sms_message, callback)
//	1003* a cid that is not a string, was not issued to the app by
//	      GET /v3/push/cid, or was issued more than CIDLifetime (a day) ago
//
// Then, against the server's state: 1011 "cannot find user by this
// audience" when a registration_id audience holds only ids marked with
// MarkInvalid, or when any other audience ("all", aliases, tags, segments,
// intersected as JPush intersects audience types) matches no device
// registered with AddDevice for the push's platforms. A registration_id
// audience with some dead ids is accepted and the dead ones receive nothing.
// With Config.KnownDevicesOnly an id no device was added with is dead too.
//
// # Deduplication by cid
//
// GET /v3/push/cid answers {"cidlist": [...]}: count cids (default 1, at
// most 10, JPush's limit without a VIP plan; a larger count gets 10) of
// the form {appkey}-{uuid}; type is push (the default) or schedule. A push
// whose cid made an accepted push before answers that push's sendno and
// msg_id again and sends nothing (Request.Duplicate), as JPush documents;
// CIDsIssued counts the cids issued. The cid is checked after the body,
// the audience (1011) and the rate (2002), and before anything is sent;
// JPush's own order is unconfirmed*.
//
// An accepted push answers 200 {"sendno":"N","msg_id":"M"} with strings, or
// with JSON numbers when Config.NumericMsgID or a Fault's NumericMsgID asks.
// msg_ids are ten-digit decimal numbers.
//
// # Reports and withdraw
//
// /v3/received/detail lists, for each known msg_id of the app, the fields
// of JPush's documented answer: jpush_received (Android devices reached
// over JPush's own connection), android_pns_sent and android_pns_received
// (0: the fake reaches every Android device itself), ios_apns_sent and
// ios_apns_received (iOS notifications), ios_msg_received (iOS messages),
// null for counts that do not apply, and null for the channels the fake
// does not model. Like JPush's, the answer has no count of the devices
// targeted. Unknown msg_ids are left out* (JPush's behaviour for them is
// unconfirmed); a msg_id that is not digits is 1003. A device's platform
// is its registration's, or the push's first platform.
//
// /v3/status/message takes {"msg_id": integer, "registration_ids": [1–1000],
// "date": "yyyy-mm-dd"} and answers {rid: {"status": s}}: 0 delivered, 1
// targeted but not delivered (marked invalid), 2 not a well-formed id of
// the app, 3 not a target. JPush looks the message up on date, today in
// Beijing time (by Config.Now) when it is left out: a message sent on
// another day, like an unknown msg_id, is 1003*. A date that is not a day
// is 1003.
//
// Withdraw answers 200 {} and marks the message withdrawn (see Withdrawn);
// an unknown msg_id, one already withdrawn or one past its time to live is
// 1003* (the codes JPush uses for these are unconfirmed).
//
// # Faults
//
// FailNext fails the next n requests (optionally of one API) with an HTTP
// status, a JPush code (with the status JPush pairs it with: 1000 500, 1004
// 401, 1030 503, 2002 429, 2003–2007 403), an error body that also carries a
// msg_id (WithMsgID), rate-limit headers of either family with a reset
// (Reset, Headers), a numeric msg_id on success, a delay or a dropped
// connection (Timeout); AfterAccept lets the request take effect first.
// FailRate injects faults at random from a fixed seed; SetLatency slows
// every request; Stall holds every request before it changes anything until
// released, and WaitStalled tells a test its request arrived.
//
// # Recording
//
// Requests returns every request with its raw body and parsed fields;
// Pushes the accepted pushes; Deliveries and DeliveryCount what devices
// received; Arrived counts requests per API on arrival. Everything returned
// is a copy; Reset forgets requests and deliveries. A server that runs for
// long, such as a demo server's, sets Config.Keep to remember only the
// newest requests and deliveries.
//
// # Errors
//
// Go methods return errors wrapping ErrInvalidConfig, ErrInvalidArgument or
// ErrClosed. Secrets never appear in answers, errors or logs.
package jpushtest
