package memstore

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/tuisong/push/registry"
)

// EnqueueCenterMessage implements registry.CenterMessages. The row is
// stored with SendState unsent whatever m says, and without m.Unreadable:
// every value of the store is readable. On success only m.ID is set.
func (s *Store) EnqueueCenterMessage(ctx context.Context, m *registry.CenterMessage) error {
	if s.unbuilt() {
		return notBuilt("Store.EnqueueCenterMessage")
	}
	const op = "EnqueueCenterMessage"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidateCenterMessage(m); err != nil {
		return wrap(op, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.stamp()
	row := cloneCenterMessage(m)
	row.ID = int64(len(s.center)) + 1
	row.SendState, row.Unreadable = registry.SendStateUnsent, ""
	// Nobody's, as sqlstore's INSERT leaves it: a caller's claim_token
	// and lease_until are not the row's.
	row.ClaimToken, row.LeaseUntil = "", nil
	row.CreatedAt, row.UpdatedAt = now, now
	s.center = append(s.center, &row)
	s.centerByID[row.ID] = &row
	m.ID = row.ID
	return nil
}

// GetCenterMessage implements registry.CenterMessages.
func (s *Store) GetCenterMessage(ctx context.Context, id int64) (registry.CenterMessage, error) {
	if s.unbuilt() {
		return registry.CenterMessage{}, notBuilt("Store.GetCenterMessage")
	}
	const op = "GetCenterMessage"
	if err := begin(ctx, op); err != nil {
		return registry.CenterMessage{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.centerByID[id]
	if !ok {
		return registry.CenterMessage{}, wrap(op, fmt.Errorf("center message %d: %w", id, registry.ErrNotFound))
	}
	return cloneCenterMessage(row), nil
}

var _ registry.CenterLeases = (*Store)(nil)

// RenewCenterMessage implements registry.CenterLeases.
func (s *Store) RenewCenterMessage(ctx context.Context, m *registry.CenterMessage, leaseUntil time.Time) error {
	if s.unbuilt() {
		return notBuilt("Store.RenewCenterMessage")
	}
	const op = "RenewCenterMessage"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if leaseUntil.IsZero() {
		return wrap(op, &registry.ValidationError{Field: "lease_until", Reason: "is required"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.centerByID[m.ID]
	if !ok || m.ClaimToken == "" || row.ClaimToken != m.ClaimToken || row.SendState != registry.SendStateUnsent {
		return wrap(op, fmt.Errorf("center message %d: %w", m.ID, registry.ErrClaimLost))
	}
	until := leaseUntil.Round(0)
	row.LeaseUntil = &until
	m.LeaseUntil = cloneTime(&until)
	return nil
}

// ClaimCenterMessages implements registry.CenterMessages. p.Kind is
// ignored; rows of p.SkipModes are left. Invalid params (Limit or Lease
// not positive, zero Now, SkipModes as ValidateSkipModes refuses) are an
// ErrInvalid naming the field.
func (s *Store) ClaimCenterMessages(ctx context.Context, p registry.ClaimParams) ([]registry.CenterMessage, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ClaimCenterMessages")
	}
	const op = "ClaimCenterMessages"
	if err := begin(ctx, op); err != nil {
		return nil, err
	}
	if err := checkClaim(p); err != nil {
		return nil, wrap(op, err)
	}
	now := p.Now.Round(0)

	s.mu.Lock()
	defer s.mu.Unlock()
	var picked []*registry.CenterMessage
	for _, m := range s.center {
		if m.SendState != registry.SendStateUnsent || !due(m.SendAt, now) || !due(m.NextAttemptAt, now) || (m.ClaimToken != "" && !free(m.LeaseUntil, now)) {
			continue
		}
		if slices.Contains(p.SkipModes, registry.NormalizeMode(m.NotifyMode)) {
			continue // another program's
		}
		picked = append(picked, m)
	}
	// s.center is in ID order and the sort is stable, so equal levels keep
	// ID order.
	slices.SortStableFunc(picked, func(a, b *registry.CenterMessage) int { return b.NotifyLevel - a.NotifyLevel })
	if len(picked) > p.Limit {
		picked = picked[:p.Limit]
	}
	lease := now.Add(p.Lease)
	stamp := s.stamp()
	out := make([]registry.CenterMessage, 0, len(picked))
	for _, m := range picked {
		m.ClaimToken = newClaimToken()
		m.LeaseUntil = &lease
		switch { // as the SQL store: kept inside the INT column
		case m.Attempts < 0:
			m.Attempts = 1
		case m.Attempts < math.MaxInt32:
			m.Attempts++
		}
		m.UpdatedAt = stamp
		out = append(out, cloneCenterMessage(m))
	}
	return out, nil
}

// FinishCenterMessage implements registry.CenterMessages. m's outcome is
// checked with registry.ValidateCenterOutcome (SendResult, Remark,
// SendState, Attempts), exactly as the SQL store checks it, before anything
// is written: notifier text must be sanitized by the caller. As with
// FinishDelivery, the token alone guards the write.
func (s *Store) FinishCenterMessage(ctx context.Context, m *registry.CenterMessage) error {
	if s.unbuilt() {
		return notBuilt("Store.FinishCenterMessage")
	}
	const op = "FinishCenterMessage"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidateCenterOutcome(m); err != nil {
		return wrap(op, err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	row, ok := s.centerByID[m.ID]
	if !ok || m.ClaimToken == "" || row.ClaimToken != m.ClaimToken {
		return wrap(op, fmt.Errorf("center message %d: %w", m.ID, registry.ErrClaimLost))
	}
	if row.SendState != registry.SendStateUnsent {
		// Finished by another program: its state stays, the claim goes.
		row.ClaimToken, row.LeaseUntil = "", nil
		return wrap(op, fmt.Errorf("center message %d: %w", m.ID, registry.ErrClaimLost))
	}
	row.SendState = m.SendState
	row.SendResult = m.SendResult
	row.Remark = m.Remark
	row.Attempts = m.Attempts
	row.NextAttemptAt = cloneTime(m.NextAttemptAt)
	row.ClaimToken = ""
	row.LeaseUntil = nil
	row.UpdatedAt = s.stamp()
	return nil
}
