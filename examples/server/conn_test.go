package main

import (
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/rawhttp"
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
		name, method, path, header string
		status                     int
	}{
		{"no token", "POST", push.PathPushMessage, "Content-Type: application/json\r\n", http.StatusUnauthorized},
		{"a wrong token", "POST", push.PathDevice, "Authorization: Bearer wrong\r\nContent-Type: application/json\r\n",
			http.StatusUnauthorized},
		{"no such path", "POST", "/api/v1.1/nope", "Authorization: Bearer tok\r\n", http.StatusNotFound},
		{"umeng receipt without the secret", "POST", PathUmengReceipt, "Content-Type: application/json\r\n", http.StatusUnauthorized},
		{"getui receipt, wrong method", "PUT", PathGetuiReceipt, "", http.StatusMethodNotAllowed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := rawhttp.SendPart(t, addr, tc.method, tc.path, tc.header, `{"user_num":`)
			resp, body := rawhttp.ReadAnswer(t, c)
			assert.Equal(t, tc.status, resp.StatusCode, body)
			assert.NotContains(t, body, "127.0.0.1")
			_, err := c.Read(make([]byte, 1))
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
