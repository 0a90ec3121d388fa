package jpushtest_test

import (
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/tuisong/push/jpush/jpushtest"
)

// The fake speaks JPush's wire protocol to any client, here plain
// net/http.
func ExampleServer() {
	srv, err := jpushtest.New(jpushtest.Config{})
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := srv.Start(); err != nil {
		fmt.Println(err)
		return
	}
	defer srv.Close()

	phone := jpushtest.RegistrationID("phone")
	body := `{"platform":["android"],"audience":{"registration_id":["` + phone + `"]},` +
		`"notification":{"android":{"alert":"Hello","title":"Hi"}}}`
	push := func(secret string) {
		req, _ := http.NewRequest(http.MethodPost, srv.URL+"/v3/push", strings.NewReader(body))
		req.SetBasicAuth(jpushtest.DefaultApps()[0].AppKey, secret)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			fmt.Println(err)
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		fmt.Println(resp.StatusCode, strings.Contains(string(b), `"msg_id"`), strings.Contains(string(b), `"code":1004`))
	}
	push("wrong")
	push(jpushtest.DefaultApps()[0].MasterSecret)
	fmt.Println(srv.DeliveryCount(phone))
	// Output:
	// 401 false true
	// 200 true false
	// 1
}
