package jpush

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestKindOfCode checks the code table row by row.
func TestKindOfCode(t *testing.T) {
	tests := []struct {
		code    int
		message string
		byToken bool
		want    provider.Kind
	}{
		{CodeInternal, "Server internal error", false, provider.Temporary},
		{CodeMethodNotAllowed, "only POST", false, provider.InvalidRequest},
		{CodeMissingParam, "Missing parameter", false, provider.InvalidRequest},
		{CodeInvalidParam, "Invalid parameter: platform", true, provider.InvalidRequest},
		{CodeInvalidParam, "registration_id is invalid: 123", false, provider.InvalidToken},
		{CodeInvalidParam, "Invalid registration_id", true, provider.InvalidToken},
		{CodeInvalidParam, "illegal registrationId value", false, provider.InvalidToken},
		{CodeInvalidParam, "registration id does not exist", false, provider.InvalidToken},
		{CodeInvalidParam, "unknown registration_id", false, provider.InvalidToken},
		{CodeInvalidParam, "wrong registration_id", false, provider.InvalidToken},
		{CodeInvalidParam, "registration_id: at most 1000", false, provider.InvalidRequest},
		{CodeAuthFailed, "Authen failed", false, provider.Auth},
		{CodeTooLarge, "msg too long", false, provider.InvalidRequest},
		{CodeBadAppKey, "app_key is invalid", false, provider.Auth},
		{CodeNoTarget, "cannot find user by this audience", true, provider.InvalidToken},
		{CodeNoTarget, "cannot find user by this audience", false, provider.InvalidRequest},
		{CodeHTTPSOnly, "only https", false, provider.InvalidRequest},
		{CodeInternalTimeout, "internal service timeout", false, provider.Temporary},
		{CodeRateLimited, "Request times is out of limit", false, provider.RateLimited},
		{CodeAppRestricted, "appkey restricted", false, provider.Auth},
		{CodeNoPermission, "no permission", false, provider.Auth},
		{CodeVolumeExceeded, "too many messages", false, provider.QuotaExceeded},
		{CodeMakerQuota, "vendor quota is not enough", true, provider.QuotaExceeded},
		{CodeNotVIP, "not VIP", false, provider.Auth},
		{CodeForbiddenAPI, "no permission to call this API", false, provider.Auth},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s/byToken=%t", tt.code, tt.message, tt.byToken), func(t *testing.T) {
			kind, ok := kindOfCode(tt.code, tt.message, tt.byToken)
			require.True(t, ok)
			assert.Equal(t, tt.want, kind)
		})
	}
	for _, code := range []int{0, 1006, 1009, 2008, 3001, 9999} {
		_, ok := kindOfCode(code, "", false)
		assert.False(t, ok, "code %d is not in the table", code)
	}
}

// TestSendErrorAnswers runs JPush answers through Send and checks the
// classified error: code, message, HTTP status, kind and RetryAfter.
func TestSendErrorAnswers(t *testing.T) {
	one := provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}
	two := provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(2)}
	tests := []struct {
		name       string
		audience   provider.Audience
		status     int
		body       string
		header     []string
		kind       provider.Kind
		code       string
		retryAfter time.Duration
	}{
		{"internal 500", one, 500, `{"error":{"code":1000,"message":"Server internal error"}}`, nil, provider.Temporary, "1000", 0},
		{"missing param", one, 400, `{"error":{"code":1002,"message":"Missing parameter"}}`, nil, provider.InvalidRequest, "1002", 0},
		{"invalid value", one, 400, `{"error":{"code":1003,"message":"Invalid parameter"}}`, nil, provider.InvalidRequest, "1003", 0},
		{"invalid rid", one, 400, `{"error":{"code":1003,"message":"registration_id is invalid"}}`, nil, provider.InvalidToken, "1003", 0},
		{"auth 401", one, 401, `{"error":{"code":1004,"message":"Authen failed"}}`, nil, provider.Auth, "1004", 0},
		{"too large", one, 400, `{"error":{"code":1005,"message":"msg too long"}}`, nil, provider.InvalidRequest, "1005", 0},
		{"bad app key", one, 400, `{"error":{"code":1008,"message":"app_key invalid"}}`, nil, provider.Auth, "1008", 0},
		{"no target, one token", one, 400, `{"error":{"code":1011,"message":"cannot find user by this audience"},"msg_id":"1828256757"}`, nil, provider.InvalidToken, "1011", 0},
		{"no target, two tokens, numeric msg_id", two, 400, `{"error":{"code":1011,"message":"cannot find user by this audience"},"msg_id":1828256757}`, nil, provider.InvalidToken, "1011", 0},
		{"no target, 200 with msg_id", one, 200, `{"msg_id":"1828256757","error":{"code":"1011","message":"cannot find user by this audience"}}`, nil, provider.InvalidToken, "1011", 0},
		{"timeout 503", one, 503, `{"error":{"code":1030,"message":"internal service timeout"}}`, nil, provider.Temporary, "1030", 0},
		{"rate docs headers", one, 429, `{"error":{"code":2002,"message":"Request times is out of limit"}}`,
			[]string{"X-Rate-Limit-Quota", "600", "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "17"}, provider.RateLimited, "2002", 17 * time.Second},
		{"rate sdk headers", one, 429, `{"error":{"code":2002,"message":"Request times is out of limit"}}`,
			[]string{"X-Rate-Limit-Limit", "600", "X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "5"}, provider.RateLimited, "2002", 5 * time.Second},
		{"429 without body", one, 429, ``, []string{"X-Rate-Limit-Reset", "9"}, provider.RateLimited, "", 9 * time.Second},
		{"rate code on HTTP 200", one, 200, `{"error":{"code":2002,"message":"Request times is out of limit"}}`,
			[]string{"X-Rate-Limit-Remaining", "0", "X-Rate-Limit-Reset", "11"}, provider.RateLimited, "2002", 11 * time.Second},
		{"rate code on HTTP 403", one, 403, `{"error":{"code":"2002","message":"Request times is out of limit"}}`,
			[]string{"X-Rate-Limit-Reset", "4"}, provider.RateLimited, "2002", 4 * time.Second},
		{"reset header on a refusal that is no rate limit", one, 400, `{"error":{"code":1002,"message":"Missing parameter"}}`,
			[]string{"X-Rate-Limit-Reset", "4"}, provider.InvalidRequest, "1002", 0},
		{"restricted 403", one, 403, `{"error":{"code":2003,"message":"appkey restricted"}}`, nil, provider.Auth, "2003", 0},
		{"no permission 403", one, 403, `{"error":{"code":2004,"message":"no permission"}}`, nil, provider.Auth, "2004", 0},
		{"volume 403", one, 403, `{"error":{"code":2005,"message":"over range"}}`, nil, provider.QuotaExceeded, "2005", 0},
		{"not vip 403", one, 403, `{"error":{"code":2006,"message":"not vip"}}`, nil, provider.Auth, "2006", 0},
		{"forbidden 403", one, 403, `{"error":{"code":2007,"message":"forbidden"}}`, nil, provider.Auth, "2007", 0},
		{"code as a padded string", one, 400, `{"error":{"code":" 1011 ","message":"cannot find user by this audience"}}`, nil, provider.InvalidToken, "1011", 0},
		{"unknown code 400", one, 400, `{"error":{"code":1099,"message":"what"}}`, nil, provider.InvalidRequest, "1099", 0},
		{"unknown code 200", one, 200, `{"error":{"code":1099,"message":"what"}}`, nil, provider.Unknown, "1099", 0},
		{"gateway 502 html", one, 502, `<html>bad gateway</html>`, nil, provider.Temporary, "", 0},
		{"unreadable 200", one, 200, `<html>ok</html>`, nil, provider.Indeterminate, "", 0},
		{"200 without msg_id", one, 200, `{"sendno":"1"}`, nil, provider.Indeterminate, "", 0},
		{"200 with msg_id 0", one, 200, `{"sendno":"1","msg_id":0}`, nil, provider.Indeterminate, "", 0},
		{"not found 404 html", one, 404, `<html>not found</html>`, nil, provider.InvalidRequest, "", 0},
		{"method 405 without code", one, 405, ``, nil, provider.InvalidRequest, "", 0},
		{"too large 413 without code", one, 413, `<html>Request Entity Too Large</html>`, nil, provider.InvalidRequest, "", 0},
		{"bad request 400 without code", one, 400, `{}`, nil, provider.InvalidRequest, "", 0},
		{"teapot", one, 418, ``, nil, provider.Unknown, "", 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.respondPush(tt.status, tt.body, tt.header...)
			rc, err := h.client.Send(context.Background(), request(provider.Android, tt.audience))
			assert.Nil(t, rc)
			pe := requireKind(t, err, tt.kind)
			assert.Equal(t, "send", pe.Op)
			assert.Equal(t, tt.code, pe.Code)
			assert.Equal(t, tt.status, pe.HTTPStatus)
			assert.Equal(t, tt.retryAfter, pe.RetryAfter)
			assert.ErrorIs(t, err, tt.kind)
		})
	}
}

func TestSendAcceptsStringAndNumericMsgID(t *testing.T) {
	for _, body := range []string{`{"sendno":"18","msg_id":"1828256757"}`, `{"sendno":18,"msg_id":1828256757}`, `{"sendno":"18","msg_id":" 1828256757 "}`} {
		h := newHarness(t)
		h.respondPush(200, body)
		rc, err := h.client.Send(context.Background(), request(provider.IOS, provider.Audience{Kind: provider.AudienceTokens, Tokens: rids(1)}))
		require.NoError(t, err, body)
		assert.Equal(t, "1828256757", rc.ID)
		assert.True(t, rc.Pollable)
		assert.JSONEq(t, body, string(rc.Raw))
	}
}

func TestParseRateLimit(t *testing.T) {
	h := http.Header{}
	assert.Equal(t, RateLimit{Limit: -1, Remaining: -1}, ParseRateLimit(h))
	h.Set("X-Rate-Limit-Limit", "600")
	h.Set("X-Rate-Limit-Remaining", "3")
	h.Set("X-Rate-Limit-Reset", "12")
	assert.Equal(t, RateLimit{Limit: 600, Remaining: 3, Reset: 12 * time.Second}, ParseRateLimit(h))
	h.Set("X-Rate-Limit-Quota", "500")
	assert.Equal(t, 500, ParseRateLimit(h).Limit, "the documented name wins when both are sent")
	h.Set("X-Rate-Limit-Reset", "soon")
	assert.Zero(t, ParseRateLimit(h).Reset)
	h.Set("X-Rate-Limit-Remaining", "-1")
	assert.Equal(t, -1, ParseRateLimit(h).Remaining)

	// A reset of one second is one second; zero is none.
	h.Set("X-Rate-Limit-Reset", "1")
	assert.Equal(t, time.Second, ParseRateLimit(h).Reset)
	h.Set("X-Rate-Limit-Reset", "0")
	assert.Zero(t, ParseRateLimit(h).Reset)
	// A negative or unreadable quota is absent, so the SDKs' name is read.
	h.Set("X-Rate-Limit-Quota", "-1")
	assert.Equal(t, 600, ParseRateLimit(h).Limit)
	h.Set("X-Rate-Limit-Quota", "many")
	assert.Equal(t, 600, ParseRateLimit(h).Limit)
	h.Set("X-Rate-Limit-Quota", " 0 ")
	assert.Equal(t, 0, ParseRateLimit(h).Limit, "a quota of zero is a quota")
}

// TestInvalidParamNamesTheRegistrationID: a 1003 answer that names a
// registration id of the batch blames that one (Failures), matched as a
// whole word of the message: an id that is only part of a word, or that
// the message does not name, is not blamed.
func TestInvalidParamNamesTheRegistrationID(t *testing.T) {
	a, b := "1a0018970a8c1fb5d5b", "1a0018970a8c1fb5d5"
	for _, tt := range []struct {
		message string
		blamed  []string
	}{
		{"The registration_id " + a + " is invalid!", []string{a}},
		{`registration_id is invalid: "` + b + `"`, []string{b}},
		{"registration_id is invalid", nil},
		{"The registration_id " + a + "0 is invalid!", nil},
	} {
		h := newHarness(t)
		h.respondPush(400, `{"error":{"code":1003,"message":`+strconv.Quote(tt.message)+`}}`)
		_, err := h.client.Send(context.Background(), request(provider.Android, provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{a, b}}))
		require.ErrorIs(t, err, provider.InvalidToken, tt.message)
		var blamed []string
		for _, f := range provider.FailuresOf(err) {
			assert.Equal(t, provider.InvalidToken, f.Kind)
			blamed = append(blamed, f.Token)
		}
		assert.Equal(t, tt.blamed, blamed, tt.message)
	}
}
