package umeng

import (
	"context"
	"encoding/json"
	"net/http"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestStatusMapsEveryState(t *testing.T) {
	tests := []struct {
		status int
		state  provider.State
		final  bool
	}{
		{0, provider.StateQueued, false},
		{1, provider.StateSending, false},
		{2, provider.StateDone, true},
		{3, provider.StateFailed, true},
		{4, provider.StateCanceled, true},
		{5, provider.StateExpired, true},
		{6, provider.StateEmpty, true},
		{7, provider.StateScheduled, false},
	}
	for _, tt := range tests {
		for _, p := range provider.Platforms() {
			t.Run(string(tt.state)+"/"+string(p), func(t *testing.T) {
				h := newHarness(t)
				answer := `{"ret":"SUCCESS","data":{"task_id":"us1","status":` + strconv.Itoa(tt.status) +
					`,"total_count":10,"sent_count":"9","open_count":3,"dismiss_count":"1"}}`
				h.respond("/api/status", http.StatusOK, answer)

				st, err := h.client.Status(context.Background(), p, "us1")
				require.NoError(t, err)
				assert.Equal(t, &provider.Status{
					ID:        "us1",
					State:     tt.state,
					Code:      strconv.Itoa(tt.status),
					Total:     10,
					Sent:      9,
					Opened:    3,
					Dismissed: 1,
					Raw:       json.RawMessage(answer),
				}, st)
				assert.Equal(t, tt.final, st.State.Final())

				call := h.only(t)
				assert.Equal(t, "/api/status", call.path)
				key := androidKey
				if p == provider.IOS {
					key = iosKey
				}
				assert.JSONEq(t, `{"appkey":"`+key+`","timestamp":"1714528984000","task_id":"us1"}`, string(call.body))
			})
		}
	}
}

func TestStatusAcceptsStringsAndMissingCounts(t *testing.T) {
	h := newHarness(t)
	h.respond("/api/status", http.StatusOK, `{"ret":"SUCCESS","data":{"task_id":"us1","status":" 2 ","total_count":null,"sent_count":""}}`)
	st, err := h.client.Status(context.Background(), provider.Android, "us1")
	require.NoError(t, err)
	assert.Equal(t, provider.StateDone, st.State)
	assert.Zero(t, st.Total)
	assert.Zero(t, st.Sent)
}

func TestStatusRejectsUnreadableAnswers(t *testing.T) {
	tests := []struct {
		name   string
		answer string
		code   string
	}{
		{"no status", `{"ret":"SUCCESS","data":{"task_id":"us1"}}`, ""},
		{"empty status", `{"ret":"SUCCESS","data":{"status":""}}`, ""},
		{"no data", `{"ret":"SUCCESS"}`, ""},
		{"status not a number", `{"ret":"SUCCESS","data":{"status":"done"}}`, ""},
		{"count not a number", `{"ret":"SUCCESS","data":{"status":2,"total_count":"many"}}`, ""},
		{"unknown status", `{"ret":"SUCCESS","data":{"status":8}}`, "8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.respond("/api/status", http.StatusOK, tt.answer)
			st, err := h.client.Status(context.Background(), provider.Android, "us1")
			assert.Nil(t, st)
			pe := requireKind(t, err, provider.Unknown)
			assert.Equal(t, opStatus, pe.Op)
			assert.Equal(t, tt.code, pe.Code)
		})
	}
}

func TestStatusAndCancelRejectBadIDs(t *testing.T) {
	tests := []struct {
		name     string
		platform provider.Platform
		id       string
		field    string
	}{
		{"unicast msg_id", provider.Android, "uu12345678901234567890", "id"},
		{"listcast msg_id", provider.IOS, "ul12345678901234567890", "id"},
		{"alias msg_id", provider.Android, "ua12345678901234567890", "id"},
		{"empty id", provider.Android, "", "id"},
		{"id with space", provider.Android, "us 1", "id"},
		{"unknown platform", "web", "us1", "platform"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			_, err := h.client.Status(context.Background(), tt.platform, tt.id)
			requireField(t, err, tt.field)
			err = h.client.Cancel(context.Background(), tt.platform, tt.id)
			requireField(t, err, tt.field)
			h.requireNoCall(t)
		})
	}
}

func TestStatusError(t *testing.T) {
	h := newHarness(t)
	h.respond("/api/status", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":"2013","error_msg":"queued"}}`)
	_, err := h.client.Status(context.Background(), provider.IOS, "us1")
	pe := requireKind(t, err, provider.Temporary)
	assert.Equal(t, opStatus, pe.Op)
	assert.Equal(t, "2013", pe.Code)
}

func TestCancel(t *testing.T) {
	tests := []struct {
		name   string
		status int
		answer string
		kind   provider.Kind
		code   string
	}{
		{"cancelled", http.StatusOK, `{"ret":"SUCCESS","data":{"task_id":"us1"}}`, 0, ""},
		{"too late", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":"1028"}}`, provider.InvalidRequest, "1028"},
		{"unknown task", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":1014}}`, provider.InvalidRequest, "1014"},
		{"try again", http.StatusBadRequest, `{"ret":"FAIL","data":{"error_code":"2014"}}`, provider.Temporary, "2014"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.respond("/api/cancel", tt.status, tt.answer)
			err := h.client.Cancel(context.Background(), provider.Android, "us1")
			call := h.only(t)
			assert.Equal(t, "/api/cancel", call.path)
			assert.JSONEq(t, `{"appkey":"`+androidKey+`","timestamp":"1714528984000","task_id":"us1"}`, string(call.body))
			if tt.code == "" {
				require.NoError(t, err)
				return
			}
			pe := requireKind(t, err, tt.kind)
			assert.Equal(t, opCancel, pe.Op)
			assert.Equal(t, tt.code, pe.Code)
		})
	}
}
