package jpushtest_test

import (
	"encoding/json"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/tuisong/push/jpush/jpushtest"
)

// FuzzHandler sends arbitrary requests (method, path with query, body) to
// the fake, with the demo app's credentials when authed is set, so that the
// fuzzer gets past authentication to the parsers. With no fault injected
// the fake never panics and never answers 5xx; every answer is JSON, and
// every refusal is JPush's {"error":{"code":…,"message":…}}.
func FuzzHandler(f *testing.F) {
	now := time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)
	fake := jpushtest.NewServer(f, jpushtest.Config{Now: func() time.Time { return now }})
	h := fake.Handler()
	app := jpushtest.DefaultApps()[0]
	rid := jpushtest.RegistrationID("android-1")
	for _, s := range []struct{ method, target, body string }{
		{"POST", "/v3/push", `{"platform":"all","audience":{"registration_id":["` + rid + `"]},"notification":{"alert":"hi","android":{"title":"t","extras":{"k":"v"}}},"options":{"time_to_live":60}}`},
		{"POST", "/v3/push", `{"platform":["ios"],"audience":"all","notification":{"ios":{"alert":{"title":"t","body":"b"},"badge":"+1","sound":"default"}}}`},
		{"POST", "/v3/push/validate", `{"platform":"android","audience":{"tag":["vip"]},"message":{"msg_content":"m","extras":{"a":"1"}}}`},
		{"POST", "/v3/push", `{"platform":"android","audience":{"alias":["u1"]},"notification":{"alert":"` + strings.Repeat("<", 3990) + `"}}`},
		{"POST", "/v3/push", `{"platform":"android","audience":{"registration_id":[]},"notification":{}}`},
		{"POST", "/v3/push", `{"cid":1}`},
		{"POST", "/v3/push", `[]`},
		{"DELETE", "/v3/push/123", ``},
		{"GET", "/v3/received/detail?msg_ids=1,2", ``},
		{"POST", "/v3/status/message", `{"msg_id":1,"registration_ids":["` + rid + `"]}`},
		{"PUT", "/v3/push", `{}`},
		{"GET", "/v3/nothing", ``},
	} {
		f.Add(s.method, s.target, s.body, true)
	}
	f.Add("POST", "/v3/push", `{}`, false)
	f.Fuzz(func(t *testing.T, method, target, body string, authed bool) {
		u, err := url.ParseRequestURI(target)
		if err != nil || !validMethod(method) || strings.ContainsAny(target, "# \t\r\n") {
			t.Skip("not a request line a server would parse")
		}
		req := httptest.NewRequest(method, "/", strings.NewReader(body))
		req.URL, req.RequestURI = u, u.RequestURI()
		if authed {
			req.SetBasicAuth(app.AppKey, app.MasterSecret)
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code >= 500 {
			t.Fatalf("status %d with no fault injected: %s", rec.Code, rec.Body.String())
		}
		if !json.Valid(rec.Body.Bytes()) {
			t.Fatalf("status %d, not JSON: %q", rec.Code, rec.Body.String())
		}
		if rec.Code < 400 {
			return
		}
		var env struct {
			Error *struct {
				Code    int     `json:"code"`
				Message *string `json:"message"`
			} `json:"error"`
		}
		if json.Unmarshal(rec.Body.Bytes(), &env) != nil || env.Error == nil || env.Error.Code == 0 || env.Error.Message == nil {
			t.Fatalf("status %d, not JPush's error envelope: %s", rec.Code, rec.Body.String())
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
