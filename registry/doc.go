// Package registry holds the rows of push's system of record and the small
// repository interfaces the Service and the Scanner use to read and write
// them.
//
// # Overview
//
// The tables are the brief's: sys_devices, sys_user_devices,
// sys_push_messages and sys_message_center (sys_users belongs to the host).
// Our additions are additive: token state, claim/lease/attempt columns, a
// deliveries table (sys_push_deliveries) and indexes.
//
// Implementations: package sqlstore (SQLite, MySQL/MariaDB, PostgreSQL) and
// package memstore (in memory). Both pass package registrytest.
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
package registry
