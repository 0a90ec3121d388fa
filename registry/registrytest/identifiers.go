package registrytest

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testIdentifiers covers how keys compare (see the registry's
// Identifiers): trailing spaces are not part of a key on any store, the
// platform argument of DisableTokens is read like stored platforms, and ids
// beyond the product brief's int(11) columns are simply not found.
func testIdentifiers(t *testing.T, f Factory) {
	t.Run("TrailingSpacesAreNotPartOfAKey", func(t *testing.T) {
		s := f.New(t)
		padded := newDevice("pad-uuid  ", registry.PlatformIOS, "pad-token")
		padded.PushPlatform = "jpush "
		dev, link := register(t, s, padded, "pad-user ")
		assert.Equal(t, "pad-uuid", dev.UUID)
		assert.Equal(t, "jpush", dev.PushPlatform)
		assert.Equal(t, "pad-user", link.UserNum)

		plain := newDevice("pad-uuid", registry.PlatformIOS, "pad-token-2")
		plain.PushPlatform = "jpush"
		again, againLink := register(t, s, plain, "pad-user")
		assert.Equal(t, dev.ID, again.ID, "the same device")
		assert.Equal(t, link.ID, againLink.ID, "the same user's link")
		for _, users := range [][]string{{"pad-user"}, {"pad-user   "}} {
			assert.Equal(t, []registry.Target{{
				UserDeviceID: link.ID, UserNum: "pad-user", DeviceID: dev.ID, Platform: registry.PlatformIOS,
				PushPlatform: "jpush", Token: "pad-token-2",
			}}, targetsOf(t, s, users...), "targets of %q", users)
		}

		// Leading spaces count.
		other, otherLink := register(t, s, newDevice(" pad-uuid", registry.PlatformIOS, "pad-token-3"), " pad-user")
		assert.NotEqual(t, dev.ID, other.ID)
		assert.Equal(t, []int64{otherLink.ID}, ids(targetsOf(t, s, " pad-user"), targetLink))
		assert.ErrorIs(t, s.DeactivateLink(t.Context(), "pad-user", otherLink.ID), registry.ErrNotOwner)
		require.NoError(t, s.DeactivateLink(t.Context(), " pad-user  ", otherLink.ID))
		assertActive(t, s, map[int64]bool{otherLink.ID: false, link.ID: true})

		n, err := s.DisableTokens(t.Context(), "jpush  ", registry.PlatformIOS, []string{"  pad-token-2 "}, "gone")
		require.NoError(t, err)
		assert.EqualValues(t, 1, n)
		assert.Empty(t, targetsOf(t, s, "pad-user"))

		m := pushMessage("padded keys", "pad-key  ")
		createPush(t, s, m, pending("pad-d0 ", registry.PlatformIOS, 0, at(0), "t"))
		for _, key := range []string{"pad-key", "pad-key "} {
			got, err := s.GetPushMessageByDedupeKey(t.Context(), key)
			require.NoError(t, err, "dedupe key %q", key)
			assert.Equal(t, m.ID, got.ID)
			assert.Equal(t, "pad-key", got.DedupeKey)
		}
		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"pad-d0"}, keys(list))
		assert.ErrorIs(t, s.CreatePushMessage(t.Context(), pushMessage("same key", "pad-key"), nil), registry.ErrConflict)
		assert.ErrorIs(t, s.CreatePushMessage(t.Context(), pushMessage("same idempotency key", ""),
			[]*registry.Delivery{pending("pad-d0", registry.PlatformIOS, 0, at(0), "t")}), registry.ErrConflict)
		_, err = s.GetPushMessageByDedupeKey(t.Context(), " pad-key")
		assert.ErrorIs(t, err, registry.ErrNotFound, "a leading space counts")
	})

	t.Run("DisableTokensReadsThePlatformArgumentLikeRows", func(t *testing.T) {
		s := f.New(t)
		for i, platform := range []string{"IOS", " ios ", "iOS"} {
			token := fmt.Sprintf("arg-token-%d", i)
			dev, _ := register(t, s, newDevice(fmt.Sprintf("arg-%d", i), registry.PlatformIOS, token), "arg-user")

			n, err := s.DisableTokens(t.Context(), registry.DefaultPushPlatform, platform, []string{token}, "gone")

			require.NoError(t, err)
			assert.EqualValues(t, 1, n, "case %d: %q", i, platform)
			got, err := s.GetDevice(t.Context(), dev.ID)
			require.NoError(t, err)
			assert.NotNil(t, got.TokenDisabledAt)
		}
		n, err := s.DisableTokens(t.Context(), registry.DefaultPushPlatform, registry.PlatformAndroid, []string{"arg-token-0"}, "gone")
		require.NoError(t, err)
		assert.Zero(t, n, "another platform")
	})

	t.Run("IdsBeyondIntColumnsAreNotFound", func(t *testing.T) {
		s := f.New(t)
		dev, link := register(t, s, newDevice("huge-uuid", registry.PlatformAndroid, "huge-token"), "huge-user")
		m := pushMessage("huge", "")
		createPush(t, s, m, pending("huge-d", registry.PlatformAndroid, 0, at(0), "huge-token"))
		enqueue(t, s, centerMessage("huge", 0))

		for _, id := range []int64{hugeID, -hugeID} {
			t.Run(map[bool]string{true: "positive", false: "negative"}[id > 0], func(t *testing.T) {
				ctx := t.Context()
				_, err := s.GetDevice(ctx, id)
				assert.ErrorIs(t, err, registry.ErrNotFound, "GetDevice")
				_, err = s.GetUserDevice(ctx, id)
				assert.ErrorIs(t, err, registry.ErrNotFound, "GetUserDevice")
				assert.ErrorIs(t, s.DeactivateLink(ctx, "huge-user", id), registry.ErrNotFound, "DeactivateLink")
				_, err = s.GetPushMessage(ctx, id)
				assert.ErrorIs(t, err, registry.ErrNotFound, "GetPushMessage")
				_, err = s.GetCenterMessage(ctx, id)
				assert.ErrorIs(t, err, registry.ErrNotFound, "GetCenterMessage")
				list, err := s.ListDeliveries(ctx, id)
				require.NoError(t, err, "ListDeliveries")
				assert.Empty(t, list)
				c := &registry.CenterMessage{ID: id, SendState: registry.SendStateSent, ClaimToken: "claim"}
				assert.ErrorIs(t, s.FinishCenterMessage(ctx, c), registry.ErrClaimLost, "FinishCenterMessage")
				d := pending("huge-split", registry.PlatformAndroid, 0, at(0), "huge-token")
				d.ID, d.State, d.ClaimToken = id, registry.DeliveryDone, "claim"
				assert.ErrorIs(t, s.FinishDelivery(ctx, d), registry.ErrClaimLost, "FinishDelivery")
				assert.ErrorIs(t, s.SplitDelivery(ctx, d, []*registry.Delivery{pending("huge-split.0", registry.PlatformAndroid, 0, at(0), "t")}),
					registry.ErrClaimLost, "SplitDelivery")
			})
		}
		page, err := s.ListTargets(t.Context(), registry.TargetQuery{UserNums: []string{"huge-user"}, AfterUserDeviceID: hugeID})
		require.NoError(t, err)
		assert.Empty(t, page, "no link comes after an id beyond the column")
		page, err = s.ListTargets(t.Context(), registry.TargetQuery{UserNums: []string{"huge-user"}, AfterUserDeviceID: -hugeID})
		require.NoError(t, err)
		assert.Equal(t, []int64{dev.ID}, ids(page, targetDevice), "every link comes after an id below the column")
		assert.Equal(t, []int64{link.ID}, ids(page, targetLink))
		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, m.ID, got.ID, "the rows are there")
	})
}
