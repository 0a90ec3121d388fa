package messagecenter

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// TestRowPaceSizesRounds: before any batch is timed a claim takes twice
// the Concurrency, and at least minRound; then a second's worth of rows at the recent pace,
// never fewer than that, never more than the BatchSize.
func TestRowPaceSizesRounds(t *testing.T) {
	var p rowPace
	assert.Equal(t, 16, p.round(8, 500), "no batch timed yet")
	assert.Equal(t, 3, p.round(8, 3), "never more than the batch")
	assert.Equal(t, minRound, p.round(1, 500))
	assert.Equal(t, 64, p.round(32, 500))

	p.observe(500, 250*time.Millisecond) // 0.5 ms a row: 2,000 a second
	assert.Equal(t, 500, p.round(8, 500))
	assert.Equal(t, 2000, p.round(8, 5000))

	var slow rowPace
	slow.observe(16, 8*time.Second) // 500 ms a row
	assert.Equal(t, 16, slow.round(8, 500), "a second's worth is 2 rows: the floor holds")

	slow.observe(16, 0) // a batch of no time moves the mean a quarter of the way
	assert.Equal(t, int64(375*time.Millisecond), slow.perRow.Load())
	slow.observe(0, time.Hour)
	assert.Equal(t, int64(375*time.Millisecond), slow.perRow.Load(), "an empty batch says nothing")
}
