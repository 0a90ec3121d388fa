package getui

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-resty/resty/v2"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestNewRejectsBadConfig(t *testing.T) {
	ok := Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret)}
	edit := func(f func(*Config)) Config { c := ok; f(&c); return c }
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no app id", edit(func(c *Config) { c.AppID = "" }), "app_id"},
		{"app id with slash", edit(func(c *Config) { c.AppID = "a/b" }), "app_id"},
		{"no app key", edit(func(c *Config) { c.AppKey = "" }), "app_key"},
		{"app key with space", edit(func(c *Config) { c.AppKey = " k" }), "app_key"},
		{"no secret", edit(func(c *Config) { c.MasterSecret = Secret{} }), "master_secret"},
		{"secret with newline", edit(func(c *Config) { c.MasterSecret = NewSecret(testSecret + "\n") }), "master_secret"},
		{"secret too short to scrub", edit(func(c *Config) { c.MasterSecret = NewSecret("short") }), "master_secret"},
		{"base url scheme", edit(func(c *Config) { c.BaseURL = "ftp://restapi.getui.com/v2" }), "base_url"},
		{"base url host", edit(func(c *Config) { c.BaseURL = "https://" }), "base_url"},
		{"base url user", edit(func(c *Config) { c.BaseURL = "https://u:p@restapi.getui.com/v2" }), "base_url"},
		{"base url query", edit(func(c *Config) { c.BaseURL = "https://restapi.getui.com/v2?x=1" }), "base_url"},
		{"base url unparsable", edit(func(c *Config) { c.BaseURL = "https://restapi.getui.com/%zz" }), "base_url"},
		{"base url without the version", edit(func(c *Config) { c.BaseURL = "https://restapi.getui.com" }), "base_url"},
		{"base url of another version", edit(func(c *Config) { c.BaseURL = "https://RESTAPI.getui.com/v1/" }), "base_url"},
		{"base url without the version, host ending in a dot", edit(func(c *Config) { c.BaseURL = "https://restapi.getui.com./" }), "base_url"},
		{"negative timeout", edit(func(c *Config) { c.Timeout = -time.Second }), "timeout"},
		{"a timeout of 30 ns (seconds meant)", edit(func(c *Config) { c.Timeout = 30 }), "timeout"},
		{"negative refresh", edit(func(c *Config) { c.TokenRefreshAhead = -time.Second }), "token_refresh_ahead"},
		{"refresh of half a day", edit(func(c *Config) { c.TokenRefreshAhead = 12 * time.Hour }), "token_refresh_ahead"},
		{"negative auth quota", edit(func(c *Config) { c.AuthQuota = provider.Quota{Calls: 100, Per: -time.Minute} }), "auth_quota.per"},
		{"negative ttl", edit(func(c *Config) { c.DefaultTimeToLive = -time.Second }), "default_time_to_live"},
		{"ttl over three days", edit(func(c *Config) { c.DefaultTimeToLive = MaxTimeToLive + time.Second }), "default_time_to_live"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Equal(t, tt.field, provider.FieldOf(err))
			assert.NotContains(t, err.Error(), testSecret)
		})
	}
}

// TestDefaults observes the defaults: the production root with the app id,
// the 30-second deadline, the ten-minute refresh margin.
func TestDefaults(t *testing.T) {
	c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret)})
	require.NoError(t, err)
	assert.Equal(t, "getui", c.Name())
	assert.Equal(t, DefaultBaseURL, c.BaseURL())
	assert.Equal(t, DefaultTimeout, c.timeout)
	assert.Equal(t, DefaultTokenRefreshAhead, c.refresh)

	var deadline time.Time
	var paths []string
	var mu sync.Mutex
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		mu.Lock()
		defer mu.Unlock()
		paths = append(paths, r.URL.String())
		deadline, _ = r.Context().Deadline()
		body := `{"code":0,"data":{"RASS_x":{"` + testCID + `":"successed_online"}}}`
		if strings.HasSuffix(r.URL.Path, "/auth") {
			body = fmt.Sprintf(`{"code":0,"data":{"token":"tok0defaults0000000000000000001","expire_time":%d}}`, time.Now().Add(time.Hour).UnixMilli())
		}
		return &http.Response{StatusCode: 200, Body: io.NopCloser(strings.NewReader(body)), Header: http.Header{}}, nil
	})
	c, err = New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), HTTPClient: &http.Client{Transport: rt}})
	require.NoError(t, err)
	before := time.Now()
	_, err = c.Send(context.Background(), oneCID())
	require.NoError(t, err, "%v", paths)
	assert.Equal(t, []string{DefaultBaseURL + "/" + testAppID + "/auth", DefaultBaseURL + "/" + testAppID + "/push/single/cid"}, paths)
	assert.WithinDuration(t, before.Add(DefaultTimeout), deadline, 5*time.Second)
}

// TestRestyClientOption: a caller's resty client carries the calls.
func TestRestyClientOption(t *testing.T) {
	s := newScripted(t)
	used := false
	rc := resty.New().OnBeforeRequest(func(*resty.Client, *resty.Request) error { used = true; return nil })
	c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), BaseURL: s.srv.URL, Resty: rc, Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), oneCID())
	require.NoError(t, err)
	assert.True(t, used)
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// TestSecretsNeverShow prints a Client and a Config with every verb, logs
// them and every call, and fails calls whose answers echo the secret, the
// sign and the token, looking for any of the three.
func TestSecretsNeverShow(t *testing.T) {
	const token = "tok0secret0token0value0000000001"
	var mu sync.Mutex
	var sign string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if strings.HasSuffix(r.URL.Path, "/auth") {
			var a authBody
			_ = json.Unmarshal(body, &a)
			mu.Lock()
			sign = a.Sign
			mu.Unlock()
			fmt.Fprintf(w, `{"code":0,"msg":"sign %s ok","data":{"token":%q,"expire_time":"%d"}}`, a.Sign, token, fixedNow.Add(time.Hour).UnixMilli())
			return
		}
		if strings.Contains(r.URL.Path, "/report/") {
			fmt.Fprintf(w, `{"code":0,"msg":"token %s","data":{}}`, r.Header.Get("token"))
			return
		}
		w.WriteHeader(400)
		fmt.Fprintf(w, `{"code":20001,"msg":"bad token %s secret %s"}`, r.Header.Get("token"), testSecret)
	}))
	defer srv.Close()
	var logs bytes.Buffer
	cfg := Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), BaseURL: srv.URL,
		Now: func() time.Time { return fixedNow }, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	c, err := New(cfg)
	require.NoError(t, err)

	var out bytes.Buffer
	_, err = c.Send(context.Background(), oneCID())
	require.Error(t, err)
	out.WriteString(err.Error())
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	out.WriteString(pe.Message)
	st, err := c.Status(context.Background(), provider.Android, "RASL_0501_abc")
	require.NoError(t, err)
	out.Write(st.Raw)

	type holder struct {
		c   *Client
		cfg Config
	}
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%X", "%d", "%t", "%p", "%T", "%08.3f"} {
		fmt.Fprintf(&out, verb+"\n", c)
		fmt.Fprintf(&out, verb+"\n", cfg)
		fmt.Fprintf(&out, verb+"\n", &cfg)
		fmt.Fprintf(&out, verb+"\n", holder{c: c, cfg: cfg})
		fmt.Fprintf(&out, verb+"\n", []any{c, cfg})
		fmt.Fprintf(&out, verb+"\n", cfg.MasterSecret)
	}
	js, err := json.Marshal(cfg.MasterSecret)
	require.NoError(t, err)
	out.Write(js)
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "client", c, "config", cfg)
	// Nested, slog's JSON handler encodes the value with encoding/json.
	var nested bytes.Buffer
	slog.New(slog.NewJSONHandler(&nested, nil)).Info("x", "configs", []Config{cfg}, "host", struct{ Getui Config }{cfg})
	require.Equal(t, 2, strings.Count(nested.String(), `"master_secret_set":true`), nested.String())
	out.Write(nested.Bytes())
	out.Write(logs.Bytes())

	mu.Lock()
	defer mu.Unlock()
	require.NotEmpty(t, sign)
	text := out.String()
	for name, secret := range map[string]string{"master secret": testSecret, "sign": sign, "token": token} {
		assert.NotContains(t, text, secret, "the %s shows", name)
	}
	assert.Contains(t, text, "REDACTED", "echoed secrets are replaced")
	assert.Contains(t, text, testAppKey, "the app key is not a secret")
}

// TestCapabilities: what Send accepts, and the declarations a caller
// needs to bound, poll and clean up after a Getui send.
func TestCapabilities(t *testing.T) {
	for _, timeout := range []time.Duration{0, 10 * time.Second} {
		c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), Timeout: timeout})
		require.NoError(t, err)
		per := DefaultTimeout
		if timeout > 0 {
			per = timeout
		}
		for _, p := range provider.Platforms() {
			caps := c.Capabilities(p)
			assert.Equal(t, 200, caps.MaxTokens)
			assert.Equal(t, 3072, caps.MaxPayloadBytes)
			assert.Equal(t, []provider.AudienceKind{provider.AudienceTokens, provider.AudienceBroadcast,
				provider.AudienceAliases, provider.AudienceFilter}, caps.Audiences)
			assert.Equal(t, 4, caps.CallsPerSend, "auth, create, auth again after 10001, send")
			assert.Equal(t, 4*per, caps.SendTimeout, "four calls of Config.Timeout each")
			assert.Equal(t, 3*24*time.Hour, caps.MaxTimeToLive)
			assert.Equal(t, provider.Polling{Interval: 10 * time.Minute, Horizon: 24 * time.Hour, DoneAtExpiry: true}, caps.Polling, "counts, not a final state")
			assert.True(t, caps.TokenFailures, "list pushes answer a status per cid")
			assert.False(t, caps.NeedsAliasType, "Getui aliases have no type")
			assert.NoError(t, caps.Validate())
		}
		assert.Equal(t, provider.Capabilities{}, c.Capabilities("web"))
	}
}
