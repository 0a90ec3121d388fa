package getui_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/internal/rawhttp"
)

// TestASlowReceiptBodyIsA408WithoutAddresses: a receipt post whose body
// does not arrive within the server's ReadTimeout is answered 408, as the
// Handler answers such a body, and the answer names no socket address.
func TestASlowReceiptBodyIsA408WithoutAddresses(t *testing.T) {
	sink := &reportSink{}
	addr := rawhttp.Serve(t, newReceiptHandler(t, sink, nil), 300*time.Millisecond)
	c := rawhttp.SendPart(t, addr, http.MethodPost, "/r", "Content-Type: text/plain\r\n", `{"appid":`)
	resp, body := rawhttp.ReadAnswer(t, c)
	assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, body)
	assert.JSONEq(t, `{"ret":"FAIL","error":"the body did not arrive in time"}`, body)
	assert.NotContains(t, body, "127.0.0.1")
	assert.True(t, resp.Close, "the answer says the connection ends")
	assert.Empty(t, sink.reports())
}
