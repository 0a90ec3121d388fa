package sqlstore_test

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestBriefOpsQueries runs the product brief's two ops queries, verbatim, on
// MariaDB and SQLite, on a fresh schema and on an adopted one, and their
// PostgreSQL editions (testdata/brief/postgres: the aliases double-quoted,
// the id compared as text) on PostgreSQL, after loading pushes and center
// messages through the store, and checks that they show the pushes with
// their iOS/Android status columns filled.
func TestBriefOpsQueries(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.DialectMySQL, sqlstore.DialectSQLite, sqlstore.DialectPostgres} {
		dir := "brief/"
		if d == sqlstore.DialectPostgres {
			dir = "brief/postgres/"
		}
		for _, adopted := range []bool{false, true} {
			if adopted && d == sqlstore.DialectPostgres {
				continue // the brief's DDL is MySQL's
			}
			name := string(d) + "/fresh"
			if adopted {
				name = string(d) + "/adopted"
			}
			t.Run(name, func(t *testing.T) {
				ctx := t.Context()
				db, _ := dbtest.Open(t, d)
				if adopted {
					createBriefSchema(t, db, d)
				}
				s, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: fixedClock(base)})
				require.NoError(t, err)
				require.NoError(t, s.Migrate(ctx))

				realtime := loadOpsData(t, s)
				centerPush := realtime + 1

				cols, rows := queryStrings(t, db, readTestdata(t, dir+"ops_realtime.sql"))
				assert.Equal(t, []string{"标题", "内容", "推送类型", "iOS 设备", "iOS 推送状态", "iOS 推送响应",
					"Android 设备", "Android 推送状态", "Android 推送响应"}, cols)
				require.Len(t, rows, 2)
				assert.Equal(t, []string{"磁盘告警 🎉", "服务器 db-1 磁盘使用率 91%", registry.PushTypeUsers,
					"ios-token-1", registry.RetSuccess, `{"ret":"SUCCESS","data":{"msg_id":"ul-c-ios"}}`,
					"and-token-1,and-token-2", registry.RetSuccess, `{"ret":"SUCCESS","data":{"msg_id":"ul-c-and"}}`}, rows[0])
				assert.Equal(t, []string{"订单提醒", "您有一笔新订单", registry.PushTypeUsers,
					"ios-token-1", registry.RetSuccess, `{"ret":"SUCCESS","data":{"msg_id":"ul-r-ios"}}`,
					"and-token-1,and-token-2", registry.RetFail, `{"ret":"FAIL","data":{"error_code":"2022"}}`}, rows[1])

				cols, rows = queryStrings(t, db, readTestdata(t, dir+"ops_center.sql"))
				assert.Equal(t, []string{"接收者员工编号列表", "任务创建时间", "消息推送时间", "标题", "内容", "推送类型",
					"iOS 设备", "iOS 推送状态", "iOS 推送响应", "Android 设备", "Android 推送状态", "Android 推送响应"}, cols)
				require.Len(t, rows, 2, "the push rows of sys_message_center, not the sms one")
				// The unsent center row joins no push message.
				assert.Equal(t, "A003", rows[0][0])
				for _, v := range rows[0][2:] {
					assert.Equal(t, "<NULL>", v)
				}
				sent := rows[1]
				assert.Equal(t, "A001,A002", sent[0])
				assert.NotEqual(t, "<NULL>", sent[1], "任务创建时间")
				assert.NotEqual(t, "<NULL>", sent[2], "消息推送时间")
				assert.Equal(t, []string{"磁盘告警 🎉", "服务器 db-1 磁盘使用率 91%", registry.PushTypeUsers,
					"ios-token-1", registry.RetSuccess, `{"ret":"SUCCESS","data":{"msg_id":"ul-c-ios"}}`,
					"and-token-1,and-token-2", registry.RetSuccess, `{"ret":"SUCCESS","data":{"msg_id":"ul-c-and"}}`}, sent[3:])

				pm, err := s.GetPushMessage(ctx, centerPush)
				require.NoError(t, err)
				assert.Equal(t, "message_center#1", pm.DedupeKey)
			})
		}
	}
}

// loadOpsData writes, through the store, what the product brief's system would
// have: a realtime push to iOS and Android, finished; a center message
// sent as a push (send_result "push_message#<id>"); an unsent push center
// message and an sms one. It returns the realtime push's id.
func loadOpsData(t *testing.T, s *sqlstore.Store) int64 {
	t.Helper()
	ctx := t.Context()
	for _, r := range []struct {
		user string
		dev  *registry.Device
	}{
		{"A001", device("ops-ios-1", registry.PlatformIOS, "ios-token-1")},
		{"A001", device("ops-and-1", registry.PlatformAndroid, "and-token-1")},
		{"A002", device("ops-and-2", registry.PlatformAndroid, "and-token-2")},
	} {
		_, _, err := s.RegisterDevice(ctx, r.dev, r.user)
		require.NoError(t, err)
	}

	realtime := push(t, s, "r", &registry.PushMessage{Title: "订单提醒", Content: "您有一笔新订单", PushType: registry.PushTypeUsers},
		[]string{"A001", "A002"}, map[string]bool{registry.PlatformIOS: true, registry.PlatformAndroid: false})

	cm := &registry.CenterMessage{Title: "磁盘告警 🎉", Content: "服务器 db-1 磁盘使用率 91%", NotifyMode: "push", NotifyLevel: 1, Receivers: "A001,A002"}
	require.NoError(t, s.EnqueueCenterMessage(ctx, cm))
	claimed, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 1, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	c := claimed[0]
	id := push(t, s, "c", &registry.PushMessage{Title: c.Title, Content: c.Content, PushType: registry.PushTypeUsers,
		DedupeKey: "message_center#" + strconv.FormatInt(c.ID, 10)},
		[]string{"A001", "A002"}, map[string]bool{registry.PlatformIOS: true, registry.PlatformAndroid: true})
	c.SendState = registry.SendStateSent
	c.SendResult = "push_message#" + strconv.FormatInt(id, 10)
	require.NoError(t, s.FinishCenterMessage(ctx, &c))

	for _, m := range []*registry.CenterMessage{
		{Title: "周报", Content: "本周销售额上升 12%", NotifyMode: "push", Receivers: "A003", SendAt: ptr(at(time.Hour))},
		{Title: "验证码", Content: "您的验证码是 4821", NotifyMode: "sms", Receivers: "13800000001"},
	} {
		require.NoError(t, s.EnqueueCenterMessage(ctx, m))
	}
	return realtime
}

// push creates a push to the users' targets, one delivery per platform,
// sends it (claim and finish) with the outcome given per platform
// (accepted or refused), and returns its id.
func push(t *testing.T, s *sqlstore.Store, key string, m *registry.PushMessage, users []string, ok map[string]bool) int64 {
	t.Helper()
	ctx := t.Context()
	targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: users})
	require.NoError(t, err)
	tokens := map[string][]string{}
	for _, tg := range targets {
		tokens[tg.Platform] = append(tokens[tg.Platform], tg.Token)
	}
	var ds []*registry.Delivery
	for _, p := range []string{registry.PlatformIOS, registry.PlatformAndroid} {
		ds = append(ds, delivery(key+"-"+p, p, base, tokens[p]...))
	}
	require.NoError(t, s.CreatePushMessage(ctx, m, ds))
	claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: base, Limit: 10, Lease: time.Minute, Kind: registry.ClaimSend})
	require.NoError(t, err)
	require.Len(t, claimed, 2)
	short := map[string]string{registry.PlatformIOS: "ios", registry.PlatformAndroid: "and"}
	for _, d := range claimed {
		d.SentAt = ptr(at(time.Second))
		if ok[d.Platform] {
			d.State, d.VendorState, d.Ret = registry.DeliveryDone, "accepted", registry.RetSuccess
			d.ReceiptID = "ul-" + key + "-" + short[d.Platform]
			d.Response = `{"ret":"SUCCESS","data":{"msg_id":"` + d.ReceiptID + `"}}`
		} else {
			d.State, d.Ret = registry.DeliveryFailed, registry.RetFail
			d.ErrorKind, d.ErrorCode = "InvalidRequest", "2022"
			d.Response = `{"ret":"FAIL","data":{"error_code":"2022"}}`
		}
		require.NoError(t, s.FinishDelivery(ctx, &d))
	}
	return m.ID
}
