package memstore

import (
	"context"
	"time"

	"github.com/tuisong/push/registry"
)

// RenewDelivery implements registry.PushMessages.
func (s *Store) RenewDelivery(ctx context.Context, d *registry.Delivery, leaseUntil time.Time) error {
	if s.unbuilt() {
		return notBuilt("Store.RenewDelivery")
	}
	const op = "RenewDelivery"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if leaseUntil.IsZero() {
		return wrap(op, &registry.ValidationError{Field: "lease_until", Reason: "is required"})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, err := s.claimed(d)
	if err != nil {
		return wrap(op, err)
	}
	until := leaseUntil.Round(0)
	row.LeaseUntil = &until
	out := until
	d.LeaseUntil = &out
	return nil
}

var _ registry.RetryTokens = (*Store)(nil)

// SetRetryToken implements registry.RetryTokens.
func (s *Store) SetRetryToken(ctx context.Context, d *registry.Delivery, token string) error {
	if s.unbuilt() {
		return notBuilt("Store.SetRetryToken")
	}
	const op = "SetRetryToken"
	if err := begin(ctx, op); err != nil {
		return err
	}
	if err := registry.ValidateRetryToken(d, token); err != nil {
		return wrap(op, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	row, err := s.claimed(d)
	if err != nil {
		return wrap(op, err)
	}
	row.RetryToken = token
	d.RetryToken = token
	return nil
}
