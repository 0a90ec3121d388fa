package umengtest_test

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tuisong/push/umeng/umengtest"
)

// FuzzHandler sends arbitrary bodies to the fake's API paths (and any
// other path), signed with the secret of the appkey the body names when
// signed is set, so that the fuzzer gets past the sign check to the
// parsers. With no fault injected the fake never panics and never answers
// 5xx, and answers with Umeng's envelope, {"ret":"SUCCESS","data":…} or
// {"ret":"FAIL","data":{"error_code":…,"error_msg":…}}; only a wrong method
// (405) and an oversize body (413) are answered in plain text, as the
// package documents.
func FuzzHandler(f *testing.F) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	fake := umengtest.NewServer(f, umengtest.Config{Now: func() time.Time { return now }, NoRateLimits: true})
	h := fake.Handler()
	secrets := map[string]string{}
	for _, a := range umengtest.DefaultApps() {
		secrets[a.AppKey] = a.AppMasterSecret
	}
	android, ios := umengtest.DefaultApps()[1].AppKey, umengtest.DefaultApps()[0].AppKey
	ts := fmt.Sprint(now.Unix())
	for _, s := range []struct{ path, body string }{
		{"/api/send", `{"appkey":"` + android + `","timestamp":"` + ts + `","type":"unicast","device_tokens":"` + umengtest.AndroidToken("1") +
			`","payload":{"display_type":"notification","body":{"ticker":"t","title":"t","text":"b"}}}`},
		{"/api/send", `{"appkey":"` + ios + `","timestamp":` + ts + `,"type":"listcast","device_tokens":"` + umengtest.IOSToken("1") + "," + umengtest.IOSToken("2") +
			`","payload":{"aps":{"alert":{"title":"t","body":"b"},"badge":-1}},"policy":{"out_biz_no":"k"}}`},
		{"/api/send", `{"appkey":"` + android + `","timestamp":"` + ts + `","type":"broadcast","payload":{"display_type":"message","body":{"custom":{"a":1}}},"policy":{"start_time":"2026-11-28 11:00:00"}}`},
		{"/api/send", `{"appkey":"` + android + `","timestamp":"` + ts + `","type":"groupcast","filter":{"where":{"and":[{"tag":"vip"}]}},"payload":{"display_type":"notification","body":{"ticker":"t","title":"t","text":"b"}}}`},
		{"/api/status", `{"appkey":"` + android + `","timestamp":"` + ts + `","task_id":"x"}`},
		{"/api/cancel", `{"appkey":"` + android + `","timestamp":"` + ts + `","task_id":"x"}`},
		{"/upload", `{"appkey":"` + android + `","timestamp":"` + ts + `","content":"` + umengtest.AndroidToken("1") + `\n"}`},
		{"/api/send", `{"appkey":"` + android + `","timestamp":1e10}`},
		{"/api/send", `{"appkey":1}`},
		{"/api/send", `[]`},
		{"/api/send", ``},
		{"/nothing", `{}`},
	} {
		f.Add(http.MethodPost, s.path, s.body, true)
	}
	f.Add(http.MethodGet, "/api/send", "", false)
	f.Fuzz(func(t *testing.T, method, path, body string, signed bool) {
		u, err := url.ParseRequestURI(path)
		if err != nil || !validMethod(method) || strings.ContainsAny(path, "# \t\r\n") {
			t.Skip("not a request line a server would parse")
		}
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.URL, req.RequestURI = u, u.RequestURI()
		if signed {
			var m struct{ AppKey string }
			_ = json.Unmarshal([]byte(body), &m)
			sum := md5.Sum([]byte(method + "http://" + req.Host + u.EscapedPath() + body + secrets[m.AppKey]))
			q := u.Query()
			q.Set("sign", hex.EncodeToString(sum[:]))
			u.RawQuery = q.Encode()
			req.RequestURI = u.RequestURI()
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d with no fault injected: %s", rec.Code, rec.Body.String())
		}
		if rec.Code == http.StatusMethodNotAllowed || rec.Code == http.StatusRequestEntityTooLarge {
			return
		}
		var env struct {
			Ret  string          `json:"ret"`
			Data json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &env); err != nil {
			t.Fatalf("status %d, not Umeng's envelope: %q", rec.Code, rec.Body.String())
		}
		switch env.Ret {
		case "SUCCESS":
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d with SUCCESS: %s", rec.Code, rec.Body.String())
			}
		case "FAIL":
			var data struct {
				ErrorCode string `json:"error_code"`
				ErrorMsg  string `json:"error_msg"`
			}
			if json.Unmarshal(env.Data, &data) != nil || data.ErrorCode == "" || rec.Code == http.StatusOK {
				t.Fatalf("status %d, a FAIL without its error: %s", rec.Code, rec.Body.String())
			}
		default:
			t.Fatalf("status %d, ret %q: %s", rec.Code, env.Ret, rec.Body.String())
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
