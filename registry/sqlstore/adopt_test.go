package sqlstore_test

import (
	"database/sql"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// createBriefSchema creates the product brief's five tables the way the product brief's
// system did: on MySQL/MariaDB from the product brief's CREATE TABLE statements
// verbatim, on SQLite from the labelled transliteration in testdata.
func createBriefSchema(t *testing.T, db *sql.DB, d sqlstore.Dialect) {
	t.Helper()
	switch d {
	case sqlstore.DialectMySQL:
		for _, table := range briefTables {
			_, err := db.ExecContext(t.Context(), briefDDL(t, table))
			require.NoError(t, err, "the product brief's DDL of %s", table)
		}
	case sqlstore.DialectSQLite:
		execScript(t, db, "sqlite_brief_ddl.sql")
	default:
		t.Fatalf("the product brief has no DDL for %s", d)
	}
}

// TestAdoptBriefDatabase: a database created from the product brief's DDL and
// full of the product brief's rows is adopted by Migrate without losing or
// rewriting a row, and its users are pushed to without registering again.
func TestAdoptBriefDatabase(t *testing.T) {
	tests := []struct {
		name    string
		dialect sqlstore.Dialect
		// legacy runs after the product brief's DDL, to age the schema further.
		legacy []string
	}{
		{name: "mariadb", dialect: sqlstore.DialectMySQL},
		{
			// Tables from before MySQL 5.7 used the COMPACT row format,
			// whose 767-byte index keys cannot hold utf8mb4 VARCHAR(255).
			// (The wide sys_push_messages cannot be COMPACT in strict
			// mode at all.)
			name:    "mariadb-compact-row-format",
			dialect: sqlstore.DialectMySQL,
			legacy: []string{
				"ALTER TABLE sys_devices ROW_FORMAT=COMPACT",
				"ALTER TABLE sys_user_devices ROW_FORMAT=COMPACT",
			},
		},
		{name: "sqlite", dialect: sqlstore.DialectSQLite},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := t.Context()
			db, _ := dbtest.Open(t, tt.dialect)
			createBriefSchema(t, db, tt.dialect)
			for _, stmt := range tt.legacy {
				_, err := db.ExecContext(ctx, stmt)
				require.NoError(t, err)
			}
			execScript(t, db, "legacy_rows.sql")
			before := map[string][][]string{}
			for _, table := range briefTables {
				before[table] = snapshot(t, db, table)
			}

			s, err := sqlstore.New(db, sqlstore.Options{Dialect: tt.dialect, Now: fixedClock(base)})
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx))
			require.NoError(t, s.Migrate(ctx), "a second Migrate does nothing")

			for _, table := range briefTables {
				assert.Equal(t, before[table], snapshot(t, db, table), "%s: every legacy row as it was", table)
			}
			if tt.dialect == sqlstore.DialectMySQL {
				for _, table := range briefTables[1:] {
					_, rows := queryStrings(t, db, `SELECT DISTINCT character_set_name FROM information_schema.columns
						WHERE table_schema = DATABASE() AND table_name = ? AND character_set_name IS NOT NULL`, table)
					assert.Equal(t, [][]string{{"utf8mb4"}}, rows, "%s converted to utf8mb4", table)
				}
			}

			// The legacy users' devices are targets at once: the newest
			// active link of each device, with a usable token.
			targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"A001", "A002", "A003"}})
			require.NoError(t, err)
			assert.Equal(t, []registry.Target{
				{UserDeviceID: 2, UserNum: "A002", DeviceID: 2, Platform: "android", PushPlatform: "umeng", Token: "Ag_legacy_android_token_2_xxxxxxxxxxxxxxxxxx"},
				{UserDeviceID: 4, UserNum: "A001", DeviceID: 3, Platform: "android", PushPlatform: "umeng", Token: "Ag_legacy_android_token_3_xxxxxxxxxxxxxxxxxx"},
				{UserDeviceID: 5, UserNum: "A002", DeviceID: 4, Platform: "ios", PushPlatform: "umeng", Token: "4a4b4c4d4e4f404142434445464748494a4b4c4d4e4f40414243444546474849"},
				{UserDeviceID: 7, UserNum: "A001", DeviceID: 1, Platform: "ios", PushPlatform: "umeng", Token: "0c1f7a3f5b0e4d4c9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a0b9c8d7e6f"},
			}, targets)
			census, err := s.TakeCensus(ctx, 3)
			require.NoError(t, err)
			require.NotNil(t, census)
			withCensus, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"A001", "A002", "A003"}, Census: census})
			require.NoError(t, err)
			assert.Equal(t, targets, withCensus, "a census's listing checks the legacy devices linked to two users")

			// Legacy rows read back through the store.
			legacyDevice, err := s.GetDevice(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, "张三的 iPhone", legacyDevice.Name)
			assert.Equal(t, "老张", legacyDevice.Alias)
			assert.Equal(t, time.Date(2018, 3, 1, 9, 0, 0, 0, time.UTC), legacyDevice.CreatedAt)
			legacyPush, err := s.GetPushMessage(ctx, 1)
			require.NoError(t, err)
			assert.Equal(t, "订单提醒", legacyPush.Title)
			assert.Equal(t, registry.PlatformSummary{
				DeviceTokens: "Ag_legacy_android_token_2_xxxxxxxxxxxxxxxxxx", TaskID: "ua12345678901234567890", Ret: "SUCCESS", Status: "2",
				Response: `{"ret":"SUCCESS","data":{"task_id":"ua12345678901234567890"}}`, Timestamp: "1520060400000", IsSend: true,
			}, legacyPush.Android)
			link9, err := s.GetUserDevice(ctx, 9)
			require.NoError(t, err)
			assert.False(t, link9.Active, "a NULL state is an inactive link")

			// Center rows other programs inserted are claimable, most urgent
			// first.
			claimed, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 10, Lease: time.Minute})
			require.NoError(t, err)
			assert.Equal(t, []int64{2, 3}, []int64{claimed[0].ID, claimed[1].ID})
			assert.Equal(t, "服务器 db-1 磁盘使用率 91%。", claimed[0].Content)

			// Registering a legacy device again updates that row, reuses the
			// user's newest link to it and logs the other users out.
			dev, link, err := s.RegisterDevice(ctx, &registry.Device{
				UUID: "LEGACY-IOS-1", Platform: registry.PlatformIOS, PushToken: "new-token-1", Name: "李四的 iPhone 🎉",
			}, "A002")
			require.NoError(t, err)
			assert.Equal(t, int64(1), dev.ID)
			assert.Equal(t, "老张", dev.Alias, "alias is kept")
			assert.Equal(t, int64(6), link.ID, "the user's old link is reused")
			for _, id := range []int64{1, 7} {
				l, err := s.GetUserDevice(ctx, id)
				require.NoError(t, err)
				assert.False(t, l.Active, "link %d of the previous user", id)
			}

			// New pushes and center rows take emoji now.
			m := &registry.PushMessage{Title: "新年快乐 🎉", Content: "🧧 红包已到账", Extra: `{"emoji":"🎆"}`, PushType: registry.PushTypeUsers}
			require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{delivery("adopt-1", registry.PlatformIOS, base, "new-token-1")}))
			assert.Equal(t, int64(3), m.ID, "ids continue after the legacy rows")
			got, err := s.GetPushMessage(ctx, m.ID)
			require.NoError(t, err)
			assert.Equal(t, m.Title, got.Title)
			assert.Equal(t, m.Content, got.Content)
			assert.Equal(t, m.Extra, got.Extra)
			cm := &registry.CenterMessage{Title: "🎉", Content: "周报 📈", NotifyMode: "push", Receivers: "A001"}
			require.NoError(t, s.EnqueueCenterMessage(ctx, cm))
			gotCM, err := s.GetCenterMessage(ctx, cm.ID)
			require.NoError(t, err)
			assert.Equal(t, "周报 📈", gotCM.Content)
		})
	}
}

// TestMigrateRefusesDuplicateDevices: an adopted sys_devices whose rows
// share a (platform, uuid) cannot get the unique key; Migrate says which
// pairs, changes nothing, and succeeds once the duplicates are gone.
func TestMigrateRefusesDuplicateDevices(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		ctx := t.Context()
		db, _ := dbtest.Open(t, d)
		if d == sqlstore.DialectPostgres {
			_, err := db.ExecContext(ctx, `CREATE TABLE sys_devices (id serial PRIMARY KEY, name varchar(255), platform varchar(255),
				os varchar(255), os_version varchar(255), uuid varchar(255), push_device_token varchar(255) DEFAULT '',
				alias varchar(255), push_platform varchar(255) DEFAULT 'umeng', created_at timestamp, updated_at timestamp)`)
			require.NoError(t, err)
		} else {
			createBriefSchema(t, db, d)
		}
		for _, row := range [][]string{
			{"ios", "DUP-1"}, {"ios", "DUP-1"}, {"android", "DUP-2"}, {"android", "DUP-2"}, {"android", "DUP-2"},
			{"ios", "DUP-2"}, {"android", "dup-2"}, {"ios", ""}, {"ios", "x' OR '1'='1"},
		} {
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, "INSERT INTO sys_devices (platform, uuid) VALUES (?, ?)"), row[0], row[1])
			require.NoError(t, err)
		}
		// Rows without a uuid do not collide in a unique index.
		for range 2 {
			_, err := db.ExecContext(ctx, "INSERT INTO sys_devices (platform, uuid) VALUES ('ios', NULL)")
			require.NoError(t, err)
		}
		schemaBefore := schemaOf(t, db, d)

		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
		require.NoError(t, err)
		err = s.Migrate(ctx)
		var dup *sqlstore.DuplicatesError
		require.True(t, errors.As(err, &dup), "got %v", err)
		assert.Equal(t, "sys_devices", dup.Table)
		assert.Equal(t, []string{"platform", "uuid"}, dup.Columns)
		assert.Equal(t, [][]string{{"android", "DUP-2"}, {"ios", "DUP-1"}}, dup.Values)
		assert.Equal(t, []int64{3, 2}, dup.Counts)
		assert.Contains(t, err.Error(), `("ios", "DUP-1") in 2 rows`)
		assert.Contains(t, err.Error(), `("android", "DUP-2") in 3 rows`)
		assert.Contains(t, err.Error(), "Migrate: ")
		assert.Equal(t, schemaBefore, schemaOf(t, db, d), "nothing changed")

		_, err = db.ExecContext(ctx, "DELETE FROM sys_devices WHERE uuid IN ('DUP-1', 'DUP-2')")
		require.NoError(t, err)
		require.NoError(t, s.Migrate(ctx))
	})
}

// schemaOf describes the tables, columns, types, character sets and
// indexes of the test database, to prove that a failed Migrate changed
// nothing.
func schemaOf(t *testing.T, db *sql.DB, d sqlstore.Dialect) [][]string {
	t.Helper()
	var query string
	switch d {
	case sqlstore.DialectMySQL:
		query = `SELECT c.table_name, c.column_name, c.column_type, COALESCE(c.collation_name, ''), t.table_collation, t.row_format
			FROM information_schema.columns c JOIN information_schema.tables t
				ON t.table_schema = c.table_schema AND t.table_name = c.table_name
			WHERE c.table_schema = DATABASE()
			UNION ALL
			SELECT table_name, index_name, column_name, '', '', '' FROM information_schema.statistics WHERE table_schema = DATABASE()
			ORDER BY 1, 2, 3`
	case sqlstore.DialectPostgres:
		query = `SELECT table_name::text, column_name::text, data_type::text FROM information_schema.columns WHERE table_schema = current_schema()
			UNION ALL
			SELECT tablename::text, indexname::text, indexdef FROM pg_indexes WHERE schemaname = current_schema()
			ORDER BY 1, 2, 3`
	default:
		query = "SELECT type, name, COALESCE(sql, '') FROM sqlite_master ORDER BY 1, 2"
	}
	_, rows := queryStrings(t, db, query)
	return rows
}
