package push

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
)

// TestFailNamesTheField: every kind of field error a request can end in,
// the package's, a registry's and a provider's, answers 400 with the
// error code "invalid_" and the field it names, wrapped or not.
func TestFailNamesTheField(t *testing.T) {
	for _, tt := range []struct {
		name string
		err  error
		code string
	}{
		{"push", &FieldError{Field: "title", Reason: "is required"}, "invalid_title"},
		{"registry", &registry.ValidationError{Field: "device_token", Reason: "is too long"}, "invalid_device_token"},
		{"provider", &provider.FieldError{Field: "notification.title", Reason: "is too long"}, "invalid_notification.title"},
		{"registry wrapped", fmt.Errorf("push: %w", &registry.ValidationError{Field: "user_num", Reason: "is too long"}), "invalid_user_num"},
		{"provider wrapped", fmt.Errorf("push: %w", &provider.FieldError{Field: "extra", Reason: "is too large"}), "invalid_extra"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			w := httptest.NewRecorder()
			(&Handler{}).fail(w, httptest.NewRequest(http.MethodPost, "/api/v1.1/push_message", nil), tt.err)
			assert.Equal(t, http.StatusBadRequest, w.Code)
			var body struct {
				Error struct{ Code, Message string }
			}
			require.NoError(t, json.Unmarshal(w.Body.Bytes(), &body), w.Body.String())
			assert.Equal(t, tt.code, body.Error.Code)
			assert.NotEmpty(t, body.Error.Message)
		})
	}
}
