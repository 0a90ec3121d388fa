package umeng

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/jarcoal/httpmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestKindOfCode checks the code table row by row.
func TestKindOfCode(t *testing.T) {
	const (
		auth    = provider.Auth
		rate    = provider.RateLimited
		quota   = provider.QuotaExceeded
		token   = provider.InvalidToken
		temp    = provider.Temporary
		indet   = provider.Indeterminate
		invalid = provider.InvalidRequest
	)
	tests := []struct {
		code  string
		kind  provider.Kind
		known bool
	}{
		// Credentials, app state, whitelist, sign, clock, certificates.
		{"1000", auth, true}, {"1018", auth, true}, {"2000", auth, true},
		{"2004", auth, true}, {"2007", auth, true}, {"2021", auth, true},
		{"2027", auth, true}, {"2028", auth, true}, {"2032", auth, true},
		{"2033", auth, true}, {"2034", auth, true}, {"2035", auth, true},
		{"2054", auth, true}, {"4003", auth, true},
		{"4012", auth, true}, {"4015", auth, true}, {"4024", auth, true},
		{"5001", auth, true}, {"5007", auth, true}, {"5008", auth, true},
		{"5009", auth, true}, {"5010", auth, true},
		// Rate and quota.
		{"2026", rate, true}, {"2050", rate, true}, {"2012", quota, true},
		// Tokens.
		{"4010", token, true}, {"4014", token, true}, {"4020", token, true},
		{"4025", token, true}, {"4026", token, true}, {"5000", token, true},
		{"5005", token, true},
		// Umeng's own timeout: it may have taken the push.
		{"4021", indet, true},
		// Retryable.
		{"2013", temp, true}, {"2014", temp, true}, {"2020", temp, true},
		{"2023", temp, true}, {"3000", temp, true}, {"3001", temp, true},
		{"3002", temp, true}, {"3003", temp, true}, {"3004", temp, true},
		{"4000", temp, true}, {"4001", temp, true}, {"4009", temp, true},
		{"4023", temp, true}, {"5006", temp, true}, {"4002", temp, true},
		{"4013", temp, true}, {"4027", temp, true},
		{"6002", temp, true}, {"6003", temp, true}, {"6004", temp, true},
		// Request errors.
		{"1001", invalid, true}, {"1002", invalid, true}, {"1003", invalid, true},
		{"1004", invalid, true}, {"1005", invalid, true}, {"1006", invalid, true},
		{"1007", invalid, true}, {"1008", invalid, true}, {"1009", invalid, true},
		{"1010", invalid, true}, {"1011", invalid, true}, {"1012", invalid, true},
		{"1013", invalid, true}, {"1014", invalid, true}, {"1015", invalid, true},
		{"1016", invalid, true}, {"1017", invalid, true}, {"1019", invalid, true},
		{"1028", invalid, true}, {"2001", invalid, true}, {"2002", invalid, true},
		{"2003", invalid, true}, {"2009", invalid, true}, {"2010", invalid, true},
		{"2016", invalid, true},
		{"2018", invalid, true}, {"2019", invalid, true}, {"2022", invalid, true},
		{"2024", invalid, true}, {"2025", invalid, true}, {"2029", invalid, true},
		{"2031", invalid, true}, {"2036", invalid, true}, {"4018", invalid, true},
		{"2052", invalid, true}, {"4004", invalid, true}, {"4005", invalid, true},
		{"4006", invalid, true}, {"4007", invalid, true}, {"4008", invalid, true},
		{"4011", invalid, true}, {"4016", invalid, true}, {"4017", invalid, true},
		{"4019", invalid, true}, {"4022", invalid, true},
		{"5002", invalid, true},
		{"5003", invalid, true}, {"5004", invalid, true},
		// The rest of 1xxx and 2xxx are request errors.
		{"1099", invalid, true}, {"2008", invalid, true}, {"2999", invalid, true},
		// Anything else is left to the HTTP status.
		{"", provider.Unknown, false}, {"0999", provider.Unknown, false},
		{"3005", provider.Unknown, false}, {"4999", provider.Unknown, false},
		{"6000", provider.Unknown, false}, {"9999", provider.Unknown, false},
		{"abc", provider.Unknown, false},
	}
	for _, tt := range tests {
		t.Run(tt.code, func(t *testing.T) {
			kind, known := kindOfCode(tt.code)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.known, known)
		})
	}
}

// TestSendClassifiesAnswers runs Umeng's possible answers through Send.
func TestSendClassifiesAnswers(t *testing.T) {
	tests := []struct {
		name       string
		status     int
		header     http.Header
		body       string
		kind       provider.Kind
		code       string
		message    string
		retryAfter time.Duration
	}{
		{"code as string", 400, nil, `{"ret":"FAIL","data":{"error_code":"2027","error_msg":"bad sign"}}`, provider.Auth, "2027", "bad sign", 0},
		{"code as number", 400, nil, `{"ret":"FAIL","data":{"error_code":5000,"error_msg":"bad token"}}`, provider.InvalidToken, "5000", "bad token", 0},
		{"code as a padded string", 400, nil, `{"ret":"FAIL","data":{"error_code":" 2027 ","error_msg":"bad sign"}}`, provider.Auth, "2027", "bad sign", 0},
		{"rate code", 400, nil, `{"ret":"FAIL","data":{"error_code":"2050","error_msg":"too fast"}}`, provider.RateLimited, "2050", "too fast", 0},
		{"busy code on HTTP 200", 200, nil, `{"ret":"FAIL","data":{"error_code":"4001"}}`, provider.Temporary, "4001", "", 0},
		{"Umeng's own timeout", 400, nil, `{"ret":"FAIL","data":{"error_code":"4021","error_msg":"async timeout"}}`, provider.Indeterminate, "4021", "async timeout", 0},
		{"alias without devices", 400, nil, `{"ret":"FAIL","data":{"error_code":2010}}`, provider.InvalidRequest, "2010", "", 0},
		{"file address wrong", 400, nil, `{"ret":"FAIL","data":{"error_code":"4018"}}`, provider.InvalidRequest, "4018", "", 0},
		{"request code on HTTP 500", 500, nil, `{"ret":"FAIL","data":{"error_code":"2022","error_msg":"payload too long"}}`, provider.InvalidRequest, "2022", "payload too long", 0},
		{"unlisted code on HTTP 500", 500, nil, `{"ret":"FAIL","data":{"error_code":"9001"}}`, provider.Temporary, "9001", "", 0},
		{"unlisted code on HTTP 400", 400, nil, `{"ret":"FAIL","data":{"error_code":"9001"}}`, provider.Unknown, "9001", "", 0},
		{"HTTP 502 without body", 502, nil, ``, provider.Temporary, "", "unreadable answer", 0},
		{"HTTP 503 with Retry-After", 503, http.Header{"Retry-After": {"30"}}, `<html>busy</html>`, provider.Temporary, "", "unreadable answer", 30 * time.Second},
		{"HTTP 429 with seconds", 429, http.Header{"Retry-After": {"120"}}, ``, provider.RateLimited, "", "unreadable answer", 2 * time.Minute},
		{"HTTP 429 with a date", 429, http.Header{"Retry-After": {fixedNow.Add(90 * time.Second).Format(http.TimeFormat)}}, ``, provider.RateLimited, "", "unreadable answer", 90 * time.Second},
		{"HTTP 429 with a past date", 429, http.Header{"Retry-After": {fixedNow.Add(-time.Minute).Format(http.TimeFormat)}}, ``, provider.RateLimited, "", "unreadable answer", 0},
		{"HTTP 429 with junk Retry-After", 429, http.Header{"Retry-After": {"soon"}}, ``, provider.RateLimited, "", "unreadable answer", 0},
		{"HTTP 429 with a negative Retry-After", 429, http.Header{"Retry-After": {"-5"}}, ``, provider.RateLimited, "", "unreadable answer", 0},
		{"HTTP 429 with a request code", 429, nil, `{"ret":"FAIL","data":{"error_code":"2022"}}`, provider.RateLimited, "2022", "", 0},
		{"HTTP 401", 401, nil, ``, provider.Auth, "", "unreadable answer", 0},
		{"HTTP 403", 403, nil, `{}`, provider.Auth, "", "unreadable answer", 0},
		{"HTTP 413", 413, nil, ``, provider.InvalidRequest, "", "unreadable answer", 0},
		{"HTTP 404", 404, nil, `not found`, provider.Unknown, "", "unreadable answer", 0},
		{"HTTP 200 unreadable", 200, nil, `{"ret":`, provider.Indeterminate, "", "unreadable answer", 0},
		{"HTTP 204 without body", 204, nil, ``, provider.Indeterminate, "", "unreadable answer", 0},
		{"HTTP 299 unreadable", 299, nil, `{"ret":`, provider.Indeterminate, "", "unreadable answer", 0},
		{"HTTP 200 SUCCESS without ids", 200, nil, `{"ret":"SUCCESS","data":{}}`, provider.Indeterminate, "", "success answer without msg_id or task_id", 0},
		{"HTTP 200 SUCCESS without data", 200, nil, `{"ret":"SUCCESS"}`, provider.Indeterminate, "", "success answer without msg_id or task_id", 0},
		{"SUCCESS on HTTP 400", 400, nil, `{"ret":"SUCCESS","data":{"msg_id":"uu1"}}`, provider.Unknown, "", "success answer with HTTP status 400", 0},
		{"FAIL without data", 400, nil, `{"ret":"FAIL"}`, provider.Unknown, "", "", 0},
		{"FAIL without code on HTTP 200", 200, nil, `{"ret":"FAIL","data":{"error_msg":"no"}}`, provider.Unknown, "", "no", 0},
		{"unlisted code on HTTP 200", 200, nil, `{"ret":"FAIL","data":{"error_code":"7001"}}`, provider.Unknown, "7001", "", 0},
		{"null code", 400, nil, `{"ret":"FAIL","data":{"error_code":null}}`, provider.Unknown, "", "", 0},
		{"code of the wrong type", 400, nil, `{"ret":"FAIL","data":{"error_code":true}}`, provider.Unknown, "", "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.respondAt(DefaultBaseURL+"/api/send", func(*http.Request) (*http.Response, error) {
				resp := httpmock.NewStringResponse(tt.status, tt.body)
				for k, v := range tt.header {
					resp.Header[k] = v
				}
				return resp, nil
			})
			rc, err := h.client.Send(context.Background(), unicast(provider.Android))
			assert.Nil(t, rc)
			pe := requireKind(t, err, tt.kind)
			assert.Equal(t, opSend, pe.Op)
			assert.Equal(t, tt.code, pe.Code)
			assert.Equal(t, tt.message, pe.Message)
			assert.Equal(t, tt.status, pe.HTTPStatus)
			assert.Equal(t, tt.retryAfter, pe.RetryAfter)
			assert.True(t, errors.Is(err, tt.kind))
		})
	}
}

// TestPartialSendIsAccepted: 4026 (sent to some tokens, not all) answers a
// send that happened, so Send returns it as a receipt carrying Umeng's
// answer, with the ids Umeng gave if any; on another call it stays an error.
func TestPartialSendIsAccepted(t *testing.T) {
	tests := []struct {
		name, body, id string
		pollable       bool
	}{
		{"no ids", `{"ret":"FAIL","data":{"error_code":"4026","error_msg":"device-token部分失败"}}`, "", false},
		{"code as number with msg_id", `{"ret":"FAIL","data":{"error_code":4026,"msg_id":"uu7"}}`, "uu7", false},
		{"with task_id", `{"ret":"FAIL","data":{"error_code":"4026","task_id":"us9"}}`, "us9", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.respond("/api/send", 400, tt.body)
			rc, err := h.client.Send(context.Background(), request(provider.Android,
				provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"t1", "t2", "t3"}}))
			require.NoError(t, err)
			assert.Equal(t, tt.id, rc.ID)
			assert.Equal(t, tt.pollable, rc.Pollable)
			assert.Empty(t, rc.Failures, "Umeng names no token")
			assert.Contains(t, string(rc.Raw), "4026")
		})
	}
	t.Run("status answered 4026 is an error", func(t *testing.T) {
		h := newHarness(t)
		h.respond("/api/status", 400, `{"ret":"FAIL","data":{"error_code":"4026"}}`)
		_, err := h.client.Status(context.Background(), provider.Android, "us9")
		requireKind(t, err, provider.InvalidToken)
	})
}

func TestErrorMessagesAreScrubbedAndBounded(t *testing.T) {
	h := newHarness(t)
	long := make([]byte, 0, 600)
	for len(long) < 600 {
		long = append(long, "错误"...)
	}
	h.respond("/api/send", 400, `{"ret":"FAIL","data":{"error_code":"2027","error_msg":"secret `+androidSecret+` `+string(long)+`"}}`)
	_, err := h.client.Send(context.Background(), unicast(provider.Android))
	pe := requireKind(t, err, provider.Auth)
	assert.NotContains(t, pe.Message, androidSecret)
	assert.Contains(t, pe.Message, "secret REDACTED")
	assert.LessOrEqual(t, len(pe.Message), maxMessageBytes+len("…"))
	assert.True(t, utf8.ValidString(pe.Message))
}

func TestUnconfiguredPlatformIsAuth(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.IOS = App{} })
	ctx := context.Background()

	_, err := h.client.Send(ctx, unicast(provider.IOS))
	pe := requireKind(t, err, provider.Auth)
	assert.Equal(t, opSend, pe.Op)
	assert.Equal(t, "platform", provider.FieldOf(err))
	assert.Contains(t, err.Error(), "ios")

	err = h.client.Validate(unicast(provider.IOS))
	pe = requireKind(t, err, provider.Auth)
	assert.Equal(t, opValidate, pe.Op)
	assert.Equal(t, "platform", provider.FieldOf(err))
	require.NoError(t, h.client.Validate(unicast(provider.Android)), "the configured platform is still valid")

	_, err = h.client.Status(ctx, provider.IOS, "us1")
	assert.Equal(t, opStatus, requireKind(t, err, provider.Auth).Op)
	err = h.client.Cancel(ctx, provider.IOS, "us1")
	assert.Equal(t, opCancel, requireKind(t, err, provider.Auth).Op)
	_, err = h.client.Upload(ctx, provider.IOS, []string{"t"})
	assert.Equal(t, opUpload, requireKind(t, err, provider.Auth).Op)
	_, err = h.client.Post(ctx, provider.IOS, "/api/quota/query", []byte(`{}`))
	assert.Equal(t, opPost, requireKind(t, err, provider.Auth).Op)
	h.requireNoCall(t)
}

func TestPostRejectsBadInput(t *testing.T) {
	tests := []struct {
		name     string
		platform provider.Platform
		path     string
		body     string
		field    string
	}{
		{"unknown platform", "web", "/api/send", `{}`, "platform"},
		{"relative path", provider.Android, "api/send", `{}`, "path"},
		{"path with query", provider.Android, "/api/send?x=1", `{}`, "path"},
		{"body not JSON", provider.Android, "/api/send", `{`, "body"},
		{"body not an object", provider.Android, "/api/send", `[1]`, "body"},
		{"empty body", provider.Android, "/api/send", ``, "body"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.client.Post(context.Background(), tt.platform, tt.path, []byte(tt.body))
			requireField(t, err, tt.field)
			h.requireNoCall(t)
		})
	}
}

func TestPostReturnsData(t *testing.T) {
	h := newHarness(t)
	h.respond("/api/quota/query", http.StatusOK, `{"ret":"SUCCESS","data":{"quota":"10"}}`)
	data, err := h.client.Post(context.Background(), provider.Android, "/api/quota/query", []byte(`{"appkey":"k"}`))
	require.NoError(t, err)
	assert.JSONEq(t, `{"quota":"10"}`, string(data))

	h.respond("/api/tag/add", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":"2017"}}`)
	_, err = h.client.Post(context.Background(), provider.Android, "/api/tag/add", []byte(`{}`))
	pe := requireKind(t, err, provider.InvalidRequest)
	assert.Equal(t, opPost, pe.Op)
	assert.Equal(t, "2017", pe.Code)
}
