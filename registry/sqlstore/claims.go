package sqlstore

import (
	"cmp"
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"slices"
	"strconv"
	"sync"
	"time"

	"github.com/tuisong/push/registry"
)

// checkClaim validates the parts of p every claim needs. The errors name
// the ClaimParams field, lowercased, like the registry's column names.
func checkClaim(p registry.ClaimParams) error {
	if p.Limit <= 0 {
		return invalid("limit", "must be > 0, got %d", p.Limit)
	}
	if p.Lease <= 0 {
		return invalid("lease", "must be > 0, got %s", p.Lease)
	}
	if p.Now.IsZero() {
		return invalid("now", "is required")
	}
	return registry.ValidateSkipModes(p.SkipModes)
}

// newClaimBatch returns 128 random bits in hex. A claim stamps each row it
// takes with this value, a dot and the row's id, so every row gets its own
// unguessable token from a single UPDATE.
func newClaimBatch() string {
	var b [16]byte
	// crypto/rand.Read never returns an error (it crashes the program when
	// the system's random source fails).
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// claimTokenExpr is the SQL expression of a row's claim token: the
// batch (the first ? of the statement) joined to the row's id.
func (s *Store) claimTokenExpr() string {
	if s.dialect == DialectMySQL {
		return "CONCAT(?, '.', id)"
	}
	return "(CAST(? AS VARCHAR(64)) || '.' || CAST(id AS VARCHAR(20)))"
}

// claim is one claim statement: which table, which rows are due (the
// predicate and its arguments), in which order, and what else a claim
// sets.
type claim struct {
	table   string
	columns string
	due     string
	dueArgs []any
	order   string
	extra   string // more "column = expression" assignments, or ""
	// walk is set where an index gives the rows in claim order: on
	// PostgreSQL the claim's transaction then forbids the planner a sort
	// (walkIndex), so that it walks that index whatever the statistics.
	walk bool
}

// walkIndex tells PostgreSQL, for the rest of the transaction q, to read
// a claim's rows in the order of an index rather than sort them. On a
// table never analysed (autovacuum off, or behind after a bulk load) the
// planner takes the due rows for a few, and chose a bitmap scan of every
// unsent row and a sort of them all, which spilled to disk: hundreds of
// milliseconds a claim at a few hundred thousand rows, where the index
// walk stops after the batch. A sort that no index can spare is still
// made (the setting makes it costly, not impossible). Only in the
// Store's own transaction: a host's (WithTx) keeps its settings.
func (s *Store) walkIndex(ctx context.Context, q DBTX) error {
	if s.dialect != DialectPostgres || s.begin == nil {
		return nil
	}
	_, err := s.exec(ctx, q, "SET LOCAL enable_sort = off")
	return step("plan the claim", err)
}

// pick is the statement that selects the ids of up to limit due rows, in
// claim order: the query every claim runs, on every tick of every
// instance.
func (c claim) pick(limit int) (string, []any) {
	return "SELECT id FROM " + c.table + " WHERE " + c.due + " ORDER BY " + c.order + limitClause(limit),
		append([]any{}, c.dueArgs...)
}

// limitClause is " LIMIT n", with n written into the statement rather
// than bound: SQLite marks a bound LIMIT as a value its plan depends on
// and prepares the statement again at every execution (for the target
// listing's 500 placeholders, about 0.4 ms each time). The limits a Store
// uses are few (a page size, a batch size), so the statement caches hold
// a handful of texts.
func limitClause(n int) string { return " LIMIT " + strconv.Itoa(n) }

// runClaim claims up to p.Limit rows of c and returns them, read by scan:
// the due rows are locked FOR UPDATE SKIP LOCKED, so that concurrent
// claimers skip each other's rows instead of waiting, stamped and read
// back. On PostgreSQL one UPDATE … RETURNING does it all, the due rows
// picked in a WITH; on MySQL, which has no RETURNING, three statements
// in one transaction (the due ids, the stamp, the read back); on SQLite
// one UPDATE … RETURNING, the write lock making it atomic. RETURNING
// gives the rows in no order: its callers sort them.
func runClaim[T any](ctx context.Context, s *Store, c claim, p registry.ClaimParams, scan func(row interface{ Scan(...any) error }) (T, error)) ([]T, error) {
	set := "claim_token = " + s.claimTokenExpr() + ", lease_until = ?, updated_at = ?" + c.extra
	setArgs := []any{newClaimBatch(), s.timeArg(p.Now.Add(p.Lease)), s.timeArg(s.stamp())}
	pick, pickArgs := c.pick(p.Limit)
	read := func(rows *sql.Rows) ([]T, error) {
		defer rows.Close()
		var out []T
		for rows.Next() {
			v, err := scan(rows)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
		}
		return out, rows.Err()
	}

	if s.dialect == DialectSQLite {
		defer s.writing()()
		rows, err := s.query(ctx, s.q, "UPDATE "+c.table+" SET "+set+" WHERE id IN ("+pick+") RETURNING "+s.selectList(c.columns),
			append(setArgs, pickArgs...)...)
		if err != nil {
			return nil, step("claim", err)
		}
		out, err := read(rows)
		return out, step("claim", err)
	}

	var out []T
	if s.dialect == DialectPostgres {
		// One statement: the due rows locked (skipping those another
		// claim holds), stamped and returned, in no order.
		err := s.inTx(ctx, func(q DBTX) error {
			if c.walk {
				if err := s.walkIndex(ctx, q); err != nil {
					return err
				}
			}
			rows, err := s.query(ctx, q, "WITH due AS ("+pick+" FOR UPDATE SKIP LOCKED) UPDATE "+c.table+" SET "+set+
				" WHERE id IN (SELECT id FROM due) RETURNING "+s.selectList(c.columns), append(pickArgs, setArgs...)...)
			if err != nil {
				return step("claim", err)
			}
			out, err = read(rows)
			return step("claim", err)
		})
		return out, err
	}
	err := s.inTx(ctx, func(q DBTX) error {
		out = nil
		due, err := s.queryIDs(ctx, q, pick+" FOR UPDATE SKIP LOCKED", pickArgs...)
		if err != nil {
			return step("select due rows", err)
		}
		ids := make([]any, len(due))
		for i, id := range due {
			ids[i] = id
		}
		if len(ids) == 0 {
			return nil
		}
		in := " WHERE id IN (" + placeholders(len(ids)) + ")"
		if _, err := s.exec(ctx, q, "UPDATE "+c.table+" SET "+set+in, append(setArgs, ids...)...); err != nil {
			return step("stamp claims", err)
		}
		rows, err := s.query(ctx, q, "SELECT "+s.selectList(c.columns)+" FROM "+c.table+in+" ORDER BY "+c.order, ids...)
		if err != nil {
			return step("read claims", err)
		}
		out, err = read(rows)
		return step("read claims", err)
	})
	return out, err
}

// ClaimDeliveries implements registry.PushMessages. ClaimSend claims
// pending deliveries, ClaimPoll accepted pollable ones; either only when
// next_attempt_at <= p.Now and no lease is running (lease_until NULL,
// <= p.Now, or a value the Store cannot read, which no claim of it wrote).
// A next_attempt_at another program wrote that the Store cannot compare
// as a time (PostgreSQL's infinity, text on SQLite that is no date) would
// keep its row from ever being due: at most once a minute (by p.Now) for
// each kind, the claim first sets such values of that kind's state to
// p.Now (one UPDATE: on PostgreSQL an index lookup of infinity, on
// SQLite a pass over the state's rows; none on MySQL, whose DATETIME
// always compares), so that the row is tried and gets an outcome.
// Rows come oldest next_attempt_at first, ties by id. The scan is an index
// range scan of (state, next_attempt_at). Time values the Store cannot
// read never fail the claim: they read as the zero time. Invalid params
// (Limit or Lease not positive, zero Now, an unknown Kind) are an
// ErrInvalid naming the field.
func (s *Store) ClaimDeliveries(ctx context.Context, p registry.ClaimParams) ([]registry.Delivery, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ClaimDeliveries")
	}
	const op = "ClaimDeliveries"
	if err := checkClaim(p); err != nil {
		return nil, wrap(op, err)
	}
	c, err := s.deliveryClaim(p)
	if err != nil {
		return nil, wrap(op, err)
	}
	s.sweepUnreadable(ctx, p)
	out, err := runClaim(ctx, s, c, p, s.scanDelivery)
	if err != nil {
		return nil, wrap(op, err)
	}
	if s.dialect != DialectMySQL {
		// RETURNING has no order; MySQL's read back has.
		slices.SortFunc(out, func(a, b registry.Delivery) int {
			return cmp.Or(a.NextAttemptAt.Compare(b.NextAttemptAt), cmp.Compare(a.ID, b.ID))
		})
	}
	return out, nil
}

// deliveryClaim is the claim of p.Kind.
func (s *Store) deliveryClaim(p registry.ClaimParams) (claim, error) {
	now := s.timeArg(p.Now)
	c := claim{
		table:   "sys_push_deliveries",
		columns: deliveryColumns,
		due:     "state = ? AND next_attempt_at <= ? AND (lease_until IS NULL OR lease_until <= ?" + s.orUnreadable("lease_until") + ")",
		order:   "next_attempt_at, id",
		walk:    true, // ix_sys_push_deliveries_due, in next_attempt_at order (ties sorted by id as they come)
	}
	switch p.Kind {
	case registry.ClaimSend:
		c.dueArgs = []any{string(registry.DeliveryPending), now, now}
		c.extra = ", attempts = " + claimedAttempts // within the INT column, whatever another program wrote
	case registry.ClaimPoll:
		c.due += " AND pollable = 1"
		c.dueArgs = []any{string(registry.DeliveryAccepted), now, now}
	default:
		return claim{}, invalid("kind", "must be ClaimSend or ClaimPoll, got %d", int(p.Kind))
	}
	return c, nil
}

// centerDue is the predicate of a due sys_message_center row: unsent
// (send_state 0, the product brief's default, so rows other programs insert
// qualify), past its send_at and next_attempt_at when set, and not leased.
// A lease_until without a claim_token is no lease (another program wrote
// it; nobody would ever finish the row), nor is one further ahead than
// registry.MaxCenterLease, which no claim gives. send_at, which other
// programs write, is compared as foreignDue compares it. A time the Store cannot read
// counts as past (see orUnreadable): the Scanner fails such a row with its
// reason.
func (s *Store) centerDue() string {
	return "send_state = 0 AND (send_at IS NULL OR " + s.foreignDue("send_at") + ")" +
		" AND (next_attempt_at IS NULL OR next_attempt_at <= ?" + s.orUnreadable("next_attempt_at") + ")" +
		" AND (lease_until IS NULL OR claim_token IS NULL OR claim_token = '' OR lease_until <= ? OR lease_until > ?" +
		s.orUnreadable("lease_until") + ")"
}

// unsentNullStates gives rows another program wrote with a NULL
// send_state the product brief's default, 0 (unsent), so that the claim, which
// selects send_state = 0, treats them as unsent. Writing the 0 once,
// rather than claiming "send_state = 0 OR send_state IS NULL", keeps the
// claim a walk of the index (send_state, notify_level DESC, id) in claim
// order on every dialect: an OR of two send_state values would make MySQL
// and PostgreSQL merge two ranges and sort them, and MariaDB has no
// expression or partial index to avoid that. The statements are index
// lookups on send_state; the write runs only when the read finds such a
// row, so a claim normally writes nothing more (on SQLite, takes the write
// lock no more often). They run on their own, before the claim's
// transaction, so their locks never stretch over a claim.
//
// On MySQL and PostgreSQL the write takes the rows as the claim does:
// up to nullStatesBatch ids at a time, locked FOR UPDATE SKIP LOCKED, then
// written by id, each batch a transaction of its own. A row another
// transaction holds (another program's write of it, left open) is skipped,
// its send_state left NULL for a later claim: an UPDATE of every NULL
// state waited for such a lock, and every claim failed for as long as it
// was held. SQLite, with one writer, has no row locks to wait for: one
// UPDATE writes them all.
//
// Rows of skip (ClaimParams.SkipModes) are another program's: left as they
// are, NULL state included.
func (s *Store) unsentNullStates(ctx context.Context, skip []string) error {
	exists, write, skipArgs := s.nullStatesSkipping(skip)
	var one int
	err := s.queryRow(ctx, s.q, exists, skipArgs...).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil
	case err != nil:
		// The pass's first statement: a database that cannot be reached
		// fails here, and the step says so plainly.
		return step("look for rows", err)
	}
	set := []any{registry.SendStateUnsent, s.timeArg(s.stamp())}
	if s.dialect == DialectSQLite {
		defer s.writing()()
		_, err = s.exec(ctx, s.q, write, append(set, skipArgs...)...)
		return step("read a NULL send_state as unsent", err)
	}
	for {
		var n int
		err := s.inTx(ctx, func(q DBTX) error {
			ids, err := s.queryIDs(ctx, q, write, skipArgs...)
			n = len(ids)
			if err != nil || n == 0 {
				return err
			}
			args := append([]any{}, set...)
			for _, id := range ids {
				args = append(args, id)
			}
			_, err = s.exec(ctx, q, unsentNullStateByID+placeholders(n)+")", args...)
			return err
		})
		if err != nil {
			return step("read a NULL send_state as unsent", err)
		}
		if n < nullStatesBatch {
			return nil
		}
	}
}

// nullStatesBatch is the most rows one transaction of unsentNullStates
// writes on MySQL and PostgreSQL: one statement's id list, bounded
// whatever another program inserted (a database takes 32,766 to 65,535
// parameters).
const nullStatesBatch = 500

// unsentNullStateByID, with the ids' placeholders and ")", writes 0 to the
// send_state of the rows unsentNullStates locked.
const unsentNullStateByID = "UPDATE sys_message_center SET send_state = ?, updated_at = ? WHERE id IN ("

// skipModes is the condition, " AND …", that leaves out the rows whose
// notify_mode is one of modes (ClaimParams.SkipModes), and its arguments;
// "" without modes. A mode is compared as registry.NormalizeMode reads
// it: trimmed of spaces, lower-cased (modes are ASCII), byte for byte
// (on MySQL not by the column's collation, which would take "ＳＭＳ" or
// "sms" with a zero-width space for "sms" where the other databases do
// not). MySQL and PostgreSQL lower the two letters that Unicode lowers to
// ASCII (İ, and the Kelvin sign K) where SQLite does not: a row's mode
// holding one may be skipped there and claimed on SQLite, where the
// Scanner then gives it back and puts it off. A NULL mode reads as "", which is never skipped (NOT IN with a
// NULL would skip it).
func (s *Store) skipModes(modes []string) (string, []any) {
	if len(modes) == 0 {
		return "", nil
	}
	expr := "LOWER(TRIM(COALESCE(notify_mode, '')))"
	if s.dialect == DialectMySQL {
		expr = "CAST(" + expr + " AS BINARY)" // not the BINARY operator, which MySQL 8.0.27 deprecates
	}
	args := make([]any, len(modes))
	for i, m := range modes {
		args[i] = m
	}
	return " AND " + expr + " NOT IN (" + placeholders(len(modes)) + ")", args
}

// nullStatesSkipping returns the statements of unsentNullStates on s's
// database, with the rows of skip (ClaimParams.SkipModes) left out: the
// read that finds whether there is a NULL send_state, and the write (on
// SQLite, the UPDATE with its two arguments, send_state and updated_at,
// before skipArgs), or the locking read of a batch of ids that the write
// by id starts with; and the arguments that leave skip out.
func (s *Store) nullStatesSkipping(skip []string) (exists, write string, skipArgs []any) {
	clause, skipArgs := s.skipModes(skip)
	// A blank send_state, which only SQLite keeps in an INT column (an
	// empty string another program wrote), is no state either.
	where := " WHERE send_state IS NULL" + clause
	if s.dialect == DialectSQLite {
		where = " WHERE (send_state IS NULL OR send_state = '')" + clause
	}
	exists = "SELECT 1 FROM sys_message_center" + where + " LIMIT 1"
	if s.dialect == DialectSQLite {
		return exists, "UPDATE sys_message_center SET send_state = ?, updated_at = ?" + where, skipArgs
	}
	return exists, "SELECT id FROM sys_message_center" + where + limitClause(nullStatesBatch) + " FOR UPDATE SKIP LOCKED", skipArgs
}

// centerClaim is the claim of due center messages.
func (s *Store) centerClaim(p registry.ClaimParams) claim {
	now := s.timeArg(p.Now)
	order := "notify_level DESC, id"
	if s.dialect == DialectPostgres {
		order = "notify_level DESC NULLS LAST, id"
	}
	skip, skipArgs := s.skipModes(p.SkipModes) // another program's rows
	due, args := s.centerDue()+skip, append(append(s.foreignArgs(p.Now), now, now, s.timeArg(p.Now.Add(registry.MaxCenterLease))), skipArgs...)
	return claim{
		table:   "sys_message_center",
		columns: centerColumns,
		due:     due,
		dueArgs: args,
		order:   order,
		extra:   ", attempts = " + claimedAttempts,
		walk:    true, // ix_sys_message_center_due
	}
}

// claimedAttempts is a center row's or a delivery's attempts after a
// claim: one more, kept
// inside 0..2147483647 (the INT column) whatever another program wrote
// there. A negative count becomes 1; the maximum stays, where adding one
// would fail the claim of the whole batch on MySQL and PostgreSQL and
// leave a count FinishCenterMessage refuses. On SQLite, text (which sorts
// above every number) reads as the maximum.
const claimedAttempts = "CASE WHEN attempts < 0 THEN 1 WHEN attempts >= 2147483647 THEN 2147483647 ELSE attempts + 1 END"

// ClaimCenterMessages implements registry.CenterMessages. Rows come
// highest notify_level first (a NULL level, which only other programs
// write, last), then lowest id. A NULL send_state, which only other
// programs write, is unsent: such rows are given send_state 0 first (see
// unsentNullStates), but for those another transaction holds locked, which
// are left for a later claim and never hold up this one. The scan walks
// the index (send_state, notify_level DESC, id) over unsent rows only, so
// rows of p.SkipModes, which it passes over, are read again by every
// claim while they stay unsent. On PostgreSQL the claim's transaction
// keeps the planner from sorting, so that it walks that index even on a
// table never analysed (see walkIndex), as ClaimDeliveries does; inside
// WithTx it does not, and such a table is then read whole and sorted at
// every claim until it is analysed.
// p.Kind is ignored. Invalid params (Limit or Lease not positive, zero
// Now, SkipModes as ValidateSkipModes refuses) are an ErrInvalid naming
// the field.
func (s *Store) ClaimCenterMessages(ctx context.Context, p registry.ClaimParams) ([]registry.CenterMessage, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ClaimCenterMessages")
	}
	const op = "ClaimCenterMessages"
	if err := checkClaim(p); err != nil {
		return nil, wrap(op, err)
	}
	if err := s.unsentNullStates(ctx, p.SkipModes); err != nil {
		return nil, wrap(op, err)
	}
	c := s.centerClaim(p)
	out, err := runClaim(ctx, s, c, p, s.scanCenter)
	if err != nil {
		return nil, wrap(op, err)
	}
	if s.dialect != DialectMySQL {
		// RETURNING has no order; MySQL's read back has.
		slices.SortFunc(out, func(a, b registry.CenterMessage) int {
			return cmp.Or(cmp.Compare(b.NotifyLevel, a.NotifyLevel), cmp.Compare(a.ID, b.ID))
		})
	}
	return out, nil
}

// sweepInterval is how often, in the claims' own time (ClaimParams.Now),
// ClaimDeliveries makes due the deliveries of a kind whose next_attempt_at
// it cannot compare as a time.
const sweepInterval = time.Minute

// sweeps is when each kind of delivery claim last swept.
type sweeps struct {
	mu   sync.Mutex
	last map[registry.ClaimKind]time.Time
}

// due reports whether a sweep of kind is due at now, and if so records
// now as its time. A now before the last sweep (another clock) is due.
func (w *sweeps) due(kind registry.ClaimKind, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if last, ok := w.last[kind]; ok && !now.Before(last) && now.Sub(last) < sweepInterval {
		return false
	}
	if w.last == nil {
		w.last = map[registry.ClaimKind]time.Time{}
	}
	w.last[kind] = now
	return true
}

// forget makes the next sweep of kind due at once.
func (w *sweeps) forget(kind registry.ClaimKind) {
	w.mu.Lock()
	delete(w.last, kind)
	w.mu.Unlock()
}

// sweepUnreadable sets to p.Now the next_attempt_at of the deliveries of
// p.Kind's state that the claim cannot compare (unreadableTime), once every
// sweepInterval (see ClaimDeliveries). Inside a host's transaction, and on
// MySQL, it does nothing. A sweep that fails is not the claim's failure:
// the next claim of the kind sweeps again.
//
// On PostgreSQL it takes the rows sweepBatch at a time with SKIP LOCKED,
// as the claim itself does: a row another session holds locked (a
// transaction left open) keeps its value until a later sweep, instead of
// holding up the sweep, and with it every claim of the kind, for as long
// as the lock lasts.
func (s *Store) sweepUnreadable(ctx context.Context, p registry.ClaimParams) {
	var sweep string
	switch s.dialect {
	case DialectPostgres:
		// -infinity is due already; infinity is found through the index
		// on (state, next_attempt_at), however long the backlog.
		sweep = `UPDATE sys_push_deliveries SET next_attempt_at = ? WHERE id IN (SELECT id FROM sys_push_deliveries
			WHERE state = ? AND next_attempt_at = 'infinity'` + limitClause(sweepBatch) + ` FOR UPDATE SKIP LOCKED)`
	case DialectSQLite:
		sweep = "UPDATE sys_push_deliveries SET next_attempt_at = ? WHERE state = ? AND (" + s.unreadableTime("next_attempt_at") + ")"
	}
	if sweep == "" || s.begin == nil || !s.swept.due(p.Kind, p.Now) {
		return
	}
	state := registry.DeliveryPending
	if p.Kind == registry.ClaimPoll {
		state = registry.DeliveryAccepted
	}
	for {
		unlock := s.writing()
		res, err := s.exec(ctx, s.q, sweep, s.timeArg(p.Now), string(state))
		unlock()
		var n int64
		if err == nil {
			n, err = affected(res)
		}
		if err != nil {
			s.swept.forget(p.Kind)
			return
		}
		if s.dialect != DialectPostgres || n < sweepBatch {
			return
		}
	}
}

// sweepBatch is the most deliveries one statement of a sweep on
// PostgreSQL takes.
const sweepBatch = 500
