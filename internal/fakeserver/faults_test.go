package fakeserver_test

import (
	"errors"
	"fmt"
	"math"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/fakeserver"
)

var (
	errInvalid = errors.New("fake: invalid argument")
	errClosed  = errors.New("fake: server closed")
	testID     = fakeserver.Identity{Name: "fake", Invalid: errInvalid, Closed: errClosed}
)

// fault stands for a fake's Fault type: Key limits it to one API, Code is
// what it answers.
type fault struct {
	Key  string
	Code int
}

func validateFault(f fault) error {
	if f.Code <= 0 {
		return fmt.Errorf("%w: Fault.Code must be positive, got %d", errInvalid, f.Code)
	}
	return nil
}

func matchFault(f fault, key string) bool { return f.Key == "" || f.Key == key }

func newFaults() *fakeserver.Faults[fault] {
	return fakeserver.NewFaults(testID, validateFault, matchFault)
}

// picks returns the codes of the next n faults picked for key, 0 for none.
func picks(q *fakeserver.Faults[fault], key string, n int) []int {
	out := make([]int, n)
	for i := range out {
		if f := q.Pick(key); f != nil {
			out[i] = f.Code
		}
	}
	return out
}

func TestFaultsQueuedInOrderBeforeRate(t *testing.T) {
	q := newFaults()
	require.NoError(t, q.FailRate(1, fault{Code: 9}, 1))
	require.NoError(t, q.FailNext(2, fault{Code: 1}))
	require.NoError(t, q.FailNext(1, fault{Code: 2}))
	assert.Equal(t, []int{1, 1, 2, 9, 9}, picks(q, "/send", 5), "queued in order, then the random fault")
}

func TestFaultsMatchByKey(t *testing.T) {
	q := newFaults()
	require.NoError(t, q.FailNext(1, fault{Key: "/status", Code: 1}))
	require.NoError(t, q.FailNext(1, fault{Code: 2}))
	require.NoError(t, q.FailRate(1, fault{Key: "/status", Code: 9}, 1))
	assert.Equal(t, []int{2, 0}, picks(q, "/send", 2), "the /status fault is skipped, not used up")
	assert.Equal(t, []int{1, 9}, picks(q, "/status", 2))
}

func TestFaultsPickReturnsACopy(t *testing.T) {
	q := newFaults()
	require.NoError(t, q.FailNext(2, fault{Code: 1}))
	q.Pick("/send").Code = 100
	assert.Equal(t, []int{1, 0}, picks(q, "/send", 2))
}

func TestFailRateZeroClears(t *testing.T) {
	q := newFaults()
	require.NoError(t, q.FailRate(1, fault{Code: 9}, 1))
	require.NoError(t, q.FailRate(0, fault{}, 0), "p = 0 clears whatever the fault")
	assert.Nil(t, q.Pick("/send"))
}

func TestFailRateIsReproducible(t *testing.T) {
	run := func(seed uint64) []int {
		q := newFaults()
		require.NoError(t, q.FailRate(0.5, fault{Code: 9}, seed))
		return picks(q, "/send", 64)
	}
	first := run(42)
	assert.Equal(t, first, run(42), "the same seed draws the same faults")
	assert.Contains(t, first, 9)
	assert.Contains(t, first, 0)
	assert.NotEqual(t, first, run(43))
}

func TestFaultsClear(t *testing.T) {
	q := newFaults()
	require.NoError(t, q.FailNext(3, fault{Code: 1}))
	require.NoError(t, q.FailRate(1, fault{Code: 9}, 1))
	q.Clear()
	assert.Nil(t, q.Pick("/send"))
}

func TestFaultsRefuseBadArguments(t *testing.T) {
	tests := []struct {
		name string
		call func(q *fakeserver.Faults[fault]) error
		want string
	}{
		{"FailNext n 0", func(q *fakeserver.Faults[fault]) error { return q.FailNext(0, fault{Code: 1}) }, "FailNext n must be at least 1, got 0"},
		{"FailNext n negative", func(q *fakeserver.Faults[fault]) error { return q.FailNext(-2, fault{Code: 1}) }, "FailNext n must be at least 1, got -2"},
		{"FailNext bad fault", func(q *fakeserver.Faults[fault]) error { return q.FailNext(1, fault{}) }, "Fault.Code must be positive"},
		{"FailRate p negative", func(q *fakeserver.Faults[fault]) error { return q.FailRate(-0.1, fault{Code: 1}, 1) }, "FailRate p must be within [0, 1], got -0.1"},
		{"FailRate p over 1", func(q *fakeserver.Faults[fault]) error { return q.FailRate(1.5, fault{Code: 1}, 1) }, "FailRate p must be within [0, 1], got 1.5"},
		{"FailRate p NaN", func(q *fakeserver.Faults[fault]) error { return q.FailRate(math.NaN(), fault{Code: 1}, 1) }, "FailRate p must be within [0, 1], got NaN"},
		{"FailRate bad fault", func(q *fakeserver.Faults[fault]) error { return q.FailRate(0.5, fault{}, 1) }, "Fault.Code must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := newFaults()
			require.NoError(t, q.FailRate(1, fault{Code: 9}, 1))
			err := tt.call(q)
			require.ErrorIs(t, err, errInvalid)
			assert.Contains(t, err.Error(), tt.want)
			assert.Equal(t, []int{9}, picks(q, "/send", 1), "a refused call changes nothing")
		})
	}
}

func TestFaultsConcurrentUse(t *testing.T) {
	const workers, each = 8, 50
	q := newFaults()
	require.NoError(t, q.FailNext(workers*each, fault{Key: "/send", Code: 1}))
	var picked atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range each {
				if f := q.Pick("/send"); f != nil && f.Code == 1 {
					picked.Add(1)
				}
				// Faults for other keys come and go meanwhile.
				assert.NoError(t, q.FailRate(0.5, fault{Key: "/status", Code: 9}, 1))
				q.Pick("/status")
				assert.NoError(t, q.FailRate(0, fault{}, 0))
			}
		})
	}
	wg.Wait()
	assert.Equal(t, int64(workers*each), picked.Load(), "each queued use is taken exactly once")
	assert.Nil(t, q.Pick("/send"))
}
