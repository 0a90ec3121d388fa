package registrytest

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testSummaries covers the summary columns over the life of a push: many
// deliveries finished one by one, polled, resent and split, and a message
// whose summary was written without a tally (Factory.ForgetTallies). After
// every write both platforms' summaries are registry.Summarize of the
// stored deliveries.
func testSummaries(t *testing.T, f Factory) {
	t.Run("ManyDeliveriesEveryFinishKeepsTheSummary", func(t *testing.T) {
		const n, tokens = 60, 50
		s := f.New(t)
		m := pushMessage("many deliveries", "")
		var ds []*registry.Delivery
		for i := range n {
			ts := make([]string, tokens)
			for j := range ts {
				ts[j] = fmt.Sprintf("tok-%02d-%02d-%s", i, j, strings.Repeat("x", 40))
			}
			ds = append(ds, pending(fmt.Sprintf("many-%02d", i), registry.PlatformAndroid, i, at(0), ts...))
		}
		for i := range 3 {
			ds = append(ds, pending(fmt.Sprintf("many-ios-%d", i), registry.PlatformIOS, i, at(0), fmt.Sprintf("ios-%d", i)))
		}
		createPush(t, s, m, ds...)
		assertSummaries(t, s, m.ID, "created")

		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 2*n))
		require.NoError(t, err)
		require.Len(t, claimed, n+3)
		var split registry.Delivery
		for i, d := range claimed {
			// Sends end in every way, at few distinct milliseconds (ties),
			// with task ids that together overflow task_id.
			d.SentAt, d.Response = ptr(at(time.Duration(i/4)*time.Second)), fmt.Sprintf(`{"ret":"SUCCESS","n":%d}`, i)
			switch {
			case i == 17:
				split = d
				continue
			case i%7 == 3:
				d.State, d.Ret, d.ErrorKind, d.Response = registry.DeliveryFailed, registry.RetFail, "InvalidRequest", "refused "+strings.Repeat("拒", 300)
			case i%11 == 5:
				d.Attempts, d.NextAttemptAt, d.ErrorKind, d.SentAt = 0, at(time.Hour), "RateLimited", nil
			case i%4 == 1:
				d.State, d.VendorState, d.Ret, d.ReceiptID = registry.DeliveryDone, "accepted", registry.RetSuccess, fmt.Sprintf("msg-%02d", i)
			default:
				d.State, d.Pollable, d.Ret, d.ReceiptID = registry.DeliveryAccepted, true, registry.RetSuccess, fmt.Sprintf("task-%02d-%s", i, strings.Repeat("t", 10))
				d.VendorState, d.NextAttemptAt = []string{"queued", "", "scheduled"}[i%3], at(time.Minute)
			}
			require.NoError(t, s.FinishDelivery(t.Context(), &d), d.IdempotencyKey)
			assertSummaries(t, s, m.ID, "sent "+d.IdempotencyKey)
		}

		require.NoError(t, s.SplitDelivery(t.Context(), &split, []*registry.Delivery{
			pending("many-17.0", "", 0, at(0), split.Tokens[:tokens/2]...),
			pending("many-17.1", "", 0, at(0), split.Tokens[tokens/2:]...),
		}))
		assertSummaries(t, s, m.ID, "split")

		for round, vs := range []string{"sending", "done"} {
			polled, err := s.ClaimDeliveries(t.Context(), pollClaim(at(time.Duration(round+1)*time.Hour), 2*n))
			require.NoError(t, err)
			require.NotEmpty(t, polled)
			for _, d := range polled {
				d.VendorState, d.NextAttemptAt = vs, at(time.Duration(round+1)*time.Hour+time.Minute)
				if vs == "done" {
					d.State = registry.DeliveryDone
				}
				require.NoError(t, s.FinishDelivery(t.Context(), &d), d.IdempotencyKey)
				assertSummaries(t, s, m.ID, "polled "+d.IdempotencyKey+" to "+vs)
			}
		}

		resent, err := s.ClaimDeliveries(t.Context(), sendClaim(at(5*time.Hour), 2*n))
		require.NoError(t, err)
		require.NotEmpty(t, resent, "the rate-limited deliveries and the split's parts")
		for i, d := range resent {
			d.State, d.VendorState, d.Ret, d.ReceiptID = registry.DeliveryDone, "accepted", registry.RetSuccess, fmt.Sprintf("resent-%d", i)
			d.SentAt, d.Response = ptr(at(5*time.Hour)), "resent"
			require.NoError(t, s.FinishDelivery(t.Context(), &d), d.IdempotencyKey)
			assertSummaries(t, s, m.ID, "resent "+d.IdempotencyKey)
		}
		requireNoDueDeliveries(t, s)
	})

	t.Run("MessageWithoutTallyIsSummarizedOnItsNextFinish", func(t *testing.T) {
		if f.ForgetTallies == nil {
			t.Skip("the store keeps no tallies it could forget (Factory.ForgetTallies is nil)")
		}
		s := f.New(t)
		m := pushMessage("legacy", "")
		createPush(t, s, m,
			pending("legacy-i0", registry.PlatformIOS, 0, at(0), "a", "b"),
			pending("legacy-i1", registry.PlatformIOS, 1, at(0), "c"),
			pending("legacy-i2", registry.PlatformIOS, 2, at(0), "d"),
			pending("legacy-a0", registry.PlatformAndroid, 0, at(0), "x"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, claimed, 4)
		finish := func(key string, edit func(d *registry.Delivery)) {
			t.Helper()
			d := find(t, claimed, key)
			edit(&d)
			require.NoError(t, s.FinishDelivery(t.Context(), &d), key)
			assertSummaries(t, s, m.ID, "finished "+key)
		}
		finish("legacy-i0", func(d *registry.Delivery) {
			d.State, d.Pollable, d.VendorState, d.ReceiptID = registry.DeliveryAccepted, true, "queued", "uf-0"
			d.Ret, d.Response, d.SentAt, d.NextAttemptAt = registry.RetSuccess, "r0", ptr(at(2*time.Second)), at(time.Minute)
		})
		finish("legacy-a0", func(d *registry.Delivery) {
			d.State, d.Ret, d.Response, d.SentAt = registry.DeliveryFailed, registry.RetFail, "bad", ptr(at(time.Second))
		})

		f.ForgetTallies(t, s, m.ID)

		finish("legacy-i1", func(d *registry.Delivery) {
			d.State, d.VendorState, d.ReceiptID = registry.DeliveryDone, "accepted", "ul-1"
			d.Ret, d.Response, d.SentAt = registry.RetSuccess, "r1", ptr(at(time.Second))
		})
		got, err := s.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.PlatformSummary{
			DeviceTokens: "a,b,c,d", TaskID: "uf-0,ul-1", Ret: registry.RetPending, Status: registry.StatusPending,
			Response: "r0", Timestamp: fmt.Sprint(at(2 * time.Second).UnixMilli()), IsSend: true,
		}, got.IOS, "the first finish after the tally was lost counts the earlier outcomes")
		finish("legacy-i2", func(d *registry.Delivery) {
			d.State, d.VendorState, d.ReceiptID = registry.DeliveryDone, "accepted", "ul-2"
			d.Ret, d.Response, d.SentAt = registry.RetSuccess, "r2", ptr(at(2*time.Second))
		})

		f.ForgetTallies(t, s, m.ID)
		polled, err := s.ClaimDeliveries(t.Context(), pollClaim(at(time.Minute), 10))
		require.NoError(t, err)
		require.Equal(t, []string{"legacy-i0"}, keys(polled))
		claimed = polled
		finish("legacy-i0", func(d *registry.Delivery) { d.State, d.VendorState = registry.DeliveryDone, "done" })
	})
}

// assertSummaries checks both summaries of message id against
// registry.Summarize of its stored deliveries.
func assertSummaries(t *testing.T, s registry.Store, id int64, step string) {
	t.Helper()
	got, err := s.GetPushMessage(t.Context(), id)
	require.NoError(t, err)
	list, err := s.ListDeliveries(t.Context(), id)
	require.NoError(t, err)
	assert.Equal(t, registry.Summarize(registry.PlatformIOS, list), got.IOS, "ios summary after %s", step)
	assert.Equal(t, registry.Summarize(registry.PlatformAndroid, list), got.Android, "android summary after %s", step)
}
