package push_test

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// TestReceiptsEndToEnd pushes a listcast through the real Umeng client to
// the fake with a receipt_url set in the apps' Defaults; the fake posts an
// arrival receipt per device to umeng.ReceiptHandler, which hands them to
// Service.RecordReport: PushStatus and the query API then report arrived =
// the number of devices, and a click on one token opened = 1.
func TestReceiptsEndToEnd(t *testing.T) {
	fake := umengtest.NewServer(t, umengtest.Config{NoRateLimits: true})
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)

	var svc *push.Service
	var appKeys []string
	for _, a := range umengtest.DefaultApps() {
		appKeys = append(appKeys, a.AppKey)
	}
	receipts, err := umeng.ReceiptHandler(umeng.ReceiptConfig{AppKeys: appKeys, Secret: "s3cret-0123456789", Logger: slog.New(slog.DiscardHandler),
		Record: func(ctx context.Context, r provider.Report) error { return svc.RecordReport(ctx, r) }})
	require.NoError(t, err)
	hook := httptest.NewServer(receipts)
	t.Cleanup(hook.Close)
	receiptURL, err := umeng.ReceiptURLWithSecret(hook.URL+"/umeng/receipt", "s3cret-0123456789")
	require.NoError(t, err)

	ucfg := umeng.Config{BaseURL: fake.URL}
	for _, a := range umengtest.DefaultApps() {
		app := umeng.App{AppKey: a.AppKey, AppMasterSecret: a.AppMasterSecret,
			Defaults: umeng.Options{ReceiptURL: receiptURL, ReceiptType: umeng.ReceiptArrivalAndClick}}
		if a.Platform == umengtest.PlatformIOS {
			ucfg.IOS = app
		} else {
			ucfg.Android = app
		}
	}
	um, err := umeng.New(ucfg)
	require.NoError(t, err)
	svc, err = push.New(push.Config{Store: st, Providers: []provider.Provider{um}})
	require.NoError(t, err)
	ctx := t.Context()

	tokens := []string{umengtest.AndroidToken("p1"), umengtest.AndroidToken("p2"), umengtest.AndroidToken("p3")}
	for i, tok := range tokens {
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "phone-" + string(rune('a'+i)), Platform: "android",
			PushPlatform: "umeng", PushToken: tok})
		require.NoError(t, err)
	}
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "到货提醒", Content: "您关注的商品已到货"})
	require.NoError(t, err)
	require.NoError(t, res.FirstError())
	require.Equal(t, 3, res.Devices)
	require.Equal(t, 1, res.Accepted(), "one listcast")
	sends := fake.Sends()
	require.Len(t, sends, 1)
	assert.Equal(t, "listcast", sends[0].Type)

	status, err := svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, string(provider.StateAccepted), status.AndroidStatus, "final as accepted: Umeng cannot be polled about a listcast")
	assert.True(t, status.Receipts.Android.IsZero(), "no receipt yet")

	posts, err := fake.PostReceipts(ctx)
	require.NoError(t, err)
	require.Len(t, posts, 3)
	for _, p := range posts {
		assert.Equal(t, http.StatusOK, p.Status, "%s: %s", p.Token, p.Err)
		assert.Equal(t, umengtest.ReceiptArrival, p.Type)
	}
	status, err = svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.ReceiptCounts{Arrived: 3}, status.Receipts.Android)

	clicks := fake.Click(ctx, tokens[1])
	require.Len(t, clicks, 1)
	assert.Equal(t, http.StatusOK, clicks[0].Status, clicks[0].Err)
	status, err = svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.ReceiptCounts{Arrived: 3, Opened: 1}, status.Receipts.Android)
	assert.True(t, status.Receipts.IOS.IsZero())

	// Umeng posting a receipt again (it was not answered in time, or two
	// posts of it raced) counts nothing more: a device's event counts once.
	for _, p := range append(posts[:1:1], clicks[0]) {
		resp, err := http.Post(p.URL, "application/json", strings.NewReader(string(p.Body)))
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusOK, resp.StatusCode, "posted again")
	}
	status, err = svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.ReceiptCounts{Arrived: 3, Opened: 1}, status.Receipts.Android, "the receipts posted again counted once")

	// The query API reports them.
	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, push.PathQueryPush+"?push_message_id="+
		url.QueryEscape(jsonInt(res.PushMessageID)), nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "accepted", body["android_status"])
	assert.EqualValues(t, 3, body["android_arrived"])
	assert.EqualValues(t, 1, body["android_opened"])
	assert.EqualValues(t, 0, body["android_dismissed"])
	assert.EqualValues(t, 0, body["ios_arrived"])
	assert.Contains(t, body, "ios_opened")
	assert.Contains(t, body, "ios_dismissed")

	// A receipt about a push we never sent is answered 200 and counts
	// nothing; a receipt posted without the secret is refused.
	fakeReport := `{"appkey":"` + appKeys[0] + `","msg_id":"uu-not-ours","device_token":"` + tokens[0] + `","type":"click","ts":1}`
	resp, err := http.Post(receiptURL, "application/json", strings.NewReader(fakeReport))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	resp, err = http.Post(hook.URL+"/umeng/receipt", "application/json", strings.NewReader(fakeReport))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	status, err = svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.ReceiptCounts{Arrived: 3, Opened: 1}, status.Receipts.Android)
}

func jsonInt(n int64) string { return strconv.FormatInt(n, 10) }

// TestRecordReportErrors: an invalid report is a *push.FieldError naming
// the field, on every store (a msg id PostgreSQL cannot compare, with a NUL
// or not UTF-8, included: it used to be a store error there, which the
// receipt handler answers 500, so that Umeng posted it forever); one that
// names a delivery it cannot be about wraps provider.ErrUnknownReport and
// registry.ErrNotFound, and counts nothing. (One that names no delivery
// at all is held: TestReceiptBeforeItsOutcome.)
func TestRecordReportErrors(t *testing.T) {
	for name, open := range everyStore() {
		t.Run(name, func(t *testing.T) {
			mock, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			require.NoError(t, err)
			svc, err := push.New(push.Config{Store: open(t), Providers: []provider.Provider{mock}})
			require.NoError(t, err)
			ctx := t.Context()
			for _, tc := range []struct {
				field string
				r     provider.Report
			}{
				{"event", provider.Report{Provider: "umeng", MsgID: "m", Event: "exploded"}},
				{"provider", provider.Report{MsgID: "m", Event: provider.EventArrived}},
				{"msg_id", provider.Report{Provider: "umeng", Event: provider.EventOpened}},
				{"msg_id", provider.Report{Provider: "umeng", MsgID: "x\x00y", Event: provider.EventArrived}},
				{"msg_id", provider.Report{Provider: "umeng", MsgID: "x\xffy", Event: provider.EventArrived}},
				{"msg_id", provider.Report{Provider: "umeng", MsgID: strings.Repeat("m", 256), Event: provider.EventArrived}},
				{"provider", provider.Report{Provider: "um\x00eng", MsgID: "m", Event: provider.EventArrived}},
				{"token", provider.Report{Provider: "umeng", MsgID: "m", Token: "t\xff", Event: provider.EventArrived}},
			} {
				err := svc.RecordReport(ctx, tc.r)
				var fe *push.FieldError
				require.ErrorAs(t, err, &fe, "%+v", tc.r)
				assert.Equal(t, tc.field, fe.Field)
			}
			// A known msg id with a token its push did not go to.
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "phone-1", Platform: "android", PushToken: "tok1"})
			require.NoError(t, err)
			res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.NoError(t, res.FirstError())
			err = svc.RecordReport(ctx, provider.Report{Provider: "umeng", MsgID: "mock-1", Token: "tok2", Event: provider.EventArrived})
			assert.ErrorIs(t, err, provider.ErrUnknownReport)
			assert.ErrorIs(t, err, registry.ErrNotFound)
			status, err := svc.PushStatus(ctx, res.PushMessageID)
			require.NoError(t, err)
			assert.True(t, status.Receipts.Android.IsZero(), "nothing counted: %+v", status.Receipts.Android)
		})
	}
}

// TestReceiptBeforeItsOutcome: a vendor posts a device's receipt while
// the send it is about is still in flight (its outcome, and so its msg id,
// not recorded yet). RecordReport holds it; the next AdoptReceipts counts
// it on the delivery once, however often the vendor posted it. A held
// receipt that no delivery claims within ReceiptHold is dropped.
func TestReceiptBeforeItsOutcome(t *testing.T) {
	for name, open := range everyStore() {
		t.Run(name, func(t *testing.T) {
			mock, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			require.NoError(t, err)
			now := time.Date(2026, 12, 5, 10, 0, 0, 0, time.UTC)
			var clock sync.Mutex
			svc, err := push.New(push.Config{Store: open(t), Providers: []provider.Provider{mock}, ReceiptHold: 10 * time.Minute,
				Now: func() time.Time { clock.Lock(); defer clock.Unlock(); return now }})
			require.NoError(t, err)
			ctx := t.Context()
			_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "phone-1", Platform: "android", PushToken: "tok1"})
			require.NoError(t, err)

			arrived := provider.Report{Provider: "umeng", MsgID: "early-1", Token: "tok1", Event: provider.EventArrived}
			mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
				// The device's receipts come while the call is answered.
				for _, r := range []provider.Report{arrived, arrived, {Provider: "umeng", MsgID: "early-1", Event: provider.EventOpened}} {
					if err := svc.RecordReport(ctx, r); err != nil {
						return nil, err
					}
				}
				return &provider.Receipt{ID: "early-1"}, nil
			})
			res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.NoError(t, res.FirstError())
			status, err := svc.PushStatus(ctx, res.PushMessageID)
			require.NoError(t, err)
			assert.True(t, status.Receipts.Android.IsZero(), "held, not counted yet: %+v", status.Receipts.Android)

			n, err := svc.AdoptReceipts(ctx, 100)
			require.NoError(t, err)
			assert.Equal(t, 3, n, "the three held receipts")
			status, err = svc.PushStatus(ctx, res.PushMessageID)
			require.NoError(t, err)
			assert.Equal(t, registry.ReceiptCounts{Arrived: 1, Opened: 1}, status.Receipts.Android,
				"the device's arrival posted twice counts once")
			n, err = svc.AdoptReceipts(ctx, 100)
			require.NoError(t, err)
			assert.Zero(t, n, "each held receipt is counted once")

			// A receipt of a push no delivery ever gets (another system's,
			// or a send whose answer was lost) is dropped after ReceiptHold.
			require.NoError(t, svc.RecordReport(ctx, provider.Report{Provider: "umeng", MsgID: "early-2", Token: "tok1", Event: provider.EventArrived}))
			clock.Lock()
			now = now.Add(10*time.Minute + time.Second)
			clock.Unlock()
			n, err = svc.AdoptReceipts(ctx, 100)
			require.NoError(t, err)
			assert.Zero(t, n)
			mock.SetSendFunc(func(context.Context, *provider.Request) (*provider.Receipt, error) {
				return &provider.Receipt{ID: "early-2"}, nil
			})
			res, err = svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t2", Content: "c"})
			require.NoError(t, err)
			require.NoError(t, res.FirstError())
			n, err = svc.AdoptReceipts(ctx, 100)
			require.NoError(t, err)
			assert.Zero(t, n, "dropped at ReceiptHold, before its delivery came")
			status, err = svc.PushStatus(ctx, res.PushMessageID)
			require.NoError(t, err)
			assert.True(t, status.Receipts.Android.IsZero())

			_, err = svc.AdoptReceipts(ctx, 0)
			var fe *push.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "limit", fe.Field)
		})
	}
}

// TestHeldReceiptsStopAtTheCap: receipts naming no delivery yet are held
// up to Config.MaxHeldReceipts, counted across the Services sharing a
// store; past it they are answered as naming no push, and once
// AdoptReceipts has dropped the expired ones, receipts are held again.
func TestHeldReceiptsStopAtTheCap(t *testing.T) {
	for name, open := range everyStore() {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
			var clock sync.Mutex
			newSvc := func() *push.Service {
				mock, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
				require.NoError(t, err)
				svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{mock}, ReceiptHold: 10 * time.Minute,
					MaxHeldReceipts: 2, Now: func() time.Time { clock.Lock(); defer clock.Unlock(); return now }})
				require.NoError(t, err)
				return svc
			}
			a, b := newSvc(), newSvc()
			ctx := t.Context()
			report := func(id string) provider.Report {
				return provider.Report{Provider: "umeng", MsgID: id, Token: "tok-" + id, Event: provider.EventArrived}
			}
			counter := st.(registry.HeldReceiptCounter)
			held := func() int64 {
				n, err := counter.CountHeldReceipts(ctx)
				require.NoError(t, err)
				return n
			}
			require.NoError(t, a.RecordReport(ctx, report("made-up-1")))
			require.NoError(t, a.RecordReport(ctx, report("made-up-2")))
			err := a.RecordReport(ctx, report("made-up-3"))
			require.ErrorIs(t, err, provider.ErrUnknownReport, "past the cap a receipt is not held")
			assert.Contains(t, err.Error(), "MaxHeldReceipts")
			assert.Equal(t, int64(2), held())
			assert.ErrorIs(t, b.RecordReport(ctx, report("made-up-4")), provider.ErrUnknownReport,
				"another Service on the store counts what is held before it holds")
			assert.Equal(t, int64(2), held())

			clock.Lock()
			now = now.Add(10*time.Minute + time.Second)
			clock.Unlock()
			_, err = b.AdoptReceipts(ctx, 100)
			require.NoError(t, err)
			assert.Zero(t, held(), "dropped at ReceiptHold")
			require.NoError(t, a.RecordReport(ctx, report("made-up-5")),
				"held again once the expired ones are dropped, by another Service too: a count is a second old at most")
			require.NoError(t, b.RecordReport(ctx, report("made-up-6")))
			clock.Lock()
			now = now.Add(time.Second)
			clock.Unlock()
			assert.ErrorIs(t, a.RecordReport(ctx, report("made-up-7")), provider.ErrUnknownReport,
				"a second on, the count includes the other Service's holds")
			assert.Equal(t, int64(2), held())
		})
	}
	mock, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	_, err = push.New(push.Config{Store: st, Providers: []provider.Provider{mock}, MaxHeldReceipts: -1})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "max_held_receipts", fe.Field)

	// A count that fails holds nothing and is an error, not an unknown
	// receipt: the vendor is answered 500 and posts it again.
	svc, err := push.New(push.Config{Store: uncountable{st}, Providers: []provider.Provider{mock}})
	require.NoError(t, err)
	err = svc.RecordReport(t.Context(), provider.Report{Provider: "umeng", MsgID: "m1", Token: "t1", Event: provider.EventArrived})
	require.ErrorIs(t, err, errCount)
	assert.NotErrorIs(t, err, provider.ErrUnknownReport)
	n, err := st.CountHeldReceipts(t.Context())
	require.NoError(t, err)
	assert.Zero(t, n)
}

var errCount = errors.New("count failed")

// uncountable is a memstore whose CountHeldReceipts fails.
type uncountable struct{ *memstore.Store }

func (uncountable) CountHeldReceipts(context.Context) (int64, error) { return 0, errCount }

// everyStore makes a fresh store of each kind this run has, by name:
// memstore and each SQL dialect (skipped when its database is not set).
func everyStore() map[string]func(t *testing.T) registry.Store {
	stores := map[string]func(t *testing.T) registry.Store{"memstore": func(t *testing.T) registry.Store {
		st, err := memstore.New(memstore.Config{})
		require.NoError(t, err)
		return st
	}}
	for _, d := range dbtest.Dialects() {
		stores[string(d)] = func(t *testing.T) registry.Store {
			dbtest.SkipUnlessAvailable(t, d)
			return dbtest.NewStore(t, d)
		}
	}
	return stores
}
