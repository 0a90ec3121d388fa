package messagecenter_test

import (
	"context"
	"errors"
	"net"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// flakyFinishStore fails the first failures FinishCenterMessage calls
// with err; with landed, each failed call writes first (the commit landed,
// its answer was lost).
type flakyFinishStore struct {
	registry.Store
	mu       sync.Mutex
	failures int
	err      error
	landed   bool
	calls    int
}

func (s *flakyFinishStore) FinishCenterMessage(ctx context.Context, m *registry.CenterMessage) error {
	s.mu.Lock()
	s.calls++
	fail := s.failures > 0
	if fail {
		s.failures--
	}
	s.mu.Unlock()
	if !fail {
		return s.Store.FinishCenterMessage(ctx, m)
	}
	if s.landed {
		if err := s.Store.FinishCenterMessage(ctx, m); err != nil {
			return err
		}
	}
	return s.err
}

// resetErr is a connection reset before the statement reached the server.
var resetErr = &net.OpError{Op: "write", Net: "tcp", Err: syscall.ECONNRESET}

// TestNotifierRowOutcomeWriteIsRetried: an sms row whose notifier sent it
// but whose outcome write failed on a connection that broke (once, twice)
// is recorded by a retry: sent once, and a later pass, past the lease,
// does not send it again. An sms row has no dedupe key: before the
// retries, it was sent twice (review of 2026-12-06). A write whose commit
// landed but whose answer was lost (a timeout) is taken as recorded when
// the retry finds the claim released; a refusal that will not pass is not
// retried.
func TestNotifierRowOutcomeWriteIsRetried(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			for _, tt := range []struct {
				name      string
				failures  int
				err       error
				landed    bool
				calls     int
				outcome   messagecenter.Outcome
				sentState int
			}{
				{"a reset", 1, resetErr, false, 2, messagecenter.OutcomeSent, registry.SendStateSent},
				{"two resets", 2, resetErr, false, 3, messagecenter.OutcomeSent, registry.SendStateSent},
				{"an answer lost after the commit", 1, context.DeadlineExceeded, true, 2, messagecenter.OutcomeSent, registry.SendStateSent},
				{"a refusal", 1, errors.New("refused for good"), false, 1, messagecenter.OutcomeLost, registry.SendStateUnsent},
			} {
				t.Run(tt.name, func(t *testing.T) {
					db, _ := dbtest.Open(t, d)
					clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
					store, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: clk.Now})
					require.NoError(t, err)
					require.NoError(t, store.Migrate(t.Context()))
					flaky := &flakyFinishStore{Store: store, failures: tt.failures, err: tt.err, landed: tt.landed}
					var mu sync.Mutex
					sent := 0
					sms := messagecenter.NotifierFunc(func(context.Context, registry.CenterMessage, []string) (string, error) {
						mu.Lock()
						sent++
						mu.Unlock()
						return "sms#ok", nil
					})
					e := newEnv(t, flaky, clk, func(c *messagecenter.Config) {
						c.Notifiers = map[string]messagecenter.Notifier{"sms": sms}
					})
					id := e.enqueue(t, registry.CenterMessage{Title: "t", Content: "验证码 1234", NotifyMode: "sms", Receivers: "13800000000"})

					_, err = e.scanner.RunOnce(t.Context())
					require.NoError(t, err)
					require.Len(t, e.results, 1)
					assert.Equal(t, tt.outcome, e.results[0].Outcome)
					assert.Equal(t, tt.calls, flaky.calls, "tries of the outcome's write")
					row := e.row(t, id)
					assert.Equal(t, tt.sentState, row.SendState)

					clk.Advance(time.Hour) // past the lease
					_, err = e.scanner.RunOnce(t.Context())
					require.NoError(t, err)
					want := 1
					if tt.outcome == messagecenter.OutcomeLost {
						want = 2 // the write was refused: the row is handled again, as before
					}
					assert.Equal(t, want, sent, "notifier calls")
				})
			}
		})
	}
}
