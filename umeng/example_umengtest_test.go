package umeng_test

import (
	"context"
	"fmt"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// Testing code that sends with Umeng: point the client at umengtest, then
// assert on what the fake received. In a test, umengtest.NewServer(t, cfg)
// starts the server and closes it when the test ends.
func Example_testingWithUmengtest() {
	fake, err := umengtest.New(umengtest.Config{})
	if err != nil {
		panic(err)
	}
	if err := fake.Start(); err != nil {
		panic(err)
	}
	defer fake.Close()

	apps := umengtest.DefaultApps() // one iOS and one Android demo app
	cfg := umeng.Config{BaseURL: fake.URL}
	for _, a := range apps {
		app := umeng.App{AppKey: a.AppKey, AppMasterSecret: a.AppMasterSecret}
		if a.Platform == umengtest.PlatformIOS {
			cfg.IOS = app
		} else {
			cfg.Android = app
		}
	}
	client, err := umeng.New(cfg)
	if err != nil {
		panic(err)
	}

	token := umengtest.AndroidToken("device-1") // a well-formed 44-character token
	rc, err := client.Send(context.Background(), &provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token}},
		Notification: provider.Notification{Title: "到货提醒", Body: "您关注的商品已到货"},
	})
	if err != nil {
		panic(err)
	}
	send := fake.Sends()[0]
	fmt.Println("type:", send.Type, "pollable:", rc.Pollable)
	fmt.Println("deliveries to the device:", fake.DeliveryCount(token))

	// Faults on demand: the next send fails with Umeng's rate-limit code.
	_ = fake.FailNext(1, umengtest.Fault{Path: "/api/send", Code: "2050"})
	_, err = client.Send(context.Background(), &provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token}},
		Notification: provider.Notification{Title: "t", Body: "b"},
	})
	fmt.Println("kind:", provider.KindOf(err), "code:", provider.CodeOf(err))
	// Output:
	// type: unicast pollable: false
	// deliveries to the device: 1
	// kind: rate_limited code: 2050
}
