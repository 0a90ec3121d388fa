package umeng

import (
	"context"
	"net/http"
	"testing"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// The two sign vectors Umeng publishes.
const (
	vector2Secret = "bedyc7rzfqdy2wcvycrkabprdil2bpmc"
	vector2Body   = `{"policy":{"expire_time":"2018-03-27 09:06:02"},"description":"qweqwe","production_mode":true,"appkey":"5a77fca0b27b0a5f3f0000cb","payload":{"body":{"title":"fdasfa","ticker":"fdasfa","text":"qweqwewqewq","after_open":"go_app","play_vibrate":"false","play_lights":"false","play_sound":"true"},"display_type":"notification"},"type":"broadcast","timestamp":"1521856908422"}`
)

func TestSignPublishedVectors(t *testing.T) {
	tests := []struct {
		name   string
		url    string
		body   string
		secret string
		want   string
	}{
		{"minimal body", "https://msgapi.umeng.com/api/send", `{"a":1}`, "sec", "6fa5dbccea0287bdd8627437ce27ccfa"},
		{"broadcast on the legacy host", "http://msg.umeng.com/api/send", vector2Body, vector2Secret, "914c16508236ab0908e0728301d27d04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, Sign(http.MethodPost, tt.url, []byte(tt.body), tt.secret))
		})
	}
}

// TestPostCarriesPublishedSigns posts the vectors' bodies through the
// client to the documented URLs and checks the sign it puts on the wire.
func TestPostCarriesPublishedSigns(t *testing.T) {
	tests := []struct {
		name    string
		baseURL string
		body    string
		secret  string
		want    string
	}{
		// The first vector's secret, "sec", is shorter than New accepts:
		// Sign alone is checked against it (TestSignPublishedVectors).
		{"broadcast on the legacy host", "http://msg.umeng.com/", vector2Body, vector2Secret, "914c16508236ab0908e0728301d27d04"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) {
				c.BaseURL = tt.baseURL
				c.Android = App{AppKey: "5a77fca0b27b0a5f3f0000cb", AppMasterSecret: tt.secret}
			})
			h.respondAt("=~/api/send$", func(*http.Request) (*http.Response, error) {
				return httpmock.NewStringResponse(http.StatusOK, okTask), nil
			})

			data, err := h.client.Post(context.Background(), provider.Android, "/api/send", []byte(tt.body))
			require.NoError(t, err)
			assert.JSONEq(t, `{"task_id":"ustest0000000000000001"}`, string(data))

			got := h.only(t)
			assert.Equal(t, tt.body, string(got.body), "the body must be sent byte for byte")
			assert.Equal(t, []string{tt.want}, got.query["sign"])
		})
	}
}

// TestSendSignsTheBytesItSends checks every call of a send against a sign
// recomputed, as Umeng does, over the bytes that arrived.
func TestSendSignsTheBytesItSends(t *testing.T) {
	tests := []struct {
		name     string
		platform provider.Platform
		secret   string
		strategy Strategy
		paths    []string
	}{
		{"android listcast", provider.Android, androidSecret, StrategyListcast, []string{"/api/send"}},
		{"ios listcast", provider.IOS, iosSecret, StrategyListcast, []string{"/api/send"}},
		{"android upload and filecast", provider.Android, androidSecret, StrategyFilecast, []string{"/upload", "/api/send"}},
		{"ios upload and filecast", provider.IOS, iosSecret, StrategyFilecast, []string{"/upload", "/api/send"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Strategy = tt.strategy })
			h.respond("/upload", http.StatusOK, okUpload)
			h.respond("/api/send", http.StatusOK, okTask)

			_, err := h.client.Send(context.Background(), request(tt.platform, provider.Audience{
				Kind: provider.AudienceTokens, Tokens: tokens(3),
			}))
			require.NoError(t, err)

			calls := h.requests()
			require.Len(t, calls, len(tt.paths))
			for i, call := range calls {
				assert.Equal(t, tt.paths[i], call.path)
				want := Sign(http.MethodPost, DefaultBaseURL+call.path, call.body, tt.secret)
				assert.Equal(t, []string{want}, call.query["sign"], "sign of %s", call.path)
			}
		})
	}
}
