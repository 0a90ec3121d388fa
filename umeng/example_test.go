package umeng_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
)

// fakeUmeng answers like Umeng: it checks the sign over the bytes it got,
// then returns a msg_id for a send and a task status for a status query.
func fakeUmeng(secret string) *httptest.Server {
	return httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.URL.Query().Get("sign") != umeng.Sign(r.Method, "http://"+r.Host+r.URL.Path, body, secret) {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"ret":"FAIL","data":{"error_code":"2027","error_msg":"sign mismatch"}}`)
			return
		}
		switch r.URL.Path {
		case "/api/send":
			fmt.Fprint(w, `{"ret":"SUCCESS","data":{"msg_id":"uu71538481234567890123"}}`)
		case "/api/status":
			fmt.Fprint(w, `{"ret":"SUCCESS","data":{"task_id":"us71538481234567890123","status":2,"total_count":3,"sent_count":3}}`)
		default:
			w.WriteHeader(http.StatusNotFound)
		}
	}))
}

func ExampleSign() {
	fmt.Println(umeng.Sign("POST", "https://msgapi.umeng.com/api/send", []byte(`{"a":1}`), "sec"))
	// Output: 6fa5dbccea0287bdd8627437ce27ccfa
}

func ExampleClient_Send() {
	srv := fakeUmeng("android-master-secret")
	defer srv.Close()

	client, err := umeng.New(umeng.Config{
		BaseURL: srv.URL, // leave empty for https://msgapi.umeng.com
		Android: umeng.App{AppKey: "5f0a1b2c3d4e5f6a7b8c9d0e", AppMasterSecret: "android-master-secret"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}

	receipt, err := client.Send(context.Background(), &provider.Request{
		Platform: provider.Android,
		Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{"Ak3cR0dXN0ZXJfdG9rZW5fZm9yX2FuZHJvaWRfMQ"}},
		Notification: provider.Notification{
			Title:  "Order shipped",
			Body:   "Your order 42 is on its way",
			Extras: map[string]string{"order_id": "42"},
		},
		Overrides: map[string]any{"umeng": &umeng.Options{
			AfterOpen: umeng.AfterOpenURL,
			URL:       "https://shop.example.com/orders/42",
		}},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(receipt.ID, receipt.Pollable)

	// A message id cannot be polled; the client says so without a call.
	_, err = client.Status(context.Background(), provider.Android, receipt.ID)
	fmt.Println(errors.Is(err, provider.InvalidRequest), provider.FieldOf(err))

	// Output:
	// uu71538481234567890123 false
	// true id
}

func ExampleClient_Status() {
	srv := fakeUmeng("ios-master-secret")
	defer srv.Close()

	client, err := umeng.New(umeng.Config{
		BaseURL: srv.URL,
		IOS:     umeng.App{AppKey: "6a1b2c3d4e5f6a7b8c9d0e1f", AppMasterSecret: "ios-master-secret"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, err := client.Status(context.Background(), provider.IOS, "us71538481234567890123")
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(st.State, st.State.Final(), st.Sent, "of", st.Total)
	// Output: done true 3 of 3
}

func ExampleClient_Send_errors() {
	srv := fakeUmeng("the-real-secret")
	defer srv.Close()

	// A wrong secret makes a wrong sign, which Umeng refuses with 2027.
	client, err := umeng.New(umeng.Config{
		BaseURL: srv.URL,
		IOS:     umeng.App{AppKey: "6a1b2c3d4e5f6a7b8c9d0e1f", AppMasterSecret: "a-stale-secret"},
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = client.Send(context.Background(), &provider.Request{
		Platform:     provider.IOS,
		Audience:     provider.Audience{Kind: provider.AudienceBroadcast},
		Notification: provider.Notification{Body: "Maintenance tonight"},
	})
	fmt.Println(provider.KindOf(err).String(), provider.CodeOf(err), provider.IsRetryable(err))

	// Android has no credentials in this Config.
	_, err = client.Send(context.Background(), &provider.Request{
		Platform:     provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceBroadcast},
		Notification: provider.Notification{Title: "Maintenance", Body: "Tonight"},
	})
	fmt.Println(err)

	// Output:
	// auth 2027 false
	// umeng send: auth: platform: no Umeng android app is configured (appkey and app master secret)
}
