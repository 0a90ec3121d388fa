package registrytest

import (
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// optional returns s as T, one of the optional interfaces of package
// registry (Fanouts, ReceiptHolder), or skips t: a store need not have it.
func optional[T any](t *testing.T, s registry.Store) T {
	t.Helper()
	v, ok := s.(T)
	if !ok {
		t.Skipf("the store does not implement %v", reflect.TypeFor[T]())
	}
	return v
}

// fanoutPush creates a push to users whose deliveries are recorded in
// stages, held by claim until at(leaseFor), with first as its first stage.
func fanoutPush(t *testing.T, s registry.Store, title, claim string, leaseFor time.Duration, users []string, first ...*registry.Delivery) *registry.PushMessage {
	t.Helper()
	m := pushMessage(title, "")
	m.UserNums = users
	m.Fanout = &registry.Fanout{ClaimToken: claim, LeaseUntil: at(leaseFor)}
	createPush(t, s, m, first...)
	return m
}

func fanoutClaim(now time.Time, limit int) registry.ClaimParams {
	return registry.ClaimParams{Now: now, Limit: limit, Lease: lease}
}

// testFanouts covers registry.Fanouts, for the stores that implement it.
func testFanouts(t *testing.T, f Factory) {
	t.Run("StagesAddUpToTheWholePush", func(t *testing.T) {
		s := f.New(t)
		fo := optional[registry.Fanouts](t, s)
		ctx := t.Context()
		m := fanoutPush(t, s, "staged", "claim-1", time.Minute, []string{"u3", "u1", "u2"},
			pending("st-1", registry.PlatformIOS, 0, at(0), "i1", "i2"),
			pending("st-2", registry.PlatformAndroid, 0, at(0), "a1"))
		got, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		for _, sum := range []registry.PlatformSummary{got.IOS, got.Android} {
			assert.True(t, sum.IsSend)
			assert.Equal(t, registry.RetPending, sum.Ret)
			assert.Empty(t, sum.DeviceTokens, "the tokens are written when the fanout ends")
		}

		// The first stage is sent and done: the push is still pending,
		// since more users are to come.
		claimed, err := s.ClaimDeliveries(ctx, sendClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, claimed, 2)
		for _, d := range claimed {
			d.State, d.VendorState, d.Ret, d.ReceiptID, d.SentAt = registry.DeliveryDone, "accepted", registry.RetSuccess, "r-"+d.IdempotencyKey, ptr(at(time.Second))
			require.NoError(t, s.FinishDelivery(ctx, &d))
		}
		got, err = s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetPending, got.IOS.Ret, "pending while the fanout lasts")
		assert.Equal(t, registry.StatusPending, got.Android.Status)

		second := pending("st-3", registry.PlatformAndroid, 1, at(0), "a2", "a3")
		second.ClaimToken, second.LeaseUntil = "send-claim", ptr(at(time.Minute))
		next := &registry.Fanout{After: "u2", ClaimToken: "claim-1", LeaseUntil: at(2 * time.Minute)}
		require.NoError(t, fo.AddDeliveries(ctx, m, []*registry.Delivery{second}, next))
		assert.Positive(t, second.ID)
		assert.Equal(t, m.ID, second.PushMessageID)
		require.NotNil(t, m.Fanout)
		assert.Equal(t, "u2", m.Fanout.After)
		list, err := s.ListDeliveries(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"st-1", "st-2", "st-3"}, keys(list))
		assert.Equal(t, "send-claim", find(t, list, "st-3").ClaimToken, "a stage's deliveries may be created claimed")

		// A split while the fanout lasts leaves the summary pending,
		// without tokens.
		split := find(t, list, "st-3")
		split.State, split.Ret, split.ErrorKind, split.SentAt = registry.DeliveryFailed, registry.RetFail, "InvalidToken", ptr(at(time.Second))
		part := pending("st-3.0", registry.PlatformAndroid, 0, at(0), "a2")
		require.NoError(t, s.SplitDelivery(ctx, &split, []*registry.Delivery{part}))
		got, err = s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetPending, got.Android.Ret, "a split keeps the fanout's summary pending")
		assert.Empty(t, got.Android.DeviceTokens)

		last := pending("st-4", registry.PlatformIOS, 1, at(0), "i3")
		require.NoError(t, fo.AddDeliveries(ctx, m, []*registry.Delivery{last}, nil))
		assert.Nil(t, m.Fanout, "the fanout ended")
		list, err = s.ListDeliveries(ctx, m.ID)
		require.NoError(t, err)
		got, err = s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.Summarize(registry.PlatformIOS, list), got.IOS)
		assert.Equal(t, registry.Summarize(registry.PlatformAndroid, list), got.Android)
		assert.Equal(t, "i1,i2,i3", got.IOS.DeviceTokens)
		assert.Equal(t, "a1,a2", got.Android.DeviceTokens, "a3 went with the split")

		left, err := fo.ClaimFanouts(ctx, fanoutClaim(farFuture(), 10))
		require.NoError(t, err)
		assert.Empty(t, left, "an ended fanout is never claimed")
		err = fo.AddDeliveries(ctx, &registry.PushMessage{ID: m.ID, Fanout: &registry.Fanout{ClaimToken: "claim-1"}}, nil, nil)
		assert.ErrorIs(t, err, registry.ErrClaimLost, "an ended fanout takes no more stages")
	})

	t.Run("ClaimedOnceTheLeaseRunsOut", func(t *testing.T) {
		s := f.New(t)
		fo := optional[registry.Fanouts](t, s)
		ctx := t.Context()
		m := fanoutPush(t, s, "left", "claim-old", time.Minute, []string{"b", "a", "c"},
			pending("left-1", registry.PlatformIOS, 0, at(0), "i1"))
		require.NoError(t, fo.AddDeliveries(ctx, m, nil, &registry.Fanout{After: "a", ClaimToken: "claim-old", LeaseUntil: at(time.Minute)}))

		none, err := fo.ClaimFanouts(ctx, fanoutClaim(at(30*time.Second), 10))
		require.NoError(t, err)
		assert.Empty(t, none, "the lease still runs")

		got, err := fo.ClaimFanouts(ctx, fanoutClaim(at(time.Minute), 10))
		require.NoError(t, err)
		require.Len(t, got, 1)
		c := got[0]
		assert.Equal(t, m.ID, c.ID)
		assert.Equal(t, m.Title, c.Title)
		assert.Equal(t, []string{"a", "b", "c"}, c.UserNums, "every user, in byte order")
		require.NotNil(t, c.Fanout)
		assert.Equal(t, "a", c.Fanout.After)
		assert.NotEqual(t, "claim-old", c.Fanout.ClaimToken)
		assert.True(t, c.Fanout.LeaseUntil.Equal(at(time.Minute+lease)), "lease until %v", c.Fanout.LeaseUntil)

		again, err := fo.ClaimFanouts(ctx, fanoutClaim(at(time.Minute), 10))
		require.NoError(t, err)
		assert.Empty(t, again, "claimed: its new lease runs")

		late := pending("left-late", registry.PlatformIOS, 1, at(0), "i2")
		err = fo.AddDeliveries(ctx, m, []*registry.Delivery{late}, nil)
		require.ErrorIs(t, err, registry.ErrClaimLost, "the old holder lost it")
		assert.Zero(t, late.ID)
		list, err := s.ListDeliveries(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"left-1"}, keys(list), "nothing written")

		require.NoError(t, fo.AddDeliveries(ctx, &c, []*registry.Delivery{late}, nil))
		assert.Nil(t, c.Fanout)
	})

	t.Run("CountsItsClaims", func(t *testing.T) {
		s := f.New(t)
		fo := optional[registry.Fanouts](t, s)
		ctx := t.Context()
		m := fanoutPush(t, s, "counted", "claim-0", time.Minute, []string{"a", "b", "c"},
			pending("counted-1", registry.PlatformIOS, 0, at(0), "i1"))
		assert.Zero(t, m.Fanout.Claims, "the creating call's listing is no claim")
		m.Fanout.Claims = 7 // the caller's count is not the store's
		require.NoError(t, fo.AddDeliveries(ctx, m, nil, &registry.Fanout{After: "a", ClaimToken: "claim-0", LeaseUntil: at(time.Minute), Claims: 7}))

		first, err := fo.ClaimFanouts(ctx, fanoutClaim(at(time.Minute), 10))
		require.NoError(t, err)
		require.Len(t, first, 1)
		assert.Equal(t, 1, first[0].Fanout.Claims, "the first takeover")

		// The taker renews its lease, which keeps the count whatever its
		// next says, then dies: its lease runs out and another instance
		// claims it.
		c := first[0]
		require.NoError(t, fo.AddDeliveries(ctx, &c, nil, &registry.Fanout{After: "a", ClaimToken: c.Fanout.ClaimToken, LeaseUntil: at(2 * time.Minute), Claims: 40}))
		assert.Equal(t, 1, c.Fanout.Claims, "a lease's renewal keeps the stored count")
		second, err := fo.ClaimFanouts(ctx, fanoutClaim(at(3*time.Minute), 10))
		require.NoError(t, err)
		require.Len(t, second, 1)
		assert.Equal(t, 2, second[0].Fanout.Claims)
		assert.Equal(t, "a", second[0].Fanout.After)

		// This one moves on: the count starts again from the progress.
		d := second[0]
		require.NoError(t, fo.AddDeliveries(ctx, &d, nil, &registry.Fanout{After: "b", ClaimToken: d.Fanout.ClaimToken, LeaseUntil: at(4 * time.Minute), Claims: 40}))
		assert.Zero(t, d.Fanout.Claims, "moving After on resets the count")
		third, err := fo.ClaimFanouts(ctx, fanoutClaim(at(5*time.Minute), 10))
		require.NoError(t, err)
		require.Len(t, third, 1)
		assert.Equal(t, 1, third[0].Fanout.Claims, "counted from the progress")
		e := third[0]
		require.NoError(t, fo.AddDeliveries(ctx, &e, []*registry.Delivery{pending("counted-2", registry.PlatformIOS, 1, at(0), "i2")},
			&registry.Fanout{After: "b", ClaimToken: e.Fanout.ClaimToken, LeaseUntil: at(6 * time.Minute)}))
		assert.Zero(t, e.Fanout.Claims, "recording deliveries resets the count")
		fourth, err := fo.ClaimFanouts(ctx, fanoutClaim(at(7*time.Minute), 10))
		require.NoError(t, err)
		require.Len(t, fourth, 1)
		assert.Equal(t, 1, fourth[0].Fanout.Claims)

		f := fourth[0]
		require.NoError(t, fo.AddDeliveries(ctx, &f, nil, nil))
		none, err := fo.ClaimFanouts(ctx, fanoutClaim(at(time.Hour), 10))
		require.NoError(t, err)
		assert.Empty(t, none, "ended")
	})

	t.Run("RefundsAClaimGivenBackUntried", func(t *testing.T) {
		s := f.New(t)
		fo := optional[registry.Fanouts](t, s)
		ctx := t.Context()
		m := fanoutPush(t, s, "refunded", "claim-r", time.Minute, []string{"a", "b"},
			pending("refunded-1", registry.PlatformIOS, 0, at(0), "i1"))
		// giveBack gives c's claim back due at due, with refund or not, and
		// returns the count the store reports.
		giveBack := func(c *registry.PushMessage, due time.Time, refund bool) int {
			t.Helper()
			require.NoError(t, fo.AddDeliveries(ctx, c, nil, &registry.Fanout{After: c.Fanout.After, ClaimToken: c.Fanout.ClaimToken,
				LeaseUntil: due, Refund: refund}))
			assert.False(t, c.Fanout.Refund, "the store never sets Refund")
			return c.Fanout.Claims
		}
		claim := func(now time.Time) *registry.PushMessage {
			t.Helper()
			got, err := fo.ClaimFanouts(ctx, fanoutClaim(now, 10))
			require.NoError(t, err)
			require.Len(t, got, 1)
			return &got[0]
		}
		assert.Zero(t, giveBack(m, at(time.Minute), true), "never below 0")
		assert.Equal(t, 1, claim(at(time.Minute)).Fanout.Claims)

		now := at(time.Minute + lease) // the first claim's lease ran out
		c := claim(now)
		assert.Equal(t, 2, c.Fanout.Claims, "a takeover")
		assert.Equal(t, 1, giveBack(c, now, true), "the stopped takeover counts none")
		c = claim(now)
		assert.Equal(t, 2, c.Fanout.Claims, "counted from the refunded count")
		assert.Equal(t, 2, giveBack(c, now, false), "a give-back without refund keeps the count")
		c = claim(now)
		assert.Equal(t, 3, c.Fanout.Claims)

		// A refund with progress is the progress's: 0.
		require.NoError(t, fo.AddDeliveries(ctx, c, []*registry.Delivery{pending("refunded-2", registry.PlatformIOS, 1, at(0), "i2")},
			&registry.Fanout{After: "a", ClaimToken: c.Fanout.ClaimToken, LeaseUntil: at(0), Refund: true}))
		assert.Zero(t, c.Fanout.Claims)
		assert.Equal(t, 1, claim(at(time.Hour)).Fanout.Claims, "counted from the progress")
	})

	t.Run("RefusesBadCallsWritingNothing", func(t *testing.T) {
		s := f.New(t)
		fo := optional[registry.Fanouts](t, s)
		ctx := t.Context()
		m := fanoutPush(t, s, "bad", "claim-b", time.Minute, []string{"u1", "u2"},
			pending("bad-1", registry.PlatformIOS, 0, at(0), "i1"))
		require.NoError(t, fo.AddDeliveries(ctx, m, nil, &registry.Fanout{After: "u1", ClaimToken: "claim-b", LeaseUntil: at(time.Minute)}))
		ok := func() *registry.Delivery { return pending("bad-2", registry.PlatformIOS, 1, at(0), "i2") }
		for _, tc := range []struct {
			name string
			m    *registry.PushMessage
			ds   []*registry.Delivery
			next *registry.Fanout
			want error
		}{
			{"no fanout", &registry.PushMessage{ID: m.ID}, []*registry.Delivery{ok()}, nil, registry.ErrInvalid},
			{"going back", m, []*registry.Delivery{ok()}, &registry.Fanout{After: "u0", ClaimToken: "claim-b", LeaseUntil: at(time.Minute)}, registry.ErrInvalid},
			{"another claim", m, []*registry.Delivery{ok()}, &registry.Fanout{After: "u2", ClaimToken: "claim-c", LeaseUntil: at(time.Minute)}, registry.ErrInvalid},
			{"no lease", m, []*registry.Delivery{ok()}, &registry.Fanout{After: "u2", ClaimToken: "claim-b"}, registry.ErrInvalid},
			{"a token with a comma", m, []*registry.Delivery{pending("bad-3", registry.PlatformIOS, 1, at(0), "i,2")}, nil, registry.ErrInvalid},
			{"a nil delivery", m, []*registry.Delivery{nil}, nil, registry.ErrInvalid},
			{"a key twice", m, []*registry.Delivery{ok(), ok()}, nil, registry.ErrConflict},
			{"a key stored", m, []*registry.Delivery{pending("bad-1", registry.PlatformIOS, 1, at(0), "i2")}, nil, registry.ErrConflict},
			{"an unknown push", &registry.PushMessage{ID: missingID, Fanout: m.Fanout}, []*registry.Delivery{ok()}, nil, registry.ErrClaimLost},
		} {
			err := fo.AddDeliveries(ctx, tc.m, tc.ds, tc.next)
			assert.ErrorIs(t, err, tc.want, tc.name)
		}
		list, err := s.ListDeliveries(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, []string{"bad-1"}, keys(list), "nothing written")
		require.NotNil(t, m.Fanout)
		assert.Equal(t, "u1", m.Fanout.After)

		for _, p := range []registry.ClaimParams{{Now: at(0), Lease: lease}, {Now: at(0), Limit: 1}, {Limit: 1, Lease: lease}} {
			_, err := fo.ClaimFanouts(ctx, p)
			assert.ErrorIs(t, err, registry.ErrInvalid, "%+v", p)
		}
	})

	t.Run("TooManyTokensAreClippedInTheSummary", func(t *testing.T) {
		if testing.Short() {
			t.Skip("writes 17 MB of tokens")
		}
		s := f.New(t)
		fo := optional[registry.Fanouts](t, s)
		ctx := t.Context()
		// Two deliveries of 9 MB of tokens each: more than the column
		// holds together, which CreatePushMessage would refuse whole.
		tokens := func(prefix string) []string {
			out := make([]string, 9<<20/64)
			for i := range out {
				out[i] = fmt.Sprintf("%s%059d", prefix, i)
			}
			return out
		}
		m := fanoutPush(t, s, "huge", "claim-h", time.Minute, []string{"u1", "u2"},
			pending("huge-1", registry.PlatformAndroid, 0, at(0), tokens("a1-")...))
		require.NoError(t, fo.AddDeliveries(ctx, m, []*registry.Delivery{pending("huge-2", registry.PlatformAndroid, 1, at(0), tokens("a2-")...)}, nil))
		got, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		sum := got.Android.DeviceTokens
		assert.LessOrEqual(t, len(sum), registry.MaxTokensText, "within the column (on MySQL, within max_allowed_packet too)")
		assert.Greater(t, len(sum), 9<<20, "more than the first delivery's tokens")
		for i, tok := range strings.Split(sum, ",") {
			if !assert.Len(t, tok, 62, "token %d is whole", i) {
				break
			}
		}
		assert.True(t, strings.HasPrefix(sum, "a1-"))
		assert.Equal(t, registry.RetPending, got.Android.Ret, "the rest of the summary as Summarize makes it")
		list, err := s.ListDeliveries(ctx, m.ID)
		require.NoError(t, err)
		require.Len(t, list, 2)
		assert.Len(t, list[1].Tokens, 9<<20/64, "every token stays on its delivery")

		// Split in halves after an invalid token, a delivery of that push
		// keeps its summary clipped rather than being refused.
		claimed, err := s.ClaimDeliveries(ctx, sendClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		d := claimed[0]
		half := len(d.Tokens) / 2
		d.State, d.Ret, d.ErrorKind, d.SentAt = registry.DeliveryFailed, registry.RetFail, "InvalidToken", ptr(at(time.Second))
		p0 := pending(d.IdempotencyKey+".0", registry.PlatformAndroid, 0, at(0), d.Tokens[:half]...)
		p1 := pending(d.IdempotencyKey+".1", registry.PlatformAndroid, 0, at(0), d.Tokens[half:]...)
		require.NoError(t, s.SplitDelivery(ctx, &d, []*registry.Delivery{p0, p1}))
		after, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(after.Android.DeviceTokens), registry.MaxTokensText)
	})

	t.Run("ConcurrentClaimsTakeEachOnce", func(t *testing.T) {
		stores := f.shared(t, 4)
		optional[registry.Fanouts](t, stores[0])
		var want []int64
		for i := range 12 {
			m := fanoutPush(t, stores[0], fmt.Sprintf("race-%d", i), fmt.Sprintf("claim-%d", i), time.Duration(i)*time.Second, []string{"u"})
			want = append(want, m.ID)
		}
		got := claimUntilEmpty(t, stores, func(s registry.Store) ([]int64, error) {
			ms, err := s.(registry.Fanouts).ClaimFanouts(t.Context(), fanoutClaim(at(time.Minute), 2))
			var ids []int64
			for _, m := range ms {
				ids = append(ids, m.ID)
			}
			return ids, err
		})
		requireEachOnce(t, want, got)
	})
}
