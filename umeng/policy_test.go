package umeng

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestBeijingTime(t *testing.T) {
	newYork := time.FixedZone("EST", -5*3600)
	tests := []struct {
		in   time.Time
		want string
	}{
		{time.Date(2024, 5, 1, 2, 3, 4, 0, time.UTC), "2024-05-01 10:03:04"},
		{time.Date(2024, 12, 31, 16, 30, 0, 999, time.UTC), "2025-01-01 00:30:00"},
		{time.Date(2024, 2, 28, 20, 0, 0, 0, newYork), "2024-02-29 09:00:00"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			assert.Equal(t, tt.want, beijingTime(tt.in))
		})
	}
}

// sentPolicy sends r and returns its policy object, nil when absent.
func sentPolicy(t *testing.T, r *provider.Request) map[string]any {
	t.Helper()
	h := newHarness(t)
	h.respond("/api/send", http.StatusOK, okTask)
	_, err := h.client.Send(context.Background(), r)
	require.NoError(t, err)
	var body struct {
		Policy map[string]any `json:"policy"`
	}
	require.NoError(t, json.Unmarshal(h.only(t).body, &body))
	return body.Policy
}

func TestPolicy(t *testing.T) {
	broadcast := provider.Audience{Kind: provider.AudienceBroadcast}
	tests := []struct {
		name     string
		audience provider.Audience
		edit     func(*provider.Request)
		want     map[string]any
	}{
		{
			name:     "task cast carries out_biz_no",
			audience: broadcast,
			want:     map[string]any{"out_biz_no": "push-7-chunk-0"},
		},
		{
			name:     "unicast does not",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1"}},
			want:     nil,
		},
		{
			name:     "listcast does not",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1", "t2"}},
			want:     nil,
		},
		{
			name:     "customizedcast by alias does not",
			audience: provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"a"}},
			want:     nil,
		},
		{
			name:     "no idempotency key",
			audience: broadcast,
			edit:     func(r *provider.Request) { r.IdempotencyKey = "" },
			want:     nil,
		},
		{
			name:     "future start and expiry in Beijing time",
			audience: broadcast,
			edit: func(r *provider.Request) {
				r.StartTime = fixedNow.Add(24 * time.Hour)
				r.ExpireTime = fixedNow.Add(8 * 24 * time.Hour) // 7 days after the start
			},
			want: map[string]any{
				"start_time":  "2024-05-02 10:03:04",
				"expire_time": "2024-05-09 10:03:04",
				"out_biz_no":  "push-7-chunk-0",
			},
		},
		{
			name:     "a start that passed is left out",
			audience: broadcast,
			edit: func(r *provider.Request) {
				r.IdempotencyKey = ""
				r.StartTime = fixedNow.Add(-time.Hour)
				r.ExpireTime = fixedNow.Add(time.Hour)
			},
			want: map[string]any{"expire_time": "2024-05-01 11:03:04"},
		},
		{
			name:     "a start of exactly now is left out",
			audience: broadcast,
			edit: func(r *provider.Request) {
				r.IdempotencyKey = ""
				r.StartTime = fixedNow
			},
			want: nil,
		},
		{
			name:     "max_send_num at Umeng's minimum",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1"}},
			edit: func(r *provider.Request) {
				r.Overrides = map[string]any{Name: &Options{MaxSendNum: MinMaxSendNum}}
			},
			want: map[string]any{"max_send_num": float64(1000)},
		},
		{
			name:     "a passed start on a unicast goes at once",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1"}},
			edit:     func(r *provider.Request) { r.StartTime = fixedNow.Add(-time.Hour) },
			want:     nil,
		},
		{
			name:     "a start under a minute ahead on a listcast goes at once",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1", "t2"}},
			edit:     func(r *provider.Request) { r.StartTime = fixedNow.Add(59 * time.Second) },
			want:     nil,
		},
		{
			name:     "a start exactly a minute ahead on a task cast",
			audience: broadcast,
			edit:     func(r *provider.Request) { r.IdempotencyKey, r.StartTime = "", fixedNow.Add(time.Minute) },
			want:     map[string]any{"start_time": "2024-05-01 10:04:04"},
		},
		{
			name:     "a start exactly 7 days ahead on a task cast",
			audience: broadcast,
			edit:     func(r *provider.Request) { r.IdempotencyKey, r.StartTime = "", fixedNow.Add(7*24*time.Hour) },
			want:     map[string]any{"start_time": "2024-05-08 10:03:04"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := request(provider.Android, tt.audience)
			if tt.edit != nil {
				tt.edit(r)
			}
			assert.Equal(t, tt.want, sentPolicy(t, r))
		})
	}
}

func TestPolicyRejectsBadTimes(t *testing.T) {
	tests := []struct {
		name   string
		start  time.Time
		expire time.Time
	}{
		{"expiry in the past", time.Time{}, fixedNow.Add(-time.Second)},
		{"expiry now", time.Time{}, fixedNow},
		{"expiry over 7 days from now", time.Time{}, fixedNow.Add(7*24*time.Hour + time.Second)},
		{"expiry over 7 days from the start", fixedNow.Add(time.Hour), fixedNow.Add(time.Hour + 7*24*time.Hour + time.Second)},
		{"expiry before the start", fixedNow.Add(2 * time.Hour), fixedNow.Add(time.Hour)},
		{"expiry after a past start but in the past", fixedNow.Add(-2 * time.Hour), fixedNow.Add(-time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			r := request(provider.IOS, provider.Audience{Kind: provider.AudienceBroadcast})
			r.StartTime, r.ExpireTime = tt.start, tt.expire
			h.requireRefused(t, r, "expire_time")
		})
	}
}

// TestPolicyStartLead checks, on an injected clock with a fraction of a
// second, that start_time is sent only when it is at least a minute ahead
// once truncated to the second, as Umeng reads it.
func TestPolicyStartLead(t *testing.T) {
	now := fixedNow.Add(500 * time.Millisecond) // 10:03:04.5 in Beijing
	tests := []struct {
		name  string
		start time.Time
		want  string // start_time sent; "" for none
	}{
		{"a second ahead", now.Add(time.Second), ""},
		{"59.9 seconds ahead", now.Add(59900 * time.Millisecond), ""},
		{"60.2 seconds ahead, 59.5 once truncated", now.Add(60200 * time.Millisecond), ""},
		{"60.5 seconds ahead, still a minute once truncated", now.Add(60500 * time.Millisecond), "2024-05-01 10:04:05"},
		{"an hour ahead", now.Add(time.Hour), "2024-05-01 11:03:04"},
		{"half a second ago", now.Add(-500 * time.Millisecond), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Now = func() time.Time { return now } })
			h.respond("/api/send", http.StatusOK, okTask)
			r := request(provider.Android, provider.Audience{Kind: provider.AudienceBroadcast})
			r.IdempotencyKey, r.StartTime = "", tt.start
			_, err := h.client.Send(context.Background(), r)
			require.NoError(t, err)
			var body struct {
				Policy map[string]any `json:"policy"`
			}
			require.NoError(t, json.Unmarshal(h.only(t).body, &body))
			if tt.want == "" {
				assert.Nil(t, body.Policy)
				return
			}
			assert.Equal(t, map[string]any{"start_time": tt.want}, body.Policy)
		})
	}
}

// TestPolicyRejectsBadStarts checks the schedules Umeng would ignore or
// refuse: a start on a cast that is not a task, where Umeng sends at once,
// and a start more than seven days ahead.
func TestPolicyRejectsBadStarts(t *testing.T) {
	tokensOf := func(n int) provider.Audience {
		return provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(n)}
	}
	tests := []struct {
		name     string
		strategy Strategy
		audience provider.Audience
		start    time.Time
	}{
		{"unicast scheduled a minute ahead", StrategyListcast, tokensOf(1), fixedNow.Add(time.Minute)},
		{"listcast scheduled an hour ahead", StrategyListcast, tokensOf(3), fixedNow.Add(time.Hour)},
		{"customizedcast by alias scheduled", StrategyListcast,
			provider.Audience{Kind: provider.AudienceAliases, AliasType: "user_num", Aliases: []string{"u1"}}, fixedNow.Add(time.Hour)},
		{"broadcast over 7 days ahead", StrategyListcast,
			provider.Audience{Kind: provider.AudienceBroadcast}, fixedNow.Add(7*24*time.Hour + time.Second)},
		{"filecast by upload over 7 days ahead", StrategyFilecast, tokensOf(2), fixedNow.Add(8 * 24 * time.Hour)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t, func(c *Config) { c.Strategy = tt.strategy })
			r := request(provider.Android, tt.audience)
			r.StartTime = tt.start
			h.requireRefused(t, r, "start_time")
		})
	}
}

// TestStrategyFilecastSchedulesTokens shows the way to schedule a push to
// tokens: the filecast strategy makes it a task, which carries start_time.
func TestStrategyFilecastSchedulesTokens(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Strategy = StrategyFilecast })
	h.respond("/upload", http.StatusOK, okUpload)
	h.respond("/api/send", http.StatusOK, okTask)
	r := request(provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(1)})
	r.StartTime = fixedNow.Add(2 * time.Hour)
	rc, err := h.client.Send(context.Background(), r)
	require.NoError(t, err)
	assert.True(t, rc.Pollable)
	calls := h.requests()
	require.Len(t, calls, 2)
	var body struct {
		Type   string         `json:"type"`
		Policy map[string]any `json:"policy"`
	}
	require.NoError(t, json.Unmarshal(calls[1].body, &body))
	assert.Equal(t, "filecast", body.Type)
	assert.Equal(t, "2024-05-01 12:03:04", body.Policy["start_time"])
}

func TestPolicyRejectsSmallMaxSendNum(t *testing.T) {
	for _, n := range []int{-1, 1, 100, MinMaxSendNum - 1} {
		t.Run(strconv.Itoa(n), func(t *testing.T) {
			h := newHarness(t)
			r := request(provider.Android, provider.Audience{Kind: provider.AudienceBroadcast})
			r.Overrides = map[string]any{Name: &Options{MaxSendNum: n}}
			h.requireRefused(t, r, "overrides.umeng.max_send_num")
			assert.Contains(t, h.client.Validate(r).Error(), "at least 1000")
		})
	}
}
