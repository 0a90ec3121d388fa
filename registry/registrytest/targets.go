package registrytest

import (
	"fmt"
	"slices"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testTargets covers ListTargets and DisableTokens. Its subtests share one
// store and keep apart by using their own uuids and user_nums.
func testTargets(t *testing.T, f Factory) {
	s := f.New(t)

	t.Run("OnlyPushableDevicesOfListedUsers", func(t *testing.T) {
		d1, l1 := register(t, s, newDevice("only-1", registry.PlatformIOS, "only-t1"), "only-a")
		register(t, s, newDevice("only-2", registry.PlatformAndroid, "only-t2"), "only-a")
		_, err := s.DisableTokens(t.Context(), registry.DefaultPushPlatform, registry.PlatformAndroid, []string{"only-t2"}, "gone")
		require.NoError(t, err)
		register(t, s, newDevice("only-3", registry.PlatformAndroid, "only-t3"), "only-a")
		d3, l3 := register(t, s, newDevice("only-3", registry.PlatformAndroid, "only-t3"), "only-b")
		_, l4 := register(t, s, newDevice("only-4", registry.PlatformIOS, "only-t4"), "only-a")
		require.NoError(t, s.DeactivateLink(t.Context(), "only-a", l4.ID))
		register(t, s, newDevice("only-5", registry.PlatformIOS, "only-t5"), "only-c")

		targetA := registry.Target{UserDeviceID: l1.ID, UserNum: "only-a", DeviceID: d1.ID, Platform: registry.PlatformIOS, PushPlatform: registry.DefaultPushPlatform, Token: "only-t1"}
		targetB := registry.Target{UserDeviceID: l3.ID, UserNum: "only-b", DeviceID: d3.ID, Platform: registry.PlatformAndroid, PushPlatform: registry.DefaultPushPlatform, Token: "only-t3"}
		tests := []struct {
			name  string
			users []string
			want  []registry.Target
		}{
			{"one user", []string{"only-a"}, []registry.Target{targetA}},
			{"two users", []string{"only-b", "only-a"}, []registry.Target{targetA, targetB}},
			{"repeated user", []string{"only-a", "only-a"}, []registry.Target{targetA}},
			{"unknown user", []string{"only-nobody"}, nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				page, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: tt.users, Limit: 10})
				require.NoError(t, err)
				if tt.want == nil {
					assert.Empty(t, page)
					return
				}
				assert.Equal(t, tt.want, page)
			})
		}
	})

	t.Run("InLinkOrderWhateverTheUsersOrder", func(t *testing.T) {
		// Users registered in the reverse of their names' order, two
		// devices each, interleaved: a query driven by the user index
		// reads them by name, and the page must still be by link id.
		var want []int64
		for i, u := range []string{"order-z", "order-m", "order-a", "order-z", "order-m", "order-a"} {
			_, l := register(t, s, newDevice(fmt.Sprintf("order-%d", i), registry.PlatformIOS, fmt.Sprintf("order-t%d", i)), u)
			want = append(want, l.ID)
		}
		users := []string{"order-a", "order-m", "order-z"}
		for _, limit := range []int{10, 6, 4} {
			page, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: users, Limit: limit})
			require.NoError(t, err)
			var got []int64
			for _, tg := range page {
				got = append(got, tg.UserDeviceID)
			}
			assert.Equal(t, want[:min(limit, len(want))], got, "limit %d", limit)
		}
	})

	t.Run("EmptyUserNums", func(t *testing.T) {
		register(t, s, newDevice("empty-1", registry.PlatformIOS, "empty-t1"), "empty-user")
		for _, users := range [][]string{nil, {}} {
			page, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: users, Limit: 10})
			require.NoError(t, err)
			assert.Empty(t, page)
		}
	})

	t.Run("PagingCoversEveryTargetOnce", func(t *testing.T) {
		const users, perUser = 50, 50
		var names []string
		for u := range users {
			names = append(names, fmt.Sprintf("page-user-%02d", u))
		}
		links := registerMany(t, s, names, perUser)
		require.Len(t, links, users*perUser)

		var got []int64
		var sizes []int
		var after int64
		for range 10 {
			page, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: names, AfterUserDeviceID: after, Limit: 1000})
			require.NoError(t, err)
			sizes = append(sizes, len(page))
			if len(page) == 0 {
				break
			}
			for _, tg := range page {
				require.Greater(t, tg.UserDeviceID, after, "targets out of UserDeviceID order")
				after = tg.UserDeviceID
				got = append(got, tg.UserDeviceID)
			}
		}
		assert.Equal(t, []int{1000, 1000, 500, 0}, sizes, "page sizes")
		assert.Equal(t, sortedIDs(links), got, "every target exactly once")

		t.Run("ZeroLimitIsDefaultPageSize", func(t *testing.T) {
			page, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: names})
			require.NoError(t, err)
			assert.Len(t, page, registry.DefaultPageSize)
		})
		t.Run("SubsetOfUsers", func(t *testing.T) {
			assert.Len(t, targetsOf(t, s, names[:10]...), 10*perUser)
		})
	})

	t.Run("HostileUserNumsMatchLiterally", func(t *testing.T) {
		// Each of these would select other users' devices if it reached
		// SQL as text or as a LIKE pattern.
		hostile := []string{`x' OR '1'='1`, `%`, `_`, `a_c`, `a%`, `\`, `\%`, `'; DELETE FROM sys_devices; --`, `"quoted"`, `null`}
		bystanders := []string{"alice", "abc", "a\\c", "x"}
		link := map[string]int64{}
		for i, u := range append(slices.Clone(hostile), bystanders...) {
			_, l := register(t, s, newDevice(fmt.Sprintf("hostile-%d", i), registry.PlatformAndroid, fmt.Sprintf("hostile-t%d", i)), u)
			link[u] = l.ID
		}
		for _, u := range hostile {
			t.Run(u, func(t *testing.T) {
				targets := targetsOf(t, s, u)
				require.Len(t, targets, 1)
				assert.Equal(t, u, targets[0].UserNum)
				assert.Equal(t, link[u], targets[0].UserDeviceID)
				l, err := s.GetUserDevice(t.Context(), link[u])
				require.NoError(t, err)
				assert.Equal(t, u, l.UserNum)
				assert.ErrorIs(t, s.DeactivateLink(t.Context(), u, link["alice"]), registry.ErrNotOwner)
			})
		}
		assertActive(t, s, map[int64]bool{link["alice"]: true})
	})

	t.Run("UserNumsMatchExactly", func(t *testing.T) {
		// user_num decides whose phone a push reaches: a match that folds
		// case or treats different emoji as equal pushes to the wrong user.
		users := []string{"exact-alice", "EXACT-ALICE", "exact-🎉", "exact-🎈", "exact-é", "exact-e"}
		link := map[string]int64{}
		for i, u := range users {
			_, l := register(t, s, newDevice(fmt.Sprintf("exact-%d", i), registry.PlatformIOS, fmt.Sprintf("exact-t%d", i)), u)
			link[u] = l.ID
		}
		for _, u := range users {
			t.Run(u, func(t *testing.T) {
				assert.Equal(t, []int64{link[u]}, ids(targetsOf(t, s, u), targetLink))
			})
		}
		assert.ErrorIs(t, s.DeactivateLink(t.Context(), "EXACT-ALICE", link["exact-alice"]), registry.ErrNotOwner)
		assertActive(t, s, map[int64]bool{link["exact-alice"]: true})
	})

	t.Run("EmojiUserNumRoundTrips", func(t *testing.T) {
		const user = "用户🎉"
		_, l := register(t, s, newDevice("emoji-user-1", registry.PlatformIOS, "emoji-user-t1"), user)
		assert.Equal(t, user, l.UserNum)
		got, err := s.GetUserDevice(t.Context(), l.ID)
		require.NoError(t, err)
		assert.Equal(t, user, got.UserNum)
		targets := targetsOf(t, s, user)
		require.Len(t, targets, 1)
		assert.Equal(t, user, targets[0].UserNum)
	})

	t.Run("Census", func(t *testing.T) {
		tc := optional[registry.TargetCensus](t, s)
		ctx := t.Context()
		register(t, s, newDevice("census-1", registry.PlatformIOS, "census-t1"), "census-a")
		register(t, s, newDevice("census-2", registry.PlatformAndroid, "census-t2"), "census-b")
		register(t, s, newDevice("census-3", registry.PlatformAndroid, "census-t3"), "census-b")
		users := []string{"census-a", "census-b"}
		none, err := tc.TakeCensus(ctx, 0)
		require.NoError(t, err)
		assert.Nil(t, none, "no census of no audience")
		// A census of an audience as large as this is worth taking, but a
		// store may still decline: then the listings check every target.
		census, err := tc.TakeCensus(ctx, 1_000_000)
		require.NoError(t, err)
		list := func(users ...string) []registry.Target {
			page, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: users, Limit: 100, Census: census})
			require.NoError(t, err)
			return page
		}
		want := targetsOf(t, s, users...)
		require.Len(t, want, 3)
		assert.Equal(t, want, list(users...), "a census lists what every target's checks list")

		// What the store writes after the census is read by the listings
		// that use it: a takeover of a token, a device moved to another
		// user.
		register(t, s, newDevice("census-4", registry.PlatformIOS, "census-t1"), "census-c")
		assert.Empty(t, list("census-a"), "the token was taken over after the census")
		register(t, s, newDevice("census-2", registry.PlatformAndroid, "census-t2"), "census-d")
		got := list("census-b", "census-d")
		require.Len(t, got, 2)
		assert.Equal(t, []string{"census-b", "census-d"}, []string{got[0].UserNum, got[1].UserNum})
		assert.Equal(t, "census-t3", got[0].Token, "census-b keeps only the device not moved")
		assert.Equal(t, "census-t2", got[1].Token)
	})

	t.Run("DisableTokens", func(t *testing.T) {
		type dev struct{ user, uuid, platform, pushPlatform, token string }
		devs := []dev{
			{"dt-match-1", "dt-1", registry.PlatformIOS, registry.DefaultPushPlatform, "dt-shared"},
			{"dt-android", "dt-3", registry.PlatformAndroid, registry.DefaultPushPlatform, "dt-shared"},
			{"dt-jpush", "dt-4", registry.PlatformIOS, "jpush", "dt-shared"},
			{"dt-other", "dt-5", registry.PlatformIOS, registry.DefaultPushPlatform, "dt-other"},
			{"dt-case", "dt-6", registry.PlatformIOS, registry.DefaultPushPlatform, "DT-SHARED"},
		}
		id := map[string]int64{}
		for _, d := range devs {
			nd := newDevice(d.uuid, d.platform, d.token)
			nd.PushPlatform = d.pushPlatform
			got, _ := register(t, s, nd, d.user)
			id[d.user] = got.ID
		}

		for _, empty := range [][]string{nil, {}} {
			n, err := s.DisableTokens(t.Context(), registry.DefaultPushPlatform, registry.PlatformIOS, empty, "nothing")
			require.NoError(t, err)
			assert.Zero(t, n)
		}
		for _, d := range devs {
			require.Len(t, targetsOf(t, s, d.user), 1, "%s before", d.user)
		}

		n, err := s.DisableTokens(t.Context(), registry.DefaultPushPlatform, registry.PlatformIOS, []string{"dt-shared", "dt-unknown"}, "InvalidToken")

		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		for _, d := range devs {
			t.Run(d.user, func(t *testing.T) {
				matched := d.user == "dt-match-1"
				got, err := s.GetDevice(t.Context(), id[d.user])
				require.NoError(t, err)
				if matched {
					assert.NotNil(t, got.TokenDisabledAt)
					assert.Equal(t, "InvalidToken", got.TokenDisabledReason)
					assert.Empty(t, targetsOf(t, s, d.user))
					return
				}
				assert.Nil(t, got.TokenDisabledAt)
				assert.Empty(t, got.TokenDisabledReason)
				assert.Len(t, targetsOf(t, s, d.user), 1)
			})
		}
	})
}

// registerMany registers perUser devices for each user from 8 goroutines
// and returns the links' ids. Registrations of distinct devices may run
// concurrently in any store; running them so keeps big fixtures quick on
// a database server.
func registerMany(t *testing.T, s registry.Store, users []string, perUser int) []int64 {
	t.Helper()
	type job struct {
		user string
		n    int
	}
	jobs := make(chan job)
	var (
		mu    sync.Mutex
		links []int64
		errs  []error
		wg    sync.WaitGroup
	)
	for range 8 {
		wg.Go(func() {
			for j := range jobs {
				d := newDevice(fmt.Sprintf("%s-dev-%04d", j.user, j.n), registry.PlatformAndroid, fmt.Sprintf("%s-token-%04d", j.user, j.n))
				_, l, err := s.RegisterDevice(t.Context(), d, j.user)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("register %s for %s: %w", d.UUID, j.user, err))
				} else {
					links = append(links, l.ID)
				}
				mu.Unlock()
			}
		})
	}
	for _, u := range users {
		for n := range perUser {
			jobs <- job{user: u, n: n}
		}
	}
	close(jobs)
	wg.Wait()
	require.Empty(t, errs)
	return links
}
