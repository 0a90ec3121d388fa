package push_test

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	push "github.com/tuisong/push"
)

// TestRequestsTwoReadersWouldReadDifferently: what a proxy or a gateway in
// front of the server would read otherwise than the server is refused with
// 400 naming the parameter, and nothing is pushed: a query pair Go's
// url.Values would drop (a bad escape, a semicolon), a parameter named in
// another case, a POST's parameter given in its query.
func TestRequestsTwoReadersWouldReadDifferently(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "phone", "android", "tok-1")
	f.register(t, "u2", "phone2", "android", "tok-2")
	for _, c := range []struct {
		name, method, target, ct, body, code string
	}{
		{"bad escape in user_num", http.MethodGet, push.PathQueryPushes + "?user_num=u2%zz", "", "", "invalid_user_num"},
		{"semicolon after user_num", http.MethodGet, push.PathQueryPushes + "?user_num=u2;", "", "", "invalid_user_num"},
		{"bad escape beside user_num", http.MethodGet, push.PathQueryPushes + "?%zz&user_num=u2", "", "", "invalid_query"},
		{"bad escape in devices", http.MethodGet, push.PathUserDevices + "?user_num=u1&user_num=%zz", "", "", "invalid_user_num"},
		{"query key in upper case", http.MethodGet, push.PathUserDevices + "?USER_NUM=u1", "", "", "invalid_user_num"},
		{"JSON member in upper case", http.MethodPost, push.PathPushMessage, "application/json",
			`{"user_num":"u1","USER_NUM":"u2","title":"t","content":"c"}`, "invalid_user_num"},
		{"form field in mixed case", http.MethodPost, push.PathPushMessage, "application/x-www-form-urlencoded",
			"user_num=u1&User_Num=u2&title=t&content=c", "invalid_user_num"},
		{"POST with user_num in its query", http.MethodPost, push.PathPushMessage + "?user_num=u2", "application/x-www-form-urlencoded",
			"user_num=u1&title=t&content=c", "invalid_user_num"},
		{"POST with a bad query", http.MethodPost, push.PathPushMessage + "?x=%zz", "application/json",
			`{"user_num":"u1","title":"t","content":"c"}`, "invalid_query"},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, h, c.method, c.target, c.ct, c.body)
			assert.Equal(t, http.StatusBadRequest, r.status, r.body)
			assert.Equal(t, c.code, r.errCode())
		})
	}
	// Two Content-Type headers: a proxy might read the body as the other.
	req := httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	req.Header.Add("Content-Type", "application/json")
	req.Header.Add("Content-Type", "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusBadRequest, rec.Code, rec.Body.String())
	assert.Contains(t, rec.Body.String(), "more than one Content-Type")
	assert.Zero(t, f.mock.Calls(), "nothing pushed")
	// A query's own names (a cache buster) are still no parameter of ours.
	r := do(t, h, http.MethodPost, push.PathPushMessage+"?_=123", "application/json", `{"user_num":"u1","title":"t","content":"c"}`)
	assert.Equal(t, http.StatusOK, r.status, r.body)
}

// TestUserNumsEntryIsNamedAndInvisibleUsersRefused: a bad entry of
// user_nums is refused naming user_nums, not user_num; a user_num with a
// control or invisible character (another user who looks like u1) cannot
// be registered.
func TestUserNumsEntryIsNamedAndInvisibleUsersRefused(t *testing.T) {
	f, h := newHandler(t, nil)
	f.register(t, "u1", "phone", "android", "tok-1")
	r := postJSON(t, h, push.PathPushMessage, map[string]any{"user_nums": []string{"u1", "u1\x00"}, "title": "t", "content": "c"})
	assert.Equal(t, http.StatusBadRequest, r.status, r.body)
	assert.Equal(t, "invalid_user_nums", r.errCode())
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_nums": []string{strings.Repeat("u", 256)}, "title": "t", "content": "c"})
	assert.Equal(t, "invalid_user_nums", r.errCode())
	r = postJSON(t, h, push.PathPushMessage, map[string]any{"user_num": "u1\x00", "title": "t", "content": "c"})
	assert.Equal(t, "invalid_user_num", r.errCode())
	for _, u := range []string{"u1\u0001", "u1\u200b", "\ufeffu1", "u1\u202e", "u1\u007f"} {
		r := postJSON(t, h, push.PathDevice, map[string]any{"user_num": u, "uuid": "d-" + u, "platform": "android", "push_token": "tok-x"})
		assert.Equal(t, http.StatusBadRequest, r.status, "%q: %v", u, r.body)
		assert.Equal(t, "invalid_user_num", r.errCode(), "%q", u)
	}
	assert.Zero(t, f.mock.Calls())
}

// TestANumberIsTakenOnlyWhenEveryReaderReadsItAlike: a parameter sent as
// a JSON number is read as its text; one a float-minded reader (a
// JavaScript gateway, Go's any) would read otherwise is refused.
func TestANumberIsTakenOnlyWhenEveryReaderReadsItAlike(t *testing.T) {
	f, h := newHandler(t, nil)
	for _, body := range []string{
		`{"user_num":123456789012345678,"uuid":"d1","platform":"android","push_token":"tok-1"}`,
		`{"user_num":1e2,"uuid":"d1","platform":"android","push_token":"tok-1"}`,
		`{"user_num":100.0,"uuid":"d1","platform":"android","push_token":"tok-1"}`,
		`{"user_num":0100,"uuid":"d1","platform":"android","push_token":"tok-1"}`,
	} {
		r := do(t, h, http.MethodPost, push.PathDevice, "application/json", body)
		assert.Equal(t, http.StatusBadRequest, r.status, body)
		if r.errCode() != "invalid_body" { // 0100 is no JSON at all
			assert.Equal(t, "invalid_user_num", r.errCode(), body)
		}
	}
	r := do(t, h, http.MethodPost, push.PathDevice, "application/json", `{"user_num":1001,"uuid":"d1","platform":"android","push_token":"tok-1"}`)
	assert.Equal(t, http.StatusOK, r.status, r.body)
	devs, err := f.svc.ListDevices(t.Context(), "1001")
	assert.NoError(t, err)
	assert.Len(t, devs, 1)
}
