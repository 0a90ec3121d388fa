package umeng

import (
	"context"
	"encoding/json"
	"net/http"
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
			name:     "max_send_num",
			audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1"}},
			edit: func(r *provider.Request) {
				r.Overrides = map[string]any{Name: &Options{MaxSendNum: 20}}
			},
			want: map[string]any{"max_send_num": float64(20)},
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
			_, err := h.client.Send(context.Background(), r)
			requireField(t, err, "expire_time")
			h.requireNoCall(t)
		})
	}
}
