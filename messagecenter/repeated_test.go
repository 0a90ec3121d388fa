package messagecenter_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
)

// TestARowHandledAgainSaysItsUnreachedAreUnknown: a row whose push an earlier try
// recorded (that try stopped before it wrote the row) finds the push by
// its dedupe key and is sent without a second push. Its remark was NULL,
// as if every receiver had been reached: now it says they are not known,
// whatever the row's earlier remark (one of a try before the push was
// recorded may name users whose devices were registered since).
func TestARowHandledAgainSaysItsUnreachedAreUnknown(t *testing.T) {
	for _, tt := range []struct {
		name, prev, want string
	}{
		{"never written", "", "push_message#1 was recorded by an earlier try of this row: the receivers it reached no device of, if any, are not known to this one"},
		{"an earlier remark naming users", "2 receiver(s) without a device the push could reach: u0、ghost0",
			"push_message#1 was recorded by an earlier try of this row: the receivers it reached no device of, if any, are not known to this one"},
		{"an earlier error", "push: record push message: connection reset",
			"push_message#1 was recorded by an earlier try of this row: the receivers it reached no device of, if any, are not known to this one"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t, nil, nil, nil)
			e.register(t, "u0", "d0", "ios", "tok-0")
			row := registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: "u0,ghost0", Remark: tt.prev}
			row.ID = e.enqueue(t, row)
			stored := e.row(t, row.ID)
			// The earlier try: the push recorded under the row's key.
			first, err := e.svc.Push(t.Context(), push.Message{UserNums: []string{"u0", "ghost0"}, Title: "t", Content: "c",
				DedupeKey: messagecenter.DedupeKey(&stored)})
			require.NoError(t, err)
			require.Equal(t, []string{"ghost0"}, first.Unreached)
			calls := e.mock.Calls()

			rep, err := e.scanner.RunOnce(t.Context())
			require.NoError(t, err)
			assert.Equal(t, 1, rep.Sent)
			assert.Equal(t, calls, e.mock.Calls(), "nothing sent again")
			got := e.row(t, row.ID)
			assert.Equal(t, registry.SendStateSent, got.SendState)
			assert.Equal(t, messagecenter.SendResultPrefix+"1", got.SendResult)
			assert.Equal(t, tt.want, got.Remark)
		})
	}
}
