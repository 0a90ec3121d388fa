// Package dbtest opens fresh databases for tests of the SQL store and of
// the packages built on it (the message-center Scanner).
//
// # Overview
//
// Open returns a pool on a new, empty database of a dialect and its DSN;
// OpenPool opens more pools on that database, which behave like separate
// host instances; NewStore returns a migrated sqlstore.Store on a new
// database. Dialects lists the dialects, SQLite first, and
// SkipUnlessAvailable skips a test whose server is not configured before
// it does any work.
//
//	for _, d := range dbtest.Dialects() {
//		t.Run(string(d), func(t *testing.T) {
//			store := dbtest.NewStore(t, d)
//			…
//		})
//	}
//
// This package imports the three database/sql drivers (modernc.org/sqlite
// as "sqlite", go-sql-driver/mysql as "mysql", jackc/pgx/v5/stdlib as
// "pgx"), which library packages never do. Import it from tests only.
//
// # Databases
//
// SQLite lives in t.TempDir(), opened with sqlstore.SQLiteDSN (busy
// timeout, WAL, immediate transactions). MySQL/MariaDB and PostgreSQL get a
// database named push_<16 random hex digits> on the server that
// PUSH_TEST_MYSQL_DSN or PUSH_TEST_POSTGRES_DSN points at (utf8mb4 on
// MySQL), dropped when the test ends; parallel runs never collide. When
// the variable is not set, the test is skipped with a message naming it:
//
//	export PUSH_TEST_MYSQL_DSN='root@tcp(127.0.0.1:3306)/test'
//	export PUSH_TEST_POSTGRES_DSN='postgres://postgres@127.0.0.1:5432/test?sslmode=disable'
//
// # Errors
//
// A database that cannot be created, opened or reached fails the test at
// once (t.Fatal); a database that cannot be dropped fails it at cleanup.
//
// # Testing
//
// dbtest_test.go checks, on every dialect whose server is configured, that
// each Open gives a distinct empty database, that OpenPool reaches the
// same one, that the MySQL and PostgreSQL databases are dropped at
// cleanup and that NewStore's store is migrated; and that tests skip
// without their DSN.
package dbtest
