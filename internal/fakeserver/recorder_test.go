package fakeserver_test

import (
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/fakeserver"
)

// request stands for a fake's Request type.
type request struct {
	Seq    int
	Path   string
	Tokens []string
}

func newRecorder() *fakeserver.Recorder[request] { return newRecorderKeeping(0) }

func newRecorderKeeping(keep int) *fakeserver.Recorder[request] {
	return fakeserver.NewRecorder(
		func(r request) request { r.Tokens = slices.Clone(r.Tokens); return r },
		func(r *request, seq int) { r.Seq = seq },
		keep,
	)
}

func all(request) bool { return true }

func TestRecorderNumbersAndKeeps(t *testing.T) {
	rec := newRecorder()
	assert.Nil(t, rec.Filter(all), "nothing recorded yet")
	first := request{Path: "/send", Tokens: []string{"a"}}
	rec.Record(&first)
	assert.Equal(t, 1, first.Seq, "the caller's copy is numbered too")
	rec.Record(&request{Path: "/status"})

	got := rec.Filter(all)
	require.Len(t, got, 2)
	assert.Equal(t, []int{1, 2}, []int{got[0].Seq, got[1].Seq})
	sends := rec.Filter(func(r request) bool { return r.Path == "/send" })
	assert.Equal(t, []request{{Seq: 1, Path: "/send", Tokens: []string{"a"}}}, sends)
	assert.Nil(t, rec.Filter(func(request) bool { return false }))
}

func TestRecorderKeepsTheNewest(t *testing.T) {
	rec := newRecorderKeeping(2)
	for range 5 {
		rec.Arrive("/send")
		rec.Record(&request{Path: "/send"})
	}
	got := rec.Filter(all)
	require.Len(t, got, 2, "a bound of 2 keeps two requests")
	assert.Equal(t, []int{4, 5}, []int{got[0].Seq, got[1].Seq}, "the newest, numbered on from the forgotten ones")
	assert.Equal(t, 5, rec.Arrived("/send"), "arrivals are counted beyond the bound")
}

func TestKeepNewest(t *testing.T) {
	backing := []*int{new(int), new(int), new(int), new(int)}
	got := fakeserver.KeepNewest(backing, 3)
	assert.Equal(t, backing[1:], got)
	assert.Nil(t, backing[0], "the dropped element is zeroed, so what it held can be collected")
	assert.Len(t, fakeserver.KeepNewest(backing[1:], 3), 3, "at the bound nothing is dropped")
	assert.Len(t, fakeserver.KeepNewest(backing, 0), 4, "0 keeps all")
	assert.Len(t, fakeserver.KeepNewest(backing, -1), 4, "a negative bound keeps all")
	assert.Empty(t, fakeserver.KeepNewest([]*int(nil), 1))

	var forgot []string
	forget := func(v string) { forgot = append(forgot, v) }
	assert.Equal(t, []string{"c", "d"}, fakeserver.KeepNewestFunc([]string{"a", "b", "c", "d"}, 2, forget))
	assert.Equal(t, []string{"a", "b"}, forgot, "each dropped element, oldest first")
	forgot = nil
	assert.Len(t, fakeserver.KeepNewestFunc([]string{"a", "b"}, 2, forget), 2)
	assert.Len(t, fakeserver.KeepNewestFunc([]string{"a", "b"}, 0, forget), 2)
	assert.Empty(t, forgot, "nothing dropped, nothing forgotten")
}

func TestRecorderReturnsCopies(t *testing.T) {
	rec := newRecorder()
	rec.Record(&request{Tokens: []string{"a"}})
	got := rec.Filter(all)
	got[0].Tokens[0] = "changed by the test"
	assert.Equal(t, []string{"a"}, rec.Filter(all)[0].Tokens)
}

func TestRecorderResetKeepsNumbersAndArrivals(t *testing.T) {
	rec := newRecorder()
	rec.Arrive("/send")
	rec.Record(&request{Path: "/send"})
	rec.Reset()
	assert.Nil(t, rec.Filter(all))
	r := request{}
	rec.Record(&r)
	assert.Equal(t, 2, r.Seq, "Reset does not restart the numbers")
	assert.Equal(t, 1, rec.Arrived("/send"), "Reset does not clear arrivals")
}

func TestRecorderArrived(t *testing.T) {
	rec := newRecorder()
	for _, k := range []string{"/send", "/send", "/status", ""} {
		rec.Arrive(k)
	}
	assert.Equal(t, 2, rec.Arrived("/send"))
	assert.Equal(t, 1, rec.Arrived(""))
	assert.Equal(t, 3, rec.Arrived("/send", "/status"), "keys add up")
	assert.Zero(t, rec.Arrived("/cancel"))
	assert.Zero(t, rec.Arrived())
}

func TestRecorderConcurrentUse(t *testing.T) {
	const workers, each = 8, 100
	rec := newRecorder()
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				rec.Arrive("/send")
				rec.Record(&request{Path: "/send", Tokens: []string{"t"}})
				_ = rec.Filter(all)
			}
		})
	}
	wg.Wait()
	got := rec.Filter(all)
	require.Len(t, got, workers*each)
	for i, r := range got {
		assert.Equal(t, i+1, r.Seq, "numbered in the order recorded, each once")
	}
	assert.Equal(t, workers*each, rec.Arrived("/send"))
}
