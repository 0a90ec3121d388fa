package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
)

// TestUmengReceipts runs the receipt loop through the server's wiring: a
// push to three Android phones of one user goes out as a listcast whose
// receipt_url (UMENG_RECEIPT_URL, with UMENG_RECEIPT_SECRET) leads to
// PathUmengReceipt; the fake Umeng posts an arrival per phone and a click,
// and the query API reports android_arrived 3 and android_opened 1. The
// receipt endpoint is outside PUSH_API_TOKEN, guarded by the secret.
func TestUmengReceipts(t *testing.T) {
	// The server's URL must be known before the app is built: a handler
	// that forwards to the app once it exists.
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	a := newTestApp(t, map[string]string{"PUSH_API_TOKEN": "tok", "UMENG_RECEIPT_URL": srv.URL + PathUmengReceipt,
		"UMENG_RECEIPT_SECRET": "rs3cret-0123456789"})
	require.NotNil(t, a.fake)
	h = a.handler
	c := authClient{t: t, url: srv.URL, token: "tok"}

	for i := range 3 {
		c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"phone-%d","platform":"android","push_token":%q}`,
			i, androidToken(fmt.Sprint("receipt-phone-", i))))
	}
	m := c.ok("POST", push.PathPushMessage, `{"user_num":"u1","title":"到货提醒","content":"您关注的商品已到货"}`)
	id := int64(m["push_message_id"].(float64))
	sends := a.fake.Sends()
	require.Len(t, sends, 1)
	assert.Equal(t, "listcast", sends[0].Type)

	posts, err := a.fake.PostReceipts(context.Background())
	require.NoError(t, err)
	require.Len(t, posts, 3)
	for _, p := range posts {
		assert.Equal(t, http.StatusOK, p.Status, p.Err)
		assert.True(t, strings.HasPrefix(p.URL, srv.URL+PathUmengReceipt+"?"), p.URL)
		assert.Contains(t, p.URL, "secret=rs3cret-0123456789")
	}
	clicks := a.fake.Click(context.Background(), androidToken("receipt-phone-1"))
	require.Len(t, clicks, 1)
	assert.Equal(t, http.StatusOK, clicks[0].Status)

	q := c.ok("GET", fmt.Sprintf("%s?push_message_id=%d", push.PathQueryPush, id), "")
	assert.Equal(t, "accepted", q["android_status"])
	assert.Equal(t, float64(3), q["android_arrived"])
	assert.Equal(t, float64(1), q["android_opened"])
	assert.Equal(t, float64(0), q["android_dismissed"])
	assert.Equal(t, float64(0), q["ios_arrived"])

	// Without the secret a receipt is refused, bearer token or not.
	body := `{"appkey":"` + a.cfg.AndroidKey + `","msg_id":"` + posts[0].MsgID + `","type":"arrival"}`
	for _, target := range []string{srv.URL + PathUmengReceipt, srv.URL + PathUmengReceipt + "?secret=wrong"} {
		req, err := http.NewRequest("POST", target, strings.NewReader(body))
		require.NoError(t, err)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer tok")
		resp, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		resp.Body.Close()
		assert.Equal(t, http.StatusUnauthorized, resp.StatusCode, target)
	}
	// The API itself still wants the token.
	code, _ := client{t, srv.URL}.call("GET", fmt.Sprintf("%s?push_message_id=%d", push.PathQueryPush, id), "")
	assert.Equal(t, http.StatusUnauthorized, code)
}

// TestGetuiReceipts runs Getui's receipt callback through the server's
// wiring: a push to a user's two Getui phones, the fake Getui posts an
// arrival per phone (signed with the app's master secret) and a click to
// PathGetuiReceipt, outside PUSH_API_TOKEN, and the query API reports
// android_arrived 2 and android_opened 1. A receipt signed with another
// secret is refused.
func TestGetuiReceipts(t *testing.T) {
	var h http.Handler
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	defer srv.Close()
	a := newTestApp(t, map[string]string{"PUSH_API_TOKEN": "tok"})
	require.NotNil(t, a.gfake)
	h = a.handler
	c := authClient{t: t, url: srv.URL, token: "tok"}
	cids := []string{getuitest.CID("receipt-phone-0"), getuitest.CID("receipt-phone-1")}
	for i, cid := range cids {
		c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"g-phone-%d","platform":"android","push_platform":"getui","push_token":%q}`,
			i, cid))
	}
	m := c.ok("POST", push.PathPushMessage, `{"user_num":"u1","title":"到货提醒","content":"您关注的商品已到货"}`)
	id := int64(m["push_message_id"].(float64))

	ctx := context.Background()
	post, err := a.gfake.PostReceipts(ctx, srv.URL+PathGetuiReceipt)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, post.Status, post.Err)
	assert.Equal(t, 2, post.Lines)
	click, err := a.gfake.Receipt(ctx, srv.URL+PathGetuiReceipt, cids[1], getuitest.ActionClicked)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, click.Status)

	q := c.ok("GET", fmt.Sprintf("%s?push_message_id=%d", push.PathQueryPush, id), "")
	assert.Equal(t, float64(2), q["android_arrived"])
	assert.Equal(t, float64(1), q["android_opened"])

	// Getui posting them all again (its answer was lost) counts nothing
	// more: each phone's arrival and click count once.
	again, err := http.Post(srv.URL+PathGetuiReceipt, "text/plain", bytes.NewReader(post.Body))
	require.NoError(t, err)
	again.Body.Close()
	assert.Equal(t, http.StatusOK, again.StatusCode)
	click, err = a.gfake.Receipt(ctx, srv.URL+PathGetuiReceipt, cids[1], getuitest.ActionClicked)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, click.Status)
	q = c.ok("GET", fmt.Sprintf("%s?push_message_id=%d", push.PathQueryPush, id), "")
	assert.Equal(t, float64(2), q["android_arrived"], "posted again")
	assert.Equal(t, float64(1), q["android_opened"], "posted again")

	// A receipt signed with another secret counts nothing.
	gapp := getuitest.DefaultApps()[0]
	line := fmt.Sprintf(`{"appid":%q,"cid":%q,"taskid":"t","msgid":"m","code":"200","actionId":"0","sign":%q}`,
		gapp.AppID, cids[0], getui.ReceiptSign(gapp.AppID, cids[0], "t", "m", "another-secret"))
	resp, err := http.Post(srv.URL+PathGetuiReceipt, "text/plain", strings.NewReader(line))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusForbidden, resp.StatusCode)
	q = c.ok("GET", fmt.Sprintf("%s?push_message_id=%d", push.PathQueryPush, id), "")
	assert.Equal(t, float64(2), q["android_arrived"])
}

// TestReceiptsDuringTheDrain: once a shutdown began, the API refuses new
// requests (503 shutting_down) but the vendors' receipts are still taken:
// Getui posts a receipt again only when a post got no answer, so a 503
// would lose it.
func TestReceiptsDuringTheDrain(t *testing.T) {
	a := newTestApp(t, nil)
	srv := httptest.NewServer(a.handler)
	defer srv.Close()
	c := client{t, srv.URL}
	cid := getuitest.CID("drain-phone")
	c.ok("POST", push.PathDevice, fmt.Sprintf(`{"user_num":"u1","uuid":"g-1","platform":"android","push_platform":"getui","push_token":%q}`, cid))
	m := c.ok("POST", push.PathPushMessage, `{"user_num":"u1","title":"t","content":"c"}`)
	id := int64(m["push_message_id"].(float64))

	a.api.close() // what serve does when a shutdown begins
	resp, err := http.Post(srv.URL+push.PathPushMessage, "application/json", strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	require.NoError(t, err)
	resp.Body.Close()
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, "the API refuses new requests")
	post, err := a.gfake.PostReceipts(context.Background(), srv.URL+PathGetuiReceipt)
	require.NoError(t, err)
	assert.Equal(t, http.StatusOK, post.Status, post.Err)
	assert.Equal(t, 1, post.Lines)
	st, err := a.svc.PushStatus(context.Background(), id)
	require.NoError(t, err)
	assert.Equal(t, int64(1), st.Receipts.Android.Arrived, "the arrival is counted")
}

func TestReceiptConfig(t *testing.T) {
	for _, tc := range []struct {
		env  map[string]string
		want string
	}{
		{map[string]string{"UMENG_RECEIPT_URL": "ftp://x/r"}, "UMENG_RECEIPT_URL"},
		{map[string]string{"UMENG_RECEIPT_URL": "https://x/r", "PUSH_API_TOKEN": "t"}, "UMENG_RECEIPT_SECRET"},
		{map[string]string{"UMENG_RECEIPT_SECRET": "s"}, "UMENG_RECEIPT_SECRET"},
		{map[string]string{"UMENG_RECEIPT_URL": "https://x/r", "UMENG_RECEIPT_SECRET": "short-secret"}, "UMENG_RECEIPT_SECRET: must be at least 16 characters"},
	} {
		_, err := loadConfig(envOf(tc.env))
		require.Error(t, err, tc.env)
		assert.Contains(t, err.Error(), tc.want)
	}
	cfg, err := loadConfig(envOf(map[string]string{"UMENG_RECEIPT_URL": "https://push.example.com" + PathUmengReceipt,
		"UMENG_RECEIPT_SECRET": "a b c d e f g h i"}))
	require.NoError(t, err)
	assert.Equal(t, "https://push.example.com/api/v1.1/umeng/receipt?secret=a+b+c+d+e+f+g+h+i", cfg.AndroidDefaults().ReceiptURL)
	assert.Equal(t, cfg.AndroidDefaults().ReceiptURL, cfg.IOSDefaults().ReceiptURL)
}

// authClient is a client that sends the bearer token.
type authClient struct {
	t          *testing.T
	url, token string
}

func (c authClient) ok(method, path, body string) map[string]any {
	c.t.Helper()
	req, err := http.NewRequest(method, c.url+path, strings.NewReader(body))
	require.NoError(c.t, err)
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(c.t, err)
	defer resp.Body.Close()
	require.Equal(c.t, http.StatusOK, resp.StatusCode, "%s %s", method, path)
	var m map[string]any
	require.NoError(c.t, jsonDecode(resp, &m))
	return m
}

func jsonDecode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
