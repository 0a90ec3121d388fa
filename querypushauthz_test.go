package push_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider/providertest"
)

// TestQueryPushAsksTheAuthorizer: query/push_message is refused when the
// Authorizer refuses ActionQueryPush: 403 for a refusal, 401 for
// ErrUnauthenticated; the push's status is not answered.
func TestQueryPushAsksTheAuthorizer(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "atok")
	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	for _, tc := range []struct {
		refusal error
		status  int
	}{
		{errors.New("not yours"), http.StatusForbidden},
		{push.ErrUnauthenticated, http.StatusUnauthorized},
	} {
		var asked []push.Action
		h, err := push.NewHandler(push.HandlerConfig{Service: f.svc, Authorize: func(_ *http.Request, a push.Action, _ string) error {
			asked = append(asked, a)
			if a == push.ActionQueryPush {
				return tc.refusal
			}
			return nil
		}})
		require.NoError(t, err)
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, fmt.Sprintf("%s?push_message_id=%d", push.PathQueryPush, res.PushMessageID), nil))
		assert.Equal(t, tc.status, rec.Code, rec.Body.String())
		assert.NotContains(t, rec.Body.String(), "android_status", "the push's status is not answered")
		assert.Equal(t, []push.Action{push.ActionQueryPush}, asked)
	}
}
