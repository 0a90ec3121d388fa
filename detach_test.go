package push_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// umengService is a Service on memstore with an Umeng client for both
// platforms, pointed at a fresh umengtest server.
func umengService(t *testing.T, clk *clock) (*push.Service, *umengtest.Server) {
	t.Helper()
	fake := umengtest.NewServer(t, umengtest.Config{NoRateLimits: true})
	ucfg := fake.ClientConfig()
	um, err := umeng.New(ucfg)
	require.NoError(t, err)
	st, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{um}, Now: clk.Now,
		Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}})
	require.NoError(t, err)
	return svc, fake
}

// TestClientHangingUpDoesNotCancelTheVendorCall: an HTTP client that gives
// up while Umeng is still answering does not cut the call short. Its outcome
// is recorded as Umeng gave it, and no later pass sends the push again.
func TestClientHangingUpDoesNotCancelTheVendorCall(t *testing.T) {
	clk := &clock{t: time.Now()} // Umeng checks expire_time against the real clock
	svc, fake := umengService(t, clk)
	token := umengtest.AndroidToken("hang-up")
	_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: token})
	require.NoError(t, err)
	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)

	release := fake.Stall()
	defer release()
	cctx, hangUp := context.WithCancel(t.Context())
	req, err := http.NewRequestWithContext(cctx, http.MethodPost, srv.URL+push.PathPushMessage,
		strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/json")
	answered := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			resp.Body.Close()
		}
		answered <- err
	}()
	wctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	require.NoError(t, fake.WaitStalled(wctx, 1), "the send reached Umeng")
	hangUp()
	require.Error(t, <-answered, "the client gave up")
	time.Sleep(50 * time.Millisecond) // let the server notice the closed connection
	release()

	var st push.Status
	require.Eventually(t, func() bool {
		st, err = svc.PushStatus(t.Context(), 1)
		return err == nil && st.Android.Ret != registry.RetPending
	}, 10*time.Second, 10*time.Millisecond, "the outcome is recorded")
	assert.Equal(t, registry.RetSuccess, st.Android.Ret, "Umeng's answer was not lost: %+v", st.Android)
	assert.Equal(t, "accepted", st.AndroidStatus)

	// Nothing is left for a retry, however late it comes.
	clk.Advance(24 * time.Hour)
	n, err := svc.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Zero(t, n, "no delivery is pending")
	assert.Equal(t, 1, fake.DeliveryCount(token), "the phone is shown the push once")
}
