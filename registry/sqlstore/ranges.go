package sqlstore

import (
	"context"
	"strings"
	"sync"
	"time"
)

// On SQLite a chunk of users is listed by the range its users span
// (user_num between the first and the last, compared byte by byte, as Go
// sorts them) rather than by an IN list of them, and the rows of users
// outside the chunk are dropped as they are read: one walk of the index
// instead of a look-up a user, which costs less when the chunk's users
// are most of the users in their range, as in a push to every user (issue
// #9; bench/RESULTS.md has the figures). A range that holds more rows than the page, or more than
// twice the rows kept, is not worth it: that chunk is listed again by an
// IN list, or kept, and every listing of the Store uses IN lists for
// rangeOffFor.
//
// The range holds every user Go sorts between its ends only where SQLite
// compares user_num as Go compares strings, which byRange checks once: a
// database stored as UTF-8 (under UTF-16 BINARY compares UTF-16 bytes), a
// user_num column of text affinity (a table another program made with
// user_num INT holds numbers, which compare as numbers), and an index on
// it that compares bytes (BINARY, SQLite's default), so that the range
// walks the index.
const rangeOffFor = time.Minute

// ranges is whether a Store lists chunks by range; shared with WithTx
// copies.
type ranges struct {
	mu       sync.Mutex
	checked  bool
	binary   bool
	offUntil time.Time
}

// byRange reports whether a chunk of users may be listed by range now.
func (s *Store) byRange(ctx context.Context) bool {
	if s.dialect != DialectSQLite || s.ranges == nil {
		return false
	}
	r := s.ranges
	r.mu.Lock()
	checked, binary, off := r.checked, r.binary, r.offUntil
	r.mu.Unlock()
	if !checked {
		// Not under r.mu: the query may wait for a connection that a
		// caller of a WithTx copy holds while it waits for r.mu.
		var ok bool
		var err error
		if ok, err = s.comparesAsGo(ctx); err != nil {
			return false // asked again next time
		}
		binary = ok
		r.mu.Lock()
		r.checked, r.binary = true, binary
		r.mu.Unlock()
	}
	return binary && !s.now().Before(off)
}

// comparesAsGo reports whether SQLite compares sys_user_devices.user_num
// as Go compares strings and has a BINARY index on it (see above).
func (s *Store) comparesAsGo(ctx context.Context) (bool, error) {
	var encoding, declared string
	var binary int
	err := s.queryRow(ctx, s.q, `SELECT (SELECT encoding FROM pragma_encoding),
		(SELECT COALESCE(MAX(type), '') FROM pragma_table_info('sys_user_devices') WHERE name = 'user_num'),
		(SELECT COUNT(*) FROM pragma_index_xinfo('ix_sys_user_devices_user_num_state') WHERE name = 'user_num' AND coll = 'BINARY')`).
		Scan(&encoding, &declared, &binary)
	if err != nil {
		return false, err
	}
	return encoding == "UTF-8" && textAffinity(declared) && binary == 1, nil
}

// textAffinity reports whether SQLite gives a column of the declared type
// text affinity (https://sqlite.org/datatype3.html, 3.1): its type holds
// CHAR, CLOB or TEXT, and not INT, which comes first.
func textAffinity(declared string) bool {
	t := strings.ToUpper(declared)
	return !strings.Contains(t, "INT") &&
		(strings.Contains(t, "CHAR") || strings.Contains(t, "CLOB") || strings.Contains(t, "TEXT"))
}

// rangesOff makes the Store list by IN lists for rangeOffFor.
func (s *Store) rangesOff() {
	s.ranges.mu.Lock()
	s.ranges.offUntil = s.now().Add(rangeOffFor)
	s.ranges.mu.Unlock()
}
