package serverenv_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	_ "github.com/jackc/pgx/v5/stdlib"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	_ "modernc.org/sqlite"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry/sqlstore"
)

func envOf(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

// TestOpen: a plain SQLite path gets the Store's DSN settings; a database
// that cannot be reached is an error naming the driver, with nothing left
// open.
func TestOpen(t *testing.T) {
	c, err := serverenv.Load(envOf(map[string]string{"PUSH_DB_DSN": filepath.Join(t.TempDir(), "a b.db")}))
	require.NoError(t, err)
	db, st, err := serverenv.Open(context.Background(), c)
	require.NoError(t, err)
	defer db.Close()
	assert.Equal(t, sqlstore.DialectSQLite, st.Dialect())
	var mode string
	require.NoError(t, db.QueryRow("PRAGMA journal_mode").Scan(&mode))
	assert.Equal(t, "wal", mode, "SQLiteDSN's settings")

	c.DBDSN = filepath.Join(t.TempDir(), "missing", "dir", "push.db")
	_, _, err = serverenv.Open(context.Background(), c)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PUSH_DB_DSN: connect to the sqlite database")
}

// TestWarnAutovacuumOff: on PostgreSQL, start-up warns when autovacuum is
// off for the server, or else for a push table; SQLite has nothing to say.
func TestWarnAutovacuumOff(t *testing.T) {
	t.Run("sqlite", func(t *testing.T) {
		st, db := dbtest.NewStoreDB(t, sqlstore.DialectSQLite)
		var logs strings.Builder
		serverenv.WarnAutovacuumOff(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)), db, st)
		assert.Empty(t, logs.String())
	})
	t.Run("postgres settings", func(t *testing.T) {
		db, mock, err := sqlmock.New()
		require.NoError(t, err)
		defer db.Close()
		st, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectPostgres})
		require.NoError(t, err)
		for _, tt := range []struct {
			server string
			tables []string
			want   string
		}{
			{"off", nil, "PostgreSQL's autovacuum is off"},
			{"on", []string{"sys_message_center", "sys_push_deliveries"}, "tables=sys_message_center,sys_push_deliveries"},
			{"on", nil, ""},
		} {
			mock.ExpectQuery(`SELECT current_setting\('autovacuum'\)`).
				WillReturnRows(sqlmock.NewRows([]string{"setting", "tables"}).AddRow(tt.server, strings.Join(tt.tables, ",")))
			var logs strings.Builder
			serverenv.WarnAutovacuumOff(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)), db, st)
			if tt.want == "" {
				assert.Empty(t, logs.String())
			} else {
				assert.Contains(t, logs.String(), tt.want)
			}
		}
		mock.ExpectQuery(`SELECT current_setting\('autovacuum'\)`).WillReturnError(errors.New("permission denied"))
		var logs strings.Builder
		serverenv.WarnAutovacuumOff(t.Context(), slog.New(slog.NewTextHandler(&logs, nil)), db, st)
		assert.Contains(t, logs.String(), "could not read PostgreSQL's autovacuum settings")
		require.NoError(t, mock.ExpectationsWereMet())
	})
	t.Run("postgres", func(t *testing.T) {
		dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
		st, db := dbtest.NewStoreDB(t, sqlstore.DialectPostgres)
		var server string
		require.NoError(t, db.QueryRowContext(t.Context(), "SHOW autovacuum").Scan(&server))
		var logs strings.Builder
		log := slog.New(slog.NewTextHandler(&logs, nil))
		serverenv.WarnAutovacuumOff(t.Context(), log, db, st)
		if server != "on" {
			assert.Contains(t, logs.String(), "PostgreSQL's autovacuum is off")
			return
		}
		assert.Empty(t, logs.String(), "autovacuum on, and on every table")
		_, err := db.ExecContext(t.Context(), "ALTER TABLE sys_push_deliveries SET (autovacuum_enabled = false)")
		require.NoError(t, err)
		serverenv.WarnAutovacuumOff(t.Context(), log, db, st)
		assert.Contains(t, logs.String(), "autovacuum is off for push tables")
		assert.Contains(t, logs.String(), "tables=sys_push_deliveries")
	})
}

// TestOpenGivesUpOnASilentDatabase: a server that accepts the connection
// and never answers stops Open after ConnectTimeout, with an error naming
// PUSH_DB_DSN, instead of hanging the start.
func TestOpenGivesUpOnASilentDatabase(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close() // held open, never answered
		}
	}()
	old := serverenv.ConnectTimeout
	serverenv.ConnectTimeout = 300 * time.Millisecond
	defer func() { serverenv.ConnectTimeout = old }()
	c, err := serverenv.Load(envOf(map[string]string{"PUSH_DB_DRIVER": "postgres",
		"PUSH_DB_DSN": "postgres://push:s3cret@" + ln.Addr().String() + "/push?sslmode=disable"}))
	require.NoError(t, err)
	_, _, err = serverenv.Open(context.Background(), c)
	require.Error(t, err)
	assert.Equal(t, "PUSH_DB_DSN: the postgres database did not answer within 300ms", err.Error())
}

// TestDriverName maps PUSH_DB_DRIVER to database/sql driver names.
func TestDriverName(t *testing.T) {
	for in, want := range map[string]string{"sqlite": "sqlite", "mysql": "mysql", "postgres": "pgx"} {
		assert.Equal(t, want, serverenv.DriverName(in))
	}
}

// TestProviders builds the clients of the credential sets that are set,
// Umeng, JPush, Getui in that order, and none without credentials.
func TestProviders(t *testing.T) {
	for _, tt := range []struct {
		name string
		env  map[string]string
		want []string
	}{
		{"none", nil, nil},
		{"umeng android", map[string]string{"UMENG_ANDROID_APPKEY": "k", "UMENG_ANDROID_APP_MASTER_SECRET": "umeng-secret"}, []string{"umeng"}},
		{"getui and jpush", map[string]string{"GETUI_APPID": "i", "GETUI_APPKEY": "k", "GETUI_MASTER_SECRET": "getui-secret",
			"JPUSH_APPKEY": "k", "JPUSH_MASTER_SECRET": "jpush-secret"}, []string{"jpush", "getui"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c, err := serverenv.Load(envOf(tt.env))
			require.NoError(t, err)
			assert.Equal(t, tt.want == nil, c.Demo())
			ps, err := serverenv.Providers(c, nil)
			require.NoError(t, err)
			var names []string
			for _, p := range ps {
				names = append(names, p.Name())
			}
			assert.Equal(t, tt.want, names)
		})
	}
}

// TestJPushVIP: JPUSH_VIP reaches the JPush client, which then keeps a
// push ten days instead of three.
func TestJPushVIP(t *testing.T) {
	for env, want := range map[string]time.Duration{"": 3 * 24 * time.Hour, "false": 3 * 24 * time.Hour, "true": 10 * 24 * time.Hour} {
		c, err := serverenv.Load(envOf(map[string]string{"JPUSH_APPKEY": "k", "JPUSH_MASTER_SECRET": "jpush-secret", "JPUSH_VIP": env}))
		require.NoError(t, err)
		ps, err := serverenv.Providers(c, nil)
		require.NoError(t, err)
		require.Len(t, ps, 1)
		assert.Equal(t, want, ps[0].Capabilities(provider.Android).MaxTimeToLive, "JPUSH_VIP=%q", env)
	}
}

// A PUSH_API_TOKEN no client can send whole (HTTP drops a header value's
// surrounding white space; a token file keeps its last newline) is refused
// at start, naming the variable, not showing the value. (It was accepted,
// and every request was refused.) So is a UMENG_RECEIPT_URL that is not
// one, without showing it: it may carry a secret.
func TestTokensNoClientCanSendAreRefused(t *testing.T) {
	for _, tok := range []string{"s3cret-tok\n", "s3cret-tok ", " ", "s3cret\x01tok", "s3cret-tök"} {
		_, err := serverenv.Load(envOf(map[string]string{"PUSH_API_TOKEN": tok}))
		require.Error(t, err, "%q accepted", tok)
		assert.Contains(t, err.Error(), "PUSH_API_TOKEN")
		assert.NotContains(t, err.Error(), "s3cret")
	}
	_, err := serverenv.Load(envOf(map[string]string{"PUSH_API_TOKEN": "s3cret-Tok_1.~+/="}))
	require.NoError(t, err)

	_, err = serverenv.Load(envOf(map[string]string{"UMENG_RECEIPT_URL": "ftp://user:s3cret@example.com/r?secret=s3cret"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "UMENG_RECEIPT_URL")
	assert.NotContains(t, err.Error(), "s3cret")
}

// PUSH_DB_TIMEZONE is the Store's Location, UTC when unset; a name that
// is no zone is refused, naming the variable.
func TestDBTimezone(t *testing.T) {
	c, err := serverenv.Load(envOf(nil))
	require.NoError(t, err)
	assert.Equal(t, time.UTC, c.DBLocation)
	c, err = serverenv.Load(envOf(map[string]string{"PUSH_DB_TIMEZONE": "Asia/Shanghai"}))
	require.NoError(t, err)
	assert.Equal(t, "Asia/Shanghai", c.DBLocation.String())
	_, off := time.Date(2026, 12, 24, 0, 0, 0, 0, c.DBLocation).Zone()
	assert.Equal(t, 8*3600, off, "from the embedded zone database")
	_, err = serverenv.Load(envOf(map[string]string{"PUSH_DB_TIMEZONE": "Mars/Olympus"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "PUSH_DB_TIMEZONE")
}

// A PUSH_ADDR no listener takes is refused by Load, before anything
// starts (it was found only after the migrations ran and the fakes
// started).
func TestAddrIsChecked(t *testing.T) {
	for _, addr := range []string{"8080", "localhost", "127.0.0.1:99999", "127.0.0.1:", "[::1:8080"} {
		_, err := serverenv.Load(envOf(map[string]string{"PUSH_ADDR": addr}))
		require.Error(t, err, "%q accepted", addr)
		assert.Contains(t, err.Error(), "PUSH_ADDR")
	}
	for _, addr := range []string{":8080", "127.0.0.1:0", "[::1]:8080", "localhost:http"} {
		_, err := serverenv.Load(envOf(map[string]string{"PUSH_ADDR": addr}))
		assert.NoError(t, err, "%q refused", addr)
	}
}

// ToolEnv hides the server's own variables, and only those.
func TestToolEnv(t *testing.T) {
	vars := map[string]string{"PUSH_ADDR": "nohost", "PUSH_API_TOKEN": " bad ", "PUSH_SCAN_INTERVAL": "soon",
		"PUSH_DB_DSN": "x.db", "UMENG_IOS_APPKEY": "k"}
	_, err := serverenv.Load(envOf(vars))
	require.Error(t, err, "the server refuses its own bad settings")
	get := serverenv.ToolEnv(envOf(vars))
	for _, name := range serverenv.ServerOnly {
		assert.Empty(t, get(name), name)
	}
	assert.Equal(t, "x.db", get("PUSH_DB_DSN"))
	assert.Equal(t, "k", get("UMENG_IOS_APPKEY"))
	delete(vars, "UMENG_IOS_APPKEY")
	cfg, err := serverenv.Load(serverenv.ToolEnv(envOf(vars)))
	require.NoError(t, err)
	assert.Equal(t, "x.db", cfg.DBDSN)
}

// TestOpenNeverPrintsTheDSNPassword: a DSN the driver cannot read (pgx
// prints it in its error) or whose server refuses it never shows its
// password, in any of the DSN's forms.
func TestOpenNeverPrintsTheDSNPassword(t *testing.T) {
	for dsn, secrets := range map[string][]string{
		"host=127.0.0.1 port=99999 password = SuperSecretPW1":        {"SuperSecretPW1"},
		"host=127.0.0.1 port=99999 password='Quoted Secret PW2'":     {"Quoted Secret PW2", "Secret PW2"},
		"postgres://postgres:Super@SecretPW3@127.0.0.1:99999/db":     {"Super@SecretPW3", "SecretPW3"},
		"postgres://postgres:Plain%2FSecretPW4@127.0.0.1:99999/db":   {"Plain/SecretPW4", "Plain%2FSecretPW4"},
		"postgres://postgres:SecretPW5@127.0.0.1:1/db?sslmode=bogus": {"SecretPW5"},
		"postgres://postgres@127.0.0.1:99999/db?password=SecretPW6":  {"SecretPW6"},
		// Unquoted with a space: the driver masks the first word only,
		// and names the next in its reason.
		"user=postgres password=SecretPW7 Tail host=127.0.0.1":           {"SecretPW7", "Tail"},
		"user=postgres password=SecretPW8 Pw":                            {"SecretPW8", " Pw"},
		"host=127.0.0.1 port=99999 user=postgres password=Alpha Bravo==": {"Alpha", "Bravo"},
		"user=postgres password=SecretPW9 Br=avo host=127.0.0.1":         {"SecretPW9", "Br=avo", `"Br"`},
	} {
		c, err := serverenv.Load(envOf(map[string]string{"PUSH_DB_DRIVER": "postgres", "PUSH_DB_DSN": dsn}))
		require.NoError(t, err)
		_, _, err = serverenv.Open(context.Background(), c)
		require.Error(t, err, dsn)
		for _, s := range secrets {
			assert.NotContains(t, err.Error(), s, dsn)
		}
		assert.Contains(t, err.Error(), "PUSH_DB_DSN", dsn)
	}

	// The rest of the message stays readable: keys after the password,
	// with spaces around "=", are not taken for its words, and words of
	// the message that a password's also are stay.
	for dsn, want := range map[string]string{
		"host=127.0.0.1 port=5432 user=postgres password = pw sslmode = bogus": "sslmode is invalid",
		"user=postgres password=Secret to host=127.0.0.1 port=99999":           "PUSH_DB_DSN: connect to the postgres database",
		// A short password is taken out as a whole word only.
		"host=127.0.0.1 port=99999 user=postgres password=e sslmode=bogus": "PUSH_DB_DSN: connect to the postgres database",
	} {
		c, err := serverenv.Load(envOf(map[string]string{"PUSH_DB_DRIVER": "postgres", "PUSH_DB_DSN": dsn}))
		require.NoError(t, err)
		_, _, err = serverenv.Open(context.Background(), c)
		require.Error(t, err, dsn)
		assert.Contains(t, err.Error(), want, dsn)
		assert.NotContains(t, err.Error(), "Secret", dsn)
	}
}

// TestDSNHoldsPassword: every form of DSN whose password Open takes out
// of its errors holds one; a SQLite path, and a DSN without a password,
// do not.
func TestDSNHoldsPassword(t *testing.T) {
	for dsn, want := range map[string]bool{
		"push:secret@tcp(db:3306)/push?parseTime=false":  true,
		"postgres://push:secret@db/push":                 true,
		"postgres://push@db/push?password=secret":        true,
		"host=db user=push password='a secret' dbname=p": true,
		"push.db":                       false,
		"/var/lib/push/push.db":         false,
		"file:push.db?_pragma=foo(1)":   false,
		"root@tcp(127.0.0.1:3306)/test": false,
		"postgres://push@db/push":       false,
	} {
		assert.Equal(t, want, serverenv.DSNHoldsPassword(dsn), dsn)
	}
}

// TestServerDSNWithTheSQLiteDriver: a database server's DSN with
// PUSH_DB_DRIVER unset (or sqlite) is refused, naming the driver to set
// and no part of the DSN, where a key=value DSN made SQLite create a file
// by that name, password and all; a SQLite path or URI is not.
func TestServerDSNWithTheSQLiteDriver(t *testing.T) {
	for dsn, want := range map[string]string{
		"push:PW1@tcp(db:3306)/push?parseTime=false":  "PUSH_DB_DSN: looks like a MySQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=mysql",
		"push:PW1@unix(/run/mysqld/mysqld.sock)/push": "PUSH_DB_DSN: looks like a MySQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=mysql",
		"postgres://push:PW1@db/push?sslmode=disable": "PUSH_DB_DSN: looks like a PostgreSQL URL, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=postgres",
		"host=db user=push password=PW1 dbname=push":  "PUSH_DB_DSN: looks like a PostgreSQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=postgres",
		"HOST=db PASSWORD=PW1":                        "PUSH_DB_DSN: looks like a PostgreSQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=postgres",
	} {
		_, err := serverenv.Load(envOf(map[string]string{"PUSH_DB_DSN": dsn}))
		require.Error(t, err, dsn)
		assert.Equal(t, want, err.Error())
		assert.NotContains(t, err.Error(), "PW1")
	}
	_, err := serverenv.Load(envOf(map[string]string{"PUSH_DB_DRIVER": "sqlite", "PUSH_DB_DSN": "postgres://push@db/push"}))
	require.EqualError(t, err, "PUSH_DB_DSN: looks like a PostgreSQL URL, and PUSH_DB_DRIVER is sqlite: set PUSH_DB_DRIVER=postgres")
	for _, dsn := range []string{"push.db", "/var/lib/push/push.db", "file:push.db?_pragma=busy_timeout(10000)", "data/user@home.db",
		":memory:", "./host name.db"} {
		_, err := serverenv.Load(envOf(map[string]string{"PUSH_DB_DSN": dsn}))
		assert.NoError(t, err, dsn)
	}
}

// TestDriverLog: go-sql-driver/mysql's notes reach the structured log as
// one warn line each.
func TestDriverLog(t *testing.T) {
	var buf strings.Builder
	serverenv.DriverLog{Log: slog.New(slog.NewTextHandler(&buf, nil))}.Print("closing bad idle connection: ", io.EOF)
	assert.Contains(t, buf.String(), `level=WARN msg="mysql driver" message="closing bad idle connection: EOF"`)
}

// TestVendorAttrs: each vendor with credentials, its base URL without
// user info, and its mode.
func TestVendorAttrs(t *testing.T) {
	c := serverenv.Config{UmengBaseURL: "https://user:pw@msgapi.umeng.com", AndroidKey: "k", ProductionMode: true,
		JPushAppKey: "j", JPushBaseURL: "https://api.jpush.cn", GetuiAppID: "g", GetuiBaseURL: "https://restapi.getui.com/v2"}
	var buf strings.Builder
	slog.New(slog.NewTextHandler(&buf, nil)).LogAttrs(context.Background(), slog.LevelInfo, "x", c.VendorAttrs()...)
	assert.Contains(t, buf.String(), `umeng.base_url=https://msgapi.umeng.com umeng.mode=production jpush.base_url=https://api.jpush.cn jpush.apns=sandbox getui.base_url=https://restapi.getui.com/v2`)
	assert.NotContains(t, buf.String(), "pw")
	assert.Empty(t, serverenv.Config{UmengBaseURL: "https://msgapi.umeng.com"}.VendorAttrs(), "no credentials: no vendor")
}
