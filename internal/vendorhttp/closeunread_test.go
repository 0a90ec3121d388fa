package vendorhttp

import (
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

	"github.com/tuisong/push/internal/rawhttp"
)

// TestCloseUnread: a refusal written before the body is read ends the
// connection at once, though the client has sent only part of its body
// and the server would wait a minute for the rest; a request without a
// body keeps its connection.
func TestCloseUnread(t *testing.T) {
	addr := rawhttp.Serve(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		CloseUnread(w, r)
		w.WriteHeader(http.StatusUnauthorized)
	}), time.Minute)
	c := rawhttp.SendPart(t, addr, http.MethodPost, "/r", "", "abc")
	resp, _ := rawhttp.ReadAnswer(t, c)
	assert.Equal(t, http.StatusUnauthorized, resp.StatusCode)
	assert.True(t, resp.Close)
	_, err := c.Read(make([]byte, 1))
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
