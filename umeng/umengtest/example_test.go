package umengtest_test

import (
	"bytes"
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/tuisong/push/umeng/umengtest"
)

// post signs body the way every Umeng client must and posts it: the sign is
// lowercase hex md5("POST" + url + body + App Master Secret), sent as
// ?sign=.
func post(url string, body []byte, secret string) (*http.Response, error) {
	sum := md5.Sum([]byte("POST" + url + string(body) + secret))
	return http.Post(url+"?sign="+hex.EncodeToString(sum[:]), "application/json", bytes.NewReader(body))
}

// ExampleNew starts the fake on a loopback port and sends it a correctly
// signed Android unicast with plain net/http.
func ExampleNew() {
	srv, err := umengtest.New(umengtest.Config{}) // the demo apps of DefaultApps
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()

	android := umengtest.DefaultApps()[1]
	token := umengtest.AndroidToken("my-phone")
	body, _ := json.Marshal(map[string]any{
		"appkey":        android.AppKey,
		"timestamp":     strconv.FormatInt(time.Now().Unix(), 10),
		"type":          "unicast",
		"device_tokens": token,
		"payload": map[string]any{
			"display_type": "notification",
			"body":         map[string]any{"title": "Hello", "text": "from the fake"},
		},
	})
	resp, err := post(srv.URL+"/api/send", body, android.AppMasterSecret)
	if err != nil {
		panic(err)
	}
	defer resp.Body.Close()
	var answer struct {
		Ret  string            `json:"ret"`
		Data map[string]string `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)

	msgID := answer.Data["msg_id"]
	fmt.Println(resp.StatusCode, answer.Ret, msgID[:2], len(msgID))
	fmt.Println("delivered:", srv.DeliveryCount(token))
	fmt.Println("title:", srv.Deliveries()[0].Title)
	// Output:
	// 200 SUCCESS uu 22
	// delivered: 1
	// title: Hello
}

// ExampleServer_FailNext makes the next send fail with a vendor code, the
// way a test checks that its client retries.
func ExampleServer_FailNext() {
	srv, err := umengtest.New(umengtest.Config{})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	if err := srv.FailNext(1, umengtest.Fault{Path: "/api/send", Code: "2020", Message: "service upgrading"}); err != nil {
		panic(err)
	}

	ios := umengtest.DefaultApps()[0]
	body, _ := json.Marshal(map[string]any{
		"appkey":        ios.AppKey,
		"timestamp":     strconv.FormatInt(time.Now().UnixMilli(), 10),
		"type":          "unicast",
		"device_tokens": umengtest.IOSToken("my-iphone"),
		"payload":       map[string]any{"aps": map[string]any{"alert": "Hi"}},
	})
	for range 2 {
		resp, err := post(srv.URL+"/api/send", body, ios.AppMasterSecret)
		if err != nil {
			panic(err)
		}
		var answer struct {
			Ret  string `json:"ret"`
			Data struct {
				ErrorCode string `json:"error_code"`
			} `json:"data"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&answer)
		resp.Body.Close()
		fmt.Printf("%d %s code=%q\n", resp.StatusCode, answer.Ret, answer.Data.ErrorCode)
	}
	fmt.Println("accepted sends:", len(srv.Sends()))
	// Output:
	// 400 FAIL code="2020"
	// 200 SUCCESS code=""
	// accepted sends: 1
}

// ExampleServer_AdvanceTask drives a broadcast through its lifecycle
// without waiting for the clock.
func ExampleServer_AdvanceTask() {
	srv, err := umengtest.New(umengtest.Config{})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	android := umengtest.DefaultApps()[1]
	phone := umengtest.AndroidToken("registered-phone")
	if err := srv.AddDevice(android.AppKey, umengtest.Device{Token: phone}); err != nil {
		panic(err)
	}

	body, _ := json.Marshal(map[string]any{
		"appkey":    android.AppKey,
		"timestamp": strconv.FormatInt(time.Now().Unix(), 10),
		"type":      "broadcast",
		"payload": map[string]any{
			"display_type": "notification",
			"body":         map[string]any{"title": "News", "text": "for everyone"},
		},
	})
	resp, err := post(srv.URL+"/api/send", body, android.AppMasterSecret)
	if err != nil {
		panic(err)
	}
	var answer struct {
		Data map[string]string `json:"data"`
	}
	_ = json.NewDecoder(resp.Body).Decode(&answer)
	resp.Body.Close()
	taskID := answer.Data["task_id"]

	task, _ := srv.Task(taskID)
	fmt.Println(taskID[:2], task.Status, srv.DeliveryCount(phone))
	if err := srv.AdvanceTask(taskID, umengtest.StatusDone); err != nil {
		panic(err)
	}
	task, _ = srv.Task(taskID)
	fmt.Println(task.Status, task.Sent, srv.DeliveryCount(phone))
	// Output:
	// um queued 0
	// done 1 1
}
