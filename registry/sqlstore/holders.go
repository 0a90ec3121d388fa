package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"

	"github.com/tuisong/push/registry"
)

var _ registry.PushHolders = (*Store)(nil)

// holdersQuery is PushHolders' statement for up to listChunk tokens
// (distinctTokens) of the push pushMessageID. The tokens' devices (at
// most listChunk) must be able to lead the plan, not only the push's
// users: for a push to a large audience, SQLite read every device of
// every user of the push to find the few hundred of one delivery, and
// PostgreSQL scanned sys_devices (the figures are in the commit that
// made this). So on SQLite, which has no statistics, the tables are
// joined with CROSS JOIN, which it takes as their order; MySQL looks one
// indexed key up (tokenIs) and chooses by its statistics. PostgreSQL is
// given the devices' ids, which holderIDsQuery found first (ids, as one
// array; the tokens are not used): with the token lookups as a subquery of this
// statement, a table never analysed (a bulk load, autovacuum behind)
// estimated the push's users at a few rows and planned a scan of every
// device for each of them, minutes for a push to 25,000 users, during
// which the Scanner's pass waited; a list of ids is planned as the few
// rows it is.
func (d Dialect) holdersQuery(pushMessageID int64, tokens []string, ids []int64) (string, []any) {
	join := "JOIN"
	if d == DialectSQLite {
		join = "CROSS JOIN"
	}
	is, repeat := d.tokenIs("d", len(tokens))
	args := append([]any{pushMessageID}, tokenArgs(tokens, repeat, 0)...)
	if d == DialectPostgres {
		// One array, however many ids: a token many rows hold (a junk
		// value in adopted data) may name more devices than a statement
		// takes parameters (65,535).
		is = "d.id = ANY(?::bigint[])"
		args = []any{pushMessageID, int64Array(ids)}
	}
	return `SELECT ud.id, ud.user_num, d.id, d.platform, d.push_platform, d.push_device_token
			FROM sys_devices d
			` + join + ` sys_user_devices ud ON ud.device_id = d.id AND ud.state = 1
			` + join + ` sys_push_message_users pmu ON pmu.user_num = ud.user_num AND pmu.push_message_id = ?
			WHERE ` + is + ` AND d.token_disabled_at IS NULL
				AND ` + d.unshadowed(), args
}

// int64Array is ids as a PostgreSQL array literal, "{1,2,3}".
func int64Array(ids []int64) string {
	var b strings.Builder
	b.WriteByte('{')
	for i, id := range ids {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(id, 10))
	}
	b.WriteByte('}')
	return b.String()
}

// holderIDsQuery is PostgreSQL's first statement of PushHolders: the ids
// of the devices that hold tokens, with spaces around them or not (the
// two lookups of tokenIs, each by its index: joined with OR they were
// planned as a scan).
func holderIDsQuery(tokens []string) (string, []any) {
	list := " IN (" + placeholders(len(tokens)) + ")"
	q := "SELECT id FROM sys_devices WHERE push_device_token" + list + " UNION ALL " +
		"SELECT id FROM sys_devices WHERE " + spacedToken("push_device_token") + " AND TRIM(push_device_token)" + list
	return q, tokenArgs(tokens, 2, 0)
}

// PushHolders implements registry.PushHolders. The devices are found by
// token, with spaces around it or not (holdersQuery), and their active links
// joined to the push's users (sys_push_message_users); as in ListTargets,
// a link that a newer active link of its device shadows is no holder, nor
// is a device whose token a newer device holds, and a device whose
// platform is neither ios nor android is none. User nums are compared
// without trailing spaces.
func (s *Store) PushHolders(ctx context.Context, pushMessageID int64, tokens []string) ([]registry.Target, bool, error) {
	if s.unbuilt() {
		return nil, false, notBuilt("Store.PushHolders")
	}
	const op = "PushHolders"
	if !s.intID(pushMessageID) {
		return nil, false, nil // no such push: it has no user
	}
	toks := distinctTokens(tokens)
	var out []registry.Target
	var (
		linkID, deviceID                     int64
		userNum, platform, pushPlatform, tok sql.NullString
	)
	for chunk := range slices.Chunk(toks, listChunk) {
		var ids []int64
		if s.dialect == DialectPostgres {
			q, args := holderIDsQuery(chunk)
			var err error
			if ids, err = s.queryIDs(ctx, s.q, q, args...); err != nil {
				return nil, false, wrap(op, step("select the tokens' devices", err))
			}
			if len(ids) == 0 {
				continue // no device holds them
			}
		}
		query, args := s.dialect.holdersQuery(pushMessageID, chunk, ids)
		rows, err := s.query(ctx, s.q, query, args...)
		if err != nil {
			return nil, false, wrap(op, step("select holders", err))
		}
		for rows.Next() {
			if err := rows.Scan(&linkID, &userNum, &deviceID, &platform, &pushPlatform, &tok); err != nil {
				_ = rows.Close()
				return nil, false, wrap(op, step("scan holder", err))
			}
			p, ok := targetPlatform(platform.String)
			if !ok {
				continue
			}
			t := registry.Target{UserDeviceID: linkID, UserNum: unpad(userNum.String), DeviceID: deviceID, Platform: p,
				PushPlatform: unpad(pushPlatform.String), Token: strings.Trim(tok.String, " ")}
			if t.PushPlatform == "" {
				t.PushPlatform = registry.DefaultPushPlatform
			}
			out = append(out, t)
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return nil, false, wrap(op, step("select holders", err))
		}
	}
	if len(out) > 0 {
		return out, true, nil
	}
	var one int
	err := s.queryRow(ctx, s.q, "SELECT 1 FROM sys_push_message_users WHERE push_message_id = ?"+limitClause(1),
		pushMessageID).Scan(&one)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return nil, false, nil
	case err != nil:
		return nil, false, wrap(op, step("select push users", err))
	}
	return nil, true, nil
}
