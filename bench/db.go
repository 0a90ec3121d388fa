package main

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/go-sql-driver/mysql"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite"

	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng/umengtest"
)

// Default server DSNs of the scanner scenario, when neither -dsn nor the
// test suite's environment variable is set.
const (
	defaultMySQLDSN    = "root@tcp(127.0.0.1:3306)/test"
	defaultPostgresDSN = "postgres://postgres@127.0.0.1:5432/test?sslmode=disable"
)

// benchDB is a migrated database made for one run.
type benchDB struct {
	kind    string // sqlite, mysql, postgres
	dialect sqlstore.Dialect
	db      *sql.DB
	dsn     string // of the fresh database
	name    string // the fresh database's name (mysql, postgres)
	store   *sqlstore.Store
	drop    func() error
}

// Close closes the pool and drops the fresh database.
func (b *benchDB) Close() error {
	err := b.db.Close()
	if b.drop != nil {
		if derr := b.drop(); derr != nil && err == nil {
			err = derr
		}
	}
	return err
}

// serverDSN returns the DSN of the database server to make the fresh
// database on.
func serverDSN(kind, flagDSN string) string {
	if flagDSN != "" {
		return flagDSN
	}
	switch kind {
	case "mysql":
		if v := os.Getenv("PUSH_TEST_MYSQL_DSN"); v != "" {
			return v
		}
		return defaultMySQLDSN
	case "postgres":
		if v := os.Getenv("PUSH_TEST_POSTGRES_DSN"); v != "" {
			return v
		}
		return defaultPostgresDSN
	}
	return ""
}

func randomName(prefix string) string {
	var b [6]byte
	_, _ = rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// openBenchDB makes a fresh, migrated database: a file in dir for sqlite,
// a database push_bench_<random> on the server of dsn for mysql and
// postgres (dropped by Close).
func openBenchDB(ctx context.Context, kind, dsn, dir string) (*benchDB, error) {
	b := &benchDB{kind: kind, dialect: sqlstore.Dialect(kind)}
	driver := kind
	switch kind {
	case "sqlite":
		b.dsn = sqlstore.SQLiteDSN(filepath.Join(dir, "push.db"))
	case "mysql":
		cfg, err := mysql.ParseDSN(dsn)
		if err != nil {
			return nil, fmt.Errorf("mysql dsn: %w", err)
		}
		admin, err := sql.Open("mysql", dsn)
		if err != nil {
			return nil, err
		}
		b.name = randomName("push_bench_")
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+b.name+" CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci"); err != nil {
			admin.Close()
			return nil, fmt.Errorf("create database on %s: %w", cfg.Addr, err)
		}
		b.drop = func() error {
			defer admin.Close()
			_, err := admin.ExecContext(context.Background(), "DROP DATABASE "+b.name)
			return err
		}
		cfg.DBName = b.name
		cfg.InterpolateParams = true // as the example server's DSN (internal/serverenv)
		b.dsn = cfg.FormatDSN()
	case "postgres":
		driver = "pgx"
		u, err := url.Parse(dsn)
		if err != nil {
			return nil, fmt.Errorf("postgres dsn: %w", err)
		}
		admin, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		b.name = randomName("push_bench_")
		if _, err := admin.ExecContext(ctx, "CREATE DATABASE "+b.name); err != nil {
			admin.Close()
			return nil, fmt.Errorf("create database on %s: %w", u.Host, err)
		}
		b.drop = func() error {
			defer admin.Close()
			_, err := admin.ExecContext(context.Background(), "DROP DATABASE "+b.name+" WITH (FORCE)")
			return err
		}
		u.Path = "/" + b.name
		b.dsn = u.String()
	default:
		return nil, fmt.Errorf("-db must be sqlite, mysql or postgres, got %q", kind)
	}
	var err error
	if b.db, err = sql.Open(driver, b.dsn); err != nil {
		b.Close()
		return nil, err
	}
	sqlstore.TunePool(b.db) // as the example server does (internal/serverenv)
	if b.store, err = sqlstore.New(b.db, sqlstore.Options{Dialect: b.dialect}); err != nil {
		b.Close()
		return nil, err
	}
	if err = b.store.Migrate(ctx); err != nil {
		b.Close()
		return nil, fmt.Errorf("migrate: %w", err)
	}
	return b, nil
}

// rebind turns ? placeholders into PostgreSQL's $n.
func (b *benchDB) rebind(q string) string {
	if b.dialect != sqlstore.DialectPostgres {
		return q
	}
	var out strings.Builder
	n := 0
	for _, c := range q {
		if c == '?' {
			n++
			out.WriteString("$" + strconv.Itoa(n))
			continue
		}
		out.WriteRune(c)
	}
	return out.String()
}

// insertRows inserts rows into table in multi-row statements, inside tx.
func (b *benchDB) insertRows(ctx context.Context, tx *sql.Tx, table string, cols []string, rows [][]any) error {
	const perStmt = 400
	one := "(" + strings.TrimSuffix(strings.Repeat("?,", len(cols)), ",") + ")"
	for start := 0; start < len(rows); start += perStmt {
		end := min(start+perStmt, len(rows))
		var args []any
		for _, r := range rows[start:end] {
			args = append(args, r...)
		}
		q := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES " +
			strings.TrimSuffix(strings.Repeat(one+",", end-start), ",")
		if _, err := tx.ExecContext(ctx, b.rebind(q), args...); err != nil {
			return fmt.Errorf("seed %s: %w", table, err)
		}
	}
	return nil
}

// userNum is the user_num of the i-th user (from 1).
func userNum(i int) string { return fmt.Sprintf("u%07d", i) }

// seedSpec describes the rows of a seed.
type seedSpec struct {
	users          int
	devicesPerUser int  // device j of a user is iOS when j is even, unless androidOnly
	androidOnly    bool // every device is Android
	centerRows     bool // one "push" row in sys_message_center per user
}

// seed writes the users' devices and links (and center rows) with raw SQL
// in one transaction, in the schema Migrate made. Ids are given, so that
// no read-back is needed; PostgreSQL's identity sequences are moved past
// them.
func (b *benchDB) seed(ctx context.Context, sp seedSpec) (devices int, err error) {
	now := time.Now().UTC().Format("2006-01-02 15:04:05")
	var devs, links, center [][]any
	id := 0
	for u := 1; u <= sp.users; u++ {
		user := userNum(u)
		for j := 0; j < sp.devicesPerUser; j++ {
			id++
			platform, token := "ios", umengtest.IOSToken(fmt.Sprintf("%s-%d", user, j))
			if sp.androidOnly || j%2 == 1 {
				platform, token = "android", umengtest.AndroidToken(fmt.Sprintf("%s-%d", user, j))
			}
			uuid := fmt.Sprintf("%s-dev-%d", user, j)
			devs = append(devs, []any{id, "bench " + uuid, platform, platform, "1", uuid, token, "umeng", now, now})
			links = append(links, []any{id, user, id, 1, now, now})
		}
		if sp.centerRows {
			center = append(center, []any{u, "bench", "bench message for " + user, "push", 0, user, 0, now, now})
		}
	}
	tx, err := b.db.BeginTx(ctx, nil)
	if err != nil {
		return 0, err
	}
	defer func() {
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = b.insertRows(ctx, tx, "sys_devices",
		[]string{"id", "name", "platform", "os", "os_version", "uuid", "push_device_token", "push_platform", "created_at", "updated_at"}, devs); err != nil {
		return 0, err
	}
	if err = b.insertRows(ctx, tx, "sys_user_devices",
		[]string{"id", "user_num", "device_id", "state", "created_at", "updated_at"}, links); err != nil {
		return 0, err
	}
	if err = b.insertRows(ctx, tx, "sys_message_center",
		[]string{"id", "title", "content", "notify_mode", "notify_level", "receivers", "send_state", "created_at", "updated_at"}, center); err != nil {
		return 0, err
	}
	if b.dialect == sqlstore.DialectPostgres {
		for _, t := range []string{"sys_devices", "sys_user_devices", "sys_message_center"} {
			q := "SELECT setval(pg_get_serial_sequence('" + t + "', 'id'), COALESCE((SELECT MAX(id) FROM " + t + "), 0) + 1, false)"
			if _, err = tx.ExecContext(ctx, q); err != nil {
				return 0, fmt.Errorf("seed: move %s's id sequence: %w", t, err)
			}
		}
	}
	return len(devs), tx.Commit()
}

// count runs a COUNT(*) query.
func (b *benchDB) count(ctx context.Context, q string, args ...any) (int, error) {
	var n int
	err := b.db.QueryRowContext(ctx, b.rebind(q), args...).Scan(&n)
	return n, err
}
