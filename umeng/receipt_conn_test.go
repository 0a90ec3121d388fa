package umeng_test

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

// TestASlowReceiptBodyIsA408WithoutAddresses: a receipt post, JSON or a
// form, whose body does not arrive within the server's ReadTimeout is
// answered 408, as the Handler answers such a body, and the answer names
// no socket address.
func TestASlowReceiptBodyIsA408WithoutAddresses(t *testing.T) {
	h, rec := newReceiptHandler(t, "")
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = 300 * time.Millisecond
	srv.Start()
	defer srv.Close()
	for _, tc := range []struct{ contentType, part string }{
		{"application/json", `{"appkey":"ourkey",`},
		{"application/x-www-form-urlencoded", "appkey=ourkey&msg_id="},
	} {
		c, err := net.Dial("tcp", srv.Listener.Addr().String())
		require.NoError(t, err)
		defer func() { _ = c.Close() }()
		_, err = io.WriteString(c, "POST /r HTTP/1.1\r\nHost: x\r\nContent-Type: "+tc.contentType+"\r\nContent-Length: 100\r\n\r\n"+tc.part)
		require.NoError(t, err)
		require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
		resp, err := http.ReadResponse(bufio.NewReader(c), nil)
		require.NoError(t, err, tc.contentType)
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		_ = resp.Body.Close()
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "%s: %s", tc.contentType, body)
		assert.JSONEq(t, `{"ret":"FAIL","error":"the body did not arrive in time"}`, string(body), tc.contentType)
		assert.NotContains(t, string(body), "127.0.0.1")
		assert.True(t, resp.Close, "the answer says the connection ends")
	}
	assert.Empty(t, rec.got)
}
