package sqlstore

import (
	"context"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestGroupQueueLeaderLeavesTheOthersBatchesAtItsCtxEnd: without keep, a
// caller writing the others' batches when its ctx ends stops after the
// batch it is writing: it is not held writing the next one (a writer
// takes its place), and its own call, still queued, is taken back and
// never written.
func TestGroupQueueLeaderLeavesTheOthersBatchesAtItsCtxEnd(t *testing.T) {
	g := newGroupQueue[int](DialectSQLite)
	g.maxBatch = 1
	inFirst, releaseFirst := make(chan struct{}), make(chan struct{})
	inSecond, releaseSecond := make(chan struct{}), make(chan struct{})
	var mu sync.Mutex
	var written []int
	write := func(batch []*groupReq[int]) {
		mu.Lock()
		written = append(written, batch[0].v)
		mu.Unlock()
		switch batch[0].v {
		case 0:
			close(inFirst)
			<-releaseFirst
		case 2:
			close(inSecond)
			<-releaseSecond
		}
	}
	// Calls 0 and 2 are queued, nobody writing them yet: the caller of 1
	// leads and writes 0 first; 2 comes before its own.
	others := []*groupReq[int]{{v: 0, done: make(chan struct{})}, {v: 2, done: make(chan struct{})}}
	g.pending = append(g.pending, others...)
	ctx, cancel := context.WithCancel(t.Context())
	lead := make(chan error, 1)
	go func() { lead <- g.do(ctx, 1, write) }()
	<-inFirst
	cancel()
	close(releaseFirst)
	<-inSecond
	assert.ErrorIs(t, within(t, lead), context.Canceled, "the caller left while call 2 was still being written")
	close(releaseSecond)
	<-others[1].done
	waitIdle(t, g)
	mu.Lock()
	assert.Equal(t, []int{0, 2}, written, "the caller's own call was taken back")
	mu.Unlock()
}
