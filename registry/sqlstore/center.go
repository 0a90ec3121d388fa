package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"time"

	"github.com/tuisong/push/registry"
)

const centerColumns = `id, title, content, extra_params_string, notify_mode, notify_level, receivers, send_state,
	send_result, remark, send_at, attempts, next_attempt_at, claim_token, lease_until, created_at, updated_at, push_class`

// scanCenter reads a sys_message_center row of centerColumns. Time values,
// and notify_level, send_state or attempts values that are no whole number, which
// another program may write, are named in m.Unreadable, never an error:
// one such row must not fail the claim of the rows around it.
func (s *Store) scanCenter(row interface{ Scan(...any) error }) (registry.CenterMessage, error) {
	var m registry.CenterMessage
	var bad readProblems
	err := row.Scan(&m.ID, zeroIfNull(&m.Title), zeroIfNull(&m.Content), zeroIfNull(&m.Extra), zeroIfNull(&m.NotifyMode),
		lenientInt{"notify_level", &m.NotifyLevel, &bad}, zeroIfNull(&m.Receivers), lenientInt{"send_state", &m.SendState, &bad}, zeroIfNull(&m.SendResult),
		zeroIfNull(&m.Remark), s.wallPtr("send_at", &m.SendAt, &bad), lenientInt{"attempts", &m.Attempts, &bad}, s.wallPtr("next_attempt_at", &m.NextAttemptAt, &bad),
		zeroIfNull(&m.ClaimToken), s.wallPtr("lease_until", &m.LeaseUntil, &bad), s.wall("created_at", &m.CreatedAt, &bad),
		s.wall("updated_at", &m.UpdatedAt, &bad), zeroIfNull(&m.Class))
	m.Unreadable = bad.String()
	return m, err
}

// EnqueueCenterMessage implements registry.CenterMessages. The row is
// stored with send_state unsent whatever m says, and with m's SendAt,
// NextAttemptAt and Attempts; no claim. registry.ValidateCenterMessage
// checks m first (NotifyLevel and Attempts must fit their INT columns). On
// success m.ID, m.SendState, m.CreatedAt and m.UpdatedAt are set. Inside
// WithTx it commits with the host's transaction.
func (s *Store) EnqueueCenterMessage(ctx context.Context, m *registry.CenterMessage) error {
	if s.unbuilt() {
		return notBuilt("Store.EnqueueCenterMessage")
	}
	const op = "EnqueueCenterMessage"
	if err := registry.ValidateCenterMessage(m); err != nil {
		return wrap(op, err)
	}
	now := s.stamp()
	unlock := s.writing()
	id, err := s.insert(ctx, s.q, `INSERT INTO sys_message_center (title, content, extra_params_string, notify_mode, notify_level,
		receivers, send_state, send_result, remark, send_at, attempts, next_attempt_at, created_at, updated_at, push_class)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		m.Title, m.Content, m.Extra, m.NotifyMode, m.NotifyLevel, m.Receivers, registry.SendStateUnsent,
		nullIfEmpty(m.SendResult), nullIfEmpty(m.Remark), s.nullTimeArg(m.SendAt), m.Attempts, s.nullTimeArg(m.NextAttemptAt),
		s.timeArg(now), s.timeArg(now), nullIfEmpty(m.Class))
	unlock()
	if err != nil {
		return wrap(op, step("insert center message", err))
	}
	m.ID, m.SendState, m.CreatedAt, m.UpdatedAt = id, registry.SendStateUnsent, now, now
	return nil
}

// GetCenterMessage implements registry.CenterMessages. An id outside the
// INT column is ErrNotFound without a query.
func (s *Store) GetCenterMessage(ctx context.Context, id int64) (registry.CenterMessage, error) {
	if s.unbuilt() {
		return registry.CenterMessage{}, notBuilt("Store.GetCenterMessage")
	}
	const op = "GetCenterMessage"
	if !s.intID(id) {
		return registry.CenterMessage{}, wrap(op, notFound("center message", id))
	}
	m, err := s.scanCenter(s.queryRow(ctx, s.q, "SELECT "+s.selectList(centerColumns)+" FROM sys_message_center WHERE id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.CenterMessage{}, wrap(op, notFound("center message", id))
	case err != nil:
		return registry.CenterMessage{}, wrap(op, step("select center message", err))
	}
	return m, nil
}

// FinishCenterMessage implements registry.CenterMessages. As with
// FinishDelivery, the token alone guards the write, and an unknown row
// (an id outside the INT column included) or an empty token is
// ErrClaimLost. registry.ValidateCenterOutcome checks SendResult and
// Remark against their TEXT columns, SendState and Attempts against their
// integer columns, before anything is written: notifier text must be
// sanitized by the caller.
//
// Concurrent finishes on one Store are written together, up to 64 a
// transaction on the batch's own 30-second clock (a Scanner finishes
// Concurrency rows at once), in one UPDATE for the whole batch (see
// finishCenters); a caller whose ctx ends first gets ctx's error, and its
// outcome is still written, later, under its claim. A batch in which a
// claim was lost is written again row by row, which tells which one; a
// batch whose transaction fails is written again one row per
// transaction, so that one bad row fails alone. Inside WithTx each finish is written at once, in
// the host's transaction.
func (s *Store) FinishCenterMessage(ctx context.Context, m *registry.CenterMessage) error {
	if s.unbuilt() {
		return notBuilt("Store.FinishCenterMessage")
	}
	const op = "FinishCenterMessage"
	if err := registry.ValidateCenterOutcome(m); err != nil {
		return wrap(op, err)
	}
	if m.ClaimToken == "" || !s.intID(m.ID) {
		return wrap(op, claimLost("center message", m.ID))
	}
	var err error
	if s.begin == nil {
		err = s.finishCenter(ctx, s.q, m)
	} else {
		err = s.centerFinishes.do(ctx, m, func(batch []*groupReq[*registry.CenterMessage]) {
			writeBatch(s, batch, s.finishCenters, s.finishCenter, isClaimLost, func(*registry.CenterMessage) {})
		})
	}
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

var _ registry.CenterLeases = (*Store)(nil)

// RenewCenterMessage implements registry.CenterLeases: one UPDATE guarded
// by the claim token and the row's pending state, as a finish is. An
// unknown row (an id outside the INT column included) or an empty token is
// ErrClaimLost; a zero leaseUntil is an ErrInvalid for field
// "lease_until".
func (s *Store) RenewCenterMessage(ctx context.Context, m *registry.CenterMessage, leaseUntil time.Time) error {
	if s.unbuilt() {
		return notBuilt("Store.RenewCenterMessage")
	}
	const op = "RenewCenterMessage"
	if leaseUntil.IsZero() {
		return wrap(op, invalid("lease_until", "is required"))
	}
	if m.ClaimToken == "" || !s.intID(m.ID) {
		return wrap(op, claimLost("center message", m.ID))
	}
	until := s.usec(leaseUntil)
	if err := s.setClaimed(ctx, "sys_message_center", "center message", centerStillPending, m.ID, m.ClaimToken,
		"lease_until", s.timeArg(until)); err != nil {
		return wrap(op, step("renew center message", err))
	}
	m.LeaseUntil = &until
	return nil
}

// centerStillPending guards every finish of a center row: a row another
// program finished or cancelled while a Scanner held it (send_state no
// longer 0) keeps what that program wrote, and the finish reports the
// claim lost. It is written "send_state + 0" so that no planner walks the
// index that starts with send_state (every unsent row) for it instead of
// looking the rows up by id: PostgreSQL's generic plans did, and the
// Scanner drained 15% fewer rows a second.
const centerStillPending = "send_state + 0 = 0"

// finishCenter writes m's outcome on q under its claim: ErrClaimLost when
// the claim no longer holds, or the row is no longer pending (its claim is
// then released, and nothing else written).
func (s *Store) finishCenter(ctx context.Context, q DBTX, m *registry.CenterMessage) error {
	res, err := s.exec(ctx, q, `UPDATE sys_message_center SET send_state = ?, send_result = ?, remark = ?, attempts = ?,
		next_attempt_at = ?, claim_token = NULL, lease_until = NULL, updated_at = ?
		WHERE id = ? AND claim_token = ? AND `+centerStillPending,
		m.SendState, nullIfEmpty(m.SendResult), nullIfEmpty(m.Remark), m.Attempts, s.nullTimeArg(m.NextAttemptAt),
		s.timeArg(s.stamp()), m.ID, m.ClaimToken)
	if err != nil {
		return step("update center message", err)
	}
	n, err := affected(res)
	if err != nil {
		return err
	}
	if n == 0 {
		// Not ours any more, or finished by another program: a claim
		// still ours is released, and nothing else is touched.
		if _, err := s.exec(ctx, q, `UPDATE sys_message_center SET claim_token = NULL, lease_until = NULL
			WHERE id = ? AND claim_token = ?`, m.ID, m.ClaimToken); err != nil {
			return step("release center message", err)
		}
		return claimLost("center message", m.ID)
	}
	return nil
}

// finishCenters writes the outcomes of ms on q under their claims, with one
// UPDATE per chunk of rows (setChunks), or returns errSetShort when some
// claim no longer holds (or a row comes twice): then the caller rolls the
// transaction back and writes each row with finishCenter.
func (s *Store) finishCenters(ctx context.Context, q DBTX, ms []*registry.CenterMessage) error {
	now := s.timeArg(s.stamp())
	for _, chunk := range chunked(s, ms) {
		rows := make([]guardedRow, len(chunk))
		for j, m := range chunk {
			rows[j] = guardedRow{id: m.ID, claim: m.ClaimToken, values: []any{m.SendState, nullIfEmpty(m.SendResult),
				nullIfEmpty(m.Remark), m.Attempts, s.nullTimeArg(m.NextAttemptAt)}}
		}
		if err := s.updateClaimed(ctx, q, "sys_message_center", "update center messages", centerStillPending,
			[]string{"send_state", "send_result", "remark", "attempts", "next_attempt_at"}, rows, now); err != nil {
			return err
		}
	}
	return nil
}

// isClaimLost reports whether err is a lost claim.
func isClaimLost(err error) bool { return errors.Is(err, registry.ErrClaimLost) }
