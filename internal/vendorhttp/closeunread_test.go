package vendorhttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCloseUnread: a refusal written before the body is read ends the
// connection at once, though the client has sent only part of its body
// and the server would wait a minute for the rest; a request without a
// body keeps its connection.
func TestCloseUnread(t *testing.T) {
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		CloseUnread(w, r)
		w.WriteHeader(http.StatusUnauthorized)
	}))
	srv.Config.ReadTimeout = time.Minute
	srv.Start()
	defer srv.Close()

	c, err := net.Dial("tcp", srv.Listener.Addr().String())
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	_, err = io.WriteString(c, "POST /r HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\nabc")
	require.NoError(t, err)
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	br := bufio.NewReader(c)
	resp, err := http.ReadResponse(br, nil)
	require.NoError(t, err)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.True(t, resp.Close)
	_, err = br.ReadByte()
	assert.ErrorIs(t, err, io.EOF, "closed well before the server's ReadTimeout")

	rec := httptest.NewRecorder()
	CloseUnread(rec, httptest.NewRequest(http.MethodGet, "/r", nil))
	assert.Empty(t, rec.Header().Get("Connection"), "no body: the connection may serve another request")
	rec = httptest.NewRecorder()
	CloseUnread(rec, httptest.NewRequest(http.MethodPost, "/r", strings.NewReader("x")))
	assert.Equal(t, "close", rec.Header().Get("Connection"), "a recorder, which cannot take a deadline, gets the header")
}
