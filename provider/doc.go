// Package provider defines the contract between push and a vendor push
// service (Umeng, JPush, Getui, …).
//
// # Overview
//
// A vendor package implements [Provider]: it turns a [Request] into exactly
// one call to the vendor and reports what the vendor said as a [Receipt] or an
// [*Error]. Optional capabilities are separate interfaces discovered by type
// assertion, in the manner of database/sql/driver: [StatusQuerier] polls a
// task ([BatchStatusQuerier] many in one call), [Canceler] cancels one,
// [Validator] checks a request without
// sending it, so that a caller can refuse what the vendor would refuse
// before it stores anything.
//
// The package holds no vendor code and no state.
//
// # Contract for implementations
//
//   - Send makes one delivering vendor call per Request, and at most
//     [Capabilities].CallsPerSend calls in all (0 means 1): an auth call,
//     an upload or a task creation may come first (Getui: auth, create,
//     send; Umeng filecast: upload, send), and a call refused for an
//     expired auth token may be repeated once after a new auth call. It
//     never retries a delivering call otherwise and never sleeps: retries,
//     backoff and rate limiting belong to the caller (push.Service and
//     messagecenter.Scanner), which owns the durable record.
//     Capabilities.SendTimeout says how long all of them may take.
//   - Every method may be called concurrently from many goroutines.
//   - A provider must not retain or modify the slices and maps of a Request
//     after Send returns.
//   - A non-nil error means the vendor did not accept the request as a whole,
//     or that it is not known whether it did ([Indeterminate]). Per-token
//     failures of an accepted request are reported in [Receipt.Failures],
//     ordered as the tokens were given, not as an error. A request refused
//     as a whole for [InvalidToken] names the tokens in [Error.Failures]
//     where the vendor says which; a provider that always does declares
//     Capabilities.TokenFailures.
//   - Every error is, or wraps, a [*Error] whose [Kind] says what the caller
//     should do. Each vendor keeps one table from its codes to kinds.
//   - Secrets (master secrets, signs, auth tokens) never appear in errors,
//     logs or [Receipt.Raw].
//   - Send honours ctx: when ctx ends before the request was written the
//     error is [Temporary]; when it ends after the body was sent it is
//     [Indeterminate], because the vendor may have acted on it.
//   - A provider whose zero value (or nil pointer) is not usable
//     implements [BuildChecker], so that push.New refuses it naming the
//     field "providers" and the constructor; every method of such a value
//     returns an error matching [ErrNotBuilt] (an [*Error] of Kind [Auth]
//     from Send, Status, Cancel and Validate), or a harmless answer (the
//     zero Capabilities), and never panics, and fmt prints it without
//     panicking. The umeng, jpush and getui Clients do.
//
// # Vendor-neutral declarations
//
// Vendors differ in more than payloads, and [Capabilities] declares how, per
// platform, so that a caller needs no vendor names:
//
//   - Polling: a vendor whose tasks reach a final [State] (Umeng) is polled
//     at the caller's interval until the push expires (the zero
//     [Polling]); one that reports counts (JPush, Getui) declares a longer
//     Interval and may declare a Horizon after which the counts are kept
//     as they are; Disabled means receipts are final when accepted.
//   - TokenFailures: whether the vendor names the tokens it refuses. When
//     it does, a caller disables those and sends to the rest; when it does
//     not, a caller finds the dead token of a refused batch by halving.
//   - NeedsAliasType: whether alias audiences need Audience.AliasType
//     (Umeng); JPush and Getui aliases have no type.
//   - FileThreshold and MaxFileTokens: from which audience size a caller
//     sends a platform's tokens by file, in larger batches the provider
//     uploads and casts as one task (Umeng's filecast), rather than in
//     batches of MaxTokens. Zero: never.
//   - CallsPerSend and SendTimeout: how many calls one Send may make and
//     how long they may take together, so that a caller bounds each Send
//     by its provider's time rather than one figure for all.
//   - MaxTimeToLive: the longest the vendor keeps a push (Umeng 7 days,
//     JPush 3, or 10 for a VIP app, Getui 3). A caller clamps ExpireTime to the send time plus
//     it; a provider may refuse or clamp a longer one itself.
//
// The zero value of each keeps the behaviour the contract had before it:
// a provider declares only where it differs.
//
// # Errors
//
// Callers classify errors with [KindOf], [IsRetryable] or errors.Is against a
// Kind value:
//
//	if errors.Is(err, provider.InvalidToken) { … }
//
// Validation failures are [InvalidRequest] errors that wrap a [*FieldError]
// naming the offending field.
//
// # Field paths
//
// A [FieldError] names the field by its path in the [Request], so that a
// caller can map it back to its own input. Every provider uses the same
// scheme:
//
//   - A field is its Request path in snake_case, joined by dots:
//     "platform", "audience.kind", "audience.alias_type",
//     "notification.title", "notification.body", "notification.subtitle",
//     "notification.extras", "notification.class", "start_time", "expire_time",
//     "overrides.umeng.url". A missing or nil request is "request".
//   - An element of a slice adds its index: "audience.tokens[3]".
//   - An entry of a map adds its key, quoted as in Go:
//     notification.extras["aps"], overrides.umeng.ios_keys["k"]. A
//     problem with the map as a whole, or with a key that is empty or
//     blank, names the map: "notification.extras".
//   - A message over the vendor's size limit names the largest part of it
//     among the caller's content: "notification.body",
//     "notification.title", "notification.subtitle",
//     "notification.extras", or an override such as
//     "overrides.umeng.custom". It never names a vendor wire field such as
//     Umeng's "payload", which the caller did not write.
//
// A caller maps a path by its prefix: "notification.extras" and every
// notification.extras[…] both come from the extras the caller passed.
//
// # Message classes
//
// On Xiaomi, Huawei, Honor, OPPO, vivo and Meizu phones a push reaches an
// app that is not running only through the phone maker's own channel, and
// those channels cap or silence messages by class. [Notification.Class]
// says which class a message is, once, for every vendor: [ClassMarketing]
// (news, promotions) or [ClassService] (the user's own orders, chats,
// reminders). Empty leaves it unset: a vendor then sends none of its class
// fields and each phone maker applies its default, which is usually the
// marketing quota. Request.Validate refuses any other value, naming
// "notification.class". Vendors map it as follows; a vendor option set
// explicitly in Request.Overrides wins over the mapping.
//
//   - Umeng: Android bodies get the top-level "category" (0 marketing,
//     1 service), which Umeng uses to pick the Xiaomi and vivo message
//     classes, and channel_properties.huawei_channel_importance ("LOW"
//     marketing, "NORMAL" service) for Huawei and Honor. Umeng documents
//     "category" for Android only, so iOS sends carry neither field.
//   - JPush: Android bodies get options.classification (0 marketing,
//     1 service), which JPush passes to the phone makers' channels (it
//     decides Honor's importance and vivo's class too). The Xiaomi
//     channel id and OPPO category under options.third_party_channel are
//     not derived from the class; set them in jpush.Options.
//   - Getui: Android notifications get, under
//     push_channel.android.ups.options, vivo's "/classification" (0
//     marketing, 1 service) and Huawei's and Honor's importance ("LOW"
//     marketing, "NORMAL" service); a key getui.Options.UpsOptions sets
//     wins. The Xiaomi and OPPO options take a channel id the app
//     registers with the maker, so they are not derived from the class;
//     set them in UpsOptions.
//   - Huawei, on every vendor: a notification counts as service only when
//     it carries a category Huawei granted the app (自分类权益); the
//     importance alone does not. With the vendor's Config
//     HuaweiServiceCategory set to the granted category (one of
//     HuaweiServiceCategories), a service notification carries it and a
//     marketing one carries HuaweiMarketing; without it a service
//     notification carries none, and Huawei counts it as marketing (2 or
//     5 a day per device).
//   - vivo, on every vendor: a second-level category (Umeng's
//     vivo_category, JPush's third_party_channel vivo category, Getui's
//     "VV" "/category") must be in upper case, and one of
//     VivoSystemCategories goes with classification 1 only, one of
//     VivoOperationalCategories with 0 only; each provider refuses what
//     vivo would (CheckVivoCategory), against the classification sent
//     with it (for Umeng, its top-level category, from which it picks
//     vivo's), where the request sends one.
//
// # Testing
//
// Package providertest holds the conformance suite every provider passes and
// an in-memory Mock provider for host applications' unit tests.
package provider
