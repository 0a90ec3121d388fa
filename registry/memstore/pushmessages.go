package memstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"

	"github.com/tuisong/push/registry"
)

// CreatePushMessage implements registry.PushMessages. On success it sets
// m.ID, m's summary columns, and each delivery's ID and PushMessageID; the
// deliveries get increasing IDs in the order of ds. A duplicate non-empty
// DedupeKey, or an IdempotencyKey that exists already or twice in ds, is an
// ErrConflict. On any error nothing is stored and m and ds are unchanged.
func (s *Store) CreatePushMessage(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery) error {
	const op = "CreatePushMessage"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidatePushMessage(m, ds); err != nil {
		return wrap(op, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if m.DedupeKey != "" {
		if _, ok := s.messageByDedupe[m.DedupeKey]; ok {
			return wrap(op, fmt.Errorf("dedupe key %q exists: %w", m.DedupeKey, registry.ErrConflict))
		}
	}
	keys := make(map[string]bool, len(ds))
	for _, d := range ds {
		if s.idempotencyKeys[d.IdempotencyKey] || keys[d.IdempotencyKey] {
			return wrap(op, fmt.Errorf("idempotency key %q exists: %w", d.IdempotencyKey, registry.ErrConflict))
		}
		keys[d.IdempotencyKey] = true
	}

	now := s.stamp()
	s.lastMessage++
	msg := clonePushMessage(m)
	msg.ID = s.lastMessage
	msg.CreatedAt, msg.UpdatedAt = now, now
	stored := make([]*registry.Delivery, len(ds))
	values := make([]registry.Delivery, len(ds))
	for i, d := range ds {
		c := cloneDelivery(d)
		c.ID = int64(len(s.deliveries)) + 1
		c.PushMessageID = msg.ID
		c.CreatedAt, c.UpdatedAt = now, now
		s.deliveries = append(s.deliveries, &c)
		s.deliveryByID[c.ID] = &c
		s.idempotencyKeys[c.IdempotencyKey] = true
		stored[i] = &c
		values[i] = c
	}
	msg.IOS = registry.Summarize(registry.PlatformIOS, values)
	msg.Android = registry.Summarize(registry.PlatformAndroid, values)
	s.messages[msg.ID] = &msg
	if msg.DedupeKey != "" {
		s.messageByDedupe[msg.DedupeKey] = msg.ID
	}
	s.deliveriesByMessage[msg.ID] = stored

	m.ID = msg.ID
	m.IOS, m.Android = msg.IOS, msg.Android
	for i, d := range ds {
		d.ID = stored[i].ID
		d.PushMessageID = msg.ID
	}
	return nil
}

// GetPushMessage implements registry.PushMessages.
func (s *Store) GetPushMessage(ctx context.Context, id int64) (registry.PushMessage, error) {
	const op = "GetPushMessage"
	if err := begin(ctx, op); err != nil {
		return registry.PushMessage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	msg, ok := s.messages[id]
	if !ok {
		return registry.PushMessage{}, wrap(op, fmt.Errorf("push message %d: %w", id, registry.ErrNotFound))
	}
	return clonePushMessage(msg), nil
}

// GetPushMessageByDedupeKey implements registry.PushMessages. The empty key
// names no message: it is ErrNotFound.
func (s *Store) GetPushMessageByDedupeKey(ctx context.Context, key string) (registry.PushMessage, error) {
	const op = "GetPushMessageByDedupeKey"
	if err := begin(ctx, op); err != nil {
		return registry.PushMessage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Empty keys are never indexed, so "" is not found.
	id, ok := s.messageByDedupe[key]
	if !ok {
		return registry.PushMessage{}, wrap(op, fmt.Errorf("dedupe key %q: %w", key, registry.ErrNotFound))
	}
	return clonePushMessage(s.messages[id]), nil
}

// ListDeliveries implements registry.PushMessages. An unknown message has
// no deliveries: the result is empty, not an error.
func (s *Store) ListDeliveries(ctx context.Context, pushMessageID int64) ([]registry.Delivery, error) {
	const op = "ListDeliveries"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.deliveryValues(pushMessageID), nil
}

// deliveryValues copies the deliveries of a message, ordered by ID. The
// caller holds s.mu.
func (s *Store) deliveryValues(pushMessageID int64) []registry.Delivery {
	stored := s.deliveriesByMessage[pushMessageID]
	out := make([]registry.Delivery, 0, len(stored))
	for _, d := range stored {
		out = append(out, cloneDelivery(d))
	}
	return out
}

// ClaimDeliveries implements registry.PushMessages. ClaimSend claims
// pending deliveries, ClaimPoll accepted pollable ones; either only when
// NextAttemptAt <= p.Now and no lease is running. Ties of NextAttemptAt go
// to the lower ID. Invalid params (Limit or Lease not positive, zero Now, an
// unknown Kind) are an ErrInvalid naming the field.
func (s *Store) ClaimDeliveries(ctx context.Context, p registry.ClaimParams) ([]registry.Delivery, error) {
	const op = "ClaimDeliveries"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkClaim(p); err != nil {
		return nil, wrap(op, err)
	}
	if p.Kind != registry.ClaimSend && p.Kind != registry.ClaimPoll {
		return nil, wrap(op, &registry.ValidationError{Field: "kind", Reason: "must be ClaimSend or ClaimPoll, got " + strconv.Itoa(int(p.Kind))})
	}
	now := p.Now.Round(0)

	s.mu.Lock()
	defer s.mu.Unlock()
	var picked []*registry.Delivery
	for _, d := range s.deliveries {
		if !claimable(d, p.Kind) || d.NextAttemptAt.After(now) || !free(d.LeaseUntil, now) {
			continue
		}
		picked = append(picked, d)
	}
	// s.deliveries is in ID order and the sort is stable, so equal
	// NextAttemptAt values keep ID order.
	slices.SortStableFunc(picked, func(a, b *registry.Delivery) int { return a.NextAttemptAt.Compare(b.NextAttemptAt) })
	if len(picked) > p.Limit {
		picked = picked[:p.Limit]
	}
	lease := now.Add(p.Lease)
	stamp := s.stamp()
	out := make([]registry.Delivery, 0, len(picked))
	for _, d := range picked {
		d.ClaimToken = newClaimToken()
		d.LeaseUntil = &lease
		if p.Kind == registry.ClaimSend {
			d.Attempts++
		}
		d.UpdatedAt = stamp
		out = append(out, cloneDelivery(d))
	}
	return out, nil
}

func claimable(d *registry.Delivery, kind registry.ClaimKind) bool {
	if kind == registry.ClaimSend {
		return d.State == registry.DeliveryPending
	}
	return d.State == registry.DeliveryAccepted && d.Pollable
}

// FinishDelivery implements registry.PushMessages. The token alone guards
// the write: a lease that ran out without anybody re-claiming the row still
// lets its holder finish it. The summary refreshed is that of the stored
// delivery's platform.
func (s *Store) FinishDelivery(ctx context.Context, d *registry.Delivery) error {
	const op = "FinishDelivery"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if d == nil {
		return wrap(op, &registry.ValidationError{Field: "delivery", Reason: "is nil"})
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.deliveryByID[d.ID]
	if !ok || d.ClaimToken == "" || row.ClaimToken != d.ClaimToken {
		return wrap(op, fmt.Errorf("delivery %d: %w", d.ID, registry.ErrClaimLost))
	}
	now := s.stamp()
	row.State = d.State
	row.Attempts = d.Attempts
	row.NextAttemptAt = d.NextAttemptAt.Round(0)
	row.ReceiptID = d.ReceiptID
	row.Pollable = d.Pollable
	row.VendorState = d.VendorState
	row.Ret = d.Ret
	row.Response = d.Response
	row.ErrorKind = d.ErrorKind
	row.ErrorCode = d.ErrorCode
	row.SentAt = cloneTime(d.SentAt)
	row.ClaimToken = ""
	row.LeaseUntil = nil
	row.UpdatedAt = now

	msg := s.messages[row.PushMessageID]
	*msg.Summary(row.Platform) = registry.Summarize(row.Platform, s.deliveryValues(msg.ID))
	msg.UpdatedAt = now
	return nil
}
