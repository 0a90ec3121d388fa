package registrytest

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testPushMessages covers CreatePushMessage, GetPushMessage,
// GetPushMessageByDedupeKey and ListDeliveries. Subtests that prove
// "nothing was written" get a fresh store; the others share one.
func testPushMessages(t *testing.T, f Factory) {
	s := f.New(t)

	t.Run("CreateSetsIDsAndSummary", func(t *testing.T) {
		m := pushMessage("create", "create-key")
		ds := []*registry.Delivery{
			pending("create-i0", registry.PlatformIOS, 0, at(0), "i1", "i2"),
			pending("create-a0", registry.PlatformAndroid, 0, at(0), "a1"),
			pending("create-i1", registry.PlatformIOS, 1, at(0), "i3"),
		}
		createPush(t, s, m, ds...)

		require.Positive(t, m.ID)
		seen := map[int64]bool{}
		for _, d := range ds {
			require.Positive(t, d.ID)
			assert.False(t, seen[d.ID], "delivery id %d twice", d.ID)
			seen[d.ID] = true
			assert.Equal(t, m.ID, d.PushMessageID)
		}
		assert.Equal(t, registry.PlatformSummary{DeviceTokens: "i1,i2,i3", Ret: registry.RetPending, Status: registry.StatusPending, IsSend: true}, m.IOS)
		assert.Equal(t, registry.PlatformSummary{DeviceTokens: "a1", Ret: registry.RetPending, Status: registry.StatusPending, IsSend: true}, m.Android)
		assert.Equal(t, registry.Summarize(registry.PlatformIOS, values(ds)), m.IOS)
		assert.Equal(t, registry.Summarize(registry.PlatformAndroid, values(ds)), m.Android)

		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assertMessage(t, *m, got)
		byKey, err := s.GetPushMessageByDedupeKey(t.Context(), "create-key")
		require.NoError(t, err)
		assertMessage(t, *m, byKey)

		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		want := values(ds)
		slices.SortFunc(want, func(a, b registry.Delivery) int { return int(a.ID - b.ID) })
		assertDeliveries(t, want, list, "ListDeliveries ordered by ID")
	})

	t.Run("IsSendOnlyForPlatformsWithDeliveries", func(t *testing.T) {
		m := pushMessage("android only", "")
		createPush(t, s, m, pending("android-only-0", registry.PlatformAndroid, 0, at(0), "a1", "a2"))

		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.PlatformSummary{}, got.IOS)
		assert.Equal(t, registry.PlatformSummary{DeviceTokens: "a1,a2", Ret: registry.RetPending, Status: registry.StatusPending, IsSend: true}, got.Android)
	})

	t.Run("NoDeliveries", func(t *testing.T) {
		m := pushMessage("nobody", "")
		m.ExpireAt = nil
		createPush(t, s, m)

		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assertMessage(t, *m, got)
		assert.Nil(t, got.ExpireAt)
		assert.False(t, got.IOS.IsSend)
		assert.False(t, got.Android.IsSend)
		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Empty(t, list)
	})

	t.Run("TokensRoundTrip", func(t *testing.T) {
		iosToken := strings.Repeat("0123456789abcdef", 4)
		androidToken := "Ag3Zq0-_x+/yW1Hk9RtPsd8LmNb2VcXe4FgHjKlMnOp="
		broadcast := &registry.Delivery{
			Provider: "umeng", Platform: registry.PlatformIOS, Seq: 1, Audience: registry.AudienceBroadcast,
			IdempotencyKey: "tokens-broadcast", State: registry.DeliveryPending, NextAttemptAt: at(0),
		}
		ds := []*registry.Delivery{
			pending("tokens-ios", registry.PlatformIOS, 0, at(0), iosToken),
			pending("tokens-android", registry.PlatformAndroid, 0, at(0), androidToken, "second", "third"),
			broadcast,
		}
		m := pushMessage("tokens", "")
		m.PushType = registry.PushTypeBroadcast
		createPush(t, s, m, ds...)

		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		require.Len(t, list, 3)
		byKey := map[string]registry.Delivery{}
		for _, d := range list {
			byKey[d.IdempotencyKey] = d
		}
		assert.Equal(t, []string{iosToken}, byKey["tokens-ios"].Tokens)
		assert.Equal(t, []string{androidToken, "second", "third"}, byKey["tokens-android"].Tokens)
		assert.Empty(t, byKey["tokens-broadcast"].Tokens, "a broadcast has no tokens, not one empty token")
		assertDelivery(t, *broadcast, byKey["tokens-broadcast"])
		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, iosToken, got.IOS.DeviceTokens)
		assert.True(t, got.IOS.IsSend)
		assert.Equal(t, androidToken+",second,third", got.Android.DeviceTokens)
	})

	t.Run("EmojiRoundTripsByteExact", func(t *testing.T) {
		tests := []struct {
			name string
			m    *registry.PushMessage
		}{
			{"chinese and emoji", &registry.PushMessage{
				Title: "订单已发货 🎉", Content: "您的订单 🚚 已发货，点击查看 👉", Extra: `{"emoji":"🎉","zh":"中文"}`,
				PushType: registry.PushTypeUsers, DedupeKey: "emoji-🎉",
			}},
			{"longest values", &registry.PushMessage{
				Title: emojiChars(registry.MaxVarchar), Content: emojiText(registry.MaxText), Extra: emojiChars(registry.MaxVarchar),
				PushType: registry.PushTypeUsers, DedupeKey: emojiChars(registry.MaxVarchar),
			}},
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				createPush(t, s, tt.m, pending("emoji-"+string(rune('a'+i)), registry.PlatformIOS, 0, at(0), "t"))

				got, err := s.GetPushMessage(t.Context(), tt.m.ID)
				require.NoError(t, err)
				assert.Equal(t, tt.m.Title, got.Title)
				assert.Equal(t, tt.m.Content, got.Content)
				assert.Equal(t, tt.m.Extra, got.Extra)
				byKey, err := s.GetPushMessageByDedupeKey(t.Context(), tt.m.DedupeKey)
				require.NoError(t, err)
				assert.Equal(t, tt.m.ID, byKey.ID)
			})
		}
	})

	t.Run("GetNotFound", func(t *testing.T) {
		tests := []struct {
			name string
			get  func() error
		}{
			{"GetPushMessage missing", func() error { _, err := s.GetPushMessage(t.Context(), missingID); return err }},
			{"GetPushMessage zero", func() error { _, err := s.GetPushMessage(t.Context(), 0); return err }},
			{"GetPushMessageByDedupeKey missing", func() error { _, err := s.GetPushMessageByDedupeKey(t.Context(), "no-such-key"); return err }},
			{"GetPushMessageByDedupeKey empty", func() error { _, err := s.GetPushMessageByDedupeKey(t.Context(), ""); return err }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				assert.ErrorIs(t, tt.get(), registry.ErrNotFound)
			})
		}
		list, err := s.ListDeliveries(t.Context(), missingID)
		require.NoError(t, err, "ListDeliveries of an unknown message")
		assert.Empty(t, list)
	})

	t.Run("EmptyDedupeKeysNeverConflict", func(t *testing.T) {
		first, second := pushMessage("no key 1", ""), pushMessage("no key 2", "")
		createPush(t, s, first, pending("nokey-1", registry.PlatformIOS, 0, at(0), "t"))
		createPush(t, s, second, pending("nokey-2", registry.PlatformIOS, 0, at(0), "t"))
		assert.NotEqual(t, first.ID, second.ID)
		_, err := s.GetPushMessageByDedupeKey(t.Context(), "")
		assert.ErrorIs(t, err, registry.ErrNotFound)
	})

	t.Run("StoredRowsAreCopies", func(t *testing.T) {
		m := pushMessage("copies", "copies-key")
		d := pending("copies-0", registry.PlatformAndroid, 0, at(0), "c1", "c2")
		createPush(t, s, m, d)
		wantMessage, wantDelivery := normMessage(*m), normDelivery(*d)
		wantDelivery.Tokens = []string{"c1", "c2"}

		d.Tokens[0] = "mutated-input"
		*d.ExpireAt = at(time.Hour)
		*m.ExpireAt = at(time.Hour)
		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		list[0].Tokens[1] = "mutated-output"
		*list[0].ExpireAt = at(2 * time.Hour)
		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		*got.ExpireAt = at(2 * time.Hour)

		again, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		require.Len(t, again, 1)
		assert.Equal(t, wantDelivery, normDelivery(again[0]))
		gotAgain, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, wantMessage, normMessage(gotAgain))
	})

	t.Run("ConflictsWriteNothing", func(t *testing.T) {
		s := f.New(t)
		first := pushMessage("first", "dup-key")
		done := pending("dup-d1", registry.PlatformIOS, 0, at(0), "t1")
		done.State = registry.DeliveryDone
		createPush(t, s, first, done)

		tests := []struct {
			name string
			m    *registry.PushMessage
			ds   []*registry.Delivery
		}{
			{"dedupe key taken", pushMessage("second", "dup-key"),
				[]*registry.Delivery{pending("dup-d2", registry.PlatformIOS, 0, at(0), "t2")}},
			{"idempotency key taken", pushMessage("third", "dup-key-3"),
				[]*registry.Delivery{pending("dup-d3", registry.PlatformIOS, 0, at(0), "t3"), pending("dup-d1", registry.PlatformAndroid, 0, at(0), "t3")}},
			{"idempotency key twice in one call", pushMessage("fourth", "dup-key-4"),
				[]*registry.Delivery{pending("dup-d4", registry.PlatformIOS, 0, at(0), "t4"), pending("dup-d4", registry.PlatformIOS, 1, at(0), "t5")}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				err := s.CreatePushMessage(t.Context(), tt.m, tt.ds)

				require.ErrorIs(t, err, registry.ErrConflict)
				assert.Zero(t, tt.m.ID)
				for _, d := range tt.ds {
					assert.Zero(t, d.ID)
				}
				if tt.m.DedupeKey != first.DedupeKey {
					_, err := s.GetPushMessageByDedupeKey(t.Context(), tt.m.DedupeKey)
					assert.ErrorIs(t, err, registry.ErrNotFound)
				}
				got, err := s.GetPushMessageByDedupeKey(t.Context(), "dup-key")
				require.NoError(t, err)
				assertMessage(t, *first, got)
				list, err := s.ListDeliveries(t.Context(), first.ID)
				require.NoError(t, err)
				assertDeliveries(t, []registry.Delivery{*done}, list)
				requireNoDueDeliveries(t, s)
			})
		}
	})

	t.Run("ValidationWritesNothing", func(t *testing.T) {
		s := f.New(t)
		long := strings.Repeat("x", registry.MaxVarchar+1)
		tooManyTokens := strings.Repeat("t", registry.MaxTokensText+1)
		delivery := func(edit func(d *registry.Delivery)) func(*registry.PushMessage, []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
			return func(m *registry.PushMessage, ds []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
				edit(ds[1])
				return m, ds
			}
		}
		message := func(edit func(m *registry.PushMessage)) func(*registry.PushMessage, []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
			return func(m *registry.PushMessage, ds []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
				edit(m)
				return m, ds
			}
		}
		tests := []struct {
			name  string
			edit  func(*registry.PushMessage, []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery)
			field string
		}{
			{"message nil", func(_ *registry.PushMessage, ds []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
				return nil, ds
			}, "push_message"},
			{"title too long", message(func(m *registry.PushMessage) { m.Title = long }), "title"},
			{"title of 256 emoji", message(func(m *registry.PushMessage) { m.Title = emojiChars(registry.MaxVarchar + 1) }), "title"},
			{"title not UTF-8", message(func(m *registry.PushMessage) { m.Title = "\xff" }), "title"},
			{"extra too long", message(func(m *registry.PushMessage) { m.Extra = long }), "extra_params_string"},
			{"push_type too long", message(func(m *registry.PushMessage) { m.PushType = long }), "push_type"},
			{"dedupe_key too long", message(func(m *registry.PushMessage) { m.DedupeKey = long }), "dedupe_key"},
			{"content too long", message(func(m *registry.PushMessage) { m.Content = emojiText(registry.MaxText + 1) }), "content"},
			{"content not UTF-8", message(func(m *registry.PushMessage) { m.Content = "ok \xed\xa0\x80" }), "content"},
			{"delivery nil", func(m *registry.PushMessage, ds []*registry.Delivery) (*registry.PushMessage, []*registry.Delivery) {
				return m, []*registry.Delivery{ds[0], nil}
			}, "deliveries"},
			{"delivery platform unknown", delivery(func(d *registry.Delivery) { d.Platform = "web" }), "delivery.platform"},
			{"delivery provider empty", delivery(func(d *registry.Delivery) { d.Provider = "" }), "delivery.provider"},
			{"delivery provider blank", delivery(func(d *registry.Delivery) { d.Provider = " " }), "delivery.provider"},
			{"delivery idempotency key empty", delivery(func(d *registry.Delivery) { d.IdempotencyKey = "" }), "delivery.idempotency_key"},
			{"delivery idempotency key too long", delivery(func(d *registry.Delivery) { d.IdempotencyKey = long }), "delivery.idempotency_key"},
			{"token delivery without tokens", delivery(func(d *registry.Delivery) { d.Tokens = nil }), "delivery.tokens"},
			{"ios tokens beyond MEDIUMTEXT", delivery(func(d *registry.Delivery) { d.Tokens = []string{tooManyTokens} }), "ios_device_tokens"},
			// What a database column refuses, every store refuses.
			{"delivery state unknown", delivery(func(d *registry.Delivery) { d.State = "sent" }), "delivery.state"},
			{"delivery created split", delivery(func(d *registry.Delivery) { d.State = registry.DeliverySplit }), "delivery.state"},
			{"delivery provider too long", delivery(func(d *registry.Delivery) { d.Provider = long }), "delivery.provider"},
			{"delivery audience too long", delivery(func(d *registry.Delivery) { d.Audience = long }), "delivery.audience"},
			{"delivery claim token too long", delivery(func(d *registry.Delivery) { d.ClaimToken = long }), "delivery.claim_token"},
			{"delivery token with a comma", delivery(func(d *registry.Delivery) { d.Tokens = []string{"a,b"} }), "delivery.tokens"},
			{"delivery token empty", delivery(func(d *registry.Delivery) { d.Tokens = []string{"a", ""} }), "delivery.tokens"},
			{"delivery token with a space", delivery(func(d *registry.Delivery) { d.Tokens = []string{"a b"} }), "delivery.tokens"},
			{"delivery seq negative", delivery(func(d *registry.Delivery) { d.Seq = -1 }), "delivery.seq"},
			{"delivery seq beyond INT", delivery(func(d *registry.Delivery) { d.Seq = 1 << 31 }), "delivery.seq"},
			{"delivery attempts negative", delivery(func(d *registry.Delivery) { d.Attempts = -1 }), "delivery.attempts"},
			{"delivery receipt too long", delivery(func(d *registry.Delivery) { d.ReceiptID = long }), "delivery.receipt_id"},
			{"delivery response not UTF-8", delivery(func(d *registry.Delivery) { d.Response = "\xff" }), "delivery.response"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				m, ds := tt.edit(pushMessage("invalid", "invalid-key"), []*registry.Delivery{
					pending("invalid-ok", registry.PlatformAndroid, 0, at(0), "ok"),
					pending("invalid-edited", registry.PlatformIOS, 0, at(0), "edited"),
				})

				err := s.CreatePushMessage(t.Context(), m, ds)

				requireInvalid(t, err, tt.field)
				if m != nil {
					assert.Zero(t, m.ID)
				}
				for _, d := range ds {
					if d != nil {
						assert.Zero(t, d.ID)
					}
				}
				_, err = s.GetPushMessageByDedupeKey(t.Context(), "invalid-key")
				assert.ErrorIs(t, err, registry.ErrNotFound)
				requireNoDueDeliveries(t, s)
			})
		}
	})
}

// requireNoDueDeliveries checks that s holds no delivery a send claim could
// take, however late: the check a failed write leaves nothing behind.
func requireNoDueDeliveries(t *testing.T, s registry.Store) {
	t.Helper()
	got, err := s.ClaimDeliveries(t.Context(), sendClaim(farFuture(), 100))
	require.NoError(t, err)
	require.Empty(t, keys(got), "deliveries written by a failed call")
}
