package sqlstore

import (
	"slices"
	"strings"
	"sync"
)

// A vendor posts one receipt per device, so a delivery to 40,000 tokens (a
// filecast's) gets 40,000 of them, and each must check that its token is
// one the delivery went to. Read from the database, that is the whole
// comma-joined list each time (1.8 MB, decompressed on PostgreSQL): tens of
// milliseconds a receipt. A delivery's tokens are written once, with the
// delivery, so the lists of large deliveries are kept here, sorted, keyed
// by the receipt id the receipts name.

const (
	// receiptSetMin is the fewest tokens of a delivery whose list is kept:
	// a smaller one is read with the delivery at little cost.
	receiptSetMin = 1000
	// receiptSetMax bounds the tokens kept in all (a few tens of MB); the
	// lists kept longest are dropped first.
	receiptSetMax = 400_000
)

// receiptDelivery is what recordReceipts needs of a delivery with a
// receipt id: its id, whether receipts must name one of its tokens, and
// those tokens (sorted when sorted is set).
type receiptDelivery struct {
	id       int64
	byTokens bool
	tokens   []string
	sorted   bool
}

// has reports whether token is one of d's tokens.
func (d *receiptDelivery) has(token string) bool {
	if d.sorted {
		_, ok := slices.BinarySearch(d.tokens, token)
		return ok
	}
	return slices.Contains(d.tokens, token)
}

type receiptSetKey struct{ provider, receiptID string }

// receiptSets keeps the deliveries of large receipt ids; safe for
// concurrent use, shared by a Store and its WithTx copies.
type receiptSets struct {
	mu     sync.Mutex
	byKey  map[receiptSetKey][]receiptDelivery
	order  []receiptSetKey // oldest first
	tokens int             // tokens kept in all
}

func newReceiptSets() *receiptSets {
	return &receiptSets{byKey: make(map[receiptSetKey][]receiptDelivery)}
}

// get returns the deliveries kept for key.
func (c *receiptSets) get(key receiptSetKey) ([]receiptDelivery, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	ds, ok := c.byKey[key]
	return ds, ok
}

// put keeps ds under key when one of them has receiptSetMin tokens or
// more, sorting their tokens (so ds must not be used by anyone else), and
// drops the oldest lists kept beyond receiptSetMax.
func (c *receiptSets) put(key receiptSetKey, ds []receiptDelivery) {
	n, large := 0, false
	for _, d := range ds {
		n += len(d.tokens)
		large = large || len(d.tokens) >= receiptSetMin
	}
	if !large || n > receiptSetMax {
		return
	}
	for i := range ds {
		slices.Sort(ds[i].tokens)
		ds[i].sorted = true
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.byKey[key]; ok {
		return
	}
	c.byKey[key] = ds
	c.order = append(c.order, key)
	c.tokens += n
	for c.tokens > receiptSetMax {
		c.forgetLocked(c.order[0])
	}
}

// drop forgets key's deliveries: one of them is gone.
func (c *receiptSets) drop(key receiptSetKey) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.forgetLocked(key)
}

func (c *receiptSets) forgetLocked(key receiptSetKey) {
	ds, ok := c.byKey[key]
	if !ok {
		return
	}
	delete(c.byKey, key)
	for _, d := range ds {
		c.tokens -= len(d.tokens)
	}
	c.order = slices.DeleteFunc(c.order, func(k receiptSetKey) bool { return k == key })
}

// splitList splits a comma-joined list as the receipts have always
// compared it: every item exactly, none trimmed.
func splitList(list string) []string { return strings.Split(list, ",") }
