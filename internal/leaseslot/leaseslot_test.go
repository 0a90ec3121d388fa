package leaseslot

import (
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestTake: a free place is taken at once, whatever the lease; a place
// freed while the lease lasts is taken; a lease that runs down to the
// reserve first is false, the place never taken; no lease waits for one.
func TestTake(t *testing.T) {
	sem := make(chan struct{}, 1)
	past := time.Now().Add(-time.Hour)
	assert.True(t, Take(sem, &past, time.Now, 0), "a free place")

	soon := time.Now().Add(300 * time.Millisecond)
	assert.False(t, Take(sem, &soon, time.Now, 200*time.Millisecond), "the lease ran down to the reserve")
	assert.Len(t, sem, 1, "nothing taken")

	go func() { time.Sleep(50 * time.Millisecond); <-sem }()
	later := time.Now().Add(time.Minute)
	assert.True(t, Take(sem, &later, time.Now, time.Second), "a place freed in time")

	go func() { time.Sleep(50 * time.Millisecond); <-sem }()
	assert.True(t, Take(sem, nil, time.Now, time.Second), "no lease: waited for")

	// The clock is read again as it waits: one moved past the lease
	// ends the wait.
	var ahead atomic.Bool
	now := func() time.Time {
		if ahead.Load() {
			return time.Now().Add(time.Hour)
		}
		return time.Now()
	}
	go func() { time.Sleep(50 * time.Millisecond); ahead.Store(true) }()
	assert.False(t, Take(sem, &later, now, time.Second))
}
