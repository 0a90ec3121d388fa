package umeng

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
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

// TestUploadLimitIsExact: a file of exactly 10 MiB (maxUploadBytes, the
// newlines counted) is uploaded, by Upload and by a filecast's Send; a
// byte more is refused before any call.
func TestUploadLimitIsExact(t *testing.T) {
	lines := func(extra int) []string {
		out := make([]string, 160) // 160 lines of 65,536 bytes with their newlines: 10 MiB
		for i := range out {
			out[i] = strings.Repeat("a", 65535-len(strconv.Itoa(i))) + strconv.Itoa(i)
		}
		out[0] += strings.Repeat("a", extra)
		return out
	}
	require.Equal(t, maxUploadBytes, provider.FileBytes(lines(0)))

	t.Run("Upload", func(t *testing.T) {
		h := newHarness(t)
		h.respond("/upload", http.StatusOK, okUpload)
		_, err := h.client.Upload(context.Background(), provider.Android, lines(0))
		require.NoError(t, err)
		h.only(t)

		h = newHarness(t)
		_, err = h.client.Upload(context.Background(), provider.Android, lines(1))
		requireField(t, err, "tokens")
		h.requireNoCall(t)
	})

	t.Run("filecast", func(t *testing.T) {
		filecast := func(c *Config) { c.Strategy = StrategyFilecast }
		send := func(extra int) *provider.Request {
			return request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: lines(extra)})
		}
		h := newHarness(t, filecast)
		h.respond("/upload", http.StatusOK, okUpload)
		h.respond("/api/send", http.StatusOK, okTask)
		_, err := h.client.Send(context.Background(), send(0))
		require.NoError(t, err)
		assert.Len(t, h.requests(), 2)

		newHarness(t, filecast).requireRefused(t, send(1), "audience.tokens")
	})
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

// With FilecastThreshold set, a Send of more than MaxTokens tokens (a batch
// the Service made by file) is uploaded and sent as one filecast, up to
// MaxFileTokens; up to MaxTokens tokens still go as a listcast; without the
// threshold, more than MaxTokens are refused before any call.
func TestFilecastThreshold(t *testing.T) {
	byFile := func(c *Config) { c.FilecastThreshold = 10000 }
	tokens := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("A%043d", i)
		}
		return out
	}
	send := func(n int) *provider.Request {
		return request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: tokens(n)})
	}

	t.Run("capabilities", func(t *testing.T) {
		caps := newHarness(t, byFile).client.Capabilities(provider.Android)
		assert.Equal(t, 10000, caps.FileThreshold)
		assert.Equal(t, MaxFileTokens, caps.MaxFileTokens)
		assert.Equal(t, 2, caps.CallsPerSend)
		require.NoError(t, caps.Validate())
		assert.Equal(t, MaxFileTokens, caps.BatchSize(10000))
		assert.Equal(t, MaxTokens, caps.BatchSize(9999))
		off := newHarness(t).client.Capabilities(provider.Android)
		assert.Zero(t, off.FileThreshold)
		assert.Equal(t, MaxTokens, off.MaxSendTokens())
		assert.Equal(t, 1, off.CallsPerSend)
	})

	t.Run("a batch by file is one upload and one filecast", func(t *testing.T) {
		h := newHarness(t, byFile)
		h.respond("/upload", http.StatusOK, okUpload)
		h.respond("/api/send", http.StatusOK, okTask)
		rc, err := h.client.Send(context.Background(), send(MaxFileTokens))
		require.NoError(t, err)
		assert.True(t, rc.Pollable)
		calls := h.requests()
		require.Len(t, calls, 2)
		assert.Equal(t, "/upload", calls[0].path)
		var up uploadBody
		require.NoError(t, json.Unmarshal(calls[0].body, &up))
		assert.Equal(t, strings.Join(tokens(MaxFileTokens), "\n")+"\n", up.Content)
		assert.Contains(t, string(calls[1].body), `"type":"filecast"`)
		assert.Contains(t, string(calls[1].body), `"file_id":"PF0000000000000001"`)
		assert.NotContains(t, string(calls[1].body), "device_tokens")
	})

	t.Run("up to MaxTokens is still a listcast", func(t *testing.T) {
		h := newHarness(t, byFile)
		h.respond("/api/send", http.StatusOK, okMsg)
		_, err := h.client.Send(context.Background(), send(MaxTokens))
		require.NoError(t, err)
		assert.Contains(t, string(h.only(t).body), `"type":"listcast"`)
	})

	t.Run("refused before any call", func(t *testing.T) {
		h := newHarness(t, byFile)
		h.requireRefused(t, send(MaxFileTokens+1), "audience.tokens")
		long := request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: make([]string, 600)})
		for i := range long.Audience.Tokens {
			long.Audience.Tokens[i] = strings.Repeat("t", 20<<10) + fmt.Sprint(i) // 600 × 20 KiB: over 10 MB
		}
		h.requireRefused(t, long, "audience.tokens")
		newHarness(t).requireRefused(t, send(MaxTokens+1), "audience.tokens")
	})

	t.Run("config", func(t *testing.T) {
		for _, n := range []int{-1, 1, MaxTokens} {
			_, err := New(Config{Android: App{AppKey: androidKey, AppMasterSecret: androidSecret}, FilecastThreshold: n})
			var fe *provider.FieldError
			require.ErrorAs(t, err, &fe, "threshold %d", n)
			assert.Equal(t, "filecast_threshold", fe.Field)
		}
	})
}

// encodeUpload writes what encoding/json writes for the same uploadBody,
// whether the lines are plain (written straight into the buffer) or not.
func TestEncodeUploadWritesWhatJSONWrites(t *testing.T) {
	many := make([]string, 40000)
	for i := range many {
		many[i] = fmt.Sprintf("A%043d", i)
	}
	for name, lines := range map[string][]string{
		"one":          {"tok"},
		"html":         {"a<b>", "c&d"},
		"40,000":       many,
		"a quote":      {`a"b`, "c"},
		"a backslash":  {`a\b`},
		"non-ASCII":    {"令牌", "x"},
		"a line break": {"a\u2028b"},
	} {
		t.Run(name, func(t *testing.T) {
			var content strings.Builder
			for _, l := range lines {
				content.WriteString(l + "\n")
			}
			want, err := marshal(uploadBody{AppKey: "k<>", Timestamp: "1714528984000", Content: content.String()})
			require.NoError(t, err)
			plain := true
			for _, l := range lines {
				plain = plain && plainListItem(l)
			}
			got, err := encodeUpload("k<>", "1714528984000", lines, plain)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got))
			got, err = encodeUpload("k<>", "1714528984000", lines, false)
			require.NoError(t, err)
			assert.Equal(t, string(want), string(got), "the encoder's way, for lines not known plain")
		})
	}
}
