package umeng_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

func BenchmarkSign(b *testing.B) {
	body := []byte(`{"appkey":"5f0000000000000000000a01","timestamp":"1764324000","type":"listcast","payload":` +
		strings.Repeat(`{"k":"v"},`, 100) + `}`)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		_ = umeng.Sign("POST", "https://msgapi.umeng.com/api/send", body, "demoandroidmastersecret000000001")
	}
}

// BenchmarkSend measures the client's cost of one send (validation,
// payload, one marshal, sign, HTTP over loopback) against a server that
// answers at once, for 1 and 500 tokens.
func BenchmarkSend(b *testing.B) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"ret":"SUCCESS","data":{"msg_id":"ul17643240000000000001"}}`)
	}))
	defer srv.Close()
	app := umengtest.DefaultApps()[1]
	c, err := umeng.New(umeng.Config{BaseURL: srv.URL, Android: umeng.App{AppKey: app.AppKey, AppMasterSecret: app.AppMasterSecret}})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 500} {
		tokens := make([]string, n)
		for i := range tokens {
			tokens[i] = umengtest.AndroidToken(fmt.Sprint(i))
		}
		req := &provider.Request{Platform: provider.Android,
			Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens},
			Notification: provider.Notification{Title: "到货提醒", Body: "您关注的商品已到货", Extras: map[string]string{"page": "goods"}}}
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if _, err := c.Send(context.Background(), req); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
