package sqlstore

import (
	"context"
	"crypto/sha256"
	"database/sql"
	"database/sql/driver"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/tuisong/push/registry"
)

// Migrate brings the library's tables up to date: sys_devices,
// sys_user_devices, sys_push_messages, sys_message_center,
// sys_push_deliveries and sys_push_token_locks. Tables that exist already, such as those of a
// database created from the product brief's DDL, are adopted: what they lack is
// added and no row is lost or rewritten (see the package documentation).
//
// Every applied migration is recorded in push_schema_migrations, so
// running Migrate again does nothing: on a database that is up to date it
// runs no DDL, and needs no right beyond reading (a server may run as a
// user with SELECT, INSERT, UPDATE and DELETE only once an operator has
// migrated). Instances that start at once take
// turns on a database lock; the first applies the migrations, the others
// find them applied. A table of an applied migration that someone dropped
// since is not created again by Migrate (see MissingTables and
// CreateMissingTables). Migrate needs a Store built on a *sql.DB.
func (s *Store) Migrate(ctx context.Context) error {
	_, err := s.MigrateReport(ctx)
	return err
}

// MigrateResult says what one call of MigrateReport or MigrateUsersReport
// did: what this call applied, not what another process applied while it
// waited for the migration lock.
type MigrateResult struct {
	// Component is "push" (Migrate's tables) or "users" (MigrateUsers').
	Component string
	// From is the database's version (its highest applied migration, 0
	// when none is) when the call took the migration lock, and To when it
	// was done: equal when the call applied nothing.
	From, To int
	// Applied names the migrations the call applied, in order. None when
	// the database was up to date, or another process (an instance
	// starting at the same moment) applied them first. When a migration
	// fails, it names those applied before it, which stay applied
	// (SQLite applies all or none).
	Applied []string
}

// MigrateReport is Migrate, and says what it applied; with an error too,
// its result names the migrations applied before the one that failed.
func (s *Store) MigrateReport(ctx context.Context) (MigrateResult, error) {
	if s.unbuilt() {
		return MigrateResult{Component: componentPush}, notBuilt("Store.Migrate")
	}
	return s.migrate(ctx, "Migrate", componentPush)
}

// MigrateUsers creates the product brief's sys_users table when it does not
// exist. The table belongs to the host, and push never reads it: call
// MigrateUsers only when the host wants the product brief's users table (as
// examples/server does). It is versioned, recorded and locked like
// Migrate.
func (s *Store) MigrateUsers(ctx context.Context) error {
	_, err := s.MigrateUsersReport(ctx)
	return err
}

// MigrateUsersReport is MigrateUsers, and says what it applied, as
// MigrateReport does.
func (s *Store) MigrateUsersReport(ctx context.Context) (MigrateResult, error) {
	if s.unbuilt() {
		return MigrateResult{Component: componentUsers}, notBuilt("Store.MigrateUsers")
	}
	return s.migrate(ctx, "MigrateUsers", componentUsers)
}

// migrate applies component's pending migrations and says which.
func (s *Store) migrate(ctx context.Context, op, component string) (MigrateResult, error) {
	res := MigrateResult{Component: component}
	applied, err := s.migrateWith(ctx, op, component, func(ctx context.Context, q DBTX, ms []migration) ([]migration, error) {
		pending, from, err := s.pending(ctx, q, ms)
		res.From = from
		return pending, err
	})
	res.To = res.From
	for _, m := range applied {
		res.Applied = append(res.Applied, m.name)
		res.To = max(res.To, m.version)
	}
	return res, err
}

// migratePlan returns the migrations of ms to apply, read on q under the
// migration lock.
type migratePlan func(ctx context.Context, q DBTX, ms []migration) ([]migration, error)

// migrateWith applies the migrations plan returns, holding the lock, and
// returns those it applied (committed), also when one failed.
func (s *Store) migrateWith(ctx context.Context, op, component string, plan migratePlan) ([]migration, error) {
	if s.conns == nil {
		return nil, wrap(op, errors.New("needs a Store built on a *sql.DB (migrations hold a lock on a connection of their own)"))
	}
	ms, err := loadMigrations(s.dialect, component)
	if err != nil {
		return nil, wrap(op, err)
	}
	conn, err := s.conns.Conn(ctx)
	if err != nil {
		return nil, wrap(op, step("connect", err))
	}
	defer conn.Close()
	if err := s.checkDialect(ctx, conn); err != nil {
		return nil, wrap(op, err)
	}
	if err := s.checkSQLiteWaits(ctx, conn); err != nil {
		return nil, wrap(op, err)
	}
	var applied []migration
	if s.dialect == DialectSQLite {
		applied, err = s.migrateSQLite(ctx, conn, ms, plan)
	} else {
		applied, err = s.migrateLocked(ctx, conn, ms, plan)
	}
	if err != nil {
		return applied, wrap(op, err)
	}
	return applied, nil
}

// checkSQLiteWaits refuses a SQLite database opened without a busy
// timeout by a pool of more than one connection: there a read that meets
// another connection's write fails at once with SQLITE_BUSY ("database is
// locked"), and pushes fail under load, not in a test. SQLiteDSN sets it
// (and the other settings a pool needs). A pool of one connection never
// meets another.
func (s *Store) checkSQLiteWaits(ctx context.Context, conn *sql.Conn) error {
	if s.dialect != DialectSQLite {
		return nil
	}
	if db, ok := s.q.(*sql.DB); ok && db.Stats().MaxOpenConnections == 1 {
		return nil
	}
	var ms int64
	if err := conn.QueryRowContext(ctx, "PRAGMA busy_timeout").Scan(&ms); err != nil {
		return step("read busy_timeout", err)
	}
	if ms > 0 {
		return nil
	}
	return errors.New("the SQLite database was opened with no busy timeout (PRAGMA busy_timeout is 0), so concurrent " +
		`calls fail with SQLITE_BUSY ("database is locked"): open it with sqlstore.SQLiteDSN(path), or put ` +
		"_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate in the DSN (or set the pool to one connection)")
}

// checkDialect makes sure the database on conn is of the Store's dialect:
// a Store built with another one fails its first statement with an error
// about a function or syntax it does not know, which does not say that
// Options.Dialect is wrong.
func (s *Store) checkDialect(ctx context.Context, conn *sql.Conn) error {
	var version string
	if s.dialect == DialectSQLite {
		if conn.QueryRowContext(ctx, "SELECT sqlite_version()").Scan(&version) != nil {
			return fmt.Errorf("the database is not SQLite: Options.Dialect is %q, which is not the database's", s.dialect)
		}
		return nil
	}
	if err := conn.QueryRowContext(ctx, "SELECT version()").Scan(&version); err != nil {
		if ctx.Err() != nil {
			return step("read the server's version", err)
		}
		return fmt.Errorf("the database answers no version(), as MySQL, MariaDB and PostgreSQL do: Options.Dialect is %q, which is not the database's (%w)", s.dialect, err)
	}
	if isPG := strings.HasPrefix(version, "PostgreSQL"); isPG != (s.dialect == DialectPostgres) {
		// The product and its version number only: PostgreSQL's
		// version() goes on with the build's platform and compiler.
		f := strings.Fields(version)
		f = f[:min(2, len(f))]
		name, want := registry.Clip(strings.Join(f, " "), 60), DialectMySQL
		if isPG {
			want = DialectPostgres
		}
		return fmt.Errorf("the database is %s: Options.Dialect is %q, and this database needs %q", name, s.dialect, want)
	}
	return nil
}

// migrateSQLite runs every pending migration in one BEGIN IMMEDIATE
// transaction: SQLite's DDL is transactional, and the write lock it takes
// at once is the migration lock (waiting follows the busy_timeout). The
// statement is issued by hand, so it does not depend on the DSN's _txlock.
func (s *Store) migrateSQLite(ctx context.Context, conn *sql.Conn, ms []migration, plan migratePlan) (applied []migration, err error) {
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		return nil, step("lock", err)
	}
	defer func() {
		if err == nil {
			if _, err = conn.ExecContext(ctx, "COMMIT"); err == nil {
				return
			}
			err = step("commit", err)
		}
		applied = nil // rolled back, all of them
		if _, rbErr := conn.ExecContext(context.WithoutCancel(ctx), "ROLLBACK"); rbErr != nil {
			// A connection whose transaction may still be open must not go
			// back to the pool.
			_ = conn.Raw(func(any) error { return driver.ErrBadConn })
			err = errors.Join(err, step("rollback", rbErr))
		}
	}()
	pending, err := plan(ctx, conn, ms)
	if err != nil {
		return nil, err
	}
	if len(pending) > 0 && ms[0].component == componentPush {
		if err := s.checkAdoptedColumns(ctx, conn); err != nil {
			return nil, err
		}
	}
	for _, m := range pending {
		if err := s.apply(ctx, conn, m); err != nil {
			return nil, err
		}
	}
	return pending, nil
}

// migrateLocked holds the dialect's lock on conn and applies the pending
// migrations: on PostgreSQL each in a transaction of its own (its DDL is
// transactional), on MySQL statement by statement (DDL commits
// implicitly; the steps' conditions make a migration cut short safe to
// run again).
func (s *Store) migrateLocked(ctx context.Context, conn *sql.Conn, ms []migration, plan migratePlan) (applied []migration, err error) {
	unlock, err := s.lock(ctx, conn)
	if err != nil {
		return nil, step("lock", err)
	}
	defer func() {
		if uErr := unlock(); uErr != nil {
			err = errors.Join(err, step("unlock", uErr))
		}
	}()
	if s.dialect == DialectMySQL {
		if err := s.checkMySQLCharset(ctx, conn); err != nil {
			return nil, err
		}
	}
	if s.dialect == DialectPostgres {
		if err := s.checkPostgresIntegers(ctx, conn); err != nil {
			return nil, err
		}
	}
	pending, err := plan(ctx, conn, ms)
	if err != nil {
		return nil, err
	}
	if len(pending) > 0 && ms[0].component == componentPush {
		if err := s.checkAdoptedColumns(ctx, conn); err != nil {
			return nil, err
		}
	}
	for _, m := range pending {
		if s.dialect == DialectMySQL {
			if err := s.apply(ctx, conn, m); err != nil {
				return applied, err
			}
			applied = append(applied, m)
			continue
		}
		tx, err := conn.BeginTx(ctx, nil)
		if err != nil {
			return applied, step("begin", err)
		}
		if err := s.apply(ctx, tx, m); err != nil {
			return applied, errors.Join(err, ignoreTxDone(tx.Rollback()))
		}
		if err := tx.Commit(); err != nil {
			return applied, step("commit "+m.name, err)
		}
		applied = append(applied, m)
	}
	if s.dialect == DialectPostgres && ms[0].component == componentPush {
		return applied, s.catchUpSequences(ctx, conn)
	}
	return applied, nil
}

// idTables are the tables whose ids the Store draws from the id column's
// sequence on PostgreSQL.
var idTables = []string{"sys_devices", "sys_user_devices", "sys_push_messages", "sys_message_center", "sys_push_deliveries", "sys_push_receipts_held"}

// catchUpSequences moves the id sequence of each of idTables that lies
// behind the table's largest id up to it, on PostgreSQL. Rows written with
// their ids (a data load into an adopted table, a copy from MySQL) leave
// the sequence where it was, and every insert that draws an id it already
// holds fails, one a try. A sequence is only ever moved forward, and one
// that is not the column's own (pg_get_serial_sequence: serial or
// identity) is left alone. It runs on every Migrate: a database another
// program loads rows into may fall behind again. Moving one takes UPDATE
// on it; a role without it (a server's needs USAGE only) gets an error
// saying what to run.
func (s *Store) catchUpSequences(ctx context.Context, q DBTX) error {
	for _, t := range idTables {
		var seq sql.NullString
		err := q.QueryRowContext(ctx, "SELECT CASE WHEN to_regclass($1) IS NOT NULL THEN pg_get_serial_sequence($1, 'id') END", t).Scan(&seq)
		if err != nil {
			return step("read the id sequence of "+t, err)
		}
		if !seq.Valid {
			continue // no such table (MissingTables names it), or an id of no sequence of its own
		}
		var maxID sql.NullInt64
		var inc int64
		err = q.QueryRowContext(ctx, "SELECT (SELECT MAX(id) FROM "+t+"), (SELECT seqincrement FROM pg_sequence WHERE seqrelid = $1::regclass)",
			seq.String).Scan(&maxID, &inc)
		if err != nil {
			return step("read the id sequence of "+t, err)
		}
		if !maxID.Valid || inc <= 0 {
			continue // empty, or a sequence that counts down: not the library's
		}
		next, known, err := nextValue(ctx, q, seq.String, inc)
		if err != nil {
			return step("read the id sequence of "+t, err)
		}
		if !known || maxID.Int64 < next {
			continue
		}
		if _, err = q.ExecContext(ctx, "SELECT setval($1::regclass, $2)", seq.String, maxID.Int64); err != nil {
			return step(fmt.Sprintf("the id sequence %s lies behind the rows of %s (largest id %d, next value %d), so every insert would draw a taken id; move it as a role with UPDATE on it: SELECT setval('%s', (SELECT MAX(id) FROM %s))",
				seq.String, t, maxID.Int64, next, seq.String, t), err)
		}
	}
	return nil
}

// nextValue returns the value the sequence seq (a name from
// pg_get_serial_sequence), counting by inc, gives next: read from the
// sequence itself, which takes SELECT on it; with USAGE only, from
// pg_sequence_last_value, which knows nothing of a sequence restarted or
// set back and not drawn from since (known false: then it is left alone).
func nextValue(ctx context.Context, q DBTX, seq string, inc int64) (int64, bool, error) {
	var last int64
	var called bool
	err := q.QueryRowContext(ctx, "SELECT last_value, is_called FROM "+seq).Scan(&last, &called)
	if err == nil {
		if called {
			return last + inc, true, nil
		}
		return last, true, nil
	}
	if sqlState(err) != "42501" { // insufficient_privilege
		return 0, false, err
	}
	var lv sql.NullInt64
	if err := q.QueryRowContext(ctx, "SELECT pg_sequence_last_value($1::regclass)", seq).Scan(&lv); err != nil {
		return 0, false, err
	}
	if !lv.Valid {
		return 0, false, nil
	}
	return lv.Int64 + inc, true, nil
}

func ignoreTxDone(err error) error {
	if errors.Is(err, sql.ErrTxDone) {
		return nil
	}
	return err
}

// pgMigrateLock is the key of the PostgreSQL advisory lock that serializes
// Migrate ("pushmigr" in ASCII). Advisory locks are per database.
const pgMigrateLock int64 = 0x707573686d696772

// lock takes the migration lock on conn and returns its release.
//
// MySQL: GET_LOCK on a name derived from the database's name (the lock is
// server-wide, so two databases on one server must not share it), retried
// until ctx ends. PostgreSQL: pg_advisory_lock, which waits until it is
// granted or ctx is cancelled.
func (s *Store) lock(ctx context.Context, conn *sql.Conn) (func() error, error) {
	release := context.WithoutCancel(ctx)
	if s.dialect == DialectPostgres {
		if _, err := conn.ExecContext(ctx, "SELECT pg_advisory_lock($1)", pgMigrateLock); err != nil {
			return nil, err
		}
		return func() error {
			_, err := conn.ExecContext(release, "SELECT pg_advisory_unlock($1)", pgMigrateLock)
			return err
		}, nil
	}
	var db sql.NullString
	if err := conn.QueryRowContext(ctx, "SELECT DATABASE()").Scan(&db); err != nil {
		return nil, err
	}
	if !db.Valid {
		return nil, errors.New("the DSN names no database")
	}
	sum := sha256.Sum256([]byte(db.String))
	name := "push.migrate." + hex.EncodeToString(sum[:16])
	for {
		var got sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT GET_LOCK(?, 5)", name).Scan(&got); err != nil {
			return nil, err
		}
		if got.Valid && got.Int64 == 1 {
			break
		}
		if err := ctx.Err(); err != nil {
			return nil, err
		}
	}
	return func() error {
		var released sql.NullInt64
		return conn.QueryRowContext(release, "SELECT RELEASE_LOCK(?)", name).Scan(&released)
	}, nil
}

// CheckConnection reports a connection the Store cannot write text
// through intact: on MySQL, a character set other than utf8mb4 (the DSN's
// charset=), which turns 4-byte text such as emoji into "?" or fails it.
// Migrate checks it too; a program that writes without migrating (a
// command-line tool) checks it when it opens the Store. nil on the other
// dialects, and inside WithTx.
func (s *Store) CheckConnection(ctx context.Context) error {
	if s.unbuilt() {
		return notBuilt("Store.CheckConnection")
	}
	const op = "CheckConnection"
	if s.dialect != DialectMySQL || s.conns == nil {
		return nil
	}
	conn, err := s.conns.Conn(ctx)
	if err != nil {
		return wrap(op, step("connect", err))
	}
	defer conn.Close()
	if err := s.checkMySQLCharset(ctx, conn); err != nil {
		return wrap(op, err)
	}
	return nil
}

// checkMySQLCharset refuses a connection whose character set cannot carry
// 4-byte UTF-8: emoji would fail in strict mode, or turn into "?"
// otherwise. go-sql-driver/mysql uses utf8mb4 unless the DSN says
// otherwise.
func (s *Store) checkMySQLCharset(ctx context.Context, conn *sql.Conn) error {
	var client, connection string
	if err := conn.QueryRowContext(ctx, "SELECT @@character_set_client, @@character_set_connection").Scan(&client, &connection); err != nil {
		return step("read character set", err)
	}
	if !strings.EqualFold(client, "utf8mb4") || !strings.EqualFold(connection, "utf8mb4") {
		return fmt.Errorf("the connection's character set is %s/%s; 4-byte text such as emoji needs utf8mb4: "+
			"remove charset= from the DSN (the driver's default is utf8mb4) or set charset=utf8mb4", client, connection)
	}
	return nil
}

// integerColumns are the product brief's integer columns (int(11) and
// tinyint(1)) of the tables another program may have created: the Store
// writes and reads them as integers.
var integerColumns = [][2]string{
	{"sys_devices", "id"},
	{"sys_user_devices", "id"}, {"sys_user_devices", "device_id"}, {"sys_user_devices", "state"},
	{"sys_user_devices", "screen_lock_state"},
	{"sys_push_messages", "id"}, {"sys_push_messages", "is_send_ios"}, {"sys_push_messages", "is_send_android"},
	{"sys_message_center", "id"}, {"sys_message_center", "notify_level"}, {"sys_message_center", "send_state"},
}

// checkPostgresIntegers refuses, before anything changes, tables another
// program created on PostgreSQL whose integer columns have another type:
// tinyint(1) is often made a boolean there, which the Store's 0 and 1
// cannot be written to, so that Migrate would succeed and every push then
// fail.
func (s *Store) checkPostgresIntegers(ctx context.Context, conn *sql.Conn) error {
	var pairs []string
	var args []any
	for i, c := range integerColumns {
		pairs = append(pairs, fmt.Sprintf("($%d, $%d)", 2*i+1, 2*i+2))
		args = append(args, c[0], c[1])
	}
	rows, err := conn.QueryContext(ctx, `SELECT table_name, column_name, data_type FROM information_schema.columns
		WHERE table_schema = current_schema() AND (table_name, column_name) IN (`+strings.Join(pairs, ", ")+`)
			AND data_type NOT IN ('smallint', 'integer', 'bigint')
		ORDER BY table_name, column_name`, args...)
	if err != nil {
		return step("read column types", err)
	}
	defer rows.Close()
	var bad []string
	for rows.Next() {
		var table, column, typ string
		if err := rows.Scan(&table, &column, &typ); err != nil {
			return step("read column types", err)
		}
		bad = append(bad, table+"."+column+" is "+typ)
	}
	if err := rows.Err(); err != nil {
		return step("read column types", err)
	}
	if len(bad) > 0 {
		return fmt.Errorf("adopted columns are not integers: %s; the Store writes the product brief's int(11) and tinyint(1) "+
			"as integers: alter them to smallint or integer and run Migrate again (nothing was changed)", strings.Join(bad, ", "))
	}
	return nil
}

// versionTable records the applied migrations.
func (s *Store) versionTable() string {
	switch s.dialect {
	case DialectMySQL:
		return `CREATE TABLE IF NOT EXISTS push_schema_migrations (
			component VARCHAR(32) NOT NULL,
			version INT NOT NULL,
			name VARCHAR(255) NOT NULL,
			applied_at DATETIME(6) NOT NULL,
			PRIMARY KEY (component, version)
		) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4 COLLATE=utf8mb4_bin`
	case DialectPostgres:
		return `CREATE TABLE IF NOT EXISTS push_schema_migrations (
			component VARCHAR(32) NOT NULL,
			version INTEGER NOT NULL,
			name VARCHAR(255) NOT NULL,
			applied_at TIMESTAMP(6) NOT NULL,
			PRIMARY KEY (component, version)
		)`
	default:
		return `CREATE TABLE IF NOT EXISTS push_schema_migrations (
			component TEXT NOT NULL,
			version INTEGER NOT NULL,
			name TEXT NOT NULL,
			applied_at DATETIME NOT NULL,
			PRIMARY KEY (component, version)
		)`
	}
}

// pending returns the migrations of ms not yet recorded in the version
// table and the highest version recorded, and creates that table if
// needed. Versions recorded by a newer build of the library are left
// alone. Before anything is created, it checks every unique key the
// pending migrations would add, so that a database whose rows forbid one
// is refused with nothing changed, on MySQL too.
func (s *Store) pending(ctx context.Context, q DBTX, ms []migration) (_ []migration, current int, _ error) {
	if len(ms) == 0 {
		return nil, 0, nil
	}
	applied, err := s.applied(ctx, q, ms[0].component)
	if err != nil {
		return nil, 0, err
	}
	current = highest(applied)
	var out []migration
	for _, m := range ms {
		if !applied[m.version] {
			out = append(out, m)
		}
	}
	var dups []error
	for _, m := range out {
		for _, st := range m.steps {
			if st.unique == nil {
				continue
			}
			d, err := s.checkUnique(ctx, q, st)
			if err != nil {
				return nil, current, fmt.Errorf("%s line %d: %w", m.name, st.line, err)
			}
			if d != nil {
				dups = append(dups, d)
			}
		}
	}
	if len(dups) > 0 {
		return nil, current, errors.Join(dups...)
	}
	if len(out) == 0 {
		// Up to date: no DDL at all, so that a user without the right
		// to create tables (a server run with DML rights only, after an
		// operator migrated) finds nothing to do.
		return nil, current, nil
	}
	if _, err := q.ExecContext(ctx, s.versionTable()); err != nil {
		return nil, current, step("create push_schema_migrations", err)
	}
	return out, current, nil
}

// missingTables returns the tables that the migrations of ms recorded as
// applied create and that the database lacks (dropped by hand, or lost),
// or holds as a re-creation left unfinished (recreating),
// and the version of the first migration that creates one of them: 0 when
// none is missing. On MySQL, a table the listing of the database's tables
// does not show is missing only if a query of it answers "no such table":
// MySQL lists only the tables the user has a right on, and a table this
// user may not read is not missing.
func (s *Store) missingTables(ctx context.Context, q DBTX, ms []migration, applied map[int]bool) ([]string, int, error) {
	if len(applied) == 0 {
		return nil, 0, nil
	}
	have, err := s.tableNames(ctx, q)
	if err != nil {
		return nil, 0, step("list tables", err)
	}
	unfinished, err := s.recreating(ctx, q, ms[0].component)
	if err != nil {
		return nil, 0, err
	}
	var missing []string
	from := 0
	for _, m := range ms {
		if !applied[m.version] {
			continue
		}
		for _, t := range m.tables {
			if (have[t] && !unfinished[t]) || slices.Contains(missing, t) {
				continue
			}
			if s.dialect == DialectMySQL && !unfinished[t] {
				// Only MySQL's listing leaves tables out (PostgreSQL's
				// pg_tables and SQLite's sqlite_master list them all, and
				// a failed query would abort a PostgreSQL transaction the
				// Store may be in). The name comes from the library's own
				// migration files (createTable's pattern): an identifier,
				// never input.
				_, err := q.ExecContext(ctx, "SELECT 1 FROM "+t+" WHERE 1 = 0")
				switch {
				case err == nil:
					continue
				case missingTable(err):
				case deniedTable(err):
					continue // there, or not, but not this user's to read
				default:
					return nil, 0, step("read "+t, err)
				}
			}
			missing = append(missing, t)
			if from == 0 {
				from = m.version
			}
		}
	}
	return missing, from, nil
}

// CreateMissingTables creates again, empty, the tables of applied
// migrations that the database lacks (MigrationStatus's Missing, of the
// "push" and "users" components), and returns them: it runs again the
// statements of the applied migrations that create, alter or index one of
// them, and no other (none that changes rows, none on a table that is
// there, whose lock it would wait for), so that each gets every column and
// index later migrations added; nothing is recorded again. Call it before
// Migrate: a pending migration may alter a missing table. It needs the
// right to create tables, holds the migration lock as Migrate does, and
// refuses a database a later release of the library migrated (its tables
// may have columns this build does not know: run that release's). On an
// error it returns the tables it created before it. The tables are marked
// in the version table before the first is created (recreateComponent),
// so that a re-creation cut short leaves them missing, for the next call
// to finish, rather than present without their later columns.
func (s *Store) CreateMissingTables(ctx context.Context) ([]string, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.CreateMissingTables")
	}
	st, err := s.MigrationStatus(ctx)
	if err != nil {
		return nil, err
	}
	var missing []string
	for _, c := range st {
		missing = append(missing, c.Missing...)
	}
	if len(missing) == 0 {
		return nil, nil // no lock, no DDL: the common case
	}
	var created []string
	for _, component := range []string{componentPush, componentUsers} {
		var recreated []string
		_, err := s.migrateWith(ctx, "CreateMissingTables", component, func(ctx context.Context, q DBTX, ms []migration) ([]migration, error) {
			applied, err := s.applied(ctx, q, component)
			if err != nil {
				return nil, err
			}
			missing, from, err := s.missingTables(ctx, q, ms, applied)
			if err != nil || len(missing) == 0 {
				return nil, err
			}
			latest, newest := ms[len(ms)-1].version, highest(applied)
			if newest > latest {
				return nil, fmt.Errorf("tables %s are missing from a database a later release migrated (%s version %d, this build's latest %d): create them with that release's pushctl migrate",
					strings.Join(missing, ", "), component, newest, latest)
			}
			rerun := map[string]bool{}
			for _, t := range missing {
				rerun[t] = true
			}
			// Marked before any of them is created, so that a re-creation
			// cut short (a kill, a lost connection: DDL commits statement
			// by statement on MySQL, migration by migration on
			// PostgreSQL) leaves them missing, to be finished by the next
			// run, not present and short of columns and indexes.
			if err := s.markRecreating(ctx, q, component, missing); err != nil {
				return nil, err
			}
			var out []migration
			for _, m := range ms {
				if applied[m.version] && m.version >= from {
					m.rerun = rerun
					out = append(out, m)
				}
			}
			out = append(out, migration{component: component, name: "the end of the re-creation",
				steps: []migrationStep{{sql: "DELETE FROM push_schema_migrations WHERE component = '" + recreateComponent(component) + "'"}},
				rerun: map[string]bool{"": true}})
			recreated = missing
			return out, nil
		})
		if err != nil {
			// Those of this component stay marked, missing, until a
			// later call finishes them: not created.
			return created, fmt.Errorf("create the missing tables %s: %w", strings.Join(missing, ", "), err)
		}
		created = append(created, recreated...)
	}
	return created, nil
}

// recreateComponent is the component under which the version table marks
// the tables of component whose re-creation (CreateMissingTables) began
// and has not ended: one row a table, its name in name. Readers of
// component's versions never see them.
func recreateComponent(component string) string { return component + "+recreate" }

// recreating returns the tables of component whose re-creation began and
// did not end (recreateComponent).
func (s *Store) recreating(ctx context.Context, q DBTX, component string) (map[string]bool, error) {
	return versionColumn[string](ctx, s, q, "name", recreateComponent(component))
}

// markRecreating records that the re-creation of tables of component
// begins (recreateComponent): the marks of an earlier one cut short are
// replaced.
func (s *Store) markRecreating(ctx context.Context, q DBTX, component string, tables []string) error {
	c := recreateComponent(component)
	if _, err := s.exec(ctx, q, "DELETE FROM push_schema_migrations WHERE component = ?", c); err != nil {
		return step("mark the tables re-created", err)
	}
	for i, t := range tables {
		if _, err := s.exec(ctx, q, "INSERT INTO push_schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
			c, i+1, t, s.timeArg(s.now())); err != nil {
			return step("mark the tables re-created", err)
		}
	}
	return nil
}

// applied returns the versions of component recorded in the version
// table; none when the table does not exist yet.
func (s *Store) applied(ctx context.Context, q DBTX, component string) (map[int]bool, error) {
	return versionColumn[int](ctx, s, q, "version", component)
}

// highest is the highest of the applied versions, 0 when there is none:
// the database's version of a component.
func highest(applied map[int]bool) int {
	v := 0
	for a := range applied {
		v = max(v, a)
	}
	return v
}

// versionColumn returns the values of column ("version" or "name") of
// the version table's rows of component; none when the table does not
// exist yet.
func versionColumn[T comparable](ctx context.Context, s *Store, q DBTX, column, component string) (map[T]bool, error) {
	ok, err := s.tableExists(ctx, q, "push_schema_migrations")
	if err != nil || !ok {
		return nil, step("read push_schema_migrations", err)
	}
	rows, err := s.query(ctx, q, "SELECT "+column+" FROM push_schema_migrations WHERE component = ?", component)
	if err != nil {
		return nil, step("read push_schema_migrations", err)
	}
	defer rows.Close()
	out := map[T]bool{}
	for rows.Next() {
		var v T
		if err := rows.Scan(&v); err != nil {
			return nil, step("read push_schema_migrations", err)
		}
		out[v] = true
	}
	if err := rows.Err(); err != nil {
		return nil, step("read push_schema_migrations", err)
	}
	return out, nil
}

// checkUnique returns the duplicates that would make st fail, if its table
// exists and its conditions hold.
func (s *Store) checkUnique(ctx context.Context, q DBTX, st migrationStep) (*DuplicatesError, error) {
	// Rows cannot share a value of a table or column that is not there
	// yet: a later statement of the migration creates it.
	ok, err := s.tableExists(ctx, q, st.unique.table)
	if err != nil || !ok {
		return nil, err
	}
	for _, c := range st.unique.columns {
		ok, err := s.columnExists(ctx, q, st.unique.table, c)
		if err != nil || !ok {
			return nil, err
		}
	}
	if ok, err := s.allHold(ctx, q, st.conds); err != nil || !ok {
		return nil, err
	}
	return s.findDuplicates(ctx, q, st.unique)
}

// allHold reports whether every condition holds, stopping at the first
// that does not.
func (s *Store) allHold(ctx context.Context, q DBTX, conds []condition) (bool, error) {
	for _, c := range conds {
		ok, err := s.holds(ctx, q, c)
		if err != nil {
			return false, fmt.Errorf("condition %s: %w", c.kind, err)
		}
		if !ok {
			return false, nil
		}
	}
	return true, nil
}

// apply runs the steps of m whose conditions hold and records m.
func (s *Store) apply(ctx context.Context, q DBTX, m migration) error {
	for _, st := range m.steps {
		if m.rerun != nil && !m.rerun[st.table] {
			// Run again for the missing tables only: not a data step (it
			// ran once, on the rows there then), nor one on a table that
			// exists (on PostgreSQL, even a statement that finds its
			// index or column there takes the table's lock first).
			continue
		}
		run, err := s.allHold(ctx, q, st.conds)
		if err != nil {
			return fmt.Errorf("%s line %d: %w", m.name, st.line, err)
		}
		if !run {
			continue
		}
		if st.unique != nil {
			d, err := s.findDuplicates(ctx, q, st.unique)
			if err != nil {
				return fmt.Errorf("%s line %d: %w", m.name, st.line, err)
			}
			if d != nil {
				return d
			}
		}
		if _, err := q.ExecContext(ctx, st.sql); err != nil {
			return fmt.Errorf("%s line %d: %w", m.name, st.line, err)
		}
	}
	if m.rerun != nil {
		return nil // recorded already
	}
	_, err := s.exec(ctx, q, "INSERT INTO push_schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)",
		m.component, m.version, m.name, s.timeArg(s.now()))
	return step("record "+m.name, err)
}
