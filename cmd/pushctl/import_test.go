package main

import (
	"context"
	"database/sql"
	"encoding/csv"
	"errors"
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

	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/serverenv"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// file writes content to a CSV file in a temporary directory.
func file(t *testing.T, content string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "in.csv")
	require.NoError(t, os.WriteFile(p, []byte(content), 0o600))
	return p
}

// openStore opens the database of env, as pushctl does.
func openStore(t *testing.T, env map[string]string) (*sqlstore.Store, *sql.DB) {
	t.Helper()
	cfg, err := serverenv.Load(func(k string) string { return env[k] })
	require.NoError(t, err)
	db, st, err := serverenv.Open(t.Context(), cfg)
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })
	return st, db
}

// migrated is a fresh migrated SQLite environment.
func migrated(t *testing.T) map[string]string {
	t.Helper()
	env := sqliteEnv(t)
	r := runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	return env
}

// TestImport: valid rows are registered, invalid ones rejected with their
// line and field (summary and --rejects file), and the exit status is 1
// when a row was rejected.
func TestImport(t *testing.T) {
	ctx := context.Background()
	env := migrated(t)
	in := file(t, "\ufeffUser_Num,uuid,Platform,push_token,push_platform,name\n"+
		"alice,a-1,ios,"+umengToken(1, "ios")+",umeng,Alice's iPhone\n"+
		"alice,a-2,android,"+umengToken(2, "android")+",,Pixel\n"+ // default provider
		"bob,b-1,windows,tok-b1,umeng,PC\n"+
		",b-2,android,tok-b2,umeng,\n"+
		"bob,b-3,android,tok-b3,apns,\n"+
		"bob,b-4,android,\"tok,b4\",umeng,\n"+
		"bob,b-5,android\n"+
		"bob,b-6,ios,"+jpushtest.RegistrationID("b6")+",jpush,\"multi\nline\"\n"+
		"  carol , c-1 , android , "+getuitest.CID("c1")+" , getui , \n"+
		"bob,b-7,android,tok!b7,umeng,\n"+
		"dave,d-1,ios,tok-d1,umeng,\n"+ // not Umeng's shape
		"dave,d-2,android,"+umengToken(3, "ios")+",umeng,\n"+
		"dave,d-3,android,tok-d3,jpush,\n"+
		"dave,d-4,android,"+strings.ToUpper(getuitest.CID("d4"))+",getui,\n")
	rej := filepath.Join(t.TempDir(), "rejects.csv")
	r := runCLI(t, ctx, env, "devices", "import", "--rejects", rej, in)
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "imported=4 updated=0 unchanged=0 rejected=10\n"+
		`line 4: platform: must be "ios" or "android", got "windows"`+"\n"+
		"line 5: user_num: is required\n"+
		`line 6: push_platform: "apns" is not a configured provider (configured: umeng, jpush, getui)`+"\n"+
		"line 7: push_token: must not contain commas or white space\n"+
		"line 8: has 3 fields, the header 6\n"+
		"line 12: push_token: must hold only ASCII letters, digits and -_.:=+/, as vendors' tokens do; got '!' at byte 3\n"+
		"line 13: push_token: is 6 characters, not a Umeng iOS device token (the APNs token in hex: 64 digits)\n"+
		"line 14: push_token: is 64 characters, not a Umeng Android device token (44 characters of base64)\n"+
		"line 15: push_token: is 6 characters, not a JPush registration id (11 to 64 letters and digits)\n"+
		"line 16: push_token: holds a character that is no lowercase hex digit: not a Getui cid (32 lowercase hex digits)\n", r.stdout)
	assert.Equal(t, "pushctl: devices import: 10 rows rejected\n", lastLine(r.stderr))
	assert.NotContains(t, r.stdout+r.stderr, "tok,b4", "no token in the summary")

	f, err := os.Open(rej)
	require.NoError(t, err)
	defer f.Close()
	cr := csv.NewReader(f)
	cr.FieldsPerRecord = -1
	recs, err := cr.ReadAll()
	require.NoError(t, err)
	require.Len(t, recs, 11)
	assert.Equal(t, []string{"line", "field", "reason", "User_Num", "uuid", "Platform", "push_token", "push_platform", "name"}, recs[0])
	assert.Equal(t, []string{"4", "platform", `must be "ios" or "android", got "windows"`, "bob", "b-1", "windows", "tok-b1", "umeng", "PC"}, recs[1])
	assert.Equal(t, []string{"8", "", "has 3 fields, the header 6", "bob", "b-5", "android"}, recs[5])

	st, _ := openStore(t, env)
	for _, tt := range []struct {
		platform, uuid, token, pp, name, user string
	}{
		{"ios", "a-1", umengToken(1, "ios"), "umeng", "Alice's iPhone", "alice"},
		{"android", "a-2", umengToken(2, "android"), "umeng", "Pixel", "alice"},
		{"ios", "b-6", jpushtest.RegistrationID("b6"), "jpush", "multi\nline", "bob"},
		{"android", "c-1", getuitest.CID("c1"), "getui", "", "carol"},
	} {
		d, users, err := st.DeviceByUUID(ctx, tt.platform, tt.uuid)
		require.NoError(t, err, tt.uuid)
		assert.Equal(t, tt.token, d.PushToken)
		assert.Equal(t, tt.pp, d.PushPlatform)
		assert.Equal(t, tt.name, d.Name)
		assert.Equal(t, []string{tt.user}, users)
	}
	_, _, err = st.DeviceByUUID(ctx, "android", "b-2")
	assert.ErrorIs(t, err, registry.ErrNotFound, "a rejected row is not written")
}

// TestImportMatchesAsRegistrationDoes: platform and push_platform match
// in any case, as POST /api/v1.1/app/device matches them, and are stored
// as the providers spell them (an iOS token in lower case); a row for a platform its provider has no
// app for here is refused, as the registration refuses it.
func TestImportMatchesAsRegistrationDoes(t *testing.T) {
	ctx := context.Background()
	env := migrated(t)
	env["UMENG_IOS_APPKEY"], env["UMENG_IOS_APP_MASTER_SECRET"] = "ioskey", "ios-master-secret"
	in := file(t, "uuid,platform,push_platform,push_token,user_num\n"+
		"y1,iOS,Umeng,"+umengToken(1, "ios")+",u1\n"+
		"y2,IOS,,"+strings.ToUpper(umengToken(2, "ios"))+",u1\n"+
		"y3,Android,umeng,"+umengToken(3, "android")+",u1\n")
	r := runCLI(t, ctx, env, "devices", "import", in)
	assert.Equal(t, exitFailure, r.code)
	assert.Equal(t, "imported=2 updated=0 unchanged=0 rejected=1\n"+
		`line 4: platform: provider "umeng" does not serve "android" devices here (only its ios app is configured)`+"\n", r.stdout)
	st, _ := openStore(t, env)
	for _, uuid := range []string{"y1", "y2"} {
		d, _, err := st.DeviceByUUID(ctx, "ios", uuid)
		require.NoError(t, err, uuid)
		assert.Equal(t, "ios", d.Platform)
		assert.Equal(t, "umeng", d.PushPlatform)
	}
	d, _, err := st.DeviceByUUID(ctx, "ios", "y2")
	require.NoError(t, err)
	assert.Equal(t, umengToken(2, "ios"), d.PushToken, "an iOS token is stored in lower case, as RegisterDevice stores it")
}

func lastLine(s string) string {
	lines := strings.SplitAfter(strings.TrimSuffix(s, "\n"), "\n")
	return strings.TrimSuffix(lines[len(lines)-1], "\n") + "\n"
}

// TestImportIsIdempotent: importing a file again writes nothing new; a
// changed row is updated with RegisterDevice's semantics (link moved,
// token taken over), and a column the file lacks keeps its stored value.
func TestImportIsIdempotent(t *testing.T) {
	ctx := context.Background()
	env := migrated(t)
	st, _ := openStore(t, env)
	_, _, err := st.RegisterDevice(ctx, &registry.Device{UUID: "d-0", Platform: "ios", PushToken: umengToken(1000, "ios"), Name: "Old name", OS: "iOS"}, "u0")
	require.NoError(t, err)

	in := writeCSV(t, 40, umengToken)
	r := runCLI(t, ctx, env, "devices", "import", in)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "imported=40 updated=0 unchanged=0 rejected=0\n", r.stdout)
	r = runCLI(t, ctx, env, "devices", "import", "--workers", "3", "--batch", "7", in)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "imported=0 updated=0 unchanged=40 rejected=0\n", r.stdout)

	// dev-1 moves to user zed; dev-3 takes dev-5's token; d-0 is
	// re-registered by a file without a name column.
	in2 := file(t, "uuid,platform,push_platform,push_token,user_num\n"+
		"dev-1,ios,umeng,"+umengToken(1, "ios")+",zed\n"+
		"dev-3,ios,umeng,"+umengToken(5, "ios")+",u1\n"+
		"dev-5,ios,umeng,"+umengToken(5, "ios")+",u2\n"+
		"d-0,ios,umeng,"+umengToken(1000, "ios")+",u0\n"+
		"d-0,ios,umeng,"+umengToken(1000, "ios")+",u9\n")
	r = runCLI(t, ctx, env, "devices", "import", in2)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "imported=0 updated=4 unchanged=1 rejected=0\n", r.stdout,
		"dev-1 and dev-3 changed; dev-5 lost its token to dev-3 and takes it back (rows in file order); d-0 unchanged, then moved to u9")

	d1, users, err := st.DeviceByUUID(ctx, "ios", "dev-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"zed"}, users, "u0's link is deactivated")
	assert.Nil(t, d1.TokenDisabledAt)
	d3, _, err := st.DeviceByUUID(ctx, "ios", "dev-3")
	require.NoError(t, err)
	assert.NotNil(t, d3.TokenDisabledAt, "the token went back to dev-5, the last row holding it")
	assert.Equal(t, registry.TokenTakenOver, d3.TokenDisabledReason)
	d5, _, err := st.DeviceByUUID(ctx, "ios", "dev-5")
	require.NoError(t, err)
	assert.Nil(t, d5.TokenDisabledAt)
	d0, users, err := st.DeviceByUUID(ctx, "ios", "d-0")
	require.NoError(t, err)
	assert.Equal(t, []string{"u9"}, users)
	assert.Equal(t, "Old name", d0.Name, "no name column: the stored name is kept")
	assert.Equal(t, "iOS", d0.OS)
}

// TestImportDryRun: --dry-run counts and rejects the rows as an import
// would, a changed device counted updated, and writes nothing: the devices
// keep their users and tokens, and the new ones are not there. The import
// run after it makes the counts the dry run said.
func TestImportDryRun(t *testing.T) {
	ctx := context.Background()
	env := migrated(t)
	st, _ := openStore(t, env)
	_, _, err := st.RegisterDevice(ctx, &registry.Device{UUID: "dev-1", Platform: "ios", PushToken: umengToken(1, "ios")}, "u0")
	require.NoError(t, err)
	in := file(t, "uuid,platform,push_platform,push_token,user_num\n"+
		"dev-1,ios,umeng,"+umengToken(1, "ios")+",zed\n"+ // moves to zed
		"dev-2,ios,umeng,"+umengToken(2, "ios")+",u2\n"+
		"dev-3,ios,umeng,bad,u3\n")
	for _, args := range [][]string{{"--dry-run"}, {"--dry-run", "--batch", "1"}} {
		r := runCLI(t, ctx, env, append(append([]string{"devices", "import"}, args...), in)...)
		assert.Equal(t, exitFailure, r.code, r.stderr)
		assert.Equal(t, "dry run, nothing written: imported=1 updated=1 unchanged=0 rejected=1\n"+
			"line 4: push_token: is 3 characters, not a Umeng iOS device token (the APNs token in hex: 64 digits)\n", r.stdout, args)
		_, users, err := st.DeviceByUUID(ctx, "ios", "dev-1")
		require.NoError(t, err)
		assert.Equal(t, []string{"u0"}, users, "dev-1 still u0's")
		_, _, err = st.DeviceByUUID(ctx, "ios", "dev-2")
		assert.ErrorIs(t, err, registry.ErrNotFound, "dev-2 not written")
	}
	r := runCLI(t, ctx, env, "devices", "import", in)
	assert.Equal(t, exitFailure, r.code)
	assert.True(t, strings.HasPrefix(r.stdout, "imported=1 updated=1 unchanged=0 rejected=1\n"), r.stdout)
	_, users, err := st.DeviceByUUID(ctx, "ios", "dev-1")
	require.NoError(t, err)
	assert.Equal(t, []string{"zed"}, users)
}

// TestImportHeader: the header is required and must name the required
// columns, once each, and no other; nothing is written otherwise.
func TestImportHeader(t *testing.T) {
	ctx := context.Background()
	env := migrated(t)
	for _, tt := range []struct {
		content, want string
		code          int
	}{
		// Refused before anything is read past the header: the command
		// line's, exit status 2.
		{"", "pushctl: devices import: the file is empty: a header row naming the columns is required", exitUsage},
		{"uuid,platform,push_token\nd,ios,t\n", `pushctl: devices import: line 1: the header has no "user_num" column (required: uuid, platform, push_token, user_num)`, exitUsage},
		{"uuid,platform,push_token,user_num,colour\n", `pushctl: devices import: line 1: column "colour" is not one of uuid, platform, push_token, user_num, push_platform, name, os, os_version`, exitUsage},
		{"uuid,platform,push_token,user_num,UUID\n", `pushctl: devices import: line 1: column "uuid" is named twice`, exitUsage},
		{"uuid,platform,push_token,user_num\nd,ios,\"t\"x,u\n", `pushctl: devices import: parse error on line 2, column 9: extraneous or missing " in quoted-field; fix the file and rerun with --from-line 2`, exitFailure},
		// The first field of a row unparsable (it has no field positions).
		{"uuid,platform,push_token,user_num\na\"b,android,x,u1\n", `pushctl: devices import: parse error on line 2, column 2: bare " in non-quoted-field; fix the file and rerun with --from-line 2`, exitFailure},
		{"uuid,platform,push_token,user_num\n\"unterminated,android,x,u1\n", `pushctl: devices import: parse error on line 2, column 28: extraneous or missing " in quoted-field; fix the file and rerun with --from-line 2`, exitFailure},
	} {
		r := runCLI(t, ctx, env, "devices", "import", file(t, tt.content))
		assert.Equal(t, tt.code, r.code, tt.want)
		assert.Equal(t, tt.want+"\n", r.stderr)
	}
	r := runCLI(t, ctx, env, "devices", "import", filepath.Join(t.TempDir(), "missing.csv"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "missing.csv: no such file or directory")
	_, db := openStore(t, env)
	var n int
	require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_devices").Scan(&n))
	assert.Equal(t, 0, n)
}

// TestImportKeepsTheRowsBeforeAnUnparsableOne: a row the CSV reader
// cannot parse, even in its first field, stops the import with the line
// to go on from, and the rows before it are imported.
func TestImportKeepsTheRowsBeforeAnUnparsableOne(t *testing.T) {
	env := migrated(t)
	in := file(t, fmt.Sprintf("uuid,platform,push_token,user_num\nd1,android,%s,u1\nd2,android,%s,u2\n\"d3,android,x,u3\n",
		umengToken(1, "android"), umengToken(2, "android")))
	r := runCLI(t, context.Background(), env, "devices", "import", "--quiet", in)
	assert.Equal(t, exitFailure, r.code)
	assert.Contains(t, r.stderr, "fix the file and rerun with --from-line 4")
	assert.Contains(t, r.stdout, "imported=2 ")
	_, db := openStore(t, env)
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM sys_devices").Scan(&n))
	assert.Equal(t, 2, n, "the rows before the bad one")
}

// eioReader reads r, then fails as a disk would.
type eioReader struct{ r io.Reader }

func (e eioReader) Read(p []byte) (int, error) {
	n, err := e.r.Read(p)
	if errors.Is(err, io.EOF) {
		return n, errors.New("read devices.csv: input/output error")
	}
	return n, err
}

// TestImportStopsAtAReadError: a file that cannot be read on stops the
// import at once with the line to go on from, the rows before imported,
// whatever --from-line says.
func TestImportStopsAtAReadError(t *testing.T) {
	vars := migrated(t)
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return vars[k] }, log: slog.New(slog.DiscardHandler)}
	d, err := e.openDB(t.Context(), false, false)
	require.NoError(t, err)
	defer d.Close()
	content := fmt.Sprintf("uuid,platform,push_token,user_num\nd1,android,%s,u1\nd2,android,%s,u2\n",
		umengToken(1, "android"), umengToken(2, "android"))
	for _, from := range []int{0, 9} {
		im := newImporter(d, 2, 10, from)
		done := make(chan error, 1)
		go func() { done <- im.run(t.Context(), eioReader{strings.NewReader(content)}) }()
		select {
		case err = <-done:
		case <-time.After(10 * time.Second):
			t.Fatalf("from %d: the import did not stop at the read error", from)
		}
		require.Error(t, err)
		assert.Equal(t, "read the file after line 3: read devices.csv: input/output error; rerun with --from-line 4 once it reads", err.Error(), "from %d", from)
	}
	_, db := openStore(t, vars)
	var n int
	require.NoError(t, db.QueryRowContext(context.Background(), "SELECT COUNT(*) FROM sys_devices").Scan(&n))
	assert.Equal(t, 2, n, "the rows read before the error")
}

// TestImportResumes: an interrupted import stops before the next row and
// prints the line to go on from; --from-line skips the rows before it.
func TestImportResumes(t *testing.T) {
	vars := migrated(t)
	in := writeCSV(t, 10, umengToken)
	e := &env{stdout: io.Discard, stderr: io.Discard, getenv: func(k string) string { return vars[k] }, log: slog.New(slog.DiscardHandler)}
	d, err := e.openDB(t.Context(), false, false)
	require.NoError(t, err)
	defer d.Close()
	f, err := os.Open(in)
	require.NoError(t, err)
	defer f.Close()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	im := newImporter(d, 0, 10, 0)
	err = im.run(ctx, f)
	require.EqualError(t, err, "interrupted before line 2; rerun with --from-line 2 to go on from there")
	var out strings.Builder
	im.summary(&out, "")
	assert.Equal(t, "imported=0 updated=0 unchanged=0 rejected=0\n", out.String())

	r := runCLI(t, context.Background(), vars, "devices", "import", "--from-line", "7", in)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "imported=5 updated=0 unchanged=0 rejected=0\nskipped 5 rows before line 7 (--from-line)\n", r.stdout)
	r = runCLI(t, context.Background(), vars, "devices", "import", in)
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "imported=5 updated=0 unchanged=5 rejected=0\n", r.stdout)
}

// TestImportRejectionsAreCapped: the summary lists the first ten
// rejections and points at --rejects for the rest.
func TestImportRejectionsAreCapped(t *testing.T) {
	env := migrated(t)
	var b strings.Builder
	b.WriteString("uuid,platform,push_token,user_num\n")
	for i := range 25 {
		fmt.Fprintf(&b, "d%d,pc,t%d,u\n", i, i)
	}
	r := runCLI(t, context.Background(), env, "devices", "import", file(t, b.String()))
	assert.Equal(t, exitFailure, r.code)
	lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
	require.Len(t, lines, 12)
	assert.Equal(t, "imported=0 updated=0 unchanged=0 rejected=25", lines[0])
	assert.Equal(t, `line 11: platform: must be "ios" or "android", got "pc"`, lines[10])
	assert.Equal(t, "… and 15 more rejections; --rejects FILE.csv writes them all", lines[11])
}
