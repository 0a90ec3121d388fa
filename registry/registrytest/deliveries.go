package registrytest

import (
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testDeliveries covers ClaimDeliveries and FinishDelivery. Claims see
// every row of a store, so each subtest gets a fresh store.
func testDeliveries(t *testing.T, f Factory) {
	t.Run("ClaimSendTakesDuePendingOldestFirst", func(t *testing.T) {
		s := f.New(t)
		late := pending("late", registry.PlatformIOS, 0, at(-time.Second), "t")
		late.Attempts = 2
		notDue := pending("not-due", registry.PlatformIOS, 1, at(time.Second), "t")
		early := pending("early", registry.PlatformIOS, 2, at(-3*time.Second), "t")
		now := pending("now", registry.PlatformAndroid, 0, at(0), "t")
		done := pending("done", registry.PlatformAndroid, 1, at(-10*time.Second), "t")
		done.State = registry.DeliveryDone
		failed := pending("failed", registry.PlatformAndroid, 2, at(-10*time.Second), "t")
		failed.State = registry.DeliveryFailed
		accepted := pending("accepted", registry.PlatformAndroid, 3, at(-10*time.Second), "t")
		accepted.State, accepted.Pollable = registry.DeliveryAccepted, true
		held := pending("held", registry.PlatformAndroid, 4, at(-5*time.Second), "t")
		held.ClaimToken, held.LeaseUntil = "creator-token", ptr(at(30*time.Second))
		createPush(t, s, pushMessage("claim send", ""), late, notDue, early, now, done, failed, accepted, held)

		got, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))

		require.NoError(t, err)
		require.Equal(t, []string{"early", "late", "now"}, keys(got))
		for i, want := range []*registry.Delivery{early, late, now} {
			require.NotEmpty(t, got[i].ClaimToken, want.IdempotencyKey)
			w := *want
			w.Attempts = want.Attempts + 1
			w.ClaimToken, w.LeaseUntil = got[i].ClaimToken, ptr(at(lease))
			assertDelivery(t, w, got[i], "claimed %s", want.IdempotencyKey)
		}
		list, err := s.ListDeliveries(t.Context(), late.PushMessageID)
		require.NoError(t, err)
		stored := map[string]registry.Delivery{}
		for _, d := range list {
			stored[d.IdempotencyKey] = d
		}
		for _, c := range got {
			assertDelivery(t, c, stored[c.IdempotencyKey], "stored claim of %s", c.IdempotencyKey)
		}

		again, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		assert.Empty(t, keys(again), "claimed rows are held until their lease ends")

		afterCreatorLease, err := s.ClaimDeliveries(t.Context(), sendClaim(at(31*time.Second), 10))
		require.NoError(t, err)
		require.Equal(t, []string{"held", "not-due"}, keys(afterCreatorLease))
		assert.NotEqual(t, "creator-token", afterCreatorLease[0].ClaimToken)
		assert.Equal(t, 1, afterCreatorLease[0].Attempts)
		stale := *held
		stale.State = registry.DeliveryDone
		assert.ErrorIs(t, s.FinishDelivery(t.Context(), &stale), registry.ErrClaimLost)
	})

	t.Run("ClaimSendHonoursLimit", func(t *testing.T) {
		s := f.New(t)
		var ds []*registry.Delivery
		for i, sec := range []int{-2, -5, -1, -4, -3} {
			ds = append(ds, pending("limit"+strconv.Itoa(sec), registry.PlatformIOS, i, at(time.Duration(sec)*time.Second), "t"))
		}
		createPush(t, s, pushMessage("limit", ""), ds...)

		for _, want := range [][]string{{"limit-5", "limit-4"}, {"limit-3", "limit-2"}, {"limit-1"}, {}} {
			got, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 2))
			require.NoError(t, err)
			assert.Equal(t, want, keys(got))
		}
	})

	t.Run("CreatedClaimedIsHeldForItsCreator", func(t *testing.T) {
		s := f.New(t)
		d := pending("created-claimed", registry.PlatformIOS, 0, at(0), "t")
		d.ClaimToken, d.LeaseUntil = "creator-token", ptr(at(30*time.Second))
		m := pushMessage("created claimed", "")
		createPush(t, s, m, d)

		for _, now := range []time.Time{at(0), at(29 * time.Second)} {
			got, err := s.ClaimDeliveries(t.Context(), sendClaim(now, 10))
			require.NoError(t, err)
			assert.Empty(t, keys(got), "claimed at %s", now)
		}
		out := *d
		out.State, out.Ret, out.ReceiptID, out.VendorState = registry.DeliveryDone, registry.RetSuccess, "ul-1", "accepted"
		out.Attempts, out.SentAt = 1, ptr(at(time.Second))

		require.NoError(t, s.FinishDelivery(t.Context(), &out))

		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		want := out
		want.ClaimToken, want.LeaseUntil = "", nil
		assertDeliveries(t, []registry.Delivery{want}, list)
		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetSuccess, got.IOS.Ret)
		requireNoDueDeliveries(t, s)
	})

	t.Run("ClaimPollTakesDueAcceptedPollable", func(t *testing.T) {
		s := f.New(t)
		names := []string{"poll-due", "poll-unpollable", "poll-done", "poll-later", "poll-pending"}
		var ds []*registry.Delivery
		for i, n := range names {
			ds = append(ds, pending(n, registry.PlatformAndroid, i, at(0), "t"))
		}
		createPush(t, s, pushMessage("poll", ""), ds...)
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, claimed, len(names))
		outcome := map[string]func(d *registry.Delivery){
			"poll-due": func(d *registry.Delivery) {
				d.State, d.Pollable, d.VendorState, d.NextAttemptAt = registry.DeliveryAccepted, true, "queued", at(10*time.Second)
			},
			"poll-unpollable": func(d *registry.Delivery) {
				d.State, d.Pollable, d.NextAttemptAt = registry.DeliveryAccepted, false, at(10*time.Second)
			},
			"poll-done": func(d *registry.Delivery) {
				d.State, d.Pollable, d.VendorState, d.NextAttemptAt = registry.DeliveryDone, true, "done", at(10*time.Second)
			},
			"poll-later": func(d *registry.Delivery) {
				d.State, d.Pollable, d.VendorState, d.NextAttemptAt = registry.DeliveryAccepted, true, "sending", at(time.Hour)
			},
			"poll-pending": func(d *registry.Delivery) { d.NextAttemptAt = at(10 * time.Second) },
		}
		for i := range claimed {
			d := &claimed[i]
			outcome[d.IdempotencyKey](d)
			d.ReceiptID = "uf-" + d.IdempotencyKey
			require.NoError(t, s.FinishDelivery(t.Context(), d))
		}

		polled, err := s.ClaimDeliveries(t.Context(), pollClaim(at(10*time.Second), 10))

		require.NoError(t, err)
		require.Equal(t, []string{"poll-due"}, keys(polled))
		assert.Equal(t, 1, polled[0].Attempts, "a poll claim spends no send attempt")
		assert.NotEmpty(t, polled[0].ClaimToken)
		assertTimeEqual(t, at(10*time.Second+lease), polled[0].LeaseUntil)
		sent, err := s.ClaimDeliveries(t.Context(), sendClaim(at(10*time.Second), 10))
		require.NoError(t, err)
		require.Equal(t, []string{"poll-pending"}, keys(sent))
		assert.Equal(t, 2, sent[0].Attempts)
		later, err := s.ClaimDeliveries(t.Context(), pollClaim(at(time.Hour), 10))
		require.NoError(t, err)
		assert.Equal(t, []string{"poll-due", "poll-later"}, keys(later), "expired poll lease and the later poll, oldest first")
	})

	t.Run("ClaimParamsInvalid", func(t *testing.T) {
		s := f.New(t)
		createPush(t, s, pushMessage("params", ""), pending("params", registry.PlatformIOS, 0, at(0), "t"))
		tests := []struct {
			name string
			p    registry.ClaimParams
		}{
			{"zero limit", registry.ClaimParams{Now: at(0), Limit: 0, Lease: lease, Kind: registry.ClaimSend}},
			{"negative limit", registry.ClaimParams{Now: at(0), Limit: -1, Lease: lease, Kind: registry.ClaimSend}},
			{"zero lease", registry.ClaimParams{Now: at(0), Limit: 1, Lease: 0, Kind: registry.ClaimSend}},
			{"negative lease", registry.ClaimParams{Now: at(0), Limit: 1, Lease: -time.Second, Kind: registry.ClaimSend}},
			{"no kind", registry.ClaimParams{Now: at(0), Limit: 1, Lease: lease}},
			{"unknown kind", registry.ClaimParams{Now: at(0), Limit: 1, Lease: lease, Kind: registry.ClaimPoll + 1}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				got, err := s.ClaimDeliveries(t.Context(), tt.p)
				require.ErrorIs(t, err, registry.ErrInvalid)
				assert.Empty(t, got)
			})
		}
		got, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, got, 1, "an invalid claim must not take the row")
		assert.Equal(t, 1, got[0].Attempts)
	})

	t.Run("FinishWritesOutcomeAndReleasesClaim", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("finish", "")
		createPush(t, s, m,
			pending("finish-ios", registry.PlatformIOS, 0, at(0), "i1", "i2"),
			pending("finish-android", registry.PlatformAndroid, 0, at(0), "a1"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"finish-ios", "finish-android"}, keys(claimed))
		androidBefore := m.Android

		ios := find(t, claimed, "finish-ios")
		ios.State, ios.Pollable, ios.ReceiptID, ios.VendorState = registry.DeliveryAccepted, true, "uf-1", "queued"
		ios.Ret, ios.Response, ios.SentAt = registry.RetSuccess, `{"ret":"SUCCESS","data":{"task_id":"uf-1"}} 🎉`, ptr(at(time.Second))
		ios.NextAttemptAt = at(time.Minute)
		require.NoError(t, s.FinishDelivery(t.Context(), &ios))

		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		wantIOS := ios
		wantIOS.ClaimToken, wantIOS.LeaseUntil = "", nil
		assertDelivery(t, wantIOS, find(t, list, "finish-ios"))
		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.PlatformSummary{
			DeviceTokens: "i1,i2", TaskID: "uf-1", Ret: registry.RetSuccess, Status: "queued",
			Response: ios.Response, Timestamp: strconv.FormatInt(at(time.Second).UnixMilli(), 10), IsSend: true,
		}, got.IOS)
		assert.Equal(t, androidBefore, got.Android, "the other platform's summary is untouched")

		// A rate-limited send gives its attempt back, and keeps what its
		// provider asked the next try to give back.
		android := find(t, claimed, "finish-android")
		android.Attempts, android.NextAttemptAt = 0, at(5*time.Minute)
		android.ErrorKind, android.ErrorCode, android.Response = "RateLimited", "2050", "too many requests"
		android.RetryToken = "cid1:1900000000:1900000001:appkey-4c1e 令牌"
		require.NoError(t, s.FinishDelivery(t.Context(), &android))
		list, err = s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		wantAndroid := android
		wantAndroid.ClaimToken, wantAndroid.LeaseUntil = "", nil
		assertDelivery(t, wantAndroid, find(t, list, "finish-android"))
		again, err := s.ClaimDeliveries(t.Context(), sendClaim(at(5*time.Minute), 10))
		require.NoError(t, err)
		require.Equal(t, []string{"finish-android"}, keys(again))
		assert.Equal(t, 1, again[0].Attempts)
		assert.Equal(t, android.RetryToken, again[0].RetryToken, "the next try gets the retry token back")

		unclaimed := find(t, list, "finish-ios")
		unclaimed.ClaimToken = ""
		for name, d := range map[string]registry.Delivery{"finished token": ios, "no token": unclaimed} {
			t.Run("finish again with "+name, func(t *testing.T) {
				d.State = registry.DeliveryFailed
				assert.ErrorIs(t, s.FinishDelivery(t.Context(), &d), registry.ErrClaimLost)
				after, err := s.ListDeliveries(t.Context(), m.ID)
				require.NoError(t, err)
				assertDelivery(t, wantIOS, find(t, after, "finish-ios"))
			})
		}
	})

	t.Run("FinishValidationWritesNothing", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("finish invalid", "")
		createPush(t, s, m, pending("finish-invalid", registry.PlatformIOS, 0, at(0), "t"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		before, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		msgBefore, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		long := strings.Repeat("x", registry.MaxVarchar+1)
		tests := []struct {
			name  string
			edit  func(d *registry.Delivery) *registry.Delivery
			field string
		}{
			{"delivery nil", func(*registry.Delivery) *registry.Delivery { return nil }, "delivery"},
			{"state empty", func(d *registry.Delivery) *registry.Delivery { d.State = ""; return d }, "delivery.state"},
			{"state unknown", func(d *registry.Delivery) *registry.Delivery { d.State = "sent"; return d }, "delivery.state"},
			{"state split", func(d *registry.Delivery) *registry.Delivery { d.State = registry.DeliverySplit; return d }, "delivery.state"},
			{"attempts negative", func(d *registry.Delivery) *registry.Delivery { d.Attempts = -1; return d }, "delivery.attempts"},
			{"attempts beyond INT", func(d *registry.Delivery) *registry.Delivery { d.Attempts = 1 << 31; return d }, "delivery.attempts"},
			{"receipt_id too long", func(d *registry.Delivery) *registry.Delivery { d.ReceiptID = long; return d }, "delivery.receipt_id"},
			{"vendor_state not UTF-8", func(d *registry.Delivery) *registry.Delivery { d.VendorState = "\xff"; return d }, "delivery.vendor_state"},
			{"ret too long", func(d *registry.Delivery) *registry.Delivery { d.Ret = long; return d }, "delivery.ret"},
			{"error_kind too long", func(d *registry.Delivery) *registry.Delivery { d.ErrorKind = long; return d }, "delivery.error_kind"},
			{"retry_token too long", func(d *registry.Delivery) *registry.Delivery { d.RetryToken = long; return d }, "delivery.retry_token"},
			{"retry_token with a NUL", func(d *registry.Delivery) *registry.Delivery { d.RetryToken = "cid\x00"; return d }, "delivery.retry_token"},
			{"error_code of 256 emoji", func(d *registry.Delivery) *registry.Delivery {
				d.ErrorCode = emojiChars(registry.MaxVarchar + 1)
				return d
			}, "delivery.error_code"},
			{"response beyond MEDIUMTEXT", func(d *registry.Delivery) *registry.Delivery {
				d.Response = strings.Repeat("x", registry.MaxMediumText+1)
				return d
			}, "delivery.response"},
			{"response not UTF-8", func(d *registry.Delivery) *registry.Delivery { d.Response = "ok \xed\xa0\x80"; return d }, "delivery.response"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := claimed[0]
				d.State, d.Ret = registry.DeliveryDone, registry.RetSuccess

				err := s.FinishDelivery(t.Context(), tt.edit(&d))

				requireInvalid(t, err, tt.field)
				after, err := s.ListDeliveries(t.Context(), m.ID)
				require.NoError(t, err)
				assertDeliveries(t, before, after, "the delivery keeps its claim and state")
				msgAfter, err := s.GetPushMessage(t.Context(), m.ID)
				require.NoError(t, err)
				assertMessage(t, msgBefore, msgAfter)
			})
		}
		d := claimed[0]
		d.State, d.Ret = registry.DeliveryDone, registry.RetSuccess
		require.NoError(t, s.FinishDelivery(t.Context(), &d), "the claim survives the refused finishes")
	})

	t.Run("FinishWithStaleToken", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("stale", "")
		createPush(t, s, m, pending("stale", registry.PlatformIOS, 0, at(0), "t"))
		first, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, first, 1)
		second, err := s.ClaimDeliveries(t.Context(), sendClaim(at(lease+time.Second), 1))
		require.NoError(t, err)
		require.Len(t, second, 1, "an expired lease makes the row claimable again")
		require.NotEqual(t, first[0].ClaimToken, second[0].ClaimToken)
		assert.Equal(t, 2, second[0].Attempts)
		before, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		msgBefore, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)

		stale := first[0]
		stale.State, stale.Ret, stale.ReceiptID, stale.SentAt = registry.DeliveryDone, registry.RetSuccess, "ul-stale", ptr(at(time.Second))
		err = s.FinishDelivery(t.Context(), &stale)

		require.ErrorIs(t, err, registry.ErrClaimLost)
		require.ErrorIs(t, err, registry.ErrConflict)
		after, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		assertDeliveries(t, before, after, "a stale finish changes nothing")
		msgAfter, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assertMessage(t, msgBefore, msgAfter)

		current := second[0]
		current.State, current.Ret, current.ReceiptID, current.SentAt = registry.DeliveryDone, registry.RetSuccess, "ul-current", ptr(at(lease+2*time.Second))
		require.NoError(t, s.FinishDelivery(t.Context(), &current))
		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, "ul-current", got.IOS.TaskID)
	})

	t.Run("SummaryFollowsDeliveries", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("summary", "")
		createPush(t, s, m,
			pending("sum-i0", registry.PlatformIOS, 0, at(0), "a", "b"),
			pending("sum-i1", registry.PlatformIOS, 1, at(0), "c"),
			pending("sum-a0", registry.PlatformAndroid, 0, at(0), "x"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"sum-i0", "sum-i1", "sum-a0"}, keys(claimed))
		long := strings.Repeat("响应", 150)
		ms := func(d time.Duration) string { return strconv.FormatInt(at(d).UnixMilli(), 10) }

		steps := []struct {
			name     string
			finish   func() registry.Delivery
			platform string
			want     registry.PlatformSummary
		}{
			{"first ios accepted, pollable", func() registry.Delivery {
				d := find(t, claimed, "sum-i0")
				d.State, d.Pollable, d.ReceiptID, d.VendorState = registry.DeliveryAccepted, true, "uf-1", "queued"
				d.Ret, d.Response, d.SentAt, d.NextAttemptAt = registry.RetSuccess, "r1", ptr(at(time.Second)), at(time.Minute)
				return d
			}, registry.PlatformIOS, registry.PlatformSummary{
				DeviceTokens: "a,b,c", TaskID: "uf-1", Ret: registry.RetPending, Status: registry.StatusPending,
				Response: "r1", Timestamp: ms(time.Second), IsSend: true,
			}},
			{"second ios accepted, final", func() registry.Delivery {
				d := find(t, claimed, "sum-i1")
				d.State, d.ReceiptID, d.VendorState = registry.DeliveryDone, "ul-2", "accepted"
				d.Ret, d.Response, d.SentAt = registry.RetSuccess, long, ptr(at(2*time.Second))
				return d
			}, registry.PlatformIOS, registry.PlatformSummary{
				DeviceTokens: "a,b,c", TaskID: "uf-1,ul-2", Ret: registry.RetSuccess, Status: "queued",
				Response: registry.Clip(long, registry.MaxVarchar), Timestamp: ms(2 * time.Second), IsSend: true,
			}},
			{"android failed", func() registry.Delivery {
				d := find(t, claimed, "sum-a0")
				d.State, d.Ret, d.ErrorKind, d.ErrorCode = registry.DeliveryFailed, registry.RetFail, "InvalidToken", "2010"
				d.Response, d.SentAt = "bad token", ptr(at(3*time.Second))
				return d
			}, registry.PlatformAndroid, registry.PlatformSummary{
				DeviceTokens: "x", Ret: registry.RetFail, Status: "failed",
				Response: "bad token", Timestamp: ms(3 * time.Second), IsSend: true,
			}},
			{"first ios polled to done", func() registry.Delivery {
				polled, err := s.ClaimDeliveries(t.Context(), pollClaim(at(time.Minute), 10))
				require.NoError(t, err)
				require.Equal(t, []string{"sum-i0"}, keys(polled))
				d := polled[0]
				d.State, d.VendorState = registry.DeliveryDone, "done"
				return d
			}, registry.PlatformIOS, registry.PlatformSummary{
				DeviceTokens: "a,b,c", TaskID: "uf-1,ul-2", Ret: registry.RetSuccess, Status: "accepted",
				Response: registry.Clip(long, registry.MaxVarchar), Timestamp: ms(2 * time.Second), IsSend: true,
			}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				d := st.finish()
				require.NoError(t, s.FinishDelivery(t.Context(), &d))

				got, err := s.GetPushMessage(t.Context(), m.ID)
				require.NoError(t, err)
				assert.Equal(t, st.want, *got.Summary(st.platform))
				list, err := s.ListDeliveries(t.Context(), m.ID)
				require.NoError(t, err)
				assert.Equal(t, registry.Summarize(registry.PlatformIOS, list), got.IOS)
				assert.Equal(t, registry.Summarize(registry.PlatformAndroid, list), got.Android)
			})
		}
		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, long, find(t, list, "sum-i1").Response, "the delivery keeps the whole response")
	})
}
