package sqlstore

import (
	"context"
	"slices"
	"strings"

	"github.com/tuisong/push/registry"
)

// The read-only queries of registry.Reads.

// prefixedList is selectList for the columns cols of the table aliased
// alias: each column is qualified, and time columns read as text.
func (s *Store) prefixedList(alias, cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		name := alias + "." + strings.TrimSpace(p)
		if slices.Contains(timeColumns, strings.TrimSpace(p)) {
			name = s.timeText(name)
		}
		parts[i] = name
	}
	return strings.Join(parts, ", ")
}

// userDevicesQuery selects every link of a user with its device, through
// the index on sys_user_devices (user_num, state).
func (s *Store) userDevicesQuery() string {
	return "SELECT " + s.prefixedList("l", linkColumns) + ", " + s.prefixedList("d", deviceColumns) +
		" FROM sys_user_devices l LEFT JOIN sys_devices d ON d.id = l.device_id WHERE l.user_num = ? ORDER BY l.id"
}

// ListUserDevices implements registry.Reads. A NULL column of either row
// reads as its zero value, a time the Store cannot read as the zero time
// (named in DeviceLink.Unreadable, prefixed "device." for the device's),
// and a link whose device is missing has a zero Device.
func (s *Store) ListUserDevices(ctx context.Context, userNum string) ([]registry.DeviceLink, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListUserDevices")
	}
	const op = "ListUserDevices"
	if err := registry.ValidateUserNum(userNum); err != nil {
		return nil, wrap(op, err)
	}
	rows, err := s.query(ctx, s.q, s.userDevicesQuery(), unpad(userNum))
	if err != nil {
		return nil, wrap(op, step("select links", err))
	}
	defer rows.Close()
	var out []registry.DeviceLink
	for rows.Next() {
		var dl registry.DeviceLink
		var bad, devBad readProblems
		var state, deviceID int
		l, d := &dl.Link, &dl.Device
		err := rows.Scan(&l.ID, zeroIfNull(&l.UserNum), lenientInt{"device_id", &deviceID, &bad}, lenientInt{"state", &state, &bad},
			s.wall("created_at", &l.CreatedAt, &bad), s.wall("updated_at", &l.UpdatedAt, &bad),
			zeroIfNull(&d.ID), zeroIfNull(&d.UUID), zeroIfNull(&d.Platform), zeroIfNull(&d.PushToken), zeroIfNull(&d.PushPlatform),
			zeroIfNull(&d.Name), zeroIfNull(&d.OS), zeroIfNull(&d.OSVersion), zeroIfNull(&d.Alias),
			s.wallPtr("token_disabled_at", &d.TokenDisabledAt, &devBad), zeroIfNull(&d.TokenDisabledReason),
			s.wall("created_at", &d.CreatedAt, &devBad), s.wall("updated_at", &d.UpdatedAt, &devBad))
		if err != nil {
			return nil, wrap(op, step("read link", err))
		}
		// The product brief's state: 1 is active, anything else (0, NULL)
		// not; see scanLink.
		l.DeviceID = int64(deviceID)
		l.Active = state == 1
		for _, r := range devBad.reasons {
			bad.reasons = append(bad.reasons, "device."+r)
		}
		dl.Unreadable = bad.String()
		out = append(out, dl)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, step("select links", err))
	}
	rows.Close() // before the next query, which may be on the same connection
	var active []int64
	for _, dl := range out {
		if dl.Link.Active && dl.Device.ID != 0 {
			active = append(active, dl.Link.ID)
		}
	}
	if len(active) == 0 {
		return out, nil
	}
	superseded, err := s.shadowed(ctx, active)
	if err != nil {
		return nil, wrap(op, step("check newer links and holders", err))
	}
	for i := range out {
		out[i].Superseded = superseded[out[i].Link.ID]
	}
	return out, nil
}

// retExpr is a Ret column as registry.PushState compares it: in upper case
// without surrounding spaces, "" for NULL. A Ret other than the four values
// matches none of the conditions of stateCondition, as PushState ignores
// it.
func retExpr(col string) string { return "UPPER(TRIM(COALESCE(" + col + ", '')))" }

// stateCondition is the SQL condition on the message alias m of
// registry.PushState(m) == state, for one of registry.PushStates.
func stateCondition(state string) string {
	i, a := retExpr("m.ios_ret"), retExpr("m.android_ret")
	either := func(v string) string { return "(" + i + " = '" + v + "' OR " + a + " = '" + v + "')" }
	switch state {
	case registry.PushStatePending:
		return either(registry.RetPending)
	case registry.PushStatePartial:
		return "NOT " + either(registry.RetPending) + " AND (" + either(registry.RetPartial) +
			" OR (" + either(registry.RetSuccess) + " AND " + either(registry.RetFail) + "))"
	case registry.PushStateSuccess:
		return either(registry.RetSuccess) + " AND NOT " + either(registry.RetPending) + " AND NOT " + either(registry.RetPartial) +
			" AND NOT " + either(registry.RetFail)
	default: // registry.PushStateFailed, checked by the caller
		return either(registry.RetFail) + " AND NOT " + either(registry.RetPending) + " AND NOT " + either(registry.RetPartial) +
			" AND NOT " + either(registry.RetSuccess)
	}
}

// comparableTime is the condition that the time column col holds a value
// the database compares as a time: not PostgreSQL's infinities, and on
// SQLite text that starts with a date (other text sorts after every
// date). A range never matches another value. MySQL compares every
// DATETIME it holds as a date.
func (s *Store) comparableTime(col string) string {
	switch s.dialect {
	case DialectPostgres:
		return " AND isfinite(" + col + ")"
	case DialectSQLite:
		return " AND " + col + " GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
	}
	return ""
}

// pushMessagesQuery is the statement of one page of q, limit rows. With a
// user it is driven by the index on sys_push_message_users (user_num,
// push_message_id), read backwards from the cursor, and joins messages by
// id; without, by the primary key of sys_push_messages. The time range
// and the state are checked on the rows the index hands out.
func (s *Store) pushMessagesQuery(q registry.PushMessageQuery, limit int) (string, []any) {
	var b strings.Builder
	var args []any
	b.WriteString("SELECT " + s.prefixedList("m", messageColumns))
	key := "m.id"
	if q.UserNum != "" {
		key = "u.push_message_id"
		b.WriteString(" FROM sys_push_message_users u JOIN sys_push_messages m ON m.id = u.push_message_id WHERE u.user_num = ?")
		args = append(args, unpad(q.UserNum))
	} else {
		b.WriteString(" FROM sys_push_messages m WHERE 1 = 1")
	}
	// No message has an id beyond the INT column, and PostgreSQL would
	// refuse to compare with such a cursor: it selects every message (on
	// SQLite the ids are 64 bits: see intID).
	if q.BeforeID > 0 && s.intID(q.BeforeID) {
		b.WriteString(" AND " + key + " < ?")
		args = append(args, q.BeforeID)
	}
	if !q.Since.IsZero() || !q.Until.IsZero() {
		b.WriteString(s.comparableTime("m.created_at"))
	}
	if !q.Since.IsZero() {
		b.WriteString(" AND m.created_at >= ?")
		args = append(args, s.timeArg(q.Since))
	}
	if !q.Until.IsZero() {
		b.WriteString(" AND m.created_at < ?")
		args = append(args, s.timeArg(q.Until))
	}
	if q.State != "" {
		b.WriteString(" AND " + stateCondition(q.State))
	}
	b.WriteString(" ORDER BY " + key + " DESC LIMIT ?")
	return b.String(), append(args, limit)
}

// ListPushMessages implements registry.Reads. Pushes are found by user
// through sys_push_message_users, which CreatePushMessage writes (migration
// 0008). The time range compares created_at, a wall-clock time in the
// Store's Location.
func (s *Store) ListPushMessages(ctx context.Context, q registry.PushMessageQuery) ([]registry.PushMessage, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListPushMessages")
	}
	const op = "ListPushMessages"
	if err := registry.ValidatePushMessageQuery(q); err != nil {
		return nil, wrap(op, err)
	}
	query, args := s.pushMessagesQuery(q, q.PageLimit())
	rows, err := s.query(ctx, s.q, query, args...)
	if err != nil {
		return nil, wrap(op, step("select push messages", err))
	}
	defer rows.Close()
	var out []registry.PushMessage
	for rows.Next() {
		var m registry.PushMessage
		if err := rows.Scan(s.messageDest(&m)...); err != nil {
			return nil, wrap(op, step("read push message", err))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, step("select push messages", err))
	}
	return out, nil
}

// IsPushMessageUser implements registry.Reads, through the index on
// sys_push_message_users (user_num, push_message_id).
func (s *Store) IsPushMessageUser(ctx context.Context, pushMessageID int64, userNum string) (bool, error) {
	if s.unbuilt() {
		return false, notBuilt("Store.IsPushMessageUser")
	}
	const op = "IsPushMessageUser"
	if !s.intID(pushMessageID) || unpad(userNum) == "" {
		return false, nil
	}
	ok, err := s.count(ctx, s.q, pushMessageUserQuery, unpad(userNum), pushMessageID)
	if err != nil {
		return false, wrap(op, step("select push message user", err))
	}
	return ok, nil
}

const pushMessageUserQuery = "SELECT COUNT(*) FROM sys_push_message_users WHERE user_num = ? AND push_message_id = ?"

// insertMessageUsers records the users message msgID was addressed to,
// each once, without trailing spaces, a chunk of them per statement.
func (s *Store) insertMessageUsers(ctx context.Context, q DBTX, msgID int64, userNums []string) error {
	users := make([]string, 0, len(userNums))
	for _, u := range userNums {
		users = append(users, unpad(u))
	}
	slices.Sort(users)
	users = slices.Compact(users)
	for chunk := range slices.Chunk(users, listChunk) {
		args := make([]any, 0, 2*len(chunk))
		values := make([]string, len(chunk))
		for i, u := range chunk {
			values[i] = "(?, ?)"
			args = append(args, msgID, u)
		}
		if _, err := s.exec(ctx, q, "INSERT INTO sys_push_message_users (push_message_id, user_num) VALUES "+
			strings.Join(values, ", "), args...); err != nil {
			return step("insert push message users", err)
		}
	}
	return nil
}
