package sqlstore

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tuisong/push/registry"
)

const messageColumns = `id, title, content, extra_params_string, push_type, dedupe_key, expire_at,
	ios_device_tokens, ios_task_id, ios_ret, ios_status, ios_response, ios_timestamp, is_send_ios,
	android_device_tokens, android_task_id, android_ret, android_status, android_response, android_timestamp, is_send_android,
	created_at, updated_at, push_class, push_overrides, trace_parent`

// messageDest is where a sys_push_messages row of messageColumns is
// scanned to. Time values it cannot read read as the zero time, never an
// error.
func (s *Store) messageDest(m *registry.PushMessage) []any {
	var bad readProblems
	dest := []any{
		&m.ID, zeroIfNull(&m.Title), zeroIfNull(&m.Content), zeroIfNull(&m.Extra), zeroIfNull(&m.PushType),
		zeroIfNull(&m.DedupeKey), s.wallPtr("expire_at", &m.ExpireAt, &bad),
	}
	for _, p := range []*registry.PlatformSummary{&m.IOS, &m.Android} {
		dest = append(dest, zeroIfNull(&p.DeviceTokens), zeroIfNull(&p.TaskID), zeroIfNull(&p.Ret), zeroIfNull(&p.Status),
			zeroIfNull(&p.Response), zeroIfNull(&p.Timestamp), lenientFlag{&p.IsSend})
	}
	return append(dest, s.wall("created_at", &m.CreatedAt, &bad), s.wall("updated_at", &m.UpdatedAt, &bad),
		zeroIfNull(&m.Class), zeroIfNull(&m.Overrides), zeroIfNull(&m.TraceParent))
}

// summaryArgs are the values of one platform's summary columns, in the
// order of summarySet.
func summaryArgs(p registry.PlatformSummary) []any {
	return []any{
		nullIfEmpty(p.DeviceTokens), nullIfEmpty(p.TaskID), nullIfEmpty(p.Ret), nullIfEmpty(p.Status),
		nullIfEmpty(p.Response), nullIfEmpty(p.Timestamp), boolInt(p.IsSend),
	}
}

// summarySet is the SET list of one platform's summary columns. platform
// is "ios" or "android", checked by the callers: it names columns, it is
// never a value.
func summarySet(platform string) string {
	var b strings.Builder
	for i, c := range []string{"device_tokens", "task_id", "ret", "status", "response", "timestamp"} {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s_%s = ?", platform, c)
	}
	fmt.Fprintf(&b, ", is_send_%s = ?", platform)
	return b.String()
}

// outcomeArgs are the values of one platform's summary columns other
// than device_tokens, in the order of outcomeSet: what a finish changes.
func outcomeArgs(p registry.PlatformSummary) []any {
	return summaryArgs(p)[1:]
}

// outcomeSet is the SET list of one platform's summary columns other than
// device_tokens, and of its tally. platform is "ios" or "android", checked
// by the callers.
func outcomeSet(platform string) string {
	var b strings.Builder
	for _, c := range []string{"task_id", "ret", "status", "response", "timestamp"} {
		fmt.Fprintf(&b, "%s_%s = ?, ", platform, c)
	}
	fmt.Fprintf(&b, "is_send_%s = ?, %s_tally = ?", platform, platform)
	return b.String()
}

// encodeTally is the value of a tally column.
func encodeTally(t registry.Tally) (string, error) {
	b, err := json.Marshal(t)
	if err != nil {
		return "", fmt.Errorf("encode tally: %w", err)
	}
	return string(b), nil
}

const deliveryColumns = `id, push_message_id, provider, platform, seq, audience, tokens, idempotency_key, state,
	attempts, next_attempt_at, expire_at, receipt_id, pollable, vendor_state, ret, response, error_kind, error_code,
	sent_at, claim_token, lease_until, created_at, updated_at, retry_token`

// deliveriesOfMessage selects the deliveries of a push message.
func (s *Store) deliveriesOfMessage() string {
	return "SELECT " + s.selectList(deliveryColumns) + " FROM sys_push_deliveries WHERE push_message_id = ? ORDER BY id"
}

// deliveriesOfPlatform selects the deliveries of one platform of a push
// message, for its summary.
func (s *Store) deliveriesOfPlatform() string {
	return "SELECT " + s.selectList(deliveryColumns) + " FROM sys_push_deliveries WHERE push_message_id = ? AND platform = ? ORDER BY id"
}

// scanDelivery reads a sys_push_deliveries row of deliveryColumns. Time
// values it cannot read read as the zero time, never an error.
func (s *Store) scanDelivery(row interface{ Scan(...any) error }) (registry.Delivery, error) {
	var d registry.Delivery
	var tokens, state string
	var msgID int
	var bad readProblems
	// Numbers and flags another program may have written are read
	// leniently (lenientInt, lenientFlag): a value that fails a scan would
	// fail the claim of every delivery with it.
	err := row.Scan(&d.ID, lenientInt{"push_message_id", &msgID, &bad}, &d.Provider, &d.Platform, lenientInt{"seq", &d.Seq, &bad},
		&d.Audience, zeroIfNull(&tokens), &d.IdempotencyKey, &state, lenientInt{"attempts", &d.Attempts, &bad},
		s.wall("next_attempt_at", &d.NextAttemptAt, &bad), s.wallPtr("expire_at", &d.ExpireAt, &bad), zeroIfNull(&d.ReceiptID),
		lenientFlag{&d.Pollable}, zeroIfNull(&d.VendorState), zeroIfNull(&d.Ret), zeroIfNull(&d.Response), zeroIfNull(&d.ErrorKind),
		zeroIfNull(&d.ErrorCode), s.wallPtr("sent_at", &d.SentAt, &bad), zeroIfNull(&d.ClaimToken), s.wallPtr("lease_until", &d.LeaseUntil, &bad),
		s.wall("created_at", &d.CreatedAt, &bad), s.wall("updated_at", &d.UpdatedAt, &bad), zeroIfNull(&d.RetryToken))
	if d.ExpireAt != nil && d.ExpireAt.IsZero() {
		d.ExpireAt = nil // unreadable (infinity, a year past 9999, text): no expiry, not one long past
	}
	d.PushMessageID = int64(msgID)
	d.Platform = foreignPlatform(d.Platform)
	if tokens != "" {
		d.Tokens = splitTokens(tokens)
	}
	d.State = registry.DeliveryState(state)
	fitOutcome(&d)
	return d, err
}

// fitOutcome makes the outcome columns of a delivery as read fit what
// FinishDelivery stores (ValidateDeliveryOutcome), so that the outcome of
// its next try can be written: another program may have written any value
// there (SQLite does not enforce VARCHAR(255)), and a delivery whose
// outcome cannot be written would stay claimed and be sent again at every
// lease's end. Text is made to fit (registry.FitVarchar, SanitizeText), a
// RetryToken that does not fit is dropped (a token is given back whole or
// not at all), and negative attempts read as 0. What fits is read as it is.
func fitOutcome(d *registry.Delivery) {
	for _, f := range []*string{&d.ReceiptID, &d.VendorState, &d.Ret, &d.ErrorKind, &d.ErrorCode} {
		*f = registry.FitVarchar(*f)
	}
	if registry.FitVarchar(d.RetryToken) != d.RetryToken {
		d.RetryToken = ""
	}
	d.Response = registry.SanitizeText(d.Response, registry.MaxMediumText)
	d.Attempts = max(d.Attempts, 0)
}

func (s *Store) scanDeliveries(rows *sql.Rows) ([]registry.Delivery, error) {
	defer rows.Close()
	var out []registry.Delivery
	for rows.Next() {
		d, err := s.scanDelivery(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// CreatePushMessage implements registry.PushMessages. The message, its
// deliveries and its summary columns are written in one transaction. On
// success it sets m.ID, m's summary columns, CreatedAt and UpdatedAt, and
// each delivery's ID, PushMessageID, CreatedAt and UpdatedAt; the
// deliveries get increasing IDs in the order of ds. A duplicate non-empty
// DedupeKey or IdempotencyKey is an ErrConflict; both keys are stored and
// compared without trailing spaces. On any error nothing is stored and m
// and ds are unchanged.
//
// registry.ValidatePushMessage checks m and ds first: among others, each
// delivery's State must be pending, accepted, done or failed, its tokens
// must not hold commas or white space (the column keeps them
// comma-joined), and its other text must fit its column.
//
// Concurrent creates on one Store share a transaction, up to 64 a batch,
// written with statements for the whole batch (see createSet); a batch
// whose transaction fails (a duplicate key among others) is written again
// one create per transaction, so that a conflict fails its own call only.
// A create whose transaction failed at its commit, which may have
// committed all the same, is first looked for by its deliveries'
// idempotency keys: found, it is answered as written.
// Inside WithTx each create is written at once, in the host's
// transaction.
func (s *Store) CreatePushMessage(ctx context.Context, m *registry.PushMessage, ds []*registry.Delivery) error {
	if s.unbuilt() {
		return notBuilt("Store.CreatePushMessage")
	}
	const op = "CreatePushMessage"
	if err := registry.ValidatePushMessage(m, ds); err != nil {
		return wrap(op, err)
	}
	c := s.newCreateReq(m, ds)
	var err error
	if s.begin == nil {
		// Inside the host's transaction: written there, at once.
		err = s.createOne(ctx, s.q, c)
	} else {
		// Concurrent creates (a Scanner's rows, an API's pushes) share a
		// transaction: see groupQueue.
		err = s.creates.do(ctx, c, s.writeCreates)
	}
	if err != nil {
		return wrap(op, err)
	}
	c.apply(ds)
	return nil
}

// newCreateReq is the createReq of a CreatePushMessage call of m and ds,
// checked.
func (s *Store) newCreateReq(m *registry.PushMessage, ds []*registry.Delivery) *createReq {
	c := &createReq{m: m, dedupeKey: unpad(m.DedupeKey), stored: make([]registry.Delivery, len(ds)), now: s.stamp()}
	for i, d := range ds {
		c.stored[i] = s.normalizeDelivery(*d)
	}
	c.ios = registry.Summarize(registry.PlatformIOS, c.stored)
	c.android = registry.Summarize(registry.PlatformAndroid, c.stored)
	if m.Fanout != nil {
		c.ios, c.android = fanoutSummary(c.ios), fanoutSummary(c.android)
	}
	return c
}

// apply sets what a committed create returns on c.m and ds.
func (c *createReq) apply(ds []*registry.Delivery) {
	m := c.m
	m.ID, m.IOS, m.Android, m.CreatedAt, m.UpdatedAt = c.msgID, c.ios, c.android, c.now, c.now
	for i, d := range ds {
		d.ID, d.PushMessageID, d.CreatedAt, d.UpdatedAt = c.ids[i], c.msgID, c.now, c.now
	}
}

// writeCreates writes a batch of creates: see writeBatch and createSet.
// A create whose statements all ran in a transaction that then failed to
// commit may be written all the same: it is looked for (landed) before it
// is written again, or answered with the commit's error.
func (s *Store) writeCreates(batch []*groupReq[*createReq]) {
	writeBatch(s, batch, s.createSet, s.createOne, func(error) bool { return false }, func(*createReq) {})
	for _, r := range batch {
		if errors.Is(r.err, errCommit) && r.v.ran {
			ctx, cancel := s.batchClock()
			if s.landed(ctx, s.q, r.v) {
				r.err = nil
			}
			cancel()
		}
	}
}

// landed reports whether c is written: every one of its deliveries'
// idempotency keys is stored, on one push message (the keys a create
// writes are its own: see ValidatePushMessage). It then sets c's ids as
// a create does. A read that fails answers false.
func (s *Store) landed(ctx context.Context, q DBTX, c *createReq) bool {
	if len(c.stored) == 0 {
		return false
	}
	keys := make([]any, len(c.stored))
	at := make(map[string]int, len(c.stored))
	for i := range c.stored {
		keys[i] = c.stored[i].IdempotencyKey
		at[c.stored[i].IdempotencyKey] = i
	}
	rows, err := s.query(ctx, q, "SELECT id, push_message_id, idempotency_key FROM sys_push_deliveries WHERE idempotency_key IN ("+
		placeholders(len(keys))+")", keys...)
	if err != nil {
		return false
	}
	defer rows.Close()
	ids := make([]int64, len(c.stored))
	var msgID int64
	found := 0
	for rows.Next() {
		var id, mid int64
		var key string
		if rows.Scan(&id, &mid, &key) != nil {
			return false
		}
		i, ok := at[key]
		if !ok || (msgID != 0 && mid != msgID) || ids[i] != 0 {
			return false
		}
		ids[i], msgID = id, mid
		found++
	}
	if rows.Err() != nil || found != len(c.stored) {
		return false
	}
	c.msgID, c.ids = msgID, ids
	return true
}

// createReq is one CreatePushMessage call: what it writes, and the ids
// its last run of createOne got (kept only when that run committed).
type createReq struct {
	m            *registry.PushMessage
	dedupeKey    string
	stored       []registry.Delivery // normalized, in the order of the call's ds
	ios, android registry.PlatformSummary
	now          time.Time
	msgID        int64
	ids          []int64
	// ran is set once every statement of the create ran in a
	// transaction: when that transaction's commit fails, the create may
	// be written all the same (see landed).
	ran bool
}

// createOne writes c's message, deliveries and tallies on q and sets c's
// ids. It may run more than once for one call (a retried or split batch):
// each run sets them anew.
func (s *Store) createOne(ctx context.Context, q DBTX, c *createReq) error {
	if c.ran && s.landed(ctx, q, c) {
		return nil // written by a transaction whose commit failed all the same
	}
	err := s.createStatements(ctx, q, c)
	if err == nil {
		c.ran = true
	}
	return err
}

// createStatements runs createOne's statements.
func (s *Store) createStatements(ctx context.Context, q DBTX, c *createReq) error {
	c.ids = make([]int64, len(c.stored))
	var err error
	c.msgID, err = s.insert(ctx, q, "INSERT INTO sys_push_messages ("+messageInsertColumns+") VALUES ("+
		placeholders(messageInsertCount)+")", s.messageArgs(c)...)
	if s.dialect.classify(err) == classDuplicate && c.dedupeKey != "" &&
		s.dialect.keyDuplicate(err, "sys_push_messages", "dedupe_key", "ux_sys_push_messages_dedupe_key") {
		return conflict(fmt.Sprintf("dedupe key %q exists", c.dedupeKey), err)
	}
	if err != nil {
		// A duplicate id (without a dedupe key, any duplicate is the
		// id's): on PostgreSQL, a sequence behind rows written with their
		// ids, which Migrate moves.
		return step("insert push message", err)
	}
	for i := range c.stored {
		if c.ids[i], err = s.insertDelivery(ctx, q, c.msgID, &c.stored[i], c.now); err != nil {
			return err
		}
	}
	if err := s.insertMessageUsers(ctx, q, c.msgID, c.m.UserNums); err != nil {
		return err
	}
	tallies, err := c.tallies()
	if err != nil {
		return err
	}
	if _, err = s.exec(ctx, q, "UPDATE sys_push_messages SET ios_tally = ?, android_tally = ? WHERE id = ?", append(tallies, c.msgID)...); err != nil {
		return step("write tallies", err)
	}
	if c.m.Fanout == nil {
		return nil
	}
	return s.writeFanout(ctx, q, c.msgID, c.m.Fanout)
}

// messageInsertColumns are the columns of a push message CreatePushMessage
// writes before its tallies, messageInsertCount of them (see messageArgs).
const (
	messageInsertColumns = `title, content, extra_params_string, push_type, dedupe_key, expire_at,
		ios_device_tokens, ios_task_id, ios_ret, ios_status, ios_response, ios_timestamp, is_send_ios,
		android_device_tokens, android_task_id, android_ret, android_status, android_response, android_timestamp, is_send_android,
		created_at, updated_at, push_class, push_overrides, trace_parent`
	messageInsertCount = 25
)

// messageArgs are the values of c's message of messageInsertColumns.
func (s *Store) messageArgs(c *createReq) []any {
	m := c.m
	args := make([]any, 0, messageInsertCount+3)
	args = append(args, m.Title, m.Content, m.Extra, m.PushType, nullIfEmpty(c.dedupeKey), s.nullTimeArg(m.ExpireAt))
	args = append(args, summaryArgs(c.ios)...)
	args = append(args, summaryArgs(c.android)...)
	return append(args, s.timeArg(c.now), s.timeArg(c.now), nullIfEmpty(m.Class), nullIfEmpty(m.Overrides), nullIfEmpty(m.TraceParent))
}

// tallies are the values of the ios_tally and android_tally columns of
// c's message, once c's ids are known: the tallies order deliveries by id.
func (c *createReq) tallies() ([]any, error) {
	withIDs := slices.Clone(c.stored)
	for i := range withIDs {
		withIDs[i].ID = c.ids[i]
	}
	var tallies []any
	for _, p := range []string{registry.PlatformIOS, registry.PlatformAndroid} {
		t := registry.NewTally(p, withIDs)
		t.Fanout = c.m.Fanout != nil
		enc, err := encodeTally(t)
		if err != nil {
			return nil, err
		}
		tallies = append(tallies, enc)
	}
	return tallies, nil
}

// insertDelivery inserts d as a delivery of message msgID and returns its
// id. d's idempotency key is stored without trailing spaces; a key that
// exists already is an ErrConflict.
func (s *Store) insertDelivery(ctx context.Context, q DBTX, msgID int64, d *registry.Delivery, now time.Time) (int64, error) {
	id, err := s.insert(ctx, q, "INSERT INTO sys_push_deliveries ("+deliveryInsertColumns+") VALUES ("+placeholders(deliveryInsertCount)+")",
		s.deliveryArgs(msgID, d, now)...)
	if s.dialect.classify(err) == classDuplicate &&
		s.dialect.keyDuplicate(err, "sys_push_deliveries", "idempotency_key", "ux_sys_push_deliveries_idempotency_key") {
		return 0, conflict(fmt.Sprintf("idempotency key %q exists", unpad(d.IdempotencyKey)), err)
	}
	return id, step("insert delivery", err)
}

// deliveryInsertColumns are the columns of a delivery insertDelivery
// writes, deliveryInsertCount of them (see deliveryArgs).
const (
	deliveryInsertColumns = `push_message_id, provider, platform, seq, audience, tokens,
		idempotency_key, state, attempts, next_attempt_at, expire_at, receipt_id, pollable, vendor_state, ret, response,
		error_kind, error_code, sent_at, claim_token, lease_until, created_at, updated_at`
	deliveryInsertCount = 23
)

// deliveryArgs are the values of deliveryInsertColumns of d, a delivery of
// message msgID created at now.
func (s *Store) deliveryArgs(msgID int64, d *registry.Delivery, now time.Time) []any {
	return []any{msgID, d.Provider, d.Platform, d.Seq, d.Audience, strings.Join(d.Tokens, ","),
		unpad(d.IdempotencyKey), string(d.State), d.Attempts, s.timeArg(d.NextAttemptAt), s.nullTimeArg(d.ExpireAt),
		nullIfEmpty(d.ReceiptID), boolInt(d.Pollable), nullIfEmpty(d.VendorState), nullIfEmpty(d.Ret), nullIfEmpty(d.Response),
		nullIfEmpty(d.ErrorKind), nullIfEmpty(d.ErrorCode), s.nullTimeArg(d.SentAt), nullIfEmpty(d.ClaimToken),
		s.nullTimeArg(d.LeaseUntil), s.timeArg(now), s.timeArg(now)}
}

// normalizeDelivery cuts d's times to what the columns keep, so that the
// summary computed before the write is the one a later read computes.
func (s *Store) normalizeDelivery(d registry.Delivery) registry.Delivery {
	d.NextAttemptAt = s.usec(d.NextAttemptAt)
	d.ExpireAt = s.usecPtr(d.ExpireAt)
	d.SentAt = s.usecPtr(d.SentAt)
	d.LeaseUntil = s.usecPtr(d.LeaseUntil)
	return d
}

func (s *Store) usecPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	u := s.usec(*t)
	return &u
}

// GetPushMessage implements registry.PushMessages. An id outside the INT
// column is ErrNotFound without a query.
func (s *Store) GetPushMessage(ctx context.Context, id int64) (registry.PushMessage, error) {
	if s.unbuilt() {
		return registry.PushMessage{}, notBuilt("Store.GetPushMessage")
	}
	const op = "GetPushMessage"
	if !s.intID(id) {
		return registry.PushMessage{}, wrap(op, notFound("push message", id))
	}
	var m registry.PushMessage
	err := s.queryRow(ctx, s.q, "SELECT "+s.selectList(messageColumns)+" FROM sys_push_messages WHERE id = ?", id).Scan(s.messageDest(&m)...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.PushMessage{}, wrap(op, notFound("push message", id))
	case err != nil:
		return registry.PushMessage{}, wrap(op, step("select push message", err))
	}
	return m, nil
}

// GetPushMessageByDedupeKey implements registry.PushMessages. The key is
// compared without trailing spaces; the empty key names no message: it is
// ErrNotFound.
func (s *Store) GetPushMessageByDedupeKey(ctx context.Context, key string) (registry.PushMessage, error) {
	if s.unbuilt() {
		return registry.PushMessage{}, notBuilt("Store.GetPushMessageByDedupeKey")
	}
	const op = "GetPushMessageByDedupeKey"
	if key = unpad(key); key == "" {
		return registry.PushMessage{}, wrap(op, notFound("dedupe key", `""`))
	}
	var m registry.PushMessage
	err := s.queryRow(ctx, s.q, "SELECT "+s.selectList(messageColumns)+" FROM sys_push_messages WHERE dedupe_key = ?", key).Scan(s.messageDest(&m)...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.PushMessage{}, wrap(op, notFound("dedupe key", fmt.Sprintf("%q", key)))
	case err != nil:
		return registry.PushMessage{}, wrap(op, step("select push message", err))
	}
	return m, nil
}

// ListDeliveries implements registry.PushMessages. An unknown message has
// no deliveries: the result is empty, not an error (an id outside the INT
// column without a query).
func (s *Store) ListDeliveries(ctx context.Context, pushMessageID int64) ([]registry.Delivery, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListDeliveries")
	}
	const op = "ListDeliveries"
	if !s.intID(pushMessageID) {
		return nil, nil
	}
	rows, err := s.query(ctx, s.q, s.deliveriesOfMessage(), pushMessageID)
	if err != nil {
		return nil, wrap(op, step("select deliveries", err))
	}
	ds, err := s.scanDeliveries(rows)
	if err != nil {
		return nil, wrap(op, step("select deliveries", err))
	}
	return ds, nil
}

// FinishDelivery implements registry.PushMessages. In one transaction it
// locks the delivery's push message row, writes the delivery's outcome
// guarded by d.ClaimToken, and brings the message's summary of that
// platform up to date through its tally (registry.Tally, in the
// <platform>_tally column): the delivery's previous outcome is taken out
// of it and the new one put in, so that a finish costs the same whatever
// the size of the push. The other deliveries are read only when the tally
// is NULL (rows written before migration 0004, or by other programs) or
// cannot follow the change (see registry.Tally.Update), and then without
// their tokens or responses; device_tokens is neither read nor written,
// since only a split changes it. Finishes of one message's deliveries
// take turns on the message row, so each one updates the tally the
// previous one wrote. The token alone guards the write: a lease that ran
// out without anybody re-claiming the row still lets its holder finish it.
// An unknown delivery or an empty token is ErrClaimLost. A delivery whose
// push message another program deleted, or whose platform another program
// set to neither ios nor android, gets its outcome written all the same,
// with no summary to keep, so that it does not stay claimed.
//
// Concurrent finishes on one Store are written together: a caller that
// finds no write under way (on MySQL and PostgreSQL, fewer than four)
// writes the outcomes queued, up to 512 a transaction, with statements
// for the whole batch (see finishSet), on the batch's own 30-second clock,
// until its own is written, and leaves the rest queued to a writer that
// takes its place; the others wait for their result or their ctx, and an
// outcome whose caller gave up is still written. A batch whose
// transaction fails is written again one outcome per transaction, so that
// one bad row fails alone. Inside WithTx each finish is written at once,
// in the host's transaction.
//
// registry.ValidateDeliveryOutcome checks the outcome before anything is
// written: State (pending, accepted, done or failed), Attempts (an INT),
// ReceiptID, VendorState, Ret, ErrorKind, ErrorCode and RetryToken (UTF-8,
// at most 255 characters) and Response (UTF-8, at most
// registry.MaxMediumText bytes).
// Nothing is truncated: vendor text must be sanitized by the caller.
func (s *Store) FinishDelivery(ctx context.Context, d *registry.Delivery) error {
	if s.unbuilt() {
		return notBuilt("Store.FinishDelivery")
	}
	const op = "FinishDelivery"
	if err := registry.ValidateDeliveryOutcome(d); err != nil {
		return wrap(op, err)
	}
	if d.ClaimToken == "" {
		return wrap(op, claimLost("delivery", d.ID))
	}
	out := s.normalizeDelivery(*d)
	var err error
	if s.begin == nil {
		// Inside the host's transaction: written there, at once.
		errs := make([]error, 1)
		if err = s.finishAll(ctx, s.q, []*groupReq[*registry.Delivery]{{v: &out}}, errs); err == nil {
			err = errs[0]
		}
	} else {
		err = s.finishQueued(ctx, &out)
	}
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// claimedRow is what finishClaimed read before its write: the delivery's
// identity and the fields its summary depends on (no tokens, no response),
// and the tally of its platform (NULL when the message has none).
type claimedRow struct {
	old   registry.Delivery
	tally sql.NullString
}

// finishClaimed locks the push message of the delivery d names and writes
// d's outcome with state, releasing the claim, only while d.ClaimToken
// holds the delivery: otherwise ErrClaimLost. It returns the delivery as
// it was before the write, and the message's tally of its platform.
//
// The delivery is read before the message is locked; what it read is
// still what is stored when the guarded write succeeds, because every
// write of those fields (a finish, a split) releases the claim.
func (s *Store) finishClaimed(ctx context.Context, q DBTX, d *registry.Delivery, state registry.DeliveryState, now any) (claimedRow, error) {
	var row claimedRow
	var err error
	if row.old, err = s.readFinishing(ctx, q, d.ID); err != nil {
		return row, err
	}
	if !summarized(row.old.Platform) {
		return row, invalid("delivery.platform", "delivery %d has platform %q, which no summary of its push keeps", d.ID, row.old.Platform)
	}
	if row.tally, err = s.lockTally(ctx, q, row.old.PushMessageID, row.old.Platform); err != nil {
		return row, err
	}
	return row, s.writeOutcome(ctx, q, d, state, now)
}

// finishingColumns are the columns of a delivery read before its outcome
// is written (readFinishing, readFinishingSet).
const finishingColumns = "push_message_id, provider, platform, seq, state, vendor_state, receipt_id, sent_at"

// scanFinishing scans finishingColumns, after the destinations of lead,
// into old. Numbers another program wrote as text read as 0 and an
// unreadable sent_at as the zero time, so that such a row still gets its
// outcome written.
func (s *Store) scanFinishing(row interface{ Scan(...any) error }, old *registry.Delivery, lead ...any) error {
	var state string
	var msgID int
	var unread readProblems
	err := row.Scan(append(lead, lenientInt{"push_message_id", &msgID, &unread}, &old.Provider, &old.Platform,
		lenientInt{"seq", &old.Seq, &unread}, &state, zeroIfNull(&old.VendorState), zeroIfNull(&old.ReceiptID),
		s.wallPtr("sent_at", &old.SentAt, &unread))...)
	old.PushMessageID, old.State = int64(msgID), registry.DeliveryState(state)
	old.Platform = foreignPlatform(old.Platform)
	return err
}

// foreignPlatform reads a delivery's platform as the Store writes it
// (lowercase, no spaces) when another program wrote it otherwise: " IOS"
// is ios, whose summary its outcome then updates.
func foreignPlatform(platform string) string {
	if p := strings.ToLower(strings.TrimSpace(platform)); summarized(p) {
		return p
	}
	return platform
}

// splitTokens splits a delivery's comma-joined tokens, dropping the blanks
// and spaces another program may have left between them.
func splitTokens(joined string) []string {
	toks := strings.Split(joined, ",")
	out := toks[:0]
	for _, t := range toks {
		if t = strings.TrimSpace(t); t != "" {
			out = append(out, t)
		}
	}
	return out
}

// summarized reports whether a delivery of platform has a summary in its
// push message's columns: ios or android. A platform another program wrote
// has none; such a delivery's outcome is written all the same.
func summarized(platform string) bool {
	return platform == registry.PlatformIOS || platform == registry.PlatformAndroid
}

// readFinishing reads what the summary needs of the delivery id before its
// outcome is written: its identity, state, vendor state, receipt and send
// time. An unknown id is ErrClaimLost.
func (s *Store) readFinishing(ctx context.Context, q DBTX, id int64) (registry.Delivery, error) {
	var old registry.Delivery
	err := s.scanFinishing(s.queryRow(ctx, q, "SELECT "+s.selectList(finishingColumns)+" FROM sys_push_deliveries WHERE id = ?", id), &old)
	old.ID = id
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return old, claimLost("delivery", id)
	case err != nil:
		return old, step("select delivery", err)
	}
	return old, nil
}

// lockTally locks the push message msgID (on SQLite the transaction holds
// the database's write lock already) and reads its tally of platform.
func (s *Store) lockTally(ctx context.Context, q DBTX, msgID int64, platform string) (sql.NullString, error) {
	var locked int64
	var tally sql.NullString
	if err := s.queryRow(ctx, q, "SELECT id, "+platform+"_tally FROM sys_push_messages WHERE id = ?"+s.dialect.forUpdate(),
		msgID).Scan(&locked, &tally); err != nil {
		return tally, step("lock push message", err)
	}
	return tally, nil
}

// writeOutcome writes d's outcome with state and releases the claim, only
// while d.ClaimToken holds the delivery: otherwise ErrClaimLost.
func (s *Store) writeOutcome(ctx context.Context, q DBTX, d *registry.Delivery, state registry.DeliveryState, now any) error {
	res, err := s.exec(ctx, q, `UPDATE sys_push_deliveries SET state = ?, attempts = ?, next_attempt_at = ?, receipt_id = ?,
		pollable = ?, vendor_state = ?, ret = ?, response = ?, error_kind = ?, error_code = ?, sent_at = ?,
		claim_token = NULL, lease_until = NULL, updated_at = ?, retry_token = ?
		WHERE id = ? AND claim_token = ?`,
		string(state), d.Attempts, s.timeArg(d.NextAttemptAt), nullIfEmpty(d.ReceiptID), boolInt(d.Pollable),
		nullIfEmpty(d.VendorState), nullIfEmpty(d.Ret), nullIfEmpty(d.Response), nullIfEmpty(d.ErrorKind),
		nullIfEmpty(d.ErrorCode), s.nullTimeArg(d.SentAt), now, nullIfEmpty(d.RetryToken), d.ID, d.ClaimToken)
	if err != nil {
		return step("update delivery", err)
	}
	if n, err := affected(res); err != nil {
		return err
	} else if n == 0 {
		return claimLost("delivery", d.ID)
	}
	return nil
}

// outcomeChange is one delivery's summary fields before and after a write.
type outcomeChange struct{ old, nw *registry.Delivery }

// writeSummary applies changes, in order, to the stored tally of platform
// of message msgID (rebuilding it from the deliveries, whose writes are
// done, when it is missing or cannot be updated), and writes the summary
// columns and the tally.
func (s *Store) writeSummary(ctx context.Context, q DBTX, msgID int64, platform string, stored sql.NullString, changes []outcomeChange, now any) error {
	t, err := s.nextTally(ctx, q, msgID, platform, stored, changes)
	if err != nil {
		return err
	}
	enc, err := encodeTally(t)
	if err != nil {
		return err
	}
	args := append(outcomeArgs(t.Summary("")), enc, now, msgID)
	_, err = s.exec(ctx, q, "UPDATE sys_push_messages SET "+outcomeSet(platform)+", updated_at = ? WHERE id = ?", args...)
	return step("update summary", err)
}

// nextTally is the stored tally of platform of message msgID with changes
// applied, in order; it is rebuilt from the deliveries, whose writes are
// done, when it is missing or cannot be updated.
func (s *Store) nextTally(ctx context.Context, q DBTX, msgID int64, platform string, stored sql.NullString, changes []outcomeChange) (registry.Tally, error) {
	var t registry.Tally
	ok := stored.Valid && json.Unmarshal([]byte(stored.String), &t) == nil
	for _, c := range changes {
		ok = ok && t.Update(c.old, c.nw)
	}
	if ok {
		return t, nil
	}
	t, err := s.tallyOf(ctx, q, msgID, platform)
	if err != nil {
		return t, err
	}
	t.Fanout, err = s.fanoutOpen(ctx, q, msgID)
	return t, err
}

// fanoutOpen reports whether message msgID, which the caller has locked,
// has a fanout going on (registry.Fanouts): its summary then says pending
// and holds no tokens yet.
func (s *Store) fanoutOpen(ctx context.Context, q DBTX, msgID int64) (bool, error) {
	var claim sql.NullString
	if err := s.queryRow(ctx, q, "SELECT fanout_claim FROM sys_push_messages WHERE id = ?", msgID).Scan(&claim); err != nil {
		return false, step("read fanout", err)
	}
	return claim.Valid, nil
}

// tallyOf computes the tally of platform of message msgID from its
// deliveries, reading neither their tokens nor their responses: only the
// response of the latest sent one, which the summary shows.
func (s *Store) tallyOf(ctx context.Context, q DBTX, msgID int64, platform string) (registry.Tally, error) {
	rows, err := s.query(ctx, q, "SELECT "+s.selectList("id, provider, seq, state, vendor_state, receipt_id, sent_at")+
		" FROM sys_push_deliveries WHERE push_message_id = ? AND platform = ?", msgID, platform)
	if err != nil {
		return registry.Tally{}, step("select deliveries", err)
	}
	var ds []registry.Delivery
	err = func() error {
		defer rows.Close()
		for rows.Next() {
			d := registry.Delivery{PushMessageID: msgID, Platform: platform}
			var state string
			var unread readProblems // an unreadable sent_at reads as the zero time
			if err := rows.Scan(&d.ID, &d.Provider, &d.Seq, &state, zeroIfNull(&d.VendorState), zeroIfNull(&d.ReceiptID),
				s.wallPtr("sent_at", &d.SentAt, &unread)); err != nil {
				return err
			}
			d.State = registry.DeliveryState(state)
			ds = append(ds, d)
		}
		return rows.Err()
	}()
	if err != nil {
		return registry.Tally{}, step("select deliveries", err)
	}
	t := registry.NewTally(platform, ds)
	if t.Latest != nil {
		var response string
		if err := s.queryRow(ctx, q, "SELECT response FROM sys_push_deliveries WHERE id = ?", t.Latest.Key.ID).
			Scan(zeroIfNull(&response)); err != nil {
			return registry.Tally{}, step("select response", err)
		}
		t.Latest.Response = registry.Clip(response, registry.MaxVarchar)
	}
	return t, nil
}

// tokensLimit is the most bytes of tokens a summary column takes on this
// database: registry.MaxTokensText, and on MySQL less when the server's
// max_allowed_packet would refuse the statement that writes them (16 MiB
// by default, MEDIUMTEXT's size: the summary is then cut 1 MiB short of
// it, room for the rest of the statement).
func (s *Store) tokensLimit(ctx context.Context, q DBTX) (int, error) {
	if s.dialect != DialectMySQL {
		return registry.MaxTokensText, nil
	}
	var packet int64
	if err := s.queryRow(ctx, q, "SELECT @@max_allowed_packet").Scan(&packet); err != nil {
		return 0, step("read max_allowed_packet", err)
	}
	return int(max(min(int64(registry.MaxTokensText), packet-1<<20), 0)), nil
}

// refreshSummary re-reads the deliveries of platform of message msgID,
// tokens included, and writes their registry.Summarize and their tally to
// the message, which the caller has locked: what a split does, and the end
// of a fanout, the writes that change device_tokens after creation. With
// limit < 0, a summary whose tokens would not fit its column is an
// ErrInvalid; otherwise its tokens are cut to limit bytes
// (registry.ClipTokens; see tokensLimit). With fanout (the message's
// fanout goes on), the summary says pending and holds no tokens, as
// AddDeliveries writes it.
func (s *Store) refreshSummary(ctx context.Context, q DBTX, msgID int64, platform string, now any, limit int, fanout bool) error {
	set, args, err := s.summaryUpdate(ctx, q, msgID, platform, limit, fanout)
	if err != nil {
		return err
	}
	_, err = s.exec(ctx, q, "UPDATE sys_push_messages SET "+set+", updated_at = ? WHERE id = ?", append(args, now, msgID)...)
	return step("update summary", err)
}

// summaryUpdate is refreshSummary's SET clause (summary and tally
// columns of platform) and its arguments, for a caller that writes them
// with other columns of the message in one UPDATE. On SQLite every UPDATE
// rewrites the whole row, device_tokens of both platforms included, so
// the end of a large fanout writes its tokens once, not once a column.
func (s *Store) summaryUpdate(ctx context.Context, q DBTX, msgID int64, platform string, limit int, fanout bool) (string, []any, error) {
	rows, err := s.query(ctx, q, s.deliveriesOfPlatform(), msgID, platform)
	if err != nil {
		return "", nil, step("select deliveries", err)
	}
	ds, err := s.scanDeliveries(rows)
	if err != nil {
		return "", nil, step("select deliveries", err)
	}
	sum := registry.Summarize(platform, ds)
	if limit >= 0 {
		sum.DeviceTokens = registry.ClipTokens(sum.DeviceTokens, limit)
	}
	if err := tooManyTokens(platform, sum); err != nil {
		return "", nil, err
	}
	t := registry.NewTally(platform, ds)
	if t.Fanout = fanout; t.Fanout {
		sum = t.Summary("") // pending, its tokens written when the fanout ends
	}
	enc, err := encodeTally(t)
	if err != nil {
		return "", nil, err
	}
	return summarySet(platform) + ", " + platform + "_tally = ?", append(summaryArgs(sum), enc), nil
}
