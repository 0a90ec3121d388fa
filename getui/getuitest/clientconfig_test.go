package getuitest_test

import (
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

func sendTo(t *testing.T, cfg getui.Config, cid string) error {
	t.Helper()
	c, err := getui.New(cfg)
	require.NoError(t, err)
	_, err = c.Send(t.Context(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	return err
}

// TestClientConfig: a client made from ClientConfig pushes to the fake; one
// given the fake's URL without the API's path is told what BaseURL wants.
func TestClientConfig(t *testing.T) {
	s := getuitest.NewServer(t, getuitest.Config{})
	cfg := s.ClientConfig()
	assert.Equal(t, s.BaseURL(), cfg.BaseURL)
	assert.Equal(t, getuitest.DefaultApps()[0].AppID, cfg.AppID)
	cid := getuitest.CID("phone")
	require.NoError(t, sendTo(t, cfg, cid))
	assert.Equal(t, 1, s.DeliveryCount(cid))

	cfg.BaseURL = s.URL
	err := sendTo(t, cfg, cid)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "BaseURL must be the server's URL + /v2")
}

// TestClientConfigOfAMountedServer: a server not started has no URL, so
// ClientConfig panics rather than give a bare path; ClientConfigAt names
// where the host mounted it.
func TestClientConfigOfAMountedServer(t *testing.T) {
	s, err := getuitest.New(getuitest.Config{})
	require.NoError(t, err)
	assert.Panics(t, func() { s.ClientConfig() })
	assert.Panics(t, func() { s.ClientConfigAt("") })
	host := httptest.NewServer(s.Handler())
	defer host.Close()
	cfg := s.ClientConfigAt(host.URL + "/")
	assert.Equal(t, host.URL+getuitest.BasePath, cfg.BaseURL)
	cid := getuitest.CID("phone")
	require.NoError(t, sendTo(t, cfg, cid))
	assert.Equal(t, 1, s.DeliveryCount(cid))
}
