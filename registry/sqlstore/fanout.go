package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"slices"

	"github.com/tuisong/push/registry"
)

// fanoutEnded is the SET clause of an ended fanout: its columns NULL, its
// count of claims too.
const fanoutEnded = "fanout_after = NULL, fanout_claim = NULL, fanout_until = NULL, fanout_claims = NULL"

// writeFanout writes the fanout columns of message msgID: f's, or NULLs
// when f is nil (the fanout ended; its count of claims goes too).
func (s *Store) writeFanout(ctx context.Context, q DBTX, msgID int64, f *registry.Fanout) error {
	if f == nil {
		_, err := s.exec(ctx, q, "UPDATE sys_push_messages SET "+fanoutEnded+" WHERE id = ?", msgID)
		return step("write fanout", err)
	}
	_, err := s.exec(ctx, q, "UPDATE sys_push_messages SET fanout_after = ?, fanout_claim = ?, fanout_until = ? WHERE id = ?",
		f.After, f.ClaimToken, s.timeArg(f.LeaseUntil), msgID)
	return step("write fanout", err)
}

// fanoutSummary is the summary of one platform of a push created with a
// fanout: its tally's (pending, without tokens: device_tokens is written
// when the fanout ends).
func fanoutSummary(sum registry.PlatformSummary) registry.PlatformSummary {
	if !sum.IsSend {
		return sum
	}
	sum.DeviceTokens, sum.Ret, sum.Status = "", registry.RetPending, registry.StatusPending
	return sum
}

// AddDeliveries implements registry.Fanouts. In one transaction it locks
// the push message row (the lock finishes take, so that they and the
// stage take turns on the tallies), checks that m.Fanout.ClaimToken still
// holds the push, inserts ds (with reserved ids in multi-row INSERTs on
// PostgreSQL and SQLite, one at a time on MySQL), adds them to both
// platforms' tallies and writes the summary columns other than
// device_tokens from them, and moves the fanout on. When next is nil the
// fanout ends: each platform's summary is then computed whole from its
// deliveries, tokens included, clipped to the column (whole tokens only).
//
// registry.ValidateAddDeliveries checks the call first; the deliveries'
// idempotency keys, stored without trailing spaces, must differ among
// themselves and from every stored one (ErrConflict). A lost claim is
// ErrClaimLost. On any error nothing is written and m and ds are
// unchanged; on success each delivery's ID, PushMessageID, CreatedAt and
// UpdatedAt are set, and m.Fanout is next.
func (s *Store) AddDeliveries(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery, next *registry.Fanout) error {
	if s.unbuilt() {
		return notBuilt("Store.AddDeliveries")
	}
	const op = "AddDeliveries"
	if err := registry.ValidateAddDeliveries(m, ds, next); err != nil {
		return wrap(op, err)
	}
	stored, err := s.normalizeKeyed(ds, "deliveries")
	if err != nil {
		return wrap(op, err)
	}
	c := &createReq{m: m, stored: stored, now: s.stamp()}
	movesOn := next != nil && registry.FanoutMovesOn(m, ds, next)
	err = s.inTx(ctx, func(q DBTX) error {
		c.msgID, c.ids = m.ID, make([]int64, len(ds))
		var claim, iosTally, androidTally sql.NullString
		err := s.queryRow(ctx, q, "SELECT fanout_claim, ios_tally, android_tally FROM sys_push_messages WHERE id = ?"+s.dialect.forUpdate(),
			m.ID).Scan(&claim, &iosTally, &androidTally)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return claimLost("push message", m.ID)
		case err != nil:
			return step("lock push message", err)
		case !claim.Valid || claim.String != m.Fanout.ClaimToken:
			return claimLost("push message", m.ID)
		}
		reserve := s.dialect != DialectMySQL
		if reserve {
			if c.ids, err = s.reserveIDs(ctx, q, "sys_push_deliveries", len(ds)); err != nil {
				return err
			}
		}
		if err := s.insertDeliveries(ctx, q, []*createReq{c}, reserve); err != nil {
			if !errors.Is(err, registry.ErrConflict) && s.dialect.classify(err) == classDuplicate &&
				s.dialect.keyDuplicate(err, "sys_push_deliveries", "idempotency_key", "ux_sys_push_deliveries_idempotency_key") {
				return conflict("an idempotency key of the stage exists", err)
			}
			return err
		}
		nowArg := s.timeArg(c.now)
		if next == nil {
			limit, err := s.tokensLimit(ctx, q)
			if err != nil {
				return err
			}
			// One UPDATE: on SQLite each would rewrite the row with
			// every token written so far (see summaryUpdate).
			var set string
			var args []any
			for _, p := range []string{registry.PlatformIOS, registry.PlatformAndroid} {
				ps, pargs, err := s.summaryUpdate(ctx, q, m.ID, p, limit, false)
				if err != nil {
					return err
				}
				set += ps + ", "
				args = append(args, pargs...)
			}
			_, err = s.exec(ctx, q, "UPDATE sys_push_messages SET "+set+fanoutEnded+", updated_at = ? WHERE id = ?",
				append(args, nowArg, m.ID)...)
			return step("end fanout", err)
		}
		var set string
		var args []any
		for _, p := range []struct {
			name   string
			stored sql.NullString
		}{{registry.PlatformIOS, iosTally}, {registry.PlatformAndroid, androidTally}} {
			t, err := s.stageTally(ctx, q, m.ID, p.name, p.stored, c)
			if err != nil {
				return err
			}
			enc, err := encodeTally(t)
			if err != nil {
				return err
			}
			set += outcomeSet(p.name) + ", "
			args = append(append(args, outcomeArgs(t.Summary(""))...), enc)
		}
		switch {
		case movesOn:
			set += "fanout_claims = NULL, " // the takeovers count from the last progress
		case next.Refund:
			set += "fanout_claims = CASE WHEN fanout_claims > 1 THEN fanout_claims - 1 END, "
		}
		args = append(args, next.After, next.ClaimToken, s.timeArg(next.LeaseUntil), nowArg, m.ID)
		_, err = s.exec(ctx, q, "UPDATE sys_push_messages SET "+set+"fanout_after = ?, fanout_claim = ?, fanout_until = ?, updated_at = ? WHERE id = ?", args...)
		return step("update summary", err)
	})
	if err != nil {
		return wrap(op, err)
	}
	for i, d := range ds {
		d.ID, d.PushMessageID, d.CreatedAt, d.UpdatedAt = c.ids[i], m.ID, c.now, c.now
	}
	if next != nil {
		f := *next
		f.Claims, f.Refund = 0, false
		switch {
		case movesOn:
		case next.Refund:
			f.Claims = max(m.Fanout.Claims-1, 0)
		default:
			f.Claims = m.Fanout.Claims // the store's count, which a lease's renewal keeps
		}
		m.Fanout = &f
	} else {
		m.Fanout = nil
	}
	return nil
}

// stageTally is the stored tally of platform of message msgID with the
// deliveries of c, just inserted, added, and marked as a fanout's; it is
// computed from the deliveries when it is missing or unreadable.
func (s *Store) stageTally(ctx context.Context, q DBTX, msgID int64, platform string, stored sql.NullString, c *createReq) (registry.Tally, error) {
	var t registry.Tally
	if !stored.Valid || json.Unmarshal([]byte(stored.String), &t) != nil {
		var err error
		if t, err = s.tallyOf(ctx, q, msgID, platform); err != nil {
			return t, err
		}
	} else {
		for i := range c.stored {
			if d := c.stored[i]; d.Platform == platform {
				d.ID = c.ids[i]
				t.Add(&d)
			}
		}
	}
	t.Fanout = true
	return t, nil
}

// ClaimFanouts implements registry.Fanouts. It selects the pushes whose
// fanout lease ran out, through the index on fanout_until, and claims each
// with an UPDATE guarded by that same condition, in id order: a row
// another claimer took meanwhile no longer matches (on MySQL and
// PostgreSQL the UPDATE waits for that claimer's commit and reads the row
// again; on SQLite the write lock makes the claim atomic), and a row a
// finish or a stage holds locked is waited for, not skipped, so that
// deliveries finishing on the push do not hide its fanout from every
// pass. Each claimed push gets its own new token. A read without a lock comes
// first: when no fanout is due, as on almost every call, nothing is
// locked. The claimed pushes and their users are read after the claim's
// commit; a read that fails then returns those read before it with the
// error (the others are left to run out their lease). Invalid params are an ErrInvalid
// naming the field.
func (s *Store) ClaimFanouts(ctx context.Context, p registry.ClaimParams) ([]registry.PushMessage, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ClaimFanouts")
	}
	const op = "ClaimFanouts"
	if err := checkClaim(p); err != nil {
		return nil, wrap(op, err)
	}
	pick := "SELECT id FROM sys_push_messages WHERE fanout_until <= ? ORDER BY fanout_until, id" + limitClause(p.Limit)
	args := []any{s.timeArg(p.Now)}
	// Every pass of every Scanner asks, and there is rarely any: a read
	// first, so that the answer "none" takes no lock (on SQLite, not the
	// database's write lock).
	var first int64
	switch err := s.queryRow(ctx, s.q, pick, args...).Scan(&first); {
	case errors.Is(err, sql.ErrNoRows):
		return nil, nil
	case err != nil:
		return nil, wrap(op, step("select fanouts", err))
	}
	var claimed []registry.Fanout
	var ids []int64
	err := s.inTx(ctx, func(q DBTX) error {
		claimed, ids = nil, nil
		due, err := s.queryIDs(ctx, q, pick, args...)
		if err != nil {
			return step("select fanouts", err)
		}
		// In id order, the order in which finishes and stages lock
		// message rows, so that a claim waiting for a row they hold never
		// waits in a circle with them.
		slices.Sort(due)
		until := s.usec(p.Now.Add(p.Lease))
		for _, id := range due {
			f := registry.Fanout{ClaimToken: newClaimBatch(), LeaseUntil: until}
			res, err := s.exec(ctx, q, "UPDATE sys_push_messages SET fanout_claim = ?, fanout_until = ?, fanout_claims = COALESCE(fanout_claims, 0) + 1, updated_at = ? WHERE id = ? AND fanout_until <= ?",
				f.ClaimToken, s.timeArg(until), s.timeArg(s.stamp()), id, args[0])
			if err != nil {
				return step("claim fanout", err)
			}
			if n, err := affected(res); err != nil {
				return step("claim fanout", err)
			} else if n == 0 {
				continue // claimed by another instance meanwhile, or ended
			}
			claimed = append(claimed, f)
			ids = append(ids, id)
		}
		return nil
	})
	if err != nil {
		return nil, wrap(op, err)
	}
	// Read after the commit: the claim keeps the push ours, and a push to
	// a million users must not hold its lock (on SQLite, the database's
	// write lock) while they are read.
	out := make([]registry.PushMessage, 0, len(ids))
	for i, id := range ids {
		m, err := s.readFanout(ctx, s.q, id, claimed[i])
		if err != nil {
			return out, wrap(op, err)
		}
		out = append(out, m)
	}
	return out, nil
}

// readFanout reads the push message id, claimed with f, its Claims and
// its users in byte order.
func (s *Store) readFanout(ctx context.Context, q DBTX, id int64, f registry.Fanout) (registry.PushMessage, error) {
	var m registry.PushMessage
	var after sql.NullString
	var claims sql.NullInt64
	err := s.queryRow(ctx, q, "SELECT "+s.selectList(messageColumns)+", fanout_after, fanout_claims FROM sys_push_messages WHERE id = ?", id).
		Scan(append(s.messageDest(&m), &after, &claims)...)
	if err != nil {
		return m, step("read fanout", err)
	}
	f.After, f.Claims = after.String, int(claims.Int64)
	m.Fanout = &f
	rows, err := s.query(ctx, q, "SELECT user_num FROM sys_push_message_users WHERE push_message_id = ?", id)
	if err != nil {
		return m, step("read fanout users", err)
	}
	defer rows.Close()
	for rows.Next() {
		var u string
		if err := rows.Scan(&u); err != nil {
			return m, step("read fanout users", err)
		}
		m.UserNums = append(m.UserNums, u)
	}
	if err := rows.Err(); err != nil {
		return m, step("read fanout users", err)
	}
	slices.Sort(m.UserNums)
	return m, nil
}
