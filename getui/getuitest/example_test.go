package getuitest_test

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tuisong/push/getui/getuitest"
)

// Talk to the fake over plain HTTP: authenticate, push to one cid, and see
// that a repeated request_id is not delivered again.
func Example() {
	now := time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)
	srv, err := getuitest.New(getuitest.Config{Now: func() time.Time { return now }})
	if err != nil {
		panic(err)
	}
	if err := srv.Start(); err != nil {
		panic(err)
	}
	defer srv.Close()
	app := getuitest.DefaultApps()[0]
	root := srv.BaseURL() + "/" + app.AppID

	post := func(path, token, body string) (code int, msg string, data json.RawMessage) {
		req, _ := http.NewRequest(http.MethodPost, root+path, strings.NewReader(body))
		if token != "" {
			req.Header.Set("token", token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			panic(err)
		}
		defer resp.Body.Close()
		var env struct {
			Code int             `json:"code"`
			Msg  string          `json:"msg"`
			Data json.RawMessage `json:"data"`
		}
		_ = json.NewDecoder(resp.Body).Decode(&env)
		return env.Code, env.Msg, env.Data
	}

	ts := strconv.FormatInt(now.UnixMilli(), 10)
	sum := sha256.Sum256([]byte(app.AppKey + ts + app.MasterSecret))
	_, _, data := post("/auth", "", fmt.Sprintf(`{"sign":%q,"timestamp":%q,"appkey":%q}`, hex.EncodeToString(sum[:]), ts, app.AppKey))
	var auth struct{ Token string }
	_ = json.Unmarshal(data, &auth)

	phone := getuitest.CID("phone")
	push := `{"request_id":"order-42-shipped","audience":{"cid":["` + phone + `"]},` +
		`"push_message":{"notification":{"title":"Order shipped","body":"On its way","click_type":"startapp"}}}`
	code, msg, _ := post("/push/single/cid", auth.Token, push)
	fmt.Println(code, msg, srv.DeliveryCount(phone))
	code, msg, _ = post("/push/single/cid", auth.Token, push)
	fmt.Println(code, msg, srv.DeliveryCount(phone))
	code, msg, _ = post("/push/single/cid", "stale-token", push)
	fmt.Println(code, msg)
	// Output:
	// 0 success 1
	// 0 success 1
	// 10001 token expired or invalid
}
