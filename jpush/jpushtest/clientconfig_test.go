package jpushtest_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
)

func pushTo(t *testing.T, cfg jpush.Config, rid string) (*jpush.Client, *provider.Receipt) {
	t.Helper()
	c, err := jpush.New(cfg)
	require.NoError(t, err)
	rc, err := c.Send(t.Context(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{rid}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	return c, rc
}

// TestClientConfig: a client made from ClientConfig pushes to the fake and
// polls its Report API there too.
func TestClientConfig(t *testing.T) {
	s := jpushtest.NewServer(t, jpushtest.Config{})
	cfg := s.ClientConfig()
	assert.Equal(t, s.URL, cfg.BaseURL)
	assert.Equal(t, s.URL, cfg.ReportBaseURL)
	assert.Equal(t, jpushtest.DefaultApps()[0].AppKey, cfg.AppKey)
	rid := jpushtest.RegistrationID("phone")
	c, rc := pushTo(t, cfg, rid)
	assert.Equal(t, 1, s.DeliveryCount(rid))
	_, err := c.Status(t.Context(), provider.Android, rc.ID)
	require.NoError(t, err)
	assert.Equal(t, 1, s.Arrived("/v3/received/detail"), "polled on the fake")
}

// TestClientConfigOfAMountedServer: a server not started has no URL, so
// ClientConfig panics rather than leave BaseURL empty (the real JPush);
// ClientConfigAt names where the host mounted it.
func TestClientConfigOfAMountedServer(t *testing.T) {
	s, err := jpushtest.New(jpushtest.Config{})
	require.NoError(t, err)
	assert.Panics(t, func() { s.ClientConfig() })
	assert.Panics(t, func() { s.ClientConfigAt("") })
	host := httptest.NewServer(s.Handler())
	defer host.Close()
	rid := jpushtest.RegistrationID("phone")
	pushTo(t, s.ClientConfigAt(host.URL), rid)
	assert.Equal(t, 1, s.DeliveryCount(rid))
}

// TestLogShowsTheClassNotTheSecrets: a push's log record names its class
// and the phone makers' channels it was sent with, and neither the
// master secret nor the registration id.
func TestLogShowsTheClassNotTheSecrets(t *testing.T) {
	var logs syncbuf.Buffer
	s := jpushtest.NewServer(t, jpushtest.Config{Logger: slog.New(slog.NewTextHandler(&logs, nil))})
	cfg := s.ClientConfig()
	cfg.ClassChannels = map[provider.Class]map[string]jpush.ThirdPartyChannel{provider.ClassService: {jpush.ChannelXiaomi: {ChannelID: "orders"}}}
	c, err := jpush.New(cfg)
	require.NoError(t, err)
	rid := jpushtest.RegistrationID("logged")
	_, err = c.Send(t.Context(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{rid}},
		Notification: provider.Notification{Title: "t", Body: "b", Class: provider.ClassService}})
	require.NoError(t, err)
	out := logs.String()
	assert.Contains(t, out, "classification=1")
	assert.Contains(t, out, "third_party_channel=map[xiaomi:map[channel_id:orders]]")
	assert.NotContains(t, out, rid)
	assert.NotContains(t, out, cfg.MasterSecret)
}
