package push_test

import (
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

// TestForeignDeliveryValuesDoNotStopTheOutcome: a pending delivery whose
// outcome columns another program filled with values the Store would not
// write (longer than VARCHAR(255), which SQLite does not enforce; bytes
// that are not UTF-8; a NUL; negative attempts) is tried again, and the
// outcome of that try is written: the delivery does not stay claimed, to
// be sent again at every lease's end.
func TestForeignDeliveryValuesDoNotStopTheOutcome(t *testing.T) {
	long := "'" + strings.Repeat("长", 300) + "'"
	cases := []struct {
		set        string // the SET clause another program ran
		sqliteOnly bool   // a server refuses the value itself
	}{
		{"vendor_state = " + long, true},
		{"receipt_id = CAST(X'61FF62' AS TEXT)", true},
		{"ret = 'a' || char(0) || 'b'", true},
		{"error_kind = " + long, true},
		{"error_code = CAST(X'FF' AS TEXT)", true},
		{"retry_token = " + long, true},
		{"response = CAST(X'7B22726574223AFF7D' AS TEXT)", true},
		{"attempts = -3", false},
	}
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			st, db := dbtest.NewStoreDB(t, d)
			for i, tc := range cases {
				if tc.sqliteOnly && d != sqlstore.DialectSQLite {
					continue
				}
				t.Run(tc.set[:strings.Index(tc.set, " ")], func(t *testing.T) {
					clk := newClock()
					m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
					require.NoError(t, err)
					svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now,
						Retry: push.RetryPolicy{Base: time.Second, Jitter: -1, MaxAttempts: 5}})
					require.NoError(t, err)
					ctx := t.Context()
					user := fmt.Sprint("foreign-", i)
					_, err = svc.RegisterDevice(ctx, push.Device{UserNum: user, UUID: user, Platform: "android", PushPlatform: "umeng",
						PushToken: "tok-" + user})
					require.NoError(t, err)
					m.Enqueue(providertest.Result{Err: &provider.Error{Kind: provider.Temporary}})
					res, err := svc.Push(ctx, push.Message{UserNums: []string{user}, Title: "t", Content: "c"})
					require.NoError(t, err)
					_, err = db.ExecContext(ctx, "UPDATE sys_push_deliveries SET "+tc.set+" WHERE push_message_id = "+fmt.Sprint(res.PushMessageID))
					require.NoError(t, err)

					m.Enqueue(providertest.Result{Err: &provider.Error{Kind: provider.Temporary, Message: "still busy"}})
					clk.Advance(time.Hour)
					n, err := svc.RetryPending(ctx, 10)
					require.NoError(t, err)
					assert.Equal(t, 1, n)
					ds, err := st.ListDeliveries(ctx, res.PushMessageID)
					require.NoError(t, err)
					require.Len(t, ds, 1)
					assert.Empty(t, ds[0].ClaimToken, "the try's outcome was written and the claim released")
					assert.Equal(t, registry.DeliveryPending, ds[0].State)
					assert.Contains(t, ds[0].Response, "still busy")
					assert.NoError(t, registry.ValidateDeliveryOutcome(&ds[0]), "what is read can be written back")
					assert.Len(t, m.Requests(), 2, "one call a try")
				})
			}
		})
	}
}

// TestForeignDeliveryValuesDoNotStopTheClaim: a pending delivery whose
// numbers another program wrote out of range or as text (attempts at the
// INT maximum, pollable 2, seq or push_message_id not a number) neither
// fails the claim of the other deliveries nor stays claimed after its try;
// the good push beside it is sent.
func TestForeignDeliveryValuesDoNotStopTheClaim(t *testing.T) {
	cases := []struct {
		set        string
		sqliteOnly bool
	}{
		{"attempts = 2147483647", false},
		{"pollable = 2", false},
		{"seq = 'x'", true},
		{"push_message_id = 'x'", true},
	}
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			st, db := dbtest.NewStoreDB(t, d)
			for i, tc := range cases {
				if tc.sqliteOnly && d != sqlstore.DialectSQLite {
					continue
				}
				t.Run(tc.set[:strings.Index(tc.set, " ")], func(t *testing.T) {
					clk := newClock()
					m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
					require.NoError(t, err)
					svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now,
						Retry: push.RetryPolicy{Base: time.Second, Jitter: -1, MaxAttempts: 5}})
					require.NoError(t, err)
					ctx := t.Context()
					ids := map[string]int64{}
					for _, who := range []string{"bad", "good"} {
						user := fmt.Sprint("claim-", i, "-", who)
						_, err = svc.RegisterDevice(ctx, push.Device{UserNum: user, UUID: user, Platform: "android", PushPlatform: "umeng",
							PushToken: "tok-" + user})
						require.NoError(t, err)
						m.Enqueue(providertest.Result{Err: &provider.Error{Kind: provider.Temporary}})
						res, err := svc.Push(ctx, push.Message{UserNums: []string{user}, Title: "t", Content: "c"})
						require.NoError(t, err)
						ids[who] = res.PushMessageID
					}
					_, err = db.ExecContext(ctx, "UPDATE sys_push_deliveries SET "+tc.set+" WHERE push_message_id = "+fmt.Sprint(ids["bad"]))
					require.NoError(t, err)

					for range 3 {
						clk.Advance(time.Hour)
						_, err := svc.RetryPending(ctx, 10)
						require.NoError(t, err, "one odd row does not fail the claim of the others")
					}
					good, err := st.ListDeliveries(ctx, ids["good"])
					require.NoError(t, err)
					require.Len(t, good, 1)
					assert.Contains(t, []registry.DeliveryState{registry.DeliveryAccepted, registry.DeliveryDone}, good[0].State, "the good push is sent")
					var claimed int
					require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_push_deliveries WHERE claim_token IS NOT NULL").Scan(&claimed))
					assert.Zero(t, claimed, "no delivery stays claimed")
					assert.LessOrEqual(t, len(m.Requests()), 2+3, "at most one call a delivery a pass")
				})
			}
		})
	}
}

// TestPushSkipsATokenNoStoreKeeps: a device whose token another program
// wrote as bytes that are not UTF-8, or with a NUL, is skipped; the push
// to the other users is recorded and sent.
func TestPushSkipsATokenNoStoreKeeps(t *testing.T) {
	for _, bad := range []string{"CAST(X'61FF62' AS TEXT)", "'a' || char(0) || 'b'"} {
		t.Run(bad, func(t *testing.T) {
			clk := newClock()
			st, db := dbtest.NewStoreDB(t, sqlstore.DialectSQLite)
			m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			require.NoError(t, err)
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now})
			require.NoError(t, err)
			ctx := t.Context()
			for _, user := range []string{"good", "bad"} {
				_, err := svc.RegisterDevice(ctx, push.Device{UserNum: user, UUID: user, Platform: "android", PushPlatform: "umeng", PushToken: "tok-" + user})
				require.NoError(t, err)
			}
			_, err = db.ExecContext(ctx, "UPDATE sys_devices SET push_device_token = "+bad+" WHERE uuid = 'bad'")
			require.NoError(t, err)
			res, err := svc.Push(ctx, push.Message{UserNums: []string{"good", "bad"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Accepted())
			assert.Equal(t, 1, res.Skipped)
			require.Len(t, m.Requests(), 1)
			assert.Equal(t, []string{"tok-good"}, m.Requests()[0].Audience.Tokens)
		})
	}
}
