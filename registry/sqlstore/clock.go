package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"
)

// ClockSkew reports how far the database's own clock, read as the
// programs that share its tables write it (MySQL's NOW() and
// PostgreSQL's LOCALTIMESTAMP in the session's zone, SQLite's
// CURRENT_TIMESTAMP in UTC) and taken as a wall-clock time in
// Options.Location, lies from the Store's clock (Options.Now): about
// zero when Location is the zone of those programs' NOW(). A skew of
// hours means Location is another zone, and a row another program
// schedules with NOW() + INTERVAL … is due that much early or late; a
// host can log it at start-up (examples/server does, over 2 minutes).
func (s *Store) ClockSkew(ctx context.Context) (time.Duration, error) {
	return s.readClock(ctx, "ClockSkew", false)
}

// ClockOffset reports how far the database host's clock lies from the
// Store's (Options.Now), whatever the zones: the database's clock is read
// in UTC (MySQL's UTC_TIMESTAMP(), PostgreSQL's now() at UTC, SQLite's
// CURRENT_TIMESTAMP), so that, unlike ClockSkew, neither Options.Location
// nor the session's zone moves it. Every instance compares the leases of
// its claims with its own clock: a host can warn at start-up when its
// clock and the database's disagree by more than a lease's margin
// (examples/server does, over 30 s). The round trip of the read is in it:
// a slow connection reads a little behind.
func (s *Store) ClockOffset(ctx context.Context) (time.Duration, error) {
	return s.readClock(ctx, "ClockOffset", true)
}

// readClock reads the database's clock, in UTC or as its programs' NOW()
// reads it (see ClockSkew), and returns how far it lies from the Store's
// clock.
func (s *Store) readClock(ctx context.Context, op string, utc bool) (time.Duration, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store." + op)
	}
	query, loc := "SELECT CAST(NOW(6) AS CHAR)", s.loc
	switch {
	case s.dialect == DialectSQLite:
		query = "SELECT strftime('%Y-%m-%d %H:%M:%f', 'now')" // UTC
	case s.dialect == DialectPostgres && utc:
		query = "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS.US')"
	case s.dialect == DialectPostgres:
		query = "SELECT to_char(LOCALTIMESTAMP, 'YYYY-MM-DD HH24:MI:SS.US')"
	case utc:
		query = "SELECT CAST(UTC_TIMESTAMP(6) AS CHAR)"
	}
	if utc {
		loc = time.UTC
	}
	var text string
	if err := s.queryRow(ctx, s.q, query).Scan(&text); err != nil {
		return 0, wrap(op, step("read the database's clock", err))
	}
	at, ok, err := parseWallText(text, loc)
	if err == nil && !ok {
		err = fmt.Errorf("no time in %q", text)
	}
	if err != nil {
		return 0, wrap(op, step("read the database's clock", err))
	}
	return at.Sub(s.now()), nil
}

// CenterRowsAhead reports how far the created_at of the newest row of
// sys_message_center (the largest id), read as a wall-clock time in
// Options.Location, lies ahead of the Store's clock (0 when it does not,
// or the table is empty).
// The Store writes created_at with its own clock in Location, so a row
// ahead was written by a program whose NOW() is in a zone east of
// Location: its scheduled rows run that much late. Unlike ClockSkew it
// judges from what the programs wrote, not from this connection's
// session zone, which theirs may not share. A created_at the Store cannot
// read counts as none.
func (s *Store) CenterRowsAhead(ctx context.Context) (time.Duration, error) {
	if s.unbuilt() {
		return 0, notBuilt("Store.CenterRowsAhead")
	}
	const op = "CenterRowsAhead"
	var newest sql.NullString
	// The newest row by its primary key (one index step), not the largest
	// created_at: one row dated ahead on purpose must not make the warning
	// last for ever.
	err := s.queryRow(ctx, s.q, "SELECT "+s.timeText("created_at")+" FROM sys_message_center ORDER BY id DESC LIMIT 1").Scan(&newest)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, nil
	}
	if err != nil {
		return 0, wrap(op, step("read the newest created_at", err))
	}
	at, ok, err := parseWallText(newest.String, s.loc)
	if err != nil || !ok {
		return 0, nil
	}
	return max(at.Sub(s.now()), 0), nil
}
