package push_test

import (
	"bytes"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"reflect"
	"strings"
	"testing"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider/providertest"
)

// fuzzBodyLimit is the handlers' MaxBodyBytes in the fuzz targets: small,
// so that the fuzzer reaches 413 too.
const fuzzBodyLimit = 4096

// documented are the statuses the handlers may answer (README's "Status
// codes"), but for 500, which no body may cause. 409 (an idempotency key
// reused for another push) needs a push recorded under that key before.
var documented = map[int]bool{200: true, 400: true, 401: true, 403: true, 404: true, 405: true, 409: true, 413: true, 415: true}

// fuzzFixture is a Service on a memstore with a Mock "umeng" provider,
// holding user u1 with an iOS and an Android device and one push message
// (ID 1), and its handler.
func fuzzFixture(t *testing.T) (*fixture, http.Handler) {
	t.Helper()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "t1")
	f.register(t, "u1", "d2", "android", "t2")
	if _, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"}); err != nil {
		t.Fatal(err)
	}
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, MaxBodyBytes: fuzzBodyLimit})
	if err != nil {
		t.Fatal(err)
	}
	return f, h
}

// checkAnswer serves req and checks the handlers' promises for any input:
// no panic, a documented status other than 500, a JSON object for every
// answer and {"error":{"code","message"}} for every refusal, and nothing
// stored or sent on a 4xx.
func checkAnswer(t *testing.T, f *fixture, h http.Handler, req *http.Request) {
	t.Helper()
	before, calls := readState(t, f.store), f.mock.Calls()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	if !documented[rec.Code] {
		t.Fatalf("status %d is not a documented answer: %s", rec.Code, rec.Body.String())
	}
	if ct := rec.Header().Get("Content-Type"); ct != "application/json; charset=utf-8" {
		t.Fatalf("status %d with Content-Type %q", rec.Code, ct)
	}
	var body map[string]json.RawMessage
	if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil || body == nil {
		t.Fatalf("status %d, the body is not a JSON object: %q", rec.Code, rec.Body.String())
	}
	if rec.Code == http.StatusOK {
		return
	}
	var e struct {
		Error *struct {
			Code    *string `json:"code"`
			Message *string `json:"message"`
		} `json:"error"`
	}
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&e); err != nil || e.Error == nil || e.Error.Code == nil || *e.Error.Code == "" || e.Error.Message == nil {
		t.Fatalf("status %d, the body is not the error shape: %q", rec.Code, rec.Body.String())
	}
	if after := readState(t, f.store); !reflect.DeepEqual(before, after) {
		t.Fatalf("status %d (%s) but the store changed:\nbefore %+v\nafter  %+v", rec.Code, *e.Error.Code, before, after)
	}
	if got := f.mock.Calls(); got != calls {
		t.Fatalf("status %d (%s) but %d sends were made", rec.Code, *e.Error.Code, got-calls)
	}
}

// fuzzJSON fuzzes a JSON body to path.
func fuzzJSON(f *testing.F, path string, seeds []string) {
	for _, s := range append(seeds, "", "{", "[]", "null", `"x"`, "{}", "{} {}", `{"a":1}x`, strings.Repeat(" ", fuzzBodyLimit+1)) {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		fx, h := fuzzFixture(t)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		checkAnswer(t, fx, h, req)
	})
}

// formBoundary is the multipart boundary of the form fuzz targets.
const formBoundary = "b0undary"

// fuzzForm fuzzes a form body to path, URL-encoded or, when multipart is
// set, multipart with the boundary formBoundary.
func fuzzForm(f *testing.F, path string, seeds []string) {
	for _, s := range append(seeds, "", "%", "a=%zz", "&&&=", strings.Repeat("a", fuzzBodyLimit+1)) {
		f.Add(s, false)
	}
	for _, s := range seeds {
		f.Add(multipartOf(s), true)
	}
	f.Add("--"+formBoundary+"\r\n", true)
	f.Add("--"+formBoundary+"--\r\n", true)
	f.Fuzz(func(t *testing.T, body string, multipart bool) {
		fx, h := fuzzFixture(t)
		req := httptest.NewRequest(http.MethodPost, path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		if multipart {
			req.Header.Set("Content-Type", "multipart/form-data; boundary="+formBoundary)
		}
		checkAnswer(t, fx, h, req)
	})
}

// multipartOf encodes a URL-encoded seed as a multipart body.
func multipartOf(form string) string {
	var b strings.Builder
	for kv := range strings.SplitSeq(form, "&") {
		k, v, _ := strings.Cut(kv, "=")
		b.WriteString("--" + formBoundary + "\r\nContent-Disposition: form-data; name=\"" + k + "\"\r\n\r\n" + v + "\r\n")
	}
	b.WriteString("--" + formBoundary + "--\r\n")
	return b.String()
}

var (
	deviceJSONSeeds = []string{
		`{"user_num":"u2","uuid":"d3","push_token":"t3","push_platform":"umeng","name":"n","platform":"ios","os":"iOS","os_version":"17"}`,
		`{"user_num":"u1","uuid":"d1","push_token":"t9","platform":"ios"}`,
		`{"user_num":" u2 ","uuid":" d3 ","push_token":" t3 ","platform":"android"}`,
		`{"user_num":1001,"uuid":2,"push_token":3,"platform":"android"}`,
		`{"user_num":true,"uuid":"d3","push_token":"t3","platform":"ios"}`,
		`{"user_num":"u2","uuid":"d3","push_token":"t3","platform":"IOS"}`,
		`{"user_num":"u2","uuid":"d3","push_token":"t3","platform":"ios","push_platform":"jpush"}`,
		`{"user_num":"u2","uuid":"d3","push_token":"t3","platform":"ios","name":null}`,
		`{"user_num":"\u0000","uuid":"d3","push_token":"t3","platform":"ios"}`,
		`{"user_num":"u2","uuid":"d3","push_token":"t3","platform":"ios","os_version":1e400}`,
	}
	deviceFormSeeds = []string{
		"user_num=u2&uuid=d3&push_token=t3&platform=ios&push_platform=umeng&name=n&os=iOS&os_version=17",
		"user_num=u2&user_num=u3&uuid=d3&push_token=t3&platform=android",
		"user_num=%20&uuid=d3&push_token=t3&platform=ios",
		"user_num=u2&uuid=d3&push_token=t3&platform=ios&name=" + strings.Repeat("%E5%90%8D", 300),
	}
	pushJSONSeeds = []string{
		`{"user_num":"u1","title":"t","content":"c"}`,
		`{"user_num":"u1","title":"到货提醒","content":"您关注的商品已到货 🎉","extra":{"page":"order","id":42,"vip":true}}`,
		`{"user_nums":["u1"," u1 ","nobody"],"title":"t","content":"c","class":"marketing"}`,
		`{"user_num":"u1","title":"t","content":"c","extra":"{\"k\":\"v\"}"}`,
		`{"user_num":"u1","title":"t","content":"c","extra":[1]}`,
		`{"user_num":"u1","title":"t","content":"c","extra":null}`,
		`{"user_num":"u1","title":"t","content":"c","class":"urgent"}`,
		`{"user_num":"u1","title":"t","content":"c","overrides":{"umeng":{"channel_properties":{"channel_activity":"a"}}}}`,
		`{"user_num":"u1","title":"t","content":"c","overrides":"x"}`,
		`{"user_num":"nobody","title":"t","content":"c"}`,
		`{"user_nums":"u1","title":"t","content":"c"}`,
		`{"user_nums":[null,1],"title":"t","content":"c"}`,
		`{"user_num":"u1","title":"","content":""}`,
		`{"user_num":"u1","title":"t","content":"c","extra":{"":"x","aps":"y"}}`,
		`{"user_num":"u1","title":"t","content":"c","idempotency_key":"order-42"}`,
		`{"user_num":"u1","title":"t","content":"c","idempotency_key":""}`,
		`{"user_num":"u1","title":"t","content":"c","idempotency_key":7}`,
	}
	pushFormSeeds = []string{
		"user_num=u1&title=t&content=c",
		"user_nums=u1&user_nums=nobody&title=t&content=c&class=service",
		"user_num=u1&title=t&content=c&extra=%7B%22k%22%3A%22v%22%7D",
		"user_num=u1&title=t&content=c&extra=%5B1%5D",
		"user_num=u1&title=t&content=c&overrides=%7B%22umeng%22%3A1%7D",
		"user_num=u1&title=t&content=c&extra=null",
		"user_num=u1&title=t&content=c&idempotency_key=order-42",
	}
	logoutJSONSeeds = []string{
		`{"user_num":"u1","user_device_id":1}`,
		`{"user_num":"u1","user_device_id":"2"}`,
		`{"user_num":"u2","user_device_id":1}`,
		`{"user_num":"u1","user_device_id":999}`,
		`{"user_num":"u1","user_device_id":-1}`,
		`{"user_num":"u1","user_device_id":1.5}`,
		`{"user_num":"u1","user_device_id":1e3}`,
		`{"user_num":"u1","user_device_id":99999999999999999999}`,
		`{"user_num":"u1","user_device_id":true}`,
		`{"user_num":"","user_device_id":1}`,
	}
	logoutFormSeeds = []string{
		"user_num=u1&user_device_id=1",
		"user_num=u2&user_device_id=2",
		"user_num=u1&user_device_id=+1",
		"user_num=u1&user_device_id=0x1",
		"user_num=u1",
	}
)

// FuzzRegisterDeviceJSON fuzzes POST /api/v1.1/app/device with a JSON body.
func FuzzRegisterDeviceJSON(f *testing.F) { fuzzJSON(f, push.PathDevice, deviceJSONSeeds) }

// FuzzRegisterDeviceForm fuzzes POST /api/v1.1/app/device with a form body.
func FuzzRegisterDeviceForm(f *testing.F) { fuzzForm(f, push.PathDevice, deviceFormSeeds) }

// FuzzPushMessageJSON fuzzes POST /api/v1.1/user/push_message with a JSON
// body.
func FuzzPushMessageJSON(f *testing.F) { fuzzJSON(f, push.PathPushMessage, pushJSONSeeds) }

// FuzzPushMessageForm fuzzes POST /api/v1.1/user/push_message with a form
// body.
func FuzzPushMessageForm(f *testing.F) { fuzzForm(f, push.PathPushMessage, pushFormSeeds) }

// FuzzLogoutJSON fuzzes POST /api/v1.1/user/logout with a JSON body.
func FuzzLogoutJSON(f *testing.F) { fuzzJSON(f, push.PathLogout, logoutJSONSeeds) }

// FuzzLogoutForm fuzzes POST /api/v1.1/user/logout with a form body.
func FuzzLogoutForm(f *testing.F) { fuzzForm(f, push.PathLogout, logoutFormSeeds) }

// FuzzQueryPushMessage fuzzes the query string of GET
// /api/v1.1/query/push_message, and the method and path of any request
// ServeHTTP is given.
func FuzzQueryPushMessage(f *testing.F) {
	for _, s := range []string{"push_message_id=1", "push_message_id=2", "push_message_id=0", "push_message_id=-1",
		"push_message_id=+1", "push_message_id=%201%20", "push_message_id=1&push_message_id=2", "push_message_id=%zz",
		"push_message_id=99999999999999999999", "push_message_id=1e3", "", "x=1", ";"} {
		f.Add("GET", push.PathQueryPush, s)
	}
	f.Add("POST", push.PathQueryPush, "push_message_id=1")
	f.Add("GET", "/api/v1.1/nothing", "")
	f.Add("GET", push.PathDevice, "")
	f.Add("HEAD", push.PathQueryPush, "push_message_id=1")
	f.Fuzz(func(t *testing.T, method, path, query string) {
		u, err := url.ParseRequestURI(path + "?" + query)
		if !validMethod(method) || err != nil || strings.ContainsAny(path+query, "# \t\r\n") {
			t.Skip("not a request line a server would parse")
		}
		fx, h := fuzzFixture(t)
		req := httptest.NewRequest(method, "/", nil)
		req.URL, req.RequestURI = u, u.RequestURI()
		checkAnswer(t, fx, h, req)
	})
}

// validMethod reports whether m is an HTTP token, as httptest.NewRequest
// requires.
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
