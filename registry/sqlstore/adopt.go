package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"slices"
	"strings"
)

// briefColumns are the columns of the product brief's tables that the
// Store reads or writes. A table of one of these names that another
// program created is adopted only when it has every one of them.
var briefColumns = map[string][]string{
	"sys_devices": {"id", "name", "platform", "os", "os_version", "uuid", "push_device_token", "alias", "push_platform",
		"created_at", "updated_at"},
	"sys_user_devices": {"id", "user_num", "device_id", "state", "created_at", "updated_at"},
	"sys_push_messages": {"id", "title", "content", "extra_params_string", "push_type", "ios_device_tokens",
		"android_device_tokens", "ios_task_id", "ios_ret", "ios_status", "ios_response", "ios_timestamp", "is_send_ios",
		"android_task_id", "android_ret", "android_status", "android_response", "android_timestamp", "is_send_android",
		"created_at", "updated_at"},
	"sys_message_center": {"id", "title", "content", "extra_params_string", "notify_mode", "notify_level", "receivers",
		"send_state", "send_result", "remark", "created_at", "updated_at"},
}

// checkAdoptedColumns refuses, before anything changes, a table of one of
// the brief's names that lacks columns the Store needs: a table another
// program made for something else. Adopted, it would be altered (the
// migrations add our columns to it), Migrate would succeed, and every
// push fail on the first column it lacks.
func (s *Store) checkAdoptedColumns(ctx context.Context, conn *sql.Conn) error {
	tables := make([]string, 0, len(briefColumns))
	for t := range briefColumns {
		tables = append(tables, t)
	}
	slices.Sort(tables)
	var problems []string
	for _, table := range tables {
		have, err := s.columnsOf(ctx, conn, table)
		if err != nil {
			return step("read the columns of "+table, err)
		}
		if len(have) == 0 {
			continue // no such table: the migrations create it
		}
		var missing []string
		for _, c := range briefColumns[table] {
			if !have[c] {
				missing = append(missing, c)
			}
		}
		if len(missing) > 0 {
			problems = append(problems, table+" lacks "+strings.Join(missing, ", "))
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("tables with the product brief's names that are not the brief's: %s; "+
			"rename or drop them, or add those columns, and run Migrate again (nothing was changed)", strings.Join(problems, "; "))
	}
	return nil
}

// columnsOf returns the lower-case names of table's columns, none when
// there is no such table.
func (s *Store) columnsOf(ctx context.Context, conn *sql.Conn, table string) (map[string]bool, error) {
	var query string
	switch s.dialect {
	case DialectSQLite:
		query = "SELECT name FROM pragma_table_info(?)"
	case DialectPostgres:
		query = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
	default:
		query = "SELECT column_name FROM information_schema.columns WHERE table_schema = DATABASE() AND table_name = ?"
	}
	rows, err := conn.QueryContext(ctx, query, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		have[strings.ToLower(name)] = true
	}
	return have, rows.Err()
}
