package sqlstore

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestReceiptSetsKeepAListPutTwiceOnce: two receipts of one large
// delivery recorded at once may both miss the list and both read it from
// the database; the second put keeps nothing more, so that the tokens
// counted against receiptSetMax stay those kept, and dropping the list
// frees them all.
func TestReceiptSetsKeepAListPutTwiceOnce(t *testing.T) {
	c := newReceiptSets()
	key := receiptSetKey{"umeng", "uf-twice"}
	for range 2 {
		c.put(key, []receiptDelivery{{id: 1, byTokens: true, tokens: tokensOf(receiptSetMin)}})
	}
	assert.Equal(t, receiptSetMin, c.tokens)
	assert.Len(t, c.order, 1)
	c.drop(key)
	_, ok := c.get(key)
	assert.False(t, ok)
	assert.Zero(t, c.tokens, "every token kept is freed")
	assert.Empty(t, c.order)
}
