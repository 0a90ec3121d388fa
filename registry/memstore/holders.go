package memstore

import (
	"cmp"
	"context"
	"slices"

	"github.com/tuisong/push/registry"
)

var _ registry.PushHolders = (*Store)(nil)

// PushHolders implements registry.PushHolders: the active links, to a user
// of the push, of the devices that hold one of tokens enabled, in link ID
// order. Tokens are compared without trailing spaces.
func (s *Store) PushHolders(ctx context.Context, pushMessageID int64, tokens []string) ([]registry.Target, bool, error) {
	if s.unbuilt() {
		return nil, false, notBuilt("Store.PushHolders")
	}
	const op = "PushHolders"
	if err := begin(ctx, op); err != nil {
		return nil, false, err
	}
	set := tokenSet(tokens)
	s.mu.Lock()
	defer s.mu.Unlock()
	isUser := func(u string) bool {
		_, ok := slices.BinarySearch(s.messagesByUser[unpad(u)], pushMessageID)
		return ok
	}
	var out []registry.Target
	for _, dev := range s.devices {
		platform, ok := platformOf(dev.Platform)
		if !ok || dev.TokenDisabledAt != nil || !set[unpad(dev.PushToken)] {
			continue
		}
		for _, l := range s.linksByDevice[dev.ID] {
			if !l.Active || !isUser(l.UserNum) {
				continue
			}
			pp := dev.PushPlatform
			if pp == "" {
				pp = registry.DefaultPushPlatform
			}
			out = append(out, registry.Target{UserDeviceID: l.ID, UserNum: l.UserNum, DeviceID: dev.ID, Platform: platform,
				PushPlatform: pp, Token: unpad(dev.PushToken)})
		}
	}
	slices.SortFunc(out, func(a, b registry.Target) int { return cmp.Compare(a.UserDeviceID, b.UserDeviceID) })
	if len(out) > 0 {
		return out, true, nil // a holder is a user of the push
	}
	for _, ids := range s.messagesByUser {
		if _, ok := slices.BinarySearch(ids, pushMessageID); ok {
			return nil, true, nil
		}
	}
	return nil, false, nil
}
