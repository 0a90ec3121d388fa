package memstore

import (
	"cmp"
	"context"
	"fmt"
	"slices"

	"github.com/tuisong/push/registry"
)

// fanout is a push whose deliveries are still being recorded in stages:
// its fanout, and its users in byte order.
type fanout struct {
	f     registry.Fanout
	users []string
}

var _ registry.Fanouts = (*Store)(nil)

// startFanout keeps msg's fanout, which CreatePushMessage was given, and
// makes its summary say pending, without tokens, as the SQL store's does.
// The caller holds s.mu.
func (s *Store) startFanout(msg *registry.PushMessage) {
	users := make([]string, 0, len(msg.UserNums))
	for _, u := range msg.UserNums {
		users = append(users, unpad(u))
	}
	slices.Sort(users)
	f := *msg.Fanout
	f.Claims = 0 // the store counts the claims
	s.fanouts[msg.ID] = &fanout{f: f, users: slices.Compact(users)}
	msg.Fanout = nil
	s.fanoutSummaries(msg.ID)
}

// fanoutSummaries marks the tallies of message id as a fanout's and writes
// its summaries from them, without tokens. The caller holds s.mu.
func (s *Store) fanoutSummaries(id int64) {
	msg := s.messages[id]
	for _, p := range []string{registry.PlatformIOS, registry.PlatformAndroid} {
		t := s.tallies[tallyKey{id, p}]
		t.Fanout = true
		*msg.Summary(p) = t.Summary("")
	}
}

// AddDeliveries implements registry.Fanouts, checking what the SQL store
// checks in the same order: registry.ValidateAddDeliveries, the keys among
// the deliveries, the claim, then the keys against the stored ones. When
// next is nil the summaries are computed whole, their tokens clipped to
// the column (registry.ClipTokens).
func (s *Store) AddDeliveries(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery, next *registry.Fanout) error {
	if s.unbuilt() {
		return notBuilt("Store.AddDeliveries")
	}
	const op = "AddDeliveries"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidateAddDeliveries(m, ds, next); err != nil {
		return wrap(op, err)
	}
	rows, err := cloneKeyed(ds, "deliveries")
	if err != nil {
		return wrap(op, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	fo := s.fanouts[m.ID]
	if fo == nil || fo.f.ClaimToken != m.Fanout.ClaimToken {
		return wrap(op, fmt.Errorf("push message %d: %w", m.ID, registry.ErrClaimLost))
	}
	if err := s.checkKeys(rows); err != nil {
		return wrap(op, err)
	}
	now := s.stamp()
	stored := s.insertDeliveries(m.ID, rows, now)
	if next == nil {
		delete(s.fanouts, m.ID)
		for _, p := range []string{registry.PlatformIOS, registry.PlatformAndroid} {
			s.summarize(m.ID, p, now)
			sum := s.messages[m.ID].Summary(p)
			sum.DeviceTokens = registry.ClipTokens(sum.DeviceTokens, registry.MaxTokensText)
		}
		m.Fanout = nil
	} else {
		for _, d := range stored {
			s.tallies[tallyKey{m.ID, d.Platform}].Add(d)
		}
		s.fanoutSummaries(m.ID)
		s.messages[m.ID].UpdatedAt = now
		claims := fo.f.Claims
		switch {
		case registry.FanoutMovesOn(m, ds, next):
			claims = 0 // the takeovers count from the last progress
		case next.Refund:
			claims = max(claims-1, 0)
		}
		fo.f = *next
		fo.f.Claims, fo.f.Refund = claims, false
		f := fo.f
		m.Fanout = &f
	}
	for i, d := range ds {
		d.ID, d.PushMessageID = stored[i].ID, m.ID
	}
	return nil
}

// ClaimFanouts implements registry.Fanouts: the pushes whose fanout's
// lease ran out, oldest lease first (ties by id).
func (s *Store) ClaimFanouts(ctx context.Context, p registry.ClaimParams) ([]registry.PushMessage, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ClaimFanouts")
	}
	const op = "ClaimFanouts"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkClaim(p); err != nil {
		return nil, wrap(op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	var due []int64
	for id, fo := range s.fanouts {
		if !fo.f.LeaseUntil.After(p.Now) {
			due = append(due, id)
		}
	}
	slices.SortFunc(due, func(a, b int64) int {
		if c := s.fanouts[a].f.LeaseUntil.Compare(s.fanouts[b].f.LeaseUntil); c != 0 {
			return c
		}
		return cmp.Compare(a, b)
	})
	var out []registry.PushMessage
	for _, id := range due[:min(len(due), p.Limit)] {
		fo := s.fanouts[id]
		fo.f.ClaimToken, fo.f.LeaseUntil = newClaimToken(), p.Now.Add(p.Lease).Round(0)
		fo.f.Claims++
		m := clonePushMessage(s.messages[id])
		f := fo.f
		m.Fanout, m.UserNums = &f, slices.Clone(fo.users)
		out = append(out, m)
	}
	return out, nil
}
