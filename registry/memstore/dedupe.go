package memstore

import (
	"context"

	"github.com/tuisong/push/registry"
)

var _ registry.DedupeKeyFinder = (*Store)(nil)

// FindDedupeKeys implements registry.DedupeKeyFinder.
func (s *Store) FindDedupeKeys(ctx context.Context, keys []string) (map[string]int64, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.FindDedupeKeys")
	}
	if err := begin(ctx, "FindDedupeKeys"); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	found := map[string]int64{}
	for _, k := range keys {
		if id, ok := s.messageByDedupe[unpad(k)]; ok && unpad(k) != "" {
			found[k] = id
		}
	}
	return found, nil
}
