package push_test

import (
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

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
