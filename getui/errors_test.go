package getui

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestKindOfCode checks the code table row by row.
func TestKindOfCode(t *testing.T) {
	tests := []struct {
		code  int
		msg   string
		byCID bool
		kind  provider.Kind
		known bool
	}{
		{CodeFailed, "failed", false, provider.Unknown, true},
		{CodeStarting, "starting", false, provider.Temporary, true},
		{CodeWrongHost, "wrong host", false, provider.Temporary, true},
		{CodeTokenExpired, "token expired", false, provider.Auth, true},
		{CodeBlacklisted, "blacklisted", false, provider.Auth, true},
		{CodeAuthRate, "auth rate", false, provider.RateLimited, true},
		{CodeCallRate, "call rate", false, provider.RateLimited, true},
		{CodeInvalidParams, "target user is invalid", true, provider.InvalidToken, true},
		{CodeInvalidParams, "target user is invalid", false, provider.InvalidRequest, true}, // an alias push
		{CodeInvalidParams, "target user is invalid: cid[1] \"ABC\" is not a Getui cid", true, provider.InvalidToken, true},
		{CodeInvalidParams, "cid is not exist", true, provider.InvalidToken, true},
		{CodeInvalidParams, "cid not found", true, provider.InvalidToken, true},
		{CodeInvalidParams, "illegal cid", true, provider.InvalidToken, true},
		{CodeInvalidParams, "unknown user", true, provider.InvalidToken, true},
		{CodeInvalidParams, "user is invalid", true, provider.InvalidToken, true},
		{CodeInvalidParams, "push_message.notification.title is invalid", true, provider.InvalidRequest, true},
		{CodeInvalidParams, "request_id is invalid", true, provider.InvalidRequest, true},
		{10004, "no permission", false, provider.Auth, true},
		{22001, "task already run", false, provider.InvalidRequest, true},
		{22002, "scheduled task invalid", false, provider.InvalidRequest, true},
		{23001, "tag operation refused", false, provider.InvalidRequest, true},
		{30001, "plan lacks the API", false, provider.Auth, true},
		{30002, "plan lacks the API", false, provider.Auth, true},
		{30006, "over the day's total", true, provider.QuotaExceeded, true},
		{30011, "over the day's total", false, provider.QuotaExceeded, true},
		{30012, "over the minute's rate", false, provider.RateLimited, true},
		{30013, "over the minute's rate", true, provider.RateLimited, true},
		{30000, "no fast_custom_tag permission", false, provider.Auth, true},
		{30003, "app/tag not permitted", false, provider.Auth, true},
		{30017, "no report permission", false, provider.Auth, true},
		{30004, "tag daily total", false, provider.QuotaExceeded, true},
		{CodeAllDailyQuota, "push/all over 100 a day", false, provider.QuotaExceeded, true},
		{CodeListDailyQuota, "list over the day's total", true, provider.QuotaExceeded, true},
		{30009, "over the day's total", true, provider.QuotaExceeded, true},
		{CodeTagDailyQuota, "push/tag over 100 a day", false, provider.QuotaExceeded, true},
		{CodeAppMinuteRate, "app push over 5 a minute", false, provider.RateLimited, true},
		{CodeListMinuteRate, "list push over the minute's rate", true, provider.RateLimited, true},
		{30018, "report rate", false, provider.RateLimited, true},
		{CodeBusy, "system busy", true, provider.Temporary, true},
		{30005, "tag too long", false, provider.InvalidRequest, true},
		{30016, "too many tags", false, provider.InvalidRequest, true},
		{30020, "a plan code not documented", false, provider.Unknown, false},
		{99999, "new code", false, provider.Unknown, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprintf("%d/%s/byCID=%t", tt.code, tt.msg, tt.byCID), func(t *testing.T) {
			kind, known := kindOfCode(tt.code, tt.msg, tt.byCID)
			assert.Equal(t, tt.kind, kind)
			assert.Equal(t, tt.known, known)
		})
	}
}

// scripted is a server that answers /auth with a token and every other call
// from a script, recording what it received.
type scripted struct {
	srv *httptest.Server

	mu     sync.Mutex
	script []func(w http.ResponseWriter)
	paths  []string
	tokens []string
	auths  int
}

func newScripted(t *testing.T) *scripted {
	t.Helper()
	s := &scripted{}
	s.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		if strings.HasSuffix(r.URL.Path, "/auth") {
			s.auths++
			n := s.auths
			s.mu.Unlock()
			fmt.Fprintf(w, `{"code":0,"msg":"success","data":{"expire_time":"%d","token":"tok-%d"}}`, fixedNow.Add(24*time.Hour).UnixMilli(), n)
			return
		}
		s.paths = append(s.paths, r.URL.Path)
		s.tokens = append(s.tokens, r.Header.Get("token"))
		var next func(w http.ResponseWriter)
		if len(s.script) > 0 {
			next, s.script = s.script[0], s.script[1:]
		}
		s.mu.Unlock()
		if next == nil {
			fmt.Fprint(w, `{"code":0,"msg":"success","data":{"RASS_0501_x":{"`+testCID+`":"successed_online"}}}`)
			return
		}
		next(w)
	}))
	t.Cleanup(s.srv.Close)
	return s
}

func (s *scripted) then(status int, body string) *scripted {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.script = append(s.script, func(w http.ResponseWriter) {
		w.WriteHeader(status)
		_, _ = w.Write([]byte(body))
	})
	return s
}

func (s *scripted) client(t *testing.T) *Client {
	t.Helper()
	c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), BaseURL: s.srv.URL + "/v2",
		Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	return c
}

func oneCID() *provider.Request {
	return &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{testCID}},
		Notification: provider.Notification{Title: "t", Body: "b"}}
}

// TestErrorTable answers a single-cid send with each code and HTTP status
// Getui uses and checks the kind, row by row.
func TestErrorTable(t *testing.T) {
	env := func(code int, msg string) string { return fmt.Sprintf(`{"code":%d,"msg":%q}`, code, msg) }
	tests := []struct {
		name   string
		status int
		body   string
		kind   provider.Kind
		code   string
	}{
		{"1 failed", 200, env(1, "failed"), provider.Unknown, "1"},
		{"2 starting", 200, env(2, "starting"), provider.Temporary, "2"},
		{"301 host switch", 200, `{"code":301,"msg":"other host","data":{"host_list":[{"domain_list":["https://restapi-east.getui.com"]}]}}`, provider.Temporary, "301"},
		{"10002 blacklisted", 403, env(10002, "blacklisted"), provider.Auth, "10002"},
		{"10003 auth rate", 200, env(10003, "auth rate"), provider.RateLimited, "10003"},
		{"10005 call rate", 200, env(10005, "call rate"), provider.RateLimited, "10005"},
		{"20001 target invalid", 400, env(20001, "target user is invalid"), provider.InvalidToken, "20001"},
		{"20001 parameter", 400, env(20001, "request_id is too long"), provider.InvalidRequest, "20001"},
		{"20001 with http 200", 200, env(20001, "push_message is required"), provider.InvalidRequest, "20001"},
		{"unknown code 2xx", 200, env(77777, "new"), provider.Unknown, "77777"},
		{"unknown code 401", 401, env(77777, "new"), provider.Auth, "77777"},
		{"unknown code 400", 400, env(77777, "new"), provider.InvalidRequest, "77777"},
		{"http 500 text", 500, "Internal Server Error", provider.Temporary, ""},
		{"http 502 json", 502, env(77777, "gateway"), provider.Temporary, "77777"},
		{"http 503 empty", 503, "", provider.Temporary, ""},
		{"http 429", 429, "slow down", provider.RateLimited, ""},
		{"http 403 text", 403, "forbidden", provider.Auth, ""},
		{"http 404 text", 404, "not found", provider.InvalidRequest, ""},
		{"http 405 text", 405, "method not allowed", provider.InvalidRequest, ""},
		{"http 413 text", 413, "request entity too large", provider.InvalidRequest, ""},
		{"http 400 text", 400, "bad request", provider.InvalidRequest, ""},
		{"http 418 text", 418, "teapot", provider.Unknown, ""},
		{"unreadable 204", 204, "", provider.Indeterminate, ""},
		{"unreadable 200", 200, "<html>", provider.Indeterminate, ""},
		{"code 0 with http 500", 500, env(0, "odd"), provider.Temporary, "0"},
		{"string code", 200, `{"code":"10005","msg":"rate"}`, provider.RateLimited, "10005"},
		{"success without a taskid", 200, `{"code":0,"msg":"success","data":{}}`, provider.Indeterminate, ""},
		{"success naming two tasks", 200, `{"code":0,"msg":"success","data":{"RASS_1":{"` + testCID + `":"successed_online"},"RASS_2":{"` + testCID + `":"successed_online"}}}`, provider.Indeterminate, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newScripted(t).then(tt.status, tt.body)
			c := s.client(t)
			rc, err := c.Send(context.Background(), oneCID())
			assert.Nil(t, rc)
			pe := requireKind(t, err, tt.kind)
			assert.Equal(t, tt.code, pe.Code)
			assert.Equal(t, tt.status, pe.HTTPStatus)
			assert.Equal(t, opSend, pe.Op)
			assert.Len(t, s.paths, 1, "one call, no retry")
		})
	}
}

// TestTargetInvalidBlamesACIDOnlyByCID: 20001 "target user is invalid"
// is InvalidToken for a push to one cid, and InvalidRequest for a push to
// an alias or a tag, which names no cid the caller could disable.
func TestTargetInvalidBlamesACIDOnlyByCID(t *testing.T) {
	invalidTarget := `{"code":20001,"msg":"target user is invalid"}`
	for _, tc := range []struct {
		name     string
		audience provider.Audience
		kind     provider.Kind
	}{
		{"one cid", provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{testCID}}, provider.InvalidToken},
		{"one alias", provider.Audience{Kind: provider.AudienceAliases, AliasType: "x", Aliases: []string{"u1"}}, provider.InvalidRequest},
		{"a tag", provider.Audience{Kind: provider.AudienceFilter, Tags: []string{"vip"}}, provider.InvalidRequest},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := newScripted(t).then(400, invalidTarget)
			r := oneCID()
			r.Audience = tc.audience
			_, err := s.client(t).Send(context.Background(), r)
			pe := requireKind(t, err, tc.kind)
			assert.Equal(t, "20001", pe.Code)
			assert.Empty(t, pe.Failures)
		})
	}
}

// TestShortestSecretIsScrubbed: a master secret of minSecretLen
// characters, the shortest Config takes, is scrubbed from an answer that
// echoes it.
func TestShortestSecretIsScrubbed(t *testing.T) {
	const secret = "S3cr3t-8"
	require.Len(t, secret, minSecretLen)
	s := newScripted(t).then(400, `{"code":20001,"msg":"master secret `+secret+` is wrong"}`)
	c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(secret), BaseURL: s.srv.URL + "/v2",
		Now: func() time.Time { return fixedNow }})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), oneCID())
	pe := requireKind(t, err, provider.InvalidRequest)
	assert.NotContains(t, err.Error(), secret)
	assert.Equal(t, "master secret REDACTED is wrong", pe.Message)
	assert.Equal(t, "REDACTED", c.Redact(secret))
}

// TestTokenExpiredRefreshOnce: 10001 makes the client fetch a new token and
// repeat the call once; a second 10001 is Auth.
func TestTokenExpiredRefreshOnce(t *testing.T) {
	expired := `{"code":10001,"msg":"token expired"}`
	t.Run("then success", func(t *testing.T) {
		s := newScripted(t).then(401, expired)
		rc, err := s.client(t).Send(context.Background(), oneCID())
		require.NoError(t, err)
		assert.Equal(t, "RASS_0501_x", rc.ID)
		assert.Equal(t, 2, s.auths)
		assert.Equal(t, []string{"tok-1", "tok-2"}, s.tokens, "the call is repeated with the new token")
	})
	t.Run("twice", func(t *testing.T) {
		s := newScripted(t).then(401, expired).then(401, expired)
		_, err := s.client(t).Send(context.Background(), oneCID())
		pe := requireKind(t, err, provider.Auth)
		assert.Equal(t, "10001", pe.Code)
		assert.Equal(t, 2, s.auths)
		assert.Len(t, s.paths, 2, "one repeat only")
	})
}

// TestHostSwitch: a 301 moves the client to the named host, keeping /v2
// for a bare domain, and the next call goes there.
func TestHostSwitch(t *testing.T) {
	other := newScripted(t)
	for _, tt := range []struct{ domain, want string }{
		{other.srv.URL + "/v2", other.srv.URL + "/v2"},
		{other.srv.URL, other.srv.URL + "/v2"},
		{strings.TrimPrefix(other.srv.URL, "http://"), "https://" + strings.TrimPrefix(other.srv.URL, "http://") + "/v2"},
		{"restapi.getui.com", DefaultBaseURL}, // Getui's own host, bare, as Config.BaseURL may not name it
	} {
		t.Run(tt.domain, func(t *testing.T) {
			s := newScripted(t).then(200, `{"code":301,"msg":"moved","data":{"host_list":[{"domain_list":["`+tt.domain+`","ignored"]}]}}`)
			c := s.client(t)
			_, err := c.Send(context.Background(), oneCID())
			pe := requireKind(t, err, provider.Temporary)
			assert.Equal(t, "301", pe.Code)
			assert.Contains(t, pe.Message, tt.want)
			assert.Equal(t, tt.want, c.BaseURL())
		})
	}
	t.Run("next call goes to the new host", func(t *testing.T) {
		s := newScripted(t).then(200, `{"code":301,"msg":"moved","data":{"host_list":[{"domain_list":["`+other.srv.URL+`/v2"]}]}}`)
		c := s.client(t)
		_, err := c.Send(context.Background(), oneCID())
		require.Error(t, err)
		before := len(other.paths)
		_, err = c.Send(context.Background(), oneCID())
		require.NoError(t, err)
		assert.Len(t, other.paths, before+1)
		assert.Len(t, s.paths, 1)
	})
	t.Run("unusable host list changes nothing", func(t *testing.T) {
		s := newScripted(t).then(200, `{"code":301,"msg":"moved","data":{"host_list":[]}}`)
		c := s.client(t)
		_, err := c.Send(context.Background(), oneCID())
		requireKind(t, err, provider.Temporary)
		assert.Equal(t, s.srv.URL+"/v2", c.BaseURL())
	})
	t.Run("an https root is never moved to http", func(t *testing.T) {
		s := &scripted{}
		s.srv = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/auth") {
				fmt.Fprintf(w, `{"code":0,"msg":"success","data":{"expire_time":"%d","token":"tok"}}`, fixedNow.Add(24*time.Hour).UnixMilli())
				return
			}
			fmt.Fprint(w, `{"code":301,"msg":"moved","data":{"host_list":[{"domain_list":["http://evil.example/v2"]}]}}`)
		}))
		t.Cleanup(s.srv.Close)
		c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), BaseURL: s.srv.URL + "/v2",
			HTTPClient: s.srv.Client(), Now: func() time.Time { return fixedNow }})
		require.NoError(t, err)
		_, err = c.Send(context.Background(), oneCID())
		requireKind(t, err, provider.Temporary)
		assert.Equal(t, s.srv.URL+"/v2", c.BaseURL(), "the token does not go to a plain-text host")
	})
}

// TestTransportKinds: a call that never reached the server is Temporary,
// one whose answer was lost after the request went out Indeterminate.
func TestTransportKinds(t *testing.T) {
	t.Run("connection refused", func(t *testing.T) {
		s := newScripted(t)
		c := s.client(t)
		s.srv.Close()
		_, err := c.Send(context.Background(), oneCID())
		requireKind(t, err, provider.Temporary)
	})
	t.Run("answer lost", func(t *testing.T) {
		var hijack sync.Once
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.HasSuffix(r.URL.Path, "/auth") {
				fmt.Fprintf(w, `{"code":0,"data":{"expire_time":"%d","token":"tok"}}`, fixedNow.Add(time.Hour).UnixMilli())
				return
			}
			hijack.Do(func() {})
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), BaseURL: srv.URL, Now: func() time.Time { return fixedNow }})
		require.NoError(t, err)
		_, err = c.Send(context.Background(), oneCID())
		requireKind(t, err, provider.Indeterminate)
	})
	t.Run("auth answer lost is temporary", func(t *testing.T) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			conn, _, err := w.(http.Hijacker).Hijack()
			if err == nil {
				_ = conn.Close()
			}
		}))
		defer srv.Close()
		c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), BaseURL: srv.URL, Now: func() time.Time { return fixedNow }})
		require.NoError(t, err)
		_, err = c.Send(context.Background(), oneCID())
		pe := requireKind(t, err, provider.Temporary)
		assert.Equal(t, opAuth, pe.Op)
	})
}

// TestAuthRefusals: a refused auth is Auth unless it is a rate or a
// passing fault.
func TestAuthRefusals(t *testing.T) {
	tests := []struct {
		status int
		body   string
		kind   provider.Kind
	}{
		{200, `{"code":10003,"msg":"auth rate"}`, provider.RateLimited},
		{400, `{"code":20001,"msg":"sign is invalid"}`, provider.Auth},
		{200, `{"code":10002,"msg":"blacklisted"}`, provider.Auth},
		{200, `{"code":1,"msg":"failed"}`, provider.Auth},
		{503, `busy`, provider.Temporary},
		{200, `{"code":0,"msg":"ok","data":{}}`, provider.Unknown},
		{200, `{"code":0,"msg":"ok","data":{"token":"x","expire_time":"soon"}}`, provider.Unknown},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.status)+" "+tt.body, func(t *testing.T) {
			calls := 0
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				calls++
				w.WriteHeader(tt.status)
				_, _ = w.Write([]byte(tt.body))
			}))
			defer srv.Close()
			c, err := New(Config{AppID: testAppID, AppKey: testAppKey, MasterSecret: NewSecret(testSecret), BaseURL: srv.URL, Now: func() time.Time { return fixedNow }})
			require.NoError(t, err)
			_, err = c.Send(context.Background(), oneCID())
			pe := requireKind(t, err, tt.kind)
			assert.Equal(t, opAuth, pe.Op)
			assert.Equal(t, 1, calls, "no push after a failed auth")
		})
	}
}

// requireKind asserts err is a *provider.Error of this provider with kind.
func requireKind(t *testing.T, err error, kind provider.Kind) *provider.Error {
	t.Helper()
	require.Error(t, err)
	var pe *provider.Error
	require.True(t, errors.As(err, &pe), "error %v is not a *provider.Error", err)
	assert.Equal(t, Name, pe.Provider)
	assert.Equal(t, kind, pe.Kind, "kind of %v", err)
	assert.True(t, errors.Is(err, kind))
	return pe
}

var fixedNow = time.Date(2024, 5, 1, 2, 3, 4, 0, time.UTC)

const (
	testAppID  = "gtTestAppID0000000001"
	testAppKey = "gtTestAppKey000000001"
	testSecret = "gtTestMasterSecretValue0001"
	testCID    = "0123456789abcdef0123456789abcdef"
)
