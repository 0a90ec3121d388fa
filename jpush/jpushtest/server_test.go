package jpushtest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    []byte
}

func (a answer) code() int {
	e, ok := a.body["error"].(map[string]any)
	if !ok {
		return 0
	}
	n, _ := e["code"].(json.Number).Int64()
	return int(n)
}

// call sends method path with body and the default app's Basic auth
// unless auth is given ("" sends none).
func call(t *testing.T, s *Server, method, path, body string, auth ...string) answer {
	t.Helper()
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, s.URL+path, rd)
	require.NoError(t, err)
	app := DefaultApps()[0]
	if len(auth) == 0 {
		req.SetBasicAuth(app.AppKey, app.MasterSecret)
	} else if auth[0] != "" {
		req.Header.Set("Authorization", auth[0])
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	a := answer{status: resp.StatusCode, header: resp.Header, raw: raw}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	_ = dec.Decode(&a.body)
	return a
}

func basic(user, pass string) string {
	r, _ := http.NewRequest(http.MethodGet, "http://x", nil)
	r.SetBasicAuth(user, pass)
	return r.Header.Get("Authorization")
}

var rid1, rid2 = RegistrationID("a"), RegistrationID("b")

func pushBody(audience string) string {
	return `{"platform":["android"],"audience":` + audience + `,"notification":{"android":{"alert":"hi","title":"t","extras":{"k":"v","n":1}}},"options":{"sendno":7,"time_to_live":60,"apns_production":false}}`
}

func TestAuth(t *testing.T) {
	s := NewServer(t, Config{})
	app := DefaultApps()[0]
	tests := []struct {
		name   string
		auth   string
		status int
		code   int
	}{
		{"none", "", 401, CodeAuth},
		{"bearer", "Bearer x", 401, CodeAuth},
		{"not base64", "Basic !!!", 401, CodeAuth},
		{"no colon", "Basic " + "YWJj", 401, CodeAuth},
		{"wrong secret", basic(app.AppKey, "nope"), 401, CodeAuth},
		{"unknown key", basic("ffffffffffffffffffffffff", app.MasterSecret), 401, CodeAuth},
		{"malformed key", basic("KEY", app.MasterSecret), 400, CodeBadAppKey},
		{"key of 25 hex digits", basic("fffffffffffffffffffffffff", app.MasterSecret), 400, CodeBadAppKey},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, http.MethodPost, "/v3/push", pushBody(`"all"`), tt.auth)
			assert.Equal(t, tt.status, a.status)
			assert.Equal(t, tt.code, a.code())
			assert.NotContains(t, string(a.raw), app.MasterSecret)
		})
	}
	assert.Empty(t, s.Pushes())
	for _, r := range s.Requests() {
		assert.False(t, r.Authorized)
	}
}

func TestRoutes(t *testing.T) {
	s := NewServer(t, Config{})
	a := call(t, s, http.MethodGet, "/v3/nothing", "")
	assert.Equal(t, 404, a.status)
	assert.Equal(t, CodeNotFound, a.code())
	a = call(t, s, http.MethodGet, "/v3/push", "")
	assert.Equal(t, 405, a.status)
	assert.Equal(t, CodeMethod, a.code())
	assert.Equal(t, "POST", a.header.Get("Allow"))
	a = call(t, s, http.MethodPost, "/v3/push/123", "")
	assert.Equal(t, 405, a.status)
	assert.Equal(t, 1, s.Arrived(""))
	assert.Equal(t, 1, s.Arrived("/v3/push"))
	assert.Equal(t, 1, s.Arrived("/v3/push/{msg_id}"))
}

// TestPushValidation checks the body rules of the package documentation
// row by row.
func TestPushValidation(t *testing.T) {
	s := NewServer(t, Config{})
	ok := func(edit func(m map[string]any)) string {
		m := map[string]any{
			"platform": []any{"android"},
			"audience": map[string]any{"registration_id": []any{rid1}},
			"notification": map[string]any{"android": map[string]any{"alert": "hi"},
				"ios": map[string]any{"alert": "hi"}},
			"options": map[string]any{"sendno": 1},
		}
		edit(m)
		b, _ := json.Marshal(m)
		return string(b)
	}
	notif := func(m map[string]any) map[string]any { return m["notification"].(map[string]any) }
	android := func(m map[string]any) map[string]any { return notif(m)["android"].(map[string]any) }
	ios := func(m map[string]any) map[string]any { return notif(m)["ios"].(map[string]any) }
	opts := func(m map[string]any) map[string]any { return m["options"].(map[string]any) }
	tests := []struct {
		name string
		body string
		code int
	}{
		{"valid", ok(func(map[string]any) {}), 0},
		{"not json", `{`, CodeInvalid},
		{"array body", `[]`, CodeInvalid},
		{"no platform", ok(func(m map[string]any) { delete(m, "platform") }), CodeMissing},
		{"platform string", ok(func(m map[string]any) { m["platform"] = "android" }), CodeInvalid},
		{"platform all", ok(func(m map[string]any) { m["platform"] = "all" }), 0},
		{"platform unknown", ok(func(m map[string]any) { m["platform"] = []any{"winphone"} }), CodeInvalid},
		{"platform repeated", ok(func(m map[string]any) { m["platform"] = []any{"ios", "ios"} }), CodeInvalid},
		{"no audience", ok(func(m map[string]any) { delete(m, "audience") }), CodeMissing},
		{"audience empty", ok(func(m map[string]any) { m["audience"] = map[string]any{} }), CodeInvalid},
		{"audience another string", ok(func(m map[string]any) { m["audience"] = "everyone" }), CodeInvalid},
		{"audience unknown type", ok(func(m map[string]any) { m["audience"] = map[string]any{"user": []any{"x"}} }), CodeInvalid},
		{"audience not array", ok(func(m map[string]any) { m["audience"] = map[string]any{"alias": "x"} }), CodeInvalid},
		{"alias of 40 bytes", ok(func(m map[string]any) { m["audience"] = map[string]any{"alias": []any{strings.Repeat("a", 40)}} }), CodeNoTarget}, // valid; nobody has it
		{"alias of 41 bytes", ok(func(m map[string]any) { m["audience"] = map[string]any{"alias": []any{strings.Repeat("a", 41)}} }), CodeInvalid},
		{"tag of 42 bytes", ok(func(m map[string]any) { m["audience"] = map[string]any{"tag": []any{strings.Repeat("标", 14)}} }), CodeInvalid},
		{"malformed rid", ok(func(m map[string]any) { m["audience"] = map[string]any{"registration_id": []any{"short"}} }), CodeInvalid},
		{"21 tags", ok(func(m map[string]any) {
			tags := make([]any, 21)
			for i := range tags {
				tags[i] = fmt.Sprint("t", i)
			}
			m["audience"] = map[string]any{"tag": tags}
		}), CodeInvalid},
		{"tag_not alone", ok(func(m map[string]any) { m["audience"] = map[string]any{"tag_not": []any{"x"}} }), CodeInvalid},
		{"21 tag_not", ok(func(m map[string]any) {
			tags := make([]any, 21)
			for i := range tags {
				tags[i] = fmt.Sprint("t", i)
			}
			m["audience"] = map[string]any{"tag": []any{"vip"}, "tag_not": tags}
		}), CodeInvalid},
		{"no content", ok(func(m map[string]any) { delete(m, "notification") }), CodeMissing},
		{"android without alert", ok(func(m map[string]any) { delete(android(m), "alert") }), CodeMissing},
		{"android alert from top", ok(func(m map[string]any) { delete(android(m), "alert"); notif(m)["alert"] = "top" }), 0},
		{"android empty alert", ok(func(m map[string]any) { android(m)["alert"] = "" }), CodeInvalid},
		{"android title number", ok(func(m map[string]any) { android(m)["title"] = 1 }), CodeInvalid},
		{"android style 1 without big_text", ok(func(m map[string]any) { android(m)["style"] = 1 }), CodeInvalid},
		{"android priority", ok(func(m map[string]any) { android(m)["priority"] = 3 }), CodeInvalid},
		{"android extras array", ok(func(m map[string]any) { android(m)["extras"] = []any{} }), CodeInvalid},
		{"android intent without url", ok(func(m map[string]any) { android(m)["intent"] = map[string]any{} }), CodeInvalid},
		{"ios without alert", ok(func(m map[string]any) { delete(ios(m), "alert") }), CodeMissing},
		{"ios empty alert", ok(func(m map[string]any) { ios(m)["alert"] = ""; ios(m)["content-available"] = true }), 0},
		{"ios alert number", ok(func(m map[string]any) { ios(m)["alert"] = 1 }), CodeInvalid},
		{"ios content-available number", ok(func(m map[string]any) { ios(m)["content-available"] = 1 }), CodeInvalid},
		{"ios badge +1", ok(func(m map[string]any) { ios(m)["badge"] = "+1" }), 0},
		{"ios badge negative", ok(func(m map[string]any) { ios(m)["badge"] = -1 }), CodeInvalid},
		{"notification unknown", ok(func(m map[string]any) { notif(m)["winphone"] = map[string]any{} }), CodeInvalid},
		{"message without content", ok(func(m map[string]any) { m["message"] = map[string]any{"title": "t"} }), CodeMissing},
		{"message empty content", ok(func(m map[string]any) { m["message"] = map[string]any{"msg_content": ""} }), CodeInvalid},
		{"message only", ok(func(m map[string]any) { delete(m, "notification"); m["message"] = map[string]any{"msg_content": "x"} }), 0},
		{"too large", ok(func(m map[string]any) { android(m)["alert"] = strings.Repeat("x", 4000) }), CodeTooLarge},
		// {"msg_content":"…"} is 18 bytes and the content's.
		{"message of 4000 bytes", ok(func(m map[string]any) {
			delete(m, "notification")
			m["message"] = map[string]any{"msg_content": strings.Repeat("x", 3982)}
		}), 0},
		{"message of 4001 bytes", ok(func(m map[string]any) {
			delete(m, "notification")
			m["message"] = map[string]any{"msg_content": strings.Repeat("x", 3983)}
		}), CodeTooLarge},
		// "ios":{"alert":"…"} is 18 bytes and the alert's.
		{"ios notification of 2000 bytes", ok(func(m map[string]any) { ios(m)["alert"] = strings.Repeat("x", 1982) }), 0},
		{"ios notification of 2001 bytes", ok(func(m map[string]any) { ios(m)["alert"] = strings.Repeat("x", 1983) }), CodeTooLarge},
		{"android notification of 3000 bytes", ok(func(m map[string]any) { android(m)["alert"] = strings.Repeat("x", 3000) }), 0},
		{"sendno string", ok(func(m map[string]any) { opts(m)["sendno"] = "1" }), CodeInvalid},
		{"ttl over ten days", ok(func(m map[string]any) { opts(m)["time_to_live"] = 864001 }), CodeInvalid},
		{"ttl ten days", ok(func(m map[string]any) { opts(m)["time_to_live"] = 864000 }), 0},
		{"apns_production string", ok(func(m map[string]any) { opts(m)["apns_production"] = "true" }), CodeInvalid},
		{"unknown option", ok(func(m map[string]any) { opts(m)["priority"] = 1 }), CodeInvalid},
		{"third party unknown maker", ok(func(m map[string]any) {
			opts(m)["third_party_channel"] = map[string]any{"nokia": map[string]any{}}
		}), CodeInvalid},
		{"third party distribution", ok(func(m map[string]any) {
			opts(m)["third_party_channel"] = map[string]any{"xiaomi": map[string]any{"distribution": "first"}}
		}), CodeInvalid},
		{"third party ok", ok(func(m map[string]any) {
			opts(m)["third_party_channel"] = map[string]any{"huawei": map[string]any{"distribution": "ospush", "importance": "HIGH"},
				"oppo": map[string]any{"category": "IM", "notify_level": 16, "skip_quota": true},
				"fcm":  map[string]any{"distribution_fcm": "secondary_fcm_push"}, "hmos": map[string]any{"distribution": "first_ospush"}}
		}), 0},
		{"third party distribution_fcm", ok(func(m map[string]any) {
			opts(m)["third_party_channel"] = map[string]any{"fcm": map[string]any{"distribution_fcm": "first"}}
		}), CodeInvalid},
		{"third party notify_level", ok(func(m map[string]any) {
			opts(m)["third_party_channel"] = map[string]any{"oppo": map[string]any{"category": "IM", "notify_level": 3}}
		}), CodeInvalid},
		{"third party notify_level without category", ok(func(m map[string]any) {
			opts(m)["third_party_channel"] = map[string]any{"oppo": map[string]any{"notify_level": 1}}
		}), CodeInvalid},
		{"third party skip_quota", ok(func(m map[string]any) {
			opts(m)["third_party_channel"] = map[string]any{"xiaomi": map[string]any{"skip_quota": "yes"}}
		}), CodeInvalid},
		{"unknown top-level", ok(func(m map[string]any) { m["priority"] = 1 }), CodeInvalid},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := call(t, s, http.MethodPost, "/v3/push/validate", tt.body)
			assert.Equal(t, tt.code, a.code(), "answer %s", a.raw)
			if tt.code == 0 {
				assert.Equal(t, 200, a.status)
				assert.Equal(t, "0", a.body["msg_id"])
			} else {
				assert.Equal(t, 400, a.status)
			}
		})
	}
	assert.Empty(t, s.Deliveries(), "validate delivers nothing")
	assert.Empty(t, s.Pushes())
}

func TestPushDeliversAndRecords(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewServer(t, Config{Now: func() time.Time { return clock }})
	s.MarkInvalid(rid2)
	a := call(t, s, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid1+`","`+rid2+`"]}`))
	require.Equal(t, 200, a.status, "%s", a.raw)
	id, ok := a.body["msg_id"].(string)
	require.True(t, ok, "msg_id is a string by default")
	assert.Equal(t, "7", a.body["sendno"])
	assert.Equal(t, 1, s.DeliveryCount(rid1))
	assert.Zero(t, s.DeliveryCount(rid2))
	d := s.Deliveries()[0]
	assert.Equal(t, Delivery{AppKey: DefaultApps()[0].AppKey, RegistrationID: rid1, MsgID: id, Platform: "android",
		Alert: "hi", Title: "t", Extras: map[string]string{"k": "v", "n": "1"}, At: clock}, d)
	p := s.Pushes()[0]
	assert.Equal(t, []string{rid1, rid2}, p.RegistrationIDs)
	assert.EqualValues(t, 7, p.SendNo)
	assert.EqualValues(t, 60, *p.TimeToLive)
	assert.False(t, *p.APNsProduction)
	assert.True(t, p.Authorized)

	a = call(t, s, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid2+`"]}`))
	assert.Equal(t, CodeNoTarget, a.code())

	// Audiences against registered devices.
	key := DefaultApps()[0].AppKey
	require.NoError(t, s.AddDevice(key, Device{RegistrationID: rid1, Platform: "android", Alias: "u1", Tags: []string{"vip"}, Segments: []string{"g"}}))
	require.NoError(t, s.AddDevice(key, Device{RegistrationID: RegistrationID("c"), Platform: "ios", Alias: "u1", Tags: []string{"vip", "muted"}}))
	for aud, want := range map[string]int{
		`"all"`: 200, `{"alias":["u1"]}`: 200, `{"alias":["u9"]}`: 400, `{"tag":["vip"],"tag_not":["muted"]}`: 200,
		`{"tag_and":["vip","muted"]}`: 400, // the only match is an iOS device
		`{"segment":["g"]}`:           200,
	} {
		a := call(t, s, http.MethodPost, "/v3/push", pushBody(aud))
		assert.Equal(t, want, a.status, "%s: %s", aud, a.raw)
	}
	s.Reset()
	assert.Empty(t, s.Requests())
	assert.Empty(t, s.Deliveries())
	assert.Equal(t, 8, s.Arrived("/v3/push"), "Reset does not clear Arrived")
}

func TestNumericMsgIDAndErrorMsgID(t *testing.T) {
	s := NewServer(t, Config{NumericMsgID: true})
	a := call(t, s, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid1+`"]}`))
	_, isNum := a.body["msg_id"].(json.Number)
	assert.True(t, isNum, "%s", a.raw)

	s2 := NewServer(t, Config{})
	require.NoError(t, s2.FailNext(1, Fault{NumericMsgID: true}))
	require.NoError(t, s2.FailNext(1, Fault{Code: CodeNoTarget, WithMsgID: true}))
	a = call(t, s2, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid1+`"]}`))
	_, isNum = a.body["msg_id"].(json.Number)
	assert.True(t, isNum)
	a = call(t, s2, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid1+`"]}`))
	assert.Equal(t, CodeNoTarget, a.code())
	assert.NotEmpty(t, a.body["msg_id"], "an error body may carry a msg_id")
	assert.Equal(t, 1, s2.DeliveryCount(rid1), "the fault replaced the second push")
}

func TestRateLimit(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, fam := range []HeaderFamily{HeadersDocs, HeadersSDK, HeadersBoth} {
		s := NewServer(t, Config{Now: func() time.Time { return clock }, RateLimit: 2, RateWindow: time.Minute, RateHeaders: fam})
		body := pushBody(`{"registration_id":["` + rid1 + `"]}`)
		a := call(t, s, http.MethodPost, "/v3/push", body)
		assert.Equal(t, "1", a.header.Get("X-Rate-Limit-Remaining"))
		call(t, s, http.MethodPost, "/v3/push/validate", body)
		a = call(t, s, http.MethodPost, "/v3/push", body)
		assert.Equal(t, 429, a.status)
		assert.Equal(t, CodeRateLimited, a.code())
		assert.Equal(t, "0", a.header.Get("X-Rate-Limit-Remaining"))
		assert.Equal(t, "60", a.header.Get("X-Rate-Limit-Reset"))
		assert.Equal(t, fam != HeadersSDK, a.header.Get("X-Rate-Limit-Quota") == "2", "family %d", fam)
		assert.Equal(t, fam != HeadersDocs, a.header.Get("X-Rate-Limit-Limit") == "2", "family %d", fam)
	}
	s := NewServer(t, Config{})
	require.NoError(t, s.FailNext(1, Fault{Code: CodeRateLimited, Reset: 7 * time.Second, Headers: HeadersSDK}))
	a := call(t, s, http.MethodPost, "/v3/push", pushBody(`"all"`))
	assert.Equal(t, 429, a.status)
	assert.Equal(t, "7", a.header.Get("X-Rate-Limit-Reset"))
	assert.Equal(t, "0", a.header.Get("X-Rate-Limit-Limit"))
}

func TestFaults(t *testing.T) {
	s := NewServer(t, Config{})
	body := pushBody(`{"registration_id":["` + rid1 + `"]}`)
	require.NoError(t, s.FailNext(2, Fault{Path: "/v3/push", Code: CodeInternal}))
	for range 2 {
		a := call(t, s, http.MethodPost, "/v3/push", body)
		assert.Equal(t, 500, a.status)
		assert.Equal(t, CodeInternal, a.code())
	}
	assert.Equal(t, 200, call(t, s, http.MethodPost, "/v3/push", body).status)

	require.NoError(t, s.FailNext(1, Fault{HTTPStatus: 502}))
	a := call(t, s, http.MethodPost, "/v3/push", body)
	assert.Equal(t, 502, a.status)
	assert.Equal(t, "text/plain; charset=utf-8", a.header.Get("Content-Type"))

	for code, status := range map[int]int{CodeAuth: 401, CodeInternalTimeout: 503, CodeVolumeExceeded: 403, CodeInvalid: 400} {
		require.NoError(t, s.FailNext(1, Fault{Code: code}))
		assert.Equal(t, status, call(t, s, http.MethodPost, "/v3/push", body).status, "code %d", code)
	}

	// A dropped connection after the push was accepted.
	require.NoError(t, s.FailNext(1, Fault{Timeout: true, AfterAccept: true, Delay: time.Millisecond}))
	before := s.DeliveryCount(rid1)
	_, err := http.Post(s.URL+"/v3/push", "application/json", strings.NewReader(body))
	require.Error(t, err, "the connection is dropped")
	assert.Equal(t, before, s.DeliveryCount(rid1), "unauthenticated: nothing happened")
	req, _ := http.NewRequest(http.MethodPost, s.URL+"/v3/push", strings.NewReader(body))
	req.SetBasicAuth(DefaultApps()[0].AppKey, DefaultApps()[0].MasterSecret)
	require.NoError(t, s.FailNext(1, Fault{Timeout: true, AfterAccept: true, Delay: time.Millisecond}))
	_, err = http.DefaultClient.Do(req)
	require.Error(t, err)
	assert.Equal(t, before+1, s.DeliveryCount(rid1), "accepted, then the answer was lost")
	last := s.Requests()[len(s.Requests())-1]
	assert.True(t, last.Accepted)
	assert.True(t, last.Fault)
	assert.Zero(t, last.StatusCode)

	// FailRate is reproducible.
	outcomes := func() []int {
		s := NewServer(t, Config{})
		require.NoError(t, s.FailRate(0.5, Fault{Code: CodeInternal}, 42))
		var out []int
		for range 20 {
			out = append(out, call(t, s, http.MethodPost, "/v3/push", body).status)
		}
		return out
	}
	first := outcomes()
	assert.Equal(t, first, outcomes())
	assert.Contains(t, first, 500)
	assert.Contains(t, first, 200)

	for _, f := range []Fault{{}, {Path: "/nope", Code: 1}, {HTTPStatus: 99}, {Code: -1}, {Headers: 9, Code: 1}} {
		assert.ErrorIs(t, s.FailNext(1, f), ErrInvalidArgument, "%+v", f)
	}
	assert.ErrorIs(t, s.FailNext(0, Fault{Code: 1}), ErrInvalidArgument)
	assert.ErrorIs(t, s.FailRate(2, Fault{Code: 1}, 1), ErrInvalidArgument)
	assert.ErrorIs(t, s.SetLatency(-1), ErrInvalidArgument)
}

func TestLatencyAndStall(t *testing.T) {
	s := NewServer(t, Config{})
	body := pushBody(`{"registration_id":["` + rid1 + `"]}`)
	require.NoError(t, s.SetLatency(30*time.Millisecond))
	start := time.Now()
	call(t, s, http.MethodPost, "/v3/push", body)
	assert.GreaterOrEqual(t, time.Since(start), 30*time.Millisecond)
	s.ClearFaults()

	release := s.Stall()
	done := make(chan answer, 1)
	go func() { done <- call(t, s, http.MethodPost, "/v3/push", body) }()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.WaitStalled(ctx, 1))
	assert.Equal(t, 1, s.Stalled())
	assert.Equal(t, 1, s.DeliveryCount(rid1), "a stalled push has changed nothing")
	release()
	release()
	assert.Equal(t, 200, (<-done).status)
	assert.Equal(t, 2, s.DeliveryCount(rid1))
}

func TestReportsAndWithdraw(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	s := NewServer(t, Config{Now: func() time.Time { return clock }})
	s.MarkInvalid(rid2)
	a := call(t, s, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid1+`","`+rid2+`"]}`))
	id := a.body["msg_id"].(string)

	a = call(t, s, http.MethodGet, "/v3/received/detail?msg_ids="+id+",1", "")
	require.Equal(t, 200, a.status, "%s", a.raw)
	var list []map[string]any
	require.NoError(t, json.Unmarshal(a.raw, &list))
	require.Len(t, list, 1, "unknown msg_ids are left out")
	assert.EqualValues(t, 1, list[0]["jpush_received"])
	assert.EqualValues(t, 0, list[0]["android_pns_sent"])
	assert.Nil(t, list[0]["ios_apns_sent"], "no iOS device")
	assert.Contains(t, list[0], "hmos_hmpns_sent", "every documented field is present")
	for k := range list[0] {
		assert.NotContains(t, k, "target", "JPush's answer has no count of targets")
	}
	assert.Equal(t, CodeMissing, call(t, s, http.MethodGet, "/v3/received/detail", "").code())
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodGet, "/v3/received/detail?msg_ids=x", "").code())

	a = call(t, s, http.MethodPost, "/v3/status/message", `{"msg_id":`+id+`,"registration_ids":["`+rid1+`","`+rid2+`","`+RegistrationID("z")+`","bad"]}`)
	require.Equal(t, 200, a.status, "%s", a.raw)
	var st map[string]map[string]int
	require.NoError(t, json.Unmarshal(a.raw, &st))
	assert.Equal(t, map[string]map[string]int{rid1: {"status": 0}, rid2: {"status": 1}, RegistrationID("z"): {"status": 3}, "bad": {"status": 2}}, st)
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/status/message", `{"msg_id":"`+id+`","registration_ids":["a"]}`).code())
	assert.Equal(t, CodeMissing, call(t, s, http.MethodPost, "/v3/status/message", `{"msg_id":`+id+`}`).code())
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/status/message", `{"msg_id":1,"registration_ids":["a"]}`).code())
	// Looked up on the day named, by default today in Beijing time
	// (11:04 there).
	day := `,"registration_ids":["` + rid1 + `"],"date":`
	assert.Equal(t, 200, call(t, s, http.MethodPost, "/v3/status/message", `{"msg_id":`+id+day+`"2026-01-02"}`).status)
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/status/message", `{"msg_id":`+id+day+`"2026-01-01"}`).code(), "another day")
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/status/message", `{"msg_id":`+id+day+`"2026-1-2"}`).code(), "not a day")
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/status/message", `{"msg_id":`+id+day+`20260102}`).code(), "not a string")

	assert.Equal(t, 200, call(t, s, http.MethodDelete, "/v3/push/"+id, "").status)
	assert.True(t, s.Withdrawn(id))
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodDelete, "/v3/push/"+id, "").code(), "twice")
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodDelete, "/v3/push/1", "").code(), "unknown")
	a = call(t, s, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid1+`"]}`))
	clock = clock.Add(time.Minute)
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodDelete, "/v3/push/"+a.body["msg_id"].(string), "").code(), "past its ttl")
}

func TestConfigAndIDs(t *testing.T) {
	for _, cfg := range []Config{
		{Apps: []App{}},
		{Apps: []App{{AppKey: "short", MasterSecret: "s"}}},
		{Apps: []App{{AppKey: DefaultApps()[0].AppKey}}},
		{Apps: []App{DefaultApps()[0], DefaultApps()[0]}},
		{RateLimit: -1},
		{RateHeaders: 7},
		{Keep: -1},
	} {
		_, err := New(cfg)
		assert.ErrorIs(t, err, ErrInvalidConfig, "%+v", cfg.Apps)
		if err != nil {
			assert.NotContains(t, err.Error(), DefaultApps()[0].MasterSecret)
		}
	}
	s, err := New(Config{})
	require.NoError(t, err)
	s.Close()
	assert.ErrorIs(t, s.Start(), ErrClosed)

	assert.True(t, wellFormedRegistrationID(RegistrationID("x")))
	assert.Len(t, RegistrationID("x"), 19)
	assert.Equal(t, RegistrationID("x"), RegistrationID("x"))
	assert.NotEqual(t, RegistrationID("x"), RegistrationID("y"))

	srv := NewServer(t, Config{})
	assert.ErrorIs(t, srv.AddDevice("nope", Device{RegistrationID: rid1}), ErrInvalidArgument)
	assert.ErrorIs(t, srv.AddDevice(DefaultApps()[0].AppKey, Device{RegistrationID: "bad"}), ErrInvalidArgument)
	assert.ErrorIs(t, srv.AddDevice(DefaultApps()[0].AppKey, Device{RegistrationID: rid1, Platform: "web"}), ErrInvalidArgument)
	assert.True(t, errors.Is(srv.Start(), ErrInvalidArgument))
}

// TestClientGoldenBodiesAccepted posts every golden body of package jpush
// to the fake's validate endpoint: what the client sends, the fake accepts.
func TestClientGoldenBodiesAccepted(t *testing.T) {
	files, err := filepath.Glob("../testdata/*.json")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	s := NewServer(t, Config{})
	key := DefaultApps()[0].AppKey
	for _, p := range []string{"android", "ios"} {
		require.NoError(t, s.AddDevice(key, Device{RegistrationID: RegistrationID(p), Platform: p, Alias: "u1001",
			Tags: []string{"vip", "beta", "shenzhen"}, Segments: []string{"seg-0001"}}))
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			a := call(t, s, http.MethodPost, "/v3/push/validate", string(b))
			assert.Equal(t, 200, a.status, "%s", a.raw)
		})
	}
}

func TestCIDs(t *testing.T) {
	clock := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	other := App{AppKey: "fedcba9876543210fedcba98", MasterSecret: "othermastersecret000000000000001"}
	s := NewServer(t, Config{Now: func() time.Time { return clock }, Apps: append(DefaultApps(), other)})
	cidList := func(a answer) []string {
		t.Helper()
		require.Equal(t, 200, a.status, "%s", a.raw)
		var v struct{ Cidlist []string }
		require.NoError(t, json.Unmarshal(a.raw, &v))
		return v.Cidlist
	}
	assert.Len(t, cidList(call(t, s, http.MethodGet, "/v3/push/cid", "")), 1, "count defaults to 1")
	assert.Len(t, cidList(call(t, s, http.MethodGet, "/v3/push/cid?count=50&type=push", "")), 10, "10 at most without VIP")
	list := cidList(call(t, s, http.MethodGet, "/v3/push/cid?count=3", ""))
	require.Len(t, list, 3)
	assert.True(t, strings.HasPrefix(list[0], DefaultApps()[0].AppKey+"-"), "{appkey}-{uuid}: %s", list[0])
	assert.Len(t, list[0], 24+1+36)
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodGet, "/v3/push/cid?count=0", "").code())
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodGet, "/v3/push/cid?type=x", "").code())
	assert.Equal(t, 14, s.CIDsIssued())

	withCID := func(cid string) string {
		return `{"cid":"` + cid + `",` + strings.TrimPrefix(pushBody(`{"registration_id":["`+rid1+`"]}`), "{")
	}
	// Validating with a cid spends nothing.
	assert.Equal(t, 200, call(t, s, http.MethodPost, "/v3/push/validate", withCID(list[0])).status)
	a := call(t, s, http.MethodPost, "/v3/push", withCID(list[0]))
	require.Equal(t, 200, a.status, "%s", a.raw)
	b := call(t, s, http.MethodPost, "/v3/push", withCID(list[0]))
	require.Equal(t, 200, b.status, "%s", b.raw)
	assert.Equal(t, a.body, b.body, "the first answer again")
	assert.Equal(t, 1, s.DeliveryCount(rid1), "nothing pushed twice")
	pushes := s.Pushes()
	assert.True(t, pushes[len(pushes)-1].Duplicate)
	assert.Equal(t, list[0], pushes[len(pushes)-1].CID)

	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/push", withCID("0123456789abcdef01234567-nope")).code(), "not issued")
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/push", `{"cid":7,`+strings.TrimPrefix(pushBody(`{"registration_id":["`+rid1+`"]}`), "{")).code(), "not a string")
	theirs := cidList(call(t, s, http.MethodGet, "/v3/push/cid", "", basic(other.AppKey, other.MasterSecret)))
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/push", withCID(theirs[0])).code(), "another app's")
	clock = clock.Add(CIDLifetime)
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/push", withCID(list[1])).code(), "a day old")
	assert.Equal(t, 1, s.DeliveryCount(rid1))
}

// TestKeepBoundsWhatTheServerRemembers: under Keep the oldest requests and
// deliveries are forgotten; the latest push's deliveries stay whole.
func TestKeepBoundsWhatTheServerRemembers(t *testing.T) {
	s := NewServer(t, Config{Keep: 2})
	var rids []string
	for i := range 4 {
		rid := RegistrationID(strconv.Itoa(i))
		rids = append(rids, rid)
		a := call(t, s, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid+`"]}`))
		require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	}
	var got []string
	for _, d := range s.Deliveries() {
		got = append(got, d.RegistrationID)
	}
	assert.Equal(t, rids[1:], got, "the latest push's delivery and the newest two before it")
	reqs := s.Requests()
	require.Len(t, reqs, 2, "the newest two requests")
	assert.Equal(t, []int{3, 4}, []int{reqs[0].Seq, reqs[1].Seq})
	assert.Equal(t, 4, s.Arrived("/v3/push"), "arrivals are counted beyond the bound")
	a := call(t, s, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid1+`","`+rid2+`"]}`))
	require.Equal(t, http.StatusOK, a.status, "%s", a.raw)
	assert.Len(t, s.Deliveries(), 4, "a push to two devices keeps both, after the two before it")
}

// TestReceivedDetailTakes100MsgIDs pins the documented limit of
// GET /v3/received/detail: 100 msg_ids are answered, 101 refused.
func TestReceivedDetailTakes100MsgIDs(t *testing.T) {
	s := NewServer(t, Config{})
	ids := func(n int) string { return strings.TrimSuffix(strings.Repeat("1,", n), ",") }
	a := call(t, s, http.MethodGet, "/v3/received/detail?msg_ids="+ids(100), "")
	assert.Equal(t, 200, a.status, "%s", a.raw)
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodGet, "/v3/received/detail?msg_ids="+ids(101), "").code())
}

// TestStatusMessageTakes1000RegistrationIDs pins the documented limit of
// POST /v3/status/message: 1000 registration_ids are answered, 1001
// refused.
func TestStatusMessageTakes1000RegistrationIDs(t *testing.T) {
	s := NewServer(t, Config{})
	id := call(t, s, http.MethodPost, "/v3/push", pushBody(`{"registration_id":["`+rid1+`"]}`)).body["msg_id"].(string)
	rids := func(n int) string {
		list := make([]string, n)
		for i := range list {
			list[i] = `"` + RegistrationID(fmt.Sprint("s", i)) + `"`
		}
		return `{"msg_id":` + id + `,"registration_ids":[` + strings.Join(list, ",") + `]}`
	}
	a := call(t, s, http.MethodPost, "/v3/status/message", rids(1000))
	assert.Equal(t, 200, a.status, "%s", a.raw)
	assert.Equal(t, CodeInvalid, call(t, s, http.MethodPost, "/v3/status/message", rids(1001)).code())
}

// TestAliasOfDeadDevicesFindsNoTarget checks that a device marked invalid
// is no target of an alias or tag audience either: a push whose audience
// matches only dead devices is refused with 1011, as one naming only dead
// registration ids is, and delivers nothing.
func TestAliasOfDeadDevicesFindsNoTarget(t *testing.T) {
	s := NewServer(t, Config{})
	key := DefaultApps()[0].AppKey
	require.NoError(t, s.AddDevice(key, Device{RegistrationID: rid1, Platform: "android", Alias: "gone", Tags: []string{"old"}}))
	s.MarkInvalid(rid1)
	for _, aud := range []string{`{"alias":["gone"]}`, `{"tag":["old"]}`} {
		a := call(t, s, http.MethodPost, "/v3/push", pushBody(aud))
		assert.Equal(t, CodeNoTarget, a.code(), "%s: %s", aud, a.raw)
	}
	assert.Empty(t, s.Deliveries())
}
