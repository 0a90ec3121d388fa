package dbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib" // database/sql driver "pgx"
	_ "modernc.org/sqlite"             // database/sql driver "sqlite"

	"github.com/tuisong/push/registry/sqlstore"
)

// The environment variables that point the tests at SQL servers. Each DSN
// names a database the tests may connect to; every test creates a
// database of its own next to it and drops it when done.
const (
	// EnvMySQL is a go-sql-driver/mysql DSN, e.g.
	// root@tcp(127.0.0.1:3306)/test. The user needs CREATE and DROP.
	EnvMySQL = "PUSH_TEST_MYSQL_DSN"
	// EnvPostgres is a pgx DSN URL, e.g.
	// postgres://postgres@127.0.0.1:5432/test?sslmode=disable. The user
	// needs CREATEDB.
	EnvPostgres = "PUSH_TEST_POSTGRES_DSN"
)

// Dialects lists every dialect the store supports, SQLite first because
// it always runs.
func Dialects() []sqlstore.Dialect {
	return []sqlstore.Dialect{sqlstore.DialectSQLite, sqlstore.DialectMySQL, sqlstore.DialectPostgres}
}

// DriverName is the database/sql driver name of dialect d.
func DriverName(d sqlstore.Dialect) string {
	switch d {
	case sqlstore.DialectMySQL:
		return "mysql"
	case sqlstore.DialectPostgres:
		return "pgx"
	default:
		return "sqlite"
	}
}

// Open creates a fresh, empty database of dialect d and returns a pool on
// it and its DSN (for OpenPool). SQLite lives in t.TempDir(); MySQL and
// PostgreSQL get a database named push_<random> on the server of EnvMySQL
// or EnvPostgres, dropped when the test ends, so parallel runs never see
// each other's rows. Without the environment variable the test is
// skipped, saying which variable to set.
func Open(t testing.TB, d sqlstore.Dialect) (*sql.DB, string) {
	t.Helper()
	var dsn string
	switch d {
	case sqlstore.DialectSQLite:
		dsn = sqlstore.SQLiteDSN(filepath.Join(t.TempDir(), "push.db"))
	case sqlstore.DialectMySQL:
		dsn = createMySQL(t, serverDSN(t, EnvMySQL, exampleMySQL))
	case sqlstore.DialectPostgres:
		dsn = createPostgres(t, serverDSN(t, EnvPostgres, examplePostgres))
	default:
		t.Fatalf("dbtest: unknown dialect %q", d)
	}
	return OpenPool(t, d, dsn), dsn
}

// OpenPool opens one more pool on the database at dsn, closed when the
// test ends: separate pools behave like separate host instances.
func OpenPool(t testing.TB, d sqlstore.Dialect, dsn string) *sql.DB {
	t.Helper()
	db, err := sql.Open(DriverName(d), dsn)
	if err != nil {
		t.Fatalf("dbtest: open %s: %v", d, err)
	}
	t.Cleanup(func() { _ = db.Close() })
	sqlstore.TunePool(db)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := db.PingContext(ctx); err != nil {
		t.Fatalf("dbtest: ping %s: %v", d, err)
	}
	return db
}

// NewStore opens a fresh database of dialect d (see Open) and returns a
// migrated Store on it with default options.
func NewStore(t testing.TB, d sqlstore.Dialect) *sqlstore.Store {
	t.Helper()
	s, _ := NewStoreDB(t, d)
	return s
}

// NewStoreDB is NewStore that also returns the pool the Store runs on,
// for tests that seed or inspect the database with SQL of their own.
func NewStoreDB(t testing.TB, d sqlstore.Dialect) (*sqlstore.Store, *sql.DB) {
	t.Helper()
	db, _ := Open(t, d)
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
	if err != nil {
		t.Fatalf("dbtest: sqlstore.New: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("dbtest: Migrate: %v", err)
	}
	return s, db
}

// SkipUnlessAvailable skips the test when dialect d needs a server whose
// DSN is not set, as Open would; call it before work that is useless
// without the database.
func SkipUnlessAvailable(t testing.TB, d sqlstore.Dialect) {
	t.Helper()
	switch d {
	case sqlstore.DialectMySQL:
		serverDSN(t, EnvMySQL, exampleMySQL)
	case sqlstore.DialectPostgres:
		serverDSN(t, EnvPostgres, examplePostgres)
	}
}

// Example DSNs for the skip messages: the local servers of the project's CI.
const (
	exampleMySQL    = "root@tcp(127.0.0.1:3306)/test"
	examplePostgres = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

func serverDSN(t testing.TB, env, example string) string {
	t.Helper()
	dsn := os.Getenv(env)
	if dsn == "" {
		t.Skipf("dbtest: %s is not set; set it to a DSN such as %s to run this test against that server", env, example)
	}
	return dsn
}

// databaseName returns a fresh name no other run uses.
func databaseName(t testing.TB) string {
	t.Helper()
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	return "push_" + hex.EncodeToString(b[:])
}

// admin runs statements on the server's own database of the DSN, with a
// deadline so that a hung server fails the test instead of hanging it.
func admin(t testing.TB, driver, dsn string, stmts ...string) error {
	t.Helper()
	db, err := sql.Open(driver, dsn)
	if err != nil {
		return err
	}
	defer db.Close()
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for _, s := range stmts {
		if _, err := db.ExecContext(ctx, s); err != nil {
			return fmt.Errorf("%s: %w", s, err)
		}
	}
	return nil
}

func createMySQL(t testing.TB, server string) string {
	t.Helper()
	cfg, err := mysql.ParseDSN(server)
	if err != nil {
		t.Fatalf("dbtest: %s: %v", EnvMySQL, err)
	}
	name := databaseName(t)
	if err := admin(t, "mysql", server, "CREATE DATABASE `"+name+"` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := admin(t, "mysql", server, "DROP DATABASE IF EXISTS `"+name+"`"); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	cfg.DBName = name
	return cfg.FormatDSN()
}

func createPostgres(t testing.TB, server string) string {
	t.Helper()
	u, err := url.Parse(server)
	if err != nil || !strings.HasPrefix(u.Scheme, "postgres") {
		t.Fatalf("dbtest: %s must be a postgres:// URL: %v", EnvPostgres, err)
	}
	name := databaseName(t)
	if err := admin(t, "pgx", server, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("dbtest: %v", err)
	}
	t.Cleanup(func() {
		if err := admin(t, "pgx", server, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("dbtest: %v", err)
		}
	})
	u.Path = "/" + name
	return u.String()
}
