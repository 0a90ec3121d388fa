package testclock

import (
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

func TestClock(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)
	c := New(t0)
	assert.Equal(t, t0, c.Now())
	c.Advance(time.Hour)
	assert.Equal(t, t0.Add(time.Hour), c.Now())
	c.Advance(-2 * time.Hour)
	assert.Equal(t, t0.Add(-time.Hour), c.Now())

	// Read and moved at once (run with -race).
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			for range 100 {
				_ = c.Now()
				c.Advance(time.Second)
			}
		})
	}
	wg.Wait()
	assert.Equal(t, t0.Add(-time.Hour+400*time.Second), c.Now())
}
