package sqlstore

import (
	"context"
	"sync"
	"time"
)

// On SQLite a chunk of users is listed by the range its users span
// (user_num between the first and the last, compared byte by byte, as Go
// sorts them) rather than by an IN list of them, and the rows of users
// outside the chunk are dropped as they are read: one walk of the index
// instead of a look-up a user, about a third less time when the chunk's
// users are most of the users in their range, as in a push to every user
// (issue #9). A range that holds more rows than the page, or more than
// twice the rows kept, is not worth it: that chunk is listed again by an
// IN list, or kept, and every listing of the Store uses IN lists for
// rangeOffFor. Only where the index on user_num compares bytes (BINARY,
// SQLite's default, checked once): under another collation the range
// would not hold the users Go sorted between its ends.
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
		var n int
		if err := s.queryRow(ctx, s.q, `SELECT COUNT(*) FROM pragma_index_xinfo('ix_sys_user_devices_user_num_state')
			WHERE name = 'user_num' AND coll = 'BINARY'`).Scan(&n); err != nil {
			return false // asked again next time
		}
		binary = n == 1
		r.mu.Lock()
		r.checked, r.binary = true, binary
		r.mu.Unlock()
	}
	return binary && !s.now().Before(off)
}

// rangesOff makes the Store list by IN lists for rangeOffFor.
func (s *Store) rangesOff() {
	s.ranges.mu.Lock()
	s.ranges.offUntil = s.now().Add(rangeOffFor)
	s.ranges.mu.Unlock()
}
