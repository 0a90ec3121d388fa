package sqlstore

import (
	"errors"
	"fmt"
	"strings"

	"github.com/tuisong/push/internal/sqlerr"
	"github.com/tuisong/push/registry"
)

// wrap names the operation in err, keeping err matchable with errors.Is/As.
// An error that says a table is missing gets a hint: it is what a Store
// on a database Migrate has not run on answers, at its first call.
func wrap(op string, err error) error {
	if missingTable(err) {
		return fmt.Errorf("sqlstore: %s: %w (a table is missing: has Store.Migrate run on this database? MissingTables names those dropped since)", op, err)
	}
	return fmt.Errorf("sqlstore: %s: %w", op, err)
}

// missingTable reports whether err is a driver's "no such table": SQLSTATE
// 42P01 on PostgreSQL, error 1146 on MySQL and MariaDB, "no such table" on
// SQLite.
func missingTable(err error) bool {
	if err == nil {
		return false
	}
	return sqlState(err) == "42P01" || mysqlNumber(err) == "1146" || strings.Contains(err.Error(), "no such table")
}

// deniedTable reports whether err is MySQL's refusal of a table to a user
// without a right on it (1142, 1143, or 1044 for the database).
func deniedTable(err error) bool {
	switch mysqlNumber(err) {
	case "1142", "1143", "1044":
		return true
	}
	return false
}

// sqlState is the SQLSTATE of a pgx error in err's chain, or "".
func sqlState(err error) string { return sqlerr.State(err) }

// mysqlNumber is the server error number of the first go-sql-driver/mysql
// error in err's chain, or "".
func mysqlNumber(err error) string { return sqlerr.MySQLNumber(err) }

// notFound is the error of a lookup that found no row.
func notFound(what string, key any) error {
	return fmt.Errorf("%s %v: %w", what, key, registry.ErrNotFound)
}

// claimLost is the error of a finishing write whose claim token no longer
// holds the row.
func claimLost(what string, id int64) error {
	return fmt.Errorf("%s %d: %w", what, id, registry.ErrClaimLost)
}

// step names the statement that failed, inside an operation; a nil err
// stays nil.
func step(name string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s: %w", name, err)
}

// errCommit marks a transaction whose commit failed: unlike a statement's
// failure, it may have committed all the same (the connection was lost
// while the server committed). It is registry.ErrCommit, for callers.
var errCommit = registry.ErrCommit

// errClass sorts driver errors into what the Store reacts to.
type errClass int

const (
	classOther     errClass = iota
	classDuplicate          // a unique key was violated
	classRetry              // a deadlock or serialization failure: the transaction may be run again
)

// SQLite result codes (https://sqlite.org/rescode.html).
const (
	sqliteBusy             = 5
	sqliteLocked           = 6
	sqliteConstraintPKey   = 1555
	sqliteConstraintUnique = 2067
)

// classify finds out what a driver error means without importing the
// driver: pgx errors have SQLState(), modernc.org/sqlite errors have
// Code(), and go-sql-driver/mysql errors say their number in their text.
func (d Dialect) classify(err error) errClass {
	if err == nil {
		return classOther
	}
	switch d {
	case DialectPostgres:
		switch sqlState(err) {
		case "23505":
			return classDuplicate
		case "40001", "40P01":
			return classRetry
		}
	case DialectSQLite:
		var ce interface{ Code() int }
		if errors.As(err, &ce) {
			code := ce.Code()
			switch {
			case code == sqliteConstraintUnique || code == sqliteConstraintPKey:
				return classDuplicate
			case code&0xff == sqliteBusy || code&0xff == sqliteLocked:
				return classRetry
			}
		}
		if strings.Contains(err.Error(), "UNIQUE constraint failed") {
			return classDuplicate
		}
	case DialectMySQL:
		switch mysqlNumber(err) {
		case "1062":
			return classDuplicate
		case "1213":
			return classRetry
		}
	}
	return classOther
}

// conflict wraps a duplicate-key error as registry.ErrConflict, keeping the
// driver's error in the chain.
func conflict(what string, err error) error {
	return fmt.Errorf("%s: %w: %w", what, registry.ErrConflict, err)
}

// invalid returns a *registry.ValidationError for the Store's own checks,
// which cover the columns registry's validators do not know.
func invalid(field, format string, args ...any) error {
	return &registry.ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// keyDuplicate reports whether err, a duplicate (classDuplicate), is one
// of the unique index index on table's column, not of another key (the
// primary key, whose sequence may lie behind rows written with their
// ids): PostgreSQL's message names the index (in the quotes of its
// language), MySQL's ends with it (after the duplicated value, which it
// quotes), SQLite's names the column (and no value).
func (d Dialect) keyDuplicate(err error, table, column, index string) bool {
	msg := err.Error()
	switch d {
	case DialectMySQL:
		return strings.HasSuffix(msg, "'"+index+"'") || strings.HasSuffix(msg, "."+index+"'")
	case DialectSQLite:
		return strings.Contains(msg, table+"."+column)
	}
	return strings.Contains(msg, index)
}
