package sqlstore

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestGroupQueue: calls queued while a batch is written go into the next
// batch together; a call whose ctx ends while it is still queued is taken
// back unwritten and gets ctx's error; one whose ctx ends while its batch
// is written waits for, and gets, the batch's result.
func TestGroupQueue(t *testing.T) {
	g := newGroupQueue[int](DialectSQLite)
	var mu sync.Mutex
	var batches [][]int
	inFirst := make(chan struct{})
	release := make(chan struct{})
	write := func(_ context.Context, batch []*groupReq[int]) {
		var vs []int
		for _, r := range batch {
			vs = append(vs, r.v)
			r.err = nil
		}
		mu.Lock()
		batches = append(batches, vs)
		first := len(batches) == 1
		mu.Unlock()
		if first {
			close(inFirst)
			<-release
		}
	}
	firstCtx, cancelFirst := context.WithCancel(t.Context())
	results := make(chan error, 1)
	go func() { results <- g.do(firstCtx, 1, write) }()
	<-inFirst
	// The first batch is being written: its caller's cancellation does
	// not take it back.
	cancelFirst()

	var wg sync.WaitGroup
	errs := make([]error, 4)
	for i := range 3 {
		wg.Go(func() { errs[i] = g.do(t.Context(), 10+i, write) })
	}
	goneCtx, cancelGone := context.WithCancel(t.Context())
	gone := make(chan error, 1)
	go func() { gone <- g.do(goneCtx, 99, write) }()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.pending) == 4
	}, 5e9, 1e6)
	cancelGone()
	assert.ErrorIs(t, <-gone, context.Canceled, "taken back while queued")
	close(release)
	assert.NoError(t, <-results, "written once its batch held it")
	wg.Wait()
	for i := range 3 {
		assert.NoError(t, errs[i])
	}
	require.Len(t, batches, 2)
	assert.Equal(t, []int{1}, batches[0])
	assert.ElementsMatch(t, []int{10, 11, 12}, batches[1], "queued calls share one batch; 99 never written")
	assert.Zero(t, g.writing)
}

// TestGroupQueueKeep: with keep set, a call whose ctx ends while it is
// queued gets ctx's error and is written anyway, in the next batch.
func TestGroupQueueKeep(t *testing.T) {
	g := newGroupQueue[int](DialectSQLite).keepOnCancel()
	var mu sync.Mutex
	var written []int
	inFirst, release := make(chan struct{}), make(chan struct{})
	write := func(_ context.Context, batch []*groupReq[int]) {
		mu.Lock()
		first := len(written) == 0
		for _, r := range batch {
			written = append(written, r.v)
		}
		mu.Unlock()
		if first {
			close(inFirst)
			<-release
		}
	}
	lead := make(chan error, 1)
	go func() { lead <- g.do(t.Context(), 1, write) }()
	<-inFirst
	ctx, cancel := context.WithCancel(t.Context())
	late := make(chan error, 1)
	go func() { late <- g.do(ctx, 2, write) }()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return len(g.pending) == 1
	}, 5e9, 1e6)
	cancel()
	assert.ErrorIs(t, <-late, context.Canceled)
	close(release)
	require.NoError(t, <-lead)
	assert.Equal(t, []int{1, 2}, written, "the cancelled call is written anyway")
}
