package sqlstore

import (
	"context"
	"database/sql"
	"slices"

	"github.com/tuisong/push/registry"
)

var _ registry.DedupeKeyFinder = (*Store)(nil)

// dedupeKeysPerQuery bounds the keys of one FindDedupeKeys query.
const dedupeKeysPerQuery = 500

// FindDedupeKeys implements registry.DedupeKeyFinder: one query per 500
// keys, on the dedupe_key index.
func (s *Store) FindDedupeKeys(ctx context.Context, keys []string) (map[string]int64, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.FindDedupeKeys")
	}
	const op = "FindDedupeKeys"
	want := map[string][]string{} // stored form -> the keys given in that form
	var stored []string
	for _, k := range keys {
		u := unpad(k)
		if u == "" {
			continue
		}
		if _, ok := want[u]; !ok {
			stored = append(stored, u)
		}
		want[u] = append(want[u], k)
	}
	found := map[string]int64{}
	err := queryIn(ctx, s, s.q, slices.Collect(slices.Chunk(stored, dedupeKeysPerQuery)), func(in string) string {
		return "SELECT id, dedupe_key FROM sys_push_messages WHERE dedupe_key IN (" + in + ")"
	}, func(rows *sql.Rows) error {
		var id int64
		var key string
		if err := rows.Scan(&id, &key); err != nil {
			return err
		}
		for _, k := range want[unpad(key)] {
			found[k] = id
		}
		return nil
	})
	if err != nil {
		return nil, wrap(op, step("select push messages", err))
	}
	return found, nil
}
