package registrytest

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testDevices covers RegisterDevice, GetDevice, GetUserDevice and
// DeactivateLink. Its subtests share one store and keep apart by using
// their own uuids and user_nums.
func testDevices(t *testing.T, f Factory) {
	s := f.New(t)

	t.Run("RegisterInserts", func(t *testing.T) {
		d := &registry.Device{
			UUID: "ins-uuid", Platform: registry.PlatformIOS, PushToken: "ins-token", PushPlatform: "jpush",
			Name: "李雷的 iPhone 🎉", OS: "iOS", OSVersion: "17.4", Alias: "ins-alias",
		}
		dev, link := register(t, s, d, "ins-user")

		require.Positive(t, dev.ID)
		assert.Equal(t, registry.Device{
			ID: dev.ID, UUID: "ins-uuid", Platform: registry.PlatformIOS, PushToken: "ins-token", PushPlatform: "jpush",
			Name: "李雷的 iPhone 🎉", OS: "iOS", OSVersion: "17.4", Alias: "ins-alias",
		}, normDevice(dev))
		got, err := s.GetDevice(t.Context(), dev.ID)
		require.NoError(t, err)
		assert.Equal(t, normDevice(dev), normDevice(got))

		require.Positive(t, link.ID)
		assert.Equal(t, registry.UserDevice{ID: link.ID, UserNum: "ins-user", DeviceID: dev.ID, Active: true}, normLink(link))
		gotLink, err := s.GetUserDevice(t.Context(), link.ID)
		require.NoError(t, err)
		assert.Equal(t, normLink(link), normLink(gotLink))
	})

	t.Run("RegisterUpdatesByPlatformAndUUID", func(t *testing.T) {
		first, firstLink := register(t, s, newDevice("up-uuid", registry.PlatformIOS, "up-token-1"), "up-user")
		again := &registry.Device{
			UUID: "up-uuid", Platform: registry.PlatformIOS, PushToken: "up-token-2", PushPlatform: "jpush",
			Name: "renamed", OS: "iPadOS", OSVersion: "18.0",
		}
		second, secondLink := register(t, s, again, "up-user")

		want := registry.Device{
			ID: first.ID, UUID: "up-uuid", Platform: registry.PlatformIOS, PushToken: "up-token-2", PushPlatform: "jpush",
			Name: "renamed", OS: "iPadOS", OSVersion: "18.0",
		}
		assert.Equal(t, want, normDevice(second))
		got, err := s.GetDevice(t.Context(), first.ID)
		require.NoError(t, err)
		assert.Equal(t, want, normDevice(got))
		assert.Equal(t, firstLink.ID, secondLink.ID, "same user and device keep their link")
		assert.Equal(t, []registry.Target{{
			UserDeviceID: firstLink.ID, UserNum: "up-user", DeviceID: first.ID,
			Platform: registry.PlatformIOS, PushPlatform: "jpush", Token: "up-token-2",
		}}, targetsOf(t, s, "up-user"))
	})

	t.Run("SameUUIDOnOtherPlatformIsAnotherDevice", func(t *testing.T) {
		ios, iosLink := register(t, s, newDevice("dual-uuid", registry.PlatformIOS, "dual-ios"), "dual-user")
		android, androidLink := register(t, s, newDevice("dual-uuid", registry.PlatformAndroid, "dual-android"), "dual-user")

		assert.NotEqual(t, ios.ID, android.ID)
		gotIOS, err := s.GetDevice(t.Context(), ios.ID)
		require.NoError(t, err)
		assert.Equal(t, "dual-ios", gotIOS.PushToken, "the android registration must not touch the ios device")
		gotLink, err := s.GetUserDevice(t.Context(), iosLink.ID)
		require.NoError(t, err)
		assert.True(t, gotLink.Active, "one user may have many devices")
		assert.Equal(t, []registry.Target{
			{UserDeviceID: iosLink.ID, UserNum: "dual-user", DeviceID: ios.ID, Platform: registry.PlatformIOS, PushPlatform: registry.DefaultPushPlatform, Token: "dual-ios"},
			{UserDeviceID: androidLink.ID, UserNum: "dual-user", DeviceID: android.ID, Platform: registry.PlatformAndroid, PushPlatform: registry.DefaultPushPlatform, Token: "dual-android"},
		}, targetsOf(t, s, "dual-user"))
	})

	t.Run("EmptyPushPlatformIsDefault", func(t *testing.T) {
		d := newDevice("default-uuid", registry.PlatformAndroid, "default-token")
		d.PushPlatform = ""
		dev, _ := register(t, s, d, "default-user")

		assert.Equal(t, registry.DefaultPushPlatform, dev.PushPlatform)
		got, err := s.GetDevice(t.Context(), dev.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.DefaultPushPlatform, got.PushPlatform)
		targets := targetsOf(t, s, "default-user")
		require.Len(t, targets, 1)
		assert.Equal(t, registry.DefaultPushPlatform, targets[0].PushPlatform)
	})

	t.Run("LongestValuesFit", func(t *testing.T) {
		user := emojiChars(registry.MaxVarchar)
		d := &registry.Device{
			UUID:         strings.Repeat("u", registry.MaxVarchar),
			Platform:     registry.PlatformAndroid,
			PushToken:    strings.Repeat("t", registry.MaxVarchar),
			PushPlatform: strings.Repeat("p", registry.MaxVarchar),
			Name:         emojiChars(registry.MaxVarchar),
			OS:           emojiChars(registry.MaxVarchar),
			OSVersion:    emojiChars(registry.MaxVarchar),
			Alias:        emojiChars(registry.MaxVarchar),
		}
		dev, link := register(t, s, d, user)

		got, err := s.GetDevice(t.Context(), dev.ID)
		require.NoError(t, err)
		want := *d
		want.ID = dev.ID
		assert.Equal(t, want, normDevice(got))
		gotLink, err := s.GetUserDevice(t.Context(), link.ID)
		require.NoError(t, err)
		assert.Equal(t, user, gotLink.UserNum)
	})

	t.Run("ValidationWritesNothing", func(t *testing.T) {
		owner, ownerLink := register(t, s, newDevice("val-uuid", registry.PlatformIOS, "val-token"), "val-owner")
		ownerTargets := targetsOf(t, s, "val-owner")
		require.Len(t, ownerTargets, 1)
		long := strings.Repeat("x", registry.MaxVarchar+1)

		tests := []struct {
			name  string
			user  string
			edit  func(d *registry.Device) *registry.Device
			field string
		}{
			{name: "user_num empty", user: "", field: "user_num"},
			{name: "user_num blank", user: " \t", field: "user_num"},
			{name: "user_num too long", user: long, field: "user_num"},
			{name: "user_num not UTF-8", user: "val-\xff", field: "user_num"},
			{name: "device nil", edit: func(*registry.Device) *registry.Device { return nil }, field: "device"},
			{name: "uuid empty", edit: func(d *registry.Device) *registry.Device { d.UUID = ""; return d }, field: "uuid"},
			{name: "uuid blank", edit: func(d *registry.Device) *registry.Device { d.UUID = "  "; return d }, field: "uuid"},
			{name: "uuid too long", edit: func(d *registry.Device) *registry.Device { d.UUID = long; return d }, field: "uuid"},
			{name: "platform empty", edit: func(d *registry.Device) *registry.Device { d.Platform = ""; return d }, field: "platform"},
			{name: "platform unknown", edit: func(d *registry.Device) *registry.Device { d.Platform = "windows"; return d }, field: "platform"},
			{name: "platform upper case", edit: func(d *registry.Device) *registry.Device { d.Platform = "IOS"; return d }, field: "platform"},
			{name: "push_token empty", edit: func(d *registry.Device) *registry.Device { d.PushToken = ""; return d }, field: "push_token"},
			{name: "push_token with comma", edit: func(d *registry.Device) *registry.Device { d.PushToken = "a,b"; return d }, field: "push_token"},
			{name: "push_token with space", edit: func(d *registry.Device) *registry.Device { d.PushToken = "a b"; return d }, field: "push_token"},
			{name: "push_token with newline", edit: func(d *registry.Device) *registry.Device { d.PushToken = "a\nb"; return d }, field: "push_token"},
			{name: "push_token too long", edit: func(d *registry.Device) *registry.Device { d.PushToken = long; return d }, field: "push_token"},
			{name: "push_platform too long", edit: func(d *registry.Device) *registry.Device { d.PushPlatform = long; return d }, field: "push_platform"},
			{name: "name too long", edit: func(d *registry.Device) *registry.Device { d.Name = long; return d }, field: "name"},
			{name: "name not UTF-8", edit: func(d *registry.Device) *registry.Device { d.Name = "\xc3\x28"; return d }, field: "name"},
			{name: "os too long", edit: func(d *registry.Device) *registry.Device { d.OS = long; return d }, field: "os"},
			{name: "os_version too long", edit: func(d *registry.Device) *registry.Device { d.OSVersion = long; return d }, field: "os_version"},
			{name: "alias too long", edit: func(d *registry.Device) *registry.Device { d.Alias = long; return d }, field: "alias"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				// A valid version of this call would update the owner's
				// device and log the owner out of it.
				d := newDevice("val-uuid", registry.PlatformIOS, "val-token-new")
				if tt.edit != nil {
					d = tt.edit(d)
				}
				user := "val-intruder"
				if tt.edit == nil {
					user = tt.user
				}

				_, _, err := s.RegisterDevice(t.Context(), d, user)

				requireInvalid(t, err, tt.field)
				got, err := s.GetDevice(t.Context(), owner.ID)
				require.NoError(t, err)
				assert.Equal(t, normDevice(owner), normDevice(got), "device changed")
				link, err := s.GetUserDevice(t.Context(), ownerLink.ID)
				require.NoError(t, err)
				assert.True(t, link.Active, "owner logged out")
				assert.Equal(t, ownerTargets, targetsOf(t, s, "val-owner"))
				assert.Empty(t, targetsOf(t, s, "val-intruder"))
			})
		}
	})

	t.Run("ReRegisterClearsDisabledToken", func(t *testing.T) {
		d := newDevice("dis-uuid", registry.PlatformAndroid, "dis-token")
		dev, _ := register(t, s, d, "dis-user")
		n, err := s.DisableTokens(t.Context(), registry.DefaultPushPlatform, registry.PlatformAndroid, []string{"dis-token"}, "InvalidToken 2010")
		require.NoError(t, err)
		require.EqualValues(t, 1, n)
		disabled, err := s.GetDevice(t.Context(), dev.ID)
		require.NoError(t, err)
		require.NotNil(t, disabled.TokenDisabledAt)
		require.Equal(t, "InvalidToken 2010", disabled.TokenDisabledReason)
		require.Empty(t, targetsOf(t, s, "dis-user"))

		again, _ := register(t, s, d, "dis-user")

		assert.Nil(t, again.TokenDisabledAt)
		assert.Empty(t, again.TokenDisabledReason)
		got, err := s.GetDevice(t.Context(), dev.ID)
		require.NoError(t, err)
		assert.Nil(t, got.TokenDisabledAt)
		assert.Empty(t, got.TokenDisabledReason)
		assert.Len(t, targetsOf(t, s, "dis-user"), 1)
	})

	t.Run("TokenTakenOverByAnotherDevice", func(t *testing.T) {
		// The app is reinstalled and registers under a new uuid, with the
		// token the old record still holds, for another user.
		old, _ := register(t, s, newDevice("take-old", registry.PlatformAndroid, "take-token"), "take-user-a")
		other, _ := register(t, s, newDevice("take-ios", registry.PlatformIOS, "take-token"), "take-user-c")
		fresh, _ := register(t, s, newDevice("take-new", registry.PlatformAndroid, "take-token"), "take-user-b")

		assert.Empty(t, targetsOf(t, s, "take-user-a"), "the old record no longer reaches the phone")
		got := targetsOf(t, s, "take-user-b")
		require.Len(t, got, 1)
		assert.Equal(t, fresh.ID, got[0].DeviceID)
		oldNow, err := s.GetDevice(t.Context(), old.ID)
		require.NoError(t, err)
		require.NotNil(t, oldNow.TokenDisabledAt)
		assert.Equal(t, registry.TokenTakenOver, oldNow.TokenDisabledReason)
		assert.Len(t, targetsOf(t, s, "take-user-c"), 1, "the same token on another platform is another app")
		otherNow, err := s.GetDevice(t.Context(), other.ID)
		require.NoError(t, err)
		assert.Nil(t, otherNow.TokenDisabledAt)
	})

	t.Run("OneActiveUser", func(t *testing.T) {
		shared := newDevice("one-uuid", registry.PlatformIOS, "one-token")
		dev, linkA := register(t, s, shared, "one-a")
		other, otherA := register(t, s, newDevice("one-other-uuid", registry.PlatformIOS, "one-other-token"), "one-a")

		_, linkB := register(t, s, shared, "one-b")

		assert.NotEqual(t, linkA.ID, linkB.ID)
		assert.True(t, linkB.Active)
		assertActive(t, s, map[int64]bool{linkA.ID: false, linkB.ID: true, otherA.ID: true})
		assert.Equal(t, []int64{other.ID}, ids(targetsOf(t, s, "one-a"), targetDevice), "a's other device stays")
		assert.Equal(t, []int64{dev.ID}, ids(targetsOf(t, s, "one-b"), targetDevice))

		_, linkC := register(t, s, shared, "one-c")
		assertActive(t, s, map[int64]bool{linkA.ID: false, linkB.ID: false, linkC.ID: true, otherA.ID: true})

		_, backA := register(t, s, shared, "one-a")

		assert.Equal(t, linkA.ID, backA.ID, "one link per (user, device)")
		assert.True(t, backA.Active)
		assertActive(t, s, map[int64]bool{linkA.ID: true, linkB.ID: false, linkC.ID: false, otherA.ID: true})
		assert.Empty(t, targetsOf(t, s, "one-b", "one-c"))
		assert.ElementsMatch(t, []int64{dev.ID, other.ID}, ids(targetsOf(t, s, "one-a"), targetDevice))
	})

	t.Run("SameUserReusesLink", func(t *testing.T) {
		d := newDevice("reuse-uuid", registry.PlatformAndroid, "reuse-token")
		_, first := register(t, s, d, "reuse-user")
		_, second := register(t, s, d, "reuse-user")
		assert.Equal(t, first.ID, second.ID)
		require.NoError(t, s.DeactivateLink(t.Context(), "reuse-user", first.ID))
		require.Empty(t, targetsOf(t, s, "reuse-user"))

		_, third := register(t, s, d, "reuse-user")

		assert.Equal(t, first.ID, third.ID)
		assert.True(t, third.Active)
		assertActive(t, s, map[int64]bool{first.ID: true})
		assert.Len(t, targetsOf(t, s, "reuse-user"), 1)
	})

	t.Run("GetNotFound", func(t *testing.T) {
		tests := []struct {
			name string
			get  func() error
		}{
			{"GetDevice missing", func() error { _, err := s.GetDevice(t.Context(), missingID); return err }},
			{"GetDevice zero", func() error { _, err := s.GetDevice(t.Context(), 0); return err }},
			{"GetUserDevice missing", func() error { _, err := s.GetUserDevice(t.Context(), missingID); return err }},
			{"GetUserDevice zero", func() error { _, err := s.GetUserDevice(t.Context(), 0); return err }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				assert.ErrorIs(t, tt.get(), registry.ErrNotFound)
			})
		}
	})

	t.Run("DeactivateLink", func(t *testing.T) {
		_, link := register(t, s, newDevice("deact-uuid", registry.PlatformIOS, "deact-token"), "deact-owner")

		steps := []struct {
			name   string
			user   string
			id     int64
			want   error
			active bool
		}{
			{name: "missing link", user: "deact-owner", id: missingID, want: registry.ErrNotFound, active: true},
			{name: "another user", user: "deact-other", id: link.ID, want: registry.ErrNotOwner, active: true},
			{name: "hostile user", user: "x' OR '1'='1", id: link.ID, want: registry.ErrNotOwner, active: true},
			{name: "owner", user: "deact-owner", id: link.ID, active: false},
			{name: "owner again", user: "deact-owner", id: link.ID, active: false},
			{name: "another user on inactive link", user: "deact-other", id: link.ID, want: registry.ErrNotOwner, active: false},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				err := s.DeactivateLink(t.Context(), st.user, st.id)

				if st.want == nil {
					require.NoError(t, err)
				} else {
					require.ErrorIs(t, err, st.want)
				}
				assertActive(t, s, map[int64]bool{link.ID: st.active})
				assert.Len(t, targetsOf(t, s, "deact-owner"), map[bool]int{true: 1, false: 0}[st.active])
			})
		}
	})
}

// assertActive checks the Active flag of each link.
func assertActive(t *testing.T, s registry.Store, want map[int64]bool) {
	t.Helper()
	for id, active := range want {
		l, err := s.GetUserDevice(t.Context(), id)
		require.NoError(t, err)
		assert.Equal(t, active, l.Active, "link %d active", id)
	}
}
