package umeng

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestNewRejectsBadConfig(t *testing.T) {
	android := App{AppKey: androidKey, AppMasterSecret: androidSecret}
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no platform", Config{}, "ios/android"},
		{"android key without secret", Config{Android: App{AppKey: androidKey}}, "android.app_master_secret"},
		{"android secret without key", Config{Android: App{AppMasterSecret: androidSecret}}, "android.app_key"},
		{"ios key without secret", Config{Android: android, IOS: App{AppKey: iosKey}}, "ios.app_master_secret"},
		{"ios secret without key", Config{Android: android, IOS: App{AppMasterSecret: iosSecret}}, "ios.app_key"},
		{"one appkey for both apps", Config{Android: android, IOS: App{AppKey: androidKey, AppMasterSecret: iosSecret}}, "android.app_key"},
		{"key with spaces", Config{Android: App{AppKey: " " + androidKey, AppMasterSecret: androidSecret}}, "android.app_key"},
		{"secret with newline", Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret + "\n"}}, "android.app_master_secret"},
		{"secret with NUL", Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret[:8] + "\x00" + androidSecret[9:]}}, "android.app_master_secret"},
		{"secret not UTF-8", Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret[:8] + "\xff" + androidSecret[9:]}}, "android.app_master_secret"},
		{"key with a tab inside", Config{Android: App{AppKey: androidKey[:4] + "\t" + androidKey[5:], AppMasterSecret: androidSecret}}, "android.app_key"},
		{"base url scheme", Config{Android: android, BaseURL: "ftp://msgapi.umeng.com"}, "base_url"},
		{"base url without host", Config{Android: android, BaseURL: "https://"}, "base_url"},
		{"base url with query", Config{Android: android, BaseURL: "https://msgapi.umeng.com?x=1"}, "base_url"},
		{"base url with user", Config{Android: android, BaseURL: "https://u:p@msgapi.umeng.com"}, "base_url"},
		{"base url unparsable", Config{Android: android, BaseURL: "https://msgapi.umeng.com/%zz"}, "base_url"},
		{"negative timeout", Config{Android: android, Timeout: -time.Second}, "timeout"},
		{"a timeout of 30 ns (seconds meant)", Config{Android: android, Timeout: 30}, "timeout"},
		{"unknown strategy", Config{Android: android, Strategy: Strategy(9)}, "strategy"},
		{"negative broadcast quota", Config{Android: android, Quotas: Quotas{Broadcast: provider.Quota{Calls: -1, Per: time.Hour}}}, "quotas.broadcast.calls"},
		{"groupcast quota without per", Config{Android: android, Quotas: Quotas{Groupcast: provider.Quota{Calls: 5}}}, "quotas.groupcast.per"},
		{"filecast quota unlimited and set", Config{Android: android, Quotas: Quotas{Filecast: provider.Quota{Calls: 5, Per: time.Hour, Unlimited: true}}}, "quotas.filecast"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Equal(t, tt.field, provider.FieldOf(err))
			assert.NotContains(t, err.Error(), androidSecret)
		})
	}
}

// TestNewAppliesDefaults observes the defaults on the wire: the production
// host, a one-minute deadline, the real clock, production mode and the
// listcast strategy.
func TestNewAppliesDefaults(t *testing.T) {
	mt := httpmock.NewMockTransport()
	var (
		deadline    time.Time
		hasDeadline bool
		body        []byte
	)
	mt.RegisterResponder(http.MethodPost, "https://msgapi.umeng.com/api/send", func(req *http.Request) (*http.Response, error) {
		deadline, hasDeadline = req.Context().Deadline()
		b, err := io.ReadAll(req.Body)
		body = b
		return httpmock.NewStringResponse(http.StatusOK, okMsg), err
	})
	c, err := New(Config{
		IOS:        App{AppKey: iosKey, AppMasterSecret: iosSecret},
		HTTPClient: &http.Client{Transport: mt},
	})
	require.NoError(t, err)
	assert.Equal(t, "umeng", c.Name())

	before := time.Now()
	_, err = c.Send(context.Background(), request(provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(2)}))
	after := time.Now()
	require.NoError(t, err)

	require.True(t, hasDeadline)
	assert.WithinRange(t, deadline, before.Add(DefaultTimeout), after.Add(DefaultTimeout))
	var sent struct {
		Timestamp      string `json:"timestamp"`
		Type           string `json:"type"`
		ProductionMode string `json:"production_mode"`
	}
	require.NoError(t, json.Unmarshal(body, &sent))
	ms, err := strconv.ParseInt(sent.Timestamp, 10, 64)
	require.NoError(t, err)
	assert.WithinRange(t, time.UnixMilli(ms), before.Truncate(time.Millisecond), after)
	assert.Equal(t, "listcast", sent.Type)
	assert.Equal(t, "true", sent.ProductionMode)
}

func TestNewLeavesTheCallersHTTPClientAlone(t *testing.T) {
	hc := &http.Client{}
	_, err := New(Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret}, HTTPClient: hc})
	require.NoError(t, err)
	assert.Nil(t, hc.Transport)
}

func TestAppNeverPrintsItsSecret(t *testing.T) {
	app := App{AppKey: androidKey, AppMasterSecret: androidSecret}
	cfg := Config{Android: app}

	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "app", app)
	// Nested, slog's JSON handler encodes the value with encoding/json.
	var nested bytes.Buffer
	slog.New(slog.NewJSONHandler(&nested, nil)).Info("config", "apps", []App{app},
		"vendors", struct{ Umeng App }{app}, "umeng", map[string]App{"android": app})
	require.Equal(t, 3, strings.Count(nested.String(), `{"app_key":"`+androidKey+`","secret_set":true}`), nested.String())

	for name, s := range map[string]string{
		"%v app":                     fmt.Sprintf("%v", app),
		"%+v app":                    fmt.Sprintf("%+v", app),
		"%#v app":                    fmt.Sprintf("%#v", app),
		"%s app":                     fmt.Sprintf("%s", app),
		"%+v cfg":                    fmt.Sprintf("%+v", cfg),
		"slog attr":                  logs.String(),
		"slog JSON of nested values": nested.String(),
	} {
		assert.NotContains(t, s, androidSecret, name)
		assert.Contains(t, s, androidKey, name)
	}
	// %d, %x and %t make fmt print a struct's fields (the secret spelt out,
	// or in hex) unless the type formats itself. The verbs are variables so
	// that vet lets the test use them.
	for _, verb := range []string{"%d", "%x", "%t"} {
		for name, s := range map[string]string{"app": fmt.Sprintf(verb, app), "cfg": fmt.Sprintf(verb, cfg), "&cfg": fmt.Sprintf(verb, &cfg)} {
			assert.NotContains(t, s, androidSecret, "%s %s", verb, name)
			assert.NotContains(t, s, hex.EncodeToString([]byte(androidSecret)), "%s %s in hex", verb, name)
		}
	}
	assert.Equal(t, "{AppKey: AppMasterSecret:}", App{}.String())
}

// TestConfigLogsWithoutSecrets: a whole Config, with its clock, HTTP
// client and logger set, is logged by slog's JSON handler (it failed on
// the func field before: "!ERROR:json: unsupported type"), alone or
// nested, and printed, without either App Master Secret.
func TestConfigLogsWithoutSecrets(t *testing.T) {
	cfg := Config{BaseURL: "https://fake.example", IOS: App{AppKey: iosKey, AppMasterSecret: iosSecret},
		Android: App{AppKey: androidKey, AppMasterSecret: androidSecret}, Now: time.Now, HTTPClient: &http.Client{},
		Logger: slog.New(slog.DiscardHandler), Timeout: 5 * time.Second, FilecastThreshold: 20000}
	var logs bytes.Buffer
	slog.New(slog.NewJSONHandler(&logs, nil)).Info("config", "umeng", cfg, "nested", []Config{cfg})
	assert.NotContains(t, logs.String(), "!ERROR")
	assert.Equal(t, 2, strings.Count(logs.String(), `{"base_url":"https://fake.example","ios_app_key":"`+iosKey+`","ios_secret_set":true,"android_app_key":"`+
		androidKey+`","android_secret_set":true,"test_mode":false,"timeout":5000000000,"strategy":"listcast","filecast_threshold":20000,"huawei_service_category":""}`), logs.String())
	var text bytes.Buffer
	slog.New(slog.NewTextHandler(&text, nil)).Info("config", "umeng", cfg)
	for name, s := range map[string]string{
		"json": logs.String(), "text": text.String(), "%v": fmt.Sprintf("%v", cfg), "%+v": fmt.Sprintf("%+v", cfg),
		"%#v": fmt.Sprintf("%#v", cfg), "%q": fmt.Sprintf("%q", cfg),
	} {
		for _, secret := range []string{iosSecret, androidSecret} {
			assert.NotContains(t, s, secret, name)
		}
		assert.Contains(t, s, androidKey, name)
	}
	assert.True(t, strings.HasPrefix(fmt.Sprintf("%#v", cfg), "umeng.Config{BaseURL:https://fake.example IOS:{AppKey:"+iosKey+" AppMasterSecret:REDACTED}"))
}

func TestCapabilities(t *testing.T) {
	all := []provider.AudienceKind{
		provider.AudienceTokens, provider.AudienceBroadcast, provider.AudienceAliases,
		provider.AudienceFilter, provider.AudienceFile,
	}
	h := newHarness(t, func(c *Config) { c.IOS = App{} })
	tests := []struct {
		platform provider.Platform
		want     provider.Capabilities
	}{
		{provider.Android, provider.Capabilities{MaxTokens: 500, MaxPayloadBytes: 2048, Audiences: all,
			NeedsAliasType: true, CallsPerSend: 1, SendTimeout: DefaultTimeout, MaxTimeToLive: 7 * 24 * time.Hour}},
		{provider.IOS, provider.Capabilities{}},
		{provider.Platform("web"), provider.Capabilities{}},
	}
	for _, tt := range tests {
		t.Run(string(tt.platform), func(t *testing.T) {
			assert.Equal(t, tt.want, h.client.Capabilities(tt.platform))
		})
	}

	ios := newHarness(t).client.Capabilities(provider.IOS)
	assert.Equal(t, 2012, ios.MaxPayloadBytes)
	assert.Equal(t, 500, ios.MaxTokens)
	assert.Equal(t, all, ios.Audiences)
	assert.Zero(t, ios.Polling, "tasks reach a final status: polled at the caller's interval until they expire")
	assert.False(t, ios.TokenFailures, "Umeng names no token it refuses")
}

// TestCapabilitiesCallsAndTimeout: a filecast uploads, then sends, each
// call bounded by Timeout, so a Send may take twice as long.
func TestCapabilitiesCallsAndTimeout(t *testing.T) {
	tests := []struct {
		name     string
		strategy Strategy
		timeout  time.Duration
		calls    int
		send     time.Duration
	}{
		{"listcast default", StrategyListcast, 0, 1, time.Minute},
		{"listcast 20s", StrategyListcast, 20 * time.Second, 1, 20 * time.Second},
		{"filecast default", StrategyFilecast, 0, 2, 2 * time.Minute},
		{"filecast 20s", StrategyFilecast, 20 * time.Second, 2, 40 * time.Second},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Strategy = tt.strategy; c.Timeout = tt.timeout })
			for _, p := range provider.Platforms() {
				caps := h.client.Capabilities(p)
				assert.Equal(t, tt.calls, caps.CallsPerSend, p)
				assert.Equal(t, tt.send, caps.SendTimeout, p)
				require.NoError(t, caps.Validate())
			}
		})
	}
}

func TestStrategyString(t *testing.T) {
	assert.Equal(t, "listcast", StrategyListcast.String())
	assert.Equal(t, "filecast", StrategyFilecast.String())
	assert.Equal(t, "strategy(7)", Strategy(7).String())
}
