package main

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/url"
	"os"
	"strings"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// database is an open, configured database.
type database struct {
	cfg   serverenv.Config
	db    *sql.DB
	store *sqlstore.Store
}

// openDB reads the configuration and opens its database. Unless
// migrating, it refuses a database with pending migrations of the push
// tables, naming the command that applies them. Unless create, a SQLite
// database whose file does not exist is refused, not created (a mistyped
// path would read as a database not migrated). The caller closes it.
func (e *env) openDB(ctx context.Context, migrating, create bool) (*database, error) {
	return e.openDBFor(ctx, migrating, create, false)
}

// openDBFor is openDB; with providers the command pushes, and every
// variable must be good. Without, a bad vendor or Service setting, or
// credentials the provider refuses, is warned about and left out: the
// command reads and writes the database alone, and an operator can
// migrate or inspect it while that setting keeps the server from
// starting.
func (e *env) openDBFor(ctx context.Context, migrating, create, providers bool) (*database, error) {
	cfg, err := serverenv.Load(serverenv.ToolEnv(e.getenv))
	if err == nil && !providers && !cfg.Demo() {
		// What Load lets through and the providers refuse (a secret too
		// short, one appkey for both Umeng apps) is a bad vendor setting
		// too: status and devices list, which build the providers, failed
		// on it. The clients are built to be checked and dropped: they
		// hold nothing to close.
		_, err = serverenv.Providers(cfg, slog.New(slog.DiscardHandler))
	}
	if err != nil && !providers {
		dbCfg, dbErr := serverenv.Load(serverenv.DatabaseEnv(e.getenv))
		if dbErr != nil {
			return nil, dbErr
		}
		e.log.Warn("a setting other than the database's is left out: this command uses the database alone", slog.String("error", err.Error()))
		cfg, err = dbCfg, nil
	}
	if err != nil {
		return nil, err
	}
	if path, ok := sqliteFile(cfg); ok && !create {
		if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
			return nil, e.noSQLite(path)
		}
	}
	db, store, err := serverenv.Open(ctx, cfg)
	if err != nil {
		return nil, err
	}
	d := &database{cfg: cfg, db: db, store: store}
	if migrating {
		return d, nil
	}
	st, err := store.MigrationStatus(ctx)
	if err != nil {
		d.Close()
		return nil, err
	}
	if p := st[0].Pending; len(p) > 0 {
		d.Close()
		return nil, fmt.Errorf("the database of PUSH_DB_DSN is not migrated (%d migrations pending, from %s): run pushctl migrate first",
			len(p), p[0])
	}
	return d, nil
}

// Close closes the database.
func (d *database) Close() { _ = d.db.Close() } // nothing more to do with a close error at exit

// openService opens the database as openDB does and builds a
// push.Service on it with the providers the environment configures.
// Without any it fails naming the variables to set: pushctl never pushes
// through a fake. The caller closes the database.
func (e *env) openService(ctx context.Context) (*database, *push.Service, error) {
	return e.openWith(ctx, true, e.service)
}

// openReader opens the database and a Service for a command that only
// reads it (status, devices list). Those need no vendor: without
// credentials the Service gets a stand-in provider that refuses every send,
// so that an operator can read a database from a machine that holds no
// vendor secrets. Credentials the providers refuse are left out by
// openDBFor, with a warning: the command reads the database alone.
func (e *env) openReader(ctx context.Context) (*database, *push.Service, error) {
	return e.openWith(ctx, false, func(d *database) (*push.Service, error) {
		if !d.cfg.Demo() {
			// The providers' warnings (an Umeng platform without its
			// app) are about sending; a command that only reads keeps
			// quiet about them.
			return e.serviceLogging(d, slog.New(slog.DiscardHandler))
		}
		return push.New(push.Config{Store: d.store, Providers: []provider.Provider{readOnly{}}, Logger: e.log})
	})
}

// openWith opens the database as openDB does and builds its Service with
// build, closing the database when that fails.
func (e *env) openWith(ctx context.Context, providers bool, build func(*database) (*push.Service, error)) (*database, *push.Service, error) {
	d, err := e.openDBFor(ctx, false, false, providers)
	if err != nil {
		return nil, nil, err
	}
	svc, err := build(d)
	if err != nil {
		d.Close()
		return nil, nil, err
	}
	return d, svc, nil
}

// errReadOnly is what readOnly answers every send with.
var errReadOnly = errors.New("pushctl: this command only reads; no provider is configured")

// readOnly is the stand-in provider of openReader: it serves both
// platforms as far as push.New checks, and sends nothing.
type readOnly struct{}

func (readOnly) Name() string { return registry.DefaultPushPlatform }
func (readOnly) Capabilities(provider.Platform) provider.Capabilities {
	return provider.Capabilities{MaxTokens: 1}
}
func (readOnly) Send(context.Context, *provider.Request) (*provider.Receipt, error) {
	return nil, errReadOnly
}

func (e *env) service(d *database) (*push.Service, error) { return e.serviceLogging(d, e.log) }

// serviceLogging is service with the providers logging to plog.
func (e *env) serviceLogging(d *database, plog *slog.Logger) (*push.Service, error) {
	if d.cfg.Demo() {
		return nil, errors.New("no provider is configured: set " + serverenv.CredentialVariables)
	}
	ps, err := serverenv.Providers(d.cfg, plog)
	if err != nil {
		return nil, err
	}
	return push.New(push.Config{Store: d.store, Providers: ps, DefaultProvider: d.cfg.DefaultProvider(), Logger: e.log,
		Retry: push.RetryPolicy{Base: d.cfg.RetryBase}})
}

// noSQLite is the error of path, the file of cfg's SQLite database, not
// existing. It shows path only when path holds no password: a DSN of a
// database server that serverenv.Load did not take for one
// (user:pass@host/db) may hold one.
func (e *env) noSQLite(path string) error {
	if serverenv.DSNHoldsPassword(path) {
		return fmt.Errorf("PUSH_DB_DSN: no SQLite database at the path it names (not shown: it may hold a password); %s: "+
			"set PUSH_DB_DRIVER=mysql or postgres for a database server's DSN, or run pushctl migrate to create the SQLite database", e.sqliteDriver())
	}
	return fmt.Errorf("PUSH_DB_DSN: no SQLite database at %q (pushctl migrate creates one)", path)
}

// sqliteDriver says how the driver came to be sqlite: set, or by default.
func (e *env) sqliteDriver() string {
	if e.getenv("PUSH_DB_DRIVER") == "" {
		return "PUSH_DB_DRIVER defaults to sqlite"
	}
	return "PUSH_DB_DRIVER is sqlite"
}

// sqliteFile returns the file of c's database when it is SQLite on a
// file: a plain path, or a URI ("file:push.db?_pragma=…", "push.db?…"),
// whose file part is unescaped. ok is false for another driver and for an
// in-memory database (":memory:", mode=memory, an empty name).
func sqliteFile(c serverenv.Config) (string, bool) {
	if c.DBDriver != "sqlite" {
		return "", false
	}
	name, query, _ := strings.Cut(c.DBDSN, "?")
	if rest, ok := strings.CutPrefix(name, "file:"); ok {
		name = rest
		if after, ok := strings.CutPrefix(name, "//"); ok {
			// file://host/path: only an empty or local host names a file.
			host, path, _ := strings.Cut(after, "/")
			if host != "" && host != "localhost" {
				return "", false
			}
			name = "/" + path
		}
		if u, err := url.PathUnescape(name); err == nil {
			name = u
		}
	}
	if q, err := url.ParseQuery(query); err == nil && q.Get("mode") == "memory" {
		return "", false
	}
	if name == "" || name == ":memory:" {
		return "", false
	}
	return name, true
}
