package push_test

import (
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

// TestDeliveriesOfADeletedPushEnd: an operator deletes push messages
// (sys_push_messages has no foreign key from its deliveries). A pending
// delivery of one is failed for good, with the reason, at its next retry,
// not sent and not claimed again at every pass; an accepted one still
// being polled records its poll's outcome. Nothing stays claimed, on every
// database.
func TestDeliveriesOfADeletedPushEnd(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			db, _ := dbtest.Open(t, d)
			ctx := t.Context()
			clk := newClock()
			st, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: clk.Now})
			require.NoError(t, err)
			require.NoError(t, st.Migrate(ctx))
			m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Pollable: []provider.AudienceKind{provider.AudienceTokens}})
			require.NoError(t, err)
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now,
				Retry: push.RetryPolicy{Base: time.Second, Jitter: -1, MaxAttempts: 3}})
			require.NoError(t, err)
			for _, u := range []string{"u1", "u2"} {
				_, err = svc.RegisterDevice(ctx, push.Device{UserNum: u, UUID: "d" + u, Platform: "android", PushToken: "tok" + u})
				require.NoError(t, err)
			}
			m.FailNext(1, nil) // a Temporary error: the delivery stays pending
			pending, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.Equal(t, 1, pending.Pending())
			polled, err := svc.Push(ctx, push.Message{UserNums: []string{"u2"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.Equal(t, 1, polled.Accepted())
			_, err = db.ExecContext(ctx, "DELETE FROM sys_push_messages")
			require.NoError(t, err)
			calls := m.Calls()

			for range 5 {
				clk.Advance(time.Hour)
				_, err := svc.RetryPending(ctx, 10)
				require.NoError(t, err)
				_, err = svc.PollReceipts(ctx, 10)
				require.NoError(t, err)
			}
			ds, err := st.ListDeliveries(ctx, pending.PushMessageID)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Equal(t, registry.DeliveryFailed, ds[0].State)
			assert.Contains(t, ds[0].Response, "is gone")
			assert.Empty(t, ds[0].ClaimToken)
			assert.Equal(t, 1, ds[0].Attempts, "the first try only: no claim spent another")
			assert.Equal(t, calls, m.Calls(), "nothing sent")

			ds, err = st.ListDeliveries(ctx, polled.PushMessageID)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Empty(t, ds[0].ClaimToken, "its poll's outcome is recorded")
		})
	}
}
