package sqlstore_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestCensusListsAsEveryTargetsChecks: a census names the devices whose
// token another row holds and those with more than one active link (rows
// other programs wrote), and a listing with it rules out the same
// targets as one that checks every target.
func TestCensusListsAsEveryTargetsChecks(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		shared := strings.Repeat("ab", 32)
		ids := insertLegacy(t, db, d, "SA", []legacyDevice{{"OLD-PHONE", "ios", "umeng", shared}, {"SA-OWN", "android", "umeng", "own-token"}})
		for k, v := range insertLegacy(t, db, d, "SB", []legacyDevice{{"NEW-PHONE", "ios", "umeng", shared}}) {
			ids[k] = v
		}
		// A token shared across platforms is no takeover: both keep it.
		for k, v := range insertLegacy(t, db, d, "SC", []legacyDevice{{"TABLET", "android", "umeng", "cross-" + shared}}) {
			ids[k] = v
		}
		for k, v := range insertLegacy(t, db, d, "SD", []legacyDevice{{"PHONE-D", "ios", "umeng", "cross-" + shared}}) {
			ids[k] = v
		}
		// One device linked to two users, both active: the newer link's.
		for k, v := range insertLegacy(t, db, d, "SE", []legacyDevice{{"HANDED-ON", "android", "umeng", "handed-on"}}) {
			ids[k] = v
		}
		_, err := db.ExecContext(ctx, dbtest.Rebind(d, "INSERT INTO sys_user_devices (user_num, device_id, state) VALUES (?, ?, 1)"), "SF", ids["HANDED-ON"])
		require.NoError(t, err)

		users := []string{"SA", "SB", "SC", "SD", "SE", "SF"}
		census, err := s.TakeCensus(ctx, len(users))
		require.NoError(t, err)
		require.NotNil(t, census, "tables of a few rows are worth a census")
		for _, uuid := range []string{"OLD-PHONE", "NEW-PHONE", "TABLET", "PHONE-D", "HANDED-ON"} {
			assert.True(t, census.Suspect(ids[uuid]), "%s shares a token or a device", uuid)
		}
		assert.False(t, census.Suspect(ids["SA-OWN"]), "a device of its own token and one link")
		assert.Equal(t, 5, census.Len())

		list := func(c *registry.Census, limit int) []string {
			var out []string
			for after := int64(0); ; {
				page, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: users, AfterUserDeviceID: after, Limit: limit, Census: c})
				require.NoError(t, err)
				for _, tg := range page {
					out = append(out, fmt.Sprintf("%s:%d:%s", tg.UserNum, tg.DeviceID, tg.Token))
				}
				if len(page) < limit {
					return out
				}
				after = page[len(page)-1].UserDeviceID
			}
		}
		want := []string{
			fmt.Sprintf("SA:%d:own-token", ids["SA-OWN"]),
			fmt.Sprintf("SB:%d:%s", ids["NEW-PHONE"], shared),
			fmt.Sprintf("SC:%d:cross-%s", ids["TABLET"], shared),
			fmt.Sprintf("SD:%d:cross-%s", ids["PHONE-D"], shared),
			fmt.Sprintf("SF:%d:handed-on", ids["HANDED-ON"]),
		}
		for _, limit := range []int{1, 2, 1000} {
			assert.Equal(t, want, list(nil, limit), "every target checked, pages of %d", limit)
			assert.Equal(t, want, list(census, limit), "with the census, pages of %d", limit)
		}
		// The census is trusted: a device it does not name is not
		// checked (which is why it must name every device that may need
		// the checks).
		unchecked := list(registry.NewCensus(nil), 1000)
		assert.Contains(t, unchecked, fmt.Sprintf("SA:%d:%s", ids["OLD-PHONE"], shared))
		assert.Contains(t, unchecked, fmt.Sprintf("SE:%d:handed-on", ids["HANDED-ON"]))

		// What a Store writes after the census is read by every listing:
		// a takeover disables the old device's token, a logout its link.
		_, _, err = s.RegisterDevice(ctx, device("NEWER-OWN", registry.PlatformAndroid, "own-token"), "SG")
		require.NoError(t, err)
		got := list(census, 1000)
		assert.NotContains(t, got, fmt.Sprintf("SA:%d:own-token", ids["SA-OWN"]), "the token taken over after the census")
		page, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"SF"}, Census: census})
		require.NoError(t, err)
		require.Len(t, page, 1)
		require.NoError(t, s.DeactivateLink(ctx, "SF", page[0].UserDeviceID))
		page, err = s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"SF"}, Census: census})
		require.NoError(t, err)
		assert.Empty(t, page, "the link logged out after the census")
	})
}

// TestCensusWhenWorthIt: no census for no users, for tables much larger
// than the audience, or when more devices need the checks than a census
// names, and then none for ten minutes.
func TestCensusWhenWorthIt(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		db, _ := dbtest.Open(t, d)
		now := base
		s, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: func() time.Time { return now }})
		require.NoError(t, err)
		require.NoError(t, s.Migrate(t.Context()))
		ctx := t.Context()
		c, err := s.TakeCensus(ctx, 1)
		require.NoError(t, err)
		require.NotNil(t, c, "empty tables")
		assert.Zero(t, c.Len())
		c, err = s.TakeCensus(ctx, 0)
		require.NoError(t, err)
		assert.Nil(t, c, "no audience")

		var devs []legacyDevice
		for i := range 6 {
			devs = append(devs, legacyDevice{fmt.Sprintf("P%d", i), "ios", "umeng", "same-token"})
		}
		insertLegacy(t, db, d, "U1", devs) // 6 devices and 6 links: 12 rows
		c, err = s.TakeCensus(ctx, 1)
		require.NoError(t, err)
		require.NotNil(t, c, "12 rows for one user")
		assert.Equal(t, 6, c.Len())

		s.SetCensusMax(5)
		c, err = s.TakeCensus(ctx, 1)
		require.NoError(t, err)
		assert.Nil(t, c, "6 devices share a token, more than a census names")
		s.SetCensusMax(100)
		c, err = s.TakeCensus(ctx, 1)
		require.NoError(t, err)
		assert.Nil(t, c, "declined for a while after a census named too many, without reading the tables")
		now = now.Add(10 * time.Minute)
		c, err = s.TakeCensus(ctx, 1)
		require.NoError(t, err)
		require.NotNil(t, c, "taken again after ten minutes")
		assert.Equal(t, 6, c.Len())

		insertLegacy(t, db, d, "U2", []legacyDevice{{"Q1", "ios", "umeng", "q1"}, {"Q2", "ios", "umeng", "q2"}, {"Q3", "ios", "umeng", "q3"}})
		c, err = s.TakeCensus(ctx, 1)
		require.NoError(t, err)
		assert.Nil(t, c, "18 rows for one user")
		c, err = s.TakeCensus(ctx, 2)
		require.NoError(t, err)
		assert.NotNil(t, c, "18 rows for two users")
	})
}

// TestCensusErrors: a census or a check that fails is the call's error,
// named.
func TestCensusErrors(t *testing.T) {
	s, mock, _ := mockStore(t)
	ctx := t.Context()
	sizes := sqlPrefix("SELECT (SELECT MAX(id) FROM sys_devices), (SELECT MAX(id) FROM sys_user_devices)")
	mock.ExpectQuery(sizes).WillReturnError(errDriver)
	_, err := s.TakeCensus(ctx, 10)
	require.ErrorIs(t, err, errDriver)
	assert.ErrorContains(t, err, "sqlstore: TakeCensus: size the tables")

	mock.ExpectQuery(sizes).WillReturnRows(sqlmock.NewRows([]string{"a", "b"}).AddRow(10, 10))
	mock.ExpectQuery(sqlPrefix("SELECT d.id FROM sys_devices d")).WillReturnError(errDriver)
	_, err = s.TakeCensus(ctx, 10)
	require.ErrorIs(t, err, errDriver)
	assert.ErrorContains(t, err, "sqlstore: TakeCensus: select suspects")

	mock.ExpectQuery(sizes).WillReturnRows(sqlmock.NewRows([]string{"a", "b"}).AddRow(nil, 1<<62))
	c, err := s.TakeCensus(ctx, 10)
	require.NoError(t, err)
	assert.Nil(t, c, "ids near the type's limit are a table too large")

	// A census that names too many devices is declined, and the next
	// ones for a while without reading the devices again (no query but
	// the sizes').
	s.SetCensusMax(1)
	mock.ExpectQuery(sizes).WillReturnRows(sqlmock.NewRows([]string{"a", "b"}).AddRow(10, 10))
	mock.ExpectQuery(sqlPrefix("SELECT d.id FROM sys_devices d")).WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(1).AddRow(2))
	c, err = s.TakeCensus(ctx, 10)
	require.NoError(t, err)
	assert.Nil(t, c)
	mock.ExpectQuery(sizes).WillReturnRows(sqlmock.NewRows([]string{"a", "b"}).AddRow(10, 10))
	c, err = s.TakeCensus(ctx, 10)
	require.NoError(t, err)
	assert.Nil(t, c)

	census := registry.NewCensus([]int64{7})
	mock.ExpectQuery(sqlPrefix("SELECT ud.id, ud.user_num, d.id")).WillReturnRows(
		sqlmock.NewRows([]string{"ud.id", "user_num", "d.id", "platform", "push_platform", "token"}).
			AddRow(3, "u1", 7, "ios", "umeng", "t7").AddRow(4, "u1", 8, "ios", "umeng", "t8"))
	mock.ExpectQuery(sqlPrefix("SELECT ud.id FROM sys_user_devices ud")).WithArgs(3).WillReturnError(errDriver)
	_, err = s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u1"}, Census: census})
	require.ErrorIs(t, err, errDriver)
	assert.ErrorContains(t, err, "sqlstore: ListTargets: check targets")

	mock.ExpectQuery(sqlPrefix("SELECT ud.id, ud.user_num, d.id")).WillReturnRows(
		sqlmock.NewRows([]string{"ud.id", "user_num", "d.id", "platform", "push_platform", "token"}).
			AddRow(3, "u1", 7, "ios", "umeng", "t7").AddRow(4, "u1", 8, "ios", "umeng", "t8"))
	mock.ExpectQuery(sqlPrefix("SELECT ud.id FROM sys_user_devices ud")).WithArgs(3).WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(3))
	page, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u1"}, Census: census})
	require.NoError(t, err)
	require.Len(t, page, 1, "the suspect's link is ruled out, the other device is not checked")
	assert.Equal(t, int64(8), page[0].DeviceID)
}

// TestCensusAfterATakeoverOfAnyPushPlatformSpelling: a takeover through
// the Store reaches the rows whose push platform the database's LOWER
// folds to the same name, as the listing's check compares them, so that a
// listing with a census taken before it lists what one checking every
// target lists, whatever LOWER folds on the dialect.
func TestCensusAfterATakeoverOfAnyPushPlatformSpelling(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ctx := t.Context()
		old := device("K-OLD", registry.PlatformAndroid, "ktok")
		old.PushPlatform = "xk"
		_, _, err := s.RegisterDevice(ctx, old, "K1")
		require.NoError(t, err)
		census, err := s.TakeCensus(ctx, 2)
		require.NoError(t, err)
		require.NotNil(t, census)
		newer := device("K-NEW", registry.PlatformAndroid, "ktok")
		newer.PushPlatform = "x\u212a" // a Kelvin sign
		_, _, err = s.RegisterDevice(ctx, newer, "K2")
		require.NoError(t, err)
		for _, c := range []*registry.Census{nil, census} {
			page, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"K1", "K2"}, Census: c})
			require.NoError(t, err)
			var users []string
			for _, tg := range page {
				users = append(users, tg.UserNum)
			}
			if d == sqlstore.DialectSQLite {
				assert.Equal(t, []string{"K1", "K2"}, users, "SQLite's LOWER folds ASCII only: two push platforms")
			} else {
				assert.Equal(t, []string{"K2"}, users, "one push platform to LOWER: the token was taken over (census %v)", c != nil)
			}
		}
	})
}
