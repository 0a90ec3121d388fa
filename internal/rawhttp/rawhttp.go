// Package rawhttp holds test helpers that speak HTTP/1.1 over a bare TCP
// connection, for tests of what a server does with a request whose body
// stops coming: net/http's client cannot send half a body and wait.
package rawhttp

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"
)

// AnnouncedLength is the Content-Length SendPart announces: more than any
// part a test sends.
const AnnouncedLength = 100

// Serve serves h on a loopback port with readTimeout as the server's
// ReadTimeout until the test ends, and returns the address. The
// connections of SendPart, closed first, do not hold the server's close.
func Serve(t testing.TB, h http.Handler, readTimeout time.Duration) string {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ReadTimeout = readTimeout
	srv.Start()
	t.Cleanup(srv.Close)
	return srv.Listener.Addr().String()
}

// SendPart dials addr and sends a request of method to path with header
// (lines ending in "\r\n"), announcing a body of AnnouncedLength bytes
// and sending only part of it. The connection is closed when the test
// ends.
func SendPart(t testing.TB, addr, method, path, header, part string) net.Conn {
	t.Helper()
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatalf("rawhttp: dial %s: %v", addr, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	if _, err := io.WriteString(c, method+" "+path+" HTTP/1.1\r\nHost: x\r\n"+header+
		"Content-Length: "+strconv.Itoa(AnnouncedLength)+"\r\n\r\n"+part); err != nil {
		t.Fatalf("rawhttp: write: %v", err)
	}
	return c
}

// ReadAnswer reads the response on c and its whole body, waiting at most
// 10 s: far below the ReadTimeout of a server under test, so that a server
// that waits for the rest of the body fails the test rather than answer.
func ReadAnswer(t testing.TB, c net.Conn) (*http.Response, string) {
	t.Helper()
	if err := c.SetReadDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatalf("rawhttp: set deadline: %v", err)
	}
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatalf("rawhttp: no answer before the body is complete: %v", err)
	}
	body, err := io.ReadAll(resp.Body)
	_ = resp.Body.Close()
	if err != nil {
		t.Fatalf("rawhttp: read the answer's body: %v", err)
	}
	return resp, string(body)
}
