package getuitest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tuisong/push/getui/getuitest"
)

// FuzzHandler sends arbitrary requests (method, path under the app's base
// path, body) to the fake, with a valid auth token when authed is set, so
// that the fuzzer gets past authentication to the parsers. With no fault
// injected the fake never panics and never answers 5xx, and every answer
// is Getui's envelope {"code":…,"msg":…[,"data":…]}, with a non-zero code
// on a refusal.
func FuzzHandler(f *testing.F) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	fake := getuitest.NewServer(f, getuitest.Config{Now: func() time.Time { return now }, AuthRateLimit: -1})
	h := fake.Handler()
	app := getuitest.DefaultApps()[0]
	base := getuitest.BasePath + "/" + app.AppID
	ts := fmt.Sprint(now.UnixMilli())
	sum := sha256.Sum256([]byte(app.AppKey + ts + app.MasterSecret))
	authBody := `{"sign":"` + hex.EncodeToString(sum[:]) + `","timestamp":"` + ts + `","appkey":"` + app.AppKey + `"}`
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, base+"/auth", strings.NewReader(authBody))
	req.Header.Set("Content-Type", "application/json;charset=utf-8")
	h.ServeHTTP(rec, req)
	var auth struct {
		Code int
		Data struct{ Token string }
	}
	if err := json.Unmarshal(rec.Body.Bytes(), &auth); err != nil || auth.Code != 0 || auth.Data.Token == "" {
		f.Fatalf("auth: %d %s", rec.Code, rec.Body.String())
	}
	cid := getuitest.CID("android-1")
	msg := `"push_message":{"notification":{"title":"t","body":"b","click_type":"startapp"}}`
	for _, s := range []struct{ method, path, body string }{
		{"POST", "/auth", authBody},
		{"POST", "/push/single/cid", `{"request_id":"push-1-chunk-0","audience":{"cid":["` + cid + `"]},` + msg + `}`},
		{"POST", "/push/single/alias", `{"request_id":"r2-0000000","audience":{"alias":["u1"]},` + msg + `}`},
		{"POST", "/push/single/batch/cid", `{"is_async":false,"msg_list":[{"request_id":"r3-0000000","audience":{"cid":["` + cid + `"]},` + msg + `}]}`},
		{"POST", "/push/list/message", `{"request_id":"r4-0000000",` + msg + `}`},
		{"POST", "/push/list/cid", `{"audience":{"cid":["` + cid + `"]},"taskid":"x","is_async":true}`},
		{"POST", "/push/all", `{"request_id":"r5-0000000","audience":"all",` + msg + `}`},
		{"POST", "/push/tag", `{"request_id":"r6-0000000","audience":{"tag":[{"key":"custom_tag","values":["vip"],"opt_type":"or"}]},` + msg + `}`},
		{"POST", "/push/single/cid", `{"request_id":"r7-0000000","audience":{"cid":["` + cid + `"]},"push_message":{"transmission":"` + strings.Repeat("x", 3073) + `"}}`},
		{"POST", "/push/single/cid", `{"request_id":"r8-0000000","audience":{"cid":["` + cid + `"]},"push_message":{"notification":{}},"push_channel":{"ios":{"type":"notify","aps":{"alert":{"title":"t","body":"b"}}}}}`},
		{"GET", "/report/push/task/x", ``},
		{"DELETE", "/task/x", ``},
		{"POST", "/push/single/cid", `[]`},
		{"POST", "/push/single/cid", ``},
		{"GET", "/push/all", ``},
		{"POST", "/nothing", `{}`},
	} {
		f.Add(s.method, s.path, s.body, true)
	}
	f.Add("POST", "/push/all", `{}`, false)
	f.Fuzz(func(t *testing.T, method, path, body string, authed bool) {
		u, err := url.ParseRequestURI(base + path)
		if err != nil || !validMethod(method) || strings.ContainsAny(path, "# \t\r\n") {
			t.Skip("not a request line a server would parse")
		}
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.URL, req.RequestURI = u, u.RequestURI()
		req.Header.Set("Content-Type", "application/json;charset=utf-8")
		if authed {
			req.Header.Set("token", auth.Data.Token)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d with no fault injected: %s", rec.Code, rec.Body.String())
		}
		var env struct {
			Code *int    `json:"code"`
			Msg  *string `json:"msg"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil || env.Code == nil || env.Msg == nil {
			t.Fatalf("status %d, not Getui's envelope: %q", rec.Code, rec.Body.String())
		}
		if rec.Code != http.StatusOK && *env.Code == 0 {
			t.Fatalf("status %d with code 0: %s", rec.Code, rec.Body.String())
		}
	})
}

// validMethod reports whether m is an HTTP token.
func validMethod(m string) bool {
	if m == "" {
		return false
	}
	for _, c := range []byte(m) {
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?={}`, c) >= 0 {
			return false
		}
	}
	return true
}
