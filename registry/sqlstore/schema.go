package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// The schema inspection behind the migrations' conditions. Each query
// looks at the current database (MySQL), the current schema (PostgreSQL)
// or the main database (SQLite) only.

func (s *Store) count(ctx context.Context, q DBTX, query string, args ...any) (bool, error) {
	var n int64
	if err := s.queryRow(ctx, q, query, args...).Scan(&n); err != nil {
		return false, err
	}
	return n > 0, nil
}

func (s *Store) tableExists(ctx context.Context, q DBTX, table string) (bool, error) {
	switch s.dialect {
	case DialectMySQL:
		return s.count(ctx, q, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = DATABASE() AND table_name = ?", table)
	case DialectPostgres:
		return s.count(ctx, q, "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = ?", table)
	default:
		return s.count(ctx, q, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?", table)
	}
}

// tableNames returns the names of the tables of the database, in lower
// case.
func (s *Store) tableNames(ctx context.Context, q DBTX) (map[string]bool, error) {
	query := "SELECT name FROM sqlite_master WHERE type = 'table'"
	switch s.dialect {
	case DialectMySQL:
		query = "SELECT table_name FROM information_schema.tables WHERE table_schema = DATABASE()"
	case DialectPostgres:
		// pg_tables lists every table, where information_schema
		// shows a role only those it has a privilege on.
		query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
	}
	rows, err := s.query(ctx, q, query)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]bool{}
	for rows.Next() {
		var name string
		if err := rows.Scan(&name); err != nil {
			return nil, err
		}
		out[strings.ToLower(name)] = true
	}
	return out, rows.Err()
}

func (s *Store) columnExists(ctx context.Context, q DBTX, table, column string) (bool, error) {
	switch s.dialect {
	case DialectMySQL:
		return s.count(ctx, q, `SELECT COUNT(*) FROM information_schema.columns
			WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?`, table, column)
	case DialectPostgres:
		return s.count(ctx, q, `SELECT COUNT(*) FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = ? AND column_name = ?`, table, column)
	default:
		return s.count(ctx, q, "SELECT COUNT(*) FROM pragma_table_info(?) WHERE name = ?", table, column)
	}
}

func (s *Store) indexExists(ctx context.Context, q DBTX, table, index string) (bool, error) {
	switch s.dialect {
	case DialectMySQL:
		return s.count(ctx, q, `SELECT COUNT(*) FROM information_schema.statistics
			WHERE table_schema = DATABASE() AND table_name = ? AND index_name = ?`, table, index)
	case DialectPostgres:
		return s.count(ctx, q, "SELECT COUNT(*) FROM pg_indexes WHERE schemaname = current_schema() AND tablename = ? AND indexname = ?", table, index)
	default:
		return s.count(ctx, q, "SELECT COUNT(*) FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND name = ?", table, index)
	}
}

// mysqlColumn reads one attribute (data_type, collation_name …) of a
// column; "" when the column is missing or the attribute NULL.
func (s *Store) mysqlColumn(ctx context.Context, q DBTX, attr, table, column string) (string, error) {
	var v sql.NullString
	err := s.queryRow(ctx, q, "SELECT "+attr+` FROM information_schema.columns
		WHERE table_schema = DATABASE() AND table_name = ? AND column_name = ?`, table, column).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return strings.ToLower(v.String), err
}

// mysqlTable reads one attribute (row_format, table_collation) of a table;
// "" when the table is missing.
func (s *Store) mysqlTable(ctx context.Context, q DBTX, attr, table string) (string, error) {
	var v sql.NullString
	err := s.queryRow(ctx, q, "SELECT "+attr+` FROM information_schema.tables
		WHERE table_schema = DATABASE() AND table_name = ?`, table).Scan(&v)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil
	}
	return strings.ToLower(v.String), err
}

// holds evaluates one condition of a migration step.
func (s *Store) holds(ctx context.Context, q DBTX, c condition) (bool, error) {
	a := c.args
	switch c.kind {
	case "no-column":
		ok, err := s.columnExists(ctx, q, a[0], a[1])
		return !ok, err
	case "no-index":
		ok, err := s.indexExists(ctx, q, a[0], a[1])
		return !ok, err
	case "column-type":
		t, err := s.mysqlColumn(ctx, q, "data_type", a[0], a[1])
		return t != "" && slices.Contains(strings.Split(strings.ToLower(a[2]), ","), t), err
	case "collation-not":
		coll, err := s.mysqlColumn(ctx, q, "collation_name", a[0], a[1])
		return coll != "" && coll != strings.ToLower(a[2]), err
	case "row-format":
		f, err := s.mysqlTable(ctx, q, "row_format", a[0])
		return f != "" && slices.Contains(strings.Split(strings.ToLower(a[1]), ","), f), err
	case "charset-not":
		return s.mysqlCharsetDiffers(ctx, q, a[0], strings.ToLower(a[1]))
	}
	return false, fmt.Errorf("unknown condition %q", c.kind)
}

// mysqlCharsetDiffers reports whether table's default character set, or
// that of any of its text columns, is not charset. The default matters
// too: columns added later take it.
func (s *Store) mysqlCharsetDiffers(ctx context.Context, q DBTX, table, charset string) (bool, error) {
	coll, err := s.mysqlTable(ctx, q, "table_collation", table)
	if err != nil || coll == "" {
		return false, err
	}
	if !strings.HasPrefix(coll, charset+"_") {
		return true, nil
	}
	return s.count(ctx, q, `SELECT COUNT(*) FROM information_schema.columns
		WHERE table_schema = DATABASE() AND table_name = ? AND character_set_name IS NOT NULL AND character_set_name <> ?`,
		table, charset)
}

// maxReportedDuplicates bounds the duplicated values a DuplicatesError
// lists.
const maxReportedDuplicates = 20

// findDuplicates lists up to maxReportedDuplicates values of k.columns
// that more than one row of k.table holds (rows with a NULL in them do not
// collide in a unique index), compared as the unique index will compare
// them, so that a database the index would refuse is refused before the
// migration changes anything.
//
// On MySQL the migrations make every unique-key column utf8mb4_bin before
// the index is built, but the check runs first, while an adopted column
// may still be utf8 (3-byte) or case-insensitive: the values are converted
// to utf8mb4 and compared under utf8mb4_bin whatever the column says now.
// utf8mb4_bin is a PAD SPACE collation, so "abc" and "abc " are duplicates
// there, as they are to the index. PostgreSQL's deterministic collations
// and SQLite's BINARY compare the bytes, as their indexes do.
func (s *Store) findDuplicates(ctx context.Context, q DBTX, k *uniqueKey) (*DuplicatesError, error) {
	exprs := make([]string, len(k.columns))
	notNull := make([]string, len(k.columns))
	for i, c := range k.columns {
		exprs[i] = c
		if s.dialect == DialectMySQL {
			exprs[i] = "CONVERT(" + c + " USING utf8mb4) COLLATE utf8mb4_bin"
		}
		notNull[i] = c + " IS NOT NULL"
	}
	group := strings.Join(exprs, ", ")
	rows, err := s.query(ctx, q, "SELECT "+group+", COUNT(*) FROM "+k.table+
		" WHERE "+strings.Join(notNull, " AND ")+
		" GROUP BY "+group+" HAVING COUNT(*) > 1 ORDER BY "+group+" LIMIT ?", maxReportedDuplicates)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	dup := &DuplicatesError{Table: k.table, Columns: k.columns}
	for rows.Next() {
		vals := make([]string, len(k.columns))
		dest := make([]any, 0, len(vals)+1)
		for i := range vals {
			dest = append(dest, &vals[i])
		}
		var n int64
		if err := rows.Scan(append(dest, &n)...); err != nil {
			return nil, err
		}
		dup.Values = append(dup.Values, vals)
		dup.Counts = append(dup.Counts, n)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(dup.Values) == 0 {
		return nil, nil
	}
	return dup, nil
}

// DuplicatesError is returned by Migrate when an adopted table holds rows
// that a unique key the migration adds would forbid, such as two
// sys_devices rows with the same (platform, uuid). Migrate changes nothing
// then: merge or delete the duplicates and run it again.
type DuplicatesError struct {
	Table   string
	Columns []string
	// Values lists duplicated values (at most 20), one []string per value
	// in the order of Columns; Counts[i] is how many rows hold Values[i].
	Values [][]string
	Counts []int64
}

func (e *DuplicatesError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "sqlstore: %s has rows sharing (%s), which must be unique:", e.Table, strings.Join(e.Columns, ", "))
	for i, v := range e.Values {
		q := make([]string, len(v))
		for j, s := range v {
			q[j] = fmt.Sprintf("%q", s)
		}
		fmt.Fprintf(&b, " (%s) in %d rows;", strings.Join(q, ", "), e.Counts[i])
	}
	if len(e.Values) == maxReportedDuplicates {
		b.WriteString(" and maybe more;")
	}
	b.WriteString(" merge or delete the duplicates, then run Migrate again")
	return b.String()
}
