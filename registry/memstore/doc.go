// Package memstore is an in-memory registry.Store, for tests, demos and
// examples that should run without a database.
//
// # Overview
//
// A Store keeps every table of the registry in maps and slices guarded by
// one mutex. It has the semantics of package sqlstore, proven by the same
// conformance suite (package registrytest): the same validation, by the
// same functions (registry.ValidateDevice, ValidatePushMessage,
// ValidateSplit, ValidateDeliveryOutcome, ValidateCenterMessage,
// ValidateCenterOutcome), so that a test on this Store refuses what a
// database would; the same summary columns (registry.Summarize); the same
// orderings; the same identifier rules (trailing spaces dropped, see the
// registry's Identifiers); the same one-active-user rule and the same claim
// and lease rules. Nothing is persisted: the data lives as long as the
// Store.
//
// Rows are deep-copied on the way in and on the way out, so a caller that
// mutates a row it passed in or got back (its slices and time pointers
// included) never changes what the Store holds.
//
// # Claims
//
// A claim sets a fresh random claim token and LeaseUntil = Now+Lease on each
// row it returns. A claim is held while Now < LeaseUntil; from LeaseUntil on,
// another claim may take the row and give it a new token. A finishing write
// succeeds while its token is still the row's token, even after the lease
// ran out, as long as nobody re-claimed the row: like the SQL store, the
// finishing write has no clock of its own and is guarded by the token alone.
//
// # Time
//
// Claims use the Now the caller passes. The Store's own clock (Config.Now)
// stamps CreatedAt, UpdatedAt and Device.TokenDisabledAt. Times are kept as
// given, without their monotonic clock reading, as a database would keep
// them.
//
// # Errors
//
// Errors match the registry's sentinels with errors.Is: ErrNotFound,
// ErrConflict (a duplicate DedupeKey or IdempotencyKey), ErrClaimLost,
// ErrNotOwner and ErrInvalid (a *registry.ValidationError naming the field,
// returned before anything is written). Every error is prefixed with
// "memstore:" and the operation's name. A context that has ended makes every
// method return its error without touching the data.
//
// # Testing
//
// memstore_test.go runs registrytest.Run against the Store under -race, plus
// tests of what is particular to this package: the injected clock, deep
// copies and context handling.
package memstore
