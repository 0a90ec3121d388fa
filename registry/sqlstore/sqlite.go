package sqlstore

import (
	"net/url"
	"strings"
)

// SQLiteDSN returns a modernc.org/sqlite DSN (driver name "sqlite") for
// the database file at path with the settings the Store needs when more
// than one connection uses the file, which database/sql pools always do:
//
//   - busy_timeout(10000): a connection waits up to 10 s for another's
//     write lock instead of failing at once with SQLITE_BUSY;
//   - journal_mode(WAL): readers do not block the writer, nor it them;
//   - _txlock=immediate: transactions take the write lock when they begin,
//     so two of them never deadlock upgrading a read lock (which SQLite
//     reports as SQLITE_BUSY without waiting).
//
// A host that builds its own DSN should set the same three. The path is
// escaped as a URI path, so it may hold spaces, '?' or '#'.
func SQLiteDSN(path string) string {
	u := url.URL{Scheme: "file", Opaque: escapePath(path)}
	return u.String() + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_txlock=immediate"
}

// escapePath escapes what would end or break the path part of a file: URI.
func escapePath(p string) string {
	r := strings.NewReplacer("%", "%25", "?", "%3F", "#", "%23", " ", "%20")
	return r.Replace(p)
}
