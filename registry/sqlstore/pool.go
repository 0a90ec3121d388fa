package sqlstore

import (
	"database/sql"
	"time"
)

// Pool settings TunePool applies.
const (
	// PoolIdleConns is how many idle connections TunePool keeps: more
	// than the connections a Store uses at once under its defaults (a
	// Scanner's Concurrency of 8, four writers of each of its three
	// write queues on MySQL and PostgreSQL, and the host's own requests).
	PoolIdleConns = 32
	// PoolIdleTime is how long TunePool lets a connection stay idle
	// before the pool closes it, so that a burst's connections do not
	// stay open for ever.
	PoolIdleTime = 5 * time.Minute
)

// TunePool sets db's pool for the work of a Store: it keeps PoolIdleConns
// idle connections (closed after PoolIdleTime unused). It leaves the
// maximum of open connections as the host set it.
//
// database/sql keeps only two idle connections by default. A Scanner, or
// an API serving concurrent pushes, runs more statements at once than
// that, so connections are closed and opened again all the time: on
// PostgreSQL each one a new server process with its prepared statements
// parsed again, on SQLite a new handle with its schema read again. When
// this was added, the bench program's scanner on PostgreSQL handled about
// four times as many rows a second with it as with the default pool (see
// bench/RESULTS.md for the figures of each release). Call it once,
// after sql.Open, unless the host tunes its pool itself; set
// SetMaxIdleConns to at least the connections the Store may use at once.
func TunePool(db *sql.DB) {
	db.SetMaxIdleConns(PoolIdleConns)
	db.SetConnMaxIdleTime(PoolIdleTime)
}
