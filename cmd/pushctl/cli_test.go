package main

import (
	"context"
	"database/sql"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestUsageErrors: a command line pushctl cannot run exits 2 with one
// line on stderr naming the command and what is wrong; nothing is opened.
func TestUsageErrors(t *testing.T) {
	env := map[string]string{"PUSH_DB_DRIVER": "sqlite", "PUSH_DB_DSN": "/nonexistent/dir/push.db"}
	for _, tt := range []struct {
		args []string
		want string
	}{
		{[]string{"bogus"}, `pushctl: unknown command "bogus"`},
		{[]string{"devices"}, `pushctl: devices: a subcommand is required: devices list, devices import (run pushctl help devices)`},
		{[]string{"devices", "bogus"}, `pushctl: unknown command "devices bogus": devices list, devices import (run pushctl help)`},
		{[]string{"help", "center", "x"}, `pushctl: help: unknown command "center x": center enqueue, center tail`},
		{[]string{"help", "nope"}, `pushctl: help: unknown command "nope"`},
		{[]string{"push", "--nope", "u1"}, "pushctl: push: flag provided but not defined: -nope"},
		{[]string{"push", "u1", "--title"}, "pushctl: push: flag needs an argument: -title"},
		{[]string{"push", "--title", "t", "--content", "c"}, "pushctl: push: at least one USER is required"},
		{[]string{"push", "u1", "--content", "c"}, "pushctl: push: --title and --content are required"},
		{[]string{"push", "u1", "--title", "t", "--content", "c", "--class", "spam"}, `pushctl: push: --class: "spam" is not marketing or service`},
		{[]string{"push", "u1", "--title", "t", "--content", "c", "--extra", "novalue"}, `pushctl: push: invalid value "novalue" for flag -extra: "novalue" is not key=value`},
		{[]string{"push", "u1", "--title", "t", "--content", "c", "--extra", "a=1", "--extra", "a=2"}, `pushctl: push: invalid value "a=2" for flag -extra: key "a" given twice ("1" and "2")`},
		{[]string{"status"}, "pushctl: status: the push message ID is required"},
		{[]string{"status", "abc"}, `pushctl: status: ID: "abc" is not a positive push message id`},
		{[]string{"status", "1", "2"}, `pushctl: status: unexpected argument "2"`},
		{[]string{"migrate", "now"}, `pushctl: migrate: unexpected argument "now"`},
		{[]string{"devices", "import"}, "pushctl: devices import: FILE.csv is required"},
		{[]string{"devices", "import", "a.csv", "--workers", "-1"}, "pushctl: devices import: --workers: must be 1 to 64, got -1"},
		{[]string{"devices", "import", "a.csv", "--batch", "0"}, "pushctl: devices import: --batch: must be 1 to 10000, got 0"},
		{[]string{"center", "enqueue", "--title", "t", "--content", "c"}, "pushctl: center enqueue: --user is required"},
		{[]string{"center", "enqueue", "--user", "u", "--mode", "fax", "--title", "t", "--content", "c"}, `pushctl: center enqueue: --mode: "fax" is not push, sms or email`},
		{[]string{"center", "enqueue", "--user", "u", "--title", "t", "--content", "c", "--send-at", "tomorrow"}, `pushctl: center enqueue: --send-at: "tomorrow" is not an RFC 3339 time`},
		{[]string{"center", "enqueue", "--user", "u1 u2|u3", "--title", "t", "--content", "c"}, `pushctl: center enqueue: --user: "u1 u2|u3" names several users`},
		{[]string{"center", "enqueue", "--user", "u1", "--user", "a,b", "--title", "t", "--content", "c"}, `pushctl: center enqueue: --user: "a,b" names several users`},
		{[]string{"center", "enqueue", "--user", `["u1001"]`, "--title", "t", "--content", "c"}, `pushctl: center enqueue: --user: "[\"u1001\"]" would be read as user "u1001"`},
		{[]string{"center", "enqueue", "--user", `["a"`, "--user", `"b"]`, "--title", "t", "--content", "c"}, `pushctl: center enqueue: --user: together the users would be read as ["a" "b"]`},
		{[]string{"center", "enqueue", "--user", strings.Repeat("x", 256), "--title", "t", "--content", "c"},
			`pushctl: center enqueue: --user: "` + strings.Repeat("x", 63) + `…": registry: user_num: is 256 characters, longer than 255`},
		{[]string{"center", "enqueue", "--user", "u20\u200b02", "--title", "t", "--content", "c"}, `pushctl: center enqueue: --user: "u20\u200b02": registry: user_num: must not hold U+200B`},
		{[]string{"center", "enqueue", "--user", "u20\x0102", "--title", "t", "--content", "c"}, `pushctl: center enqueue: --user: "u20\x0102": registry: user_num: must not hold U+0001`},
		{[]string{"center", "enqueue", "--user", "u", "--mode", "sms", "--content", "c", "--class", "service"}, `pushctl: center enqueue: --class: only a push row has a class (--mode is sms)`},
		{[]string{"center", "tail", "--interval", "0s"}, "pushctl: center tail: --interval: must be positive, got 0s"},
		{[]string{"push", "a,b", "--title", "t", "--content", "c"}, `pushctl: push: USER "a,b": registry: user_num: must not hold ','`},
		{[]string{"push", " ", "--title", "t", "--content", "c"}, `pushctl: push: USER " ": registry: user_num: `},
	} {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			r := runCLI(t, t.Context(), env, tt.args...)
			assert.Equal(t, exitUsage, r.code)
			assert.Empty(t, r.stdout)
			assert.True(t, strings.HasPrefix(r.stderr, tt.want), "stderr %q starts with %q", r.stderr, tt.want)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
		})
	}
}

// TestVersion: "pushctl version" and "pushctl --version" print the build's
// version and exit 0; an argument is a usage error.
func TestVersion(t *testing.T) {
	ctx := context.Background()
	for _, args := range [][]string{{"version"}, {"--version"}, {"-version"}} {
		r := runCLI(t, ctx, nil, args...)
		require.Equal(t, exitOK, r.code, r.stderr)
		assert.Equal(t, "pushctl "+serverenv.Version()+"\n", r.stdout, args)
		assert.Empty(t, r.stderr)
	}
	assert.Equal(t, exitUsage, runCLI(t, ctx, nil, "version", "x").code)
}

// TestHelp: "pushctl help" lists every command, and "help COMMAND" and
// "COMMAND -h" print the command's usage and flags, exit 0.
func TestHelp(t *testing.T) {
	ctx := context.Background()
	r := runCLI(t, ctx, nil, "help")
	require.Equal(t, exitOK, r.code)
	for _, c := range commands() {
		assert.Contains(t, r.stdout, "  "+c.name+" ")
		for _, args := range [][]string{append([]string{"help"}, strings.Fields(c.name)...), append(strings.Fields(c.name), "-h")} {
			h := runCLI(t, ctx, nil, args...)
			assert.Equal(t, exitOK, h.code, args)
			assert.True(t, strings.HasPrefix(h.stdout, "usage: pushctl "+c.name), "%v: %q", args, h.stdout)
			assert.Empty(t, h.stderr)
		}
	}
	assert.Contains(t, runCLI(t, ctx, nil, "devices", "import", "-h").stdout, "-rejects")
	assert.Contains(t, runCLI(t, ctx, nil, "help", "devices", "import").stdout, "-rejects")
	assert.Contains(t, runCLI(t, ctx, nil, "help", "center", "tail").stdout, "-since-id")
	for _, h := range []string{"-h", "--help", "help"} {
		g := runCLI(t, ctx, nil, "devices", h)
		assert.Equal(t, exitOK, g.code, h)
		assert.Equal(t, "devices commands: devices list, devices import (pushctl help COMMAND for one)\n", g.stdout, h)
	}
	g := runCLI(t, ctx, nil, "help", "center")
	assert.Equal(t, exitOK, g.code)
	assert.Equal(t, "center commands: center enqueue, center tail (pushctl help COMMAND for one)\n", g.stdout)
	assert.Empty(t, g.stderr)
	r = runCLI(t, ctx, nil)
	assert.Equal(t, exitUsage, r.code, "no command")
	assert.Contains(t, r.stderr, "usage: pushctl COMMAND")
}

// TestEnvironmentErrors: a bad or missing configuration is exit 1 with
// one line naming the variable, never a secret's value.
func TestEnvironmentErrors(t *testing.T) {
	ctx := context.Background()
	env := sqliteEnv(t)
	require.Equal(t, exitOK, runCLI(t, ctx, env, "migrate").code)
	for _, tt := range []struct {
		name string
		env  map[string]string
		args []string
		want string
	}{
		{"driver", map[string]string{"PUSH_DB_DRIVER": "oracle"}, []string{"migrate", "status"}, `PUSH_DB_DRIVER: "oracle" is not sqlite, mysql or postgres`},
		{"half a credential set", map[string]string{"UMENG_IOS_APPKEY": "k", "UMENG_IOS_APP_MASTER_SECRET": ""}, []string{"push", "u1", "--title", "t", "--content", "c"},
			"UMENG_IOS_APPKEY and UMENG_IOS_APP_MASTER_SECRET must be set together"},
		{"secret without key", map[string]string{"JPUSH_MASTER_SECRET": "s3cr3t-value"}, []string{"push", "u1", "--title", "t", "--content", "c"},
			"JPUSH_APPKEY and JPUSH_MASTER_SECRET must be set together"},
		{"no provider for push", nil, []string{"push", "u1", "--title", "t", "--content", "c"},
			"pushctl: push: no provider is configured: set UMENG_IOS_APPKEY and UMENG_IOS_APP_MASTER_SECRET"},
		{"unmigrated", map[string]string{"PUSH_DB_DSN": emptySQLite(t)}, []string{"center", "enqueue", "--user", "u", "--title", "t", "--content", "c"},
			"migrations pending, from 0001_brief_tables): run pushctl migrate first"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{"PUSH_DB_DSN": env["PUSH_DB_DSN"]}
			for k, v := range tt.env {
				e[k] = v
			}
			r := runCLI(t, ctx, e, tt.args...)
			assert.Equal(t, exitFailure, r.code)
			assert.Contains(t, r.stderr, tt.want)
			assert.Equal(t, 1, strings.Count(r.stderr, "\n"), "one line: %q", r.stderr)
			assert.NotContains(t, r.stderr, "s3cr3t-value")
		})
	}
}

// TestServerOnlyVariablesIgnored: pushctl serves nothing, so the server's
// own settings, even bad ones, do not stop it.
func TestServerOnlyVariablesIgnored(t *testing.T) {
	ctx := context.Background()
	env := sqliteEnv(t)
	env["PUSH_ADDR"] = "nohost"
	env["PUSH_API_TOKEN"] = " token with spaces "
	env["PUSH_SCAN_INTERVAL"] = "soon"
	r := runCLI(t, ctx, env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	r = runCLI(t, ctx, env, "migrate", "status")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "up to date")
}

// TestVendorSettingsDoNotStopDatabaseCommands: a bad vendor or Service
// setting, which keeps the server from starting, stops only push: the
// commands that use the database alone warn, naming the variable, and run.
// That holds for credentials set in full that the provider refuses (a
// secret too short, one app's key given for both): status and devices
// list built the providers and exited 1 on them.
func TestVendorSettingsDoNotStopDatabaseCommands(t *testing.T) {
	ctx := context.Background()
	env := sqliteEnv(t)
	require.Equal(t, exitOK, runCLI(t, ctx, env, "migrate").code)
	st, _ := openStore(t, env)
	require.NoError(t, st.CreatePushMessage(ctx, &registry.PushMessage{Title: "t"}, nil))
	for _, tt := range []struct {
		name string            // the variable the warning and push's error name
		set  map[string]string // the bad settings
	}{
		{"UMENG_IOS_APPKEY", map[string]string{"UMENG_IOS_APPKEY": "k"}},
		{"PUSH_RETRY_BASE", map[string]string{"PUSH_RETRY_BASE": "zz"}},
		{"JPUSH_SERVICE_CHANNELS", map[string]string{"JPUSH_SERVICE_CHANNELS": "{bad"}},
		{"JPUSH_MASTER_SECRET", map[string]string{"JPUSH_MASTER_SECRET": "s3cr3t-value"}},
		{"UMENG_PRODUCTION_MODE", map[string]string{"UMENG_PRODUCTION_MODE": "bogus"}},
		// Set in full, refused by the provider.
		{"UMENG_ANDROID_APP_MASTER_SECRET", map[string]string{"UMENG_ANDROID_APPKEY": "k", "UMENG_ANDROID_APP_MASTER_SECRET": "short"}},
		{"JPUSH_MASTER_SECRET", map[string]string{"JPUSH_APPKEY": "abc", "JPUSH_MASTER_SECRET": "s"}},
		{"UMENG_ANDROID_APPKEY", map[string]string{"UMENG_IOS_APPKEY": "same-key", "UMENG_IOS_APP_MASTER_SECRET": "s3cr3t-value",
			"UMENG_ANDROID_APPKEY": "same-key", "UMENG_ANDROID_APP_MASTER_SECRET": "s3cr3t-value-2"}},
	} {
		t.Run(strings.Join(slices.Sorted(maps.Keys(tt.set)), ","), func(t *testing.T) {
			bad := maps.Clone(env)
			maps.Copy(bad, tt.set)
			r := runCLI(t, ctx, bad, "migrate", "status")
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Contains(t, r.stdout, "up to date")
			assert.Contains(t, r.stderr, "left out")
			assert.Contains(t, r.stderr, tt.name, "the warning names the setting")
			assert.NotContains(t, r.stderr, "s3cr3t-value")
			for _, args := range [][]string{{"status", "1"}, {"devices", "list", "u1"}} {
				r = runCLI(t, ctx, bad, args...)
				assert.Equal(t, exitOK, r.code, "%v: %s", args, r.stderr)
				assert.Contains(t, r.stderr, "left out", "%v", args)
				assert.Contains(t, r.stderr, tt.name, "%v: the warning names the setting", args)
				assert.NotContains(t, r.stderr, "s3cr3t-value", "%v", args)
			}
			r = runCLI(t, ctx, bad, "push", "u1", "--title", "t", "--content", "c")
			assert.NotEqual(t, exitOK, r.code)
			assert.Contains(t, r.stderr, tt.name, "push needs every setting")
			assert.NotContains(t, r.stderr, "s3cr3t-value")
		})
	}
}

// TestMigrate: migrate status reads without changing anything, migrate
// applies everything, and again changes nothing.
func TestMigrate(t *testing.T) {
	ctx := context.Background()
	env := sqliteEnv(t)
	env["PUSH_DB_DSN"] = emptySQLite(t) // an empty file: a database with no table yet
	r := runCLI(t, ctx, env, "migrate", "status")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^push: version 0 of \d+, pending: 0001_brief_tables, 0002_push_additions, .*\nusers: version 0 of 1, not applied \(optional: .*\)\n$`, r.stdout)
	assert.Equal(t, r.stdout, runCLI(t, ctx, env, "migrate", "status").stdout, "status changed nothing")
	// --check fails while a migration is pending, for a deploy to wait on.
	r = runCLI(t, ctx, env, "migrate", "status", "--check")
	assert.Equal(t, exitFailure, r.code)
	assert.Regexp(t, `^pushctl: migrate status: migrations pending \(\d+ of push\): run pushctl migrate\n$`, r.stderr)
	// The first run says what it applied; the second has nothing to apply.
	r = runCLI(t, ctx, env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^push: migrated from version 0 to (\d+), applied: 0001_brief_tables, 0002_push_additions, [^\n]*\n`+
		`users: migrated from version 0 to 1, applied: 0001_sys_users\n`+
		`push: version (\d+) of \d+, up to date\nusers: version 1 of 1, up to date\n$`, r.stdout)
	r = runCLI(t, ctx, env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^push: version (\d+) of \d+, up to date\nusers: version 1 of 1, up to date\n$`, r.stdout)
	r = runCLI(t, ctx, env, "migrate", "status", "--check")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, r.stdout, runCLI(t, ctx, env, "migrate", "status").stdout)

	// A host that migrates with Store.Migrate alone has no sys_users:
	// --check passes on it.
	hostEnv := sqliteEnv(t)
	hostDB, err := sql.Open("sqlite", sqlstore.SQLiteDSN(hostEnv["PUSH_DB_DSN"]))
	require.NoError(t, err)
	defer hostDB.Close()
	hostStore, err := sqlstore.New(hostDB, sqlstore.Options{Dialect: sqlstore.DialectSQLite})
	require.NoError(t, err)
	require.NoError(t, hostStore.Migrate(ctx))
	r = runCLI(t, ctx, hostEnv, "migrate", "status", "--check")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "users: version 0 of 1, not applied (optional")

	// A later release's migration (rolling deploys run old builds on a
	// newer schema): status says so instead of "up to date".
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(env["PUSH_DB_DSN"]))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, `INSERT INTO push_schema_migrations (component, version, name, applied_at)
		SELECT 'push', MAX(version) + 1, 'from_a_later_release', '2027-01-01 00:00:00' FROM push_schema_migrations WHERE component = 'push'`)
	require.NoError(t, err)
	r = runCLI(t, ctx, env, "migrate", "status")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^push: version (\d+) of \d+, newer than this build \(a later release migrated it\)\nusers: version 1 of 1, up to date\n$`, r.stdout)

	// A table missing there is that release's to create: status and
	// --check say so, as migrate's refusal does, with the newest version
	// applied (three later ones here).
	for range 2 {
		_, err = db.ExecContext(ctx, `INSERT INTO push_schema_migrations (component, version, name, applied_at)
			SELECT 'push', MAX(version) + 1, 'from_a_later_release', '2027-01-01 00:00:00' FROM push_schema_migrations WHERE component = 'push'`)
		require.NoError(t, err)
	}
	var newest int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT MAX(version) FROM push_schema_migrations WHERE component = 'push'").Scan(&newest))
	_, err = db.ExecContext(ctx, "DROP TABLE sys_push_deliveries")
	require.NoError(t, err)
	r = runCLI(t, ctx, env, "migrate", "status", "--check")
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stdout, "tables missing: sys_push_deliveries (that release's pushctl migrate creates them again, empty)")
	assert.Contains(t, r.stderr, "run the pushctl migrate of the release that migrated the database")
	for range 5 { // the version named is the newest, whatever the map's order
		r = runCLI(t, ctx, env, "migrate")
		assert.Equal(t, exitFailure, r.code)
		assert.Contains(t, r.stderr, fmt.Sprintf("(push version %d, this build's latest", newest))
	}
}

// TestMigrateCreatesMissingTables: a table of an applied migration that
// was dropped is named by migrate status, fails --check, and is created
// again by migrate, which says so.
func TestMigrateCreatesMissingTables(t *testing.T) {
	ctx := context.Background()
	env := sqliteEnv(t)
	require.Equal(t, exitOK, runCLI(t, ctx, env, "migrate").code)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(env["PUSH_DB_DSN"]))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, "DROP TABLE sys_message_center")
	require.NoError(t, err)

	r := runCLI(t, ctx, env, "migrate", "status")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^push: version (\d+) of \d+, tables missing: sys_message_center \(pushctl migrate creates them again, empty\)\n`, r.stdout)
	r = runCLI(t, ctx, env, "migrate", "status", "--check")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "pushctl: migrate status: tables missing (sys_message_center): run pushctl migrate\n", r.stderr)

	r = runCLI(t, ctx, env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^created again, empty: sys_message_center \(they were missing\)\npush: version (\d+) of \d+, up to date\n`, r.stdout)
	r = runCLI(t, ctx, env, "migrate", "status", "--check")
	assert.Equal(t, exitOK, r.code, r.stderr)

	// Missing, and a migration that alters it pending (an upgrade of a
	// damaged database): both are named, and migrate mends both.
	_, err = db.ExecContext(ctx, "DELETE FROM push_schema_migrations WHERE component = 'push' AND version = 16")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "DROP TABLE sys_devices")
	require.NoError(t, err)
	r = runCLI(t, ctx, env, "migrate", "status", "--check")
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "pushctl: migrate status: migrations pending (1 of push), tables missing (sys_devices): run pushctl migrate\n", r.stderr)
	assert.Contains(t, r.stdout, "pending: 0016_lower_ios_tokens; tables missing: sys_devices (pushctl migrate creates them again, empty)")
	r = runCLI(t, ctx, env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Regexp(t, `^created again, empty: sys_devices \(they were missing\)\npush: migrated from version 15 to 16, applied: 0016_lower_ios_tokens\n`+
		`push: version (\d+) of \d+, up to date\n`, r.stdout)
}

// TestReadmeQuotesTheLatestVersion: the README's example of migrate
// status shows this build's latest version.
func TestReadmeQuotesTheLatestVersion(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	m := regexp.MustCompile(`pushctl migrate status +# push: version (\d+) of (\d+), up to date`).FindStringSubmatch(string(readme))
	require.NotNil(t, m, "the README quotes migrate status")
	env := sqliteEnv(t)
	r := runCLI(t, context.Background(), env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	got := regexp.MustCompile(`push: version (\d+) of (\d+)`).FindStringSubmatch(r.stdout)
	require.NotNil(t, got, r.stdout)
	assert.Equal(t, got[1:], m[1:], "the README's version is the build's")
}

// TestReadsKeepQuietAboutSending: with one Umeng platform configured, a
// command that only reads says nothing of the platform it lacks (that
// warning is about pushes); push still warns.
func TestReadsKeepQuietAboutSending(t *testing.T) {
	ctx := context.Background()
	env := sqliteEnv(t)
	require.Equal(t, exitOK, runCLI(t, ctx, env, "migrate").code)
	env["UMENG_ANDROID_APPKEY"], env["UMENG_ANDROID_APP_MASTER_SECRET"] = "androidkey", "android-master-secret"
	r := runCLI(t, ctx, env, "devices", "list", "u0")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Empty(t, r.stderr)
	r = runCLI(t, ctx, env, "push", "u0", "--title", "t", "--content", "c")
	assert.Contains(t, r.stderr, "no Umeng app for this platform")
}

// TestDocShowsEveryCommand: the operating guide shows each command.
func TestDocShowsEveryCommand(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	for _, c := range commands() {
		assert.Contains(t, string(b), "pushctl "+c.name+" ", "the guide shows %q", c.name)
	}
}

// TestReadsNeedNoVendor: status and devices list only read the database,
// so they run where no vendor credentials are set (an operator's machine);
// push still refuses to run without a provider.
func TestReadsNeedNoVendor(t *testing.T) {
	ctx := context.Background()
	env := importedEnv(t, 2)

	r := runCLI(t, ctx, env, "devices", "list", "u0")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, "dev-0")
	assert.Contains(t, r.stdout, "dev-1")

	r = runCLI(t, ctx, env, "status", "1")
	assert.NotEqual(t, exitOK, r.code)
	assert.Contains(t, r.stderr, "not found", "the read ran: push 1 does not exist")
	assert.NotContains(t, r.stderr, "no provider")

	r = runCLI(t, ctx, env, "push", "u0", "--title", "t", "--content", "c")
	assert.NotEqual(t, exitOK, r.code)
	assert.Contains(t, r.stderr, "pushctl: push: no provider is configured")
}

// emptySQLite returns the path of an empty file, which SQLite opens as a
// database with no table.
func emptySQLite(t *testing.T) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "empty.db")
	require.NoError(t, os.WriteFile(path, nil, 0o600))
	return path
}

// TestDevicesListShowsSuperseded: a device whose token another user's
// newer row holds (written by another program) is listed active, with the
// reason its user's pushes skip it.
func TestDevicesListShowsSuperseded(t *testing.T) {
	ctx := context.Background()
	env := importedEnv(t, 1)
	db, err := sql.Open("sqlite", sqlstore.SQLiteDSN(env["PUSH_DB_DSN"]))
	require.NoError(t, err)
	defer db.Close()
	_, err = db.ExecContext(ctx, `INSERT INTO sys_devices (uuid, platform, push_device_token, push_platform)
		SELECT 'newer-phone', platform, ' ' || push_device_token, push_platform FROM sys_devices`)
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, `INSERT INTO sys_user_devices (user_num, device_id, state) SELECT 'other', id, 1 FROM sys_devices WHERE uuid = 'newer-phone'`)
	require.NoError(t, err)

	r := runCLI(t, ctx, env, "devices", "list", "u0")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stdout, supersededReason)
	r = runCLI(t, ctx, env, "devices", "list", "other")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.NotContains(t, r.stdout, supersededReason)
}

// importedEnv returns the environment of a migrated SQLite database into
// which devices import has written writeCSV's n devices.
func importedEnv(t *testing.T, n int) map[string]string {
	t.Helper()
	env := sqliteEnv(t)
	require.Equal(t, exitOK, runCLI(t, t.Context(), env, "migrate").code)
	r := runCLI(t, t.Context(), env, "devices", "import", "--quiet", writeCSV(t, n, umengToken))
	require.Equal(t, exitOK, r.code, r.stderr)
	return env
}
