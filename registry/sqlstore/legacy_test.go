package sqlstore_test

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// legacyDevice is a sys_devices row as another program wrote it: any
// spelling of the platform, and push_platform NULL (nil), empty or set.
type legacyDevice struct {
	uuid         string
	platform     any
	pushPlatform any
	token        string
}

// insertLegacy writes devs straight into the tables, each with an active
// link of user, in order, and returns the devices' ids by uuid.
func insertLegacy(t *testing.T, db *sql.DB, d sqlstore.Dialect, user string, devs []legacyDevice) map[string]int64 {
	t.Helper()
	ctx := t.Context()
	ids := map[string]int64{}
	for _, dev := range devs {
		_, err := db.ExecContext(ctx, dbtest.Rebind(d, "INSERT INTO sys_devices (uuid, platform, push_device_token, push_platform) VALUES (?, ?, ?, ?)"),
			dev.uuid, dev.platform, dev.token, dev.pushPlatform)
		require.NoError(t, err, dev.uuid)
		var id int64
		require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT id FROM sys_devices WHERE uuid = ?"), dev.uuid).Scan(&id))
		ids[dev.uuid] = id
		_, err = db.ExecContext(ctx, dbtest.Rebind(d, "INSERT INTO sys_user_devices (user_num, device_id, state) VALUES (?, ?, 1)"), user, id)
		require.NoError(t, err, dev.uuid)
	}
	return ids
}

// TestLegacyPlatformSpellings: rows other programs wrote spell the
// platform "iOS", "Android", "IOS", " ios" or "ANDROID ", or leave it NULL
// or unknown. ListTargets returns "ios" and "android" and never the others,
// without an empty page while targets remain; DisableTokens reaches every
// spelling, and a NULL or empty push_platform as the default.
func TestLegacyPlatformSpellings(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		ids := insertLegacy(t, db, d, "L01", []legacyDevice{
			{"L-1", "iOS", "umeng", "tok-1"},
			{"L-2", "Android", nil, "tok-2"},
			{"L-3", nil, "umeng", "tok-3"},
			{"L-4", "windows", "umeng", "tok-4"},
			{"L-5", "IOS", "", "tok-5"},
			{"L-6", " ios", "umeng", "tok-6"},
			{"L-7", "ANDROID ", "jpush", "tok-7"},
		})
		target := func(uuid, platform, pushPlatform, token string) registry.Target {
			return registry.Target{UserNum: "L01", DeviceID: ids[uuid], Platform: platform, PushPlatform: pushPlatform, Token: token}
		}
		want := []registry.Target{
			target("L-1", "ios", "umeng", "tok-1"),
			target("L-2", "android", "umeng", "tok-2"),
			target("L-5", "ios", "umeng", "tok-5"),
			target("L-6", "ios", "umeng", "tok-6"),
			target("L-7", "android", "jpush", "tok-7"),
		}
		withoutLinks := func(ts []registry.Target) []registry.Target {
			out := make([]registry.Target, len(ts))
			for i, tg := range ts {
				tg.UserDeviceID = 0
				out[i] = tg
			}
			return out
		}

		for _, limit := range []int{0, 1, 2} {
			t.Run(fmt.Sprintf("limit %d", limit), func(t *testing.T) {
				var got []registry.Target
				var sizes []int
				var after int64
				for range 10 {
					page, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"L01"}, AfterUserDeviceID: after, Limit: limit})
					require.NoError(t, err)
					sizes = append(sizes, len(page))
					if len(page) == 0 {
						break
					}
					after = page[len(page)-1].UserDeviceID
					got = append(got, page...)
				}
				assert.Equal(t, want, withoutLinks(got))
				assert.Equal(t, map[int][]int{0: {5, 0}, 1: {1, 1, 1, 1, 1, 0}, 2: {2, 2, 1, 0}}[limit], sizes,
					"rows of no push platform never leave a page short while targets remain")
			})
		}

		tests := []struct {
			name         string
			pushPlatform string
			platform     string
			tokens       []string
			want         int64
		}{
			{"no platform and an unknown one are never reached", "umeng", "ios", []string{"tok-3", "tok-4"}, 0},
			{"every spelling of ios", "umeng", "ios", []string{"tok-1", "tok-5", "tok-6", "tok-2"}, 3},
			{"a NULL push_platform is the default", "", "android", []string{"tok-2"}, 1},
			{"another push platform", "jpush", "Android", []string{"tok-7"}, 1},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				n, err := s.DisableTokens(ctx, tt.pushPlatform, tt.platform, tt.tokens, "gone")
				require.NoError(t, err)
				assert.Equal(t, tt.want, n)
			})
		}
		targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"L01"}})
		require.NoError(t, err)
		assert.Empty(t, targets)
		for _, uuid := range []string{"L-3", "L-4"} {
			dev, err := s.GetDevice(ctx, ids[uuid])
			require.NoError(t, err)
			assert.Nil(t, dev.TokenDisabledAt, uuid)
		}
	})
}

// TestDisableTokensReachesBlankAndCasedPushPlatforms: rows other programs
// wrote with a push_platform of spaces only (the default, as ListTargets
// reads it) or "Umeng " are umeng's for DisableTokens too, on every
// dialect (only MySQL compared '  ' equal to ”).
func TestDisableTokensReachesBlankAndCasedPushPlatforms(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		insertLegacy(t, db, d, "B01", []legacyDevice{
			{"B-1", "android", "  ", "tok-b1"},
			{"B-2", "android", "Umeng ", "tok-b2"},
			{"B-3", "android", "jpush", "tok-b3"},
		})
		n, err := s.DisableTokens(ctx, "umeng", "android", []string{"tok-b1", "tok-b2", "tok-b3"}, "gone")
		require.NoError(t, err)
		assert.Equal(t, int64(2), n, "the blank and the cased rows, not jpush's")
	})
}

// TestTokenTakeoverReachesLegacyRows: registering a token takes it over
// from legacy rows with any spelling of the platform, and from rows whose
// push_platform is NULL or empty, which are on the default push platform;
// DisableTokens reaches the same rows.
func TestTokenTakeoverReachesLegacyRows(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		ids := insertLegacy(t, db, d, "T01", []legacyDevice{
			{"T-null", "Android", nil, "tok-null"},
			{"T-empty", " android", "", "tok-empty"},
			{"T-ios", "iOS", "umeng", "tok-ios"},
			{"T-jpush", "Android", "jpush", "tok-null"},
			{"T-other", "Android", nil, "tok-other"},
		})

		for _, reg := range []struct{ uuid, platform, token string }{
			{"N-null", registry.PlatformAndroid, "tok-null"},
			{"N-empty", registry.PlatformAndroid, "tok-empty"},
			{"N-ios", registry.PlatformIOS, "tok-ios"},
		} {
			_, _, err := s.RegisterDevice(ctx, device(reg.uuid, reg.platform, reg.token), "T02")
			require.NoError(t, err)
		}
		n, err := s.DisableTokens(ctx, registry.DefaultPushPlatform, registry.PlatformAndroid, []string{"tok-other"}, "InvalidToken")
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)

		for uuid, reason := range map[string]string{
			"T-null": registry.TokenTakenOver, "T-empty": registry.TokenTakenOver, "T-ios": registry.TokenTakenOver,
			"T-jpush": "", "T-other": "InvalidToken",
		} {
			dev, err := s.GetDevice(ctx, ids[uuid])
			require.NoError(t, err)
			assert.Equal(t, reason, dev.TokenDisabledReason, uuid)
			assert.Equal(t, reason != "", dev.TokenDisabledAt != nil, uuid)
		}
		targets, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"T01"}})
		require.NoError(t, err)
		require.Len(t, targets, 1)
		assert.Equal(t, ids["T-jpush"], targets[0].DeviceID, "another push platform's app keeps its token")
		assert.Len(t, mustTargets(t, s, "T02"), 3)
	})
}

// TestReRegistrationFindsALegacySpelledDevice: a phone another program
// stored as "iOS" or " android " that registers again, for another user,
// with a new token, updates that row (its spelling kept) and logs its
// previous user out of it: no second row beside it, which would leave the
// previous user active on the phone and shown the new user's pushes
// (review of 2026-12-06). Ten registrations of one such phone at once
// still make one device. The newest of two spellings is the one updated.
func TestReRegistrationFindsALegacySpelledDevice(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		ids := insertLegacy(t, db, d, "L001", []legacyDevice{
			{"S-ios", "iOS", "umeng", "tok-s-ios"},
			{"S-and", " android ", nil, "tok-s-and"},
			{"S-twice", "IOS", "umeng", "tok-s-twice-old"},
			{"S-twice", " ios", "umeng", "tok-s-twice"},
		})
		var twice []int64
		rows, err := db.QueryContext(ctx, dbtest.Rebind(d, "SELECT id FROM sys_devices WHERE uuid = ? ORDER BY id"), "S-twice")
		require.NoError(t, err)
		for rows.Next() {
			var id int64
			require.NoError(t, rows.Scan(&id))
			twice = append(twice, id)
		}
		require.NoError(t, rows.Err())
		require.Len(t, twice, 2)

		for _, reg := range []struct{ uuid, platform string }{
			{"S-ios", registry.PlatformIOS}, {"S-and", registry.PlatformAndroid}, {"S-twice", registry.PlatformIOS},
		} {
			dev, link, err := s.RegisterDevice(ctx, device(reg.uuid, reg.platform, "new-"+reg.uuid), "u2002")
			require.NoError(t, err, reg.uuid)
			want := ids[reg.uuid]
			if reg.uuid == "S-twice" {
				want = twice[1]
			}
			assert.Equal(t, want, dev.ID, "%s: the legacy row is updated", reg.uuid)
			assert.Equal(t, "new-"+reg.uuid, dev.PushToken, reg.uuid)
			assert.True(t, link.Active, reg.uuid)
		}
		var n int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_devices").Scan(&n))
		assert.Equal(t, 4, n, "no device row added")
		var spelled string
		require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT platform FROM sys_devices WHERE id = ?"), ids["S-ios"]).Scan(&spelled))
		assert.Equal(t, "iOS", spelled, "the old system's spelling is kept")

		old := mustTargets(t, s, "L001")
		require.Len(t, old, 1, "the previous user keeps only the phone that did not register again")
		assert.Equal(t, twice[0], old[0].DeviceID)
		assert.Len(t, mustTargets(t, s, "u2002"), 3)

		// Ten registrations of one legacy phone at once.
		race := insertLegacy(t, db, d, "L002", []legacyDevice{{"S-race", "Android", nil, "tok-race"}})
		var wg sync.WaitGroup
		errs := make([]error, 10)
		for i := range 10 {
			wg.Go(func() {
				_, _, errs[i] = s.RegisterDevice(ctx, device("S-race", registry.PlatformAndroid, fmt.Sprint("race-", i)), fmt.Sprint("r", i))
			})
		}
		wg.Wait()
		for _, err := range errs {
			require.NoError(t, err)
		}
		require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT COUNT(*) FROM sys_devices WHERE uuid = ?"), "S-race").Scan(&n))
		assert.Equal(t, 1, n, "one device")
		require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT COUNT(*) FROM sys_user_devices WHERE device_id = ? AND state = 1"), race["S-race"]).Scan(&n))
		assert.Equal(t, 1, n, "one active user")
		assert.Empty(t, mustTargets(t, s, "L002"))
	})
}

func mustTargets(t *testing.T, s *sqlstore.Store, user string) []registry.Target {
	t.Helper()
	targets, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: []string{user}})
	require.NoError(t, err)
	return targets
}

// TestReRegistrationDrawsNoID: registering a known device again updates
// its row without drawing from the AUTO_INCREMENT or sequence, so the next
// new device gets the next id: the product brief's ids are int(11), and a busy app
// re-registers on every start.
func TestReRegistrationDrawsNoID(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ctx := t.Context()
		first, _, err := s.RegisterDevice(ctx, device("ids-1", registry.PlatformIOS, "tok-ids-1"), "U1")
		require.NoError(t, err)
		for i := range 5 {
			again, _, err := s.RegisterDevice(ctx, device("ids-1", registry.PlatformIOS, fmt.Sprintf("tok-ids-1-%d", i)), fmt.Sprintf("U%d", i%2+1))
			require.NoError(t, err)
			require.Equal(t, first.ID, again.ID)
		}

		next, _, err := s.RegisterDevice(ctx, device("ids-2", registry.PlatformIOS, "tok-ids-2"), "U1")

		require.NoError(t, err)
		assert.Equal(t, first.ID+1, next.ID)
	})
}

// TestMigrateComparesLikeTheUniqueIndex: MySQL's utf8mb4_bin, a PAD SPACE
// collation, makes "PAD" and "PAD " one value to the unique (platform,
// uuid), so Migrate refuses them before it changes anything; case still
// counts. PostgreSQL and SQLite compare the bytes, and adopt both rows.
func TestMigrateComparesLikeTheUniqueIndex(t *testing.T) {
	for _, d := range []sqlstore.Dialect{sqlstore.DialectMySQL, sqlstore.DialectSQLite} {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			ctx := t.Context()
			db, _ := dbtest.Open(t, d)
			createBriefSchema(t, db, d)
			for _, uuid := range []string{"PAD", "PAD ", "pad", "PAD\t"} {
				_, err := db.ExecContext(ctx, "INSERT INTO sys_devices (platform, uuid, push_device_token) VALUES ('ios', ?, 'tok')", uuid)
				require.NoError(t, err)
			}
			schemaBefore := schemaOf(t, db, d)
			s, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
			require.NoError(t, err)

			err = s.Migrate(ctx)

			if d == sqlstore.DialectSQLite {
				require.NoError(t, err)
				return
			}
			var dup *sqlstore.DuplicatesError
			require.True(t, errors.As(err, &dup), "got %v", err)
			require.Len(t, dup.Values, 1)
			assert.Equal(t, []string{"ios", "PAD"}, []string{dup.Values[0][0], strings.TrimRight(dup.Values[0][1], " ")})
			assert.Equal(t, []int64{2}, dup.Counts)
			assert.Equal(t, schemaBefore, schemaOf(t, db, d), "nothing changed")

			_, err = db.ExecContext(ctx, "DELETE FROM sys_devices WHERE CAST(uuid AS BINARY) = 'PAD'")
			require.NoError(t, err)
			require.NoError(t, s.Migrate(ctx))
			var id int64
			require.NoError(t, db.QueryRowContext(ctx, "SELECT id FROM sys_devices WHERE uuid = 'PAD'").Scan(&id))
			dev, _, err := s.RegisterDevice(ctx, device("PAD", registry.PlatformIOS, "tok-new"), "U1")
			require.NoError(t, err)
			assert.Equal(t, id, dev.ID, "the padded legacy row is the device")
			assert.Equal(t, "PAD ", dev.UUID, "its stored uuid is kept")
		})
	}
}

// TestSQLiteIDsBeyondInt32: SQLite's INTEGER PRIMARY KEY is 64 bits, so
// another program may insert a row at an id beyond 2^31, and AUTOINCREMENT
// then gives every later row an id beyond it too. The Store must not treat
// such ids as impossible (as it does on MySQL and PostgreSQL, whose INT
// columns cannot hold them): registration, logout, target paging, message
// paging and the center queue all go on.
func TestSQLiteIDsBeyondInt32(t *testing.T) {
	const far = int64(1) << 32
	s, db := dbtest.NewStoreDB(t, sqlstore.DialectSQLite)
	ctx := t.Context()
	for _, q := range []string{
		"INSERT INTO sys_devices (id, uuid, platform, push_device_token, push_platform) VALUES (4294967296, 'other', 'android', 'tokX', 'umeng')",
		"INSERT INTO sys_user_devices (id, user_num, device_id, state) VALUES (4294967296, 'someone', 4294967296, 1)",
		"INSERT INTO sys_push_messages (id, title, content, created_at, updated_at) VALUES (4294967296, 'old', 'c', '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
		"INSERT INTO sys_message_center (id, title, content, notify_mode, receivers, send_state, created_at, updated_at) VALUES (4294967296, 'far', 'c', 'sms', '138', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')",
	} {
		_, err := db.ExecContext(ctx, q)
		require.NoError(t, err, q)
	}

	var links []int64
	for i := range 3 {
		dev, link, err := s.RegisterDevice(ctx, &registry.Device{UUID: fmt.Sprintf("phone%d", i), Platform: "android", PushToken: fmt.Sprintf("tok%d", i)}, "u1")
		require.NoError(t, err, "a device registered after the far row")
		assert.Greater(t, dev.ID, far)
		assert.Greater(t, link.ID, far)
		got, err := s.GetDevice(ctx, dev.ID)
		require.NoError(t, err)
		assert.Equal(t, dev.ID, got.ID)
		links = append(links, link.ID)
	}

	page, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u1"}, Limit: 2})
	require.NoError(t, err)
	require.Len(t, page, 2)
	rest, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u1"}, AfterUserDeviceID: page[1].UserDeviceID, Limit: 2})
	require.NoError(t, err)
	require.Len(t, rest, 1, "the second page holds the third target")
	assert.Equal(t, links[2], rest[0].UserDeviceID)

	require.NoError(t, s.DeactivateLink(ctx, "u1", links[0]), "a far link can be logged out")
	left, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u1"}})
	require.NoError(t, err)
	assert.Len(t, left, 2)

	for range 2 {
		m := &registry.PushMessage{Title: "t", Content: "c", UserNums: []string{"u1"}}
		require.NoError(t, s.CreatePushMessage(ctx, m, nil))
		assert.Greater(t, m.ID, far)
	}
	msgs, err := s.ListPushMessages(ctx, registry.PushMessageQuery{Limit: 1})
	require.NoError(t, err)
	require.Len(t, msgs, 1)
	older, err := s.ListPushMessages(ctx, registry.PushMessageQuery{BeforeID: msgs[0].ID, Limit: 10})
	require.NoError(t, err)
	require.Len(t, older, 2, "the page before the newest holds the two older messages, not the newest again")
	assert.Less(t, older[0].ID, msgs[0].ID)

	claimed, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: time.Now(), Limit: 10, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, claimed, 1)
	claimed[0].SendState = registry.SendStateSent
	require.NoError(t, s.FinishCenterMessage(ctx, &claimed[0]), "a far center row can be finished")
	got, err := s.GetCenterMessage(ctx, far)
	require.NoError(t, err)
	assert.Equal(t, registry.SendStateSent, got.SendState)
}

// TestSharedLegacyTokenGoesToItsNewestHolder: rows another program wrote
// may give one token to two devices of two users (it never took a token
// away from a device). Only the newest device is a target: the older
// one's user must not be shown the newer user's pushes, nor the newer
// user miss them. A token the newer row has disabled leaves the older
// one its holder (it registered the token again since).
func TestSharedLegacyTokenGoesToItsNewestHolder(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		shared := strings.Repeat("ab", 32)
		insertLegacy(t, db, d, "SA", []legacyDevice{{"OLD-PHONE", "ios", "umeng", shared}})
		ids := insertLegacy(t, db, d, "SB", []legacyDevice{{"NEW-PHONE", "ios", "umeng", shared}})
		insertLegacy(t, db, d, "SA", []legacyDevice{{"SA-OWN", "android", "umeng", "own-token"}})

		targets := func(user string) []string {
			ts, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{user}})
			require.NoError(t, err)
			var out []string
			for _, tg := range ts {
				out = append(out, tg.UserNum+":"+tg.Token)
			}
			return out
		}
		assert.Equal(t, []string{"SA:own-token"}, targets("SA"), "the older device's user does not get the shared token")
		assert.Equal(t, []string{"SB:" + shared}, targets("SB"))

		_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_devices SET token_disabled_at = CURRENT_TIMESTAMP WHERE id = ?"), ids["NEW-PHONE"])
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"SA:" + shared, "SA:own-token"}, targets("SA"), "the newer holder's token is disabled")
		assert.Empty(t, targets("SB"))
	})
}

// spacedPairs writes, as another program would, two pairs of iOS device
// rows of two users each sharing a token, one row of each pair with
// spaces around it: OLD-A " a" then NEW-A "a", OLD-B "b" then NEW-B
// " b  ". It returns the tokens and the ids of the newer rows.
func spacedPairs(t *testing.T, db *sql.DB, d sqlstore.Dialect) (a, b string, newA, newB int64) {
	t.Helper()
	a, b = strings.Repeat("a1", 32), strings.Repeat("b2", 32)
	insertLegacy(t, db, d, "OLD-A", []legacyDevice{{"PHONE-A1", "ios", "umeng", " " + a}})
	newA = insertLegacy(t, db, d, "NEW-A", []legacyDevice{{"PHONE-A2", "ios", "umeng", a}})["PHONE-A2"]
	insertLegacy(t, db, d, "OLD-B", []legacyDevice{{"PHONE-B1", "ios", "umeng", b}})
	newB = insertLegacy(t, db, d, "NEW-B", []legacyDevice{{"PHONE-B2", "ios", "umeng", " " + b + "  "}})["PHONE-B2"]
	return a, b, newA, newB
}

// TestSpacedTokenIsTheSamePhone: another program may write a token with
// spaces around it, which the Service sends trimmed. A row holding " T"
// and a newer row holding "T" (or the other way round) are one phone:
// only the newer row is a target, with and without a census, so that the
// older row's user is not shown the newer one's pushes. A registration of
// T takes it over from a row holding it spaced, and the vendor's report
// that T is dead disables such a row.
func TestSpacedTokenIsTheSamePhone(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		a, b, _, _ := spacedPairs(t, db, d)

		for _, census := range []bool{false, true} {
			q := registry.TargetQuery{}
			if census {
				c, err := s.TakeCensus(ctx, 4)
				require.NoError(t, err)
				require.NotNil(t, c, "a census of four devices")
				q.Census = c
			}
			targets := func(user string) []string {
				q.UserNums = []string{user}
				ts, err := s.ListTargets(ctx, q)
				require.NoError(t, err)
				var out []string
				for _, tg := range ts {
					out = append(out, strings.TrimSpace(tg.Token))
				}
				return out
			}
			assert.Empty(t, targets("OLD-A"), "census %v: the older row's token, spaced, is the newer row's phone", census)
			assert.Equal(t, []string{a}, targets("NEW-A"), "census %v", census)
			assert.Empty(t, targets("OLD-B"), "census %v: a newer row holds the token spaced", census)
			assert.Equal(t, []string{b}, targets("NEW-B"), "census %v", census)
		}
		for user, superseded := range map[string]bool{"OLD-A": true, "NEW-A": false, "OLD-B": true, "NEW-B": false} {
			links, err := s.ListUserDevices(ctx, user)
			require.NoError(t, err)
			require.Len(t, links, 1, user)
			assert.True(t, links[0].Link.Active, user)
			assert.Equal(t, superseded, links[0].Superseded, user)
		}

		// A registration takes the token over from the row holding it
		// spaced; the vendor's report disables a spaced row.
		c := strings.Repeat("c3", 32)
		ids := insertLegacy(t, db, d, "OLD-C", []legacyDevice{{"PHONE-C1", "ios", "umeng", "  " + c + " "}})
		_, _, err := s.RegisterDevice(ctx, device("PHONE-C2", registry.PlatformIOS, c), "NEW-C")
		require.NoError(t, err)
		disabled := func(id int64) string {
			var reason sql.NullString
			require.NoError(t, db.QueryRowContext(ctx, dbtest.Rebind(d, "SELECT token_disabled_reason FROM sys_devices WHERE id = ?"), id).Scan(&reason))
			return reason.String
		}
		assert.Equal(t, registry.TokenTakenOver, disabled(ids["PHONE-C1"]))

		e := strings.Repeat("e5", 32)
		ids = insertLegacy(t, db, d, "E", []legacyDevice{{"PHONE-E", "ios", "umeng", " " + e}})
		n, err := s.DisableTokens(ctx, "umeng", registry.PlatformIOS, []string{e}, "gone")
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		assert.Equal(t, "gone", disabled(ids["PHONE-E"]))
	})
}

// TestPushHoldersOfASpacedToken: a vendor's receipt names a token
// trimmed; its holder is the newest row holding it, with spaces around it
// or not, as ListTargets finds it.
func TestPushHoldersOfASpacedToken(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		a, b, newA, newB := spacedPairs(t, db, d)
		m := &registry.PushMessage{Title: "x", PushType: registry.PushTypeUsers, UserNums: []string{"OLD-A", "NEW-A", "OLD-B", "NEW-B"}}
		require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{delivery("k1", registry.PlatformIOS, base, a, b)}))
		ts, recorded, err := s.PushHolders(ctx, m.ID, []string{a, b})
		require.NoError(t, err)
		require.True(t, recorded)
		var got []string
		for _, tg := range ts {
			got = append(got, fmt.Sprintf("%s/%d/%s", tg.UserNum, tg.DeviceID, tg.Token))
		}
		assert.ElementsMatch(t, []string{fmt.Sprintf("NEW-A/%d/%s", newA, a), fmt.Sprintf("NEW-B/%d/%s", newB, b)}, got)
	})
}

// TestCensusOfATokenOfSpaces: a row another program wrote with a token
// of spaces only holds no token: the census does not name the devices
// whose token is empty (the product brief's default, never registered)
// as its holders, which would make a census of a database with many such
// devices too large to take.
func TestCensusOfATokenOfSpaces(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		var empty []int64
		for i := range 30 {
			ids := insertLegacy(t, db, d, fmt.Sprint("E", i), []legacyDevice{{fmt.Sprint("EMPTY-", i), "ios", "umeng", ""}})
			empty = append(empty, ids[fmt.Sprint("EMPTY-", i)])
		}
		insertLegacy(t, db, d, "SPACES", []legacyDevice{{"SPACES", "ios", "umeng", "   "}})
		s.SetCensusMax(20)
		c, err := s.TakeCensus(ctx, 100)
		require.NoError(t, err)
		require.NotNil(t, c, "the census is taken")
		for _, id := range empty {
			assert.False(t, c.Suspect(id), "device %d, of the empty token", id)
		}
	})
}

// TestCenterLeaseNoClaimGives: another program may mark a center row
// claimed with a lease far ahead (a lease_until in 9999). No claim gives
// a lease longer than registry.MaxCenterLease, so the row is claimed as
// if it had none, instead of never being sent; a lease within that bound
// (another instance's) is honoured.
func TestCenterLeaseNoClaimGives(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		now := time.Now().UTC()
		rows := map[string]time.Time{
			"forever":  time.Date(9999, 12, 31, 0, 0, 0, 0, time.UTC),
			"past-max": now.Add(registry.MaxCenterLease + time.Hour),
			"held":     now.Add(registry.MaxCenterLease - time.Hour),
		}
		ids := map[int64]string{}
		for title, until := range rows {
			m := &registry.CenterMessage{Title: title, Content: "c", NotifyMode: "push", Receivers: "u1"}
			require.NoError(t, s.EnqueueCenterMessage(ctx, m))
			ids[m.ID] = title
			_, err := db.ExecContext(ctx, dbtest.Rebind(d, "UPDATE sys_message_center SET claim_token = 'theirs', lease_until = ? WHERE id = ?"),
				until.Format("2006-01-02 15:04:05"), m.ID)
			require.NoError(t, err)
		}
		got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: now, Limit: 10, Lease: time.Minute})
		require.NoError(t, err)
		var titles []string
		for _, m := range got {
			titles = append(titles, ids[m.ID])
			assert.NotEqual(t, "theirs", m.ClaimToken)
		}
		assert.ElementsMatch(t, []string{"forever", "past-max"}, titles)
	})
}

// TestSkipModesClaimsANullMode: a row another program wrote with a NULL
// notify_mode is no skipped mode's: a claim with SkipModes takes it (and
// the Scanner fails it with its reason) rather than leave it unsent for
// ever, while the rows of the skipped modes, in any case and with spaces
// around them, stay unclaimed.
func TestSkipModesClaimsANullMode(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		for _, mode := range []string{"NULL", "' SMS '", "'email'", "''"} {
			_, err := db.ExecContext(ctx, "INSERT INTO sys_message_center (title, content, notify_mode, receivers, send_state, created_at, updated_at) VALUES ("+
				"'t', 'c', "+mode+", '138', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
			require.NoError(t, err, mode)
		}
		// Another program's row with a NULL send_state keeps it: the
		// claim's reading of NULL as unsent is for our rows only.
		_, err := db.ExecContext(ctx, "INSERT INTO sys_message_center (title, content, notify_mode, receivers, send_state, created_at, updated_at) VALUES "+
			"('t', 'c', 'sms', '138', NULL, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
		require.NoError(t, err)
		got, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: time.Now(), Limit: 10, Lease: time.Minute, SkipModes: []string{"sms", "email"}})
		require.NoError(t, err)
		var modes []string
		for _, m := range got {
			modes = append(modes, m.NotifyMode)
		}
		assert.Equal(t, []string{"", ""}, modes, "the NULL and the empty mode are claimed; ' SMS ' and 'email' are left")
		var left, null int
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_message_center WHERE claim_token IS NULL AND send_state = 0").Scan(&left))
		assert.Equal(t, 2, left)
		require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_message_center WHERE claim_token IS NULL AND send_state IS NULL AND updated_at = '2026-01-01 00:00:00'").Scan(&null))
		assert.Equal(t, 1, null, "the NULL send_state of a left row is not rewritten")

		// Compared byte for byte after lower-casing ASCII: a full-width
		// ＳＭＳ is no sms on any database (MariaDB's collation alone would
		// take it for one).
		_, err = db.ExecContext(ctx, "INSERT INTO sys_message_center (title, content, notify_mode, receivers, send_state, created_at, updated_at) VALUES "+
			"('t', 'c', 'ＳＭＳ', '138', 0, '2026-01-01 00:00:00', '2026-01-01 00:00:00')")
		require.NoError(t, err)
		wide, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: time.Now(), Limit: 10, Lease: time.Minute, SkipModes: []string{"sms", "email"}})
		require.NoError(t, err)
		require.Len(t, wide, 1)
		assert.Equal(t, "ＳＭＳ", wide[0].NotifyMode)
	})
}
