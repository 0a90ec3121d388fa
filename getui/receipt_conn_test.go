package getui_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestASlowReceiptBodyIsA408WithoutAddresses: a receipt post whose body
// does not arrive within the server's ReadTimeout is answered 408, as the
// Handler answers such a body, and the answer names no socket address.
func TestASlowReceiptBodyIsA408WithoutAddresses(t *testing.T) {
	sink := &reportSink{}
	srv := httptest.NewUnstartedServer(newReceiptHandler(t, sink, nil))
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	_, err = io.WriteString(c, "POST /r HTTP/1.1\r\nHost: x\r\nContent-Type: text/plain\r\nContent-Length: 100\r\n\r\n{\"appid\":")
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, string(body))
	assert.JSONEq(t, `{"ret":"FAIL","error":"the body did not arrive in time"}`, string(body))
	assert.NotContains(t, string(body), "127.0.0.1")
	assert.True(t, resp.Close, "the answer says the connection ends")
	assert.Empty(t, sink.reports())
}
