package sqlstore

import (
	"context"
	"database/sql"
	"errors"

	"github.com/tuisong/push/registry"
)

// DeviceByUUID returns the device (platform, uuid), found through the
// unique index as RegisterDevice finds it (trailing spaces of uuid
// dropped), and the user_nums of its active links, or ErrNotFound. A bulk
// import reads it to tell a new device from an updated or unchanged one.
func (s *Store) DeviceByUUID(ctx context.Context, platform, uuid string) (registry.Device, []string, error) {
	const op = "DeviceByUUID"
	var bad readProblems
	d, err := s.scanDevice(s.queryRow(ctx, s.q, "SELECT "+s.selectList(deviceColumns)+" FROM sys_devices WHERE platform = ? AND uuid = ?",
		platform, unpad(uuid)), &bad)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return registry.Device{}, nil, wrap(op, notFound("device", platform+"/"+unpad(uuid)))
	case err != nil:
		return registry.Device{}, nil, wrap(op, step("select device", err))
	}
	rows, err := s.query(ctx, s.q, "SELECT user_num FROM sys_user_devices WHERE device_id = ? AND state = 1 ORDER BY id", d.ID)
	if err != nil {
		return registry.Device{}, nil, wrap(op, step("select links", err))
	}
	defer rows.Close()
	var users []string
	for rows.Next() {
		var u string
		if err := rows.Scan(zeroIfNull(&u)); err != nil {
			return registry.Device{}, nil, wrap(op, step("select links", err))
		}
		users = append(users, u)
	}
	if err := rows.Err(); err != nil {
		return registry.Device{}, nil, wrap(op, step("select links", err))
	}
	return d, users, nil
}

// ListCenterMessages returns up to limit rows of sys_message_center whose
// id is above afterID, lowest id first: a keyset page, for following the
// queue. limit must be positive.
func (s *Store) ListCenterMessages(ctx context.Context, afterID int64, limit int) ([]registry.CenterMessage, error) {
	const op = "ListCenterMessages"
	if limit <= 0 {
		return nil, wrap(op, &registry.ValidationError{Field: "limit", Reason: "must be positive"})
	}
	rows, err := s.query(ctx, s.q, "SELECT "+s.selectList(centerColumns)+" FROM sys_message_center WHERE id > ? ORDER BY id LIMIT ?",
		afterID, limit)
	if err != nil {
		return nil, wrap(op, step("select center messages", err))
	}
	defer rows.Close()
	var out []registry.CenterMessage
	for rows.Next() {
		m, err := s.scanCenter(rows)
		if err != nil {
			return nil, wrap(op, step("select center messages", err))
		}
		out = append(out, m)
	}
	if err := rows.Err(); err != nil {
		return nil, wrap(op, step("select center messages", err))
	}
	return out, nil
}
