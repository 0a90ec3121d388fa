package jpush

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestNewRejectsBadConfig(t *testing.T) {
	ok := Config{AppKey: testAppKey, MasterSecret: testSecret}
	edit := func(f func(*Config)) Config { c := ok; f(&c); return c }
	tests := []struct {
		name  string
		cfg   Config
		field string
	}{
		{"no app key", edit(func(c *Config) { c.AppKey = "" }), "app_key"},
		{"app key with colon", edit(func(c *Config) { c.AppKey = "a:b" }), "app_key"},
		{"app key with space", edit(func(c *Config) { c.AppKey = " " + testAppKey }), "app_key"},
		{"no secret", edit(func(c *Config) { c.MasterSecret = "" }), "master_secret"},
		{"secret with newline", edit(func(c *Config) { c.MasterSecret = testSecret + "\n" }), "master_secret"},
		// Inside the value, where no trim finds them: Umeng and Getui
		// refuse them too.
		{"app key with a tab", edit(func(c *Config) { c.AppKey = testAppKey[:4] + "\t" + testAppKey[4:] }), "app_key"},
		{"app key with a NUL", edit(func(c *Config) { c.AppKey = testAppKey + "\x00x" }), "app_key"},
		{"app key not UTF-8", edit(func(c *Config) { c.AppKey = testAppKey + "\xff" }), "app_key"},
		{"secret with a tab", edit(func(c *Config) { c.MasterSecret = testSecret[:4] + "\t" + testSecret[4:] }), "master_secret"},
		{"secret with a DEL", edit(func(c *Config) { c.MasterSecret = testSecret[:4] + "\x7f" + testSecret[4:] }), "master_secret"},
		{"secret not UTF-8", edit(func(c *Config) { c.MasterSecret = testSecret[:4] + "\xc3" + testSecret[4:] }), "master_secret"},
		{"base url scheme", edit(func(c *Config) { c.BaseURL = "ftp://api.jpush.cn" }), "base_url"},
		{"base url host", edit(func(c *Config) { c.BaseURL = "https://" }), "base_url"},
		{"base url user", edit(func(c *Config) { c.BaseURL = "https://u:p@api.jpush.cn" }), "base_url"},
		{"base url query", edit(func(c *Config) { c.BaseURL = "https://api.jpush.cn?x=1" }), "base_url"},
		{"base url unparsable", edit(func(c *Config) { c.BaseURL = "https://api.jpush.cn/%zz" }), "base_url"},
		{"report url", edit(func(c *Config) { c.ReportBaseURL = "report.jpush.cn" }), "report_base_url"},
		{"negative timeout", edit(func(c *Config) { c.Timeout = -time.Second }), "timeout"},
		{"a timeout of 30 ns (seconds meant)", edit(func(c *Config) { c.Timeout = 30 }), "timeout"},
		{"negative ttl", edit(func(c *Config) { c.DefaultTimeToLive = -time.Second }), "default_time_to_live"},
		{"ttl over ten days", edit(func(c *Config) { c.DefaultTimeToLive = MaxTimeToLive + time.Second; c.VIP = true }), "default_time_to_live"},
		{"ttl over three days without vip", edit(func(c *Config) { c.DefaultTimeToLive = MaxTimeToLiveOrdinary + time.Second }), "default_time_to_live"},
		{"negative quota", edit(func(c *Config) { c.Quota = provider.Quota{Calls: -1, Per: time.Minute} }), "quota.calls"},
		{"quota without per", edit(func(c *Config) { c.Quota = provider.Quota{Calls: 600} }), "quota.per"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := New(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, c)
			assert.Equal(t, tt.field, provider.FieldOf(err))
			assert.NotContains(t, err.Error(), testSecret)
			if tt.cfg.MasterSecret != "" {
				assert.NotContains(t, err.Error(), tt.cfg.MasterSecret, "the secret is never echoed")
			}
		})
	}
}

// TestNewRefusesAControlCharacterInACredential: a tab pasted into the
// app key or the master secret is refused in Umeng's words, naming the
// field, never the value: it was accepted, and every call failed as if
// the secret were wrong.
func TestNewRefusesAControlCharacterInACredential(t *testing.T) {
	for field, cfg := range map[string]Config{
		"app_key":       {AppKey: testAppKey[:4] + "\t" + testAppKey[4:], MasterSecret: testSecret},
		"master_secret": {AppKey: testAppKey, MasterSecret: testSecret[:4] + "\t" + testSecret[4:]},
	} {
		_, err := New(cfg)
		assert.EqualError(t, err, "jpush: invalid config: "+field+": holds a control character or is not valid UTF-8")
	}
}

// TestNewAppliesDefaults observes the defaults on the wire: the production
// hosts, the 30-second deadline, Basic auth and the sandbox.
func TestNewAppliesDefaults(t *testing.T) {
	mt := httpmock.NewMockTransport()
	var deadline time.Time
	var hasDeadline bool
	mt.RegisterResponder(http.MethodPost, "https://api.jpush.cn/v3/push", func(req *http.Request) (*http.Response, error) {
		deadline, hasDeadline = req.Context().Deadline()
		return httpmock.NewStringResponse(200, okPush), nil
	})
	mt.RegisterResponder(http.MethodGet, "https://api.jpush.cn/v3/push/cid?count=10&type=push",
		httpmock.NewStringResponder(200, `{"cidlist":["`+testAppKey+`-711261d4-5f17-4d2f-a855-5e5a8909b26e"]}`))
	mt.RegisterResponder(http.MethodGet, `=~^https://report\.jpush\.cn/v3/received/detail`, httpmock.NewStringResponder(200, `[{"msg_id":"1828256757","jpush_received":62,"android_pns_sent":12,"android_pns_received":12,"ios_apns_sent":11,"ios_apns_received":5,"ios_msg_received":3}]`))
	c, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, HTTPClient: &http.Client{Transport: mt}})
	require.NoError(t, err)
	assert.Equal(t, "jpush", c.Name())
	before := time.Now()
	rc, err := c.Send(context.Background(), request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}))
	require.NoError(t, err)
	require.True(t, hasDeadline)
	assert.WithinDuration(t, before.Add(DefaultTimeout), deadline, 5*time.Second)
	st, err := c.Status(context.Background(), provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, provider.StateSending, st.State, "done only once its time to live is over")
	assert.Equal(t, 62+12, st.Sent, "received over JPush's connection plus handed to the phone makers'")
}

// TestSecretsNeverShow prints a Client and a Config with every verb, logs
// them, and fails calls in every way, looking for the master secret.
func TestSecretsNeverShow(t *testing.T) {
	var logs bytes.Buffer
	cfg := Config{AppKey: testAppKey, MasterSecret: testSecret, Logger: slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	// A server that echoes the Authorization header and the secret back,
	// also spelt with JSON escapes (in the code, and the credential's "/"
	// as "\/").
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(400)
		var esc strings.Builder
		for _, r := range testSecret {
			fmt.Fprintf(&esc, `\u%04x`, r)
		}
		fmt.Fprintf(w, `{"error":{"code":"%s","message":"bad %s %s %s"}}`, esc.String(), r.Header.Get("Authorization"),
			strings.ReplaceAll(r.Header.Get("Authorization"), "/", `\/`), testSecret)
	}))
	defer srv.Close()
	cfg.BaseURL, cfg.ReportBaseURL = srv.URL, srv.URL
	c, err := New(cfg)
	require.NoError(t, err)

	var out bytes.Buffer
	// %d, %x and %t make fmt print a struct's fields (the secret spelt
	// out, or in hex) unless the type formats itself.
	for _, verb := range []string{"%v", "%+v", "%#v", "%s", "%q", "%x", "%d", "%t"} {
		fmt.Fprintf(&out, verb+"\n", c)
		fmt.Fprintf(&out, verb+"\n", cfg)
		fmt.Fprintf(&out, verb+"\n", &cfg)
	}
	slog.New(slog.NewJSONHandler(&out, nil)).Info("x", "client", c, "config", cfg)
	// Nested, slog's JSON handler encodes the value with encoding/json.
	var nested bytes.Buffer
	slog.New(slog.NewJSONHandler(&nested, nil)).Info("x", "configs", []Config{cfg}, "host", struct{ JPush Config }{cfg})
	require.Equal(t, 2, strings.Count(nested.String(), `"app_key":"`+testAppKey+`","master_secret_set":true`), nested.String())
	out.Write(nested.Bytes())
	_, err = c.Send(context.Background(), request(provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}))
	require.Error(t, err)
	out.WriteString(err.Error())
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	out.WriteString(pe.Message)

	// A transport error after the URL carried user info.
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c2, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, BaseURL: "http://" + addr})
	require.NoError(t, err)
	_, err = c2.Send(context.Background(), request(provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}))
	require.Error(t, err)
	out.WriteString(err.Error())

	// A copy of the Client's fields, as reflection-based printers (testify's
	// diffs) see them.
	fmt.Fprintf(&out, "%+v %#v %s\n", c.creds, *c.creds, []any{c.creds})
	basic := base64.StdEncoding.EncodeToString([]byte(testAppKey + ":" + testSecret))
	for _, text := range []string{out.String(), logs.String()} {
		assert.NotContains(t, text, testSecret)
		assert.NotContains(t, text, hex.EncodeToString([]byte(testSecret)), "the secret in hex")
		assert.NotContains(t, text, basic, "the Basic credential is the secret too")
	}
	assert.Contains(t, out.String(), testAppKey, "the app key is not secret and helps debugging")
}

// TestConnectionRefusedIsTemporary: nothing was sent, so a retry is safe.
func TestConnectionRefusedIsTemporary(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	addr := ln.Addr().String()
	require.NoError(t, ln.Close())
	c, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, BaseURL: "http://" + addr})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), request(provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}))
	requireKind(t, err, provider.Temporary)
}

// TestWrittenRequestThatLosesItsAnswerIsIndeterminate: the body went out,
// JPush may have pushed it.
func TestWrittenRequestThatLosesItsAnswerIsIndeterminate(t *testing.T) {
	received := make(chan struct{}, 4)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.ReadAll(r.Body)
		received <- struct{}{}
		<-r.Context().Done()
	}))
	defer srv.Close()
	c, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, BaseURL: srv.URL, Timeout: 200 * time.Millisecond, DisableCID: true})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), request(provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}))
	pe := requireKind(t, err, provider.Indeterminate)
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Zero(t, pe.HTTPStatus)

	ctx, cancel := context.WithCancel(context.Background())
	go func() { <-received; <-received; cancel() }()
	c2, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, BaseURL: srv.URL, DisableCID: true})
	require.NoError(t, err)
	_, err = c2.Send(ctx, request(provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}))
	requireKind(t, err, provider.Indeterminate)
	assert.ErrorIs(t, err, context.Canceled)
}

func TestCapabilities(t *testing.T) {
	c := newHarness(t).client
	for _, p := range provider.Platforms() {
		caps := c.Capabilities(p)
		assert.Equal(t, 1000, caps.MaxTokens)
		if p == provider.IOS {
			assert.Equal(t, 2000, caps.MaxPayloadBytes, "JPush holds \"ios\":{…} to 2000 bytes")
		} else {
			assert.Equal(t, 4000, caps.MaxPayloadBytes)
		}
		assert.Equal(t, []provider.AudienceKind{provider.AudienceTokens, provider.AudienceBroadcast,
			provider.AudienceAliases, provider.AudienceFilter}, caps.Audiences)
		assert.Equal(t, provider.Polling{Interval: 10 * time.Minute, Horizon: 24 * time.Hour, DoneAtExpiry: true}, caps.Polling, "counts, not a final state")
		assert.Equal(t, 1, caps.CallsPerSend, "without cids")
		withCIDs := newHarness(t, func(c *Config) { c.DisableCID = false }).client.Capabilities(p)
		assert.Equal(t, 2, withCIDs.CallsPerSend, "with cids, a fetch of cids may come before the push")
		assert.Equal(t, 2*DefaultTimeout, withCIDs.SendTimeout, "two calls, each bounded by Config.Timeout")
		assert.Equal(t, DefaultTimeout, caps.SendTimeout, "one call, bounded by Config.Timeout")
		assert.Equal(t, 3*24*time.Hour, caps.MaxTimeToLive, "an app without JPush's VIP service")
		vip := newHarness(t, func(c *Config) { c.VIP = true }).client.Capabilities(p)
		assert.Equal(t, 10*24*time.Hour, vip.MaxTimeToLive, "a VIP app")
		assert.False(t, caps.NeedsAliasType, "JPush aliases have no type")
		assert.False(t, caps.TokenFailures, "1003 does not say which registration id")
		assert.NoError(t, caps.Validate())
	}
	assert.Equal(t, provider.Capabilities{}, c.Capabilities("web"))
}

// TestReportBaseURLFollowsACustomBaseURL: a client whose BaseURL is not
// JPush's (a fake, a gateway) polls the Report API there, never the real
// report host with the same credentials; an explicit ReportBaseURL wins.
func TestReportBaseURLFollowsACustomBaseURL(t *testing.T) {
	const detail = `[{"msg_id":"1828256757","jpush_received":1}]`
	for _, tc := range []struct{ base, report, want string }{
		{"https://gw.example.com/jpush/", "", "https://gw.example.com/jpush/v3/received/detail"},
		{"http://127.0.0.1:8080", "", "http://127.0.0.1:8080/v3/received/detail"},
		{DefaultBaseURL + "/", "", DefaultReportBaseURL + "/v3/received/detail"},
		{"https://api.jpush.cn:443", "", DefaultReportBaseURL + "/v3/received/detail"},
		{"https://bjapi.push.jiguang.cn", "", DefaultReportBaseURL + "/v3/received/detail"},
		{"", "", DefaultReportBaseURL + "/v3/received/detail"},
		{"https://gw.example.com", "https://report.example.com", "https://report.example.com/v3/received/detail"},
	} {
		mt := httpmock.NewMockTransport()
		mt.RegisterRegexpResponder(http.MethodGet, regexp.MustCompile(`^`+regexp.QuoteMeta(tc.want)),
			httpmock.NewStringResponder(200, detail))
		c, err := New(Config{AppKey: testAppKey, MasterSecret: testSecret, BaseURL: tc.base, ReportBaseURL: tc.report,
			HTTPClient: &http.Client{Transport: mt}})
		require.NoError(t, err)
		_, err = c.Status(context.Background(), provider.Android, "1828256757")
		require.NoError(t, err, "base %q report %q: want a poll of %s", tc.base, tc.report, tc.want)
		assert.Equal(t, 1, mt.GetTotalCallCount(), tc.want)
	}
}
