package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/tuisong/push/registry"
)

const deviceColumns = `id, uuid, platform, push_device_token, push_platform, name, os, os_version, alias,
	token_disabled_at, token_disabled_reason, created_at, updated_at`

// scanDevice reads a sys_devices row of deviceColumns. Time values it
// cannot read read as the zero time and are noted in bad, never an error.
func (s *Store) scanDevice(row interface{ Scan(...any) error }, bad *readProblems) (registry.Device, error) {
	var d registry.Device
	err := row.Scan(&d.ID, zeroIfNull(&d.UUID), zeroIfNull(&d.Platform), zeroIfNull(&d.PushToken), zeroIfNull(&d.PushPlatform),
		zeroIfNull(&d.Name), zeroIfNull(&d.OS), zeroIfNull(&d.OSVersion), zeroIfNull(&d.Alias),
		s.wallPtr("token_disabled_at", &d.TokenDisabledAt, bad), zeroIfNull(&d.TokenDisabledReason),
		s.wall("created_at", &d.CreatedAt, bad), s.wall("updated_at", &d.UpdatedAt, bad))
	return d, err
}

const linkColumns = `id, user_num, device_id, state, created_at, updated_at`

// scanLink reads a sys_user_devices row. The product brief's state column is
// tinyint(1) DEFAULT 1: 1 is an active link, anything else (0, NULL in
// rows other programs wrote, text or a fraction on SQLite) an inactive one.
// Time values it cannot read read as the zero time, and a device_id or
// state that is no whole number as 0; both are noted in bad, never an
// error.
func (s *Store) scanLink(row interface{ Scan(...any) error }, bad *readProblems) (registry.UserDevice, error) {
	var l registry.UserDevice
	var state, deviceID int
	err := row.Scan(&l.ID, zeroIfNull(&l.UserNum), lenientInt{"device_id", &deviceID, bad}, lenientInt{"state", &state, bad},
		s.wall("created_at", &l.CreatedAt, bad), s.wall("updated_at", &l.UpdatedAt, bad))
	l.DeviceID, l.Active = int64(deviceID), state == 1
	return l, err
}

// RegisterDevice implements registry.Devices. It first locks the token it
// registers (see lockToken), so that registrations of one token take turns
// and each one's takeover sees every device the others saved. The device
// is then found by its unique (platform, uuid) with SELECT … FOR UPDATE,
// which locks its row until the transaction ends, so that concurrent
// registrations of one device take turns and the one-active-user rule
// holds; it is then updated
// in place, or inserted when it is new (see saveDevice). A re-registration
// therefore never draws an id from the AUTO_INCREMENT or sequence, which
// the product brief's int(11) id would run out of. The user's newest link to the
// device is reused (adopted tables may hold several); every other active
// link of the device is deactivated. An empty PushPlatform is stored as
// registry.DefaultPushPlatform; trailing spaces of UUID, PushPlatform and
// userNum are dropped. The token takeover matches other devices as
// DisableTokens does: platform in lower case without surrounding spaces,
// and, for the default push platform, rows whose push_platform is NULL or
// empty. d is not modified.
func (s *Store) RegisterDevice(ctx context.Context, d *registry.Device, userNum string) (registry.Device, registry.UserDevice, error) {
	if s.unbuilt() {
		return registry.Device{}, registry.UserDevice{}, notBuilt("Store.RegisterDevice")
	}
	dev, link, _, err := s.registerDevice(ctx, "RegisterDevice", d, userNum)
	return dev, link, err
}

// RegisterDeviceInserted is RegisterDevice that also reports whether this
// call inserted the device: false when it was stored already, also when a
// concurrent registration inserted it after this one had looked for it.
// pushctl's import counts with it the devices it imported, so that two
// imports of one file at once do not both count a device.
func (s *Store) RegisterDeviceInserted(ctx context.Context, d *registry.Device, userNum string) (registry.Device, registry.UserDevice, bool, error) {
	if s.unbuilt() {
		return registry.Device{}, registry.UserDevice{}, false, notBuilt("Store.RegisterDeviceInserted")
	}
	return s.registerDevice(ctx, "RegisterDeviceInserted", d, userNum)
}

func (s *Store) registerDevice(ctx context.Context, op string, d *registry.Device, userNum string) (registry.Device, registry.UserDevice, bool, error) {
	if err := registry.ValidateDevice(d, userNum); err != nil {
		return registry.Device{}, registry.UserDevice{}, false, wrap(op, err)
	}
	in := *d
	in.UUID, in.PushPlatform, userNum = unpad(in.UUID), unpad(in.PushPlatform), unpad(userNum)
	if in.PushPlatform == "" {
		in.PushPlatform = registry.DefaultPushPlatform
	}
	var dev registry.Device
	var link registry.UserDevice
	var inserted bool
	err := s.inTx(ctx, func(q DBTX) error {
		if err := s.lockToken(ctx, q, in.PushPlatform, in.Platform, in.PushToken); err != nil {
			return err
		}
		now := s.stamp()
		id, ins, err := s.saveDevice(ctx, q, &in, s.timeArg(now))
		inserted = ins
		if err != nil {
			return err
		}
		var bad readProblems
		if dev, err = s.getDevice(ctx, q, id, &bad); err != nil {
			return err
		}
		if bad.has("created_at") {
			// The write replaces a creation time nobody can read.
			// updated_at is set too, or the product brief's ON UPDATE
			// CURRENT_TIMESTAMP would set it to the server's clock.
			if _, err := s.exec(ctx, q, "UPDATE sys_devices SET created_at = ?, updated_at = ? WHERE id = ?", s.timeArg(now), s.timeArg(now), id); err != nil {
				return step("replace an unreadable created_at", err)
			}
			dev.CreatedAt = now
		}
		query, args := s.dialect.takeoverQuery(&dev, s.timeArg(now))
		if _, err = s.exec(ctx, q, query, args...); err != nil {
			return step("disable the token on other devices", err)
		}
		link, err = s.activateLink(ctx, q, dev.ID, userNum, now)
		return err
	})
	if err != nil {
		return registry.Device{}, registry.UserDevice{}, false, wrap(op, err)
	}
	return dev, link, inserted, nil
}

// findDevice selects the id of the device (platform, uuid), through the
// unique index on them.
const findDevice = "SELECT id FROM sys_devices WHERE platform = ? AND uuid = ?"

// findSpelledDevice selects the id of the newest device of uuid whose
// platform, as platformExpr reads it, is the one given: a row another
// program wrote with the platform spelled otherwise ("iOS", " android"),
// which findDevice misses. Through the index on uuid (migration 14).
const findSpelledDevice = "SELECT id FROM sys_devices WHERE uuid = ? AND " + platformExpr + " = ? ORDER BY id DESC LIMIT 1"

// saveDevice updates the device (platform, uuid), or the newest row of
// uuid whose platform is spelled otherwise, or inserts it, and returns
// its id and whether it inserted it. alias is set on insert only: the
// registration API does not carry it, and a host may have set it by other
// means.
//
// The row is looked up first, locked, and updated by id, so that a known
// device draws no id: INSERT … ON DUPLICATE KEY UPDATE (MySQL) and INSERT
// … ON CONFLICT (PostgreSQL) each draw one even when they do not insert.
// Only a device that was not found is inserted. When two first
// registrations of one device race, both find nothing and both insert:
// the unique key makes the second wait for the first, which costs one id
// (for a lost race, not for every registration). On MySQL the second's
// upsert then updates the first's row in the same statement (a plain
// INSERT would fail there instead, and on InnoDB the loser, holding the
// shared lock of its duplicate-key check, would deadlock with the other
// losers when it went on to lock the row); its update sets LAST_INSERT_ID
// to the id plus dupMark, which tells it from an insert whatever the
// DSN's clientFoundRows. On PostgreSQL and SQLite the second's ON
// CONFLICT DO NOTHING inserts nothing, and it finds the first's row,
// committed by then, and updates it.
func (s *Store) saveDevice(ctx context.Context, q DBTX, d *registry.Device, now any) (int64, bool, error) {
	insert := `INSERT INTO sys_devices (uuid, platform, push_device_token, push_platform, name, os, os_version, alias, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	args := []any{d.UUID, d.Platform, d.PushToken, d.PushPlatform, d.Name, d.OS, d.OSVersion, nullIfEmpty(d.Alias), now, now}
	for range 3 {
		var id int64
		err := s.queryRow(ctx, q, findDevice+s.dialect.forUpdate(), d.Platform, d.UUID).Scan(&id)
		if errors.Is(err, sql.ErrNoRows) {
			// The phone may be on a row another program wrote, its
			// platform spelled otherwise: that row is updated (its
			// spelling kept, for the program that wrote it), so that
			// the phone's previous user is logged out of it.
			err = s.queryRow(ctx, q, findSpelledDevice+s.dialect.forUpdate(), d.UUID, d.Platform).Scan(&id)
		}
		switch {
		case err == nil:
			_, err = s.exec(ctx, q, "UPDATE sys_devices SET "+deviceSet+" WHERE id = ?",
				d.PushToken, d.PushPlatform, d.Name, d.OS, d.OSVersion, now, id)
			return id, false, step("update device", err)
		case !errors.Is(err, sql.ErrNoRows):
			return 0, false, step("find device", err)
		}
		if s.dialect == DialectMySQL {
			mark := strconv.FormatInt(dupMark, 10)
			id, err = s.insert(ctx, q, insert+" ON DUPLICATE KEY UPDATE "+deviceSet+", id = LAST_INSERT_ID(id + "+mark+") - "+mark,
				append(args, d.PushToken, d.PushPlatform, d.Name, d.OS, d.OSVersion, now)...)
			if err != nil {
				return 0, false, step("insert device", err)
			}
			if id >= dupMark {
				return id - dupMark, false, nil
			}
			return id, true, nil
		}
		err = s.queryRow(ctx, q, insert+" ON CONFLICT (platform, uuid) DO NOTHING RETURNING id", args...).Scan(&id)
		if !errors.Is(err, sql.ErrNoRows) {
			return id, err == nil, step("insert device", err)
		}
		// A concurrent registration inserted the device after the find;
		// it has committed, so the next find sees it.
	}
	return 0, false, step("insert device", errors.New("the device was inserted by another registration and is gone again"))
}

// dupMark is what saveDevice's upsert adds to the id it gives
// LAST_INSERT_ID when it updates: more than any id of the product brief's
// int(11), or of a BIGINT column short of 2^62 rows.
const dupMark = 1 << 62

// deviceSet is the SET list of a registration: what a device registers
// anew, and a token enabled again.
const deviceSet = `push_device_token = ?, push_platform = ?, name = ?, os = ?, os_version = ?,
	token_disabled_at = NULL, token_disabled_reason = NULL, updated_at = ?`

// takeoverQuery is the statement that disables dev's token on every other
// device of dev's (push platform, platform), held with spaces around it or
// not (tokenIs): index lookups on the token.
func (d Dialect) takeoverQuery(dev *registry.Device, now any) (string, []any) {
	cond, condArgs := tokenHolders(dev.PushPlatform, dev.Platform)
	is, repeat := d.tokenIs("", 1)
	args := append([]any{now, registry.TokenTakenOver, now}, tokenArgs([]string{strings.Trim(dev.PushToken, " ")}, repeat, 0)...)
	args = append(append(args, dev.ID), condArgs...)
	return `UPDATE sys_devices SET token_disabled_at = ?, token_disabled_reason = ?, updated_at = ?
		WHERE ` + is + ` AND id <> ? AND ` + cond, args
}

// tokenHolders is the condition, and its arguments, of the enabled devices
// of (pushPlatform, platform) that DisableTokens and the token takeover
// reach: the platform as platformExpr reads it, the push platform as
// pushPlatformExpr reads it ("Umeng" in rows other programs wrote is
// umeng's, as push.Service targets it), and for the default push platform
// also rows whose push_platform is NULL or empty, as ListTargets reads
// them.
//
// The names given are folded by the database's LOWER and TRIM too, as the
// column is: where LOWER folds more than ASCII (PostgreSQL, MySQL), a push
// platform such as "x\u212a" (a Kelvin sign) then reaches the rows that
// say "xk", as newerHolders, the listing's check, compares them.
func tokenHolders(pushPlatform, platform string) (string, []any) {
	pp := pushPlatformExpr + " = LOWER(TRIM(?))"
	if normPlatform(pushPlatform) == registry.DefaultPushPlatform {
		pp = "(" + pushPlatformExpr + " = LOWER(TRIM(?)) OR push_platform IS NULL OR " + pushPlatformExpr + " = '')"
	}
	return platformExpr + " = LOWER(TRIM(?)) AND " + pp + " AND token_disabled_at IS NULL", []any{platform, pushPlatform}
}

// activateLink makes userNum the only active user of device deviceID and
// returns the link.
func (s *Store) activateLink(ctx context.Context, q DBTX, deviceID int64, userNum string, now time.Time) (registry.UserDevice, error) {
	link := registry.UserDevice{UserNum: userNum, DeviceID: deviceID, Active: true, CreatedAt: now, UpdatedAt: now}
	nowArg := s.timeArg(now)
	var bad readProblems
	err := s.queryRow(ctx, q, "SELECT id, "+s.timeText("created_at")+" FROM sys_user_devices WHERE device_id = ? AND user_num = ? ORDER BY id DESC LIMIT 1",
		deviceID, userNum).Scan(&link.ID, s.wall("created_at", &link.CreatedAt, &bad))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		link.CreatedAt = now
		link.ID, err = s.insert(ctx, q, `INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at)
			VALUES (?, ?, 1, ?, ?)`, userNum, deviceID, nowArg, nowArg)
		if err != nil {
			return link, step("insert link", err)
		}
	case err != nil:
		return link, step("find link", err)
	default:
		set, args := "state = 1, updated_at = ?", []any{nowArg}
		if bad.has("created_at") {
			// The write replaces a creation time nobody can read.
			set, args, link.CreatedAt = set+", created_at = ?", append(args, nowArg), now
		}
		if _, err := s.exec(ctx, q, "UPDATE sys_user_devices SET "+set+" WHERE id = ?", append(args, link.ID)...); err != nil {
			return link, step("activate link", err)
		}
	}
	if _, err := s.exec(ctx, q, "UPDATE sys_user_devices SET state = 0, updated_at = ? WHERE device_id = ? AND id <> ? AND state = 1",
		nowArg, deviceID, link.ID); err != nil {
		return link, step("deactivate other links", err)
	}
	return link, nil
}

// GetDevice implements registry.Devices. An id outside the INT column is
// ErrNotFound without a query.
func (s *Store) GetDevice(ctx context.Context, id int64) (registry.Device, error) {
	if s.unbuilt() {
		return registry.Device{}, notBuilt("Store.GetDevice")
	}
	d, err := s.getDevice(ctx, s.q, id, &readProblems{})
	if err != nil {
		return registry.Device{}, wrap("GetDevice", err)
	}
	return d, nil
}

// getDevice reads the device with id; time values it cannot read are
// noted in bad.
func (s *Store) getDevice(ctx context.Context, q DBTX, id int64, bad *readProblems) (registry.Device, error) {
	if !s.intID(id) {
		return registry.Device{}, notFound("device", id)
	}
	d, err := s.scanDevice(s.queryRow(ctx, q, "SELECT "+s.selectList(deviceColumns)+" FROM sys_devices WHERE id = ?", id), bad)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Device{}, notFound("device", id)
	case err != nil:
		return registry.Device{}, step("select device", err)
	}
	return d, nil
}

// GetUserDevice implements registry.Devices. An id outside the INT column
// is ErrNotFound without a query.
func (s *Store) GetUserDevice(ctx context.Context, id int64) (registry.UserDevice, error) {
	if s.unbuilt() {
		return registry.UserDevice{}, notBuilt("Store.GetUserDevice")
	}
	l, err := s.getUserDevice(ctx, s.q, id)
	if err != nil {
		return registry.UserDevice{}, wrap("GetUserDevice", err)
	}
	return l, nil
}

func (s *Store) getUserDevice(ctx context.Context, q DBTX, id int64) (registry.UserDevice, error) {
	if !s.intID(id) {
		return registry.UserDevice{}, notFound("user device", id)
	}
	l, err := s.scanLink(s.queryRow(ctx, q, "SELECT "+s.selectList(linkColumns)+" FROM sys_user_devices WHERE id = ?", id), &readProblems{})
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.UserDevice{}, notFound("user device", id)
	case err != nil:
		return registry.UserDevice{}, step("select user device", err)
	}
	return l, nil
}

// DeactivateLink implements registry.Devices. user_num is compared in Go,
// without trailing spaces and otherwise exactly (case and every other
// character count), on every dialect. An id outside the INT column is
// ErrNotFound without a query.
func (s *Store) DeactivateLink(ctx context.Context, userNum string, userDeviceID int64) error {
	if s.unbuilt() {
		return notBuilt("Store.DeactivateLink")
	}
	const op = "DeactivateLink"
	if !s.intID(userDeviceID) {
		return wrap(op, notFound("user device", userDeviceID))
	}
	userNum = unpad(userNum)
	err := s.inTx(ctx, func(q DBTX) error {
		var bad readProblems
		l, err := s.scanLink(s.queryRow(ctx, q, "SELECT "+s.selectList(linkColumns)+" FROM sys_user_devices WHERE id = ?"+s.dialect.forUpdate(), userDeviceID), &bad)
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return notFound("user device", userDeviceID)
		case err != nil:
			return step("select user device", err)
		case unpad(l.UserNum) != userNum:
			return fmt.Errorf("user device %d: %w", userDeviceID, registry.ErrNotOwner)
		case !l.Active:
			return nil
		}
		now := s.timeArg(s.stamp())
		set, args := "state = 0, updated_at = ?", []any{now}
		if bad.has("created_at") {
			// The write replaces a creation time nobody can read.
			set, args = set+", created_at = ?", append(args, now)
		}
		_, err = s.exec(ctx, q, "UPDATE sys_user_devices SET "+set+" WHERE id = ?", append(args, userDeviceID)...)
		return step("deactivate link", err)
	})
	if err != nil {
		return wrap(op, err)
	}
	return nil
}

// listChunk bounds the number of values bound into one IN (…) list, well
// below every dialect's limit on placeholders.
const listChunk = 500

// ListTargets implements registry.Devices. A target is an active link
// (state = 1) to a device whose token is set and not disabled and whose
// platform, in lower case without surrounding spaces, is "ios" or
// "android" (Target.Platform says which). When adopted rows leave a device
// active for several links (the product brief's system logged the previous users
// out implicitly), only the device's newest active link is a target, so a
// push never reaches a previous user. A device without push_platform is on
// registry.DefaultPushPlatform. User nums are matched without trailing
// spaces. The query is driven by the index on (user_num, state) and joins
// devices by id; rows of other platforms, which only other programs write,
// are skipped and the page refilled from the rows after them. A negative
// q.Limit is an ErrInvalid for field "limit".
func (s *Store) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListTargets")
	}
	const op = "ListTargets"
	if q.Limit < 0 {
		return nil, wrap(op, invalid("limit", "must not be negative, got %d", q.Limit))
	}
	limit := q.Limit
	if limit == 0 {
		limit = registry.DefaultPageSize
	}
	users := make([]string, len(q.UserNums))
	for i, u := range q.UserNums {
		users[i] = unpad(u)
	}
	slices.Sort(users)
	users = slices.Compact(users)
	// No link has an id beyond the INT column, and PostgreSQL would refuse
	// to compare with such a cursor (on SQLite the ids are 64 bits: see
	// intID).
	after := q.AfterUserDeviceID
	if !s.intID(after) {
		if after > 0 {
			return nil, nil
		}
		after = math.MinInt32
	}
	if len(users) == 0 {
		return nil, nil
	}
	if len(users) <= listChunk {
		page, err := s.listTargets(ctx, users, after, limit, q.Census)
		if err != nil {
			return nil, wrap(op, err)
		}
		return page, nil // in order already
	}
	// Each chunk's first page holds every member of the overall first page
	// that comes from that chunk, so merging the chunks' pages and cutting
	// the result to limit gives the overall page.
	var page []registry.Target
	for chunk := range slices.Chunk(users, listChunk) {
		ts, err := s.listTargets(ctx, chunk, after, limit, q.Census)
		if err != nil {
			return nil, wrap(op, err)
		}
		page = append(page, ts...)
	}
	slices.SortFunc(page, func(a, b registry.Target) int { return cmp.Compare(a.UserDeviceID, b.UserDeviceID) })
	if len(page) > limit {
		page = page[:limit]
	}
	return page, nil
}

// samePushPlatform compares the push platforms of the devices holder and d
// as tokenHolders does: without case or surrounding spaces, NULL and empty
// as the default.
const samePushPlatform = `COALESCE(NULLIF(LOWER(TRIM(holder.push_platform)), ''), '` + registry.DefaultPushPlatform + `') =
	COALESCE(NULLIF(LOWER(TRIM(d.push_platform)), ''), '` + registry.DefaultPushPlatform + `')`

// targetsQuery is the statement of one page of targets of users. It is
// driven by the index on (user_num, state) and joins devices by id. A
// link that a newer active link of its device shadows is no target, nor is
// a device whose token a newer device holds (newerLink, newerHolders): with
// a census (checked) those checks are left to shadowed, for the few
// devices the census names. The platform is checked in Go
// (targetPlatform), not here: a condition on LOWER(TRIM(d.platform)) gets
// a planner's default selectivity of about 1%, which makes PostgreSQL
// start from the devices table instead.
func (d Dialect) targetsQuery(users []string, after int64, limit int, ordered, checked, byRange bool) (string, []any) {
	order := ""
	if ordered {
		order = " ORDER BY ud.id"
	}
	checks := ""
	if !checked {
		checks = " AND " + d.unshadowed()
	}
	cond := "ud.user_num IN (" + placeholders(len(users)) + ")"
	var args []any
	if byRange {
		cond = "ud.user_num COLLATE BINARY >= ? AND ud.user_num COLLATE BINARY <= ?"
		args = []any{users[0], users[len(users)-1]}
	} else {
		args = make([]any, 0, len(users)+1)
		for _, u := range users {
			args = append(args, u)
		}
	}
	query := `SELECT ud.id, ud.user_num, d.id, d.platform, d.push_platform, d.push_device_token
		FROM sys_user_devices ud
		JOIN sys_devices d ON d.id = ud.device_id
		WHERE ` + cond + `
			AND ud.state = 1 AND ud.id > ?
			AND d.push_device_token IS NOT NULL AND d.push_device_token <> '' AND d.token_disabled_at IS NULL` +
		checks + order + limitClause(limit)
	return query, append(args, after)
}

// newerLink holds for a link ud whose device has a newer active link:
// the device is the newer link's user's now.
const newerLink = `EXISTS (SELECT 1 FROM sys_user_devices newer
	WHERE newer.device_id = ud.device_id AND newer.state = 1 AND newer.id > ud.id)`

// newerHolders are the conditions, any of which holds for a device d
// whose token a newer device row of the same platform and push platform
// also holds, enabled (the takeover's scope), with spaces around it or
// not: the phone with that token is the newer row's (rows other programs
// wrote never had the token taken over as RegisterDevice takes it), and
// d's user must not be shown another user's pushes. On PostgreSQL and
// SQLite, one looks the trimmed token up as stored (the index on
// push_device_token), the other among the spaced tokens (the partial
// index, almost always empty); as two EXISTS, each planned on its own
// index. On MySQL the index on push_token_key finds both.
func (d Dialect) newerHolders() []string {
	rest := ` AND holder.id > d.id AND holder.token_disabled_at IS NULL
		AND LOWER(TRIM(holder.platform)) = LOWER(TRIM(d.platform))
		AND ` + samePushPlatform + `)`
	if d == DialectMySQL {
		return []string{`EXISTS (SELECT 1 FROM sys_devices holder WHERE holder.push_token_key = d.push_token_key` + rest}
	}
	return []string{
		`EXISTS (SELECT 1 FROM sys_devices holder WHERE holder.push_device_token = TRIM(d.push_device_token)` + rest,
		`EXISTS (SELECT 1 FROM sys_devices holder WHERE ` + spacedToken("holder.push_device_token") +
			` AND TRIM(holder.push_device_token) = TRIM(d.push_device_token)` + rest,
	}
}

// shadows are the conditions, any of which rules the link ud of device d
// out as a target: newerLink and newerHolders.
func (d Dialect) shadows() []string { return append([]string{newerLink}, d.newerHolders()...) }

// unshadowed is the condition that none of shadows holds: the link ud of
// device d is a target.
func (d Dialect) unshadowed() string { return "NOT " + strings.Join(d.shadows(), " AND NOT ") }

// shadowed returns which of the links (listed without their checks, for
// a census) one of shadows rules out.
func (s *Store) shadowed(ctx context.Context, links []int64) (map[int64]bool, error) {
	out := map[int64]bool{}
	err := queryIn(ctx, s, s.q, slices.Collect(slices.Chunk(links, listChunk)), func(in string) string {
		return `SELECT ud.id FROM sys_user_devices ud JOIN sys_devices d ON d.id = ud.device_id
			WHERE ud.id IN (` + in + `) AND (` + strings.Join(s.dialect.shadows(), " OR ") + `)`
	}, func(rows *sql.Rows) error {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return err
		}
		out[id] = true
		return nil
	})
	return out, step("check targets", err)
}

// targetPlatform reads a device's platform as platformExpr does, and
// reports whether pushes go to it.
func targetPlatform(p string) (string, bool) {
	p = normPlatform(p)
	return p, p == registry.PlatformIOS || p == registry.PlatformAndroid
}

// listTargets returns up to limit targets of users after the link id
// after. Rows whose platform is no push platform are skipped, and the
// query runs again after the last row it read until the page is full or
// the rows run out: a page is never empty while targets remain.
//
// It first asks for limit+1 rows in no order: when no more than limit
// come, they are every target after after, and are sorted here. Sorting a
// page in Go costs a fraction of what the database's sort of the rows
// costs (on SQLite a third of the query); only a chunk of users with more
// targets than a page runs the ordered query as well. On SQLite that
// first query reads the range of user_num that users (sorted) span, when
// byRange allows it (see ranges.go); a range with more rows than the page
// is read again as an IN list.
func (s *Store) listTargets(ctx context.Context, users []string, after int64, limit int, census *registry.Census) ([]registry.Target, error) {
	if limit < math.MaxInt {
		byRange := len(users) > 1 && s.byRange(ctx)
		page, read, _, err := s.readTargets(ctx, users, after, limit+1, false, census, byRange)
		if err == nil && byRange && (read > limit || read > 2*len(page)+16) {
			s.rangesOff()
			if read > limit { // the range overflowed the page: read again as an IN list
				page, read, _, err = s.readTargets(ctx, users, after, limit+1, false, census, false)
			}
		}
		if err != nil {
			return nil, err
		}
		if read <= limit {
			slices.SortFunc(page, func(a, b registry.Target) int { return cmp.Compare(a.UserDeviceID, b.UserDeviceID) })
			return page, nil
		}
	}
	var out []registry.Target
	for {
		want := limit - len(out)
		page, read, last, err := s.readTargets(ctx, users, after, want, true, census, false)
		if err != nil {
			return nil, err
		}
		if out == nil {
			out = page // the first query's page is usually the whole
		} else {
			out = append(out, page...)
		}
		if len(out) == limit || read < want {
			return out, nil
		}
		after = last
	}
}

// readTargets runs targetsQuery once. It returns the targets among the
// rows, how many rows it read and the link id of the last one (the
// highest when ordered). With byRange it reads the links of the range of
// users (sorted) and keeps those of users (see ranges.go).
func (s *Store) readTargets(ctx context.Context, users []string, after int64, limit int, ordered bool, census *registry.Census,
	byRange bool) ([]registry.Target, int, int64, error) {
	query, args := s.dialect.targetsQuery(users, after, limit, ordered, census != nil, byRange)
	var member map[string]bool
	if byRange {
		member = make(map[string]bool, len(users))
		for _, u := range users {
			member[u] = true
		}
	}
	rows, err := s.query(ctx, s.q, query, args...)
	if err != nil {
		return nil, 0, 0, step("select targets", err)
	}
	defer rows.Close()
	var out []registry.Target
	read, last := 0, after
	// Scanned into the same variables row after row: a NULL text column
	// reads as "".
	var (
		linkID, deviceID                     int64
		userNum, platform, pushPlatform, tok sql.NullString
	)
	for rows.Next() {
		if err := rows.Scan(&linkID, &userNum, &deviceID, &platform, &pushPlatform, &tok); err != nil {
			return nil, 0, 0, step("scan target", err)
		}
		read, last = read+1, linkID
		if member != nil && !member[userNum.String] {
			continue // in the range, not among users
		}
		p, ok := targetPlatform(platform.String)
		if !ok {
			continue
		}
		t := registry.Target{UserDeviceID: linkID, UserNum: unpad(userNum.String), DeviceID: deviceID, Platform: p,
			PushPlatform: unpad(pushPlatform.String), Token: tok.String}
		if t.PushPlatform == "" {
			t.PushPlatform = registry.DefaultPushPlatform
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, 0, 0, step("select targets", err)
	}
	if census == nil {
		return out, read, last, nil
	}
	rows.Close() // before the next query, which may be on the same connection
	var suspects []int64
	for _, t := range out {
		if census.Suspect(t.DeviceID) {
			suspects = append(suspects, t.UserDeviceID)
		}
	}
	if len(suspects) == 0 {
		return out, read, last, nil
	}
	drop, err := s.shadowed(ctx, suspects)
	if err != nil {
		return nil, 0, 0, err
	}
	out = slices.DeleteFunc(out, func(t registry.Target) bool { return drop[t.UserDeviceID] })
	return out, read, last, nil
}

// distinctTokens returns tokens without surrounding spaces (as tokenIs
// compares them), blanks and repeats, sorted.
func distinctTokens(tokens []string) []string {
	toks := make([]string, 0, len(tokens))
	for _, t := range tokens {
		if t = strings.Trim(t, " "); t != "" {
			toks = append(toks, t)
		}
	}
	slices.Sort(toks)
	return slices.Compact(toks)
}

// disableQuery is the statement that disables tokens of (pushPlatform,
// platform), held with spaces around them or not (tokenIs): index
// lookups on the token.
func (d Dialect) disableQuery(pushPlatform, platform string, tokens []string, reason string, now any) (string, []any) {
	cond, condArgs := tokenHolders(pushPlatform, platform)
	is, repeat := d.tokenIs("", len(tokens))
	args := append([]any{now, reason, now}, tokenArgs(tokens, repeat, len(condArgs))...)
	return `UPDATE sys_devices SET token_disabled_at = ?, token_disabled_reason = ?, updated_at = ?
		WHERE ` + is + ` AND ` + cond, append(args, condArgs...)
}

// DisableTokens implements registry.Devices. An empty pushPlatform means
// registry.DefaultPushPlatform, which also matches devices whose
// push_platform is NULL or empty (rows other programs wrote). platform is
// compared in lower case without surrounding spaces on both sides, so rows
// that say "iOS" or " ios" are reached; pushPlatform is compared without
// trailing spaces, tokens without the spaces around them, given or stored
// (tokenIs). Devices whose token is disabled already keep their first
// disablement and are not counted. reason is
// diagnostic text from the vendor: it is clipped to the column's 255
// characters with a visible "…" rather than refused, so that a dead token
// is never left enabled because of its error message.
func (s *Store) DisableTokens(ctx context.Context, pushPlatform, platform string, tokens []string, reason string) (int64, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.DisableTokens")
	}
	const op = "DisableTokens"
	toks := distinctTokens(tokens)
	if len(toks) == 0 {
		return 0, nil
	}
	if pushPlatform = unpad(pushPlatform); pushPlatform == "" {
		pushPlatform = registry.DefaultPushPlatform
	}
	reason = registry.Clip(strings.ToValidUTF8(reason, "\uFFFD"), registry.MaxVarchar)
	var n int64
	err := s.inTx(ctx, func(q DBTX) error {
		n = 0
		now := s.timeArg(s.stamp())
		for chunk := range slices.Chunk(toks, listChunk) {
			query, args := s.dialect.disableQuery(pushPlatform, platform, chunk, reason, now)
			res, err := s.exec(ctx, q, query, args...)
			if err != nil {
				return step("disable tokens", err)
			}
			c, err := affected(res)
			if err != nil {
				return err
			}
			n += c
		}
		return nil
	})
	if err != nil {
		return 0, wrap(op, err)
	}
	return n, nil
}
