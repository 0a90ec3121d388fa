package expiring

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var t0 = time.Date(2026, 12, 4, 8, 0, 0, 0, time.UTC)

func TestGetHidesExpired(t *testing.T) {
	m := New[string](10)
	m.Put("k", "v", t0.Add(time.Hour), t0)
	v, ok := m.Get("k", t0.Add(59*time.Minute))
	assert.True(t, ok)
	assert.Equal(t, "v", v)
	_, ok = m.Get("k", t0.Add(time.Hour))
	assert.False(t, ok, "expired at its expiry")
	m.Delete("k")
	assert.Zero(t, m.Len())
}

// TestFullDropsTheOldestOnly: at max entries a Put drops the oldest entry,
// never all of them.
func TestFullDropsTheOldestOnly(t *testing.T) {
	m := New[int](100)
	for i := range 100 {
		m.Put("k"+strconv.Itoa(i), i, t0.Add(time.Hour), t0)
	}
	m.Put("new", 100, t0.Add(time.Hour), t0)
	assert.Equal(t, 100, m.Len())
	_, ok := m.Get("k0", t0)
	assert.False(t, ok, "the oldest made room")
	v, ok := m.Get("k1", t0)
	require.True(t, ok)
	assert.Equal(t, 1, v)
}

// TestExpiredDropped: entries expired at a Put are dropped from the oldest
// on; an entry put again or deleted is not dropped by its old place.
func TestExpiredDropped(t *testing.T) {
	m := New[int](100)
	m.Put("a", 1, t0.Add(time.Minute), t0)
	m.Put("b", 2, t0.Add(time.Minute), t0)
	m.Put("a", 3, t0.Add(time.Hour), t0) // put again: its first place is stale
	m.Delete("b")
	m.Put("c", 4, t0.Add(time.Hour), t0.Add(2*time.Minute))
	assert.Equal(t, 2, m.Len(), "a (put again) and c")
	v, ok := m.Get("a", t0.Add(2*time.Minute))
	require.True(t, ok)
	assert.Equal(t, 3, v)
	m.Put("d", 5, t0.Add(3*time.Hour), t0.Add(2*time.Hour))
	assert.Equal(t, 1, m.Len(), "a and c expired")
}
