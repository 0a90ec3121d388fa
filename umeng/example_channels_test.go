package umeng_test

import (
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// A marketing push to Android phones of Xiaomi, Huawei, OPPO and vivo. The
// App's Defaults carry the activity every phone maker's channel opens;
// the request adds the per-maker channels and categories, and the message
// class becomes Umeng's category and the Huawei importance.
func Example_marketingToVendorChannels() {
	fake, err := umengtest.New(umengtest.Config{})
	if err != nil {
		panic(err)
	}
	if err := fake.Start(); err != nil {
		panic(err)
	}
	defer fake.Close()

	android := umengtest.DefaultApps()[1]
	client, err := umeng.New(umeng.Config{
		BaseURL: fake.URL,
		Android: umeng.App{
			AppKey: android.AppKey, AppMasterSecret: android.AppMasterSecret,
			Defaults: umeng.Options{ChannelProperties: umeng.ChannelProperties{
				ChannelActivity: "com.example.shop.PushActivity",
			}},
		},
	})
	if err != nil {
		panic(err)
	}

	phones := []string{
		umengtest.AndroidToken("xiaomi"), umengtest.AndroidToken("huawei"),
		umengtest.AndroidToken("oppo"), umengtest.AndroidToken("vivo"),
	}
	_, err = client.Send(context.Background(), &provider.Request{
		Platform: provider.Android,
		Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: phones},
		Notification: provider.Notification{
			Title: "双十一预售", Body: "关注的商品直降 100 元",
			Class: provider.ClassMarketing,
		},
		Overrides: map[string]any{umeng.Name: &umeng.Options{
			ChannelProperties: umeng.ChannelProperties{
				XiaomiChannelID: "promotions",
				OppoChannelID:   "promotions", OppoCategory: "MARKETING",
				VivoCategory: "MARKETING",
			},
		}},
	})
	if err != nil {
		panic(err)
	}

	send := fake.Sends()[0]
	fmt.Println("category:", *send.Category)
	props := send.ChannelProperties
	for _, k := range slices.Sorted(maps.Keys(props)) {
		fmt.Printf("channel_properties.%s: %v\n", k, props[k])
	}
	fmt.Println("fields Umeng would ignore:", len(send.Ignored))
	fmt.Println("phones reached:", len(fake.Deliveries()))
	// Output:
	// category: 0
	// channel_properties.channel_activity: com.example.shop.PushActivity
	// channel_properties.huawei_channel_category: MARKETING
	// channel_properties.huawei_channel_importance: LOW
	// channel_properties.oppo_category: MARKETING
	// channel_properties.oppo_channel_id: promotions
	// channel_properties.vivo_category: MARKETING
	// channel_properties.xiaomi_channel_id: promotions
	// fields Umeng would ignore: 0
	// phones reached: 4
}

// An app whose phone makers' channels are set once per message class: a
// service push (an order shipped) goes out on the service channels, a
// marketing push on the marketing ones, and neither request names them.
func Example_classDefaults() {
	fake, err := umengtest.New(umengtest.Config{})
	if err != nil {
		panic(err)
	}
	if err := fake.Start(); err != nil {
		panic(err)
	}
	defer fake.Close()

	android := umengtest.DefaultApps()[1]
	client, err := umeng.New(umeng.Config{
		BaseURL: fake.URL,
		Android: umeng.App{
			AppKey: android.AppKey, AppMasterSecret: android.AppMasterSecret,
			Defaults: umeng.Options{ChannelProperties: umeng.ChannelProperties{
				ChannelActivity: "com.example.shop.PushActivity",
			}},
			ClassDefaults: map[provider.Class]umeng.Options{
				provider.ClassService: {ChannelProperties: umeng.ChannelProperties{
					XiaomiChannelID: "orders", OppoChannelID: "orders", OppoCategory: "ORDER", VivoCategory: "ORDER",
				}},
				provider.ClassMarketing: {ChannelProperties: umeng.ChannelProperties{
					XiaomiChannelID: "promotions", OppoChannelID: "promotions", OppoCategory: "MARKETING", VivoCategory: "MARKETING",
				}},
			},
		},
	})
	if err != nil {
		panic(err)
	}

	for _, n := range []provider.Notification{
		{Title: "订单已发货", Body: "您的订单 1024 已发货", Class: provider.ClassService},
		{Title: "双十一预售", Body: "关注的商品直降 100 元", Class: provider.ClassMarketing},
	} {
		_, err = client.Send(context.Background(), &provider.Request{
			Platform:     provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{umengtest.AndroidToken("xiaomi")}},
			Notification: n,
		})
		if err != nil {
			panic(err)
		}
	}
	for _, send := range fake.Sends() {
		props := send.ChannelProperties
		fmt.Println(*send.Category, props["xiaomi_channel_id"], props["oppo_channel_id"], props["oppo_category"], props["vivo_category"])
	}
	// Output:
	// 1 orders orders ORDER ORDER
	// 0 promotions promotions MARKETING MARKETING
}
