package sqlstore_test

import (
	"fmt"
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestDeviceByUUID: the device is found by (platform, uuid) as
// RegisterDevice finds it, with the users of its active links only.
func TestDeviceByUUID(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ctx := t.Context()
		_, _, err := s.DeviceByUUID(ctx, "ios", "nope")
		require.ErrorIs(t, err, registry.ErrNotFound)

		dev, _, err := s.RegisterDevice(ctx, device("u-1", "ios", "tok-1"), "alice")
		require.NoError(t, err)
		got, users, err := s.DeviceByUUID(ctx, "ios", "u-1 ")
		require.NoError(t, err)
		assert.Equal(t, dev.ID, got.ID)
		assert.Equal(t, "tok-1", got.PushToken)
		assert.Equal(t, registry.DefaultPushPlatform, got.PushPlatform)
		assert.Equal(t, []string{"alice"}, users)

		_, _, err = s.RegisterDevice(ctx, device("u-1", "ios", "tok-1"), "bob")
		require.NoError(t, err)
		_, users, err = s.DeviceByUUID(ctx, "ios", "u-1")
		require.NoError(t, err)
		assert.Equal(t, []string{"bob"}, users, "alice's link is inactive now")

		_, _, err = s.DeviceByUUID(ctx, "android", "u-1")
		require.ErrorIs(t, err, registry.ErrNotFound, "the platform is part of the key")
	})
}

// TestListCenterMessages pages through sys_message_center by id.
func TestListCenterMessages(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ctx := t.Context()
		var ids []int64
		for i := range 5 {
			m := &registry.CenterMessage{Title: fmt.Sprint("t", i), Content: "c", NotifyMode: "push", Receivers: "u1"}
			require.NoError(t, s.EnqueueCenterMessage(ctx, m))
			ids = append(ids, m.ID)
		}
		page, err := s.ListCenterMessages(ctx, 0, 3)
		require.NoError(t, err)
		require.Len(t, page, 3)
		assert.Equal(t, ids[:3], []int64{page[0].ID, page[1].ID, page[2].ID})
		assert.Equal(t, "t0", page[0].Title)
		page, err = s.ListCenterMessages(ctx, page[2].ID, 3)
		require.NoError(t, err)
		require.Len(t, page, 2)
		assert.Equal(t, ids[3:], []int64{page[0].ID, page[1].ID})

		_, err = s.ListCenterMessages(ctx, 0, 0)
		require.ErrorIs(t, err, registry.ErrInvalid)

		page, err = s.ListCenterMessagesBetween(ctx, ids[0], ids[3], 10)
		require.NoError(t, err)
		require.Len(t, page, 2, "the bounds are exclusive")
		assert.Equal(t, ids[1:3], []int64{page[0].ID, page[1].ID})
		page, err = s.ListCenterMessagesBetween(ctx, math.MinInt64, math.MaxInt64, 1)
		require.NoError(t, err)
		require.Len(t, page, 1)
		assert.Equal(t, ids[0], page[0].ID)
		_, err = s.ListCenterMessagesBetween(ctx, 0, 10, -1)
		require.ErrorIs(t, err, registry.ErrInvalid)
	})
}

// TestMigrationStatus: a fresh database has every migration pending, and
// after Migrate none of push's; MigrationStatus itself creates nothing.
func TestMigrationStatus(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
		require.NoError(t, err)
		ctx := t.Context()
		st, err := s.MigrationStatus(ctx)
		require.NoError(t, err)
		require.Len(t, st, 2)
		assert.Equal(t, "push", st[0].Component)
		assert.Equal(t, 0, st[0].Current)
		assert.GreaterOrEqual(t, st[0].Latest, 6)
		require.NotEmpty(t, st[0].Pending)
		assert.Equal(t, "0001_brief_tables", st[0].Pending[0])
		assert.Equal(t, fmt.Sprintf("%04d_", st[0].Latest), st[0].Pending[len(st[0].Pending)-1][:5], "the latest is pending too")
		assert.Equal(t, "users", st[1].Component)
		var n int
		require.Error(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM push_schema_migrations").Scan(&n), "nothing created")

		require.NoError(t, s.Migrate(ctx))
		st, err = s.MigrationStatus(ctx)
		require.NoError(t, err)
		assert.Equal(t, st[0].Latest, st[0].Current)
		assert.Empty(t, st[0].Pending)
		assert.Equal(t, 0, st[1].Current, "MigrateUsers not run")
		assert.Equal(t, []string{"0001_sys_users"}, st[1].Pending)
	})
}
