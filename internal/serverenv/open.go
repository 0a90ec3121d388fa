package serverenv

import (
	"context"
	"database/sql"
	"fmt"
	"strings"
	"time"

	"github.com/tuisong/push/registry/sqlstore"
)

// DriverName is the database/sql driver name of PUSH_DB_DRIVER's value:
// "pgx" for postgres, the value itself for sqlite and mysql.
func DriverName(dbDriver string) string {
	if dbDriver == "postgres" {
		return "pgx"
	}
	return dbDriver
}

// MySQLDSN returns dsn with interpolateParams=true unless it sets
// interpolateParams itself: go-sql-driver/mysql then sends a statement
// with its arguments in one round trip, instead of preparing it, running
// it and closing it (two round trips and a server-side statement each
// time). The driver falls back to preparing for the character sets where
// interpolation is unsafe.
func MySQLDSN(dsn string) string {
	if strings.Contains(dsn, "interpolateParams=") {
		return dsn
	}
	if strings.Contains(dsn, "?") {
		return dsn + "&interpolateParams=true"
	}
	return dsn + "?interpolateParams=true"
}

// SQLitePath returns the file of c's database when it is SQLite named by a
// plain path, not a DSN: Open gives it sqlstore.SQLiteDSN's settings, and
// SQLite creates the file when it is missing.
func SQLitePath(c Config) (string, bool) {
	if c.DBDriver != "sqlite" || strings.HasPrefix(c.DBDSN, "file:") || strings.Contains(c.DBDSN, "?") {
		return "", false
	}
	return c.DBDSN, true
}

// ConnectTimeout bounds Open's first exchange with the database.
var ConnectTimeout = 30 * time.Second

// Open opens and pings the database of c (PUSH_DB_DRIVER, PUSH_DB_DSN) and
// returns it with a Store on it. A SQLite DSN that is a plain path gets
// sqlstore.SQLiteDSN's settings, a MySQL DSN MySQLDSN's; the pool gets
// sqlstore.TunePool's settings. Its errors name PUSH_DB_DSN; a database
// that does not answer within ConnectTimeout is one. It applies no
// migration. The caller
// closes the *sql.DB; on error nothing is left open.
func Open(ctx context.Context, c Config) (db *sql.DB, store *sqlstore.Store, err error) {
	// A driver may print the DSN it could not read, password and all.
	defer func() { err = redactDSN(err, c.DBDSN) }()
	dsn := c.DBDSN
	if path, ok := SQLitePath(c); ok {
		dsn = sqlstore.SQLiteDSN(path)
	}
	if c.DBDriver == "mysql" {
		dsn = MySQLDSN(dsn)
	}
	db, err = sql.Open(DriverName(c.DBDriver), dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("PUSH_DB_DSN: open the %s database: %w", c.DBDriver, err)
	}
	sqlstore.TunePool(db)
	// A database that accepts the connection and never answers must not
	// hang the start without a word.
	cctx, cancel := context.WithTimeout(ctx, ConnectTimeout)
	defer cancel()
	if err = db.PingContext(cctx); err != nil {
		_ = db.Close() // the ping's error is the one to report
		if cctx.Err() != nil && ctx.Err() == nil {
			return nil, nil, fmt.Errorf("PUSH_DB_DSN: the %s database did not answer within %v", c.DBDriver, ConnectTimeout)
		}
		return nil, nil, fmt.Errorf("PUSH_DB_DSN: connect to the %s database: %w", c.DBDriver, err)
	}
	store, err = sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.Dialect(c.DBDriver), Location: c.DBLocation})
	if err == nil {
		// Before anything is written: a command that does not migrate
		// would otherwise write Chinese text garbled (charset=latin1).
		err = store.CheckConnection(cctx)
	}
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, store, nil
}
