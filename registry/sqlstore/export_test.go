package sqlstore

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/tuisong/push/registry"
)

// NullStatesBatch is the most NULL send_states one transaction writes on
// MySQL and PostgreSQL.
const NullStatesBatch = nullStatesBatch

// MaxTxAttempts is how often the Store runs a transaction that deadlocks.
const MaxTxAttempts = maxTxAttempts

// HotQuery is a statement the Store runs on every claim or push, as the
// database gets it, for tests that EXPLAIN it.
type HotQuery struct {
	Name  string
	Index string // a regexp of the index (or indexes) that should serve it
	SQL   string
	Args  []any
}

// HotQueries returns the Store's hot statements with arguments for a
// claim at now, targets of users and a disablement of tokens.
func (s *Store) HotQueries(now time.Time, users, tokens []string) []HotQuery {
	var out []HotQuery
	add := func(name, index, query string, args []any) {
		out = append(out, HotQuery{Name: name, Index: index, SQL: s.dialect.rebind(query), Args: args})
	}
	for _, kind := range []registry.ClaimKind{registry.ClaimSend, registry.ClaimPoll} {
		c, err := s.deliveryClaim(registry.ClaimParams{Now: now, Kind: kind})
		if err != nil {
			panic(err)
		}
		q, args := c.pick(10)
		add("claim deliveries", "ix_sys_push_deliveries_due", q, args)
	}
	// The write of a NULL send_state: SQLite's UPDATE, or the locking
	// read of ids the write by id starts with.
	writeArgs := []any{0, s.timeArg(now)}
	if s.dialect != DialectSQLite {
		writeArgs = nil
	}
	exists, write, _ := s.nullStatesSkipping(nil)
	add("find a NULL send_state", "ix_sys_message_center_due", exists, nil)
	add("read a NULL send_state as unsent", "ix_sys_message_center_due", write, writeArgs)
	if s.dialect != DialectSQLite {
		add("read a NULL send_state as unsent by id", "PRIMARY|sys_message_center_pkey", unsentNullStateByID+placeholders(2)+")",
			[]any{0, s.timeArg(now), 1, 2})
	}
	q, args := s.centerClaim(registry.ClaimParams{Now: now}).pick(10)
	add("claim center messages", "ix_sys_message_center_due", q, args)
	// With modes left to another program (messagecenter.Config.LeaveModes).
	skip := []string{"sms", "email"}
	exists, write, skipArgs := s.nullStatesSkipping(skip)
	add("find a NULL send_state, modes left", "ix_sys_message_center_due", exists, skipArgs)
	add("read a NULL send_state as unsent, modes left", "ix_sys_message_center_due", write, append(writeArgs, skipArgs...))
	q, args = s.centerClaim(registry.ClaimParams{Now: now, SkipModes: skip}).pick(10)
	add("claim center messages, modes left", "ix_sys_message_center_due", q, args)
	q, args = s.dialect.targetsQuery(users, 0, 100, true, false, false)
	add("list targets", "ix_sys_user_devices_user_num_state", q, args)
	q, args = s.dialect.targetsQuery(users, 0, 100, false, false, false)
	add("list targets in no order", "ix_sys_user_devices_user_num_state", q, args)
	q, args = s.dialect.targetsQuery(users, 0, 100, false, true, false)
	add("list targets with a census", "ix_sys_user_devices_user_num_state", q, args)
	if s.dialect == DialectSQLite {
		q, args = s.dialect.targetsQuery(slices.Sorted(slices.Values(users)), 0, 100, false, true, true)
		add("list targets by range", "ix_sys_user_devices_user_num_state", q, args)
	}
	// A token is looked up as stored and among the spaced ones (tokenIs).
	tokenIndex := "ix_sys_devices_push_device_token(.|\n)*ix_sys_devices_spaced_token|ix_sys_devices_spaced_token(.|\n)*ix_sys_devices_push_device_token"
	if s.dialect == DialectMySQL {
		tokenIndex = "ix_sys_devices_push_token_key"
	}
	q, args = s.dialect.disableQuery(registry.DefaultPushPlatform, registry.PlatformIOS, tokens, "gone", s.timeArg(now))
	add("disable tokens", tokenIndex, q, args)
	q, args = s.dialect.takeoverQuery(&registry.Device{ID: 1, Platform: registry.PlatformIOS, PushPlatform: registry.DefaultPushPlatform, PushToken: tokens[0]},
		s.timeArg(now))
	add("take a token over", tokenIndex, q, args)
	// On SQLite the tokens' devices lead (holdersQuery), the push's
	// users are looked up by user_num; the servers may lead with either.
	holders := "ix_sys_devices_push_device_token|ix_sys_devices_push_token_key|ix_sys_push_message_users_message"
	if s.dialect == DialectSQLite {
		holders = `^[^\n]*MULTI-INDEX OR(.|\n)*SEARCH pmu USING COVERING INDEX ux_sys_push_message_users_user_num`
	}
	if s.dialect == DialectPostgres {
		// The tokens' devices first, then their holders by id.
		q, args = holderIDsQuery(tokens)
		add("push holders' devices", tokenIndex, q, args)
		holders = "sys_devices_pkey|ix_sys_push_message_users_message"
	}
	q, args = s.dialect.holdersQuery(1, tokens, []int64{1, 2, 3})
	add("push holders", holders, q, args)
	// Either index finds the one row: PostgreSQL may take the uuid's.
	add("find a device", "ux_sys_devices_platform_uuid|ix_sys_devices_uuid", findDevice+s.dialect.forUpdate(), []any{registry.PlatformIOS, "u1"})
	add("find a device spelled otherwise", "ix_sys_devices_uuid", findSpelledDevice+s.dialect.forUpdate(), []any{"u1", registry.PlatformIOS})
	add("summarize", "ix_sys_push_deliveries_push_message_id", s.deliveriesOfPlatform(), []any{1, registry.PlatformIOS})
	add("list deliveries", "ix_sys_push_deliveries_push_message_id", s.deliveriesOfMessage(), []any{1})
	return out
}

// CachedStatements returns the queries s keeps prepared (see stmtCache).
func (s *Store) CachedStatements() []string {
	if s.stmts == nil {
		return nil
	}
	s.stmts.mu.Lock()
	defer s.stmts.mu.Unlock()
	out := make([]string, 0, len(s.stmts.stmts))
	for q := range s.stmts.stmts {
		out = append(out, q)
	}
	return out
}

// MaxCachedStmts bounds a Store's prepared statements.
const MaxCachedStmts = maxCachedStmts

// Query runs query on the Store's pool, through its statement cache.
func (s *Store) Query(t interface{ Context() context.Context }, query string, args ...any) error {
	rows, err := s.query(t.Context(), s.q, query, args...)
	if err != nil {
		return err
	}
	return rows.Close()
}

// FinishCenterBatch writes ms as FinishCenterMessage's queue writes one
// batch of calls, and returns each call's error.
func (s *Store) FinishCenterBatch(ms []*registry.CenterMessage) []error {
	batch := make([]*groupReq[*registry.CenterMessage], len(ms))
	for i, m := range ms {
		batch[i] = &groupReq[*registry.CenterMessage]{v: m}
	}
	writeBatch(s, batch, s.finishCenters, s.finishCenter, isClaimLost, func(*registry.CenterMessage) {})
	errs := make([]error, len(ms))
	for i, r := range batch {
		errs[i] = r.err
	}
	return errs
}

// SetChunks returns the sizes of the statements a set write of n rows
// takes.
func (s *Store) SetChunks(n int) []int { return s.setChunks(n) }

// FinishDeliveryBatch writes ds as FinishDelivery's queue writes one batch
// of calls (ds as FinishDelivery passes them: checked, times cut), and
// returns each call's error.
func (s *Store) FinishDeliveryBatch(ds []*registry.Delivery) []error {
	batch := make([]*groupReq[*registry.Delivery], len(ds))
	for i, d := range ds {
		out := s.normalizeDelivery(*d)
		batch[i] = &groupReq[*registry.Delivery]{v: &out}
	}
	s.finishBatch(batch)
	errs := make([]error, len(ds))
	for i, r := range batch {
		errs[i] = r.err
	}
	return errs
}

// CreateBatch writes the creates of ms and dss as CreatePushMessage's
// queue writes one batch of calls, and returns each call's error; on
// success it sets the ids as CreatePushMessage does.
func (s *Store) CreateBatch(ms []*registry.PushMessage, dss [][]*registry.Delivery) []error {
	batch := make([]*groupReq[*createReq], len(ms))
	for i, m := range ms {
		if err := registry.ValidatePushMessage(m, dss[i]); err != nil {
			panic(err)
		}
		batch[i] = &groupReq[*createReq]{v: s.newCreateReq(m, dss[i])}
	}
	s.writeCreates(batch)
	errs := make([]error, len(ms))
	for i, r := range batch {
		if errs[i] = r.err; r.err == nil {
			r.v.apply(dss[i])
		}
	}
	return errs
}

// SetCensusMax sets the most devices a census of s names.
func (s *Store) SetCensusMax(n int) { s.censusMax = n }

// ListsByRange reports whether s lists a chunk of users by range now.
func (s *Store) ListsByRange(ctx context.Context) bool { return s.byRange(ctx) }

// NoRanges returns a copy of s that lists by IN lists only.
func (s *Store) NoRanges() *Store {
	c := *s
	c.ranges = nil
	return &c
}

// SetBatchTimeout sets the bound of each transaction of s's group-commit
// batches (groupBatchTimeout).
func (s *Store) SetBatchTimeout(d time.Duration) { s.batchTimeout = d }

// HoldersQuery is PushHolders' statement for tokens of the push
// pushMessageID, whose devices are ids on PostgreSQL, rebound for the
// dialect.
func (s *Store) HoldersQuery(pushMessageID int64, tokens []string, ids []int64) (string, []any) {
	q, args := s.dialect.holdersQuery(pushMessageID, tokens, ids)
	return s.dialect.rebind(q), args
}

// HolderIDsQuery is PostgreSQL's statement of the ids of the devices
// holding tokens, rebound.
func (s *Store) HolderIDsQuery(tokens []string) (string, []any) {
	q, args := holderIDsQuery(tokens)
	return s.dialect.rebind(q), args
}

// ExplainClaim returns PostgreSQL's plan of the pick of a claim for p, of
// the center's rows or (deliveries) of p.Kind's deliveries, as the
// claim's transaction plans it (walkIndex where the claim asks for it),
// or without that setting when plain.
func (s *Store) ExplainClaim(ctx context.Context, deliveries bool, p registry.ClaimParams, plain bool) (string, error) {
	c := s.centerClaim(p)
	if deliveries {
		var err error
		if c, err = s.deliveryClaim(p); err != nil {
			return "", err
		}
	}
	q, args := c.pick(p.Limit)
	var plan []string
	err := s.inTx(ctx, func(tx DBTX) error {
		if !plain && c.walk {
			if err := s.walkIndex(ctx, tx); err != nil {
				return err
			}
		}
		rows, err := tx.QueryContext(ctx, "EXPLAIN "+s.dialect.rebind(q)+" FOR UPDATE SKIP LOCKED", args...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var line string
			if err := rows.Scan(&line); err != nil {
				return err
			}
			plan = append(plan, line)
		}
		return rows.Err()
	})
	return strings.Join(plan, "\n"), err
}

// CensusQuery is TakeCensus's statement, for tests that EXPLAIN it.
func (s *Store) CensusQuery() string { return s.censusQuery() }

// CutShortRecreation leaves table as a re-creation (CreateMissingTables)
// cut short right after its CREATE TABLE leaves it: marked as being
// re-created, and created by that statement alone, without the columns
// and indexes later migrations add.
func (s *Store) CutShortRecreation(ctx context.Context, table string) error {
	ms, err := loadMigrations(s.dialect, componentPush)
	if err != nil {
		return err
	}
	if err := s.markRecreating(ctx, s.q, componentPush, []string{table}); err != nil {
		return err
	}
	for _, m := range ms {
		if slices.Contains(m.tables, table) {
			for _, st := range m.steps {
				if st.table == table && createTable.MatchString(st.sql) {
					_, err := s.q.ExecContext(ctx, st.sql)
					return err
				}
			}
		}
	}
	return nil
}

// SweepBatch is the most deliveries one statement of a sweep on
// PostgreSQL takes.
const SweepBatch = sweepBatch

// InTx runs fn in a transaction of s, as its own writes run.
func (s *Store) InTx(ctx context.Context, fn func(q DBTX) error) error { return s.inTx(ctx, fn) }

// LockTallies is lockTallies.
func (s *Store) LockTallies(ctx context.Context, q DBTX, msgIDs []int64) error {
	_, err := s.lockTallies(ctx, q, msgIDs)
	return err
}
