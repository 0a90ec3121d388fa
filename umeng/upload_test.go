package umeng

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestUpload(t *testing.T) {
	for _, p := range provider.Platforms() {
		t.Run(string(p), func(t *testing.T) {
			h := newHarness(t)
			h.respond("/upload", http.StatusOK, okUpload)

			id, err := h.client.Upload(context.Background(), p, []string{"t1", "t2"})
			require.NoError(t, err)
			assert.Equal(t, "PF0000000000000001", id)

			call := h.only(t)
			assert.Equal(t, "/upload", call.path)
			var body uploadBody
			require.NoError(t, json.Unmarshal(call.body, &body))
			assert.Equal(t, "t1\nt2\n", body.Content)
			assert.Equal(t, "1714528984000", body.Timestamp)
		})
	}
}

func TestUploadRejectsBadLines(t *testing.T) {
	huge := make([]string, 0, 170000)
	for len(huge) < cap(huge) {
		huge = append(huge, strings.Repeat("a", 63))
	}
	tests := []struct {
		name     string
		platform provider.Platform
		lines    []string
		field    string
	}{
		{"unknown platform", "", []string{"t1"}, "platform"},
		{"no lines", provider.Android, nil, "tokens"},
		{"empty line", provider.Android, []string{"t1", ""}, "tokens[1]"},
		{"line with newline", provider.IOS, []string{"t1\nt2"}, "tokens[0]"},
		{"line with comma", provider.IOS, []string{"t1,t2"}, "tokens[0]"},
		{"over 10 MB", provider.Android, huge, "tokens"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			id, err := h.client.Upload(context.Background(), tt.platform, tt.lines)
			assert.Empty(t, id)
			requireField(t, err, tt.field)
			h.requireNoCall(t)
		})
	}
}

func TestUploadErrors(t *testing.T) {
	tests := []struct {
		name   string
		status int
		answer string
		kind   provider.Kind
		code   string
	}{
		{"retry", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":"2023"}}`, provider.Temporary, "2023"},
		{"no content", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":"2029"}}`, provider.InvalidRequest, "2029"},
		{"success without file_id", http.StatusOK, `{"ret":"SUCCESS","data":{}}`, provider.Unknown, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.respond("/upload", tt.status, tt.answer)
			_, err := h.client.Upload(context.Background(), provider.Android, []string{"t1"})
			pe := requireKind(t, err, tt.kind)
			assert.Equal(t, opUpload, pe.Op)
			assert.Equal(t, tt.code, pe.Code)
		})
	}
}

func TestFilecastStrategy(t *testing.T) {
	filecast := func(c *Config) { c.Strategy = StrategyFilecast }
	r := func() *provider.Request {
		return request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1", "t2"}})
	}

	t.Run("uploads, then sends a pollable filecast", func(t *testing.T) {
		h := newHarness(t, filecast)
		h.respond("/upload", http.StatusOK, okUpload)
		h.respond("/api/send", http.StatusOK, okTask)

		rc, err := h.client.Send(context.Background(), r())
		require.NoError(t, err)
		assert.True(t, rc.Pollable)
		assert.Equal(t, "ustest0000000000000001", rc.ID)
		assert.Empty(t, rc.Failures)

		calls := h.requests()
		require.Len(t, calls, 2)
		assert.Equal(t, "/upload", calls[0].path)
		assert.Contains(t, string(calls[0].body), `"content":"t1\nt2\n"`)
		assert.Equal(t, "/api/send", calls[1].path)
		assert.Contains(t, string(calls[1].body), `"file_id":"PF0000000000000001"`)
	})

	t.Run("a failed upload sends nothing", func(t *testing.T) {
		h := newHarness(t, filecast)
		h.respond("/upload", http.StatusServiceUnavailable, ``)
		h.respond("/api/send", http.StatusOK, okTask)

		_, err := h.client.Send(context.Background(), r())
		pe := requireKind(t, err, provider.Temporary)
		assert.Equal(t, opUpload, pe.Op)
		require.Len(t, h.requests(), 1)
	})

	t.Run("a failed send after the upload", func(t *testing.T) {
		h := newHarness(t, filecast)
		h.respond("/upload", http.StatusOK, okUpload)
		h.respond("/api/send", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":"2050"}}`)

		_, err := h.client.Send(context.Background(), r())
		pe := requireKind(t, err, provider.RateLimited)
		assert.Equal(t, opSend, pe.Op)
		assert.Len(t, h.requests(), 2)
	})
}
