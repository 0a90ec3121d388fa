package sqlstore

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

func tokensOf(n int) []string {
	ts := make([]string, n)
	for i := range ts {
		ts[i] = fmt.Sprintf("t%07d", n-i) // not sorted: put sorts them
	}
	return ts
}

// TestReceiptSetsKeepLargeListsWithinTheirBound: only lists of
// receiptSetMin tokens or more are kept, sorted; past receiptSetMax
// tokens the lists kept longest go first.
func TestReceiptSetsKeepLargeListsWithinTheirBound(t *testing.T) {
	c := newReceiptSets()
	key := func(i int) receiptSetKey { return receiptSetKey{"umeng", fmt.Sprint("uf-", i)} }
	c.put(key(0), []receiptDelivery{{id: 1, byTokens: true, tokens: tokensOf(receiptSetMin - 1)}})
	_, ok := c.get(key(0))
	assert.False(t, ok, "a small list is read with its delivery")

	big := receiptSetMax / 4
	for i := 1; i <= 5; i++ {
		c.put(key(i), []receiptDelivery{{id: int64(i), byTokens: true, tokens: tokensOf(big)}})
	}
	for i := 1; i <= 5; i++ {
		_, ok := c.get(key(i))
		assert.Equal(t, i > 1, ok, "list %d: the oldest goes past the bound", i)
	}
	assert.Equal(t, 4*big, c.tokens)
	ds, _ := c.get(key(5))
	assert.True(t, ds[0].sorted)
	assert.True(t, ds[0].has("t0000001") && ds[0].has(fmt.Sprintf("t%07d", big)))
	assert.False(t, ds[0].has("t0000000"))

	c.put(key(6), []receiptDelivery{{id: 6, byTokens: true, tokens: tokensOf(receiptSetMax + 1)}})
	_, ok = c.get(key(6))
	assert.False(t, ok, "a list larger than the bound is not kept")
	c.drop(key(3))
	_, ok = c.get(key(3))
	assert.False(t, ok)
	assert.Equal(t, 3*big, c.tokens)
	assert.Len(t, c.order, 3)
}
