package provider_test

import (
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestTraceWriteTellsALostAnswerFromAnUnsentRequest: a vendor that read
// the request and hung up has it (Indeterminate: retried with the same
// key); a refused connection never got it (Temporary).
func TestTraceWriteTellsALostAnswerFromAnUnsentRequest(t *testing.T) {
	hangUp := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = r.Body.Read(make([]byte, 64))
		conn, _, err := w.(http.Hijacker).Hijack()
		require.NoError(t, err)
		_ = conn.Close()
	}))
	defer hangUp.Close()
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	refused := "http://" + closed.Addr().String()
	require.NoError(t, closed.Close())

	for url, want := range map[string]provider.Kind{hangUp.URL: provider.Indeterminate, refused: provider.Temporary} {
		ctx, written := provider.TraceWrite(t.Context())
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/send", strings.NewReader(`{"a":1}`))
		require.NoError(t, err)
		_, err = http.DefaultClient.Do(req)
		require.Error(t, err)
		e := provider.TransportError("acme", "send", err, written())
		assert.Equal(t, want, e.Kind, url)
		assert.ErrorIs(t, e, want)
		assert.Equal(t, "acme", e.Provider)
	}
}
