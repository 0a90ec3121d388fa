package getui_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

// startFake starts the fake Getui outside a test.
func startFake(cfg getuitest.Config) *getuitest.Server {
	srv, err := getuitest.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	return srv
}

// Push one notification to two cids through the fake Getui (a list push:
// a task, then its cids) and read what each device received.
func ExampleClient_Send() {
	srv := startFake(getuitest.Config{})
	defer srv.Close()
	app := getuitest.DefaultApps()[0]

	client, err := getui.New(getui.Config{
		AppID:        app.AppID,
		AppKey:       app.AppKey,
		MasterSecret: getui.NewSecret(app.MasterSecret),
		BaseURL:      srv.BaseURL(), // leave empty for https://restapi.getui.com/v2
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	alice, bob := getuitest.CID("alice"), getuitest.CID("bob")
	receipt, err := client.Send(context.Background(), &provider.Request{
		Platform: provider.Android,
		Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{alice, bob}},
		Notification: provider.Notification{
			Title:  "Order shipped",
			Body:   "Your order 42 is on its way",
			Extras: map[string]string{"order_id": "42"},
		},
		IdempotencyKey: "push-42-chunk-0",
		Overrides: map[string]any{getui.Name: &getui.Options{
			UpsOptions: map[string]map[string]any{getui.MakerXiaomi: {"/extra.channel_id": "orders"}},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("task:", strings.HasPrefix(receipt.ID, "RASL_"), "pollable:", receipt.Pollable)
	names := map[string]string{alice: "alice", bob: "bob"}
	for _, d := range srv.Deliveries() {
		fmt.Printf("%s got %q with payload %s\n", names[d.CID], d.Title, d.Payload)
	}
	fmt.Println("calls:", srv.Arrived("/auth"), "auth,", srv.Arrived("/push/list/message"), "task,", srv.Arrived("/push/list/cid"), "send")
	// Output:
	// task: true pollable: true
	// alice got "Order shipped" with payload {"order_id":"42"}
	// bob got "Order shipped" with payload {"order_id":"42"}
	// calls: 1 auth, 1 task, 1 send
}

// Validate refuses, without any call, what Getui would refuse, naming the
// field.
func ExampleClient_Validate() {
	client, err := getui.New(getui.Config{AppID: "appid", AppKey: "appkey", MasterSecret: getui.NewSecret("mastersecret")})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = client.Validate(&provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{getuitest.CID("a")}},
		Notification: provider.Notification{Title: strings.Repeat("长", 51), Body: "body"},
	})
	fmt.Println(errors.Is(err, provider.InvalidRequest), provider.FieldOf(err))
	// Output:
	// true notification.title
}

// A rate refusal is RateLimited: the caller reschedules without spending
// an attempt.
func ExampleClient_Send_rateLimited() {
	srv := startFake(getuitest.Config{})
	defer srv.Close()
	app := getuitest.DefaultApps()[0]
	client, _ := getui.New(getui.Config{AppID: app.AppID, AppKey: app.AppKey, MasterSecret: getui.NewSecret(app.MasterSecret), BaseURL: srv.BaseURL()})
	_ = srv.FailNext(1, getuitest.Fault{API: "/push/single/cid", Code: getui.CodeCallRate, Msg: "too many calls"})
	_, err := client.Send(context.Background(), &provider.Request{
		Platform:     provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{getuitest.CID("carol")}},
		Notification: provider.Notification{Body: "hello"},
	})
	kind := provider.KindOf(err)
	fmt.Println(kind, provider.CodeOf(err), kind.Retryable(), kind.SpendsAttempt())
	// Output:
	// rate_limited 10005 true false
}

// Status polls a task; Cancel stops it.
func ExampleClient_Status() {
	srv := startFake(getuitest.Config{})
	defer srv.Close()
	app := getuitest.DefaultApps()[0]
	_ = srv.AddDevice(app.AppID, getuitest.Device{CID: getuitest.CID("dave"), Platform: "ios", Tags: []string{"vip"}})
	client, _ := getui.New(getui.Config{AppID: app.AppID, AppKey: app.AppKey, MasterSecret: getui.NewSecret(app.MasterSecret), BaseURL: srv.BaseURL()})
	rc, err := client.Send(context.Background(), &provider.Request{
		Platform:     provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}},
		Notification: provider.Notification{Title: "Sale", Body: "Today only"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := client.Status(context.Background(), provider.IOS, rc.ID)
	fmt.Println(st.State, st.Total, st.Sent)
	_ = srv.SetReport(rc.ID, getuitest.Report{MsgNum: 10, TargetNum: 10, ReceiveNum: 4})
	st, _ = client.Status(context.Background(), provider.IOS, rc.ID)
	fmt.Println(st.State, st.Total, st.Sent)
	fmt.Println(client.Cancel(context.Background(), provider.IOS, rc.ID), srv.Stopped(rc.ID))
	st, _ = client.Status(context.Background(), provider.IOS, rc.ID)
	fmt.Println(st.State)
	// Output:
	// done 1 1
	// sending 10 4
	// <nil> true
	// canceled
}
