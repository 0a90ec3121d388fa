package memstore

import (
	"context"
	"slices"

	"github.com/tuisong/push/registry"
)

// ListUserDevices implements registry.Reads. userNum is compared without
// trailing spaces.
func (s *Store) ListUserDevices(ctx context.Context, userNum string) ([]registry.DeviceLink, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListUserDevices")
	}
	const op = "ListUserDevices"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	if err := registry.ValidateUserNum(userNum); err != nil {
		return nil, wrap(op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []registry.DeviceLink
	for _, l := range s.linksByUser[unpad(userNum)] {
		dl := registry.DeviceLink{Link: *l}
		if dev, ok := s.devices[l.DeviceID]; ok {
			dl.Device = cloneDevice(dev)
		}
		out = append(out, dl)
	}
	return out, nil
}

// ListPushMessages implements registry.Reads.
func (s *Store) ListPushMessages(ctx context.Context, q registry.PushMessageQuery) ([]registry.PushMessage, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListPushMessages")
	}
	const op = "ListPushMessages"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	if err := registry.ValidatePushMessageQuery(q); err != nil {
		return nil, wrap(op, err)
	}
	limit := q.PageLimit()
	s.mu.Lock()
	defer s.mu.Unlock()
	// Message ids are handed out in order, so the user's list is sorted
	// and the store's ids run from 1 to lastMessage.
	ids := s.messagesByUser[unpad(q.UserNum)]
	if q.UserNum == "" {
		ids = nil
		for id := range s.lastMessage {
			ids = append(ids, id+1)
		}
	}
	var out []registry.PushMessage
	for i := len(ids) - 1; i >= 0 && len(out) < limit; i-- {
		m, ok := s.messages[ids[i]]
		if !ok || (q.BeforeID > 0 && m.ID >= q.BeforeID) || !matches(m, q) {
			continue
		}
		out = append(out, clonePushMessage(m))
	}
	return out, nil
}

// matches reports whether m is in q's time range and state.
func matches(m *registry.PushMessage, q registry.PushMessageQuery) bool {
	if !q.Since.IsZero() && m.CreatedAt.Before(q.Since) {
		return false
	}
	if !q.Until.IsZero() && !m.CreatedAt.Before(q.Until) {
		return false
	}
	return q.State == "" || registry.PushState(m) == q.State
}

// IsPushMessageUser implements registry.Reads.
func (s *Store) IsPushMessageUser(ctx context.Context, pushMessageID int64, userNum string) (bool, error) {
	if s.unbuilt() {
		return false, notBuilt("Store.IsPushMessageUser")
	}
	const op = "IsPushMessageUser"
	if err := begin(ctx, op); err != nil {
		return false, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	_, ok := slices.BinarySearch(s.messagesByUser[unpad(userNum)], pushMessageID)
	return ok, nil
}

// addMessageUsers records the users of message id, each once, without
// trailing spaces. The caller holds s.mu; id is the newest message.
func (s *Store) addMessageUsers(id int64, userNums []string) {
	seen := map[string]bool{}
	for _, u := range userNums {
		u = unpad(u)
		if u == "" || seen[u] {
			continue
		}
		seen[u] = true
		s.messagesByUser[u] = append(s.messagesByUser[u], id)
	}
}
