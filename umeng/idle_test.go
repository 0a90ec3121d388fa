package umeng_test

import (
	"context"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// TestCloseIdleConnections: the connection a send left open for the next
// one is closed by CloseIdleConnections.
func TestCloseIdleConnections(t *testing.T) {
	var closed atomic.Int32
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		_, _ = io.WriteString(w, `{"ret":"SUCCESS","data":{"msg_id":"ul1"}}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateClosed {
			closed.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	app := umengtest.DefaultApps()[1]
	c, err := umeng.New(umeng.Config{BaseURL: srv.URL, Android: umeng.App{AppKey: app.AppKey, AppMasterSecret: app.AppMasterSecret}})
	require.NoError(t, err)
	_, err = c.Send(context.Background(), &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{umengtest.AndroidToken("a")}},
		Notification: provider.Notification{Title: "t", Body: "b"}})
	require.NoError(t, err)
	assert.Zero(t, closed.Load(), "kept open for the next call")
	c.CloseIdleConnections()
	assert.Eventually(t, func() bool { return closed.Load() == 1 }, 5*time.Second, 10*time.Millisecond)
}
