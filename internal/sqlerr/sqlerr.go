// Package sqlerr reads what a database driver's error means without
// importing the driver: pgx errors have a SQLState method, and
// go-sql-driver/mysql errors say their number and SQLSTATE in their text
// ("Error 1053 (08S01): Server shutdown in progress"), the driver's error
// type having them only as fields.
package sqlerr

import (
	"errors"
	"io"
	"regexp"
	"strings"
)

// State is the SQLSTATE of the first error in err's chain that reports
// one: a pgx error's SQLState(), or the state in a go-sql-driver/mysql
// error's text; "" when none does.
func State(err error) string {
	var se interface{ SQLState() string }
	if errors.As(err, &se) {
		return se.SQLState()
	}
	if m := mysqlError(err); m != nil {
		return m[2]
	}
	return ""
}

// MySQLNumber is the server error number of the first go-sql-driver/mysql
// error in err's chain, or "".
func MySQLNumber(err error) string {
	if m := mysqlError(err); m != nil {
		return m[1]
	}
	return ""
}

// mysqlErrorText matches the text of a go-sql-driver/mysql server error:
// its number, then its SQLSTATE when the server sent one.
var mysqlErrorText = regexp.MustCompile(`^Error (\d{4,5})\b(?: \(([0-9A-Z]{5})\))?`)

// mysqlError returns the submatches of mysqlErrorText for the first error
// in err's tree whose text matches.
func mysqlError(err error) []string {
	var m []string
	walk(err, func(e error) bool {
		m = mysqlErrorText.FindStringSubmatch(e.Error())
		return m != nil
	})
	return m
}

// walk calls found with each error of err's tree, depth first as errors.Is
// visits them (through Unwrap() error and Unwrap() []error: the stores
// join a statement's error with its rollback's), until found returns true;
// it reports whether one did.
func walk(err error, found func(error) bool) bool {
	for err != nil {
		if found(err) {
			return true
		}
		switch u := err.(type) {
		case interface{ Unwrap() error }:
			err = u.Unwrap()
		case interface{ Unwrap() []error }:
			for _, e := range u.Unwrap() {
				if walk(e, found) {
					return true
				}
			}
			return false
		default:
			return false
		}
	}
	return false
}

// Unavailable reports whether err says the database could not take the
// call for now, though it may in a moment: the connection failed or was
// lost (SQLSTATE class 08), the server is shutting down, restarting or
// not yet accepting connections (57P01–57P03 on PostgreSQL, and 55000
// for a database not accepting connections; 1053 on MySQL and MariaDB),
// has no connection to spare (53300; 1040, and for the user 1203 and
// 1226), refuses the login (SQLSTATE class 28: a role that may no longer
// log in, a changed password; 1044, 1045, 1130 and 1698 on MySQL and
// MariaDB, and a locked account, 3118 and 4151), or killed the connection
// (1927, 4031), a lock was not granted in
// time (55P03; 1205), or the connection broke mid-call: go-sql-driver/mysql's
// "invalid connection", pgx's "conn closed", or a read cut short
// (io.ErrUnexpectedEOF). Errors joined with others (a
// statement's and its rollback's) are looked into.
func Unavailable(err error) bool {
	if err == nil {
		return false
	}
	switch s := State(err); {
	case strings.HasPrefix(s, "08"), strings.HasPrefix(s, "28"), s == "57P01", s == "57P02", s == "57P03", s == "53300", s == "55P03":
		return true
	case s == "55000" && strings.Contains(err.Error(), "not currently accepting connections"):
		// 55000 is any object not in the state a statement needs;
		// only this one passes.
		return true
	}
	switch MySQLNumber(err) {
	case "1040", "1053", "1203", "1205", "1226", "1927", "4031",
		"1044", "1045", "1130", "1698", "3118", "4151": // the login refused
		return true
	}
	return ConnectionLost(err)
}

// ConnectionLost reports whether err says the connection broke during the
// call: go-sql-driver/mysql's "invalid connection", pgx's "conn closed", or
// a read cut short (io.ErrUnexpectedEOF, as pgx reports a connection the
// server closed). A bare io.EOF is not taken as one: a store of the host's
// own may use it for the end of something else. If the call was a commit,
// what it did is unknown: it may have landed before the answer was lost.
func ConnectionLost(err error) bool {
	if err == nil {
		return false
	}
	if errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	return walk(err, func(e error) bool {
		switch e.Error() {
		case "invalid connection", "conn closed":
			return true
		}
		return false
	})
}
