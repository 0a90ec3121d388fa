package messagecenter_test

import (
	"context"
	"fmt"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// A row queued in sys_message_center is pushed by one pass of the
// Scanner, and an sms row goes to the host's notifier. A host runs
// Scanner.Run instead, which makes a pass every Interval until its ctx
// ends; RunOnce is one pass, for tests and cron jobs.
func ExampleScanner_RunOnce() {
	ctx := context.Background()
	store, _ := memstore.New(memstore.Config{}) // sqlstore.New and Store.Migrate in production
	mock, _ := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	svc, _ := push.New(push.Config{Store: store, Providers: []provider.Provider{mock}})
	_, _ = svc.RegisterDevice(ctx, push.Device{UserNum: "u1001", UUID: "phone-1", Platform: "android", PushToken: "tok-1"})

	sms := messagecenter.NotifierFunc(func(ctx context.Context, m registry.CenterMessage, receivers []string) (string, error) {
		return fmt.Sprintf("sms to %d receiver(s)", len(receivers)), nil // the host's sms gateway call
	})
	sc, err := messagecenter.New(messagecenter.Config{Service: svc, Notifiers: map[string]messagecenter.Notifier{"sms": sms}})
	if err != nil {
		fmt.Println(err)
		return
	}
	pushRow := registry.CenterMessage{Title: "到货提醒", Content: "您关注的商品已到货", NotifyMode: "push", Receivers: "u1001、u2002"}
	smsRow := registry.CenterMessage{Title: "验证码", Content: "123456", NotifyMode: "sms", Receivers: "13800000000"}
	_ = store.EnqueueCenterMessage(ctx, &pushRow)
	_ = store.EnqueueCenterMessage(ctx, &smsRow)

	rep, err := sc.RunOnce(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Printf("claimed %d, sent %d\n", rep.Claimed, rep.Sent)
	for _, id := range []int64{pushRow.ID, smsRow.ID} {
		row, _ := store.GetCenterMessage(ctx, id)
		fmt.Printf("%s: send_state=%d send_result=%q remark=%q\n", row.NotifyMode, row.SendState, row.SendResult, row.Remark)
	}
	// Output:
	// claimed 2, sent 2
	// push: send_state=1 send_result="push_message#1" remark="1 receiver(s) without a device the push could reach: u2002"
	// sms: send_state=1 send_result="sms to 1 receiver(s)" remark=""
}
