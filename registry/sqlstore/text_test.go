package sqlstore_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestEmojiRoundTrip: 4-byte UTF-8 in every text column, up to the
// brief's sizes (255 characters, 65,535 bytes), is stored and read back
// intact.
func TestEmojiRoundTrip(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ctx := t.Context()
		chars := strings.Repeat("🎉", registry.MaxVarchar)
		bytes := strings.Repeat("😀", registry.MaxText/4) + "abc"
		require.Len(t, bytes, registry.MaxText)

		dev, link, err := s.RegisterDevice(ctx, &registry.Device{
			UUID: "uuid-🎉", Platform: registry.PlatformAndroid, PushToken: "tok-🎉", Name: chars, OS: "安卓 🤖", OSVersion: "14", Alias: "别名 🐼",
		}, "用户 🧑‍💻")
		require.NoError(t, err)
		gotDev, err := s.GetDevice(ctx, dev.ID)
		require.NoError(t, err)
		assert.Equal(t, chars, gotDev.Name)
		assert.Equal(t, "安卓 🤖", gotDev.OS)
		assert.Equal(t, "别名 🐼", gotDev.Alias)
		assert.Equal(t, "uuid-🎉", gotDev.UUID)
		gotLink, err := s.GetUserDevice(ctx, link.ID)
		require.NoError(t, err)
		assert.Equal(t, "用户 🧑‍💻", gotLink.UserNum)

		m := &registry.PushMessage{Title: chars, Content: bytes, Extra: `{"k":"` + strings.Repeat("🎈", 240) + `"}`, PushType: "users", DedupeKey: chars}
		require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{delivery("emoji-🎉", registry.PlatformAndroid, base, "tok-🎉")}))
		got, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, m.Title, got.Title)
		assert.Equal(t, m.Content, got.Content)
		assert.Equal(t, m.Extra, got.Extra)
		byKey, err := s.GetPushMessageByDedupeKey(ctx, chars)
		require.NoError(t, err)
		assert.Equal(t, m.ID, byKey.ID)

		claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: base, Limit: 1, Lease: time.Minute, Kind: registry.ClaimSend})
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		dl := claimed[0]
		dl.State, dl.Ret, dl.Response, dl.VendorState = registry.DeliveryFailed, registry.RetFail, "失败 💥 "+bytes, "failed"
		dl.SentAt = ptr(base)
		require.NoError(t, s.FinishDelivery(ctx, &dl))
		ds, err := s.ListDeliveries(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, dl.Response, ds[0].Response)
		got, err = s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.Clip(dl.Response, registry.MaxVarchar), got.Android.Response, "clipped with a visible …")

		cm := &registry.CenterMessage{Title: chars, Content: bytes, Extra: "🎁", NotifyMode: "push", Receivers: "用户 🧑‍💻", Remark: bytes}
		require.NoError(t, s.EnqueueCenterMessage(ctx, cm))
		gotCM, err := s.GetCenterMessage(ctx, cm.ID)
		require.NoError(t, err)
		assert.Equal(t, cm.Title, gotCM.Title)
		assert.Equal(t, cm.Content, gotCM.Content)
		assert.Equal(t, cm.Receivers, gotCM.Receivers)
		assert.Equal(t, cm.Remark, gotCM.Remark)
	})
}

// TestTooLongValuesAreRefused: a value that does not fit its column (too
// long, not UTF-8, out of an integer column's range) is an ErrInvalid
// naming the field, returned before any write: nothing is truncated and no
// row changes.
func TestTooLongValuesAreRefused(t *testing.T) {
	long := strings.Repeat("长", registry.MaxVarchar+1)
	tooManyBytes := strings.Repeat("a", registry.MaxText+1)
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		_, link, err := s.RegisterDevice(ctx, device("keep", registry.PlatformIOS, "tok-keep"), "U1")
		require.NoError(t, err)
		pm := &registry.PushMessage{Title: "t", PushType: "users"}
		require.NoError(t, s.CreatePushMessage(ctx, pm, []*registry.Delivery{delivery("long-1", registry.PlatformIOS, base, "tok-keep")}))
		require.NoError(t, s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Content: "c", Receivers: "U1", NotifyMode: "push"}))
		deliveries, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: base, Limit: 1, Lease: time.Minute, Kind: registry.ClaimSend})
		require.NoError(t, err)
		centers, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 1, Lease: time.Minute})
		require.NoError(t, err)
		tables := []string{"sys_devices", "sys_user_devices", "sys_push_messages", "sys_push_deliveries", "sys_message_center"}
		before := map[string][][]string{}
		for _, table := range tables {
			_, before[table] = queryStrings(t, db, "SELECT * FROM "+table+" ORDER BY id")
		}

		withDevice := func(f func(*registry.Device)) func() error {
			return func() error {
				dev := device("new", registry.PlatformAndroid, "tok-new")
				f(dev)
				_, _, err := s.RegisterDevice(ctx, dev, "U2")
				return err
			}
		}
		withPush := func(f func(*registry.PushMessage, *registry.Delivery)) func() error {
			return func() error {
				m := &registry.PushMessage{Title: "t", PushType: "users"}
				dl := delivery("long-2", registry.PlatformAndroid, base, "tok")
				f(m, dl)
				return s.CreatePushMessage(ctx, m, []*registry.Delivery{dl})
			}
		}
		withFinish := func(f func(*registry.Delivery)) func() error {
			return func() error {
				dl := deliveries[0]
				dl.State = registry.DeliveryDone
				f(&dl)
				return s.FinishDelivery(ctx, &dl)
			}
		}
		tests := []struct {
			field string
			do    func() error
		}{
			{"user_num", func() error { _, _, err := s.RegisterDevice(ctx, device("n", "ios", "t"), long); return err }},
			{"name", withDevice(func(d *registry.Device) { d.Name = long })},
			{"os_version", withDevice(func(d *registry.Device) { d.OSVersion = long })},
			{"push_token", withDevice(func(d *registry.Device) { d.PushToken = "a,b" })},
			{"title", withPush(func(m *registry.PushMessage, _ *registry.Delivery) { m.Title = long })},
			{"content", withPush(func(m *registry.PushMessage, _ *registry.Delivery) { m.Content = tooManyBytes })},
			{"extra_params_string", withPush(func(m *registry.PushMessage, _ *registry.Delivery) { m.Extra = long })},
			{"delivery.provider", withPush(func(_ *registry.PushMessage, d *registry.Delivery) { d.Provider = long })},
			{"delivery.state", withPush(func(_ *registry.PushMessage, d *registry.Delivery) { d.State = "sent" })},
			{"delivery.tokens", withPush(func(_ *registry.PushMessage, d *registry.Delivery) { d.Tokens = []string{"a,b"} })},
			{"delivery.receipt_id", withPush(func(_ *registry.PushMessage, d *registry.Delivery) { d.ReceiptID = long })},
			{"delivery.response", withFinish(func(d *registry.Delivery) { d.Response = strings.Repeat("x", 16777216) })},
			{"delivery.error_code", withFinish(func(d *registry.Delivery) { d.ErrorCode = long })},
			{"delivery.vendor_state", withFinish(func(d *registry.Delivery) { d.VendorState = "\xff" })},
			{"content", func() error {
				return s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Content: tooManyBytes, Receivers: "U1"})
			}},
			{"receivers", func() error { return s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Content: "c"}) }},
			{"send_result", func() error {
				c := centers[0]
				c.SendResult = tooManyBytes
				return s.FinishCenterMessage(ctx, &c)
			}},
			{"remark", func() error {
				c := centers[0]
				c.Remark = "\xc3"
				return s.FinishCenterMessage(ctx, &c)
			}},
			{"delivery.seq", withPush(func(_ *registry.PushMessage, d *registry.Delivery) { d.Seq = -1 })},
			{"delivery.attempts", withFinish(func(d *registry.Delivery) { d.Attempts = 1 << 40 })},
			{"notify_level", func() error {
				return s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Content: "c", Receivers: "U1", NotifyLevel: 1 << 40})
			}},
			{"send_state", func() error {
				c := centers[0]
				c.SendState = 300
				return s.FinishCenterMessage(ctx, &c)
			}},
			{"limit", func() error {
				_, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"U1"}, Limit: -1})
				return err
			}},
		}
		for _, tt := range tests {
			err := tt.do()
			require.ErrorIs(t, err, registry.ErrInvalid, tt.field)
			var ve *registry.ValidationError
			require.True(t, errors.As(err, &ve), tt.field)
			assert.Equal(t, tt.field, ve.Field)
			assert.True(t, strings.HasPrefix(err.Error(), "sqlstore: "), err.Error())
		}
		for _, table := range tables {
			_, after := queryStrings(t, db, "SELECT * FROM "+table+" ORDER BY id")
			assert.Equal(t, before[table], after, "%s unchanged", table)
		}
		l, err := s.GetUserDevice(ctx, link.ID)
		require.NoError(t, err)
		assert.True(t, l.Active)
	})
}

// TestHostileUserNum: a user_num written to break out of a quoted SQL
// string is stored and matched literally, never as SQL.
func TestHostileUserNum(t *testing.T) {
	const hostile = `x' OR '1'='1`
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		_, victim, err := s.RegisterDevice(ctx, device("victim", registry.PlatformIOS, "tok-victim"), "A001")
		require.NoError(t, err)
		dev, link, err := s.RegisterDevice(ctx, device(hostile, registry.PlatformAndroid, "tok-x'--"), hostile)
		require.NoError(t, err)
		assert.Equal(t, hostile, link.UserNum)
		assert.Equal(t, hostile, dev.UUID)

		_, rows := queryStrings(t, db, dbtest.Rebind(d, "SELECT user_num FROM sys_user_devices WHERE id = ?"), link.ID)
		assert.Equal(t, [][]string{{hostile}}, rows, "stored as written")

		for _, tt := range []struct {
			users []string
			want  []int64
		}{
			{[]string{hostile}, []int64{link.ID}},
			{[]string{"x"}, nil},
			{[]string{"X' OR '1'='1"}, nil},
			{[]string{"' OR 1=1 --"}, nil},
			{[]string{"A001", hostile}, []int64{victim.ID, link.ID}},
		} {
			targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: tt.users})
			require.NoError(t, err)
			var got []int64
			for _, tg := range targets {
				got = append(got, tg.UserDeviceID)
			}
			assert.Equal(t, tt.want, got, "targets of %q", tt.users)
		}
		require.ErrorIs(t, s.DeactivateLink(ctx, hostile, victim.ID), registry.ErrNotOwner)
		n, err := s.DisableTokens(ctx, "", registry.PlatformIOS, []string{"' OR '1'='1"}, "hostile")
		require.NoError(t, err)
		assert.Zero(t, n)
		require.NoError(t, s.DeactivateLink(ctx, hostile, link.ID))
		v, err := s.GetUserDevice(ctx, victim.ID)
		require.NoError(t, err)
		assert.True(t, v.Active, "the other user's link is untouched")
	})
}
