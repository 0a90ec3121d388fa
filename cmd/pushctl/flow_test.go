package main

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"math"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng/umengtest"
)

// umengEnv points pushctl at db (PUSH_DB_DRIVER, PUSH_DB_DSN) and at a
// fake Umeng with its default apps.
func umengEnv(t *testing.T, driver, dsn string) (map[string]string, *umengtest.Server) {
	t.Helper()
	fake := umengtest.NewServer(t, umengtest.Config{})
	env := map[string]string{"PUSH_DB_DRIVER": driver, "PUSH_DB_DSN": dsn, "UMENG_BASE_URL": fake.URL}
	for _, app := range umengtest.DefaultApps() {
		if app.Platform == umengtest.PlatformIOS {
			env["UMENG_IOS_APPKEY"], env["UMENG_IOS_APP_MASTER_SECRET"] = app.AppKey, app.AppMasterSecret
		} else {
			env["UMENG_ANDROID_APPKEY"], env["UMENG_ANDROID_APP_MASTER_SECRET"] = app.AppKey, app.AppMasterSecret
			// As a deployment sets it: without it every push command
			// warns that the phone makers' channels need it.
			env["UMENG_ANDROID_CHANNEL_ACTIVITY"] = "com.example.shop.PushActivity"
		}
	}
	return env, fake
}

// umengToken is a token the fake Umeng accepts for platform.
func umengToken(i int, platform string) string {
	if platform == "ios" {
		return umengtest.IOSToken(fmt.Sprint("dev-", i))
	}
	return umengtest.AndroidToken(fmt.Sprint("dev-", i))
}

// TestFlow runs migrate, import (twice), push and status on every
// database: SQLite always, MariaDB and PostgreSQL when their DSN is set.
func TestFlow(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			_, dsn := dbtest.Open(t, d)
			env, fake := umengEnv(t, string(d), dsn)
			ctx := context.Background()
			r := runCLI(t, ctx, env, "migrate")
			require.Equal(t, exitOK, r.code, r.stderr)

			in := writeCSV(t, 200, umengToken)
			r = runCLI(t, ctx, env, "devices", "import", "--batch", "16", in)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, "imported=200 updated=0 unchanged=0 rejected=0\n", r.stdout)
			r = runCLI(t, ctx, env, "devices", "import", in)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, "imported=0 updated=0 unchanged=200 rejected=0\n", r.stdout)

			// u0 owns dev-0 (android) and dev-1 (ios); u1 dev-2 and dev-3.
			r = runCLI(t, ctx, env, "push", "u0", "u1", "--title", "到货提醒", "--content", "您关注的商品已到货",
				"--class", "service", "--extra", "order=42")
			require.Equal(t, exitOK, r.code, r.stderr)
			lines := strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			require.Len(t, lines, 4, r.stdout)
			var id int64
			_, err := fmt.Sscanf(lines[0], "push_message_id=%d devices=4 skipped=0", &id)
			require.NoError(t, err, lines[0])
			assert.Regexp(t, `^PROVIDER\s+PLATFORM\s+TOKENS\s+OUTCOME\s+ERROR$`, lines[1])
			assert.ElementsMatch(t, []string{"umeng ios 2 sent=1", "umeng android 2 sent=1"},
				[]string{strings.Join(strings.Fields(lines[2]), " "), strings.Join(strings.Fields(lines[3]), " ")})
			for i := range 4 {
				p := "android"
				if i%2 == 1 {
					p = "ios"
				}
				assert.Equal(t, 1, fake.DeliveryCount(umengToken(i, p)), "dev-%d", i)
			}

			r = runCLI(t, ctx, env, "status", fmt.Sprint(id))
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Contains(t, r.stdout, fmt.Sprintf("push_message_id=%d\n", id))
			assert.Regexp(t, `\nios\s+\S+\s+SUCCESS\s+2\s+\S+\s+0\s+0\s+0\s`, r.stdout)
			r = runCLI(t, ctx, env, "status", fmt.Sprint(id), "--json")
			require.Equal(t, exitOK, r.code, r.stderr)
			var st statusView
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &st))
			assert.Equal(t, id, st.PushMessageID)
			assert.Equal(t, 2, st.Android.Tokens)
			assert.Equal(t, "SUCCESS", st.Android.Ret)
			assert.True(t, st.IOS.IsSend)
			assert.NotEmpty(t, st.IOS.TaskID)
			for i := range 4 {
				assert.NotContains(t, r.stdout, umengToken(i, "ios"), "tokens are counted, never shown")
				assert.NotContains(t, r.stdout, umengToken(i, "android"))
			}

			// dev-0 moves to u1: u0 keeps an inactive link to it.
			require.NoError(t, os.WriteFile(in, []byte("uuid,platform,push_token,user_num\ndev-0,android,"+umengToken(0, "android")+",u1\n"), 0o600))
			r = runCLI(t, ctx, env, "devices", "import", in)
			require.Equal(t, exitOK, r.code, r.stderr)
			assert.Equal(t, "imported=0 updated=1 unchanged=0 rejected=0\n", r.stdout)
			r = runCLI(t, ctx, env, "devices", "list", "u0")
			require.Equal(t, exitOK, r.code, r.stderr)
			lines = strings.Split(strings.TrimSuffix(r.stdout, "\n"), "\n")
			require.Len(t, lines, 3, r.stdout)
			assert.Regexp(t, `^USER_DEVICE_ID\s+ACTIVE\s+UUID\s+PLATFORM\s+PUSH_PLATFORM\s+NAME\s+TOKEN\s+TOKEN_STATE\s+REASON\s+LINKED_AT$`, lines[0])
			assert.Contains(t, r.stdout, "dev-0")
			assert.Contains(t, r.stdout, "dev-1")
			assert.NotContains(t, r.stdout, umengToken(0, "android"), "tokens are masked")
			assert.NotContains(t, r.stdout, umengToken(1, "ios"))
			r = runCLI(t, ctx, env, "devices", "list", "u0", "--json")
			require.Equal(t, exitOK, r.code, r.stderr)
			var devs []struct {
				DeviceUUID string `json:"device_uuid"`
				Active     bool   `json:"active"`
				TokenState string `json:"token_state"`
			}
			require.NoError(t, json.Unmarshal([]byte(r.stdout), &devs))
			active := map[string]bool{}
			for _, dv := range devs {
				active[dv.DeviceUUID] = dv.Active
				assert.Equal(t, "enabled", dv.TokenState)
			}
			assert.Equal(t, map[string]bool{"dev-0": false, "dev-1": true}, active)

			r = runCLI(t, ctx, env, "status", "999999")
			assert.Equal(t, exitFailure, r.code)
			assert.Equal(t, "pushctl: status: push message 999999 not found\n", r.stderr)
			r = runCLI(t, ctx, env, "push", "nobody", "--title", "t", "--content", "c")
			assert.Equal(t, exitFailure, r.code)
			assert.Equal(t, "pushctl: push: no active device for the users\n", r.stderr)
		})
	}
}

// TestConcurrentImports: two imports of overlapping files at once, with
// several workers each, leave what one sequential import of each row in
// file order would: every device has one active user and every token one
// enabled device. Run on MariaDB and PostgreSQL too.
func TestConcurrentImports(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			db, dsn := dbtest.Open(t, d)
			env := map[string]string{"PUSH_DB_DRIVER": string(d), "PUSH_DB_DSN": dsn}
			ctx := context.Background()
			require.Equal(t, exitOK, runCLI(t, ctx, env, "migrate").code)
			// 300 rows over 100 devices and 50 tokens: each device
			// appears three times, with users and tokens moving.
			var b strings.Builder
			b.WriteString("uuid,platform,push_token,user_num\n")
			for i := range 300 {
				fmt.Fprintf(&b, "dev-%d,android,%s,u%d\n", i%100, umengToken((i*7)%50, "android"), i%13)
			}
			path := filepath.Join(t.TempDir(), "in.csv")
			require.NoError(t, os.WriteFile(path, []byte(b.String()), 0o600))

			var wg sync.WaitGroup
			results := make([]result, 2)
			for i := range results {
				wg.Go(func() {
					results[i] = runCLI(t, ctx, env, "devices", "import", "--workers", "4", "--batch", "8", path)
				})
			}
			wg.Wait()
			for _, r := range results {
				require.Equal(t, exitOK, r.code, r.stderr)
			}
			st, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
			require.NoError(t, err)
			// Whatever the interleaving: one active user per device, one
			// enabled device per token.
			holders := map[string]int{}
			for dev := range 100 {
				got, users, err := st.DeviceByUUID(ctx, "android", fmt.Sprint("dev-", dev))
				require.NoError(t, err)
				assert.Len(t, users, 1, "dev-%d", dev)
				if got.TokenDisabledAt == nil {
					holders[got.PushToken]++
				}
			}
			for tok, n := range holders {
				assert.Equal(t, 1, n, "%s is enabled on one device", tok)
			}
			// A third run is the check of the end state: the last row of
			// each device is what is stored.
			r := runCLI(t, ctx, env, "devices", "import", "--workers", "1", path)
			require.Equal(t, exitOK, r.code, r.stderr)

			enabled := map[string]int{}
			for dev := range 100 {
				last := 200 + dev // the last row of dev-<dev>
				got, users, err := st.DeviceByUUID(ctx, "android", fmt.Sprint("dev-", dev))
				require.NoError(t, err)
				assert.Equal(t, []string{fmt.Sprint("u", last%13)}, users, "dev-%d", dev)
				assert.Equal(t, umengToken((last*7)%50, "android"), got.PushToken)
				if got.TokenDisabledAt == nil {
					enabled[got.PushToken]++
				}
			}
			for tok, n := range enabled {
				assert.Equal(t, 1, n, "%s is enabled on one device", tok)
			}
			assert.Len(t, enabled, 50, "every token is enabled somewhere")
		})
	}
}

// TestConcurrentImportsCountADeviceImportedOnce: two imports of
// overlapping files at once count as imported only the devices each
// inserted, so that the two counts add up to the devices there are; a
// device the other import inserted first is counted as updated or
// unchanged. Run on MariaDB and PostgreSQL too.
func TestConcurrentImportsCountADeviceImportedOnce(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			_, dsn := dbtest.Open(t, d)
			env := map[string]string{"PUSH_DB_DRIVER": string(d), "PUSH_DB_DSN": dsn}
			ctx := context.Background()
			require.Equal(t, exitOK, runCLI(t, ctx, env, "migrate").code)
			// Each round: 100 new devices, the first file rows 0-79, the
			// second rows 20-99, each device with a token of its own.
			for round := range 3 {
				var paths [2]string
				for i, rows := range [2][2]int{{0, 80}, {20, 100}} {
					var b strings.Builder
					b.WriteString("uuid,platform,push_token,user_num\n")
					for dev := rows[0]; dev < rows[1]; dev++ {
						fmt.Fprintf(&b, "dev-%d-%d,android,%s,u%d\n", round, dev, umengToken(1000*round+dev, "android"), dev%7)
					}
					paths[i] = filepath.Join(t.TempDir(), "in.csv")
					require.NoError(t, os.WriteFile(paths[i], []byte(b.String()), 0o600))
				}
				var wg sync.WaitGroup
				results := make([]result, 2)
				for i := range results {
					wg.Go(func() {
						results[i] = runCLI(t, ctx, env, "devices", "import", "--workers", "4", "--batch", "2", paths[i])
					})
				}
				wg.Wait()
				imported := 0
				for _, r := range results {
					require.Equal(t, exitOK, r.code, r.stderr)
					var n, updated, unchanged, rejected int
					_, err := fmt.Sscanf(r.stdout, "imported=%d updated=%d unchanged=%d rejected=%d\n", &n, &updated, &unchanged, &rejected)
					require.NoError(t, err, r.stdout)
					assert.Equal(t, 80, n+updated+unchanged, "round %d: every row counted once: %s", round, r.stdout)
					imported += n
				}
				assert.Equal(t, 100, imported, "round %d: each device imported by one of the two: %s%s", round, results[0].stdout, results[1].stdout)
			}
		})
	}
}

// TestCenter: enqueue inserts a row and prints its id; tail prints it,
// then each change of its state once, and stops on interruption.
func TestCenter(t *testing.T) {
	env := migrated(t)
	ctx := context.Background()
	r := runCLI(t, ctx, env, "center", "enqueue", "--user", "u1", "--user", "u2", "--mode", "push", "--title", "停机维护",
		"--content", "今晚 23:00", "--class", "service", "--level", "3", "--send-at", "2020-01-01T08:00:00+08:00")
	require.Equal(t, exitOK, r.code, r.stderr)
	assert.Equal(t, "id=1\n", r.stdout)
	st, _ := openStore(t, env)
	m, err := st.GetCenterMessage(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "u1,u2", m.Receivers)
	assert.Equal(t, 3, m.NotifyLevel)
	assert.Equal(t, "service", m.Class)
	require.NotNil(t, m.SendAt)
	assert.True(t, m.SendAt.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)))

	// A row already handled is history: a tail without --since-id skips it.
	done := &registry.CenterMessage{Title: "old", Content: "c", NotifyMode: "sms", Receivers: "u3"}
	require.NoError(t, st.EnqueueCenterMessage(ctx, done))
	finish(t, st, done.ID, registry.SendStateSent, "sms#1", "")

	out, errb, stop := startTail(t, env)
	waitFor(t, out, `id=1 mode=push state=unsent result="" remark=""`)
	r = runCLI(t, ctx, env, "center", "enqueue", "--user", "u9", "--mode", "email", "--title", "t", "--content", "c")
	require.Equal(t, exitOK, r.code, r.stderr)
	waitFor(t, out, `id=3 mode=email state=unsent`)
	finish(t, st, 1, registry.SendStateFailed, "", "no device")
	waitFor(t, out, `id=1 mode=push state=failed result="" remark="no device"`)
	finish(t, st, 3, registry.SendStateSent, "email#7", "")
	waitFor(t, out, `id=3 mode=email state=sent result="email#7" remark=""`)
	time.Sleep(50 * time.Millisecond) // a few more polls: nothing new to print
	assert.Equal(t, exitOK, stop())
	assert.Equal(t, `id=1 mode=push state=unsent result="" remark=""`+"\n"+
		`id=3 mode=email state=unsent result="" remark=""`+"\n"+
		`id=1 mode=push state=failed result="" remark="no device"`+"\n"+
		`id=3 mode=email state=sent result="email#7" remark=""`+"\n", out.String(), "each change once; row 2 was history")
	assert.Empty(t, errb.String())

	// --since-id 0 prints every row, handled or not, once.
	out, _, stop = startTail(t, env, "--since-id", "1")
	waitFor(t, out, `id=3 mode=email state=sent`)
	assert.Equal(t, exitOK, stop())
	assert.Equal(t, `id=2 mode=sms state=sent result="sms#1" remark=""`+"\n"+`id=3 mode=email state=sent result="email#7" remark=""`+"\n", out.String())
}

// TestCenterTailLateAndDeletedRows: a row that commits below ids already
// printed (its id was taken before theirs) is printed once when it
// appears, and a watched row someone deletes is reported once and
// forgotten: the tail goes on.
func TestCenterTailLateAndDeletedRows(t *testing.T) {
	env := migrated(t)
	ctx := context.Background()
	st, db := openStore(t, env)
	for i := range 3 {
		require.NoError(t, st.EnqueueCenterMessage(ctx, &registry.CenterMessage{Title: fmt.Sprint("row ", i), Content: "c",
			NotifyMode: "sms", Receivers: "u1"}))
	}
	// Ids 4 and 5 were taken by transactions that have not committed yet.
	_, err := db.ExecContext(ctx, "UPDATE sys_message_center SET id = id + 3 WHERE id = 3")
	require.NoError(t, err)

	out, errb, stop := startTail(t, env)
	waitFor(t, out, `id=6 mode=sms state=unsent`)
	_, err = db.ExecContext(ctx, `INSERT INTO sys_message_center (id, title, content, notify_mode, receivers, send_state, created_at, updated_at)
		VALUES (4, 'late', 'c', 'email', 'u2', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`)
	require.NoError(t, err)
	waitFor(t, out, `id=4 mode=email state=unsent`)
	_, err = db.ExecContext(ctx, "DELETE FROM sys_message_center WHERE id = 2")
	require.NoError(t, err)
	waitFor(t, out, "id=2 deleted")
	require.NoError(t, st.EnqueueCenterMessage(ctx, &registry.CenterMessage{Title: "after", Content: "c", NotifyMode: "push", Receivers: "u1"}))
	waitFor(t, out, `id=7 mode=push state=unsent`)
	time.Sleep(50 * time.Millisecond) // a few more polls: nothing new to print
	assert.Equal(t, exitOK, stop(), errb.String())
	assert.Equal(t, `id=1 mode=sms state=unsent result="" remark=""`+"\n"+
		`id=2 mode=sms state=unsent result="" remark=""`+"\n"+
		`id=6 mode=sms state=unsent result="" remark=""`+"\n"+
		`id=4 mode=email state=unsent result="" remark=""`+"\n"+
		"id=2 deleted\n"+
		`id=7 mode=push state=unsent result="" remark=""`+"\n", out.String(), "each row once, the late one too")
	assert.Empty(t, errb.String())
}

// TestCenterTailFollowsRowsBelowAForeignHighID: a row another program
// inserts with an id of its own far above the rest does not move a
// PostgreSQL sequence, so the rows enqueued next come below it; the tail
// read only from just below the highest id and never showed them. Rows
// with an id of 0 or below are shown too. On every database.
func TestCenterTailFollowsRowsBelowAForeignHighID(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			_, dsn := dbtest.Open(t, d)
			env, _ := umengEnv(t, string(d), dsn)
			ctx := t.Context()
			r := runCLI(t, ctx, env, "migrate")
			require.Equal(t, exitOK, r.code, r.stderr)
			st, db := openStore(t, env)
			enqueue := func(mode string) int64 {
				m := &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: mode, Receivers: "u1"}
				require.NoError(t, st.EnqueueCenterMessage(ctx, m))
				return m.ID
			}
			foreign := func(id int64, mode string) {
				_, err := db.ExecContext(ctx, fmt.Sprintf(`INSERT INTO sys_message_center
					(id, title, content, notify_mode, receivers, send_state, created_at, updated_at)
					VALUES (%d, 'other', 'c', '%s', 'u2', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`, id, mode))
				require.NoError(t, err)
			}
			for range 3 {
				enqueue("sms")
			}
			foreign(-5, "email")
			foreign(1000000, "email")

			out, errb, stop := startTail(t, env)
			waitFor(t, out, `id=1000000 mode=email state=unsent`)
			waitFor(t, out, `id=-5 mode=email state=unsent`)
			next := enqueue("push") // 4 on PostgreSQL, 1000001 elsewhere
			waitFor(t, out, fmt.Sprintf(`id=%d mode=push state=unsent`, next))
			foreign(500, "sms") // between the runs of ids, near the first
			waitFor(t, out, `id=500 mode=sms state=unsent`)
			foreign(200000, "sms") // a third run
			waitFor(t, out, `id=200000 mode=sms state=unsent`)
			last := enqueue("push")
			waitFor(t, out, fmt.Sprintf(`id=%d mode=push state=unsent`, last))
			foreign(200001, "email")
			waitFor(t, out, `id=200001 mode=email state=unsent`)
			time.Sleep(50 * time.Millisecond) // a few more polls: nothing new to print
			assert.Equal(t, exitOK, stop(), errb.String())
			assert.Empty(t, errb.String())
			lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
			assert.Len(t, lines, 10, "each row once: %s", out.String())
		})
	}
}

// TestCenterTailShowsTheExtremeIDs: on SQLite another program may give a
// row the lowest or the highest 64-bit id; the tail's ranges, which
// exclude their bounds, left both out. They are shown, followed and
// reported deleted like any row.
func TestCenterTailShowsTheExtremeIDs(t *testing.T) {
	env := migrated(t)
	ctx := context.Background()
	st, db := openStore(t, env)
	require.NoError(t, st.EnqueueCenterMessage(ctx, &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "u1"}))
	for _, id := range []string{"-9223372036854775808", "9223372036854775807"} {
		_, err := db.ExecContext(ctx, `INSERT INTO sys_message_center (id, title, content, notify_mode, receivers, send_state, created_at, updated_at)
			VALUES (`+id+`, 'edge', 'c', 'email', 'u2', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`)
		require.NoError(t, err)
	}
	out, errb, stop := startTail(t, env)
	waitFor(t, out, `id=-9223372036854775808 mode=email state=unsent`)
	waitFor(t, out, `id=9223372036854775807 mode=email state=unsent`)
	waitFor(t, out, `id=1 mode=sms state=unsent`)
	_, err := db.ExecContext(ctx, "UPDATE sys_message_center SET send_state = 1 WHERE id = 9223372036854775807")
	require.NoError(t, err)
	waitFor(t, out, `id=9223372036854775807 mode=email state=sent`)
	_, err = db.ExecContext(ctx, "DELETE FROM sys_message_center WHERE id = -9223372036854775808")
	require.NoError(t, err)
	waitFor(t, out, "id=-9223372036854775808 deleted")
	time.Sleep(50 * time.Millisecond) // a few more polls: nothing new to print
	assert.Equal(t, exitOK, stop(), errb.String())
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Len(t, lines, 5, "each change once: %s", out.String())
}

// TestTailerSpans: the runs of ids a tail follows join when they come
// within tailWindow of each other, and past maxSpans the one that grew
// least recently joins the run above it, said once on stderr.
func TestTailerSpans(t *testing.T) {
	var errb strings.Builder
	tl := &tailer{e: &env{stderr: &errb}, floor: math.MinInt64}
	assert.Equal(t, []region{{math.MinInt64, math.MaxInt64}}, tl.regions(), "all of the table until a row is read")

	got := tl.join([]span{{lo: 5000, hi: 5000, grew: 1}, {lo: 1, hi: 10, grew: 1}, {lo: 900, hi: 2000, grew: 2}})
	assert.Equal(t, []span{{lo: 1, hi: 2000, grew: 2}, {lo: 5000, hi: 5000, grew: 1}}, got)
	tl.spans = got
	assert.Equal(t, []region{{1000, 5000}, {4000, math.MaxInt64}}, tl.regions())
	tl.floor = 4500
	assert.Equal(t, []region{{4500, 5000}, {4500, math.MaxInt64}}, tl.regions(), "never below --since-id")

	tl.spans = []span{{lo: math.MinInt64 + 3, hi: math.MinInt64 + 3}, {lo: math.MaxInt64, hi: math.MaxInt64}}
	tl.floor = math.MinInt64
	assert.Equal(t, []region{{math.MinInt64, math.MaxInt64}, {math.MaxInt64 - tailWindow, math.MaxInt64}}, tl.regions(), "no overflow")
	assert.Len(t, tl.join(tl.spans), 2, "no overflow: the ends of int64 are far apart")

	var many []span
	for i := range maxSpans + 2 {
		many = append(many, span{lo: int64(i) * 10000, hi: int64(i) * 10000, grew: uint64(100 - i)})
	}
	many[3].grew = 0 // grew least recently
	many[9].grew = 1
	got = tl.join(many)
	require.Len(t, got, maxSpans)
	assert.Equal(t, span{lo: 30000, hi: 40000, grew: 96}, got[3])
	assert.Equal(t, span{lo: 90000, hi: 100000, grew: 90}, got[8], "9 joined 10 after 3 joined 4")
	assert.Equal(t, "pushctl: center tail: the ids of sys_message_center lie in more than 16 runs far apart; "+
		"rows inserted between id 30000 and 40000 are no longer shown\n", errb.String(), "said once")
}

// finish claims the center row id and finishes it in state with result
// and remark, as the Scanner would.
func finish(t *testing.T, st *sqlstore.Store, id int64, state int, result, remark string) {
	t.Helper()
	rows, err := st.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: time.Now().Add(time.Hour), Limit: 10, Lease: time.Minute})
	require.NoError(t, err)
	for _, m := range rows {
		if m.ID == id {
			m.SendState, m.SendResult, m.Remark = state, result, remark
			require.NoError(t, st.FinishCenterMessage(t.Context(), &m))
			continue
		}
		m.SendState = registry.SendStateUnsent
		require.NoError(t, st.FinishCenterMessage(t.Context(), &m)) // released
	}
}

// waitFor waits until out holds want.
func waitFor(t *testing.T, out *syncBuffer, want string) {
	t.Helper()
	require.Eventually(t, func() bool { return strings.Contains(out.String(), want) }, 10*time.Second, 5*time.Millisecond,
		"waiting for %q in %q", want, out.String())
}

// sqliteWithDevices is the environment of a pushctl on a fresh migrated
// SQLite file and a fake Umeng, with n devices imported (writeCSV).
func sqliteWithDevices(t *testing.T, n int) map[string]string {
	t.Helper()
	env, _ := umengEnv(t, "sqlite", filepath.Join(t.TempDir(), "push.db"))
	r := runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = runCLI(t, t.Context(), env, "devices", "import", writeCSV(t, n, umengToken))
	require.Equal(t, exitOK, r.code, r.stderr)
	return env
}

// TestPushEveryDeliveryFailedExits1: a push the vendor refuses for every
// delivery (here a wrong master secret) is recorded and printed, and
// pushctl exits 1 naming the cause, so that an operator's test push or a
// script sees the failure. A push with a delivery accepted exits 0.
func TestPushEveryDeliveryFailedExits1(t *testing.T) {
	env := sqliteWithDevices(t, 2)
	ctx := context.Background()

	r := runCLI(t, ctx, env, "push", "u0", "--title", "t", "--content", "c")
	require.Equal(t, exitOK, r.code, r.stderr)

	env["UMENG_ANDROID_APP_MASTER_SECRET"] += "wrong"
	env["UMENG_IOS_APP_MASTER_SECRET"] += "wrong"
	r = runCLI(t, ctx, env, "push", "u0", "--title", "t", "--content", "c")
	assert.Equal(t, exitFailure, r.code, r.stdout)
	assert.Contains(t, r.stdout, "failed=1", "the outcome is printed")
	assert.Regexp(t, `(?m)^pushctl: push: every delivery failed \(push_message_id=2\): umeng send: auth`, r.stderr)
	assert.NotContains(t, r.stderr, env["UMENG_ANDROID_APP_MASTER_SECRET"], "no secret in the error")
}

// TestStatusCountsEveryToken: a push's summary column is empty while its
// audience is being recorded in stages, and clipped when its tokens
// outgrow the column (MySQL's max_allowed_packet), but status counts the
// tokens of its deliveries: all of them. A push another program recorded,
// without deliveries, has the tokens of its summary counted, empty items
// left out.
func TestStatusCountsEveryToken(t *testing.T) {
	env := sqliteWithDevices(t, 40)
	ctx := context.Background()
	users := make([]string, 20)
	for i := range users {
		users[i] = fmt.Sprint("u", i)
	}
	r := runCLI(t, ctx, env, append(append([]string{"push"}, users...), "--title", "t", "--content", "c")...)
	require.Equal(t, exitOK, r.code, r.stderr)

	st, db := openStore(t, env)
	_, err := db.ExecContext(ctx, `UPDATE sys_push_messages SET android_device_tokens = NULL,
		ios_device_tokens = substr(ios_device_tokens, 1, 100) WHERE id = 1`)
	require.NoError(t, err)
	other := &registry.PushMessage{Title: "other program"}
	require.NoError(t, st.CreatePushMessage(ctx, other, nil))
	_, err = db.ExecContext(ctx, `UPDATE sys_push_messages SET android_device_tokens = 'a,b,,c,', ios_device_tokens = ''
		WHERE id = ?`, other.ID)
	require.NoError(t, err)

	for id, want := range map[int64][2]int{1: {20, 20}, other.ID: {3, 0}} {
		r = runCLI(t, ctx, env, "status", fmt.Sprint(id), "--json")
		require.Equal(t, exitOK, r.code, r.stderr)
		var view statusView
		require.NoError(t, json.Unmarshal([]byte(r.stdout), &view))
		assert.Equal(t, want, [2]int{view.Android.Tokens, view.IOS.Tokens}, "push %d", id)
	}
}

// TestClipKeepsTablesAndTerminalsIntact: a vendor's response or a remark
// another program wrote is printed on one line, without a tab (it would
// shift the table's columns) or any other control character.
func TestClipKeepsTablesAndTerminalsIntact(t *testing.T) {
	assert.Equal(t, "a b; c   d; e", clip("a\tb\r\nc \x1b d\n\ne", 80))
	assert.Equal(t, "abc…", clip("abcdef", 4))
	assert.Equal(t, "x\ufffdy", clip("x\xffy", 80))
}

// TestCenterTailFollowsABacklogInPages: the watched rows of a backlog
// larger than a page are read again page by page (one query per row made
// a tail of a 20,000-row backlog a load on the database); a change on the
// third page and a deletion on the second are each printed once.
func TestCenterTailFollowsABacklogInPages(t *testing.T) {
	env := migrated(t)
	ctx := context.Background()
	_, db := openStore(t, env)
	_, err := db.ExecContext(ctx, `WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1200)
		INSERT INTO sys_message_center (id, title, content, notify_mode, receivers, send_state, created_at, updated_at)
		SELECT i, 't', 'c', 'sms', 'u1', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM n`)
	require.NoError(t, err)

	out, errb, stop := startTail(t, env)
	waitFor(t, out, `id=1200 mode=sms state=unsent`)
	_, err = db.ExecContext(ctx, "UPDATE sys_message_center SET send_state = 1, send_result = 'sms#9' WHERE id = 1100")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "DELETE FROM sys_message_center WHERE id = 600")
	require.NoError(t, err)
	waitFor(t, out, `id=1100 mode=sms state=sent result="sms#9"`)
	waitFor(t, out, "id=600 deleted")
	time.Sleep(50 * time.Millisecond) // a few more polls: nothing new to print
	assert.Equal(t, exitOK, stop(), errb.String())
	lines := strings.Split(strings.TrimSuffix(out.String(), "\n"), "\n")
	assert.Len(t, lines, 1202, "each row once, then the change and the deletion")
	assert.Equal(t, 1, strings.Count(out.String(), "id=1100 mode=sms state=sent"))
	assert.Equal(t, 1, strings.Count(out.String(), "id=600 deleted"))
}

// startTail runs center tail (every 10 ms, with more args) on env until
// the returned stop, which gives its exit status.
func startTail(t *testing.T, env map[string]string, args ...string) (out, errb *syncBuffer, stop func() int) {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	out, errb = new(syncBuffer), new(syncBuffer)
	code := make(chan int, 1)
	go func() {
		code <- run(ctx, append([]string{"center", "tail", "--interval", "10ms"}, args...), out, errb, func(k string) string { return env[k] })
	}()
	return out, errb, func() int { cancel(); return <-code }
}

// TestPushInterruptedExits1: a push interrupted while its vendor calls
// are under way lets the calls in flight finish, records the rest for a
// Scanner and exits 1 saying how many deliveries were not sent (it exited
// 0, and a script read the push as done).
func TestPushInterruptedExits1(t *testing.T) {
	env, fake := umengEnv(t, "sqlite", filepath.Join(t.TempDir(), "push.db"))
	r := runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = runCLI(t, t.Context(), env, "devices", "import", writeCSV(t, 2400, umengToken)) // 1,200 users: 6 deliveries of 500 or fewer
	require.Equal(t, exitOK, r.code, r.stderr)
	users := make([]string, 1200)
	for i := range users {
		users[i] = fmt.Sprint("u", i)
	}

	release := fake.Stall()
	defer release()
	ctx, interrupt := context.WithCancel(t.Context())
	defer interrupt()
	done := make(chan result, 1)
	go func() {
		done <- runCLI(t, ctx, env, append(append([]string{"push"}, users...), "--title", "t", "--content", "c")...)
	}()
	wctx, cancel := context.WithTimeout(t.Context(), 20*time.Second)
	defer cancel()
	require.NoError(t, fake.WaitStalled(wctx, 4), "the first four calls reached Umeng")
	interrupt()
	release()
	r = <-done
	assert.Equal(t, exitFailure, r.code, r.stdout)
	assert.Contains(t, r.stderr, "interrupted: 2 deliveries of push_message_id=1 were not sent")
	assert.Contains(t, r.stdout, "push_message_id=1", "the push is printed")
}

// TestPushExpireIn: --expire-in sets the push's expiry from now; a
// negative one is a usage error that records nothing.
func TestPushExpireIn(t *testing.T) {
	env := sqliteWithDevices(t, 1)
	ctx := context.Background()
	before := time.Now()
	r := runCLI(t, ctx, env, "push", "u0", "--title", "t", "--content", "c", "--expire-in", "10m")
	require.Equal(t, exitOK, r.code, r.stderr)
	st, _ := openStore(t, env)
	m, err := st.GetPushMessage(ctx, 1)
	require.NoError(t, err)
	require.NotNil(t, m.ExpireAt)
	assert.WithinRange(t, *m.ExpireAt, before.Add(10*time.Minute-time.Second), time.Now().Add(10*time.Minute+time.Second))

	r = runCLI(t, ctx, env, "push", "u0", "--title", "t", "--content", "c", "--expire-in", "-1m")
	assert.Equal(t, exitUsage, r.code, r.stdout)
	assert.Contains(t, r.stderr, "--expire-in")
	_, err = st.GetPushMessage(ctx, 2)
	assert.ErrorIs(t, err, registry.ErrNotFound, "nothing recorded")
}

// TestCenterTailPollsOnWhenThePollDoesNotAnswer: a poll the database does
// not answer within tailPollTimeout is said once on stderr, naming the
// bound, not a silence, and the tail polls on until it is interrupted,
// exit 0: during an outage is when an operator needs it. (A bound too
// short for any answer stands in for a database that stopped answering.)
func TestCenterTailPollsOnWhenThePollDoesNotAnswer(t *testing.T) {
	env := migrated(t)
	old := tailPollTimeout.Load()
	tailPollTimeout.Store(int64(time.Nanosecond))
	t.Cleanup(func() { tailPollTimeout.Store(old) })
	ctx, cancel := context.WithTimeout(t.Context(), 600*time.Millisecond)
	defer cancel()
	go func() {
		// The database answers again.
		time.Sleep(300 * time.Millisecond)
		tailPollTimeout.Store(old)
	}()
	r := runCLI(t, ctx, env, "center", "tail", "--interval", "10ms")
	assert.Equal(t, exitOK, r.code, r.stderr)
	assert.Contains(t, r.stderr, "the database did not answer within 1ns")
	assert.Equal(t, 1, strings.Count(r.stderr, "did not answer"), "said once: %q", r.stderr)
	assert.Contains(t, r.stderr, "pushctl: center tail: the database answers again\n")
}

// TestCenterEnqueueTitle: the brief's title column takes NULL: an sms or
// an email needs no title; a push does, unless the Scanner has a default.
func TestCenterEnqueueTitle(t *testing.T) {
	env := migrated(t)
	ctx := context.Background()
	r := runCLI(t, ctx, env, "center", "enqueue", "--user", "u9", "--mode", "sms", "--content", "验证码 1234")
	require.Equal(t, exitOK, r.code, r.stderr)
	st, _ := openStore(t, env)
	m, err := st.GetCenterMessage(ctx, 1)
	require.NoError(t, err)
	assert.Equal(t, "", m.Title)
	assert.Equal(t, "sms", m.NotifyMode)

	r = runCLI(t, ctx, env, "center", "enqueue", "--user", "u9", "--content", "c")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--title is required for --mode push")
	r = runCLI(t, ctx, env, "center", "enqueue", "--user", "u9", "--mode", "sms", "--title", "  ", "--content", "c")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--title is blank")
	r = runCLI(t, ctx, env, "center", "enqueue", "--user", "u9", "--mode", "sms", "--content", " ")
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, "--content is required")

	withDefault := maps.Clone(env)
	withDefault["PUSH_CENTER_DEFAULT_TITLE"] = "通知"
	r = runCLI(t, ctx, withDefault, "center", "enqueue", "--user", "u9", "--content", "c")
	require.Equal(t, exitOK, r.code, "the Scanner's default title serves: %s", r.stderr)
	assert.Equal(t, "id=2\n", r.stdout)
}

// TestPushLeftPendingExits1: a push the vendor did not take (503 for
// every call) is recorded pending for a Scanner, printed, and pushctl
// exits 1 saying so (it exited 0, as if sent).
func TestPushLeftPendingExits1(t *testing.T) {
	env, fake := umengEnv(t, "sqlite", filepath.Join(t.TempDir(), "push.db"))
	r := runCLI(t, t.Context(), env, "migrate")
	require.Equal(t, exitOK, r.code, r.stderr)
	r = runCLI(t, t.Context(), env, "devices", "import", writeCSV(t, 2, umengToken))
	require.Equal(t, exitOK, r.code, r.stderr)
	require.NoError(t, fake.FailNext(2, umengtest.Fault{Path: "/api/send", HTTPStatus: http.StatusServiceUnavailable}))
	r = runCLI(t, t.Context(), env, "push", "u0", "--title", "t", "--content", "c")
	assert.Equal(t, exitFailure, r.code, r.stdout)
	assert.Contains(t, r.stdout, "pending=1")
	assert.Contains(t, r.stderr, "2 deliveries of push_message_id=1 not sent yet (pending): a Scanner (examples/server) tries them again")
}

// TestPushOutcomeOfUnrecordedDeliveries: a delivery the vendor took whose
// outcome could not be recorded is printed unrecorded, not sent, and
// pushctl exits 1 saying a Scanner sends it again (it printed sent=1 and
// exited 0, while the store held it pending); the other outcomes keep
// their exits.
func TestPushOutcomeOfUnrecordedDeliveries(t *testing.T) {
	res := &push.Result{PushMessageID: 7, Devices: 2, Deliveries: []push.DeliveryOutcome{
		{Provider: "umeng", Platform: "android", Tokens: 1, State: registry.DeliveryAccepted, Unrecorded: true},
		{Provider: "umeng", Platform: "ios", Tokens: 1, State: registry.DeliveryAccepted},
	}}
	var out syncBuffer
	printResult(&env{stdout: &out}, res)
	assert.Contains(t, out.String(), "unrecorded=1")
	assert.Equal(t, 1, strings.Count(out.String(), "sent=1"), "only the recorded one is sent")
	err := pushOutcome(res, false)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "the vendor took 1 delivery of push_message_id=7 whose outcome could not be recorded")

	res.Deliveries[0].Unrecorded = false
	assert.NoError(t, pushOutcome(res, false), "every delivery sent and recorded")
	res.Deliveries[0].State, res.Deliveries[0].Deferred = registry.DeliveryPending, true
	require.Error(t, pushOutcome(res, true))
	assert.Contains(t, pushOutcome(res, true).Error(), "interrupted: 1 delivery of push_message_id=7 was not sent")
	assert.Contains(t, pushOutcome(res, false).Error(), "1 delivery of push_message_id=7 not sent yet (pending)")

	// A push recorded in stages whose listing stopped, or that expired
	// before its end, is not done either, whatever its recorded stages did.
	done := &push.Result{PushMessageID: 8, Deliveries: []push.DeliveryOutcome{{State: registry.DeliveryAccepted}}}
	done.Unlisted = true
	require.Error(t, pushOutcome(done, true))
	assert.Contains(t, pushOutcome(done, true).Error(), "the listing of push_message_id=8 stopped before its whole audience (interrupted)")
	assert.Contains(t, pushOutcome(done, false).Error(), "(a read of the database failed)")
	done.Unlisted, done.Expired = false, true
	assert.Contains(t, pushOutcome(done, false).Error(), "push_message_id=8 expired before its whole audience was listed")
}

// TestMigratesAtOnceSayWhatEachApplied: of the pushctl migrate runs
// started at once on an empty database, each names only the migrations it
// applied itself (each used to name every migration pending before it
// waited for the lock), and together they name each once. Run on MariaDB
// and PostgreSQL too.
func TestMigratesAtOnceSayWhatEachApplied(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			_, dsn := dbtest.Open(t, d)
			env := map[string]string{"PUSH_DB_DRIVER": string(d), "PUSH_DB_DSN": dsn}
			results := make([]result, 3)
			var wg sync.WaitGroup
			for i := range results {
				wg.Go(func() { results[i] = runCLI(t, context.Background(), env, "migrate") })
			}
			wg.Wait()
			named := map[string]int{}
			for _, r := range results {
				require.Equal(t, exitOK, r.code, r.stderr)
				for line := range strings.Lines(r.stdout) {
					component, applied, ok := strings.Cut(strings.TrimSpace(line), ", applied: ")
					if !ok {
						continue
					}
					component, _, _ = strings.Cut(component, ":")
					for name := range strings.SplitSeq(applied, ", ") {
						named[component+"/"+name]++
					}
				}
			}
			assert.Len(t, named, 17, "16 of push and 1 of users: %v", named)
			for name, n := range named {
				assert.Equal(t, 1, n, name)
			}
		})
	}
}

// TestMigrateFailingPartwaySaysWhatItApplied: on MariaDB and PostgreSQL a
// migration that fails leaves those before it applied (each commits on
// its own), and migrate names them before the error.
func TestMigrateFailingPartwaySaysWhatItApplied(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.DialectMySQL, sqlstore.DialectPostgres} {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			db, dsn := dbtest.Open(t, d)
			env := map[string]string{"PUSH_DB_DRIVER": string(d), "PUSH_DB_DSN": dsn}
			ctx := context.Background()
			require.Equal(t, exitOK, runCLI(t, ctx, env, "migrate").code)
			_, err := db.ExecContext(ctx, "DELETE FROM push_schema_migrations WHERE component = 'push' AND version >= 15")
			require.NoError(t, err)
			if d == sqlstore.DialectMySQL {
				_, err = db.ExecContext(ctx, "CREATE TRIGGER refuse_16 BEFORE INSERT ON push_schema_migrations FOR EACH ROW BEGIN IF NEW.version = 16 THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'refused by a test'; END IF; END")
			} else {
				_, err = db.ExecContext(ctx, "CREATE FUNCTION refuse_16() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN IF NEW.version = 16 THEN RAISE EXCEPTION 'refused by a test'; END IF; RETURN NEW; END $$")
				require.NoError(t, err)
				_, err = db.ExecContext(ctx, "CREATE TRIGGER refuse_16 BEFORE INSERT ON push_schema_migrations FOR EACH ROW EXECUTE FUNCTION refuse_16()")
			}
			require.NoError(t, err)
			r := runCLI(t, ctx, env, "migrate")
			assert.Equal(t, exitFailure, r.code)
			assert.Equal(t, "push: migrated from version 14 to 15, applied: 0015_trimmed_tokens\n", r.stdout)
			assert.Contains(t, r.stderr, "refused by a test")
		})
	}
}
