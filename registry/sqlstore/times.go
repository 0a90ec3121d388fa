package sqlstore

import (
	"database/sql"
	"fmt"
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
// column as it is.
func (s *Store) timeArg(t time.Time) any {
	w := t.In(s.loc).Truncate(time.Microsecond)
	if s.dialect == DialectPostgres {
		return w
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
// the second because the brief declares those columns DATETIME: what a
// write returns is what a later read gets.
func (s *Store) stamp() time.Time { return s.now().In(s.loc).Truncate(time.Second) }

// usec cuts t to what the Store's DATETIME(6) columns keep, in the Store's
// Location: what a write returns is what a later read gets.
func (s *Store) usec(t time.Time) time.Time { return t.In(s.loc).Truncate(time.Microsecond) }

// wallTime scans a DATETIME column into dst (NULL: the zero time) or ptr
// (NULL: nil), reading the stored wall clock as a time in loc whatever
// form the driver delivers it in.
type wallTime struct {
	loc *time.Location
	dst *time.Time
	ptr **time.Time
}

func (s *Store) wall(dst *time.Time) sql.Scanner     { return wallTime{loc: s.loc, dst: dst} }
func (s *Store) wallPtr(ptr **time.Time) sql.Scanner { return wallTime{loc: s.loc, ptr: ptr} }

func (w wallTime) Scan(src any) error {
	t, ok, err := parseWall(src, w.loc)
	if err != nil {
		return err
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

// parseWall reads a DATETIME value. Drivers deliver a time.Time whose wall
// clock is the stored value in some zone of theirs (go-sql-driver/mysql
// with parseTime, pgx, modernc.org/sqlite for DATETIME columns), or the
// text itself. MySQL's zero date reads as no time at all.
func parseWall(src any, loc *time.Location) (time.Time, bool, error) {
	switch v := src.(type) {
	case nil:
		return time.Time{}, false, nil
	case time.Time:
		if v.IsZero() {
			return time.Time{}, false, nil
		}
		return time.Date(v.Year(), v.Month(), v.Day(), v.Hour(), v.Minute(), v.Second(), v.Nanosecond(), loc), true, nil
	case []byte:
		return parseWallText(string(v), loc)
	case string:
		return parseWallText(v, loc)
	case int64:
		return time.Unix(v, 0).In(loc), true, nil
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
			return t, true, nil
		}
	}
	for _, l := range zonedLayouts {
		if t, err := time.Parse(l, s); err == nil {
			return t.In(loc), true, nil
		}
	}
	return time.Time{}, false, fmt.Errorf("sqlstore: cannot read %q as a DATETIME", s)
}

// orZero scans a nullable column into *dst, storing T's zero value for
// NULL: the brief's columns are nullable where the rows have no use for
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

// nullIfEmpty stores "" as NULL, for optional columns whose brief default
// is NULL.
func nullIfEmpty(s string) any {
	if s == "" {
		return nil
	}
	return s
}

// boolInt stores a bool in the brief's tinyint(1) columns.
func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}
