package serverenv

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

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

// Open opens and pings the database of c (PUSH_DB_DRIVER, PUSH_DB_DSN) and
// returns it with a Store on it. A SQLite DSN that is a plain path gets
// sqlstore.SQLiteDSN's settings. It applies no migration. The caller
// closes the *sql.DB; on error nothing is left open.
func Open(ctx context.Context, c Config) (*sql.DB, *sqlstore.Store, error) {
	dsn := c.DBDSN
	if c.DBDriver == "sqlite" && !strings.HasPrefix(dsn, "file:") && !strings.Contains(dsn, "?") {
		dsn = sqlstore.SQLiteDSN(dsn)
	}
	db, err := sql.Open(DriverName(c.DBDriver), dsn)
	if err != nil {
		return nil, nil, fmt.Errorf("open %s database: %w", c.DBDriver, err)
	}
	if err = db.PingContext(ctx); err != nil {
		_ = db.Close() // the ping's error is the one to report
		return nil, nil, fmt.Errorf("connect to the %s database: %w", c.DBDriver, err)
	}
	store, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.Dialect(c.DBDriver)})
	if err != nil {
		_ = db.Close()
		return nil, nil, err
	}
	return db, store, nil
}
