package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"strings"
)

// Set-oriented writes of a group-commit batch (issue #9): the calls of one
// batch of a groupQueue are written with a few statements for the whole
// batch, not a few per call, since on PostgreSQL and MySQL each statement
// is a round trip and on SQLite a run of the VDBE.
//
// A guarded set write (an UPDATE under claim tokens) changes every row of
// its batch or reports errSetShort: some claim no longer held (or one row
// came twice). The transaction is then rolled back and the batch written
// again one call at a time, which tells exactly which claims were lost.

// errSetShort is a guarded set write that changed fewer rows than its
// batch holds.
var errSetShort = errors.New("sqlstore: a set write changed fewer rows than its batch holds")

// maxSetRows bounds the rows of one set statement.
const maxSetRows = maxGroupBatch

// setChunks returns the sizes of the statements that write n rows, in
// order, their sum n: maxSetRows at a time, and on SQLite the rest as
// powers of two, so that the statement texts a Store runs stay few and
// its statement cache (see stmtCache) keeps them prepared. The servers
// take the rest in one statement: there a round trip costs more than
// parsing a statement.
func (s *Store) setChunks(n int) []int {
	var out []int
	for n >= maxSetRows {
		out = append(out, maxSetRows)
		n -= maxSetRows
	}
	if n == 0 {
		return out
	}
	if s.dialect != DialectSQLite {
		return append(out, n)
	}
	for size := maxSetRows / 2; size > 0; size /= 2 {
		if n >= size {
			out = append(out, size)
			n -= size
		}
	}
	return out
}

// chunked splits vs by s.setChunks.
func chunked[T any](s *Store, vs []T) [][]T {
	var out [][]T
	for _, n := range s.setChunks(len(vs)) {
		out = append(out, vs[:n:n])
		vs = vs[n:]
	}
	return out
}

// queryIn runs a query whose IN list takes the values of each chunk of
// chunks in turn (sqlOf(placeholders) is its text) and calls scan on each
// row of each.
func queryIn[T any](ctx context.Context, s *Store, q DBTX, chunks [][]T, sqlOf func(placeholders string) string,
	scan func(rows *sql.Rows) error) error {
	for _, chunk := range chunks {
		args := make([]any, len(chunk))
		for i, v := range chunk {
			args[i] = v
		}
		rows, err := s.query(ctx, q, sqlOf(placeholders(len(chunk))), args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			if err := scan(rows); err != nil {
				_ = rows.Close() // the scan's error is the one to report
				return err
			}
		}
		err = rows.Err()
		if cerr := rows.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// caseSet is the SET item "col = CASE key WHEN ? THEN ? … ELSE col END"
// for n rows: its arguments are each row's key and value, in turn (see
// caseArgs). The ELSE branch is never taken by a row the statement's
// WHERE matches; it gives the expression the column's type on
// PostgreSQL, whose bound parameters would otherwise be text. col and key
// are column names of the Store's own SQL, never values.
func caseSet(col, key string, n int) string {
	var b strings.Builder
	b.Grow(len(col)*2 + len(key) + 24 + n*16)
	b.WriteString(col)
	b.WriteString(" = CASE ")
	b.WriteString(key)
	b.WriteString(strings.Repeat(" WHEN ? THEN ?", n))
	b.WriteString(" ELSE ")
	b.WriteString(col)
	b.WriteString(" END")
	return b.String()
}

// caseArgs appends to args the arguments of a caseSet: each row's key and
// its value of the column.
func caseArgs(args []any, keys []any, values []any) []any {
	for i := range keys {
		args = append(args, keys[i], values[i])
	}
	return args
}

// claimedWhere is the WHERE condition of a guarded set write of n rows:
// "(id = ? AND claim_token = ? [AND guard]) OR …", its arguments each
// row's id and claim token.
func claimedWhere(n int, guard string) string {
	term := "(id = ? AND claim_token = ?) OR "
	if guard != "" {
		// In each term, not around them all: the planners then look every
		// row up by id, as without the guard (SQLite walked the index of
		// the guard's column instead, every unsent row of the table, and
		// the Scanner drained half as many rows a second).
		term = "(id = ? AND claim_token = ? AND " + guard + ") OR "
	}
	return strings.TrimSuffix(strings.Repeat(term, n), " OR ")
}

// rowsValues is "(?, …, ?), …" for n rows of cols columns.
func rowsValues(n, cols int) string {
	row := "(" + placeholders(cols) + ")"
	return strings.TrimSuffix(strings.Repeat(row+", ", n), ", ")
}

// guardedRow is one row of an updateClaimed: its id, the claim token that
// must still hold it, and its values of the columns set.
type guardedRow struct {
	id     int64
	claim  string
	values []any
}

// updateClaimed sets the columns names of each of rows of table (by id),
// releases each row's claim and stamps updated_at with now, in one UPDATE
// guarded by each row's claim token and, when guard is not empty, by
// guard too (a condition every row must meet). It returns errSetShort when
// it changes fewer rows than rows holds (a claim lost); what names a
// failed statement in its error.
func (s *Store) updateClaimed(ctx context.Context, q DBTX, table, what, guard string, names []string, rows []guardedRow, now any) error {
	cols := make([]setColumn, len(names))
	for i, name := range names {
		cols[i] = setColumn{name: name, values: make([]any, len(rows))}
	}
	ids := make([]any, len(rows))
	where := make([]any, 0, 2*len(rows))
	for j, r := range rows {
		ids[j] = r.id
		for i, v := range r.values {
			cols[i].values[j] = v
		}
		where = append(where, r.id, r.claim)
	}
	cond := claimedWhere(len(rows), guard)
	query, args := caseUpdate(table, ids, cols, "claim_token = NULL, lease_until = NULL, updated_at = ?", []any{now},
		cond, where)
	res, err := s.exec(ctx, q, query, args...)
	if err != nil {
		return step(what, err)
	}
	if n, err := affected(res); err != nil {
		return err
	} else if n != int64(len(rows)) {
		return errSetShort
	}
	return nil
}

// setColumn is one column a caseUpdate sets: its value for each row, or,
// when keys is set, for the rows keys names (the others keep theirs).
type setColumn struct {
	name   string
	values []any
	keys   []any
}

// caseUpdate is an UPDATE of table setting each column of cols by id
// (caseSet; the rows of ids, or of the column's own keys), then the SET
// items of extra, where where holds, and its arguments.
func caseUpdate(table string, ids []any, cols []setColumn, extra string, extraArgs []any, where string, whereArgs []any) (string, []any) {
	var b strings.Builder
	b.WriteString("UPDATE ")
	b.WriteString(table)
	b.WriteString(" SET ")
	args := make([]any, 0, 2*len(ids)*len(cols)+len(extraArgs)+len(whereArgs))
	for i, c := range cols {
		if i > 0 {
			b.WriteString(", ")
		}
		keys := ids
		if c.keys != nil {
			keys = c.keys
		}
		b.WriteString(caseSet(c.name, "id", len(keys)))
		args = caseArgs(args, keys, c.values)
	}
	if extra != "" {
		b.WriteString(", ")
		b.WriteString(extra)
	}
	b.WriteString(" WHERE ")
	b.WriteString(where)
	args = append(args, extraArgs...)
	return b.String(), append(args, whereArgs...)
}
