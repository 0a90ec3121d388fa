package sqlstore_test

import (
	"context"
	"database/sql"
	"os"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// versions lists the recorded migrations as "component/version name".
func versions(rows [][]string) []string {
	out := make([]string, len(rows))
	for i, r := range rows {
		out[i] = r[0] + "/" + r[1] + " " + r[2]
	}
	return out
}

var wantVersions = []string{"push/1 0001_brief_tables", "push/2 0002_push_additions", "push/3 0003_token_locks", "push/4 0004_summary_tallies", "push/5 0005_class_and_overrides", "push/6 0006_receipt_counts", "push/7 0007_trace_parent", "push/8 0008_push_message_users", "push/9 0009_fanout", "push/10 0010_fanout_claims", "push/11 0011_retry_token", "push/12 0012_receipt_events", "push/13 0013_receipts_held", "push/14 0014_device_uuid", "push/15 0015_trimmed_tokens", "push/16 0016_lower_ios_tokens"}

// TestMigrateIsIdempotent: Migrate and MigrateUsers record each migration
// once, and running them again changes nothing.
func TestMigrateIsIdempotent(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		const q = "SELECT component, version, name FROM push_schema_migrations ORDER BY component, version"
		_, rows := queryStrings(t, db, q)
		assert.Equal(t, wantVersions, versions(rows))
		before := schemaOf(t, db, d)

		require.NoError(t, s.Migrate(t.Context()))
		assert.Equal(t, before, schemaOf(t, db, d), "a second Migrate changes nothing")

		require.NoError(t, s.MigrateUsers(t.Context()))
		require.NoError(t, s.MigrateUsers(t.Context()))
		_, rows = queryStrings(t, db, q)
		assert.Equal(t, append(wantVersions[:len(wantVersions):len(wantVersions)], "users/1 0001_sys_users"), versions(rows))
		assert.Equal(t, 0, count(t, db, "sys_users"))
	})
}

// TestMigrateConcurrently: instances that start at once, each with its own
// pool, all succeed, and the migrations are applied once.
func TestMigrateConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		const instances = 4
		db, dsn := dbtest.Open(t, d)
		stores := make([]*sqlstore.Store, instances)
		for i := range stores {
			pool := db
			if i > 0 {
				pool = dbtest.OpenPool(t, d, dsn)
			}
			s, err := sqlstore.New(pool, sqlstore.Options{Dialect: d})
			require.NoError(t, err)
			stores[i] = s
		}
		errs := make([]error, instances)
		results := make([][2]sqlstore.MigrateResult, instances)
		var wg sync.WaitGroup
		for i, s := range stores {
			wg.Go(func() {
				results[i][0], errs[i] = s.MigrateReport(t.Context())
				if errs[i] == nil {
					results[i][1], errs[i] = s.MigrateUsersReport(t.Context())
				}
			})
		}
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "instance %d", i)
		}
		// Each migration is reported by the one instance that applied
		// it: the others found it applied, and say they applied nothing.
		applied := map[string]int{}
		for _, r := range results {
			for _, c := range r {
				for _, name := range c.Applied {
					applied[c.Component+"/"+name]++
				}
				assert.Equal(t, c.To == c.From, len(c.Applied) == 0, "%+v", c)
			}
		}
		want := map[string]int{"users/0001_sys_users": 1}
		for _, v := range wantVersions {
			want["push/"+strings.Fields(v)[1]] = 1
		}
		assert.Equal(t, want, applied)
		_, rows := queryStrings(t, db, "SELECT component, version, COUNT(*) FROM push_schema_migrations GROUP BY component, version ORDER BY component, version")
		assert.Equal(t, [][]string{{"push", "1", "1"}, {"push", "2", "1"}, {"push", "3", "1"}, {"push", "4", "1"}, {"push", "5", "1"}, {"push", "6", "1"}, {"push", "7", "1"}, {"push", "8", "1"}, {"push", "9", "1"}, {"push", "10", "1"}, {"push", "11", "1"}, {"push", "12", "1"}, {"push", "13", "1"}, {"push", "14", "1"}, {"push", "15", "1"}, {"push", "16", "1"}, {"users", "1", "1"}}, rows)
	})
}

// TestMigrateReportSaysWhatItApplied: MigrateReport and
// MigrateUsersReport name the migrations they applied and the versions
// before and after; a second call applied nothing.
func TestMigrateReportSaysWhatItApplied(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
		require.NoError(t, err)
		var names []string
		for _, v := range wantVersions {
			names = append(names, strings.Fields(v)[1])
		}
		res, err := s.MigrateReport(t.Context())
		require.NoError(t, err)
		assert.Equal(t, sqlstore.MigrateResult{Component: "push", From: 0, To: len(wantVersions), Applied: names}, res)
		res, err = s.MigrateReport(t.Context())
		require.NoError(t, err)
		assert.Equal(t, sqlstore.MigrateResult{Component: "push", From: len(wantVersions), To: len(wantVersions)}, res)
		res, err = s.MigrateUsersReport(t.Context())
		require.NoError(t, err)
		assert.Equal(t, sqlstore.MigrateResult{Component: "users", From: 0, To: 1, Applied: []string{"0001_sys_users"}}, res)
		res, err = s.MigrateUsersReport(t.Context())
		require.NoError(t, err)
		assert.Equal(t, sqlstore.MigrateResult{Component: "users", From: 1, To: 1}, res)
	})
}

// TestMigrateReportAfterAFailure: a migration that fails partway leaves
// those before it applied on MySQL and PostgreSQL (each commits on its
// own), and MigrateReport names them with the error; SQLite applies all or
// none. Here the record of the last migration fails (a trigger refuses
// it), two being pending.
func TestMigrateReportAfterAFailure(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		s, db := newStore(t, d)
		last := len(wantVersions)
		_, err := db.ExecContext(ctx, dbtest.Rebind(d, "DELETE FROM push_schema_migrations WHERE component = 'push' AND version >= ?"), last-1)
		require.NoError(t, err)
		refuseVersionWrites(t, db, d, "INSERT", "NEW.version = "+strconv.Itoa(last))

		res, err := s.MigrateReport(ctx)
		require.ErrorContains(t, err, "refused by a test")
		want := sqlstore.MigrateResult{Component: "push", From: last - 2, To: last - 1, Applied: []string{strings.Fields(wantVersions[last-2])[1]}}
		if d == sqlstore.DialectSQLite {
			want.To, want.Applied = last-2, nil
		}
		assert.Equal(t, want, res)
		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, want.To, st[0].Current, "the result says what the database holds")
	})
}

// refuseVersionWrites makes every event (INSERT or DELETE) of a row of
// push_schema_migrations for which cond holds (a condition on NEW or OLD)
// fail with "refused by a test".
func refuseVersionWrites(t *testing.T, db *sql.DB, d sqlstore.Dialect, event, cond string) {
	t.Helper()
	var err error
	switch d {
	case sqlstore.DialectSQLite:
		_, err = db.ExecContext(t.Context(), "CREATE TRIGGER refuse BEFORE "+event+" ON push_schema_migrations WHEN "+cond+" BEGIN SELECT RAISE(ABORT, 'refused by a test'); END")
	case sqlstore.DialectMySQL:
		_, err = db.ExecContext(t.Context(), "CREATE TRIGGER refuse BEFORE "+event+" ON push_schema_migrations FOR EACH ROW BEGIN IF "+cond+" THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by a test'; END IF; END")
	case sqlstore.DialectPostgres:
		row := "NEW"
		if event == "DELETE" {
			row = "OLD"
		}
		_, err = db.ExecContext(t.Context(), "CREATE FUNCTION refuse() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF "+cond+" THEN RAISE EXCEPTION 'refused by a test'; END IF; RETURN "+row+"; END $$")
		require.NoError(t, err)
		_, err = db.ExecContext(t.Context(), "CREATE TRIGGER refuse BEFORE "+event+" ON push_schema_migrations FOR EACH ROW EXECUTE FUNCTION refuse()")
	}
	require.NoError(t, err)
}

// TestCreateMissingTablesThatFailsCreatedNone: a re-creation that fails
// (here its last step, which clears the marks) returns no table as
// created: they stay marked, missing, for the next call to finish (it
// returned every missing table as created).
func TestCreateMissingTablesThatFailsCreatedNone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		s, db := newStore(t, d)
		_, err := db.ExecContext(ctx, "DROP TABLE sys_message_center")
		require.NoError(t, err)
		refuseVersionWrites(t, db, d, "DELETE", "OLD.component = 'push+recreate'")

		created, err := s.CreateMissingTables(ctx)
		require.ErrorContains(t, err, "refused by a test")
		assert.Empty(t, created)
		missing, err := s.MissingTables(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"sys_message_center"}, missing)
	})
}

// TestMigrateAppliesAnUnrecordedLowerVersion: a database that has a
// version recorded but not one below it (a migration added by a later
// build with a lower number) gets the missing one applied, once.
func TestMigrateAppliesAnUnrecordedLowerVersion(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		_, err := db.ExecContext(t.Context(), dbtest.Rebind(d, "DELETE FROM push_schema_migrations WHERE component = ? AND version = ?"), "push", 2)
		require.NoError(t, err)

		require.NoError(t, s.Migrate(t.Context()))

		_, rows := queryStrings(t, db, "SELECT component, version, name FROM push_schema_migrations ORDER BY component, version")
		assert.Equal(t, wantVersions, versions(rows))
	})
}

// TestCreateMissingTables: tables of applied migrations that someone
// dropped are named by MigrationStatus and MissingTables (not as pending
// migrations); Migrate leaves them missing (it runs no DDL on a database
// that is up to date), and CreateMissingTables creates them again, empty,
// with every column and index the later migrations added, recording no
// migration twice and changing no row of the other tables (the data step
// of migration 16, which lower-cases iOS tokens, is not run again).
func TestCreateMissingTables(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		s, db := newStore(t, d)
		want := schemaOf(t, db, d)
		_, _, err := s.RegisterDevice(ctx, &registry.Device{UUID: "d1", Platform: "ios", PushToken: "tok1"}, "u1")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "UPDATE sys_devices SET push_device_token = 'ABCDEF0123'")
		require.NoError(t, err)
		dropped := []string{"sys_user_devices", "sys_message_center", "sys_push_deliveries", "sys_push_message_users"}
		for _, table := range dropped {
			_, err := db.ExecContext(ctx, "DROP TABLE "+table)
			require.NoError(t, err)
		}

		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		require.Equal(t, "push", st[0].Component)
		assert.Equal(t, dropped, st[0].Missing, "in the order the migrations create them")
		assert.Empty(t, st[0].Pending)
		missing, err := s.MissingTables(ctx)
		require.NoError(t, err)
		assert.Equal(t, st[0].Missing, missing)
		pending, err := s.PendingMigrations(ctx)
		require.NoError(t, err)
		assert.Empty(t, pending)
		require.NoError(t, s.Migrate(ctx))
		missing, err = s.MissingTables(ctx)
		require.NoError(t, err)
		assert.Len(t, missing, 4, "Migrate creates no table of an applied migration")

		// A writer of a table that is there holds it meanwhile: only the
		// statements on the missing tables run, so none waits for it.
		var writer *sql.Tx
		if d != sqlstore.DialectSQLite { // one writer at a time there
			writer, err = db.BeginTx(ctx, nil)
			require.NoError(t, err)
			_, err = writer.ExecContext(ctx, "UPDATE sys_devices SET name = 'busy'")
			require.NoError(t, err)
		}
		wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
		created, err := s.CreateMissingTables(wctx)
		cancel()
		require.NoError(t, err)
		assert.Equal(t, dropped, created)
		if writer != nil {
			require.NoError(t, writer.Rollback())
		}
		assert.Equal(t, want, schemaOf(t, db, d), "the schema as Migrate first made it")
		missing, err = s.MissingTables(ctx)
		require.NoError(t, err)
		assert.Empty(t, missing)
		_, rows := queryStrings(t, db, "SELECT component, version, name FROM push_schema_migrations ORDER BY component, version")
		assert.Equal(t, wantVersions, versions(rows), "each recorded once")
		_, rows = queryStrings(t, db, "SELECT push_device_token FROM sys_devices")
		assert.Equal(t, [][]string{{"ABCDEF0123"}}, rows, "no data step run again")
		assert.Equal(t, 0, count(t, db, "sys_push_deliveries"))
		created, err = s.CreateMissingTables(ctx)
		require.NoError(t, err)
		assert.Empty(t, created, "nothing left to create")

		// Read inside a host's transaction, the status leaves it usable
		// (a failed query would abort a PostgreSQL transaction).
		_, err = db.ExecContext(ctx, "DROP TABLE sys_push_deliveries")
		require.NoError(t, err)
		tx, err := db.BeginTx(ctx, nil)
		require.NoError(t, err)
		st, err = s.WithTx(tx).MigrationStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"sys_push_deliveries"}, st[0].Missing)
		var one int
		require.NoError(t, tx.QueryRowContext(ctx, "SELECT 1").Scan(&one), "the transaction goes on")
		require.NoError(t, tx.Rollback())
		_, err = s.CreateMissingTables(ctx)
		require.NoError(t, err)

		// A later release's schema: its tables may have columns this
		// build does not know, so it creates none.
		_, err = db.ExecContext(ctx, "DROP TABLE sys_push_receipts_held")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, dbtest.Rebind(d, "INSERT INTO push_schema_migrations (component, version, name, applied_at) VALUES (?, ?, ?, ?)"),
			"push", 99, "0099_from_a_later_release", "2027-01-01 00:00:00")
		require.NoError(t, err)
		_, err = s.CreateMissingTables(ctx)
		require.ErrorContains(t, err, "tables sys_push_receipts_held are missing from a database a later release migrated (push version 99, this build's latest 16)")
	})
}

// TestARecreationCutShortIsFinished: a re-creation of a dropped table cut
// short after its CREATE TABLE (a kill, a lost connection: DDL commits
// statement by statement on MySQL, migration by migration on PostgreSQL)
// left the table there without the columns and indexes later migrations
// add, and every status said up to date: every delivery's outcome then
// failed to be recorded. The table stays missing until the next
// CreateMissingTables finishes it, and the schema is then whole.
func TestARecreationCutShortIsFinished(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		s, db := newStore(t, d)
		want := schemaOf(t, db, d)
		_, err := db.ExecContext(ctx, "DROP TABLE sys_push_deliveries")
		require.NoError(t, err)
		require.NoError(t, s.CutShortRecreation(ctx, "sys_push_deliveries"))

		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"sys_push_deliveries"}, st[0].Missing, "the table is there, unfinished")
		assert.NotEqual(t, want, schemaOf(t, db, d))
		created, err := s.CreateMissingTables(ctx)
		require.NoError(t, err)
		assert.Equal(t, []string{"sys_push_deliveries"}, created)
		assert.Equal(t, want, schemaOf(t, db, d), "the schema as Migrate first made it")
		missing, err := s.MissingTables(ctx)
		require.NoError(t, err)
		assert.Empty(t, missing)
		_, rows := queryStrings(t, db, "SELECT component, version, name FROM push_schema_migrations ORDER BY component, version")
		assert.Equal(t, wantVersions, versions(rows), "no mark left, no migration recorded twice")
	})
}

// TestMigrateNeedsADB: inside a host transaction there is no connection
// to hold the migration lock on.
func TestMigrateNeedsADB(t *testing.T) {
	s, db := newStore(t, sqlstore.DialectSQLite)
	tx, err := db.BeginTx(t.Context(), nil)
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	for name, migrate := range map[string]func() error{
		"Migrate":      func() error { return s.WithTx(tx).Migrate(t.Context()) },
		"MigrateUsers": func() error { return s.WithTx(tx).MigrateUsers(t.Context()) },
	} {
		err := migrate()
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), "sqlstore: "+name+": needs a Store built on a *sql.DB")
	}
}

// TestMigratedMariaDBSchemaHasTheBriefsColumns: the schema Migrate (and
// MigrateUsers) creates on MariaDB holds every column of the product brief's five
// CREATE TABLE statements (parsed from the verbatim copies in testdata)
// with a compatible type: the same type, or a wider one of its family.
func TestMigratedMariaDBSchemaHasTheBriefsColumns(t *testing.T) {
	s, db := newStore(t, sqlstore.DialectMySQL)
	require.NoError(t, s.MigrateUsers(t.Context()))
	for _, table := range briefTables {
		for _, col := range briefColumns(t, table) {
			t.Run(table+"."+col.name, func(t *testing.T) {
				_, rows := queryStrings(t, db, `SELECT data_type, COALESCE(character_maximum_length, 0), is_nullable,
						COALESCE(character_set_name, '')
					FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?`,
					table, col.name)
				require.Len(t, rows, 1, "column missing")
				got := rows[0]
				assert.True(t, compatible(col.typ, got[0], got[1]), "brief %s, schema %s(%s)", col.typ, got[0], got[1])
				assert.Equal(t, col.notNull, got[2] == "NO", "NOT NULL as in the product brief")
				if got[3] != "" {
					assert.Equal(t, "utf8mb4", got[3], "text holds 4-byte UTF-8")
				}
			})
		}
	}
}

// compatible reports whether a column of MySQL data_type dataType and
// character length length holds every value of the product brief's type.
func compatible(brief, dataType, length string) bool {
	base, size, _ := strings.Cut(strings.TrimSuffix(brief, ")"), "(")
	switch base {
	case "varchar":
		want, _ := strconv.Atoi(size)
		got, _ := strconv.Atoi(length)
		return dataType == "varchar" && got >= want || dataType == "text" || dataType == "mediumtext" || dataType == "longtext"
	case "text":
		return dataType == "text" || dataType == "mediumtext" || dataType == "longtext"
	case "int":
		return dataType == "int" || dataType == "bigint"
	case "tinyint":
		return dataType == "tinyint" || dataType == "smallint" || dataType == "int"
	case "datetime":
		return dataType == "datetime"
	}
	return false
}

// TestMigrateRefusesBooleanFlagsOnPostgreSQL: brief tables another program
// created on PostgreSQL with tinyint(1) as boolean (as ORMs do) are
// refused before anything changes, naming each column, instead of being
// adopted and then failing every push.
func TestMigrateRefusesBooleanFlagsOnPostgreSQL(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	db, _ := dbtest.Open(t, sqlstore.DialectPostgres)
	ctx := t.Context()
	_, err := db.ExecContext(ctx, `CREATE TABLE sys_push_messages (id integer GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY,
		title varchar(255), content text, extra_params_string varchar(255), push_type varchar(32),
		ios_device_tokens text, android_device_tokens text, ios_task_id varchar(255), ios_ret varchar(32),
		ios_status varchar(32), ios_response text, ios_timestamp timestamp, is_send_ios boolean DEFAULT true,
		android_task_id varchar(255), android_ret varchar(32), android_status varchar(32), android_response text,
		android_timestamp timestamp, is_send_android boolean DEFAULT true, created_at timestamp, updated_at timestamp)`)
	require.NoError(t, err)
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectPostgres})
	require.NoError(t, err)
	err = s.Migrate(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "sys_push_messages.is_send_android is boolean, sys_push_messages.is_send_ios is boolean")
	assert.Contains(t, err.Error(), "nothing was changed")
	var tables int
	require.NoError(t, db.QueryRowContext(ctx,
		"SELECT count(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'sys_devices'").Scan(&tables))
	assert.Zero(t, tables, "no migration ran")

	_, err = db.ExecContext(ctx, `ALTER TABLE sys_push_messages
		ALTER COLUMN is_send_ios DROP DEFAULT, ALTER COLUMN is_send_ios TYPE smallint USING is_send_ios::int,
		ALTER COLUMN is_send_android DROP DEFAULT, ALTER COLUMN is_send_android TYPE smallint USING is_send_android::int`)
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx), "altered as the error says, the tables are adopted")
}

// TestMigrateRefusesATableThatIsNotTheBriefs: a table of one of the
// brief's names that another program made for something else is refused
// before anything changes, naming the columns it lacks (it was altered,
// Migrate succeeded, and every push failed), on every dialect.
func TestMigrateRefusesATableThatIsNotTheBriefs(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		ctx := t.Context()
		_, err := db.ExecContext(ctx, `CREATE TABLE sys_push_messages (id int PRIMARY KEY, foo varchar(20))`)
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, `CREATE TABLE sys_devices (id int PRIMARY KEY, serial varchar(20), owner varchar(20))`)
		require.NoError(t, err)
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
		require.NoError(t, err)
		err = s.Migrate(ctx)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "sys_devices lacks name, platform, os, os_version, uuid, push_device_token, alias, push_platform, created_at, updated_at")
		assert.Contains(t, err.Error(), "sys_push_messages lacks title, content,")
		assert.Contains(t, err.Error(), "nothing was changed")
		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		for _, c := range st {
			if c.Component == "push" {
				assert.Zero(t, c.Current, "no migration recorded")
			}
		}
		rows, err := db.QueryContext(ctx, "SELECT * FROM sys_push_messages")
		require.NoError(t, err)
		cols, err := rows.Columns()
		require.NoError(t, err)
		require.NoError(t, rows.Close())
		assert.Len(t, cols, 2, "the foreign table was not altered: %v", cols)
	})
}

// TestUnmigratedDatabaseSaysSo: a Store on a database Migrate has not run
// on fails its first call with the driver's "no such table" and a hint to
// migrate, on every dialect (the driver's words alone left a new user
// guessing).
func TestUnmigratedDatabaseSaysSo(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
		require.NoError(t, err)
		_, _, err = s.RegisterDevice(t.Context(), &registry.Device{UUID: "d1", Platform: "ios", PushToken: "tok"}, "u1")
		require.Error(t, err)
		assert.Contains(t, err.Error(), "(a table is missing: has Store.Migrate run on this database? MissingTables names those dropped since)")
		_, err = s.GetPushMessage(t.Context(), 1)
		require.Error(t, err)
		assert.Contains(t, err.Error(), "has Store.Migrate run")
		assert.NotErrorIs(t, err, registry.ErrNotFound, "a missing table is not a missing row")
	})
}

// TestMigrateWithAnotherDialectSaysSo: a Store built with a dialect that is
// not the database's fails Migrate saying so, before any statement of the
// wrong dialect runs (it failed with the database's words for a function
// or syntax it did not know, "function database() does not exist").
func TestMigrateWithAnotherDialectSaysSo(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		for _, other := range dbtest.Dialects() {
			if other == d {
				continue
			}
			s, err := sqlstore.New(db, sqlstore.Options{Dialect: other})
			require.NoError(t, err)
			err = s.Migrate(t.Context())
			require.Error(t, err, "%s store on a %s database", other, d)
			assert.Contains(t, err.Error(), `Options.Dialect is "`+string(other)+`"`)
		}
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()), "the right dialect migrates")
	})
}

// TestMigrateUpToDateNeedsOnlyDML: once the migrations are applied,
// Migrate and MigrateUsers run as a user with SELECT, INSERT, UPDATE and
// DELETE only find nothing to do, where they failed creating the version
// table (an operator's trial: a server run with DML rights could not
// start).
func TestMigrateUpToDateNeedsOnlyDML(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.DialectMySQL, sqlstore.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			db, dsn := dbtest.Open(t, d)
			s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
			require.NoError(t, err)
			require.NoError(t, s.Migrate(t.Context()))
			require.NoError(t, s.MigrateUsers(t.Context()))

			user := dbtest.NewDMLUser(t, d, db, dsn)
			// Nor read the host's sys_users, which push never reads: MySQL
			// then leaves it out of information_schema, and it is not
			// missing for that. (Before the user connects: MySQL applies
			// a database's grants at a connection's start.)
			user.Deny(t, "sys_users")
			restricted := dbtest.OpenPool(t, d, user.DSN)
			rs, err := sqlstore.New(restricted, sqlstore.Options{Dialect: d})
			require.NoError(t, err)
			// The user may not create tables: a DDL statement proves the
			// grants are what the test means.
			_, err = restricted.Exec("CREATE TABLE push_dml_probe (id integer)")
			require.Error(t, err, "the restricted user created a table")

			_, err = restricted.Exec("SELECT COUNT(*) FROM sys_users")
			require.Error(t, err, "the restricted user read sys_users")

			require.NoError(t, rs.Migrate(t.Context()))
			require.NoError(t, rs.MigrateUsers(t.Context()))
			st, err := rs.MigrationStatus(t.Context())
			require.NoError(t, err)
			for _, c := range st {
				assert.Empty(t, c.Pending, c.Component)
				assert.Empty(t, c.Missing, c.Component)
			}
			created, err := rs.CreateMissingTables(t.Context())
			require.NoError(t, err)
			assert.Empty(t, created)

			// And the Store works with those rights.
			_, _, err = rs.RegisterDevice(t.Context(), device("DML-ONLY", registry.PlatformAndroid, "dml-token"), "u-dml")
			require.NoError(t, err)
			_, _, err = rs.Backlog(t.Context(), time.Now())
			require.NoError(t, err)

			// A table dropped since: this user may not create it, and is
			// told which.
			_, err = db.Exec("DROP TABLE sys_push_receipts_held")
			require.NoError(t, err)
			_, err = rs.CreateMissingTables(t.Context())
			require.ErrorContains(t, err, "create the missing tables sys_push_receipts_held: ")
		})
	}
}

// TestREADMEIndexRecipesMatchTheMigrations: the README tells operators
// of large PostgreSQL tables to build migration 14's and 15's indexes
// CONCURRENTLY first, which the migrations then find by name. An index
// built from a recipe that differs from the migration (another partial
// condition) would be kept, and serve none of the queries.
func TestREADMEIndexRecipesMatchTheMigrations(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	oneLine := func(s string) string { return strings.Join(strings.Fields(s), " ") }
	text := oneLine(string(readme))
	for file, index := range map[string]string{
		"0014_device_uuid.sql":    "ix_sys_devices_uuid",
		"0015_trimmed_tokens.sql": "ix_sys_devices_spaced_token",
	} {
		sqlText, err := os.ReadFile("migrations/postgres/" + file)
		require.NoError(t, err)
		m := regexp.MustCompile(`(?s)CREATE INDEX IF NOT EXISTS ` + index + ` (ON .*?);`).FindSubmatch(sqlText)
		require.NotNil(t, m, "%s creates %s", file, index)
		recipe := "CREATE INDEX CONCURRENTLY IF NOT EXISTS " + index + " " + oneLine(string(m[1])) + "`"
		assert.Contains(t, text, recipe, "the README's recipe for %s", index)
	}
}

// TestLowerCasingKeepsTimestamps: migration 16 lower-cases the iOS tokens
// rows hold in upper case and keeps their updated_at, on every database
// (MySQL's column is ON UPDATE CURRENT_TIMESTAMP, which moved it to the
// migration's time).
func TestLowerCasingKeepsTimestamps(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		s, db := newStore(t, d)
		_, err := db.ExecContext(ctx, dbtest.Rebind(d, "INSERT INTO sys_devices (uuid, platform, push_device_token, push_platform, created_at, updated_at) VALUES (?, 'ios', ?, 'umeng', ?, ?)"),
			"old-iphone", "ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789ABCDEF0123456789", "2019-01-01 00:00:00", "2019-01-02 00:00:00")
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, "DELETE FROM push_schema_migrations WHERE component = 'push' AND version = 16")
		require.NoError(t, err)
		require.NoError(t, s.Migrate(ctx))
		var token, updated string
		q := "SELECT push_device_token, CAST(updated_at AS CHAR) FROM sys_devices WHERE uuid = 'old-iphone'"
		if d == sqlstore.DialectPostgres {
			q = "SELECT push_device_token, to_char(updated_at, 'YYYY-MM-DD HH24:MI:SS') FROM sys_devices WHERE uuid = 'old-iphone'"
		}
		require.NoError(t, db.QueryRowContext(ctx, q).Scan(&token, &updated))
		assert.Equal(t, "abcdef0123456789abcdef0123456789abcdef0123456789abcdef0123456789", token, "lower-cased")
		assert.True(t, strings.HasPrefix(updated, "2019-01-02 00:00:00"), "updated_at kept, got %s", updated)
	})
}

// TestMigrateCatchesUpIDSequences: rows written with their ids (a data
// load into adopted tables) leave a PostgreSQL sequence behind them; the
// next Migrate moves it past them, so that the Store's inserts draw free
// ids, and never moves a sequence back. (Every insert failed on a taken
// id, one a try, and a push without a dedupe key was reported as a dedupe
// key conflict.)
func TestMigrateCatchesUpIDSequences(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	ctx := t.Context()
	s, db := newStore(t, sqlstore.DialectPostgres)
	for _, q := range []string{
		"INSERT INTO sys_devices (id, uuid, platform, push_device_token, push_platform) VALUES (1, 'old-1', 'android', 'tok-old-1', 'umeng'), (2, 'old-2', 'android', 'tok-old-2', 'umeng')",
		"INSERT INTO sys_user_devices (id, user_num, device_id, state) VALUES (1, 'u-old', 1, 1), (2, 'u-old', 2, 1)",
		"INSERT INTO sys_push_messages (id, title, content, push_type, created_at, updated_at) VALUES (1, 't', 'c', 'users', now(), now()), (2, 't', 'c', 'users', now(), now())",
		"INSERT INTO sys_message_center (id, title, content, notify_mode, receivers, send_state, created_at, updated_at) VALUES (1, 't', 'c', 'sms', 'u', 1, now(), now()), (2, 't', 'c', 'sms', 'u', 1, now(), now())",
	} {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}
	_, _, err := s.RegisterDevice(ctx, &registry.Device{UUID: "new-1", Platform: "android", PushToken: "tok-new-1"}, "u1")
	require.Error(t, err, "the sequence is behind: the first id drawn is taken")

	require.NoError(t, s.Migrate(ctx))
	_, _, err = s.RegisterDevice(ctx, &registry.Device{UUID: "new-2", Platform: "android", PushToken: "tok-new-2"}, "u2")
	require.NoError(t, err)
	m := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "u2"}
	require.NoError(t, s.EnqueueCenterMessage(ctx, &m))
	assert.Greater(t, m.ID, int64(2))
	msg := &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u2"}}
	require.NoError(t, s.CreatePushMessage(ctx, msg, nil))
	assert.Greater(t, msg.ID, int64(2))

	var before int64
	require.NoError(t, db.QueryRowContext(ctx, "SELECT last_value FROM "+seqOf(t, db, "sys_devices")).Scan(&before))
	_, err = db.ExecContext(ctx, "SELECT nextval('"+seqOf(t, db, "sys_devices")+"') FROM generate_series(1, 50)")
	require.NoError(t, err)
	require.NoError(t, s.Migrate(ctx))
	var after int64
	require.NoError(t, db.QueryRowContext(ctx, "SELECT last_value FROM "+seqOf(t, db, "sys_devices")).Scan(&after))
	assert.Equal(t, before+50, after, "a sequence ahead of the rows is not moved back")
}

// seqOf is the id sequence of table.
func seqOf(t *testing.T, db *sql.DB, table string) string {
	t.Helper()
	var seq string
	require.NoError(t, db.QueryRowContext(t.Context(), "SELECT pg_get_serial_sequence($1, 'id')", table).Scan(&seq))
	return seq
}

// TestMigrateAsDMLSaysHowToMoveASequence: a role with the rights a server
// needs (USAGE on the sequences, not UPDATE) cannot move a sequence that
// lies behind its rows; Migrate says so and what to run, and leaves the
// sequences that are not behind alone (it read them in a way that needed
// SELECT on them, and every server so granted failed to start).
func TestMigrateAsDMLSaysHowToMoveASequence(t *testing.T) {
	ctx := t.Context()
	s, db, dsn := migratedPostgres(t)
	rs := dmlStore(t, db, dsn)
	require.NoError(t, rs.Migrate(ctx), "nothing behind: nothing to move")

	// One id drawn (1), then rows written with theirs past it.
	_, err := db.ExecContext(ctx, "INSERT INTO sys_devices (uuid, platform, push_device_token, push_platform) VALUES ('old-1', 'android', 'tok-old-1', 'umeng')")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "INSERT INTO sys_devices (id, uuid, platform, push_device_token, push_platform) VALUES (5, 'old-5', 'android', 'tok-old-5', 'umeng')")
	require.NoError(t, err)
	err = rs.Migrate(ctx)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "lies behind the rows of sys_devices (largest id 5, next value 2)")
	assert.Contains(t, err.Error(), "SELECT setval('public.sys_devices_id_seq', (SELECT MAX(id) FROM sys_devices))")
	require.NoError(t, s.Migrate(ctx), "a role allowed to moves it")
	require.NoError(t, rs.Migrate(ctx))

	// A sequence restarted ahead of the rows, not drawn from since: the
	// role that can read it leaves it alone (it was moved back to the
	// rows), and the one that cannot does not fail.
	_, err = db.ExecContext(ctx, "ALTER SEQUENCE sys_devices_id_seq RESTART WITH 1000")
	require.NoError(t, err)
	require.NoError(t, rs.Migrate(ctx))
	require.NoError(t, s.Migrate(ctx))
	var next int64
	require.NoError(t, db.QueryRowContext(ctx, "SELECT nextval('sys_devices_id_seq')").Scan(&next))
	assert.EqualValues(t, 1000, next, "not moved back")
}

// TestMigrateReadsOnlyItsOwnSequences: a sequence in a schema the roles
// may not use changes nothing (every sequence of the database was read,
// and the schema's refusal failed Migrate for the server's role).
func TestMigrateReadsOnlyItsOwnSequences(t *testing.T) {
	ctx := t.Context()
	_, db, dsn := migratedPostgres(t)
	for _, q := range []string{"CREATE SCHEMA audit", "CREATE SEQUENCE audit.s1"} {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err)
	}
	require.NoError(t, dmlStore(t, db, dsn).Migrate(ctx))
}

// migratedPostgres is a Store on a fresh, migrated PostgreSQL database (the
// test skipped without one), its pool and DSN.
func migratedPostgres(t *testing.T) (*sqlstore.Store, *sql.DB, string) {
	t.Helper()
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	db, dsn := dbtest.Open(t, sqlstore.DialectPostgres)
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectPostgres})
	require.NoError(t, err)
	require.NoError(t, s.Migrate(t.Context()))
	return s, db, dsn
}

// dmlStore is a Store on the PostgreSQL database of db and dsn as a role
// with the rights a server needs (dbtest.NewDMLUser), on the tables that
// exist.
func dmlStore(t *testing.T, db *sql.DB, dsn string) *sqlstore.Store {
	t.Helper()
	user := dbtest.NewDMLUser(t, sqlstore.DialectPostgres, db, dsn)
	rs, err := sqlstore.New(dbtest.OpenPool(t, sqlstore.DialectPostgres, user.DSN), sqlstore.Options{Dialect: sqlstore.DialectPostgres})
	require.NoError(t, err)
	return rs
}

// TestDuplicateIDIsNoDedupeConflict: a push whose id is taken (a sequence
// behind rows written with their ids) fails as the insert's error, with a
// dedupe key or without, and is never reported as a conflict of its key,
// which the Service would answer as a duplicate push.
func TestDuplicateIDIsNoDedupeConflict(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	ctx := t.Context()
	s, db := newStore(t, sqlstore.DialectPostgres)
	_, err := db.ExecContext(ctx, "INSERT INTO sys_push_messages (id, title, content, push_type, created_at, updated_at) VALUES (1, 't', 'c', 'users', now(), now()), (2, 't', 'c', 'users', now(), now())")
	require.NoError(t, err)
	for _, key := range []string{"", "fresh-key"} { // ids 1 and 2 drawn, and taken
		msg := &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u1"}, DedupeKey: key}
		err := s.CreatePushMessage(ctx, msg, nil)
		require.Error(t, err, "key %q", key)
		assert.NotErrorIs(t, err, registry.ErrConflict, "key %q: %v", key, err)
		assert.Contains(t, err.Error(), "sys_push_messages_pkey")
	}
	msg := &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u1"}, DedupeKey: "taken"}
	require.NoError(t, s.CreatePushMessage(ctx, msg, nil), "the id sequence moved on")
	again := &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u1"}, DedupeKey: "taken"}
	assert.ErrorIs(t, s.CreatePushMessage(ctx, again, nil), registry.ErrConflict, "a key taken is a conflict")

	// A delivery's id taken: no conflict of its idempotency key either
	// (a split of a delivery would fail it for good on one).
	delivery := func(key string) []*registry.Delivery {
		return []*registry.Delivery{{Provider: "umeng", Platform: registry.PlatformAndroid, Audience: registry.AudienceTokens,
			Tokens: []string{"tok-" + key}, IdempotencyKey: key, State: registry.DeliveryPending}}
	}
	require.NoError(t, s.CreatePushMessage(ctx, &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u1"}}, delivery("k1")))
	_, err = db.ExecContext(ctx, "SELECT setval('sys_push_deliveries_id_seq', 1, false)")
	require.NoError(t, err)
	err = s.CreatePushMessage(ctx, &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u1"}}, delivery("k2"))
	require.Error(t, err)
	assert.NotErrorIs(t, err, registry.ErrConflict, "%v", err)
	err = s.CreatePushMessage(ctx, &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u1"}}, delivery("k1"))
	assert.ErrorIs(t, err, registry.ErrConflict, "a key taken is a conflict")
}

// TestDedupeConflictWhateverTheKey: a dedupe key taken is a conflict on
// every database, whatever it says ("PRIMARY", ".id": MySQL's message
// quotes the value, next to the name of the key it broke).
func TestDedupeConflictWhateverTheKey(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		s, _ := newStore(t, d)
		for _, key := range []string{"PRIMARY", "for key 'PRIMARY'", "order.id", "x_pkey\""} {
			msg := &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u1"}, DedupeKey: key}
			require.NoError(t, s.CreatePushMessage(ctx, msg, nil), key)
			again := &registry.PushMessage{Title: "t", Content: "c", PushType: "users", UserNums: []string{"u1"}, DedupeKey: key}
			assert.ErrorIs(t, s.CreatePushMessage(ctx, again, nil), registry.ErrConflict, key)
		}
	})
}
