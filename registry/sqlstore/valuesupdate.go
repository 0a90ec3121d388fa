package sqlstore

import (
	"context"
	"strconv"
	"strings"
	"sync"
)

// On PostgreSQL a guarded set write (updateClaimed) joins its table to a
// VALUES list of the batch's rows rather than setting each column by a
// CASE list: a CASE compares a row's id with the ids of the batch in
// turn, for every column of every row, so its cost grows with the square
// of the batch, and it binds two parameters a value. The VALUES list
// gives each row its values once, with one parameter each (issue #9;
// bench/RESULTS.md has the figures).
//
// A VALUES column takes the type of its first row's value, and a bound
// parameter alone would be text: each value is cast to its column's type,
// which the Store reads once a table from pg_catalog (colTypes). The type
// is taken without its modifier (character varying, not character
// varying(64)), so that a value too long for its column is refused by the
// assignment, as before, not cut short by the cast. A table whose types
// cannot be read, or that lacks a column the write sets, is written with
// CASE lists, whose ELSE branch gives each value its column's type.

// colTypes is, for each table a Store wrote by VALUES lists, its columns'
// types; shared with WithTx copies.
type colTypes struct {
	mu      sync.Mutex
	byTable map[string]map[string]string
}

// columnTypes returns the type of each column of table, read on q the
// first time (in the caller's transaction: a read on another connection
// could wait for the one the caller holds), or nil when they cannot be
// read: then the next write asks again.
func (s *Store) columnTypes(ctx context.Context, q DBTX, table string) map[string]string {
	if s.dialect != DialectPostgres || s.types == nil {
		return nil
	}
	t := s.types
	t.mu.Lock()
	m, ok := t.byTable[table]
	t.mu.Unlock()
	if ok {
		return m
	}
	rows, err := s.query(ctx, q, `SELECT attname, format_type(atttypid, NULL) FROM pg_catalog.pg_attribute
		WHERE attrelid = to_regclass(?) AND attnum > 0 AND NOT attisdropped`, table)
	if err != nil {
		return nil
	}
	defer rows.Close()
	m = map[string]string{}
	for rows.Next() {
		var name, typ string
		if rows.Scan(&name, &typ) != nil {
			return nil
		}
		m[name] = typ
	}
	if rows.Err() != nil || len(m) == 0 {
		return nil
	}
	t.mu.Lock()
	if t.byTable == nil {
		t.byTable = map[string]map[string]string{}
	}
	t.byTable[table] = m
	t.mu.Unlock()
	return m
}

// valuesUpdate is updateClaimed's UPDATE on PostgreSQL: table joined to
// the VALUES list of rows (each row's id, claim token and values of the
// columns names, cast to types), setting the columns, then the SET items
// of extra, where each row's claim token holds and guard, when not empty,
// holds too; and its arguments. ok is false when types lacks a column.
func valuesUpdate(table string, types map[string]string, names []string, rows []guardedRow, extra string, extraArgs []any,
	guard string) (query string, args []any, ok bool) {
	casts := make([]string, 0, len(names)+2)
	for _, col := range append([]string{"id", "claim_token"}, names...) {
		typ, found := types[col]
		if !found {
			return "", nil, false
		}
		casts = append(casts, "CAST(? AS "+typ+")")
	}
	row := "(" + strings.Join(casts, ", ") + ")"
	var b strings.Builder
	b.WriteString("UPDATE ")
	b.WriteString(table)
	b.WriteString(" SET ")
	for i, name := range names {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(name)
		b.WriteString(" = v.push_v")
		b.WriteString(strconv.Itoa(i))
	}
	if extra != "" {
		b.WriteString(", ")
		b.WriteString(extra)
	}
	b.WriteString(" FROM (VALUES ")
	args = make([]any, 0, len(extraArgs)+len(rows)*len(casts))
	args = append(args, extraArgs...)
	for j, r := range rows {
		if j > 0 {
			b.WriteString(", ")
		}
		b.WriteString(row)
		args = append(args, r.id, r.claim)
		args = append(args, r.values...)
	}
	b.WriteString(") AS v(push_id, push_claim")
	for i := range names {
		b.WriteString(", push_v")
		b.WriteString(strconv.Itoa(i))
	}
	b.WriteString(") WHERE ")
	b.WriteString(table)
	b.WriteString(".id = v.push_id AND ")
	b.WriteString(table)
	b.WriteString(".claim_token = v.push_claim")
	if guard != "" {
		b.WriteString(" AND ")
		b.WriteString(guard)
	}
	return b.String(), args, true
}
