package push_test

import (
	"context"
	"crypto/subtle"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	push "github.com/tuisong/push"
)

// ExampleHandlerConfig_identify maps bearer tokens to users: each app
// request acts for its token's user only. The backend's token identifies
// no user and may act for anybody.
func ExampleHandlerConfig_identify() {
	svc := exampleService()
	ctx := context.Background()
	for _, u := range []string{"u1001", "u1002"} {
		_, _ = svc.RegisterDevice(ctx, push.Device{UserNum: u, UUID: "phone-" + u, Platform: "android", PushToken: "token-of-" + u})
	}
	// In a host, a session store or a signed token stands here.
	users := map[string]string{"app-token-1001": "u1001", "app-token-1002": "u1002"}
	const backend = "backend-token"
	bearer := func(r *http.Request) string { return strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ") }

	h, _ := push.NewHandler(push.HandlerConfig{
		Service: svc,
		Authenticate: func(r *http.Request) error {
			if _, ok := users[bearer(r)]; ok || subtle.ConstantTimeCompare([]byte(bearer(r)), []byte(backend)) == 1 {
				return nil
			}
			return push.ErrUnauthenticated
		},
		Identify: func(r *http.Request) (string, bool, error) {
			if u, ok := users[bearer(r)]; ok {
				return u, true, nil
			}
			return "", false, nil // the backend: no particular user
		},
	})
	srv := httptest.NewServer(h)
	defer srv.Close()

	call := func(token, method, path, body string) {
		req, _ := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.TrimSpace(string(b)))
	}
	// A user pushes to itself without naming itself, but not to another.
	call("app-token-1001", "POST", push.PathPushMessage, `{"title":"t","content":"c"}`)
	call("app-token-1001", "POST", push.PathPushMessage, `{"user_num":"u1002","title":"t","content":"c"}`)
	// Another user's push is not found; the backend reads any.
	call("app-token-1002", "GET", push.PathQueryPush+"?push_message_id=1", "")
	call(backend, "GET", push.PathQueryPush+"?push_message_id=1", "")
	// Output:
	// 200 {"accepted":1,"devices":1,"failed":0,"pending":0,"push_message_id":1}
	// 403 {"error":{"code":"forbidden","message":"user_num names another user than the caller"}}
	// 404 {"error":{"code":"not_found","message":"no such record"}}
	// 200 {"android_arrived":0,"android_dismissed":0,"android_opened":0,"android_status":"accepted","ios_arrived":0,"ios_dismissed":0,"ios_opened":0,"ios_status":"","push_message_id":1}
}
