// Package registry holds the rows of push's system of record and the small
// repository interfaces the Service and the Scanner use to read and write
// them.
//
// # Overview
//
// The tables are the product brief's: sys_devices, sys_user_devices,
// sys_push_messages and sys_message_center (sys_users belongs to the host).
// Our additions are additive: token state, claim/lease/attempt columns, a
// deliveries table (sys_push_deliveries) and indexes.
//
// Implementations: package sqlstore (SQLite, MySQL/MariaDB, PostgreSQL) and
// package memstore (in memory). Both pass package registrytest.
//
// # Optional interfaces, and wrapping a store
//
// Beside Store, the Service looks for optional interfaces by type
// assertion: Fanouts (large pushes recorded in stages), RetryTokens
// (vendor retry tokens kept across instances), DedupeKeyFinder (one
// look-up for a batch's dedupe keys), BacklogCounter (the backlog gauges),
// ReceiptHolder (receipts that come before their send's outcome),
// HeldReceiptCounter (a cap on the receipts held), PushHolders (a retry
// reaches only phones a user of its push still holds), TargetCensus (a
// large audience listed with fewer look-ups) and CenterLeases (the
// Scanner keeps the row of a notifier that overruns its timeout). A
// store without one still works, without that feature; push.New logs at
// info level which ones its store lacks (MissingOptional), and
// registrytest.Factory.RequireOptional makes the conformance suite fail
// on them. A decorator that embeds the
// Store interface (struct{ registry.Store }) hides them all, whatever the
// store inside has: embed the concrete type instead (struct{
// *sqlstore.Store }), or forward each optional method. A store that
// records pushes must decorate AddDeliveries and SplitDelivery too, not
// only CreatePushMessage and FinishDelivery; WithTx-style transactions
// are the store's own (sqlstore.Store.WithTx).
//
// A store whose zero value (or nil pointer) is not usable implements
// BuildChecker: push.New and messagecenter.New refuse such a value,
// naming the field "store" and the constructor, and each of its methods
// returns an error matching ErrNotBuilt instead of panicking. The
// sqlstore and memstore Stores do. BuildChecker is not among the
// interfaces MissingOptional names: a decorator that embeds Store only
// goes unchecked.
//
// # Identifiers
//
// Keys compare the way the strictest supported database can keep them
// apart, so that every store answers alike:
//
//   - Trailing spaces (U+0020) are not part of a uuid, user_num,
//     push_platform, dedupe_key or idempotency_key. MySQL/MariaDB compares
//     such columns with PAD SPACE collations, so its unique keys cannot
//     hold "u1" and "u1 " apart;
//     every store therefore drops trailing spaces before it stores or looks
//     up such a value, and "u1 " is the user "u1" on every database. The
//     Service trims input at its boundary, so this matters only to other
//     callers. Leading spaces, other white space and case are significant.
//   - A push token is compared without the spaces around it, leading and
//     trailing, as push.Service sends it: a token passed to DisableTokens
//     or PushHolders, and the token of a device row another program wrote
//     as " T", which is the same phone as another row's "T" (ListTargets'
//     check for a newer holder, the takeover of RegisterDevice).
//   - A device's platform is "ios" or "android". Rows other programs wrote
//     may spell it "iOS", "Android" or " ios": ListTargets, DisableTokens
//     and the token takeover of RegisterDevice compare it in lower case
//     without surrounding spaces, and a device whose platform is neither
//     (NULL, "windows") is never pushed to. RegisterDevice finds a device by
//     its (platform, uuid), and when no row has that exact platform, by the
//     newest row of the uuid whose platform reads the same: registering
//     ("ios", X) next to a legacy ("iOS", X) row updates that row (its
//     spelling kept) and logs its previous user out of it.
//   - The ids of devices, links, push messages and center messages live in
//     the product brief's int(11) columns: one outside that range cannot exist, and
//     looking it up is ErrNotFound (finishing such a row, ErrClaimLost),
//     on every database.
//
// # Claims
//
// Work that any of many instances may do (a due center message, a pending
// delivery, a receipt to poll) is claimed with a lease: the claim sets a
// fresh claim token and a lease deadline on the row, and every finishing
// write names that token. A finishing write whose token no longer matches
// (the lease expired and another instance re-claimed the row) changes nothing
// and returns ErrClaimLost. A row whose lease has expired is claimable again.
//
// # Time
//
// Callers pass "now" to every claim, so one injected clock decides what is
// due. Stores write and compare DATETIME values as wall-clock times in one
// configured zone (see the store's options).
//
// # Errors
//
// ErrNotFound, ErrConflict, ErrClaimLost (an ErrConflict), ErrNotOwner and
// *ValidationError (an ErrInvalid) are matched with errors.Is/As. Stores wrap
// driver errors with the operation's name.
//
// Every store validates with the same functions (ValidateDevice,
// ValidatePushMessage, ValidateDelivery, ValidateDeliveryOutcome,
// ValidateSplit, ValidateCenterMessage, ValidateCenterOutcome) before it
// writes anything, so a value the SQL store would refuse is refused in
// memory too. Values that do not fit their column are refused, never
// truncated; text that comes from vendors or notifiers is the caller's to
// make fit (SanitizeText).
package registry
