package messagecenter_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
)

// earlySendAt is a store whose claims read each row's send_at as a moment
// later than the clock (as SQLite, comparing send_at to the millisecond,
// claims a row a fraction of a second early).
type earlySendAt struct {
	registry.Store
	by time.Duration
}

func (s earlySendAt) ClaimCenterMessages(ctx context.Context, p registry.ClaimParams) ([]registry.CenterMessage, error) {
	rows, err := s.Store.ClaimCenterMessages(ctx, p)
	for i := range rows {
		at := p.Now.Add(s.by)
		rows[i].SendAt = &at
	}
	return rows, err
}

// TestRowClaimedWithinASecondOfItsSendAtIsSent: a row claimed less than a
// second before its send_at is sent, not given back until then: the
// store compares send_at to the millisecond. One claimed earlier is given
// back, due at its send_at.
func TestRowClaimedWithinASecondOfItsSendAtIsSent(t *testing.T) {
	for _, tc := range []struct {
		early time.Duration
		sent  bool
	}{
		{500 * time.Millisecond, true},
		{time.Second, true},
		{2 * time.Second, false},
	} {
		t.Run(tc.early.String(), func(t *testing.T) {
			var calls int
			e := newEnv(t, nil, nil, nil)
			sms := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
				calls++
				return "sms#ok", nil
			})
			sc, err := messagecenter.New(messagecenter.Config{Service: e.svc, Store: earlySendAt{e.store, tc.early}, Now: e.clk.Now,
				Notifiers: map[string]messagecenter.Notifier{"sms": sms}})
			require.NoError(t, err)
			id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "sms", Receivers: "138"})
			rep, err := sc.RunOnce(context.Background())
			require.NoError(t, err)
			row := e.row(t, id)
			if tc.sent {
				assert.Equal(t, 1, rep.Sent)
				assert.Equal(t, 1, calls)
				assert.Equal(t, registry.SendStateSent, row.SendState)
				return
			}
			assert.Equal(t, 1, rep.Released)
			assert.Zero(t, calls)
			assert.Equal(t, registry.SendStateUnsent, row.SendState)
			require.NotNil(t, row.NextAttemptAt)
			assert.Equal(t, e.clk.Now().Add(tc.early), *row.NextAttemptAt, "due at its send_at")
		})
	}
}
