package providertest_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
)

// newMock returns a Mock for cfg, failing t on a config error.
func newMock(t *testing.T, cfg providertest.MockConfig) *providertest.Mock {
	t.Helper()
	m, err := providertest.NewMock(cfg)
	require.NoError(t, err)
	return m
}

// mockToken is the i-th token the Mock harness hands out for p.
func mockToken(p provider.Platform, i int) string { return fmt.Sprintf("%s-token-%d", p, i) }

// mockHarness connects the suite to m as its own backend, with p as the
// provider under test: m itself, or a wrapper around it.
func mockHarness(m *providertest.Mock, p provider.Provider) *providertest.Harness {
	return &providertest.Harness{
		Provider:  p,
		Platforms: provider.Platforms(),
		Token:     mockToken,
		Calls:     m.Calls,
		Fault: func(k provider.Kind) bool {
			m.FailNext(1, m.Err(k, "providertest-fault"))
			return true
		},
		Invalidate: func(_ provider.Platform, token string) { m.MarkInvalid(token) },
		Stall: func() (<-chan struct{}, func()) {
			stalled := make(chan struct{})
			release := make(chan struct{})
			var once sync.Once
			m.SetSendFunc(func(ctx context.Context, _ *provider.Request) (*provider.Receipt, error) {
				once.Do(func() { close(stalled) })
				select {
				case <-release:
					return nil, nil
				case <-ctx.Done():
					return nil, ctx.Err()
				}
			})
			return stalled, func() {
				m.SetSendFunc(nil)
				close(release)
			}
		},
	}
}

func TestMockConformance(t *testing.T) {
	configs := []struct {
		name string
		cfg  providertest.MockConfig
	}{
		{"Default", providertest.MockConfig{}},
		{"PollableTasks", providertest.MockConfig{
			Name:     "tasks",
			Pollable: []provider.AudienceKind{provider.AudienceBroadcast, provider.AudienceFilter, provider.AudienceFile},
		}},
		{"AllPollable", providertest.MockConfig{
			Name:     "all-pollable",
			Pollable: []provider.AudienceKind{provider.AudienceTokens, provider.AudienceBroadcast},
		}},
		{"Narrow", providertest.MockConfig{
			Name: "narrow",
			Capabilities: map[provider.Platform]provider.Capabilities{
				provider.IOS:     {MaxTokens: 1, MaxPayloadBytes: 2012, Audiences: []provider.AudienceKind{provider.AudienceTokens}},
				provider.Android: {MaxTokens: 3, Audiences: []provider.AudienceKind{provider.AudienceTokens, provider.AudienceAliases}},
			},
		}},
		{"Declared", providertest.MockConfig{
			Name:     "declared",
			Pollable: []provider.AudienceKind{provider.AudienceTokens},
			Capabilities: map[provider.Platform]provider.Capabilities{
				provider.IOS: {MaxTokens: 200, Audiences: []provider.AudienceKind{provider.AudienceTokens, provider.AudienceAliases},
					Polling: provider.Polling{Interval: 10 * time.Minute, Horizon: 24 * time.Hour}, TokenFailures: true,
					CallsPerSend: 4, SendTimeout: 2 * time.Minute, MaxTimeToLive: 72 * time.Hour},
				provider.Android: {MaxTokens: 1000, Audiences: []provider.AudienceKind{provider.AudienceTokens, provider.AudienceAliases},
					Polling: provider.Polling{Disabled: true}, MaxTimeToLive: 240 * time.Hour},
			},
		}},
	}
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			providertest.Run(t, func(t *testing.T) *providertest.Harness {
				m := newMock(t, c.cfg)
				return mockHarness(m, m)
			})
		})
	}
}
