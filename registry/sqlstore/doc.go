// Package sqlstore is the database/sql implementation of registry.Store,
// for MySQL/MariaDB, PostgreSQL and SQLite.
//
// # Overview
//
// New takes what the host already has: a *sql.DB (or any DBTX) and the
// dialect it speaks. The package imports no driver; the host picks one
// (go-sql-driver/mysql, jackc/pgx/v5/stdlib, modernc.org/sqlite). Call
// Migrate once at start-up, from any number of instances:
//
//	db, _ := sql.Open("mysql", dsn) // with interpolateParams=true: one round trip a statement
//	sqlstore.TunePool(db)
//	store, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectMySQL})
//	…
//	err = store.Migrate(ctx)
//
// TunePool matters: database/sql keeps two idle connections by default,
// and a Scanner or an API runs more statements at once than that, so
// without it connections are opened and closed all the time (on
// PostgreSQL a server process each, with every statement parsed again).
// A SQLite Store keeps the statements it runs prepared; pgx caches
// PostgreSQL's itself.
//
// The tables are the product brief's — sys_devices, sys_user_devices,
// sys_push_messages, sys_message_center — with their names, columns and
// meanings, plus what the library adds: token state on sys_devices, a
// unique (platform, uuid), dedupe_key and expire_at on sys_push_messages,
// send_at/attempts/next_attempt_at/claim_token/lease_until on
// sys_message_center, the outbox table sys_push_deliveries (one row per
// vendor call, whose per-platform registry.Summarize is what the product brief's
// ios_* and android_* columns show), the running accounts behind those
// columns (ios_tally and android_tally, registry.Tally as JSON, so that a
// finish updates the summary without reading the other deliveries or any
// tokens), the lock table sys_push_token_locks (one row per registered
// push token, see RegisterDevice), sys_push_message_users (the users each
// push was addressed to, for ListPushMessages), sys_push_receipts (the
// devices' receipts counted, so that one posted again counts once),
// sys_push_receipts_held (receipts that came before their delivery's
// outcome, see registry.ReceiptHolder), and indexes. The product brief's two ops
// queries run unchanged on MySQL/MariaDB and SQLite. sys_users belongs to
// the host: MigrateUsers creates the product brief's version for hosts that want
// it, and push never reads it. MigrateReport and MigrateUsersReport do what
// Migrate and MigrateUsers do and say what they applied: of instances that
// start at once, the one that applied each migration names it.
//
// Every statement is parameterized; no value is ever part of SQL text.
// Identifiers such as user_num, uuid, dedupe_key and tokens compare
// case-sensitively on every dialect (utf8mb4_bin on MySQL), so "A01" is not
// "a01". They do not compare byte for byte everywhere: utf8mb4_bin is a
// PAD SPACE collation, which ignores trailing spaces in comparisons and
// unique keys, where PostgreSQL and SQLite do not. So that every dialect
// answers alike, the Store drops the trailing spaces of uuid, user_num,
// push_platform, dedupe_key, idempotency_key and of the tokens passed to
// DisableTokens before it writes or looks them up: "A01 " is the user
// "A01" on every dialect (and in memstore). Leading spaces and other white
// space stay significant. Stored text is UTF-8 with 4-byte characters
// (emoji) on every dialect.
//
// Rows other programs wrote may spell a device's platform "iOS",
// "Android" or " ios", or leave it NULL. ListTargets, DisableTokens and
// RegisterDevice's token takeover compare the platform in lower case
// without surrounding spaces; ListTargets returns it as "ios" or "android"
// and never returns a device whose platform is neither. RegisterDevice
// finds a device by its (platform, uuid), and when no row has that exact
// platform, by the newest row of the uuid whose platform reads the same
// that way (through the index on uuid, migration 14): registering ("ios",
// X) next to a legacy ("iOS", X) row updates that row, its spelling kept,
// and logs its previous user out of it.
//
// The product brief's ids are int(11). An id outside that range cannot exist: the
// Store answers ErrNotFound (ErrClaimLost when finishing a center message,
// an empty list for ListDeliveries) without a query, on every dialect, so
// PostgreSQL never sees a value its integer columns cannot be compared
// with.
//
// WithTx returns a Store that runs inside the host's transaction, so a
// host can enqueue a center message atomically with its own writes.
//
// # Dialects
//
//   - DialectMySQL: MySQL 8.0+ or MariaDB 10.6+ (FOR UPDATE SKIP LOCKED).
//     The DSN's parseTime, loc, interpolateParams, clientFoundRows and
//     multiStatements do not matter to the Store. The connection's
//     character set must be utf8mb4, the driver's default: Migrate refuses
//     another. Transactions the Store owns run at READ COMMITTED.
//   - DialectPostgres: PostgreSQL 12+, through pgx's database/sql driver.
//     Tables live in the connection's current schema.
//   - DialectSQLite: SQLite 3.35+ (modernc.org/sqlite). A database/sql pool
//     holds several connections to the file, so the DSN must set a busy
//     timeout, WAL and immediate transactions; SQLiteDSN builds such a DSN.
//     Migrate refuses a pool of more than one connection whose busy timeout
//     is 0 (a bare path): there concurrent calls fail with SQLITE_BUSY.
//
// Claims take due rows with a lease: on MySQL and PostgreSQL the due rows
// are selected FOR UPDATE SKIP LOCKED (concurrent claimers skip each
// other's rows instead of waiting) and stamped with a claim token and
// lease_until, on PostgreSQL by one UPDATE … RETURNING that picks them in
// a WITH, on MySQL by a transaction that then reads them back; on SQLite
// one UPDATE … RETURNING does it, under the database's write lock. Each claim walks an index over the due rows only
// ((state, next_attempt_at) for deliveries, (send_state, notify_level,
// id) for center messages), never a whole table. Every finishing write is
// guarded by the row's claim token. Fanouts are claimed otherwise (see
// ClaimFanouts): their rows are push messages, which finishes lock too, so
// each due one is taken by an UPDATE guarded by its lease, in id order,
// that waits for a lock rather than skip the row.
//
// RegisterDevice first locks the push token it registers, through its row
// of sys_push_token_locks, so that registrations of one token on different
// devices take turns and the token takeover sees every other holder, also
// of devices that did not exist when the registration began; the lock
// order is always token, then devices. It then finds the device by its
// unique (platform, uuid) with SELECT … FOR UPDATE, which locks the row,
// so registrations of one device take turns and the one-active-user rule holds across instances; it then
// updates the row, or inserts it when it is new, so re-registering never
// draws an id (the product brief's ids are int(11), and INSERT … ON DUPLICATE KEY
// UPDATE or ON CONFLICT would draw one per registration). Only a device
// not found is upserted: two first registrations that race are settled by
// the unique key, the second's upsert waiting for the first and updating
// its row (one id is drawn for the lost race), without an error or a
// deadlock. SplitDelivery takes the locks of FinishDelivery. FinishDelivery locks the
// push message row while it writes the delivery and the summary updated
// from the row's tally, so concurrent finishes of one message take turns
// and never leave a stale summary. A transaction the database aborts to
// break a deadlock or a serialization failure is run again, with a short
// randomized backoff, up to ten times, when the Store owns it: callers do
// not see such errors for bursts of contention.
//
// # Migrations
//
// Migrations are SQL files embedded per dialect
// (migrations/<dialect>/NNNN_name.sql, and users/ for MigrateUsers). Each
// applied file is recorded in push_schema_migrations (component, version,
// name, applied_at), so Migrate applies only what is missing and a second
// call does nothing; versions recorded by a newer build are left alone.
// Concurrent Migrate calls take turns on a database lock: GET_LOCK on one
// dedicated connection (MySQL; the name is derived from the database's, so
// databases on one server do not share it), pg_advisory_lock (PostgreSQL),
// BEGIN IMMEDIATE (SQLite, where the whole run is one transaction).
// PostgreSQL applies each file in a transaction. MySQL cannot roll DDL
// back, so every statement there is guarded by a condition on the current
// schema (a column or index that is missing, a character set that is not
// utf8mb4 …): a migration cut short runs again from its start.
//
// Version 1 creates the product brief's tables (CREATE TABLE IF NOT EXISTS, the
// brief's columns; utf8mb4 on MySQL); version 2 adds the library's columns,
// indexes and table. Both run the same way on a fresh and on an adopted
// database. Later versions add: 3 the token locks, 4 the summary tallies,
// 5 the message class and overrides, 6 the receipt counters of each
// delivery (arrived, opened, dismissed) and the (receipt_id, provider)
// index RecordReceipts finds a delivery by, 7 the trace_parent of a push
// message (PushMessage.TraceParent), 8 sys_push_message_users, 9 the
// fanout columns of a push recorded in stages (fanout_after, fanout_claim,
// fanout_until, with an index on fanout_until, and one on
// sys_push_message_users.push_message_id: see registry.Fanouts), 10
// fanout_claims, the takeovers of a fanout (registry.Fanout.Claims), 11
// a delivery's retry_token (registry.Delivery.RetryToken), 12
// sys_push_receipts, the devices' receipts counted (RecordReceipts), 13
// sys_push_receipts_held (HoldReceipt and AdoptReceipts), 14 an index on
// sys_devices.uuid (a device another program wrote with its platform
// spelled otherwise is found by it), 15 a partial index of the tokens
// other programs wrote with spaces around them, 16 Umeng iOS tokens held
// in upper case lower-cased (see UpperCaseTokens).
// PendingMigrations lists what Migrate would apply, for a readiness check,
// and MissingTables the tables of applied migrations that someone dropped
// since (every push fails on them): CreateMissingTables creates those
// again, empty.
//
// # Adopting an existing database
//
// The product brief comes from a production system: hosts have these tables
// already, created by the product brief's DDL and full of rows. Migrate adopts
// them: it adds what is missing and loses or rewrites no row. On
// MySQL/MariaDB it
//
//   - moves tables with the COMPACT or REDUNDANT row format (767-byte index
//     keys) to DYNAMIC;
//   - converts the product brief's utf8 (3-byte) tables to utf8mb4
//     (utf8mb4_unicode_ci), which every utf8 value already is, so emoji
//     can be stored; TEXT columns become MEDIUMTEXT where MySQL needs it to
//     keep as many characters;
//   - makes platform, uuid, push_device_token, push_platform and user_num
//     utf8mb4_bin, keeping the product brief's types, defaults and comments;
//   - widens sys_push_messages.ios_device_tokens/android_device_tokens to
//     MEDIUMTEXT (registry.MaxTokensText);
//   - adds the library's columns (among them sys_devices.push_token_key, a
//     virtual column of the token without surrounding spaces, computed by
//     the database, that only its index stores), indexes, sys_push_deliveries,
//     sys_push_token_locks, sys_push_message_users, sys_push_receipts and
//     sys_push_receipts_held.
//
// The product brief's AUTO_INCREMENT, charset and ON UPDATE clauses are left as
// they are. The unique (platform, uuid) cannot be added while two rows
// share a pair: Migrate then fails with a *DuplicatesError listing the
// pairs, before changing anything (on MySQL too), and succeeds once they
// are merged or deleted. (A pair another program inserts while Migrate
// runs is found only when the index is added: on MySQL the tables are
// converted by then, and the migration is not recorded as applied; a
// re-run names the pair, and completes once it is merged.) The check compares as the unique index will: on
// MySQL under utf8mb4_bin, so rows that differ only in trailing spaces
// ("abc", "abc ") are duplicates, and rows that differ only in case are
// not. Duplicate links of a user to a device are legal:
// RegisterDevice reuses the newest. On PostgreSQL the brief's int(11) and
// tinyint(1) columns of adopted tables must be integers (smallint,
// integer or bigint): one another program made a boolean is refused by
// name, before anything changes.
//
// Adopted rows are usable at once. A link's state is the product brief's tinyint:
// 1 is active, anything else — 0, or NULL in rows other programs wrote —
// inactive. The product brief's system logged a device's previous users out only
// implicitly, so a device may have several active links: only its newest
// (highest id) is a target, and a push never reaches a previous user. A
// device whose push_platform is NULL or empty is on
// registry.DefaultPushPlatform; DisableTokens and the token takeover
// compare push_platform in any ASCII case without surrounding spaces
// ("Umeng" is umeng's), as push.Service targets it. Center rows other programs insert (with
// send_state 0 and none of the new columns set) are due at once, most
// urgent notify_level first; a NULL notify_level comes last. A NULL
// send_state is the product brief's default, unsent: ClaimCenterMessages first
// writes 0 to such rows (after an index lookup that finds whether there
// are any), so that the claim itself stays a walk of its index; a row
// another transaction holds locked is skipped, as the claim skips it, and
// gets its 0 from a later claim.
//
// # Time zones
//
// The product brief's DATETIME columns hold wall-clock times without a zone. The
// Store writes and compares every such value as a wall-clock time in
// Options.Location (default UTC): set it to the zone of the other programs
// that write these tables, the zone of their NOW(). Values are written as
// text ("2006-01-02 15:04:05.999999") on MySQL and SQLite and as a
// timestamp's wall clock on PostgreSQL, and read back in Location whatever
// form the driver returns, so the driver's own time settings do not
// matter. The product brief's created_at/updated_at keep whole seconds; the
// library's own columns (next_attempt_at, lease_until, send_at …) keep
// microseconds, and compare correctly with second-precision values other
// programs write. On SQLite the text sorts in time order in the Store's
// layout (CURRENT_TIMESTAMP writes it, in UTC); the claim and the backlog
// of sys_message_center, whose rows other programs write, compare send_at
// as SQLite's strftime reads it, so ISO 8601 text ("2006-01-02T15:04:05",
// with "Z" or an offset) is due on time too: a value with a zone against
// the time in UTC, one without against the wall clock in Location.
//
// A time value the Store cannot read never fails a query: text that is no
// date-time and a number (SQLite, which keeps the '20991231' of an INSERT
// as the integer 20991231: a Julian day number to strftime, Unix seconds
// to some programs, 2099-12-31 to MySQL and PostgreSQL), PostgreSQL's
// infinity, MySQL's zero months ("2024-00-00", with or without the DSN's
// parseTime), a date before the year 1 (PostgreSQL's '2500-06-01 BC',
// year 0 on MySQL and SQLite).
// MySQL and PostgreSQL are asked for the columns as text (CAST … AS
// CHAR, to_char, or on PostgreSQL the value's own text where to_char
// would drop its BC), so that the driver never converts a value itself,
// and the Store parses the text. Such a value reads as the zero time (in a nullable column, a
// non-nil pointer to the zero time: the column is set, so a device's
// token stays disabled) and, on a center message, is named in
// registry.CenterMessage.Unreadable. MySQL's zero date ("0000-00-00
// 00:00:00"), and empty text, read as the zero time in the product
// brief's created_at and updated_at, which may hold them for no time, but
// as such a value in the Store's nullable columns, whose NULL alone is no
// time and whose queries take any other value as set (token_disabled_at
// IS NULL): a token_disabled_at another program set to the zero date
// disables the token and is named in registry.DeviceLink.Unreadable. A
// claim treats an unreadable send_at, next_attempt_at or lease_until as
// due (a date BC, which the database compares as long past, is due
// anyway), so that the row is handed out and can fail with its reason.
// RegisterDevice and DeactivateLink replace an unreadable created_at of the rows they write
// with their own stamp, as they replace updated_at.
//
// # Errors
//
// Driver errors are wrapped as "sqlstore: <Method>: <step>: <driver
// error>" and stay matchable with errors.Is/As. A lookup that finds no row
// is registry.ErrNotFound; a duplicate dedupe_key or idempotency_key is
// registry.ErrConflict (recognised per dialect without importing the
// drivers); a finishing write whose claim token no longer holds the row is
// registry.ErrClaimLost; a logout of another user's link is
// registry.ErrNotOwner. Values that do not fit their column — longer than
// the product brief's VARCHAR(255) in characters or TEXT in bytes, not UTF-8, a
// token with a comma — are a *registry.ValidationError (ErrInvalid) naming
// the field, returned before anything is written: nothing is ever
// truncated by the database. The exceptions are the summary columns
// (ios_task_id, ios_response …) and token_disabled_reason, which are
// clipped with a visible "…" because their whole values live elsewhere or
// are diagnostics. When a transaction the Store owns fails, it is rolled
// back: nothing is half-written. Migrate's errors name the migration file
// and line.
//
// # Testing
//
// The tests run the registrytest conformance suite against SQLite always
// and against MySQL/MariaDB and PostgreSQL when PUSH_TEST_MYSQL_DSN and
// PUSH_TEST_POSTGRES_DSN are set (they are skipped, saying so, otherwise),
// each test in a fresh database (package internal/dbtest), under -race.
// Besides, they prove: Migrate's idempotency and four concurrent Migrate
// calls; that the MariaDB schema has every column of the product brief's five
// CREATE TABLE statements with a compatible type; the product brief's two ops
// queries, verbatim, on MariaDB and SQLite; the adoption of databases
// created by the product brief's DDL (verbatim on MariaDB, a labelled
// transliteration on SQLite) with legacy rows; legacy platform spellings
// and NULL or empty push_platform in ListTargets, DisableTokens and the
// token takeover, and re-registrations that draw no id, on every dialect;
// that Migrate refuses uuids differing only in trailing spaces on MariaDB
// before changing anything; that the hot statements use their indexes;
// emoji round trips, too-long values and a hostile user_num on every
// dialect; Location and MySQL DSN settings; and, with go-sqlmock, that
// driver errors are wrapped and failed transactions (RegisterDevice,
// CreatePushMessage, FinishDelivery, SplitDelivery …) rolled back.
// testdata/brief holds the product brief's SQL verbatim.
package sqlstore
