// Package push delivers mobile push notifications through Chinese vendor
// push services (Umeng, JPush and Getui) and keeps every push
// accounted for.
//
// # Overview
//
// The library implements a product brief (the requirements of a Chinese
// backend's push service) whose tables it keeps: sys_users (optional),
// sys_devices, sys_user_devices, sys_push_messages and sys_message_center,
// plus additive tables of its own (sys_push_deliveries, the deliveries of a
// push). It serves the product brief's four HTTP endpoints (POST
// /api/v1.1/app/device, POST /api/v1.1/user/push_message, GET
// /api/v1.1/query/push_message, POST /api/v1.1/user/logout), and the
// per-platform columns of sys_push_messages (ios_status, android_ret, …)
// answer the product brief's two ops queries.
//
// A [Service] registers devices and the vendor token each got from its SDK,
// links users (by user_num) to devices with one active user per device,
// pushes to users through pluggable providers (package provider; Umeng in
// package umeng, JPush in package jpush, Getui in package getui), and records every push in sys_push_messages with one
// delivery row per vendor call. A [Handler] serves the product brief's four HTTP
// endpoints on any router. Package messagecenter's Scanner delivers the
// notifications other programs queue in sys_message_center and finishes
// whatever a push left undone.
//
//	store, _ := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectMySQL})
//	_ = store.Migrate(ctx)
//	um, _ := umeng.New(umeng.Config{IOS: iosApp, Android: androidApp})
//	svc, _ := push.New(push.Config{Store: store, Providers: []provider.Provider{um}})
//	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1001"}, Title: "到货提醒", Content: "您关注的商品已到货"})
//
// # HTTP handlers
//
// [NewHandler] serves the product brief's four endpoints, taking parameters from a
// JSON or form body (or the query, for the GET) and answering JSON; every
// error, including an unknown path (404, "not_found"), is
// {"error":{"code":"...","message":"..."}}. Two hooks guard it:
// [HandlerConfig].Authenticate runs first for every request, before the
// method check and before the body is read, so a request without valid
// credentials is 401 whatever it holds; [HandlerConfig].Authorize runs
// after the parameters are checked, with the trimmed user_num the Service
// stores or pushes to, for per-user decisions (403).
//
// Beside the brief's endpoints it serves two listings: GET
// /api/v1.1/user/devices?user_num= ([Service.ListDevices]: a user's
// devices, token state and masked token) and GET
// /api/v1.1/query/push_messages ([Service.ListPushMessages]: a user's
// pushes, newest first, by time range and status, paged by a cursor).
// [HandlerConfig].Identify maps a request to its caller's user_num; every
// endpoint then acts for that user only.
//
// POST /api/v1.1/user/push_message takes an idempotency key (the
// Idempotency-Key header or the idempotency_key parameter): a retry with
// the same key and request answers the first push ("duplicate": true) and
// sends nothing; the same key with another request is 409. See
// [Handler.PushMessage] for the scope of a key and how it is stored.
//
// # Delivery semantics
//
// Push writes the push message and its deliveries before any vendor call
// (an outbox), each delivery claimed by the caller with a lease. Every
// vendor answer is recorded under that claim. If the process dies between
// the commit and the answer, the lease runs out and the Scanner sends the
// delivery again with the same idempotency key, which vendors that can
// deduplicate (Umeng out_biz_no on task casts) use to show it once. The
// guarantee is at-least-once, deduplicated where the vendor allows.
//
// Vendor errors drive what happens next (see provider.Kind): an invalid
// token disables that device's token until it registers again; temporary
// and indeterminate failures are retried with exponential backoff and
// jitter; rate and quota refusals are retried without spending an attempt,
// no sooner than the vendor's Retry-After — this includes a provider's own
// quota (provider.Quota: Umeng's broadcast 10 a day and so on), which
// refuses before any vendor call, and such a refusal whose next try would
// come after the push's expiry fails it as expired; invalid requests and
// credential errors fail at once; exhausted attempts fail and stay
// recorded for operators. A batch refused for an invalid token is split:
// the tokens the vendor named are disabled and the rest sent again, or,
// when it named none, the batch is halved until the dead token is alone.
// A batch whose parts no store can keep (rows another program wrote: a key
// or tokens that cannot be stored, a part's key held by another delivery)
// fails at once with that reason, rather than being sent again at every
// lease's end; a delivery whose platform is neither ios nor android fails
// without a call.
//
// The Service follows what each provider declares in its
// provider.Capabilities rather than one rule for all vendors: how long a
// Send may take (its calls and timeout), how often and how long its
// receipts are polled, and the longest it keeps a push (the expiry sent to
// it is clamped to that from the moment of each send). See
// docs/providers-contract.md.
//
// Vendor answers and errors are scrubbed before they are stored, logged or
// returned: every credential a configured provider can redact
// (provider.Redactor) and every full device token of the delivery (shown
// as provider.MaskToken) are removed, so a vendor that echoes a secret of
// another app or a token leaks neither.
//
// # Errors
//
// Bad input returns a *[FieldError] naming the product brief's parameter
// (errors.Is(err, [ErrInvalid])) and changes nothing. [ErrNoDevices] means
// no user had a pushable device. Store errors wrap registry.ErrNotFound,
// registry.ErrNotOwner and friends. Vendor failures are reported per
// delivery in [Result], not as the error of Push. A [Service] or
// [Handler] used without New or NewHandler (a zero value, or nil) fails
// every call with an error matching [ErrNotBuilt] (a Handler answers
// 500) rather than panicking.
//
// # Testing
//
// Packages umeng/umengtest, jpush/jpushtest and getui/getuitest run fake
// Umeng, JPush and Getui servers for tests; provider/providertest has an
// in-memory Mock provider; registry/memstore is an in-memory store.
package push
