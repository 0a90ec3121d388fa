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

// testSplits covers SplitDelivery. Claims see every row of a store, so
// each subtest gets a fresh store.
func testSplits(t *testing.T, f Factory) {
	t.Run("ReplacesTheDeliveryByItsParts", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("split", "")
		createPush(t, s, m,
			pending("split-a", registry.PlatformIOS, 0, at(0), "a", "b", "c"),
			pending("split-b", registry.PlatformIOS, 1, at(0), "d"),
			pending("split-c", registry.PlatformAndroid, 0, at(0), "x"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, claimed, 3)
		b := find(t, claimed, "split-b")
		b.State, b.VendorState, b.Ret, b.ReceiptID = registry.DeliveryDone, "accepted", registry.RetSuccess, "r-b"
		b.Response, b.SentAt = "ok b", ptr(at(time.Second))
		require.NoError(t, s.FinishDelivery(t.Context(), &b))
		before, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)

		a := find(t, claimed, "split-a")
		a.State = registry.DeliveryFailed // the store makes it split
		a.Ret, a.ErrorKind, a.ErrorCode = registry.RetFail, "InvalidToken", "2010"
		a.Response, a.SentAt = "one of the tokens is invalid", ptr(at(2*time.Second))
		p1 := pending("split-a.0", registry.PlatformIOS, 0, at(0), "a")
		p1.ClaimToken, p1.LeaseUntil = "part-claim", ptr(at(30*time.Second))
		p2 := pending("split-a.1", "", 0, at(0), "b", "c")
		p2.Provider = "" // taken from the split delivery, as the platform

		require.NoError(t, s.SplitDelivery(t.Context(), &a, []*registry.Delivery{p1, p2}))

		for i, p := range []*registry.Delivery{p1, p2} {
			assert.Positive(t, p.ID)
			assert.NotContains(t, ids(claimed, deliveryID), p.ID, "a part has an id of its own")
			assert.Equal(t, m.ID, p.PushMessageID)
			assert.Equal(t, "umeng", p.Provider)
			assert.Equal(t, registry.PlatformIOS, p.Platform)
			assert.Equal(t, 2+i, p.Seq, "numbered after the highest seq of umeng/ios")
		}
		assert.Less(t, p1.ID, p2.ID, "parts get increasing ids in their order")
		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		require.Equal(t, []string{"split-a", "split-b", "split-c", "split-a.0", "split-a.1"}, keys(list))
		wantSplit := a
		wantSplit.State, wantSplit.ClaimToken, wantSplit.LeaseUntil = registry.DeliverySplit, "", nil
		assertDelivery(t, wantSplit, list[0], "the split delivery keeps its outcome, released")
		assertDelivery(t, *p1, list[3], "a part created claimed")
		assertDelivery(t, *p2, list[4], "a part created unclaimed")
		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		ms := func(d time.Duration) string { return strconv.FormatInt(at(d).UnixMilli(), 10) }
		assert.Equal(t, registry.PlatformSummary{
			DeviceTokens: "d,a,b,c", TaskID: "r-b", Ret: registry.RetPending, Status: registry.StatusPending,
			Response: "ok b", Timestamp: ms(time.Second), IsSend: true,
		}, got.IOS, "each token once; the split delivery's outcome does not count")
		assert.Equal(t, before.Android, got.Android, "the other platform's summary is untouched")

		part := list[3]
		part.State, part.VendorState, part.Ret, part.ReceiptID = registry.DeliveryDone, "accepted", registry.RetSuccess, "r-p1"
		part.Response, part.SentAt = "ok p1", ptr(at(3*time.Second))
		require.NoError(t, s.FinishDelivery(t.Context(), &part), "the creator finishes a part created claimed")
		due, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.Equal(t, []string{"split-a.1"}, keys(due))
		part = due[0]
		part.State, part.VendorState, part.Ret, part.ReceiptID = registry.DeliveryDone, "accepted", registry.RetSuccess, "r-p2"
		part.Response, part.SentAt = "ok p2", ptr(at(4*time.Second))
		require.NoError(t, s.FinishDelivery(t.Context(), &part))

		got, err = s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.PlatformSummary{
			DeviceTokens: "d,a,b,c", TaskID: "r-b,r-p1,r-p2", Ret: registry.RetSuccess, Status: "accepted",
			Response: "ok p2", Timestamp: ms(4 * time.Second), IsSend: true,
		}, got.IOS, "Ret reflects the parts only")
		list, err = s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.Summarize(registry.PlatformIOS, list), got.IOS)
	})

	t.Run("ClaimedPartsAreHeldUnclaimedPartsAreDue", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("split claims", "")
		createPush(t, s, m, pending("held", registry.PlatformIOS, 0, at(0), "a", "b"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		p1 := pending("held.0", registry.PlatformIOS, 0, at(0), "a")
		p1.ClaimToken, p1.LeaseUntil = "creator", ptr(at(30*time.Second))
		p2 := pending("held.1", registry.PlatformIOS, 0, at(0), "b")
		require.NoError(t, s.SplitDelivery(t.Context(), &claimed[0], []*registry.Delivery{p1, p2}))

		steps := []struct {
			name string
			now  time.Time
			want []string
		}{
			{"unclaimed part due at once", at(0), []string{"held.1"}},
			{"claimed part held until its lease ends", at(29 * time.Second), []string{}},
			{"claimed part due when its lease ends", at(30 * time.Second), []string{"held.0"}},
		}
		for _, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				got, err := s.ClaimDeliveries(t.Context(), sendClaim(st.now, 10))
				require.NoError(t, err)
				require.Equal(t, st.want, keys(got))
				for _, d := range got {
					assert.Equal(t, 1, d.Attempts)
					assert.NotEqual(t, "creator", d.ClaimToken)
				}
			})
		}
		stale := *p1
		stale.State = registry.DeliveryDone
		assert.ErrorIs(t, s.FinishDelivery(t.Context(), &stale), registry.ErrClaimLost, "the creator's lease ran out and the part was claimed")

		late, err := s.ClaimDeliveries(t.Context(), sendClaim(farFuture(), 10))
		require.NoError(t, err)
		assert.ElementsMatch(t, []string{"held.0", "held.1"}, keys(late), "the split delivery is final: never claimed again")
		polled, err := s.ClaimDeliveries(t.Context(), pollClaim(farFuture(), 10))
		require.NoError(t, err)
		assert.Empty(t, keys(polled))
	})

	t.Run("NumbersAfterTheHighestSeqOfProviderAndPlatform", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("split seq", "")
		jpush := pending("seq-j7", registry.PlatformIOS, 7, at(0), "j")
		jpush.Provider = "jpush"
		createPush(t, s, m,
			pending("seq-u0", registry.PlatformIOS, 0, at(0), "a", "b"),
			pending("seq-u2", registry.PlatformIOS, 2, at(0), "c"),
			jpush,
			pending("seq-a9", registry.PlatformAndroid, 9, at(0), "x"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, claimed, 4)

		split := func(t *testing.T, d registry.Delivery, keys ...string) []*registry.Delivery {
			t.Helper()
			parts := make([]*registry.Delivery, len(keys))
			for i, k := range keys {
				parts[i] = pending(k, d.Platform, 0, at(0), d.Tokens[i%len(d.Tokens)])
			}
			require.NoError(t, s.SplitDelivery(t.Context(), &d, parts))
			return parts
		}
		first := split(t, find(t, claimed, "seq-u0"), "seq-u0.0", "seq-u0.1")
		assert.Equal(t, []int{3, 4}, []int{first[0].Seq, first[1].Seq})
		j := split(t, find(t, claimed, "seq-j7"), "seq-j7.0")
		assert.Equal(t, 8, j[0].Seq)
		assert.Equal(t, "jpush", j[0].Provider)

		parts, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.ElementsMatch(t, []string{"seq-u0.0", "seq-u0.1", "seq-j7.0"}, keys(parts))
		again := split(t, find(t, parts, "seq-u0.0"), "seq-u0.0.0")
		assert.Equal(t, 5, again[0].Seq, "a part splits like any delivery")
	})

	t.Run("StaleClaimWritesNothing", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("split stale", "")
		createPush(t, s, m, pending("stale-split", registry.PlatformIOS, 0, at(0), "a", "b"))
		first, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, first, 1)
		second, err := s.ClaimDeliveries(t.Context(), sendClaim(at(lease+time.Second), 1))
		require.NoError(t, err)
		require.Len(t, second, 1)
		before, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		msgBefore, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)

		tests := []struct {
			name string
			d    func() registry.Delivery
		}{
			{"stale token", func() registry.Delivery { return first[0] }},
			{"no token", func() registry.Delivery { d := second[0]; d.ClaimToken = ""; return d }},
			{"missing delivery", func() registry.Delivery { d := second[0]; d.ID = missingID; return d }},
			{"id beyond every column", func() registry.Delivery { d := second[0]; d.ID = hugeID; return d }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := tt.d()
				parts := []*registry.Delivery{
					pending("stale-split.0", registry.PlatformIOS, 0, at(0), "a"),
					pending("stale-split.1", registry.PlatformIOS, 0, at(0), "b"),
				}

				err := s.SplitDelivery(t.Context(), &d, parts)

				require.ErrorIs(t, err, registry.ErrClaimLost)
				for _, p := range parts {
					assert.Zero(t, p.ID)
					assert.Zero(t, p.Seq)
				}
				after, err := s.ListDeliveries(t.Context(), m.ID)
				require.NoError(t, err)
				assertDeliveries(t, before, after, "nothing inserted, the delivery unchanged")
				msgAfter, err := s.GetPushMessage(t.Context(), m.ID)
				require.NoError(t, err)
				assertMessage(t, msgBefore, msgAfter)
			})
		}
		require.NoError(t, s.SplitDelivery(t.Context(), &second[0], []*registry.Delivery{pending("stale-split.0", registry.PlatformIOS, 0, at(0), "a", "b")}),
			"the current holder splits")
	})

	t.Run("ConflictsWriteNothing", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("split conflicts", "")
		createPush(t, s, m,
			pending("conf-a", registry.PlatformIOS, 0, at(0), "a", "b"),
			pending("conf-b", registry.PlatformIOS, 1, at(0), "c"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		a := find(t, claimed, "conf-a")
		before, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		msgBefore, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)

		tests := []struct {
			name string
			keys []string
		}{
			{"key twice among the parts", []string{"conf-a.0", "conf-a.0"}},
			{"key of another delivery", []string{"conf-a.0", "conf-b"}},
			{"key of the split delivery", []string{"conf-a"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				var parts []*registry.Delivery
				for i, k := range tt.keys {
					parts = append(parts, pending(k, registry.PlatformIOS, 0, at(0), a.Tokens[i]))
				}

				err := s.SplitDelivery(t.Context(), &a, parts)

				require.ErrorIs(t, err, registry.ErrConflict)
				require.NotErrorIs(t, err, registry.ErrClaimLost)
				for _, p := range parts {
					assert.Zero(t, p.ID)
				}
				after, err := s.ListDeliveries(t.Context(), m.ID)
				require.NoError(t, err)
				assertDeliveries(t, before, after, "nothing inserted, the delivery still claimed")
				msgAfter, err := s.GetPushMessage(t.Context(), m.ID)
				require.NoError(t, err)
				assertMessage(t, msgBefore, msgAfter)
			})
		}
		require.NoError(t, s.SplitDelivery(t.Context(), &a, []*registry.Delivery{
			pending("conf-a.0", registry.PlatformIOS, 0, at(0), "a"),
			pending("conf-a.1", registry.PlatformIOS, 0, at(0), "b"),
		}), "the claim survives the refused splits")
	})

	t.Run("ValidationWritesNothing", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("split invalid", "")
		createPush(t, s, m, pending("val-split", registry.PlatformAndroid, 0, at(0), "a", "b"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		before, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		msgBefore, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		long := strings.Repeat("x", registry.MaxVarchar+1)
		part := func(edit func(p *registry.Delivery)) []*registry.Delivery {
			p := pending("val-split.0", registry.PlatformAndroid, 0, at(0), "a")
			edit(p)
			return []*registry.Delivery{pending("val-split.1", registry.PlatformAndroid, 0, at(0), "b"), p}
		}
		tests := []struct {
			name  string
			edit  func(d *registry.Delivery) *registry.Delivery
			parts []*registry.Delivery
			field string
		}{
			{name: "no parts", field: "parts"},
			{name: "nil part", parts: []*registry.Delivery{pending("val-split.0", registry.PlatformAndroid, 0, at(0), "a"), nil}, field: "parts"},
			{name: "token part without tokens", parts: part(func(p *registry.Delivery) { p.Tokens = nil }), field: "delivery.tokens"},
			{name: "token with a comma", parts: part(func(p *registry.Delivery) { p.Tokens = []string{"a,b"} }), field: "delivery.tokens"},
			{name: "part key empty", parts: part(func(p *registry.Delivery) { p.IdempotencyKey = "" }), field: "delivery.idempotency_key"},
			{name: "part key too long", parts: part(func(p *registry.Delivery) { p.IdempotencyKey = long }), field: "delivery.idempotency_key"},
			{name: "part created split", parts: part(func(p *registry.Delivery) { p.State = registry.DeliverySplit }), field: "delivery.state"},
			{name: "part attempts negative", parts: part(func(p *registry.Delivery) { p.Attempts = -1 }), field: "delivery.attempts"},
			{name: "delivery nil", edit: func(*registry.Delivery) *registry.Delivery { return nil }, field: "delivery"},
			{name: "delivery response not UTF-8", edit: func(d *registry.Delivery) *registry.Delivery { d.Response = "\xff"; return d }, field: "delivery.response"},
			{name: "delivery receipt too long", edit: func(d *registry.Delivery) *registry.Delivery { d.ReceiptID = long; return d }, field: "delivery.receipt_id"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				d := &claimed[0]
				if tt.edit != nil {
					c := claimed[0]
					d = tt.edit(&c)
				}

				err := s.SplitDelivery(t.Context(), d, tt.parts)

				requireInvalid(t, err, tt.field)
				for _, p := range tt.parts {
					if p != nil {
						assert.Zero(t, p.ID)
					}
				}
				after, err := s.ListDeliveries(t.Context(), m.ID)
				require.NoError(t, err)
				assertDeliveries(t, before, after)
				msgAfter, err := s.GetPushMessage(t.Context(), m.ID)
				require.NoError(t, err)
				assertMessage(t, msgBefore, msgAfter)
			})
		}
	})
}
