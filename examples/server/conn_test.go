package main

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
)

// TestARefusedTrickleHoldsNoConnection runs the server's own wiring (its
// minute of ReadTimeout, the tracing wrapper, the bearer token, the
// receipt endpoints) against clients that send the header of a 100-byte
// body and only its first bytes: each refusal arrives, the server closes
// the connection rather than wait for the rest, and the shutdown that
// follows is not held by any of them.
func TestARefusedTrickleHoldsNoConnection(t *testing.T) {
	a := newTestApp(t, map[string]string{"PUSH_API_TOKEN": "tok", "PUSH_SCAN_INTERVAL": "1h",
		"UMENG_RECEIPT_URL": "https://push.example.com" + PathUmengReceipt, "UMENG_RECEIPT_SECRET": "rs3cret-0123456789"})
	addr, cancel, done := startServing(t, a)
	defer cancel()
	for _, tc := range []struct {
		name, request string
		status        int
	}{
		{"no token", "POST " + push.PathPushMessage + " HTTP/1.1\r\nContent-Type: application/json\r\n", http.StatusUnauthorized},
		{"a wrong token", "POST " + push.PathDevice + " HTTP/1.1\r\nAuthorization: Bearer wrong\r\nContent-Type: application/json\r\n",
			http.StatusUnauthorized},
		{"no such path", "POST /api/v1.1/nope HTTP/1.1\r\nAuthorization: Bearer tok\r\n", http.StatusNotFound},
		{"umeng receipt without the secret", "POST " + PathUmengReceipt + " HTTP/1.1\r\nContent-Type: application/json\r\n",
			http.StatusUnauthorized},
		{"getui receipt, wrong method", "PUT " + PathGetuiReceipt + " HTTP/1.1\r\n", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			require.NoError(t, err)
			defer func() { _ = c.Close() }()
			_, err = io.WriteString(c, tc.request+"Host: x\r\nContent-Length: 100\r\n\r\n{\"user_num\":")
			require.NoError(t, err)
			// Far below the server's ReadTimeout, which a server reading
			// for the rest of the body would wait out before answering.
			require.NoError(t, c.SetReadDeadline(time.Now().Add(10*time.Second)))
			br := bufio.NewReader(c)
			resp, err := http.ReadResponse(br, nil)
			require.NoError(t, err, "answered before the body is complete")
			body, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			assert.Equal(t, tc.status, resp.StatusCode, string(body))
			assert.NotContains(t, string(body), "127.0.0.1")
			_, err = br.ReadByte()
			assert.ErrorIs(t, err, io.EOF, "the server closed the connection")
		})
	}
	cancel()
	select {
	case err := <-done:
		assert.NoError(t, err)
	case <-time.After(30 * time.Second):
		t.Fatal("serve did not return after cancellation")
	}
}
