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
	if s.unbuilt() {
		return registry.Device{}, nil, notBuilt("Store.DeviceByUUID")
	}
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
	if s.unbuilt() {
		return nil, notBuilt("Store.ListCenterMessages")
	}
	return s.listCenter(ctx, "ListCenterMessages", afterID, nil, limit)
}

// ListCenterMessagesBetween is ListCenterMessages of the rows whose id is
// also below beforeID: a page of one range of ids, so that a reader
// following several ranges (ids another program chose far above the
// table's sequence split it) does not read into the next.
func (s *Store) ListCenterMessagesBetween(ctx context.Context, afterID, beforeID int64, limit int) ([]registry.CenterMessage, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.ListCenterMessagesBetween")
	}
	return s.listCenter(ctx, "ListCenterMessagesBetween", afterID, &beforeID, limit)
}

func (s *Store) listCenter(ctx context.Context, op string, afterID int64, beforeID *int64, limit int) ([]registry.CenterMessage, error) {
	if limit <= 0 {
		return nil, wrap(op, &registry.ValidationError{Field: "limit", Reason: "must be positive"})
	}
	// PostgreSQL would type the bounds as the column, an integer of 32
	// bits, and refuse any beyond it; the bounds are of 64.
	bound := "?"
	if s.dialect == DialectPostgres {
		bound = "CAST(? AS bigint)"
	}
	where, args := "id > "+bound, []any{afterID}
	if beforeID != nil {
		where, args = where+" AND id < "+bound, append(args, *beforeID)
	}
	rows, err := s.query(ctx, s.q, "SELECT "+s.selectList(centerColumns)+" FROM sys_message_center WHERE "+where+" ORDER BY id LIMIT ?",
		append(args, limit)...)
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
