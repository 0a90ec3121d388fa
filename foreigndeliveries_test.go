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
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestForeignDeliveryValuesAreSentAsMeant: a pending delivery whose columns
// another program wrote in a form the Store does not write is still sent as
// the row means it: an expire_at no time can hold (PostgreSQL's infinity, a
// year past 9999, text) is no expiry, not an expired push; blanks and spaces
// between the tokens are not tokens; a platform or provider in another case
// or with spaces names the same one.
func TestForeignDeliveryValuesAreSentAsMeant(t *testing.T) {
	type sent struct {
		set    string
		tokens func(user string) []string
	}
	own := func(user string) []string { return []string{"tok-" + user} }
	common := []sent{
		{"tokens = ' tok-{user} , ,tok-{user}-2,'", func(user string) []string { return []string{"tok-" + user, "tok-" + user + "-2"} }},
		{"platform = ' Android'", own},
		{"provider = 'UMENG '", own},
	}
	byDialect := map[sqlstore.Dialect][]sent{
		sqlstore.DialectSQLite:   {{"expire_at = 'never'", own}, {"expire_at = '12000-01-01 00:00:00'", own}},
		sqlstore.DialectPostgres: {{"expire_at = 'infinity'", own}, {"expire_at = '12000-01-01'", own}},
	}
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			st, db := dbtest.NewStoreDB(t, d)
			for i, tc := range append(common, byDialect[d]...) {
				t.Run(fmt.Sprint(i), func(t *testing.T) {
					ctx := t.Context()
					r := newForeignRig(t, st, db, push.RetryPolicy{Base: time.Second, Jitter: -1, MaxAttempts: 5})
					user := fmt.Sprint("meant-", i)
					id := r.pendingPush(t, user)
					// A second phone of the user, which the tokens written below name.
					_, err := r.svc.RegisterDevice(ctx, push.Device{UserNum: user, UUID: user + "-2", Platform: "android",
						PushPlatform: "umeng", PushToken: "tok-" + user + "-2"})
					require.NoError(t, err)
					_, err = db.ExecContext(ctx, "UPDATE sys_push_deliveries SET "+strings.ReplaceAll(tc.set, "{user}", user)+
						" WHERE push_message_id = "+fmt.Sprint(id))
					require.NoError(t, err)

					r.clk.Advance(time.Hour)
					n, err := r.svc.RetryPending(ctx, 10)
					require.NoError(t, err)
					assert.Equal(t, 1, n)
					reqs := r.m.Requests()
					require.Len(t, reqs, 2, "tried again, not given up: %s", tc.set)
					assert.ElementsMatch(t, tc.tokens(user), reqs[1].Audience.Tokens)
					if strings.HasPrefix(tc.set, "expire_at") {
						assert.True(t, reqs[1].ExpireTime.IsZero(), "no expiry is sent as none")
					}
					ds, err := r.st.ListDeliveries(ctx, id)
					require.NoError(t, err)
					require.Len(t, ds, 1)
					assert.Contains(t, []registry.DeliveryState{registry.DeliveryAccepted, registry.DeliveryDone}, ds[0].State, ds[0].Response)
					st, err := r.svc.PushStatus(ctx, id)
					require.NoError(t, err)
					assert.NotEqual(t, "pending", st.AndroidStatus, "the push's summary follows its delivery")
				})
			}
		})
	}
}

// TestForeignLinkNumbersFailNoRead: on SQLite, which keeps any value in
// any column, a link whose state or device_id another program wrote as
// text or a fraction is read, a state that is no whole number as an
// inactive link, with the reason; the
// user's devices are still listed, the user can log out of any link, and
// a push reaches the other phone.
func TestForeignLinkNumbersFailNoRead(t *testing.T) {
	for _, set := range []string{"state = 'yes'", "state = 1.5", "state = 1e20", "device_id = 'abc'", "device_id = 2.5"} {
		t.Run(set, func(t *testing.T) {
			ctx := t.Context()
			st, db := dbtest.NewStoreDB(t, sqlstore.DialectSQLite)
			r := newForeignRig(t, st, db, push.RetryPolicy{})
			one, err := r.svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "phone-1", Platform: "android", PushToken: "tok-1"})
			require.NoError(t, err)
			two, err := r.svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "phone-2", Platform: "android", PushToken: "tok-2"})
			require.NoError(t, err)
			_, err = db.ExecContext(ctx, "UPDATE sys_user_devices SET "+set+" WHERE id = ?", one.UserDeviceID)
			require.NoError(t, err)

			devs, err := r.svc.ListDevices(ctx, "u1")
			require.NoError(t, err)
			require.Len(t, devs, 2)
			if strings.HasPrefix(set, "state") {
				assert.False(t, devs[0].Active, "the odd link reads as inactive")
			}
			assert.True(t, devs[1].Active)
			res, err := r.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			assert.Equal(t, 1, res.Accepted()+res.Pending(), "the other phone is pushed to")
			require.NoError(t, r.svc.Logout(ctx, "u1", one.UserDeviceID))
			require.NoError(t, r.svc.Logout(ctx, "u1", two.UserDeviceID))
		})
	}
}
