package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestLifecycle walks one push and one center message through every
// operation on each dialect.
func TestLifecycle(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ctx := t.Context()

		dev, link, err := s.RegisterDevice(ctx, device("u-1", registry.PlatformIOS, "tok-ios-1"), "A01")
		require.NoError(t, err)
		assert.Equal(t, registry.DefaultPushPlatform, dev.PushPlatform)
		assert.True(t, link.Active)
		assert.Equal(t, base, dev.CreatedAt)
		_, _, err = s.RegisterDevice(ctx, device("u-2", registry.PlatformAndroid, "tok-and-1"), "A01")
		require.NoError(t, err)

		got, err := s.GetDevice(ctx, dev.ID)
		require.NoError(t, err)
		assert.Equal(t, dev, got)

		targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"A01"}})
		require.NoError(t, err)
		require.Len(t, targets, 2)

		m := &registry.PushMessage{Title: "标题 🎉", Content: "内容", PushType: registry.PushTypeUsers, DedupeKey: "k1", ExpireAt: ptr(at(time.Hour))}
		ds := []*registry.Delivery{
			delivery("m1-ios-0", registry.PlatformIOS, at(0), "tok-ios-1"),
			delivery("m1-and-0", registry.PlatformAndroid, at(0), "tok-and-1"),
		}
		require.NoError(t, s.CreatePushMessage(ctx, m, ds))
		assert.Equal(t, registry.RetPending, m.IOS.Ret)

		claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: at(time.Second), Limit: 10, Lease: time.Minute, Kind: registry.ClaimSend})
		require.NoError(t, err)
		require.Len(t, claimed, 2)
		for _, c := range claimed {
			assert.Equal(t, 1, c.Attempts)
			require.NotEmpty(t, c.ClaimToken)
			assert.Equal(t, at(time.Second+time.Minute), *c.LeaseUntil)
			c.State = registry.DeliveryDone
			c.VendorState = "accepted"
			c.ReceiptID = "ul" + c.IdempotencyKey
			c.Ret = registry.RetSuccess
			c.Response = `{"ret":"SUCCESS"}`
			c.SentAt = ptr(at(2 * time.Second))
			require.NoError(t, s.FinishDelivery(ctx, &c))
			require.ErrorIs(t, s.FinishDelivery(ctx, &c), registry.ErrClaimLost)
		}
		pm, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetSuccess, pm.IOS.Ret)
		assert.Equal(t, "accepted", pm.Android.Status)
		assert.Equal(t, "tok-ios-1", pm.IOS.DeviceTokens)
		assert.Equal(t, "标题 🎉", pm.Title)
		assert.Equal(t, at(time.Hour), *pm.ExpireAt)

		cm := &registry.CenterMessage{Title: "告警", Content: "磁盘 🎉", NotifyMode: "push", Receivers: "A01"}
		require.NoError(t, s.EnqueueCenterMessage(ctx, cm))
		cs, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: at(0), Limit: 5, Lease: time.Minute})
		require.NoError(t, err)
		require.Len(t, cs, 1)
		cs[0].SendState = registry.SendStateSent
		cs[0].SendResult = "push_message#1"
		require.NoError(t, s.FinishCenterMessage(ctx, &cs[0]))
		got2, err := s.GetCenterMessage(ctx, cm.ID)
		require.NoError(t, err)
		assert.Equal(t, "push_message#1", got2.SendResult)
		assert.Empty(t, got2.ClaimToken)
	})
}
