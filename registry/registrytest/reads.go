package registrytest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testReads covers ListUserDevices, ListPushMessages and
// IsPushMessageUser.
func testReads(t *testing.T, f Factory) {
	t.Run("UserDevices", func(t *testing.T) {
		s := f.New(t)
		ctx := t.Context()
		phone, phoneLink := register(t, s, newDevice("rd-phone", registry.PlatformIOS, "rd-tok-1"), "rd-u1")
		pad, padLink := register(t, s, newDevice("rd-pad", registry.PlatformAndroid, "rd-tok-2"), "rd-u1")
		register(t, s, newDevice("rd-other", registry.PlatformAndroid, "rd-tok-3"), "rd-u2")
		// The pad logs in as another user: its link to rd-u1 goes inactive.
		_, padLink2 := register(t, s, newDevice("rd-pad", registry.PlatformAndroid, "rd-tok-2"), "rd-u2")
		_, err := s.DisableTokens(ctx, registry.DefaultPushPlatform, registry.PlatformIOS, []string{"rd-tok-1"}, "gone")
		require.NoError(t, err)

		got, err := s.ListUserDevices(ctx, "rd-u1 ")
		require.NoError(t, err)
		require.Len(t, got, 2, "every link of the user, active or not")
		assert.Equal(t, []int64{phoneLink.ID, padLink.ID}, []int64{got[0].Link.ID, got[1].Link.ID}, "ordered by link id")
		assert.True(t, got[0].Link.Active)
		assert.False(t, got[1].Link.Active, "the pad now belongs to rd-u2")
		assert.Equal(t, "rd-u1", got[0].Link.UserNum)
		assert.Equal(t, phone.ID, got[0].Device.ID)
		assert.Equal(t, phone.ID, got[0].Link.DeviceID)
		assert.Equal(t, "rd-phone", got[0].Device.UUID)
		assert.Equal(t, registry.PlatformIOS, got[0].Device.Platform)
		assert.Equal(t, "rd-tok-1", got[0].Device.PushToken)
		require.NotNil(t, got[0].Device.TokenDisabledAt, "the disabled token shows")
		assert.Equal(t, "gone", got[0].Device.TokenDisabledReason)
		assert.Equal(t, pad.ID, got[1].Device.ID)
		assert.Nil(t, got[1].Device.TokenDisabledAt)
		assert.Empty(t, got[0].Unreadable)
		assert.False(t, got[0].Link.CreatedAt.IsZero(), "link times are read")
		assert.False(t, got[0].Device.CreatedAt.IsZero(), "device times are read")

		other, err := s.ListUserDevices(ctx, "rd-u2")
		require.NoError(t, err)
		require.Len(t, other, 2)
		assert.Equal(t, padLink2.ID, other[1].Link.ID)
		assert.True(t, other[1].Link.Active)

		none, err := s.ListUserDevices(ctx, "rd-nobody")
		require.NoError(t, err)
		assert.Empty(t, none)
		_, err = s.ListUserDevices(ctx, " ")
		requireInvalid(t, err, "user_num")
	})

	t.Run("PushMessageUsers", func(t *testing.T) {
		s := f.New(t)
		ctx := t.Context()
		m := pushMessage("to users", "")
		m.UserNums = []string{"pu-a", "pu-b", "pu-b ", "pu-a"}
		createPush(t, s, m, pending("pu-0", registry.PlatformIOS, 0, at(0), "t1"))
		for user, want := range map[string]bool{"pu-a": true, "pu-b": true, "pu-b  ": true, "pu-c": false, "": false} {
			ok, err := s.IsPushMessageUser(ctx, m.ID, user)
			require.NoError(t, err)
			assert.Equal(t, want, ok, "user %q", user)
		}
		for _, id := range []int64{missingID, hugeID, 0, -1} {
			ok, err := s.IsPushMessageUser(ctx, id, "pu-a")
			require.NoError(t, err, "id %d", id)
			assert.False(t, ok, "id %d", id)
		}
		page, err := s.ListPushMessages(ctx, registry.PushMessageQuery{UserNum: "pu-b"})
		require.NoError(t, err)
		require.Len(t, page, 1, "a user named twice is listed once")
		assertMessage(t, *m, page[0])

		bad := pushMessage("bad user", "bad-user-key")
		bad.UserNums = []string{"pu-a", " "}
		err = s.CreatePushMessage(ctx, bad, []*registry.Delivery{pending("pu-bad", registry.PlatformIOS, 0, at(0), "t1")})
		requireInvalid(t, err, "user_num")
		_, err = s.GetPushMessageByDedupeKey(ctx, "bad-user-key")
		require.ErrorIs(t, err, registry.ErrNotFound, "nothing written")
	})

	t.Run("ListByUserAndState", func(t *testing.T) {
		s := f.New(t)
		ctx := t.Context()
		done := func(key, platform string) *registry.Delivery {
			d := pending(key, platform, 0, at(0), key+"-tok")
			d.State = registry.DeliveryDone
			return d
		}
		failed := func(key, platform string) *registry.Delivery {
			d := pending(key, platform, 0, at(0), key+"-tok")
			d.State = registry.DeliveryFailed
			return d
		}
		want := map[string][]int64{}
		create := func(title, state string, users []string, ds ...*registry.Delivery) int64 {
			m := pushMessage(title, "")
			m.UserNums = users
			createPush(t, s, m, ds...)
			assert.Equal(t, state, registry.PushState(m), title)
			want[state] = append(want[state], m.ID)
			return m.ID
		}
		create("pending", registry.PushStatePending, []string{"ls-u1"}, pending("ls-p", registry.PlatformIOS, 0, at(0), "x"), done("ls-p2", registry.PlatformAndroid))
		create("success", registry.PushStateSuccess, []string{"ls-u1", "ls-u2"}, done("ls-s", registry.PlatformIOS))
		create("failed", registry.PushStateFailed, []string{"ls-u1"}, failed("ls-f", registry.PlatformAndroid), failed("ls-f2", registry.PlatformIOS))
		create("mixed", registry.PushStatePartial, []string{"ls-u1"}, done("ls-m", registry.PlatformIOS), failed("ls-m2", registry.PlatformAndroid))
		create("partial", registry.PushStatePartial, []string{"ls-u1"}, done("ls-x", registry.PlatformIOS), failed("ls-x2", registry.PlatformIOS))
		create("nothing", "", []string{"ls-u1"})
		other := create("other user", registry.PushStateSuccess, []string{"ls-u2"}, done("ls-o", registry.PlatformIOS))

		all, err := s.ListPushMessages(ctx, registry.PushMessageQuery{UserNum: "ls-u1"})
		require.NoError(t, err)
		listed := ids(all, messageID)
		assert.Len(t, listed, 6)
		assert.True(t, slices.IsSortedFunc(listed, func(a, b int64) int { return int(b - a) }), "newest first: %v", listed)
		assert.NotContains(t, listed, other)
		for _, m := range all {
			assert.Equal(t, "content of "+m.Title, m.Content, "whole rows")
		}

		for _, state := range registry.PushStates() {
			page, err := s.ListPushMessages(ctx, registry.PushMessageQuery{State: state})
			require.NoError(t, err, state)
			got := ids(page, messageID)
			assert.Equal(t, sortedIDs(want[state]), sortedIDs(got), "state %s", state)
			for _, m := range page {
				assert.Equal(t, state, registry.PushState(&m), "message %q", m.Title)
			}
		}
		mine, err := s.ListPushMessages(ctx, registry.PushMessageQuery{UserNum: "ls-u2", State: registry.PushStateSuccess})
		require.NoError(t, err)
		assert.Len(t, mine, 2, "both successes of ls-u2")

		_, err = s.ListPushMessages(ctx, registry.PushMessageQuery{State: "done"})
		requireInvalid(t, err, "state")
		_, err = s.ListPushMessages(ctx, registry.PushMessageQuery{Limit: registry.MaxMessagePageSize + 1})
		requireInvalid(t, err, "limit")
		_, err = s.ListPushMessages(ctx, registry.PushMessageQuery{Limit: -1})
		requireInvalid(t, err, "limit")
		_, err = s.ListPushMessages(ctx, registry.PushMessageQuery{BeforeID: -1})
		requireInvalid(t, err, "before_id")
		_, err = s.ListPushMessages(ctx, registry.PushMessageQuery{Since: at(time.Hour), Until: at(0)})
		requireInvalid(t, err, "until")
	})

	t.Run("TimeRange", func(t *testing.T) {
		s := f.New(t)
		ctx := t.Context()
		m := pushMessage("timed", "")
		m.UserNums = []string{"tr-u"}
		createPush(t, s, m)
		stored, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		created := stored.CreatedAt
		for _, c := range []struct {
			name         string
			since, until time.Time
			listed       bool
		}{
			{"since its creation", created, time.Time{}, true},
			{"since a second later", created.Add(time.Second), time.Time{}, false},
			{"until its creation (exclusive)", time.Time{}, created, false},
			{"until a second later", time.Time{}, created.Add(time.Second), true},
			{"a range around it", created.Add(-time.Hour), created.Add(time.Hour), true},
		} {
			for _, user := range []string{"", "tr-u"} {
				page, err := s.ListPushMessages(ctx, registry.PushMessageQuery{UserNum: user, Since: c.since, Until: c.until})
				require.NoError(t, err)
				assert.Equal(t, c.listed, len(page) == 1, "%s, user %q", c.name, user)
			}
		}
	})

	t.Run("KeysetPaging", func(t *testing.T) {
		s := f.New(t)
		ctx := t.Context()
		var mine []int64
		for i := range 23 {
			m := pushMessage(fmt.Sprint("kp-", i), "")
			m.UserNums = []string{"kp-u"}
			if i%3 == 0 {
				m.UserNums = []string{"kp-other"}
			}
			createPush(t, s, m)
			if i%3 != 0 {
				mine = append(mine, m.ID)
			}
		}
		for _, limit := range []int{1, 4, 15, 100} {
			got := pageAll(t, s, registry.PushMessageQuery{UserNum: "kp-u", Limit: limit})
			assert.Equal(t, sortedIDs(mine), sortedIDs(got), "limit %d", limit)
		}
		first, err := s.ListPushMessages(ctx, registry.PushMessageQuery{})
		require.NoError(t, err)
		assert.Len(t, first, 23, "the default page holds them all")
		beyond, err := s.ListPushMessages(ctx, registry.PushMessageQuery{BeforeID: hugeID, Limit: 2})
		require.NoError(t, err)
		assert.Len(t, beyond, 2, "a cursor beyond every id starts from the newest")
	})

	t.Run("PagingWhileInserting", func(t *testing.T) {
		stores := f.shared(t, 3)
		ctx := t.Context()
		var before []int64
		for i := range 40 {
			m := pushMessage(fmt.Sprint("pw-", i), "")
			m.UserNums = []string{"pw-u"}
			createPush(t, stores[0], m)
			before = append(before, m.ID)
		}
		// Two stores insert new pushes of the user while a third pages
		// through them: every push that existed at the start shows once,
		// none twice, and the pages run newest first.
		var wg sync.WaitGroup
		errs := make(chan error, 2)
		stop := make(chan struct{})
		for w := 1; w <= 2; w++ {
			wg.Go(func() {
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					m := pushMessage(fmt.Sprint("pw-new-", w, "-", i), "")
					m.UserNums = []string{"pw-u"}
					if err := stores[w].CreatePushMessage(ctx, m, nil); err != nil {
						errs <- err
						return
					}
					if i >= 200 {
						return
					}
				}
			})
		}
		for _, user := range []string{"pw-u", ""} {
			got := pageAll(t, stores[0], registry.PushMessageQuery{UserNum: user, Limit: 3})
			seen := map[int64]bool{}
			for _, id := range got {
				seen[id] = true
			}
			for _, id := range before {
				assert.True(t, seen[id], "user %q: push %d existed at the start and was not listed", user, id)
			}
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
	})
}

func messageID(m registry.PushMessage) int64 { return m.ID }

// pageAll lists every message of q page by page, checking that the pages
// run newest first and never repeat a message, and returns their ids.
func pageAll(t *testing.T, s registry.Store, q registry.PushMessageQuery) []int64 {
	t.Helper()
	var all []int64
	seen := map[int64]bool{}
	for range 10000 {
		page, err := s.ListPushMessages(t.Context(), q)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page), q.PageLimit())
		for _, m := range page {
			require.False(t, seen[m.ID], "push %d listed twice", m.ID)
			seen[m.ID] = true
			if len(all) > 0 {
				require.Less(t, m.ID, all[len(all)-1], "newest first")
			}
			all = append(all, m.ID)
		}
		if len(page) < q.PageLimit() {
			return all
		}
		q.BeforeID = page[len(page)-1].ID
	}
	t.Fatal("ListPushMessages never returned a short page")
	return nil
}
