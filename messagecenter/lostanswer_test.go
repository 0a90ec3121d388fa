package messagecenter_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// lateAnswerStore, armed with its caller's cancel, cancels it while a
// claim of center rows runs; the claim commits, and if the ctx it was
// given has ended, its answer is lost to the cancel as a database driver
// loses it: the rows are claimed, the caller sees only an error.
type lateAnswerStore struct {
	*memstore.Store
	mu     sync.Mutex
	cancel context.CancelFunc
}

func (s *lateAnswerStore) ClaimCenterMessages(ctx context.Context, p registry.ClaimParams) ([]registry.CenterMessage, error) {
	s.mu.Lock()
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
	}
	s.mu.Unlock()
	rows, err := s.Store.ClaimCenterMessages(context.WithoutCancel(ctx), p)
	if ctx.Err() != nil {
		return nil, ctx.Err()
	}
	return rows, err
}

// A Scanner stopped while its claim runs gives the rows the claim took back
// untried, without spending their attempt: the next pass, the clock
// unmoved, sends them. (The claim ran on the pass's ctx, so its answer was
// lost and the rows held by nobody until their lease ran out.)
func TestPassStoppedDuringItsClaimGivesTheRowsBack(t *testing.T) {
	clk := &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)}
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	st := &lateAnswerStore{Store: ms}
	e := newEnv(t, st, clk, nil)
	e.register(t, "u1", "d1", "android", "atok")
	ids := []int64{
		e.enqueue(t, registry.CenterMessage{Title: "a", Content: "c", NotifyMode: "push", Receivers: "u1"}),
		e.enqueue(t, registry.CenterMessage{Title: "b", Content: "c", NotifyMode: "push", Receivers: "u1"}),
	}

	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	st.mu.Lock()
	st.cancel = cancel
	st.mu.Unlock()
	rep, err := e.scanner.RunOnce(ctx)
	require.NoError(t, err)
	assert.Equal(t, messagecenter.Report{Claimed: 2, Released: 2}, rep, "the claim's answer reached the pass, which gave the rows back")
	assert.Zero(t, e.mock.Calls())
	for _, id := range ids {
		row := e.row(t, id)
		assert.Equal(t, registry.SendStateUnsent, row.SendState)
		assert.Zero(t, row.Attempts, "no attempt spent")
		assert.Empty(t, row.ClaimToken, "the claim was given back")
	}

	rep, err = e.scanner.RunOnce(t.Context())
	require.NoError(t, err)
	assert.Equal(t, 2, rep.Sent, "claimed afresh at once")
	for _, id := range ids {
		assert.Equal(t, registry.SendStateSent, e.row(t, id).SendState)
	}
}
