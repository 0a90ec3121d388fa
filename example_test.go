package push_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/go-chi/chi/v5"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry/memstore"
)

// exampleService wires a Service on an in-memory store and a Mock provider
// named "umeng"; a host wires sqlstore and umeng the same way.
func exampleService() *push.Service {
	store, _ := memstore.New(memstore.Config{})
	mock, _ := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	svc, err := push.New(push.Config{Store: store, Providers: []provider.Provider{mock}})
	if err != nil {
		panic(err)
	}
	return svc
}

func post(url, body string) string {
	resp, err := http.Post(url, "application/json", strings.NewReader(body))
	if err != nil {
		return err.Error()
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return fmt.Sprintf("%d %s", resp.StatusCode, strings.TrimSpace(string(b)))
}

func ExampleService_Push() {
	ctx := context.Background()
	svc := exampleService()
	_, _ = svc.RegisterDevice(ctx, push.Device{UserNum: "u1001", UUID: "iphone-1", Platform: "ios",
		PushToken: "8a5b1e0c7d6f4a3b2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b"})
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1001"}, Title: "到货提醒", Content: "您关注的商品已到货",
		Extra: map[string]string{"page": "goods", "id": "42"}})
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := svc.PushStatus(ctx, res.PushMessageID)
	fmt.Println("devices:", res.Devices, "accepted:", res.Accepted(), "ios_status:", st.IOSStatus)
	// Output: devices: 1 accepted: 1 ios_status: accepted
}

func ExampleHandler_serveMux() {
	h, _ := push.NewHandler(push.HandlerConfig{Service: exampleService()})
	mux := http.NewServeMux()
	mux.Handle("/api/v1.1/", h) // the Handler routes its paths itself
	srv := httptest.NewServer(mux)
	defer srv.Close()

	fmt.Println(post(srv.URL+push.PathDevice, `{"user_num":"u1","uuid":"d1","push_token":"tok","platform":"android"}`))
	fmt.Println(post(srv.URL+push.PathPushMessage, `{"user_num":"u1","title":"hi","content":"there"}`))
	// Output:
	// 200 {"device_uuid":"d1","user_device_id":1}
	// 200 {"accepted":1,"devices":1,"failed":0,"pending":0,"push_message_id":1}
}

func ExampleHandler_chi() {
	h, _ := push.NewHandler(push.HandlerConfig{Service: exampleService()})
	r := chi.NewRouter()
	// Mount each endpoint on the router's own method routing.
	r.Post(push.PathDevice, h.RegisterDevice)
	r.Post(push.PathPushMessage, h.PushMessage)
	r.Get(push.PathQueryPush, h.QueryPushMessage)
	r.Post(push.PathLogout, h.Logout)
	r.Get(push.PathUserDevices, h.ListDevices)
	r.Get(push.PathQueryPushes, h.ListPushes)
	srv := httptest.NewServer(r)
	defer srv.Close()

	fmt.Println(post(srv.URL+push.PathDevice, `{"user_num":"u1","uuid":"d1","push_token":"tok","platform":"ios"}`))
	fmt.Println(post(srv.URL+push.PathLogout, `{"user_num":"u2","user_device_id":1}`))
	fmt.Println(post(srv.URL+push.PathLogout, `{"user_num":"u1","user_device_id":1}`))
	// Output:
	// 200 {"device_uuid":"d1","user_device_id":1}
	// 403 {"error":{"code":"not_owner","message":"the user_device_id belongs to another user"}}
	// 200 {"data":"successfully"}
}
