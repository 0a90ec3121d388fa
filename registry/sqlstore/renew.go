package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tuisong/push/registry"
)

// RenewDelivery implements registry.PushMessages: one UPDATE guarded by the
// claim token, so that it cannot take a delivery back from an instance that
// claimed it since. An unknown row (an id outside the INT column included)
// or an empty token is ErrClaimLost; a zero leaseUntil is an ErrInvalid for
// field "lease_until".
func (s *Store) RenewDelivery(ctx context.Context, d *registry.Delivery, leaseUntil time.Time) error {
	if s.unbuilt() {
		return notBuilt("Store.RenewDelivery")
	}
	const op = "RenewDelivery"
	if leaseUntil.IsZero() {
		return wrap(op, invalid("lease_until", "is required"))
	}
	if d.ClaimToken == "" || !s.intID(d.ID) {
		return wrap(op, claimLost("delivery", d.ID))
	}
	if err := s.setClaimedColumn(ctx, d, "lease_until", s.timeArg(leaseUntil)); err != nil {
		return wrap(op, step("renew claim", err))
	}
	until := s.usec(leaseUntil)
	d.LeaseUntil = &until
	return nil
}

var _ registry.RetryTokens = (*Store)(nil)

// SetRetryToken implements registry.RetryTokens: one UPDATE of the
// delivery's retry_token guarded by the claim token, as RenewDelivery's.
// An unknown row or an empty claim token is ErrClaimLost.
func (s *Store) SetRetryToken(ctx context.Context, d *registry.Delivery, token string) error {
	if s.unbuilt() {
		return notBuilt("Store.SetRetryToken")
	}
	const op = "SetRetryToken"
	if err := registry.ValidateRetryToken(d, token); err != nil {
		return wrap(op, err)
	}
	if d.ClaimToken == "" || !s.intID(d.ID) {
		return wrap(op, claimLost("delivery", d.ID))
	}
	if err := s.setClaimedColumn(ctx, d, "retry_token", nullIfEmpty(token)); err != nil {
		return wrap(op, step("write retry token", err))
	}
	d.RetryToken = token
	return nil
}

// setClaimedColumn sets column col of the delivery d claims to v, in one
// UPDATE guarded by d.ClaimToken: ErrClaimLost when the token no longer
// holds the row (or it is gone). Writing the value the column holds is no
// error.
func (s *Store) setClaimedColumn(ctx context.Context, d *registry.Delivery, col string, v any) error {
	return s.setClaimed(ctx, "sys_push_deliveries", "delivery", "", d.ID, d.ClaimToken, col, v)
}

// setClaimed sets column col of row id of table to v, in one UPDATE
// guarded by claim (and by the condition guard, unless it is empty):
// ErrClaimLost, naming the row as what, when they no longer hold the row
// (or it is gone). Writing the value the column holds is no error.
func (s *Store) setClaimed(ctx context.Context, table, what, guard string, id int64, claim, col string, v any) error {
	where := " WHERE id = ? AND claim_token = ?"
	if guard != "" {
		where += " AND " + guard
	}
	unlock := s.writing()
	res, err := s.exec(ctx, s.q, "UPDATE "+table+" SET "+col+" = ?"+where, v, id, claim)
	unlock()
	if err != nil {
		return err
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n > 0 {
		return nil
	}
	// MySQL counts a row whose value was already v as not changed: the
	// claim may still hold it.
	var one int
	switch err := s.queryRow(ctx, s.q, "SELECT 1 FROM "+table+where, id, claim).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return claimLost(what, id)
	case err != nil:
		return err
	}
	return nil
}
