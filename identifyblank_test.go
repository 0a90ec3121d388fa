package push_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider/providertest"
)

// TestIdentifyNamingABlankUserIsA401: an Identify hook that says it
// identified the caller but names no user (blank, or white space only)
// identifies nobody: the request is refused 401, not served as a caller
// whose user_num is empty, and nothing is written or sent.
func TestIdentifyNamingABlankUserIsA401(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok1")
	h, err := push.NewHandler(push.HandlerConfig{Service: f.svc,
		Identify: func(*http.Request) (string, bool, error) { return " \t", true, nil }})
	require.NoError(t, err)
	for _, r := range []*http.Request{
		httptest.NewRequest(http.MethodGet, push.PathUserDevices+"?user_num=u1", nil),
		httptest.NewRequest(http.MethodGet, push.PathUserDevices, nil),
		httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(`{"user_num":"u1","title":"t","content":"c"}`)),
	} {
		if r.Method == http.MethodPost {
			r.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		assert.Equal(t, http.StatusUnauthorized, rec.Code, "%s %s: %s", r.Method, r.URL, rec.Body.String())
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
		assert.Equal(t, "unauthenticated", body.Error.Code)
	}
	assert.Zero(t, f.mock.Calls(), "nothing sent")
}
