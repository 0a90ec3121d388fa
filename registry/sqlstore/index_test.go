package sqlstore_test

import (
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

// TestHotQueriesUseIndexes: the statements every claim and push runs find
// their rows through the index meant for them, never by scanning a whole
// table. The tables hold mostly finished rows, as they do in production.
func TestHotQueriesUseIndexes(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		for i := range 100 {
			var ds []*registry.Delivery
			for j := range 10 {
				dl := delivery(fmt.Sprintf("k-%d-%d", i, j), registry.PlatformIOS, base, "t")
				if i > 2 {
					dl.State = registry.DeliveryDone
				}
				ds = append(ds, dl)
			}
			require.NoError(t, s.CreatePushMessage(ctx, &registry.PushMessage{Title: "x"}, ds))
			require.NoError(t, s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Content: "c", Receivers: "r"}))
			_, _, err := s.RegisterDevice(ctx, device(fmt.Sprint("u", i), registry.PlatformIOS, fmt.Sprint("t", i)), fmt.Sprint("U", i%25))
			require.NoError(t, err)
		}
		_, err := db.ExecContext(ctx, "UPDATE sys_message_center SET send_state = 1 WHERE id > 3")
		require.NoError(t, err)

		conn, err := db.Conn(ctx)
		require.NoError(t, err)
		defer conn.Close()
		explain := "EXPLAIN "
		switch d {
		case sqlstore.DialectSQLite:
			explain = "EXPLAIN QUERY PLAN "
		case sqlstore.DialectPostgres:
			// Tables this small are cheaper to scan; with scans priced
			// out, the plan shows whether an index serves the query.
			_, err := conn.ExecContext(ctx, "SET enable_seqscan = off")
			require.NoError(t, err)
			_, err = conn.ExecContext(ctx, "ANALYZE")
			require.NoError(t, err)
		case sqlstore.DialectMySQL:
			_, err := conn.ExecContext(ctx, "ANALYZE TABLE sys_push_deliveries, sys_message_center, sys_user_devices, sys_devices")
			require.NoError(t, err)
		}
		for _, q := range s.HotQueries(at(time.Minute), []string{"U1", "U2"}, []string{"t1", "t2"}) {
			rows, err := conn.QueryContext(ctx, explain+q.SQL, q.Args...)
			require.NoError(t, err, q.Name)
			cols, err := rows.Columns()
			require.NoError(t, err)
			var plan []string
			for rows.Next() {
				vals := make([]any, len(cols))
				ptrs := make([]any, len(cols))
				for i := range vals {
					ptrs[i] = &vals[i]
				}
				require.NoError(t, rows.Scan(ptrs...))
				line := make([]string, len(cols))
				for i, v := range vals {
					if b, ok := v.([]byte); ok {
						v = string(b)
					}
					line[i] = fmt.Sprintf("%s=%v", cols[i], v)
				}
				plan = append(plan, strings.Join(line, " "))
			}
			require.NoError(t, rows.Err())
			rows.Close()
			for _, step := range plan {
				switch d {
				case sqlstore.DialectSQLite:
					assert.NotRegexp(t, `detail=SCAN \w+($| )`, step, "%s scans a table: %s", q.Name, plan)
				case sqlstore.DialectMySQL:
					assert.NotRegexp(t, `type=(ALL|index) `, step, "%s scans a table: %s", q.Name, plan)
				case sqlstore.DialectPostgres:
					assert.NotContains(t, step, "Seq Scan", "%s scans a table: %s", q.Name, plan)
				}
			}
			assert.Regexp(t, q.Index, strings.Join(plan, "\n"), "%s uses its index", q.Name)
		}
	})
}

// TestCensusGroupsThroughTheIndexOnMySQL: on MySQL/MariaDB the census
// reads the shared tokens through the token index in order, with no
// temporary table of every token (which took seconds at 600,000 devices).
func TestCensusGroupsThroughTheIndexOnMySQL(t *testing.T) {
	dbtest.SkipUnlessAvailable(t, sqlstore.DialectMySQL)
	s, db := newStore(t, sqlstore.DialectMySQL)
	ctx := t.Context()
	for i := range 50 {
		_, _, err := s.RegisterDevice(ctx, device(fmt.Sprint("c", i), registry.PlatformIOS, fmt.Sprint("tok", i%40)), fmt.Sprint("U", i))
		require.NoError(t, err)
	}
	plan := explain(t, db, sqlstore.DialectMySQL, s.CensusQuery(), nil)
	for _, step := range plan {
		if strings.Contains(step, "table=sys_devices") && strings.Contains(step, "ix_sys_devices_push_device_token") {
			assert.NotContains(t, step, "Using temporary", "the shared tokens are grouped in index order:\n%s", strings.Join(plan, "\n"))
		}
	}
	assert.NotEmpty(t, plan)
}
