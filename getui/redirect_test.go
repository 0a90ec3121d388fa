package getui_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

// A Getui host that answers a push with a redirect to another host gets
// no token sent there, and its answer is a failure, not the other host's
// success.
func TestRedirectIsNotFollowed(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Method+" "+r.URL.Path+" token="+r.Header.Get("token"))
		mu.Unlock()
		fmt.Fprint(w, `{"code":0,"msg":"success","data":{"task":{"cid":"successed_online"}}}`)
	}))
	defer other.Close()
	const token = "SECRET-TOKEN-0123456789"
	host := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/auth") {
			fmt.Fprintf(w, `{"code":0,"msg":"success","data":{"expire_time":"%d","token":"%s"}}`,
				time.Now().Add(time.Hour).UnixMilli(), token)
			return
		}
		http.Redirect(w, r, other.URL+"/elsewhere", http.StatusTemporaryRedirect)
	}))
	defer host.Close()
	app := getuitest.DefaultApps()[0]
	c, err := getui.New(getui.Config{AppID: app.AppID, AppKey: app.AppKey, MasterSecret: getui.NewSecret(app.MasterSecret),
		BaseURL: host.URL + "/v2"})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, 1)}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.Error(t, err, "a redirect is no answer of Getui's")
	assert.NotContains(t, err.Error(), token)
	mu.Lock()
	defer mu.Unlock()
	assert.Empty(t, seen, "the other host got nothing, the token least of all")
}
