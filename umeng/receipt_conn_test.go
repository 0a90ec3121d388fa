package umeng_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/internal/rawhttp"
)

// TestASlowReceiptBodyIsA408WithoutAddresses: a receipt post, JSON or a
// form, whose body does not arrive within the server's ReadTimeout is
// answered 408, as the Handler answers such a body, and the answer names
// no socket address.
func TestASlowReceiptBodyIsA408WithoutAddresses(t *testing.T) {
	h, rec := newReceiptHandler(t, "")
	addr := rawhttp.Serve(t, h, 300*time.Millisecond)
	for _, tc := range []struct{ contentType, part string }{
		{"application/json", `{"appkey":"ourkey",`},
		{"application/x-www-form-urlencoded", "appkey=ourkey&msg_id="},
	} {
		c := rawhttp.SendPart(t, addr, http.MethodPost, "/r", "Content-Type: "+tc.contentType+"\r\n", tc.part)
		resp, body := rawhttp.ReadAnswer(t, c)
		assert.Equal(t, http.StatusRequestTimeout, resp.StatusCode, "%s: %s", tc.contentType, body)
		assert.JSONEq(t, `{"ret":"FAIL","error":"the body did not arrive in time"}`, body, tc.contentType)
		assert.NotContains(t, body, "127.0.0.1")
		assert.True(t, resp.Close, "the answer says the connection ends")
	}
	assert.Empty(t, rec.got)
}
