package vendorhttp

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
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

// timeoutErr is a net.Error that timed out, as a read past the server's
// ReadTimeout returns.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "read tcp 127.0.0.1:8080->127.0.0.1:40000: i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestReadStatus: a body over its limit is 413, one that did not arrive
// in time 408, wrapped or not, and any other failed read 400.
func TestReadStatus(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want int
	}{
		{&http.MaxBytesError{Limit: 10}, http.StatusRequestEntityTooLarge},
		{timeoutErr{}, http.StatusRequestTimeout},
		{fmt.Errorf("read body: %w", timeoutErr{}), http.StatusRequestTimeout},
		{&net.OpError{Op: "read", Net: "tcp", Err: syscall.ECONNRESET}, http.StatusBadRequest},
		{io.ErrUnexpectedEOF, http.StatusBadRequest},
	} {
		assert.Equal(t, tc.want, ReadStatus(tc.err), "%v", tc.err)
	}
}
