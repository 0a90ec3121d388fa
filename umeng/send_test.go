package umeng

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

// TestReceiptOptionsOnTheWire pins receipt_type as a JSON string and
// callback_params as a JSON object, as Umeng documents it, and leaves both
// out when unset.
func TestReceiptOptionsOnTheWire(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want map[string]any
	}{
		{"none", Options{}, map[string]any{}},
		{"url only", Options{ReceiptURL: "https://h.example.com/r"}, map[string]any{"receipt_url": "https://h.example.com/r"}},
		{"arrival", Options{ReceiptURL: "https://h.example.com/r", ReceiptType: ReceiptArrival},
			map[string]any{"receipt_url": "https://h.example.com/r", "receipt_type": "1"}},
		{"click", Options{ReceiptURL: "https://h.example.com/r", ReceiptType: ReceiptClick},
			map[string]any{"receipt_url": "https://h.example.com/r", "receipt_type": "2"}},
		{"both, with callback params", Options{ReceiptURL: "https://h.example.com/r", ReceiptType: ReceiptArrivalAndClick, CallbackParams: json.RawMessage(`{"push": 7}`)},
			map[string]any{"receipt_url": "https://h.example.com/r", "receipt_type": "3", "callback_params": map[string]any{"push": float64(7)}}},
		{"callback params alone", Options{CallbackParams: json.RawMessage(`{"order":"42"}`)},
			map[string]any{"callback_params": map[string]any{"order": "42"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := newHarness(t)
			h.respond("/api/send", http.StatusOK, okMsg)
			r := unicast(provider.IOS)
			r.Overrides = map[string]any{Name: &tt.opts}
			_, err := h.client.Send(context.Background(), r)
			require.NoError(t, err)
			var body map[string]any
			require.NoError(t, json.Unmarshal(h.only(t).body, &body))
			got := map[string]any{}
			for _, k := range []string{"receipt_url", "receipt_type", "callback_params"} {
				if v, ok := body[k]; ok {
					got[k] = v
				}
			}
			assert.Equal(t, tt.want, got)
		})
	}
}
