package sqlstore

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// wallLayout is how the Store writes DATETIME values for MySQL and SQLite:
// a zone-less wall-clock time with at most six fractional digits, trailing
// zeros dropped. Values in this layout sort as text in time order, also
// against the second-precision values of CURRENT_TIMESTAMP, which is what
// SQLite compares them as.
const wallLayout = "2006-01-02 15:04:05.999999"

// timeArg is the argument that stores t as a wall-clock time in the
// Store's Location, to the microsecond. MySQL and SQLite get text, so that
// the result depends neither on the driver's own time settings (the
// mysql DSN's loc and parseTime, modernc's _time_format) nor on the
// session time zone; pgx writes a time.Time's wall clock to a timestamp
// column as it is. A time whose wall clock falls outside the years 1 to
// 9999, which four digits cannot write (a query's bound a second after
// 9999-12-31T23:59:59Z, or in another zone), is held to the nearest end
// of that range, so that it still compares as text in time order.
func (s *Store) timeArg(t time.Time) any {
	w := t.In(s.loc).Truncate(time.Microsecond)
	if s.dialect == DialectPostgres {
		return w
	}
	switch {
	case w.Year() > 9999:
		return "9999-12-31 23:59:59.999999"
	case w.Year() < 1:
		return "0001-01-01 00:00:00"
	}
	return w.Format(wallLayout)
}

// nullTimeArg is timeArg for a nullable column: nil stores NULL.
func (s *Store) nullTimeArg(t *time.Time) any {
	if t == nil {
		return nil
	}
	return s.timeArg(*t)
}

// stamp is the Store's clock reading for created_at and updated_at, cut to
// the second because the product brief declares those columns DATETIME: what a
// write returns is what a later read gets.
func (s *Store) stamp() time.Time { return s.now().In(s.loc).Truncate(time.Second) }

// usec cuts t to what the Store's DATETIME(6) columns keep, in the Store's
// Location: what a write returns is what a later read gets.
func (s *Store) usec(t time.Time) time.Time { return t.In(s.loc).Truncate(time.Microsecond) }

// wallTime scans a DATETIME column into dst (NULL: the zero time) or ptr
// (NULL: nil), reading the stored wall clock as a time in loc whatever
// form the driver delivers it in. A value it cannot read (text that is no
// date-time, PostgreSQL's infinity, MySQL's 2024-00-00) never fails the
// scan: it reads as the zero time (a non-nil pointer to it for ptr, since
// the column is not NULL) and is noted in problems under col. MySQL's
// zero date (or empty text) reads as the zero time in dst, as the product
// brief's created_at and updated_at may hold it for no time; in ptr, a
// column whose NULL is no time and that the Store's queries take as set
// when it is not NULL (token_disabled_at IS NULL), it is such a value.
type wallTime struct {
	loc      *time.Location
	dst      *time.Time
	ptr      **time.Time
	col      string
	problems *readProblems
}

// readProblems collects the columns of one row that could not be read and
// why, in column order.
type readProblems struct {
	cols    []string
	reasons []string
}

func (p *readProblems) add(col, reason string) {
	p.cols = append(p.cols, col)
	p.reasons = append(p.reasons, col+": "+reason)
}

// has reports whether col could not be read.
func (p *readProblems) has(col string) bool { return slices.Contains(p.cols, col) }

// String is the reasons joined with "; ", or "" when every column was read.
func (p *readProblems) String() string { return strings.Join(p.reasons, "; ") }

// wall and wallPtr scan the time column col of a row into dst or ptr,
// noting a value they cannot read in problems.
func (s *Store) wall(col string, dst *time.Time, problems *readProblems) sql.Scanner {
	return wallTime{loc: s.loc, dst: dst, col: col, problems: problems}
}

func (s *Store) wallPtr(col string, ptr **time.Time, problems *readProblems) sql.Scanner {
	return wallTime{loc: s.loc, ptr: ptr, col: col, problems: problems}
}

func (w wallTime) Scan(src any) error {
	t, ok, err := parseWall(src, w.loc)
	if err == nil && !ok && src != nil && w.ptr != nil {
		err = errNoTime
	}
	if err != nil {
		w.problems.add(w.col, unreadableReason(src))
		t, ok = time.Time{}, true
	}
	if w.ptr != nil {
		*w.ptr = nil
		if ok {
			*w.ptr = &t
		}
		return nil
	}
	*w.dst = t
	return nil
}

// errNoTime is a value that is not NULL but holds no time: MySQL's zero
// date, or empty text.
var errNoTime = errors.New("sqlstore: a value that is not NULL holds no time")

// unreadableReason says which value could not be read as a date-time.
func unreadableReason(src any) string { return unreadableAs(src, "a date-time") }

// unreadableAs says which value could not be read as what.
func unreadableAs(src any, what string) string {
	switch v := src.(type) {
	case []byte:
		return fmt.Sprintf("cannot read %q as %s", v, what)
	case string:
		return fmt.Sprintf("cannot read %q as %s", v, what)
	case time.Time:
		if v.IsZero() {
			// What go-sql-driver/mysql with parseTime makes of the zero date.
			return "cannot read the zero date as " + what
		}
	}
	return fmt.Sprintf("cannot read %v (%T) as %s", src, src, what)
}

// timeColumns are the time columns the Store reads, in every table.
var timeColumns = []string{"created_at", "updated_at", "token_disabled_at", "expire_at", "send_at",
	"next_attempt_at", "lease_until", "sent_at"}

// selectList returns the comma-separated column list cols with each time
// column read as text by the database, in the form parseWall reads:
// MySQL's CAST(… AS CHAR) (whatever the DSN's parseTime), PostgreSQL's
// to_char for finite values of the years AD and the value's text
// otherwise (infinity, or a date BC, unreadable whatever the session's
// DateStyle). The driver then never converts a time value
// itself, so no value of one row, which the driver might refuse to convert
// (a zero month, infinity), can fail the whole result set; wallTime reads
// the text leniently instead. SQLite values are text or numbers already.
func (s *Store) selectList(cols string) string {
	parts := strings.Split(cols, ",")
	for i, p := range parts {
		name := strings.TrimSpace(p)
		if slices.Contains(timeColumns, name) {
			parts[i] = " " + s.timeText(name)
		}
	}
	return strings.TrimSpace(strings.Join(parts, ","))
}

// timeText is the expression that reads the time column col as text; see
// selectList.
func (s *Store) timeText(col string) string {
	switch s.dialect {
	case DialectMySQL:
		return "CAST(" + col + " AS CHAR)"
	case DialectPostgres:
		// A year before 1 (BC), which to_char writes without its era
		// (2500 BC as "2500-…"), comes as the text of the value too
		// ("2500-06-01 00:00:00 BC"), which parseWall cannot read.
		return "CASE WHEN isfinite(" + col + ") AND EXTRACT(YEAR FROM " + col + ") > 0 THEN to_char(" + col +
			", 'YYYY-MM-DD HH24:MI:SS.US') ELSE CAST(" + col + " AS text) END"
	case DialectSQLite:
		// Text as it is: modernc would parse the text of a DATETIME
		// column itself and give "…Z" and a zone-less value alike as a
		// UTC time, so that parseWall could not tell a UTC time from a
		// wall-clock one. An expression has no declared type, so it
		// comes as a string; a number stays a number.
		return "CASE WHEN typeof(" + col + ") = 'text' THEN " + col + " || '' ELSE " + col + " END"
	}
	return col
}

// foreignDue is the condition that the time column col, which other
// programs write (sys_message_center.send_at), is at or before the
// arguments foreignArgs makes, or cannot be compared as a time (see
// orUnreadable). On SQLite, where a DATETIME is text, the value is first
// put in the form of those arguments ("2006-01-02 15:04:05.000") by
// SQLite's strftime: other programs write ISO 8601 ("…T…", "…Z",
// "…+08:00"), which compared as text would sort a whole day late. SQLite
// reads a value with a zone ("Z" or an offset) in UTC, so it is compared
// with the time in UTC (the first argument), any other with the wall
// clock in Location (the second). A value strftime cannot read (text
// such as "2026-12-06 7:30:00" or " 2026-12-06 08:00:00"), and a number,
// which strftime reads as a Julian day number where the same INSERT on
// MySQL or PostgreSQL means a date (20991231), count as unreadable:
// claimed at once, so that the Scanner, which reads it in Go (parseWall),
// sends it when due by that reading or fails it with its reason (a number,
// which parseWall never reads, fails), rather than its text sorting hours
// early or late.
// Elsewhere it is "col <= ?" (with PostgreSQL's infinities unreadable),
// and foreignArgs gives one argument. Only send_at gets it: the claims
// walk leased rows too, and next_attempt_at and lease_until are the
// Store's own writes.
func (s *Store) foreignDue(col string) string {
	if s.dialect == DialectSQLite {
		v := "strftime('%Y-%m-%d %H:%M:%f', " + col + ")"
		return "(CASE WHEN typeof(" + col + ") <> 'text' OR " + v + " IS NULL THEN 1" +
			" WHEN " + col + " GLOB '*[Zz]' OR " + col + " GLOB '*[+-][0-9][0-9]:[0-9][0-9]' THEN " + v + " <= ? ELSE " + v + " <= ? END)"
	}
	return col + " <= ?" + s.orUnreadable(col)
}

// foreignArgs are the arguments of a foreignDue condition at t: t as
// timeArg writes it; on SQLite, t in UTC and t in Location, both in
// strftime's form to the millisecond.
func (s *Store) foreignArgs(t time.Time) []any {
	if s.dialect != DialectSQLite {
		return []any{s.timeArg(t)}
	}
	form := func(w time.Time) any {
		if w.Year() < 1 || w.Year() > 9999 {
			return s.timeArg(t)
		}
		return w.Format("2006-01-02 15:04:05.000")
	}
	return []any{form(t.UTC()), form(t.In(s.loc))}
}

// orUnreadable is the condition, to be ORed to a comparison of the time
// column col, that holds for a value the Store cannot compare as a time:
// PostgreSQL's infinities, and on SQLite text that does not start with a
// date (which, compared as text, sorts after every date). Claims treat
// such a send_at, next_attempt_at or lease_until as due, so that the row
// is claimed and fails with its reason rather than sit unsent forever.
// MySQL compares every DATETIME it holds, zero months included, as a date.
func (s *Store) orUnreadable(col string) string {
	if c := s.unreadableTime(col); c != "" {
		return " OR " + c
	}
	return ""
}

// unreadableTime is the condition of orUnreadable, on its own: "" on
// MySQL.
func (s *Store) unreadableTime(col string) string {
	switch s.dialect {
	case DialectPostgres:
		return "NOT isfinite(" + col + ")"
	case DialectSQLite:
		return col + " NOT GLOB '[0-9][0-9][0-9][0-9]-[0-9][0-9]-[0-9][0-9]*'"
	}
	return ""
}

// parseWall reads a DATETIME value. Drivers deliver a time.Time whose wall
// clock is the stored value in some zone of theirs (go-sql-driver/mysql
// with parseTime, pgx, modernc.org/sqlite for DATETIME columns), or the
// text itself. MySQL's zero date reads as no time at all; a number (on
// SQLite) cannot be read.
func parseWall(src any, loc *time.Location) (time.Time, bool, error) {
	switch v := src.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		if v.IsZero() {
			return time.Time{}, false, nil
		}
		if v.Year() < 1 || v.Year() > 9999 {
			return time.Time{}, false, fmt.Errorf("sqlstore: cannot read year %d as a DATETIME", v.Year())
		}
		return time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), loc), true, nil
	case []byte:
		return parseWallText(string(v), loc)
	case string:
		return parseWallText(v, loc)
	case int64, float64:
		// A number, which only SQLite keeps in a DATETIME column: the
		// '20991231' of an INSERT becomes the integer 20991231, which
		// MySQL and PostgreSQL take for 2099-12-31, SQLite's strftime for
		// a Julian day number and other programs for Unix seconds. No
		// reading is safe: the row fails with its reason rather than be
		// sent decades early or never.
		return time.Time{}, false, fmt.Errorf("sqlstore: cannot read the number %v as a DATETIME", v)
	default:
		return time.Time{}, false, fmt.Errorf("sqlstore: cannot read %T as a DATETIME", src)
	}
}

// Layouts of zone-less DATETIME text: MySQL's and SQLite's, ISO 8601's.
var wallLayouts = []string{
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04",
	"2006-01-02",
}

// Layouts of DATETIME text with a zone, as other SQLite programs may write.
var zonedLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02 15:04:05.999999999-07:00",
	"2006-01-02 15:04:05.999999999 -0700 MST",
}

func parseWallText(s string, loc *time.Location) (time.Time, bool, error) {
	s = strings.TrimSpace(s)
	if s == "" || strings.HasPrefix(s, "0000-00-00") {
		return time.Time{}, false, nil
	}
	for _, l := range wallLayouts {
		if t, err := time.ParseInLocation(l, s, loc); err == nil {
			if t.Year() < 1 {
				// Year 0, which MySQL and SQLite let in: before any year a
				// DATETIME holds, as a date BC on PostgreSQL.
				return time.Time{}, false, fmt.Errorf("sqlstore: cannot read %q as a DATETIME: year 0", s)
			}
			return t, true, nil
		}
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			// Read in loc, a time near either end of the years a DATETIME
			// holds may cross it (9999-12-31 23:59 at -05:00 is in year
			// 10000 in UTC), which no reader of it could print.
			if t = t.In(loc); t.Year() < 1 || t.Year() > 9999 {
				return time.Time{}, false, fmt.Errorf("sqlstore: cannot read %q as a DATETIME: in %s it falls in year %d", s, loc, t.Year())
			}
			return t, true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("sqlstore: cannot read %q as a DATETIME", s)
}

// orZero scans a nullable column into *dst, storing T's zero value for
// NULL: the product brief's columns are nullable where the rows have no use for
// the difference.
type orZero[T any] struct{ dst *T }

func (o orZero[T]) Scan(src any) error {
	var n sql.Null[T]
	if err := n.Scan(src); err != nil {
		return err
	}
	*o.dst = n.V
	return nil
}

func zeroIfNull[T any](dst *T) sql.Scanner { return orZero[T]{dst: dst} }

// lenientFlag scans a 0/1 flag column (is_send_ios, is_send_android) of a
// row another program may have written: any number but 0 reads as true,
// as do text that is such a number and "true"; NULL, 0 and anything else
// read as false. It never fails, so that a 2 or a -1 in a flag cannot fail
// the read of the row, nor of a page of rows with it.
type lenientFlag struct{ dst *bool }

func (l lenientFlag) Scan(src any) error {
	var text string
	switch v := src.(type) {
	case bool:
		*l.dst = v
		return nil
	case int64:
		*l.dst = v != 0
		return nil
	case float64:
		*l.dst = v != 0
		return nil
	case []byte:
		text = string(v)
	case string:
		text = v
	}
	text = strings.TrimSpace(text)
	if n, err := strconv.ParseFloat(text, 64); err == nil {
		*l.dst = n != 0
		return nil
	}
	b, err := strconv.ParseBool(text)
	*l.dst = err == nil && b
	return nil
}

// lenientInt scans the integer column col into *dst for a row another
// program may have written: NULL reads as 0, and a value that is no whole
// number (text, or a fraction, which SQLite keeps in any column) reads as
// 0 and is noted in problems, so that the row can be failed with the
// reason instead of failing the read of every row with it.
type lenientInt struct {
	col      string
	dst      *int
	problems *readProblems
}

func (l lenientInt) Scan(src any) error {
	*l.dst = 0
	switch v := src.(type) {
	case nil:
		return nil
	case int64:
		*l.dst = int(v)
		return nil
	case float64:
		if v == math.Trunc(v) && math.Abs(v) <= math.MaxInt32 {
			*l.dst = int(v)
			return nil
		}
	case []byte:
		if n, err := strconv.ParseInt(strings.TrimSpace(string(v)), 10, 64); err == nil {
			*l.dst = int(n)
			return nil
		}
	case string:
		if n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64); err == nil {
			*l.dst = int(n)
			return nil
		}
	}
	l.problems.add(l.col, unreadableAs(src, "an integer"))
	return nil
}

// nullIfEmpty stores "" as NULL, for optional columns whose brief default
// is NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// boolInt stores a bool in the product brief's tinyint(1) columns.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
