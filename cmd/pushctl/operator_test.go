package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/registry/sqlstore"
)

// --rejects naming the input file is refused, the input left whole. (The
// rejects file was created before the input was read: the input was
// emptied, and the import found "the file is empty".)
func TestImportRejectsNamingTheInputIsRefused(t *testing.T) {
	env := migrated(t)
	in := file(t, "uuid,platform,push_token,user_num\nd1,ios,tokAAAAAAAAAAAAAAAAAAAAAA,u1\n")
	before, err := os.ReadFile(in)
	require.NoError(t, err)
	r := runCLI(t, t.Context(), env, "devices", "import", "--rejects", in, in)
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--rejects")
	after, err := os.ReadFile(in)
	require.NoError(t, err)
	assert.Equal(t, string(before), string(after), "the input is left whole")
}

// Values other programs wrote reach the operator's terminal without
// control characters: no escape sequence rewrites the screen, no
// carriage return overwrites a line. (notify_mode, the summaries' status,
// ret and task id, and a device's uuid, push_platform and reason were
// printed raw.)
func TestForeignValuesReachTheTerminalWithoutControlCharacters(t *testing.T) {
	env := migrated(t)
	_, db := openStore(t, env)
	esc := "\x1b]0;pwn\x07\x1b[2J"
	_, err := db.Exec(`INSERT INTO sys_message_center (title, content, notify_mode, receivers, send_state, created_at, updated_at)
		VALUES ('t', 'c', ?, 'u1', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`, "push"+esc)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sys_push_messages (id, title, content, ios_status, ios_ret, ios_task_id, created_at, updated_at)
		VALUES (7, 't', 'c', ?, ?, ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`, "st"+esc, "ret\r", "task"+esc)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sys_devices (id, platform, uuid, push_device_token, push_platform, token_disabled_at, token_disabled_reason, created_at, updated_at)
		VALUES (9, 'ios', ?, 'tokBBBBBBBBBBBBBBBBBBBB', ?, '2026-01-01 00:00:00', ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`,
		"uu"+esc, "umeng"+esc, "why"+esc)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at) VALUES ('u9', 9, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`)
	require.NoError(t, err)

	for _, args := range [][]string{{"center", "tail", "--since-id", "0"}, {"status", "7"}, {"devices", "list", "u9"}} {
		ctx, cancel := context.WithTimeout(t.Context(), 1500*time.Millisecond) // tail runs until stopped
		r := runCLI(t, ctx, env, args...)
		cancel()
		require.NotEmpty(t, r.stdout, "%v: %s", args, r.stderr)
		assert.False(t, strings.ContainsAny(r.stdout, "\x1b\x07\r"), "%v printed a control character: %q", args, r.stdout)
		assert.Contains(t, r.stdout, "pwn", "%v: the value is shown, its control characters as spaces", args)
	}
}

// center enqueue refuses a row the Scanner would fail for good: a blank
// title or content, a --user naming nobody (or several). Nothing is queued.
func TestCenterEnqueueRefusesBlankInput(t *testing.T) {
	env := migrated(t)
	_, db := openStore(t, env)
	for _, args := range [][]string{
		{"--user", "u1", "--title", " ", "--content", "c"},
		{"--user", "u1", "--title", "t", "--content", "\t"},
		{"--user", " , ", "--title", "t", "--content", "c"},
		{"--user", "u1", "--user", "", "--title", "t", "--content", "c"},
	} {
		r := runCLI(t, t.Context(), env, append([]string{"center", "enqueue"}, args...)...)
		assert.Equal(t, exitUsage, r.code, "%q: %s", args, r.stderr)
	}
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM sys_message_center").Scan(&n))
	assert.Zero(t, n, "nothing queued")
	// One --user is one user: a value the receivers column would split is
	// refused, as the HTTP API refuses such a user_num.
	r := runCLI(t, t.Context(), env, "center", "enqueue", "--user", "u1，u2", "--title", "t", "--content", "c")
	assert.Equal(t, exitUsage, r.code, r.stderr)
	r = runCLI(t, t.Context(), env, "center", "enqueue", "--user", "u1", "--user", "u2", "--title", "t", "--content", "c")
	assert.Equal(t, exitOK, r.code, r.stderr)
}

// With PUSH_DB_TIMEZONE, the times pushctl writes are wall-clock times of
// that zone, as the other programs' NOW() writes them: --send-at
// 22:00+08:00 is stored 22:00 on China time, 14:00 without it. (No
// variable set the zone: every time was written in UTC, and rows other
// programs scheduled ran 8 hours late.)
func TestSendAtIsWrittenInTheDatabasesZone(t *testing.T) {
	for zone, want := range map[string]string{"": "2026-12-24T14:00:00", "Asia/Shanghai": "2026-12-24T22:00:00"} {
		env := migrated(t)
		env["PUSH_DB_TIMEZONE"] = zone
		_, db := openStore(t, env)
		r := runCLI(t, t.Context(), env, "center", "enqueue", "--user", "u1", "--title", "t", "--content", "c",
			"--send-at", "2026-12-24T22:00:00+08:00")
		require.Equal(t, exitOK, r.code, r.stderr)
		var got string
		require.NoError(t, db.QueryRow("SELECT send_at FROM sys_message_center").Scan(&got))
		assert.Contains(t, got, want, "PUSH_DB_TIMEZONE=%q", zone)
	}
}

// On MySQL, a DSN whose character set cannot carry Chinese text and emoji
// intact is refused before pushctl writes anything: center enqueue wrote
// "停机🎉" as "åœæœºðŸŽ‰" through charset=latin1 and exited 0 (only migrate
// checked the character set).
func TestMySQLCharsetIsCheckedBeforeWriting(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectMySQL)
	db, dsn := dbtest.Open(t, sqlstore.DialectMySQL)
	env := map[string]string{"PUSH_DB_DRIVER": "mysql", "PUSH_DB_DSN": dsn}
	require.Equal(t, exitOK, runCLI(t, t.Context(), env, "migrate").code)
	sep := "?"
	if strings.Contains(dsn, "?") {
		sep = "&"
	}
	env["PUSH_DB_DSN"] = dsn + sep + "charset=latin1"
	r := runCLI(t, t.Context(), env, "center", "enqueue", "--user", "u1", "--title", "停机🎉", "--content", "c")
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stderr, "character set")
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM sys_message_center").Scan(&n))
	assert.Zero(t, n, "nothing written")
}

// A command other than migrate refuses a SQLite path where no database
// is, creating nothing: a mistyped path read as a database "not migrated",
// and left an empty database file behind (migrate status, which says it
// changes nothing, included).
func TestMissingSQLiteDatabaseIsNotCreated(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ dsn, path string }{
		{dir + "/typo.db", dir + "/typo.db"},
		{"file:" + dir + "/uri.db?_pragma=busy_timeout(1000)", dir + "/uri.db"},
		{"file://" + dir + "/host.db?_pragma=busy_timeout(1000)", dir + "/host.db"},
		{dir + "/query.db?_pragma=busy_timeout(1000)", dir + "/query.db"},
		{"file:" + dir + "/esc%20aped.db?_pragma=busy_timeout(1000)", dir + "/esc aped.db"},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			env := map[string]string{"PUSH_DB_DRIVER": "sqlite", "PUSH_DB_DSN": tc.dsn}
			for _, args := range [][]string{{"migrate", "status"}, {"status", "1"}, {"devices", "list", "u1"},
				{"center", "enqueue", "--user", "u1", "--title", "t", "--content", "c"}} {
				r := runCLI(t, t.Context(), env, args...)
				assert.Equal(t, exitFailure, r.code, "%v: %s", args, r.stderr)
				assert.Contains(t, r.stderr, "no SQLite database at", "%v", args)
				_, err := os.Stat(tc.path)
				assert.ErrorIs(t, err, os.ErrNotExist, "%v created the file", args)
			}
			r := runCLI(t, t.Context(), env, "migrate")
			require.Equal(t, exitOK, r.code, r.stderr)
			_, err := os.Stat(tc.path)
			require.NoError(t, err, "migrate creates it")
			r = runCLI(t, t.Context(), env, "migrate", "status")
			assert.Equal(t, exitOK, r.code, r.stderr)
		})
	}
	r := runCLI(t, t.Context(), map[string]string{"PUSH_DB_DRIVER": "sqlite", "PUSH_DB_DSN": "file:mem?mode=memory&cache=shared"}, "migrate", "status")
	assert.NotContains(t, r.stderr, "no SQLite database at", "an in-memory database has no file")
}

// A MySQL DSN or a PostgreSQL DSN with PUSH_DB_DRIVER unset is read as a
// SQLite path, where there is no database: the error printed the DSN,
// password and all. It names the driver to set instead, shows no value
// that may hold a password, and still shows a path that holds none.
func TestServerDSNReadAsASQLitePathIsNotShown(t *testing.T) {
	t.Chdir(t.TempDir()) // migrate would create a SQLite file named after a DSN here
	const pw = "PWSEKRET77"
	hidden := "no SQLite database at the path it names (not shown: it may hold a password)"
	for _, tc := range []struct{ dsn, want string }{
		{"h2_op:" + pw + "@tcp(127.0.0.1:3306)/h2_my2", "looks like a MySQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=mysql"},
		{"push:" + pw + "@unix(/run/mysqld/mysqld.sock)/push?parseTime=false", "looks like a MySQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=mysql"},
		{"push:" + pw + "@/push", "looks like a MySQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=mysql"},
		{"postgres://push:" + pw + "@127.0.0.1:5432/push?sslmode=disable", "looks like a PostgreSQL URL, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=postgres"},
		{"postgresql://push:" + pw + "@db/push", "looks like a PostgreSQL URL, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=postgres"},
		{"host=db user=push password=" + pw + " dbname=push", "looks like a PostgreSQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=postgres"},
		{"backup:" + pw + "@old/push.db", hidden + "; PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=mysql or postgres"},
		// Without a password the value helps, and is shown.
		{"root@tcp(127.0.0.1:3306)/test", "looks like a MySQL DSN, and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=mysql"},
		{"data/push.db", `no SQLite database at "data/push.db" (pushctl migrate creates one)`},
	} {
		t.Run(tc.dsn, func(t *testing.T) {
			for _, args := range [][]string{{"migrate", "status"}, {"status", "1"}, {"devices", "list", "u1"}} {
				r := runCLI(t, t.Context(), map[string]string{"PUSH_DB_DSN": tc.dsn}, args...)
				assert.Equal(t, exitFailure, r.code, "%v: %s", args, r.stderr)
				assert.Contains(t, r.stderr, "pushctl: "+args[0], "%v", args)
				assert.Contains(t, r.stderr, "PUSH_DB_DSN: "+tc.want, "%v", args)
				assert.NotContains(t, r.stderr, pw, "%v: the password is shown", args)
				assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			}
		})
	}
	// A set PUSH_DB_DRIVER=sqlite is no default.
	r := runCLI(t, t.Context(), map[string]string{"PUSH_DB_DRIVER": "sqlite", "PUSH_DB_DSN": "postgres://push:" + pw + "@db/push"}, "status", "1")
	assert.Contains(t, r.stderr, "PUSH_DB_DSN: looks like a PostgreSQL URL, and PUSH_DB_DRIVER is sqlite: set PUSH_DB_DRIVER=postgres")
	assert.NotContains(t, r.stderr, pw)
	// migrate, which creates a SQLite database, refuses such a value
	// before it opens anything: a key=value DSN is a name SQLite would
	// create a file by, password and all.
	for _, dsn := range []string{"h2_op:" + pw + "@tcp(127.0.0.1:3306)/h2_my2", "host=db user=push password=" + pw + " dbname=push"} {
		r = runCLI(t, t.Context(), map[string]string{"PUSH_DB_DSN": dsn}, "migrate")
		assert.NotEqual(t, 0, r.code, r.stderr)
		assert.Contains(t, r.stderr, "and PUSH_DB_DRIVER defaults to sqlite: set PUSH_DB_DRIVER=")
		assert.NotContains(t, r.stderr, pw)
	}
	entries, err := os.ReadDir(".")
	require.NoError(t, err)
	assert.Empty(t, entries, "migrate created a file")
}

// A value the library refuses before it writes anything is a usage error
// (exit 2), as a bad flag is: it exited 1, which scripts read as a
// failure worth trying again.
func TestRefusedValuesAreUsageErrors(t *testing.T) {
	env := migrated(t)
	long := strings.Repeat("x", 300)
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"center", "enqueue", "--user", "u1", "--title", long, "--content", "c"}, "title"},
		{[]string{"devices", "list", long}, "user_num"},
	} {
		r := runCLI(t, t.Context(), env, tt.args...)
		assert.Equal(t, exitUsage, r.code, "%v: %s", tt.args[:2], r.stderr)
		assert.Contains(t, r.stderr, tt.want)
	}
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(env["PUSH_DB_DSN"]))
	require.NoError(t, err)
	defer db.Close()
	var n int
	require.NoError(t, db.QueryRow("SELECT COUNT(*) FROM sys_message_center").Scan(&n))
	assert.Zero(t, n, "nothing was queued")
}

// A --from-line no row of the file starts at or after (a typo, or the
// resume line of another file) is refused, exit 2: it exited 0 having
// skipped every row, and the operator read the file as imported.
func TestImportFromLinePastTheEndIsRefused(t *testing.T) {
	env := migrated(t)
	in := file(t, "uuid,platform,push_token,user_num\nd1,ios,"+umengToken(1, "ios")+",u1\nd2,ios,"+umengToken(2, "ios")+",u2\n")
	r := runCLI(t, t.Context(), env, "devices", "import", "--from-line", "30", in)
	assert.Equal(t, exitUsage, r.code, r.stderr)
	assert.Contains(t, r.stderr, "--from-line 30: the file's last row starts on line 3")
	assert.Contains(t, r.stdout, "imported=0")

	r = runCLI(t, t.Context(), env, "devices", "import", "--from-line", "3", in)
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "imported=1 ")
	assert.Contains(t, r.stdout, "skipped 1 rows before line 3")
}

// TestMigrateWarnsOfSpacedUserNums: pushctl migrate, run before
// switching from an old system, names the links whose user_num has spaces
// around it (which the Store does not take for the trimmed user's), with
// the SQL that finds them; a database without any gets no warning.
func TestMigrateWarnsOfSpacedUserNums(t *testing.T) {
	path := filepath.Join(t.TempDir(), "push.db")
	env := map[string]string{"PUSH_DB_DSN": path}
	r := runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "spaces around a user_num")

	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at)
		VALUES (' L002', 1, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`)
	require.NoError(t, err)
	r = runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "links another program wrote have spaces around a user_num")
	assert.Contains(t, r.stderr, "user_nums=1")
}

// TestMigrateWarnsOfUpperCaseTokens: pushctl migrate names the Umeng iOS
// devices whose token another program wrote in upper case (registrations
// store them in lower case, and the stored ones are compared as they
// are), with the statement that lower-cases them; a database without any
// gets no warning.
func TestMigrateWarnsOfUpperCaseTokens(t *testing.T) {
	path := filepath.Join(t.TempDir(), "push.db")
	env := map[string]string{"PUSH_DB_DSN": path}
	r := runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "spelled in upper case")

	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(path))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.Exec(`INSERT INTO sys_devices (platform, uuid, push_device_token, push_platform, created_at, updated_at)
		VALUES ('ios', 'legacy', ?, 'umeng', '2026-01-01 00:00:00', '2026-01-01 00:00:00')`,
		strings.ToUpper(umengToken(1, "ios")))
	require.NoError(t, err)
	r = runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "Umeng iOS devices hold tokens spelled in upper case")
	assert.Contains(t, r.stderr, "devices=1")
	assert.Contains(t, r.stderr, "UPDATE sys_devices SET push_device_token = LOWER(push_device_token)")

	// The statement it suggests does what it says.
	_, err = db.Exec(serverenv.UpperCaseTokensFix)
	require.NoError(t, err)
	r = runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, 0, r.code, r.stderr)
	assert.NotContains(t, r.stderr, "spelled in upper case")
}

// TestImportRejectsOverwritesOnlyARejectsFile: --rejects naming the
// database, or any file that is not a rejects file, is refused before
// anything is written, the file left whole; a refused header leaves an
// earlier rejects file whole; a rejects file is written again. (The file
// was created, emptied, before the input was read: naming the SQLite
// database replaced it with the rejects header.)
func TestImportRejectsOverwritesOnlyARejectsFile(t *testing.T) {
	env := migrated(t)
	in := file(t, "uuid,platform,push_token,user_num\nd1,android,"+umengToken(1, "android")+",u1\nd2,windows,x,u2\n")
	notes := filepath.Join(t.TempDir(), "notes.txt")
	require.NoError(t, os.WriteFile(notes, []byte("my notes\n"), 0o600))
	for _, path := range []string{env["PUSH_DB_DSN"], notes} {
		before, err := os.ReadFile(path)
		require.NoError(t, err)
		r := runCLI(t, t.Context(), env, "devices", "import", "--rejects", path, in)
		assert.Equal(t, exitUsage, r.code, r.stderr)
		assert.Contains(t, r.stderr, "is not a rejects file")
		after, err := os.ReadFile(path)
		require.NoError(t, err)
		assert.Equal(t, before, after, "%s left whole", path)
	}
	r := runCLI(t, t.Context(), env, "devices", "list", "u1")
	assert.Equal(t, exitOK, r.code, "the database still opens: %s", r.stderr)

	rej := filepath.Join(t.TempDir(), "rejects.csv")
	r = runCLI(t, t.Context(), env, "devices", "import", "--rejects", rej, in)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	first, err := os.ReadFile(rej)
	require.NoError(t, err)
	assert.Contains(t, string(first), "3,platform,")

	r = runCLI(t, t.Context(), env, "devices", "import", "--rejects", rej, file(t, "uuid;platform;push_token;user_num\n"))
	assert.Equal(t, exitUsage, r.code, r.stderr)
	after, err := os.ReadFile(rej)
	require.NoError(t, err)
	assert.Equal(t, first, after, "a refused header leaves the rejects file whole")

	r = runCLI(t, t.Context(), env, "devices", "import", "--rejects", rej, file(t, "uuid,platform,push_token,user_num\nd1,android,"+umengToken(1, "android")+",u1\n"))
	assert.Equal(t, exitOK, r.code, r.stderr)
	after, err = os.ReadFile(rej)
	require.NoError(t, err)
	assert.Equal(t, "line,field,reason,uuid,platform,push_token,user_num\n", string(after), "a new run's rejections only")
}

// TestImportResumedKeepsTheEarlierRejections: an import resumed with
// --from-line appends to the rejects file the interrupted run wrote,
// whose rejections stay, and does not write again a rejection of a line
// that run had read ahead and rejected already. (The file was emptied,
// and the resumed run exited 0 with the earlier rejections gone.)
func TestImportResumedKeepsTheEarlierRejections(t *testing.T) {
	env := migrated(t)
	in := file(t, "uuid,platform,push_token,user_num\n"+
		"d1,android,"+umengToken(1, "android")+",u1\n"+
		"d2,windows,x,u2\n"+
		"d3,android,"+umengToken(3, "android")+",u3\n"+
		"d4,android,"+umengToken(4, "android")+",\n"+
		"d5,beos,y,u5\n")
	rej := filepath.Join(t.TempDir(), "rejects.csv")
	// As the interrupted run left it (stopped at line 4 by a failed
	// write, it had read on): its header and the rejections of lines 3
	// and 5.
	require.NoError(t, os.WriteFile(rej, []byte("line,field,reason,uuid,platform,push_token,user_num\n"+
		"3,platform,bad,d2,windows,x,u2\n5,user_num,is required,d4,android,t,\n"), 0o600))
	r := runCLI(t, t.Context(), env, "devices", "import", "--rejects", rej, "--from-line", "4", in)
	assert.Equal(t, exitFailure, r.code, r.stderr)
	assert.Contains(t, r.stdout, "rejected=2")
	got, err := os.ReadFile(rej)
	require.NoError(t, err)
	recs, err := csv.NewReader(strings.NewReader(string(got))).ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 4, "one header, the earlier two rejections, the new one: %q", got)
	assert.Equal(t, "3", recs[1][0])
	assert.Equal(t, "5", recs[2][0])
	assert.Equal(t, []string{"6", "platform"}, recs[3][:2])
}

// TestImportResumedAfterACrashCutTheRejects: a rejects file whose last
// record a crash cut short (inside a quoted field, or mid-record) does not
// stop a resumed import (it failed to parse it), and a rejection of the
// cut line is written again whole, on a line of its own.
func TestImportResumedAfterACrashCutTheRejects(t *testing.T) {
	env := migrated(t)
	in := file(t, "uuid,platform,push_token,user_num\n"+
		"d1,android,"+umengToken(1, "android")+",u1\n"+
		"d2,windows,x,u2\n"+
		"d3,beos,y,u3\n")
	for _, cut := range []string{"3,platform,\"must be", "3,platfo"} {
		rej := filepath.Join(t.TempDir(), "rejects.csv")
		require.NoError(t, os.WriteFile(rej, []byte("line,field,reason,uuid,platform,push_token,user_num\n"+cut), 0o600))
		r := runCLI(t, t.Context(), env, "devices", "import", "--rejects", rej, "--from-line", "3", in)
		assert.Equal(t, exitFailure, r.code, r.stderr)
		assert.Contains(t, r.stdout, "rejected=2", "%q", cut)
		got, err := os.ReadFile(rej)
		require.NoError(t, err)
		lines := strings.Split(strings.TrimSuffix(string(got), "\n"), "\n")
		require.Len(t, lines, 4, "%q: header, the cut line, lines 3 and 4 whole: %q", cut, got)
		assert.True(t, strings.HasPrefix(lines[2], "3,platform,"), "%q", lines[2])
		assert.True(t, strings.HasPrefix(lines[3], "4,platform,"), "%q", lines[3])
	}
}

// TestImportProgressOfAPipe: the progress bar of a file with no size (a
// pipe) takes what is read. (It was a bar of 0 bytes, whose every write
// failed, failing the import of a pipe when standard error was a
// terminal.)
func TestImportProgressOfAPipe(t *testing.T) {
	r, w, err := os.Pipe()
	require.NoError(t, err)
	defer r.Close()
	defer w.Close()
	info, err := r.Stat()
	require.NoError(t, err)
	require.False(t, info.Mode().IsRegular())
	bar := importBar(info, io.Discard)
	n, err := bar.Write(make([]byte, 4096))
	require.NoError(t, err)
	assert.Equal(t, 4096, n)
}

// TestImportHeaderEchoesNoValue: a file whose lines end in a bare CR is
// one row to CSV, and a file without a header starts with values: the
// error says so without echoing the cell, which holds a token. A header
// behind a byte order mark, quoted as exporters write it, is read.
func TestImportHeaderEchoesNoValue(t *testing.T) {
	env := migrated(t)
	tok := umengToken(1, "android")
	r := runCLI(t, t.Context(), env, "devices", "import", file(t, "push_token,uuid,platform,user_num\r"+tok+",d1,android,u1\r"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "bare CR")
	assert.NotContains(t, r.stderr, tok[:12])
	for _, tok := range []string{tok, jpushtest.RegistrationID("jp1"), "1a0018970a8c2a4c3b2", "abc123"} {
		r = runCLI(t, t.Context(), env, "devices", "import", file(t, tok+",d1,android,u1\n"))
		assert.Equal(t, exitUsage, r.code)
		assert.Contains(t, r.stderr, "does the file lack its header row?")
		assert.NotContains(t, r.stderr, tok)
	}
	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_token,user_num,colour\n"))
	assert.Contains(t, r.stderr, `column "colour" is not one of`, "a misspelt name is shown")
	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "\ufeff\"uuid\",\"platform\",\"push_token\",\"user_num\"\n\"d1\",\"android\",\""+tok+"\",\"u1\"\n"))
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "imported=1 ")
}

// TestImportWithoutPushPlatformKeepsTheStoredOne: a file without a
// push_platform column leaves each stored device with its provider, as
// every column the file lacks; a new device gets the default. (Devices
// another provider serves were moved to the default one.)
func TestImportWithoutPushPlatformKeepsTheStoredOne(t *testing.T) {
	env := migrated(t) // no credentials: every provider accepted
	rid := jpushtest.RegistrationID("jp1")
	r := runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_token,user_num,push_platform\njp1,android,"+rid+",ujp,jpush\n"))
	require.Equal(t, exitOK, r.code, r.stderr)
	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_token,user_num,name\njp1,android,"+rid+",ujp,Phone\nnew1,android,"+umengToken(2, "android")+",ujp,\n"))
	require.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "imported=1 updated=1 ")
	st, _ := openStore(t, env)
	d, _, err := st.DeviceByUUID(t.Context(), "android", "jp1")
	require.NoError(t, err)
	assert.Equal(t, "jpush", d.PushPlatform, "kept")
	assert.Equal(t, "Phone", d.Name)
	d, _, err = st.DeviceByUUID(t.Context(), "android", "new1")
	require.NoError(t, err)
	assert.Equal(t, "umeng", d.PushPlatform, "the default")
}

// TestMigrateFinishesWhenInterrupted: an interrupt during migrate lets the
// migrations finish (they were cancelled mid-statement, and MySQL went on
// with an ALTER whose client was gone after the lock was given up).
func TestMigrateFinishesWhenInterrupted(t *testing.T) {
	vars := sqliteEnv(t)
	var out syncBuffer
	e := &env{stdout: &out, stderr: io.Discard, getenv: func(k string) string { return vars[k] }, log: slog.New(slog.DiscardHandler)}
	d, err := e.openDB(t.Context(), true, true)
	require.NoError(t, err)
	defer d.Close()
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.NoError(t, migrateAll(ctx, e, d))
	assert.Contains(t, out.String(), "push: version ")
	assert.Contains(t, out.String(), "up to date")
	pending, err := d.store.PendingMigrations(t.Context())
	require.NoError(t, err)
	assert.Empty(t, pending)
}

// TestFormatCharactersReachNoTerminal: a bidirectional override or a
// zero-width space another program wrote in a value is printed as a
// space, the zero-width joiner of an emoji kept. (oneLine replaced only
// control characters: U+202E reversed the rest of a devices list line.)
func TestFormatCharactersReachNoTerminal(t *testing.T) {
	assert.Equal(t, "evil gpj.exe", oneLine("evil\u202egpj.exe"))
	assert.Equal(t, "a b", oneLine("a\u200bb"))
	assert.Equal(t, "👨\u200d👩", oneLine("👨\u200d👩"))
}

// TestDashAsAFlagValue: "--" given as a flag's value is that value, not
// the end of the flags, so the flags after it are read as flags (they
// were taken for users: --class went unchecked, and the push was sent).
func TestDashAsAFlagValue(t *testing.T) {
	fs := flag.NewFlagSet("push", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	content := fs.String("content", "", "")
	class := fs.String("class", "", "")
	quiet := fs.Bool("quiet", false, "")
	title := fs.String("title", "", "")
	pos, err := parse(fs, []string{"u0", "--content", "--", "u1", "--class", "bogus"})
	require.NoError(t, err)
	assert.Equal(t, []string{"u0", "u1"}, pos)
	assert.Equal(t, "--", *content)
	assert.Equal(t, "bogus", *class)
	// After a real end of the flags, after a bool flag, after a flag
	// given with "=", or after a flag's value that looks like a flag
	// ("--content --title"), every argument is positional.
	for _, args := range [][]string{{"u0", "--", "u1", "--class", "x"}, {"--quiet", "--", "u1", "--class", "x"}, {"--content=c", "--", "u1", "--class", "x"},
		{"u0", "--content", "--title", "--", "u1", "--class", "x"}} {
		*class = ""
		pos, err = parse(fs, args)
		require.NoError(t, err)
		assert.Equal(t, []string{"u1", "--class", "x"}, pos[len(pos)-3:], "%v", args)
		assert.Empty(t, *class, "%v", args)
	}
	assert.True(t, *quiet)
	assert.Equal(t, "--title", *content, "the value of --content")
	assert.Empty(t, *title)
	r := runCLI(t, t.Context(), migrated(t), "push", "u0", "--title", "t", "--content", "--", "u1", "--class", "bogus")
	assert.Equal(t, exitUsage, r.code, r.stdout)
	assert.Contains(t, r.stderr, "--class")
}

// TestDevicesListSaysWhatItCannotRead: a link whose times cannot be read
// shows "-" and the unreadable columns in REASON, not 0001-01-01; a
// superseded link's reason does not say whose row supersedes it (an
// older duplicate login of the same user was said to be another user's).
func TestDevicesListSaysWhatItCannotRead(t *testing.T) {
	env := migrated(t)
	_, db := openStore(t, env)
	_, err := db.Exec(`INSERT INTO sys_devices (id, platform, uuid, push_device_token, push_platform, created_at, updated_at)
		VALUES (9, 'android', 'dev-9', 'tokCCCCCCCCCCCCCCCCCCCC', 'umeng', '2026-01-01 00:00:00', '2026-01-01 00:00:00')`)
	require.NoError(t, err)
	_, err = db.Exec(`INSERT INTO sys_user_devices (id, user_num, device_id, state, created_at, updated_at) VALUES
		(1, 'u9', 9, 1, 'not a date', '2026-01-01 00:00:00'),
		(2, 'u9', 9, 1, '2026-01-02 00:00:00', '2026-01-02 00:00:00')`)
	require.NoError(t, err)
	r := runCLI(t, t.Context(), env, "devices", "list", "u9")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stdout, "0001-01-01")
	assert.Contains(t, r.stdout, "unreadable: ")
	assert.Contains(t, r.stdout, "superseded: a newer row holds the phone")
	assert.NotContains(t, r.stdout, "another user")
}

// TestPushDedupeKey: --dedupe-key makes a script's retry of a push whose
// answer it lost send nothing: the second run prints the first push as a
// duplicate and exits 0.
func TestPushDedupeKey(t *testing.T) {
	env := sqliteWithDevices(t, 2)
	r := runCLI(t, t.Context(), env, "push", "u0", "--title", "t", "--content", "c", "--dedupe-key", "order-42-shipped")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "push_message_id=1 devices=2")
	r = runCLI(t, t.Context(), env, "push", "u0", "--title", "t", "--content", "c", "--dedupe-key", "order-42-shipped")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "push_message_id=1 duplicate: pushed before with this --dedupe-key; nothing sent (pushctl status 1 shows it)\n", r.stdout)
}

// TestImportRowLeftOpen: a quote left open runs a field over the rows
// after it; the import stops once it has read more than a row can hold,
// with the rows before it imported and the line to go on from, instead of
// reading the rest of the file into memory as one row. A header that
// long is refused before anything is written.
func TestImportRowLeftOpen(t *testing.T) {
	env := migrated(t)
	var b strings.Builder
	b.WriteString("uuid,platform,push_token,user_num\n")
	b.WriteString("d1,android," + umengToken(1, "android") + ",u1\n")
	b.WriteString("\"d2,android," + umengToken(2, "android") + ",u2\n")
	for i := 3; b.Len() < 3*maxRowBytes; i++ {
		fmt.Fprintf(&b, "d%d,android,%s,u%d\n", i, umengToken(i, "android"), i)
	}
	r := runCLI(t, t.Context(), env, "devices", "import", file(t, b.String()))
	assert.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "after line 2: a row runs over more than 64 KiB")
	assert.Contains(t, r.stderr, "--from-line 3")
	assert.Contains(t, r.stdout, "imported=1 ")

	// A quote closed a few rows on: one row rejected, saying which rows
	// it took in; the rows after it are imported.
	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_token,user_num\n"+
		"\"d5,android,"+umengToken(5, "android")+",u5\nd6,android,"+umengToken(6, "android")+",u6\",android,"+umengToken(7, "android")+",u7\n"+
		"d8,android,"+umengToken(8, "android")+",u8\n"))
	assert.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "imported=1 ")
	assert.Contains(t, r.stdout+r.stderr, "line 2: a quoted field runs over 2 lines (to line 3)")
	assert.NotContains(t, r.stdout+r.stderr, umengToken(6, "android"))

	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_token,user_num\nd9,android,"+strings.Repeat("x", 2*maxRowBytes)+",u9\n"))
	assert.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "after line 1: a row runs over more than 64 KiB", "a row of no quote, as long")

	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,\""+strings.Repeat("x", 2*maxRowBytes)+"\n"))
	assert.Equal(t, exitUsage, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "line 1: a row runs over more than 64 KiB")

	// A quote closed partway through the next line takes that line's
	// start into the field: rejected, not imported with a uuid holding a
	// row of the file.
	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_token,user_num\n"+
		"\"d15,android,"+umengToken(15, "android")+",u15\nd16\",android,"+umengToken(17, "android")+",u17\n"))
	assert.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout+r.stderr, "line 2: a quoted field runs over 2 lines (to line 3)")
	assert.Contains(t, r.stdout, "imported=0 ")

	// A device's name may hold a line break and commas.
	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_token,user_num,name\n"+
		"tv1,android,"+umengToken(20, "android")+",u20,\"Living room, 2F\nTV\"\n"))
	assert.Equal(t, exitOK, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout, "imported=1 ")

	// A long file whose lines end in a bare CR is told as such.
	var cr strings.Builder
	cr.WriteString("uuid,platform,push_token,user_num\r")
	for i := 30; cr.Len() < 2*maxRowBytes; i++ {
		fmt.Fprintf(&cr, "d%d,android,%s,u%d\r", i, umengToken(i, "android"), i)
	}
	r = runCLI(t, t.Context(), env, "devices", "import", file(t, cr.String()))
	assert.Equal(t, exitUsage, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "bare CR")
	assert.NotContains(t, r.stderr, umengToken(30, "android"))

	// A row that failed to be written before the reading stopped is not
	// hidden by the stop: the rerun starts at it.
	_, db := openStore(t, env)
	_, err := db.Exec(`CREATE TRIGGER boom BEFORE INSERT ON sys_devices WHEN NEW.uuid = 'dboom' BEGIN SELECT RAISE(ABORT, 'boom'); END`)
	require.NoError(t, err)
	b.Reset()
	b.WriteString("uuid,platform,push_token,user_num\ndboom,android," + umengToken(40, "android") + ",u40\n")
	b.WriteString("d41,android," + umengToken(41, "android") + ",u41\n\"d42,android,x,u42\n")
	for i := 43; b.Len() < 3*maxRowBytes; i++ {
		fmt.Fprintf(&b, "d%d,android,%s,u%d\n", i, umengToken(i, "android"), i)
	}
	r = runCLI(t, t.Context(), env, "devices", "import", "--workers", "1", file(t, b.String()))
	assert.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "line 2: ")
	assert.Contains(t, r.stderr, "boom")
	assert.Contains(t, r.stderr, "rerun with --from-line 2")
	assert.NotContains(t, r.stderr, "--from-line 4", "the stop at the open quote, when the reading got there, is said after it")

	// Nor by a row the CSV reader cannot parse: one rerun line.
	r = runCLI(t, t.Context(), env, "devices", "import", "--workers", "1", file(t, "uuid,platform,push_token,user_num\ndboom,android,"+
		umengToken(50, "android")+",u50\nd51,android,"+umengToken(51, "android")+",u51\nd52,\"x\"y,t,u52\n"))
	assert.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stderr, "rerun with --from-line 2")
	assert.Equal(t, 1, strings.Count(r.stderr, "--from-line"), r.stderr)
}

// TestImportQuotesNoValueWhole: a platform or push_platform of any length
// is refused quoting its start only, and a uuid holding a line break in
// a well-quoted field is refused saying that only name may hold one.
func TestImportQuotesNoValueWhole(t *testing.T) {
	env := migrated(t)
	long := strings.Repeat("x", 30000)
	r := runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_platform,push_token,user_num\n"+
		"d1,"+long+",umeng,"+umengToken(1, "android")+",u1\n"+
		"d2,android,"+long+","+umengToken(2, "android")+",u2\n"))
	assert.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout+r.stderr, "line 2: platform: ")
	assert.Contains(t, r.stdout+r.stderr, "line 3: push_platform: ")
	assert.Less(t, len(r.stdout+r.stderr), 4000, "the values are not echoed whole")
	assert.Contains(t, r.stdout, "imported=0 ")

	r = runCLI(t, t.Context(), env, "devices", "import", file(t, "uuid,platform,push_token,user_num\n"+
		"\"d3\r\n9\",android,"+umengToken(3, "android")+",u3\n"))
	assert.Equal(t, exitFailure, r.code, r.stdout+r.stderr)
	assert.Contains(t, r.stdout+r.stderr, "line 2: a quoted field runs over 2 lines (to line 3)")
	assert.Contains(t, r.stdout+r.stderr, "or the field holds a line break, which no column but name may")
	assert.Contains(t, r.stdout, "imported=0 ")
}
