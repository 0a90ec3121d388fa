package jpush

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestCIDBookEvictsTheOldest: keys whose cids are too old to reuse go
// first; past maxCIDKeys only the oldest key goes, never all of them.
func TestCIDBookEvictsTheOldest(t *testing.T) {
	var b cidBook
	t0 := fixedNow
	for i := range maxCIDKeys {
		b.keepLocked("k"+strconv.Itoa(i), issuedCID{"c" + strconv.Itoa(i), t0}, t0.Add(time.Duration(i)*time.Millisecond))
	}
	require.Equal(t, maxCIDKeys, b.byKey.Len())
	now := t0.Add(time.Hour)
	b.keepLocked("new", issuedCID{"cnew", now}, now)
	assert.Equal(t, maxCIDKeys, b.byKey.Len())
	_, oldest := b.byKey.Get("k0", now)
	assert.False(t, oldest, "the oldest key made room")
	e, ok := b.take("k1", now)
	require.True(t, ok, "the others keep their cids")
	assert.Equal(t, "c1", e.cid)

	// A key forgotten and kept again is not dropped by its old place.
	b.forget("k2", "c2")
	b.keepLocked("k2", issuedCID{"c2b", now}, now)
	b.keepLocked("more", issuedCID{"cmore", now}, now)
	e, ok = b.take("k2", now)
	require.True(t, ok)
	assert.Equal(t, "c2b", e.cid)

	// A day on, the old keys are pruned as new ones come.
	later := t0.Add(cidKeep + time.Hour)
	b.keepLocked("late", issuedCID{"clate", later}, later)
	assert.LessOrEqual(t, b.byKey.Len(), 5, "only the keys kept within cidKeep remain")
	_, ok = b.take("k3", later)
	assert.False(t, ok)
}
