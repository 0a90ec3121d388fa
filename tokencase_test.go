package push_test

import (
	"database/sql"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// caseRig is a Service with a Umeng client pointed at a fresh umengtest
// server, on a fresh database of one dialect; its clock is the real one
// (the fake checks expire_time against it) moved ahead by ahead.
type caseRig struct {
	svc   *push.Service
	st    *sqlstore.Store
	db    *sql.DB
	fake  *umengtest.Server
	ahead atomic.Int64
}

func newCaseRig(t *testing.T, d sqlstore.Dialect) *caseRig {
	t.Helper()
	r := &caseRig{}
	r.st, r.db = dbtest.NewStoreDB(t, d)
	r.fake = umengtest.NewServer(t, umengtest.Config{NoRateLimits: true})
	um, err := umeng.New(r.fake.ClientConfig())
	require.NoError(t, err)
	now := func() time.Time { return time.Now().Add(time.Duration(r.ahead.Load())) }
	r.svc, err = push.New(push.Config{Store: r.st, Providers: []provider.Provider{um}, Now: now,
		Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}})
	require.NoError(t, err)
	return r
}

// TestIOSTokenInEitherCaseIsOnePhone: an iPhone's Umeng token (the APNs
// token in hex) registered in lower case by one install and in upper case
// by the next is one phone: stored in lower case, taken over from the
// older user, and pushed to once, to its newest user only. Stored as
// sent, the two spellings were two phones: the older user was shown the
// newer one's pushes, and a push to both showed each push twice.
func TestIOSTokenInEitherCaseIsOnePhone(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			ctx := t.Context()
			r := newCaseRig(t, d)
			svc, st, fake := r.svc, r.st, r.fake
			var err error

			low := umengtest.IOSToken("phone")
			up := strings.ToUpper(low)
			require.NotEqual(t, low, up)
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "alice", UUID: "old-install", Platform: "ios", PushToken: low})
			require.NoError(t, err)
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "bob", UUID: "new-install", Platform: "ios", PushToken: up})
			require.NoError(t, err)

			alice, err := st.ListUserDevices(ctx, "alice")
			require.NoError(t, err)
			require.Len(t, alice, 1)
			require.NotNil(t, alice[0].Device.TokenDisabledAt, "the older install's token is taken over")
			assert.Equal(t, registry.TokenTakenOver, alice[0].Device.TokenDisabledReason)
			bob, err := st.ListUserDevices(ctx, "bob")
			require.NoError(t, err)
			require.Len(t, bob, 1)
			assert.Equal(t, low, bob[0].Device.PushToken, "stored in lower case")

			_, err = svc.Push(ctx, push.Message{UserNums: []string{"alice"}, Title: "t", Content: "c"})
			require.ErrorIs(t, err, push.ErrNoDevices, "the phone is bob's now")
			res, err := svc.Push(ctx, push.Message{UserNums: []string{"alice", "bob"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Devices)
			var got []string
			for _, dl := range fake.Deliveries() {
				got = append(got, dl.Token)
			}
			assert.Equal(t, []string{low}, got, "the phone is shown the push once")
		})
	}
}

// TestUpgradeLowerCasesIOSTokens: the rows an earlier release stored as
// the app sent them (an iOS token in upper case) are lower-cased by
// migration 16, so that the phone's next user's install, which registers
// the token in lower case, takes the phone over: the older user is not
// shown the newer one's pushes. Android tokens (base64, whose case is part
// of them) and other providers' rows keep their spelling.
func TestUpgradeLowerCasesIOSTokens(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			ctx := t.Context()
			r := newCaseRig(t, d)
			svc, st, fake := r.svc, r.st, r.fake
			var err error
			db := r.db

			// What an earlier release stored: the tokens as sent.
			low := umengtest.IOSToken("phone")
			android := umengtest.AndroidToken("phone")
			for _, row := range [][3]string{
				{"old-install", "ios", strings.ToUpper(low)},
				{"droid", "android", android},
				{"jp", "ios", "JPUSH" + strings.ToUpper(low[:20])},
			} {
				pp := "umeng"
				if row[0] == "jp" {
					pp = "jpush"
				}
				_, err := db.ExecContext(ctx, dbtest.Rebind(d, `INSERT INTO sys_devices (platform, uuid, push_device_token, push_platform, created_at, updated_at)
					VALUES (?, ?, ?, ?, '2026-01-01 00:00:00', '2026-01-01 00:00:00')`), row[1], row[0], row[2], pp)
				require.NoError(t, err)
			}
			_, err = db.ExecContext(ctx, `INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at)
				SELECT 'alice', id, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00' FROM sys_devices WHERE uuid = 'old-install'`)
			require.NoError(t, err)
			// Migration 16 runs as it runs on an upgraded database.
			_, err = db.ExecContext(ctx, "DELETE FROM push_schema_migrations WHERE component = 'push' AND version = 16")
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))

			spelled := func(uuid string) string {
				var tok string
				require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT push_device_token FROM sys_devices WHERE uuid = ?"), uuid).Scan(&tok))
				return tok
			}
			assert.Equal(t, low, spelled("old-install"), "an iOS token of Umeng's is lower-cased")
			assert.Equal(t, android, spelled("droid"), "an Android token keeps its case")
			assert.Equal(t, "JPUSH"+strings.ToUpper(low[:20]), spelled("jp"), "another provider's keeps its spelling")

			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "bob", UUID: "new-install", Platform: "ios", PushToken: strings.ToUpper(low)})
			require.NoError(t, err)
			_, err = svc.Push(ctx, push.Message{UserNums: []string{"alice"}, Title: "t", Content: "c"})
			require.ErrorIs(t, err, push.ErrNoDevices, "the phone is bob's now")
			assert.Empty(t, fake.Deliveries())
		})
	}
}

// TestRetryAfterTheTokenIsRespelled: a delivery sent to an iOS token in
// upper case (a row an earlier release stored so) that failed for a while
// is retried after the same install registered again (its token stored in
// lower case now): the retry looks the token up in both spellings, and
// sends it, rather than failing it as held by no user of the push.
func TestRetryAfterTheTokenIsRespelled(t *testing.T) {
	ctx := t.Context()
	r := newCaseRig(t, sqlstore.DialectSQLite)
	svc, st, fake := r.svc, r.st, r.fake
	var err error
	low := umengtest.IOSToken("phone")
	up := strings.ToUpper(low)
	// As an earlier release stored it: the Store itself takes any spelling.
	_, _, err = st.RegisterDevice(ctx, &registry.Device{UUID: "A", Platform: "ios", PushToken: up, PushPlatform: "umeng"}, "alice")
	require.NoError(t, err)
	require.NoError(t, fake.FailNext(1, umengtest.Fault{HTTPStatus: 503}))
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"alice"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Empty(t, fake.Deliveries(), "the first try failed")

	_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "alice", UUID: "A", Platform: "ios", PushToken: up})
	require.NoError(t, err)
	r.ahead.Store(int64(time.Hour))
	n, err := svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ds, err := st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.NotEqual(t, registry.DeliveryFailed, ds[0].State, "retried: %s", ds[0].Response)
	require.Len(t, fake.Deliveries(), 1, "the phone is shown the push once")
	assert.Equal(t, up, fake.Deliveries()[0].Token, "in the spelling it was recorded in")
}

// TestRefusedTokenIsDisabledInEitherSpelling: a delivery recorded with an
// iOS token in upper case whose phone registered again since (its row in
// lower case now) and which Umeng then refuses as dead disables that row:
// the refused token is disabled in both spellings.
func TestRefusedTokenIsDisabledInEitherSpelling(t *testing.T) {
	ctx := t.Context()
	r := newCaseRig(t, sqlstore.DialectSQLite)
	svc, st, fake := r.svc, r.st, r.fake
	var err error
	up := strings.ToUpper(umengtest.IOSToken("phone"))
	_, _, err = st.RegisterDevice(ctx, &registry.Device{UUID: "A", Platform: "ios", PushToken: up, PushPlatform: "umeng"}, "alice")
	require.NoError(t, err)
	require.NoError(t, fake.FailNext(1, umengtest.Fault{HTTPStatus: 503}))
	_, err = svc.Push(ctx, push.Message{UserNums: []string{"alice"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "alice", UUID: "A", Platform: "ios", PushToken: up})
	require.NoError(t, err)

	fake.MarkInvalid(up) // the app was uninstalled
	r.ahead.Store(int64(time.Hour))
	_, err = svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	links, err := st.ListUserDevices(ctx, "alice")
	require.NoError(t, err)
	require.Len(t, links, 1)
	assert.NotNil(t, links[0].Device.TokenDisabledAt, "the dead token is disabled, as the row spells it now")
}

// TestRegistrationTakesOverTheUpperCaseSpelling: a row that holds an iOS
// token in upper case and was written after migration 16 (by another
// program, or by an instance of an earlier release during a rolling
// upgrade) is an older install of the phone that registers the token
// now: it is taken over, and its user is not shown the new user's pushes.
func TestRegistrationTakesOverTheUpperCaseSpelling(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			t.Parallel()
			ctx := t.Context()
			r := newCaseRig(t, d)
			svc, st := r.svc, r.st
			var err error
			low := umengtest.IOSToken("phone")
			// As an earlier release stored it: the Store itself takes any spelling.
			_, _, err = st.RegisterDevice(ctx, &registry.Device{UUID: "old-install", Platform: "ios", PushToken: strings.ToUpper(low),
				PushPlatform: "umeng"}, "alice")
			require.NoError(t, err)
			// Another phone's token, and an Android token, are not touched.
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "carol", UUID: "other", Platform: "ios", PushToken: umengtest.IOSToken("other")})
			require.NoError(t, err)

			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "bob", UUID: "new-install", Platform: "ios", PushToken: low})
			require.NoError(t, err)
			alice, err := st.ListUserDevices(ctx, "alice")
			require.NoError(t, err)
			require.Len(t, alice, 1)
			require.NotNil(t, alice[0].Device.TokenDisabledAt, "the upper-case row is taken over")
			assert.Equal(t, registry.TokenTakenOver, alice[0].Device.TokenDisabledReason)
			_, err = svc.Push(ctx, push.Message{UserNums: []string{"alice"}, Title: "t", Content: "c"})
			require.ErrorIs(t, err, push.ErrNoDevices)
			res, err := svc.Push(ctx, push.Message{UserNums: []string{"bob", "carol"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 2, res.Devices)
		})
	}
}
