package sqlstore_test

import (
	"context"
	"crypto/md5"
	"database/sql"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestPushHoldersOfALargePushLeadWithTheTokens: on PostgreSQL, with
// statistics of a push to every one of 200,000 users, the holders of a
// delivery's 500 tokens are found through the token index, not by a scan
// of every device (what the plan of the tokens' condition joined with OR
// was; SQLite's order is checked by TestHotQueriesUseIndexes).
func TestPushHoldersOfALargePushLeadWithTheTokens(t *testing.T) {
	s, db := seededPostgres(t,
		`INSERT INTO sys_devices (id, platform, uuid, push_device_token, push_platform)
			SELECT g, CASE WHEN g % 2 = 0 THEN 'ios' ELSE 'android' END, 'uuid' || g, md5(g::text) || md5((g + 1)::text), 'umeng'
			FROM generate_series(1, 200000) g`,
		`INSERT INTO sys_user_devices (id, user_num, device_id, state) SELECT g, 'U' || g, g, 1 FROM generate_series(1, 200000) g`,
		`INSERT INTO sys_push_message_users (push_message_id, user_num) SELECT 1, 'U' || g FROM generate_series(1, 200000) g`,
		`ANALYZE`,
	)
	ctx := t.Context()
	var tokens []string
	require.NoError(t, func() error {
		rows, err := db.QueryContext(ctx, "SELECT push_device_token FROM sys_devices WHERE id % 400 = 0 ORDER BY id")
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var tok string
			if err := rows.Scan(&tok); err != nil {
				return err
			}
			tokens = append(tokens, tok)
		}
		return rows.Err()
	}())
	require.Len(t, tokens, 500)
	q, args := s.HolderIDsQuery(tokens)
	text := scansOf(t, db, q, args)
	assert.NotContains(t, text, "Seq Scan", "the devices of 500 tokens are found by index:\n%s", text)
	assert.Contains(t, text, "ix_sys_devices_push_device_token", "the tokens are looked up:\n%s", text)
	ids := make([]int64, 500)
	for i := range ids {
		ids[i] = int64(400 * (i + 1))
	}
	q, args = s.HoldersQuery(1, nil, ids)
	text = scansOf(t, db, q, args)
	assert.NotContains(t, text, "Seq Scan", "the holders of 500 devices are found by index:\n%s", text)

	holders, recorded, err := s.PushHolders(ctx, 1, tokens)
	require.NoError(t, err)
	assert.True(t, recorded)
	assert.Len(t, holders, 500, "every token's device is a holder")
	for _, h := range holders {
		assert.Equal(t, fmt.Sprint("U", h.DeviceID), h.UserNum, "device %d's holder", h.DeviceID)
		assert.Zero(t, h.DeviceID%400, "device %d is no device of the tokens", h.DeviceID)
	}
}

// scansOf is the lines of the plan of q that read a table.
func scansOf(t *testing.T, db *sql.DB, q string, args []any) string {
	t.Helper()
	rows, err := db.QueryContext(t.Context(), "EXPLAIN "+q, args...)
	require.NoError(t, err)
	defer rows.Close()
	var scans []string
	for rows.Next() {
		var line string
		require.NoError(t, rows.Scan(&line))
		if strings.Contains(line, "Scan") {
			scans = append(scans, line)
		}
	}
	require.NoError(t, rows.Err())
	return strings.Join(scans, "\n")
}

// TestPushHoldersWithoutStatistics: on PostgreSQL tables never analysed
// (a bulk load, autovacuum off or behind), the holders of a delivery's 500
// tokens in a push to 25,000 users are found in a few hundred
// milliseconds: the statement that looked the tokens up in a subquery was
// planned from the push's users, estimated at a few rows, with a scan of
// every device for each one, and ran for minutes while the Scanner's pass
// waited for it. (The bound below is a hang's, not a speed target.)
func TestPushHoldersWithoutStatistics(t *testing.T) {
	s, db := seededPostgres(t,
		`INSERT INTO sys_devices (id, platform, uuid, push_device_token, push_platform)
			SELECT g, CASE WHEN g % 2 = 0 THEN 'ios' ELSE 'android' END, 'uuid' || g, md5(g::text) || 'tok', 'umeng'
			FROM generate_series(1, 50000) g`,
		`INSERT INTO sys_user_devices (user_num, device_id, state) SELECT 'U' || ((g - 1) / 2), g, 1 FROM generate_series(1, 50000) g`,
		`INSERT INTO sys_push_message_users (push_message_id, user_num) SELECT 1, 'U' || g FROM generate_series(0, 24999) g`,
	)
	ctx := t.Context()
	var analysed float64
	require.NoError(t, db.QueryRowContext(ctx, "SELECT reltuples FROM pg_class WHERE relname = 'sys_push_message_users'").Scan(&analysed))
	if analysed >= 0 {
		t.Skip("this server analysed the table already (autovacuum on): the plan under test needs a table never analysed")
	}
	tokens := make([]string, 500)
	for i := range tokens {
		tokens[i] = fmt.Sprintf("%x", md5.Sum([]byte(fmt.Sprint(1001+i)))) + "tok"
	}
	hctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	holders, recorded, err := s.PushHolders(hctx, 1, tokens)
	require.NoError(t, err, "the holders are found before the bound")
	assert.True(t, recorded)
	assert.Len(t, holders, 500)
}

// TestPushHoldersOfATokenManyRowsHold: a junk token that 70,000 adopted
// rows hold names more devices than a PostgreSQL statement takes
// parameters; PushHolders still answers (the ids were one parameter
// each, and the read failed on every retry of the delivery).
func TestPushHoldersOfATokenManyRowsHold(t *testing.T) {
	s, _ := seededPostgres(t,
		`INSERT INTO sys_devices (id, platform, uuid, push_device_token, push_platform)
			SELECT g, 'android', 'junk-' || g, 'null', 'umeng' FROM generate_series(1, 70000) g`,
		`INSERT INTO sys_user_devices (user_num, device_id, state) VALUES ('U1', 70000, 1)`,
		`INSERT INTO sys_push_message_users (push_message_id, user_num) VALUES (1, 'U1')`,
	)
	ctx := t.Context()
	holders, recorded, err := s.PushHolders(ctx, 1, []string{"null"})
	require.NoError(t, err)
	assert.True(t, recorded)
	require.Len(t, holders, 1, "the newest holder of the token, whose user is the push's")
	assert.EqualValues(t, 70000, holders[0].DeviceID)
}

// seededPostgres is a Store on a fresh, migrated PostgreSQL database (the
// test skipped without one, and run in parallel) and its pool, with stmts
// run on it.
func seededPostgres(t *testing.T, stmts ...string) (*sqlstore.Store, *sql.DB) {
	t.Helper()
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectPostgres)
	t.Parallel()
	s, db := newStore(t, sqlstore.DialectPostgres)
	execAll(t, db, stmts...)
	return s, db
}

// execAll runs stmts on db in order, each required to succeed.
func execAll(t *testing.T, db *sql.DB, stmts ...string) {
	t.Helper()
	for _, q := range stmts {
		_, err := db.ExecContext(t.Context(), q)
		require.NoError(t, err, q)
	}
}

// TestCenterClaimWithoutStatistics: on a sys_message_center never
// analysed (autovacuum off, or behind after a bulk load), the claim walks
// its index in claim order, stopping after the batch. Planned freely,
// PostgreSQL took the unsent rows for a few, scanned them all by bitmap
// and sorted them: hundreds of milliseconds a claim at a few hundred
// thousand rows.
func TestCenterClaimWithoutStatistics(t *testing.T) {
	s, db := seededPostgres(t,
		`INSERT INTO sys_message_center (title, content, notify_mode, notify_level, receivers, send_state, created_at, updated_at)
			SELECT 't', 'c', 'push', g % 3, 'U' || g, 0, now(), now() FROM generate_series(1, 50000) g`,
	)
	ctx := t.Context()
	var analysed float64
	require.NoError(t, db.QueryRowContext(ctx, "SELECT reltuples FROM pg_class WHERE relname = 'sys_message_center'").Scan(&analysed))
	if analysed >= 0 {
		t.Skip("this server analysed the table already (autovacuum on): the plan under test needs a table never analysed")
	}
	p := registry.ClaimParams{Now: time.Now(), Limit: 100, Lease: time.Minute}
	plain, err := s.ExplainClaim(ctx, false, p, true)
	require.NoError(t, err)
	t.Logf("planned freely:\n%s", plain)
	plan, err := s.ExplainClaim(ctx, false, p, false)
	require.NoError(t, err)
	assert.Contains(t, plan, "Index Scan using ix_sys_message_center_due", "the claim walks its index:\n%s", plan)
	assert.NotContains(t, plan, "Sort", "the claim sorts no rows:\n%s", plan)

	got, err := s.ClaimCenterMessages(ctx, p)
	require.NoError(t, err)
	require.Len(t, got, 100)
	for i, m := range got {
		assert.Equal(t, 2, m.NotifyLevel, "highest level first")
		if i > 0 {
			assert.Less(t, got[i-1].ID, m.ID, "then lowest id")
		}
	}
	assert.EqualValues(t, 2, got[0].ID, "the first row of level 2")
}

// TestDeliveryClaimsWithoutStatistics: on a sys_push_deliveries never
// analysed, the send and poll claims walk the index of due deliveries in
// next_attempt_at order, sorting only the ties (an incremental sort);
// planned freely, PostgreSQL read every delivery of the state by bitmap
// and sorted them all.
func TestDeliveryClaimsWithoutStatistics(t *testing.T) {
	s, db := seededPostgres(t,
		`INSERT INTO sys_push_messages (id, title, content, created_at, updated_at) VALUES (1, 't', 'c', now(), now())`,
		`INSERT INTO sys_push_deliveries (push_message_id, provider, platform, seq, audience, tokens, state, attempts, next_attempt_at,
				pollable, idempotency_key, created_at, updated_at)
			SELECT 1, 'umeng', 'ios', g, 'tokens', 'tok' || g, CASE WHEN g % 2 = 0 THEN 'pending' ELSE 'accepted' END, 0,
				now() - (g || ' seconds')::interval, 1, 'k' || g, now(), now()
			FROM generate_series(1, 50000) g`,
	)
	ctx := t.Context()
	var analysed float64
	require.NoError(t, db.QueryRowContext(ctx, "SELECT reltuples FROM pg_class WHERE relname = 'sys_push_deliveries'").Scan(&analysed))
	if analysed >= 0 {
		t.Skip("this server analysed the table already (autovacuum on): the plan under test needs a table never analysed")
	}
	for _, kind := range []registry.ClaimKind{registry.ClaimSend, registry.ClaimPoll} {
		p := registry.ClaimParams{Now: time.Now(), Limit: 100, Lease: time.Minute, Kind: kind}
		plain, err := s.ExplainClaim(ctx, true, p, true)
		require.NoError(t, err)
		t.Logf("kind %d planned freely:\n%s", kind, plain)
		plan, err := s.ExplainClaim(ctx, true, p, false)
		require.NoError(t, err)
		assert.Contains(t, plan, "Index Scan using ix_sys_push_deliveries_due", "kind %d walks its index:\n%s", kind, plan)
		assert.NotRegexp(t, `(?m)^\s*(->\s*)?Sort\s+\(`, plan, "kind %d sorts no whole set of rows:\n%s", kind, plan)

		got, err := s.ClaimDeliveries(ctx, p)
		require.NoError(t, err)
		require.Len(t, got, 100)
		for i := 1; i < len(got); i++ {
			assert.False(t, got[i].NextAttemptAt.Before(got[i-1].NextAttemptAt), "kind %d: oldest due first", kind)
		}
	}
}
