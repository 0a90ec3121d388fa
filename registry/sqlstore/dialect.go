package sqlstore

import (
	"strconv"
	"strings"
)

// Dialect names the SQL database behind a Store.
type Dialect string

// The supported dialects. Their values are the names hosts usually give
// the databases, not driver names: the Store never imports a driver.
const (
	// DialectMySQL is MySQL 8.0 or later, or MariaDB 10.6 or later (the
	// first versions with FOR UPDATE SKIP LOCKED).
	DialectMySQL Dialect = "mysql"
	// DialectPostgres is PostgreSQL 12 or later.
	DialectPostgres Dialect = "postgres"
	// DialectSQLite is SQLite 3.35 or later (UPDATE … RETURNING).
	DialectSQLite Dialect = "sqlite"
)

// rebind turns the ? placeholders of query into the dialect's own. The
// Store's SQL is written with ? and never has a ? inside a string literal,
// a quoted identifier or a comment; rebind skips single-quoted literals
// all the same, so that a literal can never shift the numbering.
func (d Dialect) rebind(query string) string {
	if d != DialectPostgres || !strings.Contains(query, "?") {
		return query
	}
	b := make([]byte, 0, len(query)+len(query)/4)
	n := 0
	for {
		i := strings.IndexAny(query, "'?")
		if i < 0 {
			b = append(b, query...)
			return string(b)
		}
		b = append(b, query[:i]...)
		if query[i] == '?' {
			n++
			b = append(b, '$')
			b = strconv.AppendInt(b, int64(n), 10)
			query = query[i+1:]
			continue
		}
		// A literal, copied whole up to its closing quote ('' inside it
		// closes and reopens it, which copies the same bytes).
		end := strings.IndexByte(query[i+1:], '\'')
		if end < 0 {
			b = append(b, query[i:]...)
			return string(b)
		}
		b = append(b, query[i:i+1+end+1]...)
		query = query[i+1+end+1:]
	}
}

// forUpdate is the row-locking suffix of a SELECT. SQLite has none: its
// write transactions (BEGIN IMMEDIATE) already exclude each other.
func (d Dialect) forUpdate() string {
	if d == DialectSQLite {
		return ""
	}
	return " FOR UPDATE"
}

// placeholders returns n comma-separated ? placeholders.
func placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?, ", n-1) + "?"
}
