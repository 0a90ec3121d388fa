package dbtest

import (
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"testing"

	"github.com/go-sql-driver/mysql"

	"github.com/tuisong/push/registry/sqlstore"
)

// DMLUser is a user of a MySQL or PostgreSQL test database with SELECT,
// INSERT, UPDATE and DELETE on its tables (and, on PostgreSQL, USAGE on
// their sequences) only, as a host may run the library once an operator
// has migrated.
type DMLUser struct {
	// DSN connects as the user.
	DSN string
	d   sqlstore.Dialect
	db  *sql.DB
	// name is the user's, quoted for the dialect's statements.
	name string
}

// NewDMLUser creates such a user on the database db (a pool of Open's,
// connected as the administrator) whose DSN is dsn, after its tables are
// created: the grants cover the tables that exist. The user is dropped
// when the test ends, before Open drops the database.
func NewDMLUser(t testing.TB, d sqlstore.Dialect, db *sql.DB, dsn string) *DMLUser {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := "push_dml_" + hex.EncodeToString(b[:])
	const password = "dml-only"
	u := &DMLUser{d: d, db: db}
	var stmts []string
	switch d {
	case sqlstore.DialectMySQL:
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			t.Fatalf("dbtest: %v", err)
		}
		u.name = "'" + name + "'@'%'"
		stmts = []string{"CREATE USER " + u.name + " IDENTIFIED BY '" + password + "'",
			"GRANT SELECT, INSERT, UPDATE, DELETE ON `" + cfg.DBName + "`.* TO " + u.name}
		t.Cleanup(func() { _, _ = db.Exec("DROP USER IF EXISTS " + u.name) })
		cfg.User, cfg.Passwd = name, password
		u.DSN = cfg.FormatDSN()
	case sqlstore.DialectPostgres:
		pu, err := url.Parse(dsn)
		if err != nil {
			t.Fatalf("dbtest: %v", err)
		}
		u.name = name
		stmts = []string{"CREATE ROLE " + name + " LOGIN PASSWORD '" + password + "'",
			"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO " + name,
			"GRANT USAGE ON ALL SEQUENCES IN SCHEMA public TO " + name}
		// The grants live in the test's database: they go with DROP
		// OWNED there, before the role can be dropped.
		t.Cleanup(func() {
			_, _ = db.Exec("DROP OWNED BY " + name)
			_, _ = db.Exec("DROP ROLE IF EXISTS " + name)
		})
		pu.User = url.UserPassword(name, password)
		u.DSN = pu.String()
	default:
		t.Fatalf("dbtest: NewDMLUser needs MySQL or PostgreSQL, not %q", d)
	}
	for _, q := range stmts {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("dbtest: %s: %v", q, err)
		}
	}
	return u
}

// RefuseLogin makes the server refuse the user's next logins, as an
// operator who locks the account or revokes its login does; sessions
// already open stay.
func (u *DMLUser) RefuseLogin(t testing.TB) {
	t.Helper()
	q := "ALTER USER " + u.name + " ACCOUNT LOCK"
	if u.d == sqlstore.DialectPostgres {
		q = "ALTER ROLE " + u.name + " NOLOGIN"
	}
	if _, err := u.db.Exec(q); err != nil {
		t.Fatalf("dbtest: %s: %v", q, err)
	}
}

// Deny takes the user's rights on table away, leaving those on the other
// tables: on MySQL, where the grant covers the database, by granting the
// rights table by table instead.
func (u *DMLUser) Deny(t testing.TB, table string) {
	t.Helper()
	var stmts []string
	switch u.d {
	case sqlstore.DialectMySQL:
		var dbName string
		if err := u.db.QueryRow("SELECT DATABASE()").Scan(&dbName); err != nil {
			t.Fatalf("dbtest: %v", err)
		}
		rows, err := u.db.Query("SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name <> ?", table)
		if err != nil {
			t.Fatalf("dbtest: %v", err)
		}
		var tables []string
		for rows.Next() {
			var name string
			if err := rows.Scan(&name); err != nil {
				t.Fatalf("dbtest: %v", err)
			}
			tables = append(tables, name)
		}
		if err := rows.Close(); err != nil {
			t.Fatalf("dbtest: %v", err)
		}
		stmts = append(stmts, "REVOKE SELECT, INSERT, UPDATE, DELETE ON `"+dbName+"`.* FROM "+u.name)
		for _, name := range tables {
			stmts = append(stmts, "GRANT SELECT, INSERT, UPDATE, DELETE ON `"+dbName+"`.`"+name+"` TO "+u.name)
		}
	default:
		stmts = []string{"REVOKE ALL ON " + table + " FROM " + u.name}
	}
	for _, q := range stmts {
		if _, err := u.db.Exec(q); err != nil {
			t.Fatalf("dbtest: %s: %v", q, err)
		}
	}
}
