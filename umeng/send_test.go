package umeng

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestReceiptOptionsOnTheWire pins receipt_type as a JSON string and
// callback_params as a JSON object, as Umeng documents it, and leaves both
// out when unset.
func TestReceiptOptionsOnTheWire(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want map[string]any
	}{
		{"none", Options{}, map[string]any{}},
		{"url only", Options{ReceiptURL: "https://h.example.com/r"}, map[string]any{"receipt_url": "https://h.example.com/r"}},
		{"arrival", Options{ReceiptURL: "https://h.example.com/r", ReceiptType: ReceiptArrival},
			map[string]any{"receipt_url": "https://h.example.com/r", "receipt_type": "1"}},
		{"click", Options{ReceiptURL: "https://h.example.com/r", ReceiptType: ReceiptClick},
			map[string]any{"receipt_url": "https://h.example.com/r", "receipt_type": "2"}},
		{"both, with callback params", Options{ReceiptURL: "https://h.example.com/r", ReceiptType: ReceiptArrivalAndClick, CallbackParams: json.RawMessage(`{"push": 7}`)},
			map[string]any{"receipt_url": "https://h.example.com/r", "receipt_type": "3", "callback_params": map[string]any{"push": float64(7)}}},
		{"callback params alone", Options{CallbackParams: json.RawMessage(`{"order":"42"}`)},
			map[string]any{"callback_params": map[string]any{"order": "42"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.respond("/api/send", http.StatusOK, okMsg)
			r := unicast(provider.IOS)
			r.Overrides = map[string]any{Name: &tt.opts}
			_, err := h.client.Send(context.Background(), r)
			require.NoError(t, err)
			var body map[string]any
			require.NoError(t, json.Unmarshal(h.only(t).body, &body))
			got := map[string]any{}
			for _, k := range []string{"receipt_url", "receipt_type", "callback_params"} {
				if v, ok := body[k]; ok {
					got[k] = v
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}

// TestEncodeWritesWhatJSONWrites proves sendBody.encode, which copies plain
// tokens into the body, byte for byte against encoding/json's own output of
// the same body, for the bodies buildSend makes: plain and quoted tokens,
// one and many, with Android's and iOS's options, and the other casts.
func TestEncodeWritesWhatJSONWrites(t *testing.T) {
	c, err := New(Config{
		Android: App{AppKey: androidKey, AppMasterSecret: androidSecret},
		IOS:     App{AppKey: iosKey, AppMasterSecret: iosSecret},
		Now:     func() time.Time { return fixedNow },
	})
	require.NoError(t, err)
	many, html := make([]string, 500), make([]string, 200) // html: over 1 KiB joined, so spliced
	for i := range many {
		many[i] = fmt.Sprintf("A%043d", i)
	}
	for i := range html {
		html[i] = fmt.Sprintf("<t>&%d", i) // plain, and not escaped: SetEscapeHTML(false)
	}
	tests := []struct {
		name      string
		platform  provider.Platform
		audience  provider.Audience
		plain     bool
		overrides *Options
	}{
		{"one token", provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"tok-1"}}, true, nil},
		{"500 tokens", provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: many}, true, nil},
		{"ios tokens", provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"a<b>&c", "d"}}, true, nil},
		{"a quote", provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{`a"b`, "c"}}, false, nil},
		{"a backslash", provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{`a\b`}}, false, nil},
		{"non-ASCII", provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"令牌", "x"}}, false, nil},
		{"HTML characters", provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: html}, true, nil},
		{"500 ios tokens", provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: many}, true, nil},
		{"500 with a quote", provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: append([]string{`"`}, many[1:]...)}, false, nil},
		{"with options", provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: many}, true,
			&Options{ReceiptURL: "https://h.example.com/r", ReceiptType: ReceiptArrivalAndClick, MiPush: true, MiActivity: "com.a.B"}},
		{"aliases", provider.Android, provider.Audience{Kind: provider.AudienceAliases, AliasType: "uid", Aliases: []string{"u1", "u2"}}, false, nil},
		{"broadcast", provider.IOS, provider.Audience{Kind: provider.AudienceBroadcast}, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &provider.Request{Platform: tt.platform, Audience: tt.audience,
				Notification: provider.Notification{Title: "标题 \"q\" <b>", Body: "正文\n\\", Extras: map[string]string{"k": "v\u2028"}}}
			if tt.overrides != nil {
				r.Overrides = map[string]any{Name: tt.overrides}
			}
			_, body, _, err := c.prepare(opSend, r)
			require.NoError(t, err)
			body.Timestamp = c.timestamp()
			assert.Equal(t, tt.plain, body.plainTokens, "tokens taken as plain")
			want, err := marshal(body)
			require.NoError(t, err)
			got, err := body.encode()
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
			assert.True(t, json.Valid(got))
		})
	}
}
