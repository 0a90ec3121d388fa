package umeng_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// FuzzValidate builds a Notification from fuzz input and checks Validate's
// promise: it refuses the request with an error naming a field, or the
// independent fake Umeng, which counts the payload size itself, accepts
// the request as Send builds it.
func FuzzValidate(f *testing.F) {
	clk := &fakeClock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	fake := umengtest.NewServer(f, umengtest.Config{Now: clk.Now, NoRateLimits: true})
	cfg := umeng.Config{BaseURL: fake.URL, Now: clk.Now}
	for _, a := range umengtest.DefaultApps() {
		app := umeng.App{AppKey: a.AppKey, AppMasterSecret: a.AppMasterSecret}
		if a.Platform == umengtest.PlatformIOS {
			cfg.IOS = app
		} else {
			cfg.Android = app
		}
	}
	c, err := umeng.New(cfg)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(false, "Order shipped", "Your order 42 is on its way", "", "order_id", "42", "", "", 0, false, "", "", false, "")
	f.Add(true, "到货提醒", "您关注的商品已到货 🎉", "副标题", "page", "order", "id", "42", 3, true, "default", "service", false, "")
	f.Add(true, "", "", "", "aps", "x", "d", "y", -1, true, "", "marketing", true, "")
	f.Add(false, "", "body only", "", "", "x", "p", "", 0, false, "bell", "urgent", true, "https://example.com/a.png")
	f.Add(false, "t", string(make([]byte, 1800)), "", "k", "\u2028\"<>&", "", "", 0, false, "", "", false, "")
	f.Fuzz(func(t *testing.T, ios bool, title, body, subtitle, k1, v1, k2, v2 string, badge int, hasBadge bool,
		sound, class string, silent bool, category string) {
		p := provider.Android
		if ios {
			p = provider.IOS
		}
		n := provider.Notification{Title: title, Body: body, Subtitle: subtitle, Sound: sound, Class: provider.Class(class),
			Silent: silent, Category: category, Extras: map[string]string{k1: v1}}
		if k2 != "" || v2 != "" {
			n.Extras[k2] = v2
		}
		if hasBadge {
			n.Badge = &badge
		}
		r := &provider.Request{Platform: p, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token(p, 0)}},
			Notification: n, IdempotencyKey: "push-1-chunk-0"}
		err := c.Validate(r)
		if err != nil {
			var fe *provider.FieldError
			if !errors.As(err, &fe) || fe.Field == "" {
				t.Fatalf("Validate: %v, which names no field", err)
			}
			return
		}
		if _, err := c.Send(context.Background(), r); err != nil {
			t.Fatalf("Validate accepted the request but the fake Umeng refused it: %v", err)
		}
	})
}
