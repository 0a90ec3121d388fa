package jpush_test

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
)

// startFake starts the fake JPush outside a test.
func startFake(cfg jpushtest.Config) *jpushtest.Server {
	srv, err := jpushtest.New(cfg)
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	return srv
}

// Push one notification to two registration ids through the fake JPush and
// read what each device received.
func ExampleClient_Send() {
	srv := startFake(jpushtest.Config{})
	defer srv.Close()
	app := jpushtest.DefaultApps()[0]

	client, err := jpush.New(jpush.Config{
		AppKey:        app.AppKey,
		MasterSecret:  app.MasterSecret,
		BaseURL:       srv.URL, // leave empty for https://api.jpush.cn
		ReportBaseURL: srv.URL, // leave empty for https://report.jpush.cn
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	alice, bob := jpushtest.RegistrationID("alice"), jpushtest.RegistrationID("bob")
	receipt, err := client.Send(context.Background(), &provider.Request{
		Platform: provider.Android,
		Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{alice, bob}},
		Notification: provider.Notification{
			Title:  "Order shipped",
			Body:   "Your order 42 is on its way",
			Extras: map[string]string{"order_id": "42"},
		},
		Overrides: map[string]any{jpush.Name: &jpush.Options{
			ThirdPartyChannel: map[string]jpush.ThirdPartyChannel{
				jpush.ChannelXiaomi: {Distribution: jpush.DistributionSecondaryPush, ChannelID: "orders"},
			},
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println("pollable:", receipt.Pollable)
	fmt.Println("alice:", srv.DeliveryCount(alice), "bob:", srv.DeliveryCount(bob))

	st, err := client.Status(context.Background(), provider.Android, receipt.ID)
	if err != nil {
		fmt.Println(err)
		return
	}
	// JPush counts what reached devices; it reports no count of targets.
	fmt.Println(st.State, "reached", st.Sent)
	// Output:
	// pollable: true
	// alice: 1 bob: 1
	// sending reached 2
}

// A push refused for JPush's rate limit: the error says RateLimited and how
// long to wait, read from X-Rate-Limit-Reset.
func ExampleClient_Send_rateLimited() {
	srv := startFake(jpushtest.Config{})
	defer srv.Close()
	if err := srv.FailNext(1, jpushtest.Fault{Code: jpush.CodeRateLimited, Reset: 42 * time.Second, Headers: jpushtest.HeadersSDK}); err != nil {
		fmt.Println(err)
		return
	}
	app := jpushtest.DefaultApps()[0]
	client, err := jpush.New(jpush.Config{AppKey: app.AppKey, MasterSecret: app.MasterSecret, BaseURL: srv.URL})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.Send(context.Background(), &provider.Request{
		Platform:     provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{jpushtest.RegistrationID("carol")}},
		Notification: provider.Notification{Body: "Hello"},
	})
	fmt.Println(errors.Is(err, provider.RateLimited), provider.KindOf(err), provider.CodeOf(err), provider.RetryAfterOf(err))
	// Output: true rate_limited 2002 42s
}

// Validate checks a request locally, with the same code Send runs before
// the network.
func ExampleClient_Validate() {
	client, err := jpush.New(jpush.Config{AppKey: "0123456789abcdef01234567", MasterSecret: "0123456789abcdef01234567"})
	if err != nil {
		fmt.Println(err)
		return
	}
	err = client.Validate(&provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}},
		Notification: provider.Notification{Title: "Sale", Body: "Today only"},
		Overrides: map[string]any{jpush.Name: &jpush.Options{
			ThirdPartyChannel: map[string]jpush.ThirdPartyChannel{jpush.ChannelHuawei: {Importance: "URGENT"}},
		}},
	})
	fmt.Println(errors.Is(err, provider.InvalidRequest), provider.FieldOf(err))
	// Output: true overrides.jpush.third_party_channel["huawei"].importance
}
