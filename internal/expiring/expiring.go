// Package expiring is a map whose entries expire and whose size is
// bounded: what the vendor clients remember per idempotency key between
// the tries of a send (JPush's cids, Getui's list tasks).
package expiring

import "time"

// Map maps keys to values until each one's expiry. Entries that have
// expired are dropped as new ones are put, oldest first; at Max entries the
// oldest goes whatever its expiry, never all at once. A Map is not safe for
// concurrent use: its owner locks it.
type Map[V any] struct {
	max   int
	m     map[string]entry[V]
	order []slot // the entries in the order they were put
	seq   uint64
}

type entry[V any] struct {
	v       V
	expires time.Time
	seq     uint64
}

// slot is an entry of Map.order; seq tells whether the key still holds
// that entry (it may have been deleted or put again since).
type slot struct {
	key     string
	expires time.Time
	seq     uint64
}

// New returns an empty Map of at most max entries.
func New[V any](max int) *Map[V] {
	return &Map[V]{max: max, m: make(map[string]entry[V])}
}

// Get returns key's value while now is before its expiry.
func (m *Map[V]) Get(key string, now time.Time) (V, bool) {
	e, ok := m.m[key]
	if !ok || !now.Before(e.expires) {
		var zero V
		return zero, false
	}
	return e.v, true
}

// Put sets key's value until expires, first dropping the entries expired
// at now from the oldest on, and the oldest while the Map is full.
func (m *Map[V]) Put(key string, v V, expires, now time.Time) {
	for len(m.order) > 0 && (len(m.m) >= m.max || !now.Before(m.order[0].expires)) {
		old := m.order[0]
		m.order = m.order[1:]
		if e, ok := m.m[old.key]; ok && e.seq == old.seq {
			delete(m.m, old.key)
		}
	}
	m.seq++
	m.m[key] = entry[V]{v, expires, m.seq}
	m.order = append(m.order, slot{key, expires, m.seq})
}

// Delete drops key's entry.
func (m *Map[V]) Delete(key string) { delete(m.m, key) }

// Len is the number of entries held, expired ones not yet dropped
// included.
func (m *Map[V]) Len() int { return len(m.m) }
