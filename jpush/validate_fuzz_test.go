package jpush_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
)

// FuzzValidate builds a Notification from fuzz input and checks Validate's
// promise: it refuses the request with an error naming a field, or the
// independent fake JPush, which checks the payload itself, accepts the
// request as Send builds it.
func FuzzValidate(f *testing.F) {
	clk := newClock(time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC))
	fake := jpushtest.NewServer(f, jpushtest.Config{Now: clk.Now})
	app := jpushtest.DefaultApps()[0]
	// The clock stands still: the quota is off, so that every accepted
	// request reaches the fake.
	c, err := jpush.New(jpush.Config{AppKey: app.AppKey, MasterSecret: app.MasterSecret, BaseURL: fake.URL, ReportBaseURL: fake.URL, Now: clk.Now,
		Quota: provider.Quota{Unlimited: true}})
	if err != nil {
		f.Fatal(err)
	}
	f.Add(false, "Order shipped", "Your order 42 is on its way", "", "order_id", "42", "", "", 0, false, "", "", false, "")
	f.Add(true, "到货提醒", "您关注的商品已到货 🎉", "副标题", "page", "order", "id", "42", 3, true, "default", "service", false, "")
	f.Add(true, "", "", "", "ios", "x", "_j_msgid", "y", -1, true, "", "marketing", true, "cat")
	f.Add(false, "", "body only", "", "", "x", "p", "", 0, false, "bell", "urgent", true, "")
	f.Add(false, "t", strings.Repeat("货", 1300), "", "k", "\u2028\"<>&", "", "", 0, false, "", "", false, "")
	f.Add(true, "t", strings.Repeat("\x00", 700), "", "k", "v", "", "", 1<<40, true, "", "", false, "")
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
		r := &provider.Request{Platform: p, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{rid(p, 0)}},
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
			t.Fatalf("Validate accepted the request but the fake JPush refused it: %v", err)
		}
	})
}
