package push_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/rawhttp"
	"github.com/tuisong/push/provider/providertest"
)

// slowBodyServer serves a Handler that refuses every request without the
// token "t", and whose Identify fails for every request with an
// X-Session header, on a server whose ReadTimeout is readTimeout.
func slowBodyServer(t *testing.T, readTimeout time.Duration) string {
	t.Helper()
	f := newFixture(t, providertest.MockConfig{}, nil)
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Logger: slog.New(slog.DiscardHandler),
		Authenticate: func(r *http.Request) error {
			if r.Header.Get("Authorization") != "Bearer t" {
				return errors.New("no token")
			}
			return nil
		},
		Identify: func(r *http.Request) (string, bool, error) {
			if r.Header.Get("X-Session") != "" {
				return "", false, errors.New("the session expired")
			}
			return "", false, nil
		}})
	require.NoError(t, err)
	return rawhttp.Serve(t, h, readTimeout)
}

// sendPart writes a request's header and the first bytes of a JSON body
// of 100 bytes, and returns the connection.
func sendPart(t *testing.T, addr, method, path, header string) net.Conn {
	t.Helper()
	return sendPartOf(t, addr, method, path, header+"Content-Type: application/json\r\n", `{"user_num":`)
}

// sendPartOf writes a request's header and part, the first bytes of a
// body of 100 bytes, and returns the connection.
func sendPartOf(t *testing.T, addr, method, path, header, part string) net.Conn {
	t.Helper()
	return rawhttp.SendPart(t, addr, method, path, header, part)
}

// assertAnsweredAndClosed reads the answer on c, which must come with
// status though the client has not sent the whole body, and then the end
// of the connection. The read deadline is far below the server's
// ReadTimeout: a server that reads for the rest of the body holds the
// answer until then.
func assertAnsweredAndClosed(t *testing.T, c net.Conn, status int) {
	t.Helper()
	resp, body := rawhttp.ReadAnswer(t, c)
	assert.Equal(t, status, resp.StatusCode, body)
	assert.True(t, resp.Close, "the answer says the connection ends")
	_, err := c.Read(make([]byte, 1))
	assert.ErrorIs(t, err, io.EOF, "the server closed the connection")
}

// TestRefusalBeforeTheBodyClosesTheConnection: a request refused before
// its body is read (no credentials, the wrong method, no such endpoint,
// a media type not taken) is answered at once and its connection closed,
// though the client has sent only part of its body: the server does not
// wait a whole ReadTimeout for the rest, to keep the connection.
func TestRefusalBeforeTheBodyClosesTheConnection(t *testing.T) {
	addr := slowBodyServer(t, time.Minute)
	for _, tc := range []struct {
		name, method, path, header string
		status                     int
	}{
		{"no token", http.MethodPost, push.PathPushMessage, "", http.StatusUnauthorized},
		{"wrong method", http.MethodPut, push.PathPushMessage, "Authorization: Bearer t\r\n", http.StatusMethodNotAllowed},
		{"no endpoint", http.MethodPost, "/nowhere", "Authorization: Bearer t\r\n", http.StatusNotFound},
		{"no such endpoint, no token", http.MethodPost, "/nowhere", "", http.StatusUnauthorized},
		{"identify fails", http.MethodPost, push.PathPushMessage, "Authorization: Bearer t\r\nX-Session: old\r\n", http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertAnsweredAndClosed(t, sendPart(t, addr, tc.method, tc.path, tc.header), tc.status)
		})
	}
}

// TestAnAnswerThatLeavesTheBodyUnreadClosesTheConnection: a request
// answered without its body read in full (a GET, whose body is never
// read; a multipart form that fails to parse before its end; a media type
// not taken) is answered at once and its connection closed, as a refusal
// before the body is.
func TestAnAnswerThatLeavesTheBodyUnreadClosesTheConnection(t *testing.T) {
	addr := slowBodyServer(t, time.Minute)
	const token = "Authorization: Bearer t\r\n"
	for _, tc := range []struct {
		name, method, path, header, part string
		status                           int
	}{
		{"a GET with a body", http.MethodGet, push.PathUserDevices + "?user_num=u1", token + "Content-Type: text/plain\r\n", "abc",
			http.StatusOK},
		{"a GET with a body, refused", http.MethodGet, push.PathQueryPush + "?push_message_id=x", token + "Content-Type: text/plain\r\n",
			"abc", http.StatusBadRequest},
		{"a malformed multipart form", http.MethodPost, push.PathPushMessage,
			token + "Content-Type: multipart/form-data; boundary=b\r\n", "--b\r\nno colon here\r\n\r\nx", http.StatusBadRequest},
		{"a media type not taken", http.MethodPost, push.PathPushMessage, token + "Content-Type: text/plain\r\n", "abc",
			http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.name, func(t *testing.T) {
			assertAnsweredAndClosed(t, sendPartOf(t, addr, tc.method, tc.path, tc.header, tc.part), tc.status)
		})
	}
}

// TestASlowBodyIsA408WithoutAddresses: a body, JSON or a form, that does
// not arrive within the server's ReadTimeout is answered 408, and the
// answer names no socket address.
func TestASlowBodyIsA408WithoutAddresses(t *testing.T) {
	addr := slowBodyServer(t, 300*time.Millisecond)
	for _, tc := range []struct{ contentType, part string }{
		{"application/json", `{"user_num":`},
		{"application/x-www-form-urlencoded", "user_num=u1&title="},
		{"multipart/form-data; boundary=b", "--b\r\nContent-Disposition: form-data; name=\"user_num\"\r\n\r\nu"},
	} {
		c := sendPartOf(t, addr, http.MethodPost, push.PathPushMessage,
			"Authorization: Bearer t\r\nContent-Type: "+tc.contentType+"\r\n", tc.part)
		resp, body := rawhttp.ReadAnswer(t, c)
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "%s: %s", tc.contentType, body)
		assert.JSONEq(t, `{"error":{"code":"request_timeout","message":"the body did not arrive in time"}}`, body)
		assert.NotContains(t, body, "127.0.0.1")
	}
}

// failingBody fails its first Read with err.
type failingBody struct{ err error }

func (b failingBody) Read([]byte) (int, error) { return 0, b.err }

// timeoutErr is a net.Error that timed out.
type timeoutErr struct{}

func (timeoutErr) Error() string   { return "read tcp 127.0.0.1:8080->127.0.0.1:40000: i/o timeout" }
func (timeoutErr) Timeout() bool   { return true }
func (timeoutErr) Temporary() bool { return true }

// TestAnUnreadableBodyIsNotAnInvalidOne: a body whose reading failed is
// answered as such, for JSON and forms alike, without the error's text
// (it names socket addresses): 408 when the read timed out, 400 when the
// client went away.
func TestAnUnreadableBodyIsNotAnInvalidOne(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Logger: slog.New(slog.DiscardHandler)})
	require.NoError(t, err)
	// What a read of a TCP connection reset by the client returns.
	reset := &net.OpError{Op: "read", Net: "tcp", Source: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 8080},
		Addr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 1), Port: 40000}, Err: os.NewSyscallError("read", syscall.ECONNRESET)}
	for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=b"} {
		for _, tc := range []struct {
			err    error
			status int
			want   string
		}{
			{timeoutErr{}, http.StatusRequestTimeout, `{"error":{"code":"request_timeout","message":"the body did not arrive in time"}}`},
			{io.ErrUnexpectedEOF, http.StatusBadRequest, `{"error":{"code":"invalid_body","message":"the body could not be read"}}`},
			{reset, http.StatusBadRequest, `{"error":{"code":"invalid_body","message":"the body could not be read"}}`},
		} {
			req := httptest.NewRequest(http.MethodPost, push.PathPushMessage, io.NopCloser(failingBody{tc.err}))
			req.Header.Set("Content-Type", ct)
			req = req.WithContext(context.Background())
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, req)
			assert.Equal(t, tc.status, rec.Code, "%s %v", ct, tc.err)
			assert.JSONEq(t, tc.want, rec.Body.String())
			assert.False(t, strings.Contains(rec.Body.String(), "127.0.0.1"))
		}
	}
	assert.Zero(t, f.mock.Calls())
}

// TestATrickleAfterAMultipartFormHoldsNoConnection: a multipart form whose
// final boundary has arrived is answered at once, and its connection
// closed, though the client announced more bytes after it and sends them
// slowly, if at all: the server does not wait a whole ReadTimeout for
// them before it answers. A form sent whole keeps its connection.
func TestATrickleAfterAMultipartFormHoldsNoConnection(t *testing.T) {
	addr := slowBodyServer(t, time.Minute)
	const header = "Authorization: Bearer t\r\nContent-Type: multipart/form-data; boundary=b\r\n"
	form := "--b\r\nContent-Disposition: form-data; name=\"user_num\"\r\n\r\nu1\r\n--b--\r\n"
	c := sendPartOf(t, addr, http.MethodPost, push.PathPushMessage, header, form+"x")
	assertAnsweredAndClosed(t, c, http.StatusBadRequest)

	c, err := net.Dial("tcp", addr)
	require.NoError(t, err)
	defer func() { _ = c.Close() }()
	require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
	br := bufio.NewReader(c)
	for range 2 {
		_, err = io.WriteString(c, "POST "+push.PathPushMessage+" HTTP/1.1\r\nHost: x\r\n"+header+
			"Content-Length: "+strconv.Itoa(len(form))+"\r\n\r\n"+form)
		require.NoError(t, err)
		resp, err := http.ReadResponse(br, nil)
		require.NoError(t, err)
		_, err = io.Copy(io.Discard, resp.Body)
		require.NoError(t, err)
		assert.Equal(t, http.StatusBadRequest, resp.StatusCode)
		assert.False(t, resp.Close, "a form sent whole keeps the connection")
	}
}
