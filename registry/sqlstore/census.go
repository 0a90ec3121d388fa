package sqlstore

import (
	"context"
	"database/sql"
	"sync"
	"time"

	"github.com/tuisong/push/registry"
)

// censusRowsPerUser bounds the rows a census reads for each user of the
// audience: a census reads an index of every device row and of every link
// once, about a fifteenth of what looking up one target's checks costs
// (SQLite, 200,000 devices: 0.2 µs a row against 3–5 µs a target), so it
// pays when the tables hold no more than this many rows per user.
const censusRowsPerUser = 16

// censusMaxSuspects bounds the devices a census names: a database where
// more devices share a token or an active link than this is listed with
// every target's checks instead.
const censusMaxSuspects = 100_000

// censusCrowdedFor is how long a Store declines every census after one
// named more than censusMax devices, without reading the tables again: a
// database with that many shared tokens or links does not lose them in
// minutes, and each census of it reads both tables whole.
const censusCrowdedFor = 10 * time.Minute

// crowded is when a Store, and its WithTx copies, may take a census again
// after one named too many devices.
type crowded struct {
	mu    sync.Mutex
	until time.Time
}

func (c *crowded) is(now time.Time) bool {
	c.mu.Lock()
	defer c.mu.Unlock()
	return now.Before(c.until)
}

func (c *crowded) set(until time.Time) {
	c.mu.Lock()
	c.until = until
	c.mu.Unlock()
}

// TakeCensus implements registry.TargetCensus. It estimates the tables'
// rows by their highest ids (declining at once when they are too large for
// the audience, and for censusCrowdedFor after a census found too many
// devices to name), and names the devices whose token another
// device row holds (compared as the listing's check compares it, whatever
// the other row's platform or state) and the devices with more than one
// active link.
func (s *Store) TakeCensus(ctx context.Context, users int) (*registry.Census, error) {
	if s.unbuilt() {
		return nil, notBuilt("Store.TakeCensus")
	}
	const op = "TakeCensus"
	if users < 1 {
		return nil, nil
	}
	var devices, links sql.NullInt64
	if err := s.queryRow(ctx, s.q, `SELECT (SELECT MAX(id) FROM sys_devices), (SELECT MAX(id) FROM sys_user_devices)`).
		Scan(&devices, &links); err != nil {
		return nil, wrap(op, step("size the tables", err))
	}
	// In floats: ids other programs wrote may be near the type's limits.
	if float64(devices.Int64)+float64(links.Int64) > float64(censusRowsPerUser)*float64(users) {
		return nil, nil
	}
	if s.crowded.is(s.now()) {
		return nil, nil
	}
	ids, err := s.queryIDs(ctx, s.q, s.censusQuery())
	if err != nil {
		return nil, wrap(op, step("select suspects", err))
	}
	if len(ids) > s.censusMax {
		s.crowded.set(s.now().Add(censusCrowdedFor))
		return nil, nil
	}
	return registry.NewCensus(ids), nil
}

// censusQuery is TakeCensus's statement: the ids of the devices a census
// names, up to one more than censusMax.
func (s *Store) censusQuery() string {
	// The tokens held as stored by more than one row, read from the
	// index on push_device_token, then the rows holding a token with
	// spaces around it (the partial index), each with the rows holding the
	// same token trimmed (on MySQL and MariaDB, which ignore trailing
	// spaces, leading ones only: the rows of a token starting with a
	// space are a range of that index). A token of spaces only is no
	// token: the rows of the empty token (the product brief's default) are
	// not its holders. (The spaced rows are not read on their own: SQLite
	// reads them from the table, not the partial index, to merge them
	// into the UNION in id order.)
	spaced := `SELECT d.id FROM sys_devices spaced
		JOIN sys_devices d ON d.push_device_token = TRIM(spaced.push_device_token) OR d.id = spaced.id
		WHERE ` + spacedToken("spaced.push_device_token") + ` AND TRIM(spaced.push_device_token) <> ''`
	if s.dialect == DialectMySQL {
		spaced = `SELECT d.id FROM sys_devices spaced JOIN sys_devices d ON d.push_token_key = spaced.push_token_key
			WHERE spaced.push_device_token LIKE ' %' AND spaced.push_token_key <> ''`
	}
	shared := `SELECT d.id FROM sys_devices d
		JOIN (SELECT push_device_token AS token FROM sys_devices
			WHERE push_device_token IS NOT NULL AND push_device_token <> ''
			GROUP BY push_device_token HAVING COUNT(*) > 1) shared ON d.push_device_token = shared.token`
	if s.dialect == DialectMySQL {
		// MariaDB groups the joined derived table through a temporary
		// table of every token (about 4 s at 600,000 devices), and the
		// same subquery under IN through the index in order (0.4 s).
		shared = `SELECT d.id FROM sys_devices d
			WHERE d.push_device_token IN (SELECT push_device_token FROM sys_devices
				WHERE push_device_token IS NOT NULL AND push_device_token <> ''
				GROUP BY push_device_token HAVING COUNT(*) > 1)`
	}
	return shared + `
		UNION
		` + spaced + `
		UNION
		SELECT device_id FROM sys_user_devices WHERE state = 1 AND device_id IS NOT NULL
			GROUP BY device_id HAVING COUNT(*) > 1` + limitClause(s.censusMax+1)
}
