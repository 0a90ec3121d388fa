package push_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// mixedFakes are the three fake vendors behind a mixed-provider Service.
type mixedFakes struct {
	umeng *umengtest.Server
	jpush *jpushtest.Server
	getui *getuitest.Server
}

// mixedService is a Service on memstore with real Umeng, JPush and Getui
// clients, each pointed at a fresh fake of its vendor with the fake's
// default apps.
func mixedService(t *testing.T, clk *clock) (*push.Service, registry.Store, mixedFakes) {
	t.Helper()
	return mixedServiceWith(t, clk, getuitest.Config{}, 0)
}

// mixedServiceWith is mixedService with the fake Getui's config (its Now
// is clk's) and, when positive, the Getui client's Timeout.
func mixedServiceWith(t *testing.T, clk *clock, gcfg getuitest.Config, getuiTimeout time.Duration) (*push.Service, registry.Store, mixedFakes) {
	t.Helper()
	gcfg.Now = clk.Now
	f := mixedFakes{
		umeng: umengtest.NewServer(t, umengtest.Config{NoRateLimits: true}),
		jpush: jpushtest.NewServer(t, jpushtest.Config{Now: clk.Now}),
		getui: getuitest.NewServer(t, gcfg),
	}
	um, err := umeng.New(f.umeng.ClientConfig())
	require.NoError(t, err)
	jcfg := f.jpush.ClientConfig()
	jcfg.Now = clk.Now
	jp, err := jpush.New(jcfg)
	require.NoError(t, err)
	gtcfg := f.getui.ClientConfig()
	gtcfg.Now, gtcfg.Timeout = clk.Now, getuiTimeout
	gt, err := getui.New(gtcfg)
	require.NoError(t, err)

	st, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{um, jp, gt}, Now: clk.Now,
		Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}})
	require.NoError(t, err)
	return svc, st, f
}

// TestMixedProviders pushes once to a user whose devices are spread over
// Umeng (iOS), Getui (Android) and JPush (Android): one push message, one
// delivery per provider and platform, every device reached exactly once.
// Then one vendor reports its device's token invalid: only that device is
// disabled, and the next push reaches the other two.
func TestMixedProviders(t *testing.T) {
	clk := &clock{t: time.Now()} // Umeng checks expire_time against the real clock
	svc, st, f := mixedService(t, clk)
	ctx := t.Context()

	iPhone := umengtest.IOSToken("iphone")
	huawei := getuitest.CID("huawei")
	xiaomi := jpushtest.RegistrationID("xiaomi")
	devices := []push.Device{
		{UserNum: "u1001", UUID: "iphone-1", Platform: "ios", PushPlatform: "umeng", PushToken: iPhone},
		{UserNum: "u1001", UUID: "huawei-1", Platform: "android", PushPlatform: "getui", PushToken: huawei},
		{UserNum: "u1001", UUID: "xiaomi-1", Platform: "android", PushPlatform: "jpush", PushToken: xiaomi},
	}
	ids := map[string]int64{} // uuid → device id
	for _, d := range devices {
		reg, err := svc.RegisterDevice(ctx, d)
		require.NoError(t, err, d.UUID)
		ids[d.UUID] = reg.DeviceID
	}
	counts := func() [3]int {
		return [3]int{f.umeng.DeliveryCount(iPhone), f.getui.DeliveryCount(huawei), f.jpush.DeliveryCount(xiaomi)}
	}

	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1001"}, Title: "到货提醒", Content: "您关注的商品已到货",
		Extra: map[string]string{"goods_id": "42"}})
	require.NoError(t, err)
	require.NoError(t, res.FirstError())
	assert.Equal(t, 3, res.Devices)
	assert.Equal(t, 3, res.Accepted())
	assert.Zero(t, res.Skipped)
	assert.Equal(t, [3]int{1, 1, 1}, counts(), "every device is reached exactly once")

	ds, err := st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 3, "one delivery per provider and platform")
	got := map[string]int{}
	for _, d := range ds {
		assert.Equal(t, res.PushMessageID, d.PushMessageID)
		got[d.Provider+"/"+d.Platform]++
	}
	assert.Equal(t, map[string]int{"umeng/ios": 1, "getui/android": 1, "jpush/android": 1}, got)
	status, err := svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetSuccess, status.IOS.Ret)
	assert.Equal(t, registry.RetSuccess, status.Android.Ret)

	// Nothing is left to send: no retry reaches a device again.
	clk.Advance(time.Hour)
	n, err := svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n)
	assert.Equal(t, [3]int{1, 1, 1}, counts())

	// Getui now answers that the Huawei phone's cid is invalid: that device
	// alone is disabled.
	f.getui.MarkInvalid(huawei)
	res, err = svc.Push(ctx, push.Message{UserNums: []string{"u1001"}, Title: "第二条", Content: "个推说这台失效了"})
	require.NoError(t, err)
	assert.ErrorIs(t, res.FirstError(), provider.InvalidToken)
	assert.Equal(t, 2, res.Accepted())
	assert.Equal(t, 1, res.Failed())
	assert.Equal(t, [3]int{2, 1, 2}, counts(), "the other two devices still receive it")
	for uuid, id := range ids {
		dev, err := st.GetDevice(ctx, id)
		require.NoError(t, err)
		if uuid == "huawei-1" {
			assert.NotNil(t, dev.TokenDisabledAt, "the device Getui refused is disabled")
		} else {
			assert.Nil(t, dev.TokenDisabledAt, "%s is untouched", uuid)
		}
	}

	res, err = svc.Push(ctx, push.Message{UserNums: []string{"u1001"}, Title: "第三条", Content: "只有两台收到"})
	require.NoError(t, err)
	require.NoError(t, res.FirstError())
	assert.Equal(t, 2, res.Devices, "the disabled device is no longer targeted")
	assert.Equal(t, 2, res.Accepted())
	assert.Equal(t, [3]int{3, 1, 3}, counts())
}

// TestDeadTokensAmongSeveralAreDisabled: a user's Android devices on
// JPush, two of them uninstalled (JPush answers 1011 when it knows none of
// a push's ids), and on Getui one cid stored malformed beside two good
// ones (Getui refuses the list push, blaming the target). The live devices
// receive the push once each, the dead and malformed tokens are disabled,
// and the next push reaches the live devices only, with no failure.
func TestDeadTokensAmongSeveralAreDisabled(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, f := mixedService(t, clk)
	ctx := t.Context()
	deadA, deadB := jpushtest.RegistrationID("old-1"), jpushtest.RegistrationID("old-2")
	f.jpush.MarkInvalid(deadA, deadB)
	goodA, goodB := getuitest.CID("huawei-1"), getuitest.CID("huawei-2")
	malformed := strings.ToUpper(getuitest.CID("huawei-3"))
	devices := []push.Device{
		{UserNum: "u1", UUID: "old-1", Platform: "android", PushPlatform: "jpush", PushToken: deadA},
		{UserNum: "u1", UUID: "old-2", Platform: "android", PushPlatform: "jpush", PushToken: deadB},
		{UserNum: "u2", UUID: "huawei-1", Platform: "android", PushPlatform: "getui", PushToken: goodA},
		{UserNum: "u2", UUID: "huawei-2", Platform: "android", PushPlatform: "getui", PushToken: goodB},
	}
	ids := map[string]int64{}
	for _, d := range devices {
		reg, err := svc.RegisterDevice(ctx, d)
		require.NoError(t, err, d.UUID)
		ids[d.UUID] = reg.DeviceID
	}
	// A row another program wrote: the Service refuses such a token.
	dev, _, err := st.RegisterDevice(ctx, &registry.Device{UUID: "huawei-3", Platform: "android", PushPlatform: "getui", PushToken: malformed}, "u2")
	require.NoError(t, err)
	ids["huawei-3"] = dev.ID

	_, err = svc.Push(ctx, push.Message{UserNums: []string{"u1", "u2"}, Title: "到货提醒", Content: "您关注的商品已到货"})
	require.NoError(t, err)
	assert.Equal(t, 1, f.getui.DeliveryCount(goodA))
	assert.Equal(t, 1, f.getui.DeliveryCount(goodB))
	for uuid, id := range ids {
		dev, err := st.GetDevice(ctx, id)
		require.NoError(t, err)
		if uuid == "huawei-1" || uuid == "huawei-2" {
			assert.Nil(t, dev.TokenDisabledAt, "%s is live", uuid)
		} else {
			assert.NotNil(t, dev.TokenDisabledAt, "%s's token is disabled", uuid)
		}
	}

	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1", "u2"}, Title: "第二条", Content: "c"})
	require.NoError(t, err)
	require.NoError(t, res.FirstError())
	assert.Equal(t, 2, res.Devices, "the disabled tokens are no longer targeted")
	assert.Equal(t, 2, f.getui.DeliveryCount(goodA))
	assert.Equal(t, 2, f.getui.DeliveryCount(goodB))
}

// TestSuccessStatesMergeToAccepted: a user's Android devices on JPush and
// Getui. The Getui single push is final as accepted at once, the JPush
// push is polled until it is done; the platform's status is then
// "accepted", not "partial": every device was reached.
func TestSuccessStatesMergeToAccepted(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, _ := mixedService(t, clk)
	ctx := t.Context()
	for _, d := range []push.Device{
		{UserNum: "u1", UUID: "huawei-1", Platform: "android", PushPlatform: "getui", PushToken: getuitest.CID("huawei")},
		{UserNum: "u1", UUID: "xiaomi-1", Platform: "android", PushPlatform: "jpush", PushToken: jpushtest.RegistrationID("xiaomi")},
	} {
		_, err := svc.RegisterDevice(ctx, d)
		require.NoError(t, err)
	}
	// JPush reports a push done once its time to live has passed.
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", ExpireAt: clk.Now().Add(time.Hour)})
	require.NoError(t, err)
	require.NoError(t, res.FirstError())
	for range 50 {
		ds, err := st.ListDeliveries(ctx, res.PushMessageID)
		require.NoError(t, err)
		if ds[0].State.Final() && ds[1].State.Final() {
			break
		}
		clk.Advance(20 * time.Minute)
		_, err = svc.PollReceipts(ctx, 10)
		require.NoError(t, err)
	}
	ds, err := st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	got := map[string]string{}
	for _, d := range ds {
		require.Equal(t, registry.DeliveryDone, d.State, d.Provider)
		got[d.Provider] = d.VendorState
	}
	require.Equal(t, map[string]string{"getui": "accepted", "jpush": "done"}, got, "two success states")
	status, err := svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetSuccess, status.Android.Ret)
	assert.Equal(t, "accepted", status.Android.Status)
	m, err := st.GetPushMessage(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, "accepted", m.Android.Status, "the stored column too")
}

// TestGetuiRetryOfATakenPushIsSent: Getui took a single push whose answer
// was lost, and refuses the retry's repeated request_id (one reading of
// its docs). The retry records the delivery sent, as accepted: the device
// has it once, and nothing reports it failed.
func TestGetuiRetryOfATakenPushIsSent(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, f := mixedServiceWith(t, clk, getuitest.Config{DropRepeatedRequestID: true}, 300*time.Millisecond)
	ctx := t.Context()
	huawei := getuitest.CID("huawei")
	_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "huawei-1", Platform: "android", PushPlatform: "getui", PushToken: huawei})
	require.NoError(t, err)
	require.NoError(t, f.getui.FailNext(1, getuitest.Fault{API: "/push/single/cid", AfterAccept: true, Timeout: true}))
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	require.Equal(t, registry.DeliveryPending, res.Deliveries[0].State, "to be sent again")
	require.ErrorIs(t, res.Deliveries[0].Err, provider.Indeterminate)
	// The client gave up after its timeout; under load the fake may take
	// the push only then.
	require.Eventually(t, func() bool { return len(f.getui.RequestsTo("/push/single/cid")) == 1 }, 5*time.Second, 5*time.Millisecond)
	require.Equal(t, 1, f.getui.DeliveryCount(huawei))

	clk.Advance(time.Hour)
	n, err := svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	sends := f.getui.RequestsTo("/push/single/cid")
	require.Len(t, sends, 2)
	require.True(t, sends[1].Duplicate, "the retry repeated the request_id")
	assert.Equal(t, 1, f.getui.DeliveryCount(huawei), "shown once")
	ds, err := st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, registry.DeliveryDone, ds[0].State)
	assert.Equal(t, string(provider.StateAccepted), ds[0].VendorState)
	assert.Contains(t, ds[0].Response, "request_id cannot be repeat.")
	status, err := svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetSuccess, status.Android.Ret)
	assert.Equal(t, "accepted", status.Android.Status)
}

// TestGetuiListRetryToOneDeviceIsShownOnce: Getui took a list push to a
// user's two phones whose answer was lost; before the retry the user logs
// out of one. The retry, now to one phone, delivers the list push's task
// again (not a single push, whose new request_id Getui would not drop): the
// phone left is shown the push once.
func TestGetuiListRetryToOneDeviceIsShownOnce(t *testing.T) {
	for _, drop := range []bool{false, true} {
		t.Run(fmt.Sprintf("drop repeated request_id %t", drop), func(t *testing.T) {
			clk := &clock{t: time.Now()}
			svc, st, f := mixedServiceWith(t, clk, getuitest.Config{DropRepeatedRequestID: drop}, 300*time.Millisecond)
			ctx := t.Context()
			kept, gone := getuitest.CID("phone-0"), getuitest.CID("phone-1")
			_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "phone-0", Platform: "android", PushPlatform: "getui", PushToken: kept})
			require.NoError(t, err)
			second, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "phone-1", Platform: "android", PushPlatform: "getui", PushToken: gone})
			require.NoError(t, err)
			require.NoError(t, f.getui.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Timeout: true}))
			res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.Len(t, res.Deliveries, 1)
			require.Equal(t, registry.DeliveryPending, res.Deliveries[0].State)
			require.Eventually(t, func() bool { return f.getui.DeliveryCount(kept) == 1 }, 5*time.Second, 5*time.Millisecond)
			require.NoError(t, svc.Logout(ctx, "u1", second.UserDeviceID))

			clk.Advance(time.Hour)
			n, err := svc.RetryPending(ctx, 10)
			require.NoError(t, err)
			require.Equal(t, 1, n)
			assert.Empty(t, f.getui.RequestsTo("/push/single/cid"), "no single push")
			require.Eventually(t, func() bool { return len(f.getui.RequestsTo("/push/list/cid")) == 2 }, 5*time.Second, 5*time.Millisecond)
			sends := f.getui.RequestsTo("/push/list/cid")
			assert.Equal(t, sends[0].TaskID, sends[1].TaskID, "the first try's task")
			assert.Equal(t, 1, f.getui.DeliveryCount(kept), "shown once")
			ds, err := st.ListDeliveries(ctx, res.PushMessageID)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Equal(t, registry.DeliveryAccepted, ds[0].State, "a task, polled")
			assert.Equal(t, sends[0].TaskID, ds[0].ReceiptID)
		})
	}
}

// TestJPushNamesTheRegistrationIDItRefuses: JPush refuses a batch holding
// a registration id it finds invalid with 1003, naming the id ("The
// registration_id … is invalid!"): that device alone is disabled and the
// rest of the batch sent again in one call, where halving the batch until
// the id was found cost a call per halving and missed it when the refusal
// did not come again.
func TestJPushNamesTheRegistrationIDItRefuses(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, f := mixedService(t, clk)
	ctx := t.Context()
	rids := []string{jpushtest.RegistrationID("a"), jpushtest.RegistrationID("b"), jpushtest.RegistrationID("c")}
	ids := make([]int64, len(rids))
	for i, rid := range rids {
		reg, err := svc.RegisterDevice(ctx, push.Device{UserNum: fmt.Sprintf("u%d", i), UUID: fmt.Sprintf("d%d", i),
			Platform: "android", PushPlatform: "jpush", PushToken: rid})
		require.NoError(t, err)
		ids[i] = reg.DeviceID
	}
	require.NoError(t, f.jpush.FailNext(1, jpushtest.Fault{Path: "/v3/push", Code: jpush.CodeInvalidParam,
		Message: "The registration_id " + rids[1] + " is invalid!"}))
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u0", "u1", "u2"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Accepted())
	assert.Equal(t, 1, res.Failed())
	var sends [][]string
	for _, r := range f.jpush.Requests() {
		if r.Path == "/v3/push" {
			sends = append(sends, r.RegistrationIDs)
		}
	}
	// The refused batch (the fault answers before reading the body), then
	// the rest in one call.
	require.Len(t, sends, 2)
	assert.ElementsMatch(t, []string{rids[0], rids[2]}, sends[1])
	assert.Equal(t, []int{1, 0, 1}, []int{f.jpush.DeliveryCount(rids[0]), f.jpush.DeliveryCount(rids[1]), f.jpush.DeliveryCount(rids[2])})
	for i, id := range ids {
		dev, err := st.GetDevice(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, i == 1, dev.TokenDisabledAt != nil, "device %d disabled", i)
	}
}
