package umeng

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/tuisong/push/provider"
)

// buildSignRequest is the listcast (or, for one token, unicast) that the
// build+sign benchmarks encode: an Android notification with one extra, as
// Service.Push sends it.
func buildSignRequest(n int) *provider.Request {
	tokens := make([]string, n)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("A%043d", i)
	}
	return &provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens},
		Notification: provider.Notification{Title: "到货提醒", Body: "您关注的商品已到货", Extras: map[string]string{"page": "goods"}},
	}
}

// BenchmarkBuildSign measures the client's own cost of one send before the
// network, through the code Send runs: every check of Validate, the payload,
// the body, the timestamp, the one marshal and the sign. Compare with
// BenchmarkBuildSignBaseline (issue #9: at most 1.2× for 500 tokens).
func BenchmarkBuildSign(b *testing.B) {
	c, err := New(Config{
		Android: App{AppKey: androidKey, AppMasterSecret: androidSecret},
		Now:     func() time.Time { return fixedNow },
	})
	if err != nil {
		b.Fatal(err)
	}
	for _, n := range []int{1, 500} {
		r := buildSignRequest(n)
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				app, body, _, err := c.prepare(opSend, r)
				if err != nil {
					b.Fatal(err)
				}
				body.Timestamp = c.timestamp()
				raw, err := body.encode()
				if err != nil {
					b.Fatal(err)
				}
				if s := Sign(http.MethodPost, c.baseURL+"/api/send", raw, app.AppMasterSecret); len(s) != 32 {
					b.Fatalf("sign %q", s)
				}
			}
		})
	}
}

// BenchmarkBuildSignBaseline is the least any client could do for the same
// send: json.Marshal of a plain struct holding the same fields (tokens
// joined by commas) and the MD5 of method, URL, body and secret.
func BenchmarkBuildSignBaseline(b *testing.B) {
	type body struct {
		Title     string `json:"title"`
		Text      string `json:"text"`
		Ticker    string `json:"ticker"`
		AfterOpen string `json:"after_open"`
	}
	type payload struct {
		DisplayType string            `json:"display_type"`
		Body        body              `json:"body"`
		Extra       map[string]string `json:"extra"`
	}
	type send struct {
		AppKey         string  `json:"appkey"`
		Timestamp      string  `json:"timestamp"`
		Type           string  `json:"type"`
		DeviceTokens   string  `json:"device_tokens"`
		Payload        payload `json:"payload"`
		ProductionMode string  `json:"production_mode"`
	}
	url := DefaultBaseURL + "/api/send"
	for _, n := range []int{1, 500} {
		r := buildSignRequest(n)
		cast := "listcast"
		if n == 1 {
			cast = "unicast"
		}
		b.Run(fmt.Sprintf("tokens=%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				raw, err := json.Marshal(send{
					AppKey: androidKey, Timestamp: "1714528984000", Type: cast,
					DeviceTokens: strings.Join(r.Audience.Tokens, ","),
					Payload: payload{DisplayType: "notification",
						Body:  body{Title: r.Notification.Title, Text: r.Notification.Body, Ticker: r.Notification.Title, AfterOpen: "go_app"},
						Extra: r.Notification.Extras},
					ProductionMode: "true",
				})
				if err != nil {
					b.Fatal(err)
				}
				h := md5.New()
				h.Write([]byte(http.MethodPost + url))
				h.Write(raw)
				h.Write([]byte(androidSecret))
				if s := hex.EncodeToString(h.Sum(nil)); len(s) != 32 {
					b.Fatalf("sign %q", s)
				}
			}
		})
	}
}
