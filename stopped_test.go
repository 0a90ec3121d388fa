package push_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry/memstore"
)

// stoppingHolder is a memstore whose drop of held receipts ends the
// caller's ctx: a Scanner's pass that stops (its host shuts down) while
// it adopts receipts.
type stoppingHolder struct {
	*memstore.Store
	stop context.CancelFunc
}

func (s stoppingHolder) DropHeldReceipts(ctx context.Context, before time.Time, limit int) (int, error) {
	s.stop()
	return s.Store.DropHeldReceipts(ctx, before, limit)
}

// TestStoppingAdoptionLogsNoFailure: AdoptReceipts whose ctx ends while
// it works (a shutdown) does not count the held receipts again, and says
// nothing of it: that is a stop, not a failure worth a warning.
func TestStoppingAdoptionLogsNoFailure(t *testing.T) {
	ms, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	logs := &syncbuf.Buffer{}
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: stoppingHolder{ms, cancel}, Providers: []provider.Provider{m},
		Logger: slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})
	require.NoError(t, err)
	_, err = svc.AdoptReceipts(ctx, 10)
	require.ErrorIs(t, err, context.Canceled, "the pass was stopped")
	assert.NotContains(t, logs.String(), "level=WARN", "a stop is no failure")
}

// TestCancelledLargePushSaysWhere: a push to more users than one listing
// chunk whose ctx has ended fails as a small push does, saying where it
// stopped ("push: list targets: context canceled"), not with a bare
// context.Canceled; nothing is recorded.
func TestCancelledLargePushSaysWhere(t *testing.T) {
	ms, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: ms, Providers: []provider.Provider{m}})
	require.NoError(t, err)
	users := make([]string, 25000)
	for i := range users {
		users[i] = fmt.Sprint("u", i)
	}
	for _, n := range []int{1, len(users)} {
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		_, err = svc.Push(ctx, push.Message{UserNums: users[:n], Title: "t", Content: "c"})
		require.ErrorIs(t, err, context.Canceled, "%d users", n)
		assert.ErrorContains(t, err, "push: list targets: ", "%d users", n)
	}
	assert.Empty(t, m.Requests())
}
