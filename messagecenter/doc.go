// Package messagecenter runs the scheduled job of the product brief: it delivers
// the notifications that other programs insert into sys_message_center,
// and it finishes the pushes that push.Service could not finish at once.
//
// # Overview
//
// A [Scanner] makes a pass every Interval (one minute by default, as in the
// product brief). Each pass:
//
//   - claims due rows of sys_message_center (send_state 0, send_at and
//     next_attempt_at unset or past) in notify_level order, highest first,
//     then oldest first; the "push" rows of a batch go to
//     push.Service.PushMany together (one dedupe look-up and one listing
//     of targets for the batch, their writes sharing the store's
//     transactions, at most Concurrency vendor calls at once), each row
//     its own push, and end with send_state = 1 and send_result =
//     'push_message#<id>', which the product brief's ops query joins on;
//     other modes go to the host's [Notifier] for that mode, Concurrency
//     rows at once;
//   - re-sends pending deliveries (temporary failures, and sends whose
//     outcome was lost in a crash) with their original idempotency keys;
//   - polls pollable receipts (vendor task ids) until a final state or the
//     push's expiry, updating the ios_status/android_status columns.
//   - counts the vendor receipts that came before their send's outcome was
//     recorded, once it is (push.Service.AdoptReceipts).
//
// # Delivery semantics
//
// Delivery is at-least-once. A row is claimed with a lease and a claim
// token; every write that finishes it names the token, so a Scanner whose
// lease ran out cannot overwrite the work of the one that took over. A push
// row's id, creation time and content make the dedupe key of the push it
// creates (DedupeKey), so a row handled twice (its first Scanner died
// after the push was recorded, or another program set it back to pending
// unchanged) finds the first push instead of sending again; a row that
// reuses an id, or one changed before it was set back, is a push of its
// own. Vendor
// retries carry the delivery's idempotency key; Umeng drops a repeated
// out_biz_no on task casts. A notifier's row (sms, email) has no such key,
// so its call is made only while its claim will outlast it and the write of
// its outcome: a row whose turn comes with no more than NotifyTimeout (and
// a margin for the write) of its lease left is given back untried
// (OutcomeReleased) and claimed afresh. A Notifier that runs past
// NotifyTimeout (it ignores its ctx) is waited for up to one more Lease,
// and its row's lease renewed meanwhile (registry.CenterLeases), so that
// no other instance claims the row and calls it again. The write of the outcome of a
// notifier's call is tried again while the claim holds when it failed for
// a reason that may pass (a connection reset, a database restarting or
// hung for a moment); only a database down past those retries leaves the
// row to be sent again once its lease runs out.
//
// A row fails (send_state 2, reason in remark) when the store could not
// read one of its values (registry.CenterMessage.Unreadable; the remark is
// "unreadable row: " and the reason), its mode has no notifier, its
// receivers have no active device, the input is invalid,
// every vendor call of its push's first try failed permanently, or
// MaxAttempts temporary failures in a row ran out. A push row is sent
// (send_state 1, send_result push_message#<id>) once its push is recorded
// with a delivery accepted or still pending: the pending ones are the
// push's to retry (push.Service.RetryPending, with the Service's own
// MaxAttempts), and a push whose retries then all fail is failed in
// sys_push_messages (ios_status/android_status, which the brief's second
// ops query shows), while its row stays sent. Rate-limit refusals reschedule without spending an
// attempt, after the notifier's or vendor's Retry-After when it gave one.
// A claim counts as an attempt (attempts goes up when the row is claimed,
// and is given back when the row is released untried): an instance that
// dies holding a row may have made its call, so the attempt stays spent.
// To queue a failed row again, set send_state to 0 and attempts to 0; a
// row set back with its attempts left as they were has only the attempts
// MaxAttempts leaves it.
//
// A row that waited more than a second for its turn after its claim (a
// pass behind a slow vendor or notifier) is read again before it is
// handled: one another program finished, cancelled or deleted meanwhile is
// left alone, and one it postponed (send_at) or edited is given back
// untried, to be handled as it now reads when it is due. A push row sent to some of its receivers only (the others have
// no device the push could reach) is sent, and its remark names the
// others, for rows of at most push.MaxUnreachedUsers receivers:
// "1 receiver(s) without a device the push could reach: u2"; a larger
// row's remark counts them (push.Result.UnreachedCount). A push row
// none of whose receivers has such a device fails, and its remark names
// them after the reason, the same way.
//
// # Many instances
//
// Run a Scanner in every instance of the host: claims use FOR UPDATE SKIP
// LOCKED on MySQL 8/MariaDB 10.6+/PostgreSQL and one UPDATE … RETURNING on
// SQLite, so instances share the work and never handle a row at the same
// time. Keep Lease longer than two batches take: a pass claims the next
// batch while it handles one.
//
// # Notify modes
//
// A row's notify_mode is matched without case and surrounding white
// space: "push", " PUSH " and "Push" are all pushed. The keys of
// Config.Notifiers are matched the same way. This is the Scanner's own
// rule, close to but not the same as the brief's ops SQL (notify_mode =
// 'push') compares: MySQL's default collations ignore case and trailing
// spaces but not leading ones or tabs, and take full-width and accented
// letters ("ＰＵＳＨ", "Púsh") for plain ones, which the Scanner does not
// (such a row fails with "no notifier for notify_mode"); PostgreSQL and
// SQLite compare exactly. So a row another program wrote as " push" (on
// MySQL), or "PUSH" or "Push " (on PostgreSQL and SQLite), is pushed, and
// the ops query leaves its push out; write the query's filter as
// lower(trim(notify_mode)) = 'push' to count every push row.
//
// # Scheduled delivery
//
// A row with send_at set waits until then; rows without it are due at
// once, so programs that insert the product brief's columns only keep working.
// Due-ness is decided by the Scanner's clock, compared with the stored
// DATETIME values as wall-clock times in the store's configured zone
// (sqlstore.Options.Location): set that to the zone of the NOW() other
// programs use.
//
// # Message class
//
// A push row whose push_class column (our additive, nullable column) is
// "marketing" or "service" (without case or surrounding spaces, as
// notify_mode) is pushed with that class (provider.Class),
// which phone makers' channels throttle by; NULL or empty leaves it unset,
// and any other value fails the row with the reason in remark:
//
//	INSERT INTO sys_message_center (title, content, notify_mode, receivers, push_class, created_at, updated_at)
//	VALUES ('双十一', '全场五折', 'push', 'u1001', 'marketing', NOW(), NOW());
//
// # Notifiers
//
// Implement [Notifier] for sms, email or any other mode and pass it in
// Config.Notifiers. Wrap an error with [Permanent] to fail the row at once.
// A row of a mode with no notifier fails, its remark saying so, unless
// Config.LeaveModes names the mode: another program sends those from the
// same table, and the Scanner never claims them.
package messagecenter
