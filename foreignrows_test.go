package push_test

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// foreignRig is a Service on the Mock over a SQL Store, with the Store's
// database, in which a test writes rows as another program would.
type foreignRig struct {
	st  *sqlstore.Store
	db  *sql.DB
	svc *push.Service
	m   *providertest.Mock
	clk *clock
}

func newForeignRig(t *testing.T, st *sqlstore.Store, db *sql.DB, retry push.RetryPolicy) *foreignRig {
	t.Helper()
	clk := newClock()
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now, Retry: retry})
	require.NoError(t, err)
	return &foreignRig{st: st, db: db, svc: svc, m: m, clk: clk}
}

// register registers user's Android phone, whose token is "tok-" + user.
func (r *foreignRig) register(t *testing.T, user string) {
	t.Helper()
	_, err := r.svc.RegisterDevice(t.Context(), push.Device{UserNum: user, UUID: user, Platform: "android", PushPlatform: "umeng",
		PushToken: "tok-" + user})
	require.NoError(t, err)
}

// pendingPush registers user's phone and pushes to it with the Mock
// answering Temporary: the push's one delivery is pending. It returns the
// push's id.
func (r *foreignRig) pendingPush(t *testing.T, user string) int64 {
	t.Helper()
	r.register(t, user)
	r.m.Enqueue(providertest.Result{Err: &provider.Error{Kind: provider.Temporary}})
	res, err := r.svc.Push(t.Context(), push.Message{UserNums: []string{user}, Title: "t", Content: "c"})
	require.NoError(t, err)
	return res.PushMessageID
}

// foreignCase is the SET clause of an UPDATE of sys_push_deliveries
// another program ran, and whether only SQLite keeps its value (a server
// refuses it).
type foreignCase struct {
	set        string
	sqliteOnly bool
}

// eachForeignCase runs test for each of cases on each database that keeps
// its value, with a rig of its own on one Store per database, whose
// Service tries a delivery at most five times.
func eachForeignCase(t *testing.T, cases []foreignCase, test func(t *testing.T, i int, tc foreignCase, r *foreignRig)) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			st, db := dbtest.NewStoreDB(t, d)
			for i, tc := range cases {
				if tc.sqliteOnly && d != sqlstore.DialectSQLite {
					continue
				}
				t.Run(tc.set[:strings.Index(tc.set, " ")], func(t *testing.T) {
					test(t, i, tc, newForeignRig(t, st, db, push.RetryPolicy{Base: time.Second, Jitter: -1, MaxAttempts: 5}))
				})
			}
		})
	}
}

// setDeliveries runs the UPDATE of tc on the deliveries of push id.
func (r *foreignRig) setDeliveries(t *testing.T, tc foreignCase, id int64) {
	t.Helper()
	_, err := r.db.ExecContext(t.Context(), "UPDATE sys_push_deliveries SET "+tc.set+" WHERE push_message_id = "+fmt.Sprint(id))
	require.NoError(t, err)
}

// TestForeignDeliveryValuesDoNotStopTheOutcome: a pending delivery whose
// outcome columns another program filled with values the Store would not
// write (longer than VARCHAR(255), which SQLite does not enforce; bytes
// that are not UTF-8; a NUL; negative attempts) is tried again, and the
// outcome of that try is written: the delivery does not stay claimed, to
// be sent again at every lease's end.
func TestForeignDeliveryValuesDoNotStopTheOutcome(t *testing.T) {
	long := "'" + strings.Repeat("长", 300) + "'"
	cases := []foreignCase{
		{"vendor_state = " + long, true},
		{"receipt_id = CAST(X'61FF62' AS TEXT)", true},
		{"ret = 'a' || char(0) || 'b'", true},
		{"error_kind = " + long, true},
		{"error_code = CAST(X'FF' AS TEXT)", true},
		{"retry_token = " + long, true},
		{"response = CAST(X'7B22726574223AFF7D' AS TEXT)", true},
		{"attempts = -3", false},
	}
	eachForeignCase(t, cases, func(t *testing.T, i int, tc foreignCase, r *foreignRig) {
		ctx := t.Context()
		id := r.pendingPush(t, fmt.Sprint("foreign-", i))
		r.setDeliveries(t, tc, id)

		r.m.Enqueue(providertest.Result{Err: &provider.Error{Kind: provider.Temporary, Message: "still busy"}})
		r.clk.Advance(time.Hour)
		n, err := r.svc.RetryPending(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		ds, err := r.st.ListDeliveries(ctx, id)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Empty(t, ds[0].ClaimToken, "the try's outcome was written and the claim released")
		assert.Equal(t, registry.DeliveryPending, ds[0].State)
		assert.Contains(t, ds[0].Response, "still busy")
		assert.NoError(t, registry.ValidateDeliveryOutcome(&ds[0]), "what is read can be written back")
		assert.Len(t, r.m.Requests(), 2, "one call a try")
	})
}

// TestForeignDeliveryValuesDoNotStopTheClaim: a pending delivery whose
// numbers another program wrote out of range or as text (attempts at the
// INT maximum, pollable 2, seq or push_message_id not a number) neither
// fails the claim of the other deliveries nor stays claimed after its try;
// the good push beside it is sent.
func TestForeignDeliveryValuesDoNotStopTheClaim(t *testing.T) {
	cases := []foreignCase{
		{"attempts = 2147483647", false},
		{"pollable = 2", false},
		{"seq = 'x'", true},
		{"push_message_id = 'x'", true},
	}
	eachForeignCase(t, cases, func(t *testing.T, i int, tc foreignCase, r *foreignRig) {
		ctx := t.Context()
		bad := r.pendingPush(t, fmt.Sprint("claim-", i, "-bad"))
		good := r.pendingPush(t, fmt.Sprint("claim-", i, "-good"))
		r.setDeliveries(t, tc, bad)

		for range 3 {
			r.clk.Advance(time.Hour)
			_, err := r.svc.RetryPending(ctx, 10)
			require.NoError(t, err, "one odd row does not fail the claim of the others")
		}
		ds, err := r.st.ListDeliveries(ctx, good)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Contains(t, []registry.DeliveryState{registry.DeliveryAccepted, registry.DeliveryDone}, ds[0].State, "the good push is sent")
		var claimed int
		require.NoError(t, r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_push_deliveries WHERE claim_token IS NOT NULL").Scan(&claimed))
		assert.Zero(t, claimed, "no delivery stays claimed")
		assert.LessOrEqual(t, len(r.m.Requests()), 2+3, "at most one call a delivery a pass")
	})
}

// TestPushSkipsATokenNoStoreKeeps: a device whose token another program
// wrote as bytes that are not UTF-8, or with a NUL, is skipped; the push
// to the other users is recorded and sent.
func TestPushSkipsATokenNoStoreKeeps(t *testing.T) {
	for _, bad := range []string{"CAST(X'61FF62' AS TEXT)", "'a' || char(0) || 'b'"} {
		t.Run(bad, func(t *testing.T) {
			st, db := dbtest.NewStoreDB(t, sqlstore.DialectSQLite)
			r := newForeignRig(t, st, db, push.RetryPolicy{})
			ctx := t.Context()
			for _, user := range []string{"good", "bad"} {
				r.register(t, user)
			}
			_, err := db.ExecContext(ctx, "UPDATE sys_devices SET push_device_token = "+bad+" WHERE uuid = 'bad'")
			require.NoError(t, err)
			res, err := r.svc.Push(ctx, push.Message{UserNums: []string{"good", "bad"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Accepted())
			assert.Equal(t, 1, res.Skipped)
			require.Len(t, r.m.Requests(), 1)
			assert.Equal(t, []string{"tok-good"}, r.m.Requests()[0].Audience.Tokens)
		})
	}
}

// TestForeignDeliveryThatCannotBeSplitEnds: a multi-token delivery the
// vendor refuses for a dead token is split to find it, even when another
// program wrote an idempotency key too long for its parts' keys ".0", ".1"
// or a token with a space, which no part can hold (it is left out). When
// the parts cannot be stored at all (a part's key held by another
// delivery), or the delivery's platform is neither ios nor android, it
// fails with the reason. In no case is it claimed and sent again at every
// lease's end.
func TestForeignDeliveryThatCannotBeSplitEnds(t *testing.T) {
	long := strings.Repeat("k", 254)
	cases := []foreignCase{
		{"tokens = 'ta,tb,tc', idempotency_key = '" + long + "'", false},
		{"tokens = 'ta,t b,tb'", false},
		{"tokens = 'ta,tb', idempotency_key = 'taken'", false},
		{"platform = 'windows'", false},
	}
	type want struct {
		calls     int    // Sends made, pendingPush's included
		delivered string // the tokens of the accepted parts, in order
		failed    string // what the failed delivery's response holds
	}
	wants := []want{
		{calls: 6, delivered: "ta,tc"},
		{calls: 4, delivered: "ta"},
		{calls: 3, failed: "not split to find the refused token: its parts cannot be stored"},
		{calls: 1, failed: `platform "windows"`},
	}
	eachForeignCase(t, cases, func(t *testing.T, i int, tc foreignCase, r *foreignRig) {
		ctx := t.Context()
		r.m.MarkInvalid("tb")
		user := fmt.Sprint("split-", i)
		id := r.pendingPush(t, user)
		for _, tok := range []string{"ta", "tb", "tc"} { // the user's phones, which the tokens below name
			_, err := r.svc.RegisterDevice(ctx, push.Device{UserNum: user, UUID: user + "-" + tok, Platform: "android", PushPlatform: "umeng", PushToken: tok})
			require.NoError(t, err)
		}
		r.setDeliveries(t, tc, id)
		if strings.Contains(tc.set, "'taken'") {
			other := r.pendingPush(t, fmt.Sprint("split-", i, "-other"))
			r.setDeliveries(t, foreignCase{set: "idempotency_key = 'taken.0', state = 'failed'"}, other)
		}
		for range 4 {
			r.clk.Advance(time.Hour)
			_, err := r.svc.RetryPending(ctx, 10)
			require.NoError(t, err)
		}
		w := wants[i]
		var claimed int
		require.NoError(t, r.db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_push_deliveries WHERE claim_token IS NOT NULL").Scan(&claimed))
		assert.Zero(t, claimed, "no delivery stays claimed")
		assert.Len(t, r.m.Requests(), w.calls, "each part sent once, and nothing again after four passes")

		ds, err := r.st.ListDeliveries(ctx, id)
		require.NoError(t, err)
		var delivered []string
		for _, d := range ds {
			if d.State == registry.DeliverySplit {
				continue // another program's tokens, kept as they were
			}
			assert.NoError(t, registry.ValidateDelivery(&registry.Delivery{Platform: "ios", Provider: d.Provider, IdempotencyKey: d.IdempotencyKey,
				Audience: d.Audience, Tokens: d.Tokens, State: registry.DeliveryPending}), "delivery %d can be written back", d.ID)
			switch d.State {
			case registry.DeliveryAccepted, registry.DeliveryDone:
				delivered = append(delivered, d.Tokens...)
			case registry.DeliveryFailed:
				if w.failed != "" {
					assert.Contains(t, d.Response, w.failed)
				}
			}
		}
		slices.Sort(delivered)
		assert.Equal(t, w.delivered, strings.Join(delivered, ","))
		if w.failed != "" {
			require.NotEmpty(t, ds)
			assert.Equal(t, registry.DeliveryFailed, ds[0].State, "the delivery ends, failed")
		}
	})
}

// TestPartKeyFitsTheColumn: a part's key is its delivery's key and ".i"
// while that fits 255 characters; past that (keys of another program) it
// still fits, stays a function of the whole key and of i, and differs
// between keys that share their first 255 characters.
func TestPartKeyFitsTheColumn(t *testing.T) {
	assert.Equal(t, "abc.3", push.PartKey("abc", 3))
	assert.Equal(t, strings.Repeat("k", 253)+".0", push.PartKey(strings.Repeat("k", 253), 0))
	seen := map[string]string{}
	for _, key := range []string{strings.Repeat("k", 254), strings.Repeat("k", 300), strings.Repeat("k", 300) + "x",
		strings.Repeat("长", 300), strings.Repeat("\xff", 300), "abc\xff" + strings.Repeat("k", 260)} {
		for _, i := range []int{0, 1, 123} {
			p := push.PartKey(key, i)
			assert.LessOrEqual(t, utf8.RuneCountInString(p), registry.MaxVarchar, "%q", p)
			assert.True(t, utf8.ValidString(p))
			assert.True(t, strings.HasSuffix(p, fmt.Sprint(".", i)))
			assert.Equal(t, p, push.PartKey(key, i), "the same key, the same part key")
			if other, ok := seen[p]; ok {
				t.Errorf("part key %q of %q and of %q", p, key, other)
			}
			seen[p] = key
		}
	}
}

// TestForeignDeliveryTimeIsTriedAnyway: a delivery whose next_attempt_at
// another program set to something the Store cannot compare as a time
// (text that is no date on SQLite, infinity on PostgreSQL) is still
// claimed: sent when it is pending, polled when it is accepted. (It was
// never due, and waited forever without a reason.) MySQL's DATETIME holds
// no such value.
func TestForeignDeliveryTimeIsTriedAnyway(t *testing.T) {
	never := map[sqlstore.Dialect]string{sqlstore.DialectSQLite: "'garbage'", sqlstore.DialectPostgres: "'infinity'"}
	for _, d := range dbtest.Dialects() {
		if never[d] == "" {
			continue
		}
		t.Run(string(d), func(t *testing.T) {
			st, db := dbtest.NewStoreDB(t, d)
			r := newForeignRig(t, st, db, push.RetryPolicy{Base: time.Second, Jitter: -1, MaxAttempts: 5})
			ctx := t.Context()
			id := r.pendingPush(t, "never")
			set := foreignCase{set: "next_attempt_at = " + never[d]}
			r.setDeliveries(t, set, id)

			r.clk.Advance(time.Hour)
			n, err := r.svc.RetryPending(ctx, 10)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the pending delivery is claimed")
			require.Len(t, r.m.Requests(), 2, "and sent")
			ds, err := r.st.ListDeliveries(ctx, id)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Equal(t, registry.DeliveryDone, ds[0].State)

			r.setDeliveries(t, foreignCase{set: "state = 'accepted', pollable = 1, " + set.set}, id)
			r.clk.Advance(time.Hour)
			n, err = r.svc.PollReceipts(ctx, 10)
			require.NoError(t, err)
			assert.Equal(t, 1, n, "the accepted delivery is polled")
		})
	}
}

// TestForeignPushPlatformInAnyCase: a device row another program wrote
// with push_platform "Umeng" is umeng's: it is pushed, and disabled when
// the vendor reports its token dead.
func TestForeignPushPlatformInAnyCase(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			st, db := dbtest.NewStoreDB(t, d)
			r := newForeignRig(t, st, db, push.RetryPolicy{})
			ctx := t.Context()
			r.register(t, "u1")
			_, err := db.ExecContext(ctx, "UPDATE sys_devices SET push_platform = 'Umeng', platform = 'Android' WHERE uuid = 'u1'")
			require.NoError(t, err)
			res, err := r.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Accepted())
			assert.Zero(t, res.Skipped)
			require.Len(t, r.m.Requests(), 1)
			assert.Equal(t, []string{"tok-u1"}, r.m.Requests()[0].Audience.Tokens)

			r.m.Enqueue(providertest.Result{Err: &provider.Error{Kind: provider.InvalidToken, Message: "uninstalled"}})
			res, err = r.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Failed())
			var disabled int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_devices WHERE uuid = 'u1' AND token_disabled_at IS NOT NULL").Scan(&disabled))
			assert.Equal(t, 1, disabled, "the dead token is disabled")
		})
	}
}

// TestLargePushChecksForeignSharedDevices: in a push to more users than
// one listing query, which lists with a census of the devices, a device
// whose token a newer row another program wrote also holds, and a device
// that program linked to another user as well, still go to their newest
// holder only, on every database.
func TestLargePushChecksForeignSharedDevices(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			inner, db := dbtest.NewStoreDB(t, d)
			st := &censusWatch{Store: inner, taken: make(chan struct{})}
			clk := newClock()
			m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			require.NoError(t, err)
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now})
			require.NoError(t, err)
			r := &foreignRig{st: inner, db: db, svc: svc, m: m, clk: clk}
			push.SetStages(r.svc, 10, 3)
			ctx := t.Context()
			var users []string
			for i := range 60 {
				users = append(users, fmt.Sprintf("big-%02d", i))
				r.register(t, users[i])
			}
			// Another program gives big-55's token to a new phone of
			// "elsewhere", and links big-56's phone to "elsewhere" too
			// (users of a chunk listed after the census).
			_, err = db.ExecContext(ctx, dbtest.Rebind(d, "INSERT INTO sys_devices (uuid, platform, push_device_token, push_platform) VALUES (?, ?, ?, ?)"),
				"elsewhere-phone", "android", "tok-big-55", "umeng")
			require.NoError(t, err)
			var newer, moved int64
			require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT id FROM sys_devices WHERE uuid = ?"), "elsewhere-phone").Scan(&newer))
			require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT id FROM sys_devices WHERE uuid = ?"), "big-56").Scan(&moved))
			for _, id := range []int64{newer, moved} {
				_, err = db.ExecContext(ctx, dbtest.Rebind(d, "INSERT INTO sys_user_devices (user_num, device_id, state) VALUES (?, ?, 1)"), "elsewhere", id)
				require.NoError(t, err)
			}

			res, err := r.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
			require.NoError(t, err)
			var sent []string
			for _, req := range r.m.Requests() {
				sent = append(sent, req.Audience.Tokens...)
			}
			slices.Sort(sent)
			var want []string
			for _, u := range users {
				if u != "big-55" && u != "big-56" {
					want = append(want, "tok-"+u)
				}
			}
			assert.Equal(t, want, sent, "big-55's token is the newer phone's, big-56's phone is elsewhere's")
			assert.Equal(t, 58, res.Devices)
			assert.True(t, st.used.Load(), "the later chunks were listed with the census")
		})
	}
}

// censusWatch is a SQL Store whose listings without a census wait until
// the census is taken, so that the chunks listed after it use it; it
// tells whether one did.
type censusWatch struct {
	*sqlstore.Store
	once  sync.Once
	taken chan struct{}
	used  atomic.Bool
}

func (w *censusWatch) TakeCensus(ctx context.Context, users int) (*registry.Census, error) {
	defer w.once.Do(func() { close(w.taken) })
	return w.Store.TakeCensus(ctx, users)
}

func (w *censusWatch) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	if q.Census == nil {
		select {
		case <-w.taken:
		case <-time.After(5 * time.Second):
		}
	} else {
		w.used.Store(true)
	}
	return w.Store.ListTargets(ctx, q)
}

// TestSupersededDeviceIsExplained: another program gives a user's token
// to a newer device row of another user (its install on the same phone).
// A push to the first user reaches nothing, and says why; the user's
// device list shows the link active but superseded.
func TestSupersededDeviceIsExplained(t *testing.T) {
	st, db := dbtest.NewStoreDB(t, sqlstore.DialectSQLite)
	r := newForeignRig(t, st, db, push.RetryPolicy{})
	ctx := t.Context()
	r.register(t, "old")
	_, err := db.ExecContext(ctx, "INSERT INTO sys_devices (uuid, platform, push_device_token, push_platform) VALUES ('new-phone', 'android', ' tok-old', 'umeng')")
	require.NoError(t, err)
	_, err = db.ExecContext(ctx, "INSERT INTO sys_user_devices (user_num, device_id, state) SELECT 'new', id, 1 FROM sys_devices WHERE uuid = 'new-phone'")
	require.NoError(t, err)

	_, err = r.svc.Push(ctx, push.Message{UserNums: []string{"old"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, push.ErrNoDevices)
	assert.ErrorContains(t, err, "1 active device(s) another user's newer row holds")
	assert.Empty(t, r.m.Requests())

	devs, err := r.svc.ListDevices(ctx, "old")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	assert.True(t, devs[0].Active)
	assert.True(t, devs[0].Superseded, "the phone is the newer row's")
	devs, err = r.svc.ListDevices(ctx, "new")
	require.NoError(t, err)
	require.Len(t, devs, 1)
	assert.False(t, devs[0].Superseded)

	res, err := r.svc.Push(ctx, push.Message{UserNums: []string{"new"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Accepted())
	require.Len(t, r.m.Requests(), 1)
	assert.Equal(t, []string{"tok-old"}, r.m.Requests()[0].Audience.Tokens, "sent trimmed")
}
