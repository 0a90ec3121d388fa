package sqlstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/tuisong/push/registry"
)

const deviceColumns = `id, uuid, platform, push_device_token, push_platform, name, os, os_version, alias,
	token_disabled_at, token_disabled_reason, created_at, updated_at`

func (s *Store) deviceDest(d *registry.Device) []any {
	return []any{
		&d.ID, zeroIfNull(&d.UUID), zeroIfNull(&d.Platform), zeroIfNull(&d.PushToken), zeroIfNull(&d.PushPlatform),
		zeroIfNull(&d.Name), zeroIfNull(&d.OS), zeroIfNull(&d.OSVersion), zeroIfNull(&d.Alias),
		s.wallPtr(&d.TokenDisabledAt), zeroIfNull(&d.TokenDisabledReason), s.wall(&d.CreatedAt), s.wall(&d.UpdatedAt),
	}
}

const linkColumns = `id, user_num, device_id, state, created_at, updated_at`

// scanLink reads a sys_user_devices row. The brief's state column is
// tinyint(1) DEFAULT 1: 1 is an active link, anything else (0, NULL in
// rows other programs wrote) an inactive one.
func (s *Store) scanLink(row interface{ Scan(...any) error }) (registry.UserDevice, error) {
	var l registry.UserDevice
	var state sql.NullInt64
	err := row.Scan(&l.ID, zeroIfNull(&l.UserNum), zeroIfNull(&l.DeviceID), &state, s.wall(&l.CreatedAt), s.wall(&l.UpdatedAt))
	l.Active = state.Valid && state.Int64 == 1
	return l, err
}

// RegisterDevice implements registry.Devices. The device is upserted on
// the unique key (platform, uuid), which also locks its row until the
// transaction ends, so that concurrent registrations of one device take
// turns and the one-active-user rule holds. The user's newest link to the
// device is reused (adopted tables may hold several); every other active
// link of the device is deactivated. An empty PushPlatform is stored as
// registry.DefaultPushPlatform. d is not modified.
func (s *Store) RegisterDevice(ctx context.Context, d *registry.Device, userNum string) (registry.Device, registry.UserDevice, error) {
	const op = "RegisterDevice"
	if err := registry.ValidateDevice(d, userNum); err != nil {
		return registry.Device{}, registry.UserDevice{}, wrap(op, err)
	}
	in := *d
	if in.PushPlatform == "" {
		in.PushPlatform = registry.DefaultPushPlatform
	}
	var dev registry.Device
	var link registry.UserDevice
	err := s.inTx(ctx, func(q DBTX) error {
		now := s.stamp()
		var err error
		if dev, err = s.upsertDevice(ctx, q, &in, s.timeArg(now)); err != nil {
			return step("upsert device", err)
		}
		if _, err = s.exec(ctx, q, `UPDATE sys_devices SET token_disabled_at = ?, token_disabled_reason = ?, updated_at = ?
			WHERE push_device_token = ? AND platform = ? AND push_platform = ? AND id <> ? AND token_disabled_at IS NULL`,
			s.timeArg(now), registry.TokenTakenOver, s.timeArg(now), dev.PushToken, dev.Platform, dev.PushPlatform, dev.ID); err != nil {
			return step("disable the token on other devices", err)
		}
		link, err = s.activateLink(ctx, q, dev.ID, userNum, now)
		return err
	})
	if err != nil {
		return registry.Device{}, registry.UserDevice{}, wrap(op, err)
	}
	return dev, link, nil
}

// upsertDevice inserts or updates the device (platform, uuid) and returns
// the stored row. alias is set on insert only: the registration API does
// not carry it, and a host may have set it by other means.
func (s *Store) upsertDevice(ctx context.Context, q DBTX, d *registry.Device, now any) (registry.Device, error) {
	insert := `INSERT INTO sys_devices (uuid, platform, push_device_token, push_platform, name, os, os_version, alias, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`
	args := []any{d.UUID, d.Platform, d.PushToken, d.PushPlatform, d.Name, d.OS, d.OSVersion, nullIfEmpty(d.Alias), now, now}
	update := []any{d.PushToken, d.PushPlatform, d.Name, d.OS, d.OSVersion, now}
	const set = `push_device_token = ?, push_platform = ?, name = ?, os = ?, os_version = ?,
		token_disabled_at = NULL, token_disabled_reason = NULL, updated_at = ?`
	var dev registry.Device
	if s.dialect == DialectMySQL {
		if _, err := s.exec(ctx, q, insert+" ON DUPLICATE KEY UPDATE "+set, append(args, update...)...); err != nil {
			return dev, err
		}
		err := s.queryRow(ctx, q, "SELECT "+deviceColumns+" FROM sys_devices WHERE platform = ? AND uuid = ?", d.Platform, d.UUID).
			Scan(s.deviceDest(&dev)...)
		return dev, err
	}
	err := s.queryRow(ctx, q, insert+" ON CONFLICT (platform, uuid) DO UPDATE SET "+set+" RETURNING "+deviceColumns,
		append(args, update...)...).Scan(s.deviceDest(&dev)...)
	return dev, err
}

// activateLink makes userNum the only active user of device deviceID and
// returns the link.
func (s *Store) activateLink(ctx context.Context, q DBTX, deviceID int64, userNum string, now time.Time) (registry.UserDevice, error) {
	link := registry.UserDevice{UserNum: userNum, DeviceID: deviceID, Active: true, CreatedAt: now, UpdatedAt: now}
	nowArg := s.timeArg(now)
	err := s.queryRow(ctx, q, "SELECT id, created_at FROM sys_user_devices WHERE device_id = ? AND user_num = ? ORDER BY id DESC LIMIT 1",
		deviceID, userNum).Scan(&link.ID, s.wall(&link.CreatedAt))
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
		if _, err := s.exec(ctx, q, "UPDATE sys_user_devices SET state = 1, updated_at = ? WHERE id = ?", nowArg, link.ID); err != nil {
			return link, step("activate link", err)
		}
	}
	if _, err := s.exec(ctx, q, "UPDATE sys_user_devices SET state = 0, updated_at = ? WHERE device_id = ? AND id <> ? AND state = 1",
		nowArg, deviceID, link.ID); err != nil {
		return link, step("deactivate other links", err)
	}
	return link, nil
}

// GetDevice implements registry.Devices.
func (s *Store) GetDevice(ctx context.Context, id int64) (registry.Device, error) {
	d, err := s.getDevice(ctx, s.q, id)
	if err != nil {
		return registry.Device{}, wrap("GetDevice", err)
	}
	return d, nil
}

func (s *Store) getDevice(ctx context.Context, q DBTX, id int64) (registry.Device, error) {
	var d registry.Device
	err := s.queryRow(ctx, q, "SELECT "+deviceColumns+" FROM sys_devices WHERE id = ?", id).Scan(s.deviceDest(&d)...)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Device{}, notFound("device", id)
	case err != nil:
		return registry.Device{}, step("select device", err)
	}
	return d, nil
}

// GetUserDevice implements registry.Devices.
func (s *Store) GetUserDevice(ctx context.Context, id int64) (registry.UserDevice, error) {
	l, err := s.getUserDevice(ctx, s.q, id)
	if err != nil {
		return registry.UserDevice{}, wrap("GetUserDevice", err)
	}
	return l, nil
}

func (s *Store) getUserDevice(ctx context.Context, q DBTX, id int64) (registry.UserDevice, error) {
	l, err := s.scanLink(s.queryRow(ctx, q, "SELECT "+linkColumns+" FROM sys_user_devices WHERE id = ?", id))
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.UserDevice{}, notFound("user device", id)
	case err != nil:
		return registry.UserDevice{}, step("select user device", err)
	}
	return l, nil
}

// DeactivateLink implements registry.Devices. user_num is compared
// exactly, byte for byte, on every dialect.
func (s *Store) DeactivateLink(ctx context.Context, userNum string, userDeviceID int64) error {
	const op = "DeactivateLink"
	err := s.inTx(ctx, func(q DBTX) error {
		l, err := s.scanLink(s.queryRow(ctx, q, "SELECT "+linkColumns+" FROM sys_user_devices WHERE id = ?"+s.dialect.forUpdate(), userDeviceID))
		switch {
		case errors.Is(err, sql.ErrNoRows):
			return notFound("user device", userDeviceID)
		case err != nil:
			return step("select user device", err)
		case l.UserNum != userNum:
			return fmt.Errorf("user device %d: %w", userDeviceID, registry.ErrNotOwner)
		case !l.Active:
			return nil
		}
		_, err = s.exec(ctx, q, "UPDATE sys_user_devices SET state = 0, updated_at = ? WHERE id = ?", s.timeArg(s.stamp()), userDeviceID)
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
// (state = 1) to a device whose token is set and not disabled. When
// adopted rows leave a device active for several links (the brief's
// system logged the previous users out implicitly), only the device's
// newest active link is a target, so a push never reaches a previous
// user. A device without push_platform is on registry.DefaultPushPlatform.
// A negative q.Limit is an ErrInvalid for field "limit".
func (s *Store) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	const op = "ListTargets"
	if q.Limit < 0 {
		return nil, wrap(op, invalid("limit", "must not be negative, got %d", q.Limit))
	}
	limit := q.Limit
	if limit == 0 {
		limit = registry.DefaultPageSize
	}
	users := slices.Clone(q.UserNums)
	slices.Sort(users)
	users = slices.Compact(users)
	if len(users) == 0 {
		return nil, nil
	}
	// Each chunk's first page holds every member of the overall first page
	// that comes from that chunk, so merging the chunks' pages and cutting
	// the result to limit gives the overall page.
	var page []registry.Target
	for chunk := range slices.Chunk(users, listChunk) {
		ts, err := s.listTargets(ctx, chunk, q.AfterUserDeviceID, limit)
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

// targetsQuery is the statement of one page of targets of users.
func targetsQuery(users []string, after int64, limit int) (string, []any) {
	query := `SELECT ud.id, ud.user_num, d.id, d.platform, d.push_platform, d.push_device_token
		FROM sys_user_devices ud
		JOIN sys_devices d ON d.id = ud.device_id
		WHERE ud.user_num IN (` + placeholders(len(users)) + `)
			AND ud.state = 1 AND ud.id > ?
			AND d.push_device_token IS NOT NULL AND d.push_device_token <> '' AND d.token_disabled_at IS NULL
			AND NOT EXISTS (SELECT 1 FROM sys_user_devices newer
				WHERE newer.device_id = ud.device_id AND newer.state = 1 AND newer.id > ud.id)
		ORDER BY ud.id
		LIMIT ?`
	args := make([]any, 0, len(users)+2)
	for _, u := range users {
		args = append(args, u)
	}
	return query, append(args, after, limit)
}

func (s *Store) listTargets(ctx context.Context, users []string, after int64, limit int) ([]registry.Target, error) {
	query, args := targetsQuery(users, after, limit)
	rows, err := s.query(ctx, s.q, query, args...)
	if err != nil {
		return nil, step("select targets", err)
	}
	defer rows.Close()
	var out []registry.Target
	for rows.Next() {
		var t registry.Target
		if err := rows.Scan(&t.UserDeviceID, zeroIfNull(&t.UserNum), &t.DeviceID, zeroIfNull(&t.Platform),
			zeroIfNull(&t.PushPlatform), zeroIfNull(&t.Token)); err != nil {
			return nil, step("scan target", err)
		}
		if t.PushPlatform == "" {
			t.PushPlatform = registry.DefaultPushPlatform
		}
		out = append(out, t)
	}
	if err := rows.Err(); err != nil {
		return nil, step("select targets", err)
	}
	return out, nil
}

// disableQuery is the statement that disables tokens of (pushPlatform,
// platform), an index lookup on push_device_token.
func disableQuery(pushPlatform, platform string, tokens []string, reason string, now any) (string, []any) {
	ppCond := "push_platform = ?"
	if pushPlatform == registry.DefaultPushPlatform {
		ppCond = "(push_platform = ? OR push_platform IS NULL OR push_platform = '')"
	}
	args := []any{now, reason, now, platform, pushPlatform}
	for _, t := range tokens {
		args = append(args, t)
	}
	return `UPDATE sys_devices SET token_disabled_at = ?, token_disabled_reason = ?, updated_at = ?
		WHERE platform = ? AND ` + ppCond + ` AND token_disabled_at IS NULL
			AND push_device_token IN (` + placeholders(len(tokens)) + `)`, args
}

// DisableTokens implements registry.Devices. An empty pushPlatform means
// registry.DefaultPushPlatform, which also matches devices whose
// push_platform is NULL or empty (rows other programs wrote). Devices whose
// token is disabled already keep their first disablement and are not
// counted. reason is diagnostic text from the vendor: it is clipped to the
// column's 255 characters with a visible "…" rather than refused, so that
// a dead token is never left enabled because of its error message.
func (s *Store) DisableTokens(ctx context.Context, pushPlatform, platform string, tokens []string, reason string) (int64, error) {
	const op = "DisableTokens"
	toks := make([]string, 0, len(tokens))
	for _, t := range tokens {
		if t != "" {
			toks = append(toks, t)
		}
	}
	slices.Sort(toks)
	toks = slices.Compact(toks)
	if len(toks) == 0 {
		return 0, nil
	}
	if pushPlatform == "" {
		pushPlatform = registry.DefaultPushPlatform
	}
	reason = registry.Clip(strings.ToValidUTF8(reason, "\uFFFD"), registry.MaxVarchar)
	var n int64
	err := s.inTx(ctx, func(q DBTX) error {
		n = 0
		now := s.timeArg(s.stamp())
		for chunk := range slices.Chunk(toks, listChunk) {
			query, args := disableQuery(pushPlatform, platform, chunk, reason, now)
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
