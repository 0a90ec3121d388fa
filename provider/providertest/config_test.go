package providertest_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
)

func TestNewMockDefaults(t *testing.T) {
	m := newMock(t, providertest.MockConfig{})
	assert.Equal(t, providertest.DefaultMockName, m.Name())
	for _, p := range provider.Platforms() {
		assert.Equal(t, providertest.DefaultCapabilities(), m.Capabilities(p), "platform %s", p)
	}
	want := provider.Capabilities{
		MaxTokens: providertest.DefaultMaxTokens,
		Audiences: []provider.AudienceKind{
			provider.AudienceTokens, provider.AudienceBroadcast, provider.AudienceAliases,
			provider.AudienceFilter, provider.AudienceFile,
		},
		NeedsAliasType: true, // as Umeng's aliases; every other declaration zero
	}
	assert.Equal(t, want, providertest.DefaultCapabilities())
}

func TestNewMockCapabilities(t *testing.T) {
	ios := provider.Capabilities{MaxTokens: 2, MaxPayloadBytes: 100, Audiences: []provider.AudienceKind{provider.AudienceTokens}}
	cfg := providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{provider.IOS: ios}}
	m := newMock(t, cfg)

	// The Mock keeps its own copy: later edits to the config change nothing.
	cfg.Capabilities[provider.IOS].Audiences[0] = provider.AudienceFile
	cfg.Capabilities[provider.Android] = ios

	want := provider.Capabilities{MaxTokens: 2, MaxPayloadBytes: 100, Audiences: []provider.AudienceKind{provider.AudienceTokens}}
	assert.Equal(t, want, m.Capabilities(provider.IOS), "configured platform")
	assert.Equal(t, providertest.DefaultCapabilities(), m.Capabilities(provider.Android), "platform left to the default")
	assert.Equal(t, provider.Capabilities{}, m.Capabilities("windows"), "unknown platform")

	got := m.Capabilities(provider.IOS)
	got.Audiences[0] = provider.AudienceBroadcast
	assert.Equal(t, want, m.Capabilities(provider.IOS), "a caller's edit of the returned slice must not reach the Mock")
}

func TestNewMockInvalidConfig(t *testing.T) {
	caps := func(c provider.Capabilities) map[provider.Platform]provider.Capabilities {
		return map[provider.Platform]provider.Capabilities{provider.Android: c}
	}
	tokensOnly := []provider.AudienceKind{provider.AudienceTokens}
	tests := []struct {
		name    string
		cfg     providertest.MockConfig
		wantErr string
	}{
		{"upper-case name", providertest.MockConfig{Name: "Umeng"}, `MockConfig.Name: must be lower case letters, digits, '-' or '_', got "Umeng"`},
		{"name with a space", providertest.MockConfig{Name: "my mock"}, `MockConfig.Name`},
		{"unknown platform", providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{
			"windows": {MaxTokens: 1, Audiences: tokensOnly},
		}}, `MockConfig.Capabilities["windows"]: unknown platform`},
		{"zero MaxTokens", providertest.MockConfig{Capabilities: caps(provider.Capabilities{Audiences: tokensOnly})},
			`MockConfig.Capabilities["android"].MaxTokens: must be positive, got 0`},
		{"negative MaxPayloadBytes", providertest.MockConfig{Capabilities: caps(provider.Capabilities{MaxTokens: 1, MaxPayloadBytes: -1, Audiences: tokensOnly})},
			`MockConfig.Capabilities["android"].MaxPayloadBytes: must not be negative`},
		{"negative SendTimeout", providertest.MockConfig{Capabilities: caps(provider.Capabilities{MaxTokens: 1, SendTimeout: -time.Second, Audiences: tokensOnly})},
			`MockConfig.Capabilities["android"].SendTimeout: must not be negative`},
		{"negative poll interval", providertest.MockConfig{Capabilities: caps(provider.Capabilities{MaxTokens: 1, Polling: provider.Polling{Interval: -time.Second}, Audiences: tokensOnly})},
			`MockConfig.Capabilities["android"].Polling.Interval: must not be negative`},
		{"no audiences", providertest.MockConfig{Capabilities: caps(provider.Capabilities{MaxTokens: 1})},
			`MockConfig.Capabilities["android"].Audiences: must list at least one audience kind`},
		{"unknown audience", providertest.MockConfig{Capabilities: caps(provider.Capabilities{MaxTokens: 1, Audiences: []provider.AudienceKind{"everyone"}})},
			`MockConfig.Capabilities["android"].Audiences[0]: unknown audience kind "everyone"`},
		{"repeated audience", providertest.MockConfig{Capabilities: caps(provider.Capabilities{MaxTokens: 1, Audiences: []provider.AudienceKind{provider.AudienceTokens, provider.AudienceTokens}})},
			`MockConfig.Capabilities["android"].Audiences[1]: audience kind "tokens" listed twice`},
		{"unknown pollable kind", providertest.MockConfig{Pollable: []provider.AudienceKind{"everyone"}},
			`MockConfig.Pollable[0]: unknown audience kind "everyone"`},
		{"repeated pollable kind", providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceFile, provider.AudienceFile}},
			`MockConfig.Pollable[1]: audience kind "file" listed twice`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, err := providertest.NewMock(tt.cfg)
			require.Error(t, err)
			assert.Nil(t, m)
			assert.Contains(t, err.Error(), tt.wantErr)
		})
	}
}
