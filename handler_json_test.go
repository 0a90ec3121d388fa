package push_test

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestAForeignTimePastYear9999IsNoEmptyAnswer: a device time another
// program wrote with a zone that puts it past year 9999 in the Store's
// zone reads as no time, and GET user/devices answers the user's devices
// with it; nothing answers 200 with an empty body.
func TestAForeignTimePastYear9999IsNoEmptyAnswer(t *testing.T) {
	st, db := dbtest.NewStoreDB(t, sqlstore.DialectSQLite)
	r := newForeignRig(t, st, db, push.RetryPolicy{})
	r.register(t, "u1")
	_, err := db.ExecContext(t.Context(), "UPDATE sys_devices SET created_at = '9999-12-31T23:59:59-05:00'")
	require.NoError(t, err)
	h, err := push.NewHandler(push.HandlerConfig{Service: r.svc})
	require.NoError(t, err)

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, push.PathUserDevices+"?user_num=u1", nil))
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	var body struct {
		Devices []map[string]any `json:"devices"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body), "a JSON answer: %q", rec.Body.String())
	assert.Len(t, body.Devices, 1)
}

// TestAnAnswerThatCannotBeEncodedIs500: the Handler encodes an answer
// before it writes the status, so one that cannot be encoded is a 500 with
// a JSON error, not a 200 with an empty body.
func TestAnAnswerThatCannotBeEncodedIs500(t *testing.T) {
	rec := httptest.NewRecorder()
	push.WriteJSON(rec, http.StatusOK, map[string]any{"at": time.Date(10000, 1, 1, 0, 0, 0, 0, time.UTC)})
	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	assert.JSONEq(t, `{"error":{"code":"internal","message":"the answer could not be encoded as JSON"}}`, rec.Body.String())

	rec = httptest.NewRecorder()
	push.WriteJSON(rec, http.StatusCreated, map[string]any{"ok": true})
	assert.Equal(t, http.StatusCreated, rec.Code)
	assert.JSONEq(t, `{"ok":true}`, rec.Body.String())
}
