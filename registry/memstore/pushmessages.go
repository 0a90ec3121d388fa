package memstore

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/tuisong/push/registry"
)

// CreatePushMessage implements registry.PushMessages. On success it sets
// m.ID, m's summary columns, and each delivery's ID and PushMessageID; the
// deliveries get increasing IDs in the order of ds. A duplicate non-empty
// DedupeKey, or an IdempotencyKey that exists already or twice in ds, is an
// ErrConflict; both keys are stored and compared without trailing spaces.
// On any error nothing is stored and m and ds are unchanged.
func (s *Store) CreatePushMessage(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery) error {
	if s.unbuilt() {
		return notBuilt("Store.CreatePushMessage")
	}
	const op = "CreatePushMessage"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidatePushMessage(m, ds); err != nil {
		return wrap(op, err)
	}

	msg := clonePushMessage(m)
	msg.DedupeKey = unpad(msg.DedupeKey)
	rows := make([]registry.Delivery, len(ds))
	for i, d := range ds {
		rows[i] = cloneDelivery(d)
		rows[i].IdempotencyKey = unpad(rows[i].IdempotencyKey)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	if msg.DedupeKey != "" {
		if _, ok := s.messageByDedupe[msg.DedupeKey]; ok {
			return wrap(op, fmt.Errorf("dedupe key %q exists: %w", msg.DedupeKey, registry.ErrConflict))
		}
	}
	if err := s.checkKeys(rows); err != nil {
		return wrap(op, err)
	}

	now := s.stamp()
	s.lastMessage++
	msg.ID = s.lastMessage
	msg.CreatedAt, msg.UpdatedAt = now, now
	stored := s.insertDeliveries(msg.ID, rows, now)
	values := make([]registry.Delivery, len(stored))
	for i, d := range stored {
		values[i] = *d
	}
	s.messages[msg.ID] = &msg
	for _, p := range []string{registry.PlatformIOS, registry.PlatformAndroid} {
		*msg.Summary(p) = registry.Summarize(p, values)
		t := registry.NewTally(p, values)
		s.tallies[tallyKey{msg.ID, p}] = &t
	}
	if msg.Fanout != nil {
		s.startFanout(&msg)
	}
	if msg.DedupeKey != "" {
		s.messageByDedupe[msg.DedupeKey] = msg.ID
	}
	s.addMessageUsers(msg.ID, msg.UserNums)
	msg.UserNums = nil

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
	if s.unbuilt() {
		return registry.PushMessage{}, notBuilt("Store.GetPushMessage")
	}
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

// GetPushMessageByDedupeKey implements registry.PushMessages. The key is
// compared without trailing spaces; the empty key names no message: it is
// ErrNotFound.
func (s *Store) GetPushMessageByDedupeKey(ctx context.Context, key string) (registry.PushMessage, error) {
	if s.unbuilt() {
		return registry.PushMessage{}, notBuilt("Store.GetPushMessageByDedupeKey")
	}
	const op = "GetPushMessageByDedupeKey"
	if err := begin(ctx, op); err != nil {
		return registry.PushMessage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	// Empty keys are never indexed, so "" is not found.
	id, ok := s.messageByDedupe[unpad(key)]
	if !ok {
		return registry.PushMessage{}, wrap(op, fmt.Errorf("dedupe key %q: %w", key, registry.ErrNotFound))
	}
	return clonePushMessage(s.messages[id]), nil
}

// ListDeliveries implements registry.PushMessages. An unknown message has
// no deliveries: the result is empty, not an error.
func (s *Store) ListDeliveries(ctx context.Context, pushMessageID int64) ([]registry.Delivery, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListDeliveries")
	}
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
	if s.unbuilt() {
		return nil, notBuilt("Store.ClaimDeliveries")
	}
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

// FinishDelivery implements registry.PushMessages. The outcome is checked
// with registry.ValidateDeliveryOutcome (State, Attempts, the short text
// fields and Response), exactly as the SQL store checks it, before
// anything is written: vendor text must be sanitized by the caller. The
// token alone guards the write: a lease that ran out without anybody
// re-claiming the row still lets its holder finish it. The summary
// refreshed is that of the stored delivery's platform.
func (s *Store) FinishDelivery(ctx context.Context, d *registry.Delivery) error {
	if s.unbuilt() {
		return notBuilt("Store.FinishDelivery")
	}
	const op = "FinishDelivery"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidateDeliveryOutcome(d); err != nil {
		return wrap(op, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	row, err := s.claimed(d)
	if err != nil {
		return wrap(op, err)
	}
	now := s.stamp()
	old := *row
	finish(row, d, d.State, now)
	s.recount(&old, row, now)
	return nil
}

// claimed returns the stored delivery d names while d.ClaimToken holds
// it, or ErrClaimLost. The caller holds s.mu.
func (s *Store) claimed(d *registry.Delivery) (*registry.Delivery, error) {
	row, ok := s.deliveryByID[d.ID]
	if !ok || d.ClaimToken == "" || row.ClaimToken != d.ClaimToken {
		return nil, fmt.Errorf("delivery %d: %w", d.ID, registry.ErrClaimLost)
	}
	return row, nil
}

// finish writes d's outcome to row with state, and releases the claim.
func finish(row, d *registry.Delivery, state registry.DeliveryState, now time.Time) {
	row.State = state
	row.Attempts = d.Attempts
	row.NextAttemptAt = d.NextAttemptAt.Round(0)
	row.ReceiptID = d.ReceiptID
	row.Pollable = d.Pollable
	row.VendorState = d.VendorState
	row.Ret = d.Ret
	row.Response = d.Response
	row.ErrorKind = d.ErrorKind
	row.ErrorCode = d.ErrorCode
	row.RetryToken = d.RetryToken
	row.SentAt = cloneTime(d.SentAt)
	row.ClaimToken = ""
	row.LeaseUntil = nil
	row.UpdatedAt = now
}

// summarize refreshes the summary of platform of message id from all its
// deliveries, tokens included, and computes its tally anew: what a split
// does. The caller holds s.mu.
func (s *Store) summarize(id int64, platform string, now time.Time) {
	msg := s.messages[id]
	values := s.deliveryValues(id)
	sum := registry.Summarize(platform, values)
	sum.DeviceTokens = registry.ClipTokens(sum.DeviceTokens, registry.MaxTokensText)
	t := registry.NewTally(platform, values)
	if t.Fanout = s.fanouts[id] != nil; t.Fanout {
		sum = t.Summary("") // pending, its tokens written when the fanout ends
	}
	*msg.Summary(platform) = sum
	s.tallies[tallyKey{id, platform}] = &t
	msg.UpdatedAt = now
}

// recount brings the summary of row's platform up to date with row, which
// changed from old, through the message's tally: the other deliveries are
// read only when the tally cannot follow the change (registry.Tally.Update),
// and their tokens never are, since a finish does not change the summary's
// DeviceTokens. The caller holds s.mu.
func (s *Store) recount(old, row *registry.Delivery, now time.Time) {
	msg := s.messages[row.PushMessageID]
	key := tallyKey{row.PushMessageID, row.Platform}
	t := s.tallies[key]
	if t == nil || !t.Update(old, row) {
		stored := s.deliveriesByMessage[row.PushMessageID]
		values := make([]registry.Delivery, len(stored))
		for i, d := range stored {
			values[i] = *d // shares the tokens: NewTally does not read them
		}
		nt := registry.NewTally(row.Platform, values)
		nt.Fanout = s.fanouts[row.PushMessageID] != nil
		t = &nt
		s.tallies[key] = t
	}
	sum := msg.Summary(row.Platform)
	*sum = t.Summary(sum.DeviceTokens)
	msg.UpdatedAt = now
}

// checkKeys refuses deliveries whose idempotency key is stored already or
// repeated among them. The caller holds s.mu.
func (s *Store) checkKeys(ds []registry.Delivery) error {
	keys := make(map[string]bool, len(ds))
	for _, d := range ds {
		if s.idempotencyKeys[d.IdempotencyKey] || keys[d.IdempotencyKey] {
			return fmt.Errorf("idempotency key %q exists: %w", d.IdempotencyKey, registry.ErrConflict)
		}
		keys[d.IdempotencyKey] = true
	}
	return nil
}

// insertDeliveries stores ds as deliveries of message id, with increasing
// IDs in the order of ds, and returns the stored rows. The caller holds
// s.mu and has checked the keys.
func (s *Store) insertDeliveries(id int64, ds []registry.Delivery, now time.Time) []*registry.Delivery {
	stored := make([]*registry.Delivery, len(ds))
	for i := range ds {
		c := ds[i]
		c.ID = int64(len(s.deliveries)) + 1
		c.PushMessageID = id
		c.CreatedAt, c.UpdatedAt = now, now
		s.deliveries = append(s.deliveries, &c)
		s.deliveryByID[c.ID] = &c
		s.idempotencyKeys[c.IdempotencyKey] = true
		s.deliveriesByMessage[id] = append(s.deliveriesByMessage[id], &c)
		stored[i] = &c
	}
	return stored
}
