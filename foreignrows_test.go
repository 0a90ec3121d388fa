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
