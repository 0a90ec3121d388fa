package messagecenter_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/messagecenter"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// readCounter counts the reads a pass makes of the store.
type readCounter struct {
	*memstore.Store
	mu                    sync.Mutex
	targets, finds, byKey int
}

func (c *readCounter) count(n *int) {
	c.mu.Lock()
	*n++
	c.mu.Unlock()
}

func (c *readCounter) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	c.count(&c.targets)
	return c.Store.ListTargets(ctx, q)
}

func (c *readCounter) FindDedupeKeys(ctx context.Context, keys []string) (map[string]int64, error) {
	c.count(&c.finds)
	return c.Store.FindDedupeKeys(ctx, keys)
}

func (c *readCounter) GetPushMessageByDedupeKey(ctx context.Context, key string) (registry.PushMessage, error) {
	c.count(&c.byKey)
	return c.Store.GetPushMessageByDedupeKey(ctx, key)
}

// TestPushRowsOfABatchShareTheirReads: the push rows of one claimed batch
// are pushed together: one dedupe look-up and one listing of targets for
// the whole batch, not one of each per row; each row still gets its own
// push, sent once.
func TestPushRowsOfABatchShareTheirReads(t *testing.T) {
	ms, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	rc := &readCounter{Store: ms}
	// One claim of the 50 rows: the first claim of a pass takes twice the
	// Concurrency.
	e := newEnv(t, rc, nil, func(c *messagecenter.Config) { c.BatchSize, c.Concurrency = 50, 25 })
	var ids []int64
	for i := range 50 {
		u := fmt.Sprintf("u%d", i)
		e.register(t, u, "d"+u, "android", "tok"+u)
		ids = append(ids, e.enqueue(t, registry.CenterMessage{Title: "t", Content: fmt.Sprint(i), NotifyMode: "push", Receivers: u}))
	}
	rep, err := e.scanner.RunOnce(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 50, rep.Sent)
	assert.Equal(t, 50, e.mock.Calls(), "one vendor call per row")
	assert.Equal(t, 1, rc.finds, "one dedupe look-up for the batch")
	assert.Zero(t, rc.byKey, "no look-up row by row")
	assert.Equal(t, 1, rc.targets, "one listing of the targets of the batch's 50 users")
	pushes := map[string]bool{}
	for _, id := range ids {
		r := e.row(t, id)
		assert.Equal(t, registry.SendStateSent, r.SendState)
		assert.False(t, pushes[r.SendResult], "each row its own push")
		pushes[r.SendResult] = true
	}
}
