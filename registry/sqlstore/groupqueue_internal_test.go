package sqlstore

import (
	"context"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

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
	write := func(batch []*groupReq[int]) {
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
	waitIdle(t, g)
}

// TestGroupQueueKeep: with keep set, a call whose ctx ends while it is
// queued gets ctx's error and is written anyway, in the next batch.
func TestGroupQueueKeep(t *testing.T) {
	g := newGroupQueue[int](DialectSQLite).keepOnCancel()
	var mu sync.Mutex
	var written []int
	inFirst, release := make(chan struct{}), make(chan struct{})
	write := func(batch []*groupReq[int]) {
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
	waitIdle(t, g)
	mu.Lock()
	assert.Equal(t, []int{1, 2}, written, "the cancelled call is written anyway")
	mu.Unlock()
}

// TestGroupQueueLeaderLeavesOnceWritten: a caller that writes the batches
// stops once its own call is written; the calls queued behind it are
// written by the one that takes its place, not by that caller, however
// long they take.
func TestGroupQueueLeaderLeavesOnceWritten(t *testing.T) {
	for _, keep := range []bool{false, true} {
		g := newGroupQueue[int](DialectSQLite)
		g.keep = keep
		var mu sync.Mutex
		var written []int
		inFirst, releaseFirst := make(chan struct{}), make(chan struct{})
		inSecond, releaseSecond := make(chan struct{}), make(chan struct{})
		write := func(batch []*groupReq[int]) {
			mu.Lock()
			for _, r := range batch {
				written = append(written, r.v)
			}
			mu.Unlock()
			switch batch[0].v {
			case 1:
				close(inFirst)
				<-releaseFirst
			case 2:
				close(inSecond)
				<-releaseSecond
			}
		}
		lead := make(chan error, 1)
		go func() { lead <- g.do(t.Context(), 1, write) }()
		<-inFirst
		follower := make(chan error, 1)
		go func() { follower <- g.do(t.Context(), 2, write) }()
		require.Eventually(t, func() bool {
			g.mu.Lock()
			defer g.mu.Unlock()
			return len(g.pending) == 1
		}, 5e9, 1e6)
		close(releaseFirst)
		require.NoError(t, within(t, lead), "the caller whose call was written returns while the next batch is written")
		<-inSecond
		select {
		case err := <-follower:
			t.Fatalf("the follower returned before its batch was written: %v", err)
		default:
		}
		close(releaseSecond)
		require.NoError(t, <-follower)
		waitIdle(t, g)
		mu.Lock()
		assert.Equal(t, []int{1, 2}, written, "keep=%v", keep)
		mu.Unlock()
	}
}

// gatedWrites is a write of one-call batches that records each call's
// value in order; for each value in gated, it closes in[v] when it begins
// writing that call and waits for release[v] to close.
type gatedWrites struct {
	mu          sync.Mutex
	written     []int
	in, release map[int]chan struct{}
}

func newGatedWrites(gated ...int) *gatedWrites {
	w := &gatedWrites{in: map[int]chan struct{}{}, release: map[int]chan struct{}{}}
	for _, v := range gated {
		w.in[v], w.release[v] = make(chan struct{}), make(chan struct{})
	}
	return w
}

func (w *gatedWrites) write(batch []*groupReq[int]) {
	v := batch[0].v
	w.mu.Lock()
	w.written = append(w.written, v)
	w.mu.Unlock()
	if in, ok := w.in[v]; ok {
		close(in)
		<-w.release[v]
	}
}

func (w *gatedWrites) values() []int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return slices.Clone(w.written)
}

// TestKeepingQueueLeaderWhoseCtxEndsLeaves: on a queue that keeps calls,
// a goroutine of the queue's writes the batches of the call that leads,
// so that caller returns when its ctx ends, even while its own call is
// being written; its call and the rest are written anyway. (A caller that
// writes batches itself, on a queue that does not keep: see
// TestGroupQueueLeaderLeavesTheOthersBatchesAtItsCtxEnd.)
func TestKeepingQueueLeaderWhoseCtxEndsLeaves(t *testing.T) {
	g := newGroupQueue[int](DialectSQLite).keepOnCancel()
	g.maxBatch = 1
	w := newGatedWrites(0, 1)
	// Call 0 is queued, nobody writing it yet: the caller of 1 leads and
	// writes 0 first.
	first := &groupReq[int]{v: 0, done: make(chan struct{})}
	g.pending = append(g.pending, first)
	ctx, cancel := context.WithCancel(t.Context())
	lead := make(chan error, 1)
	go func() { lead <- g.do(ctx, 1, w.write) }()
	<-w.in[0]
	cancel()
	close(w.release[0])
	<-w.in[1]
	assert.ErrorIs(t, within(t, lead), context.Canceled, "the caller returned while its own call was still being written")
	close(w.release[1])
	<-first.done
	waitIdle(t, g)
	assert.Equal(t, []int{0, 1}, w.values(), "the kept call is written anyway")
}

// TestGroupQueueLeaderLeavesTheOthersBatchesAtItsCtxEnd: without keep, a
// caller writing the others' batches when its ctx ends stops after the
// batch it is writing: it is not held writing the next one (a writer
// takes its place), and its own call, still queued, is taken back and
// never written.
func TestGroupQueueLeaderLeavesTheOthersBatchesAtItsCtxEnd(t *testing.T) {
	g := newGroupQueue[int](DialectSQLite)
	g.maxBatch = 1
	w := newGatedWrites(0, 2)
	// Calls 0 and 2 are queued, nobody writing them yet: the caller of 1
	// leads and writes 0 first; 2 comes before its own.
	others := []*groupReq[int]{{v: 0, done: make(chan struct{})}, {v: 2, done: make(chan struct{})}}
	g.pending = append(g.pending, others...)
	ctx, cancel := context.WithCancel(t.Context())
	lead := make(chan error, 1)
	go func() { lead <- g.do(ctx, 1, w.write) }()
	<-w.in[0]
	cancel()
	close(w.release[0])
	<-w.in[2]
	assert.ErrorIs(t, within(t, lead), context.Canceled, "the caller left while call 2 was still being written")
	close(w.release[2])
	<-others[1].done
	waitIdle(t, g)
	assert.Equal(t, []int{0, 2}, w.values(), "the caller's own call was taken back")
}

// within returns what ch gives, failing t if it gives nothing within 10
// seconds (a caller kept writing batches that are not its own).
func within(t *testing.T, ch <-chan error) error {
	t.Helper()
	select {
	case err := <-ch:
		return err
	case <-time.After(10 * time.Second):
		t.Fatal("the caller did not return")
		return nil
	}
}

// waitIdle waits for the writers of g to leave: the one that took a
// caller's place leaves once the queue is empty.
func waitIdle[T any](t *testing.T, g *groupQueue[T]) {
	t.Helper()
	require.Eventually(t, func() bool {
		g.mu.Lock()
		defer g.mu.Unlock()
		return g.writing == 0
	}, 5e9, 1e6, "a writer was left once the queue was empty")
}

// TestGroupQueueKeepLeaderLeavesAtItsCtxEnd: with keep set, a caller that
// finds the queue idle leaves when its ctx ends, even while its batch is
// still being written (a database that stopped answering), and the call
// is written anyway; a stopping Scanner or Service is not held past its
// bound by the batch's own clock.
func TestGroupQueueKeepLeaderLeavesAtItsCtxEnd(t *testing.T) {
	g := (&groupQueue[int]{writers: 1}).keepOnCancel()
	release := make(chan struct{})
	var written atomic.Int32
	write := func(batch []*groupReq[int]) {
		<-release
		written.Add(int32(len(batch)))
		for _, r := range batch {
			r.err = nil
		}
	}
	stop := time.AfterFunc(2*time.Second, func() { close(release) })
	defer stop.Stop()
	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	start := time.Now()
	err := g.do(ctx, 1, write)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.Less(t, time.Since(start), time.Second, "it left at its ctx's end, not when the batch was written")
	require.Eventually(t, func() bool { return written.Load() == 1 }, 5*time.Second, 10*time.Millisecond, "written anyway")
}
