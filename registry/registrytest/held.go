package registrytest

import (
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// holder returns s as a registry.ReceiptHolder, or skips t.
func holder(t *testing.T, s registry.Store) registry.ReceiptHolder {
	t.Helper()
	h, ok := s.(registry.ReceiptHolder)
	if !ok {
		t.Skip("the store is not a registry.ReceiptHolder")
	}
	return h
}

// acceptAs claims and finishes the pending delivery key of s as accepted
// under receiptID, as a send's outcome is recorded.
func acceptAs(t *testing.T, s registry.Store, key, receiptID string) {
	t.Helper()
	claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
	require.NoError(t, err)
	d := find(t, claimed, key)
	d.State, d.ReceiptID, d.Ret, d.SentAt = registry.DeliveryAccepted, receiptID, registry.RetSuccess, ptr(at(time.Second))
	require.NoError(t, s.FinishDelivery(t.Context(), &d))
}

func testHeldReceipts(t *testing.T, f Factory) {
	t.Run("HeldUntilTheOutcomeIsRecorded", func(t *testing.T) {
		s := f.New(t)
		h := holder(t, s)
		ctx := t.Context()
		m := pushMessage("held", "")
		createPush(t, s, m, pending("held-a", registry.PlatformAndroid, 0, at(0), "a1", "a2"))
		one := registry.ReceiptCounts{Arrived: 1}

		// The receipts come before the send's outcome is recorded.
		require.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "ul-held", "a1", one), registry.ErrNotFound)
		for _, r := range []struct {
			token string
			c     registry.ReceiptCounts
		}{{"a1", one}, {"a1", one}, {"a2", registry.ReceiptCounts{Opened: 1}}, {"", registry.ReceiptCounts{Dismissed: 1}}, {"a9", one}} {
			held, err := h.HoldReceipt(ctx, "umeng", "ul-held", r.token, r.c, at(time.Second))
			require.NoError(t, err)
			assert.True(t, held, "no delivery has the id yet: %q is held", r.token)
		}
		// Nothing to adopt yet, and nothing old enough to drop.
		adopted, dropped, err := h.AdoptReceipts(ctx, 100, at(0))
		require.NoError(t, err)
		assert.Equal(t, [2]int{0, 0}, [2]int{adopted, dropped})

		acceptAs(t, s, "held-a", "ul-held")
		// A receipt that comes now is not held: it is RecordReceipts's.
		held, err := h.HoldReceipt(ctx, "umeng", "ul-held", "a2", one, at(2*time.Second))
		require.NoError(t, err)
		assert.False(t, held, "the delivery has the id now")
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-held", "a2", one))

		// Adopted in id order, a limit at a time: a1's arrival twice
		// counts once, a9 (a token the push did not go to) is dropped.
		adopted, dropped, err = h.AdoptReceipts(ctx, 2, at(0))
		require.NoError(t, err)
		assert.Equal(t, [2]int{2, 0}, [2]int{adopted, dropped}, "the first two")
		adopted, dropped, err = h.AdoptReceipts(ctx, 100, at(0))
		require.NoError(t, err)
		assert.Equal(t, [2]int{2, 1}, [2]int{adopted, dropped}, "the rest")
		_, ga, err := s.ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.ReceiptCounts{Arrived: 2, Opened: 1, Dismissed: 1}, ga)
		adopted, dropped, err = h.AdoptReceipts(ctx, 100, farFuture())
		require.NoError(t, err)
		assert.Equal(t, [2]int{0, 0}, [2]int{adopted, dropped}, "each held receipt is gone once adopted")
	})

	t.Run("UnclaimedReceiptsExpire", func(t *testing.T) {
		s := f.New(t)
		h := holder(t, s)
		ctx := t.Context()
		for i, id := range []string{"old-1", "old-2", "new-1"} {
			when := at(time.Duration(i) * time.Minute)
			held, err := h.HoldReceipt(ctx, "umeng", id, "t1", registry.ReceiptCounts{Arrived: 1}, when)
			require.NoError(t, err)
			require.True(t, held)
		}
		adopted, dropped, err := h.AdoptReceipts(ctx, 100, at(time.Minute))
		require.NoError(t, err)
		assert.Equal(t, [2]int{0, 2}, [2]int{adopted, dropped}, "held at or before held_before")
		// new-1 is still held: its push's outcome, recorded now, gets it.
		m := pushMessage("late", "")
		createPush(t, s, m, pending("late-a", registry.PlatformAndroid, 0, at(0), "t1"))
		acceptAs(t, s, "late-a", "new-1")
		adopted, dropped, err = h.AdoptReceipts(ctx, 100, farFuture())
		require.NoError(t, err)
		assert.Equal(t, [2]int{1, 0}, [2]int{adopted, dropped}, "an expired receipt whose delivery is known is adopted, not dropped")
		_, ga, err := s.ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(1), ga.Arrived)
	})

	t.Run("InvalidArgumentsHoldNothing", func(t *testing.T) {
		s := f.New(t)
		h := holder(t, s)
		ctx := t.Context()
		one := registry.ReceiptCounts{Arrived: 1}
		for _, c := range []struct {
			field, provider, id, token string
			c                          registry.ReceiptCounts
			at                         time.Time
		}{
			{"provider", "", "x", "", one, at(0)},
			{"receipt_id", "umeng", "", "", one, at(0)},
			{"receipt_id", "umeng", "x\x00", "", one, at(0)},
			{"receipts", "umeng", "x", "", registry.ReceiptCounts{Opened: -1}, at(0)},
			{"token", "umeng", "x", "t\xff", one, at(0)},
			{"token", "umeng", "x", strings.Repeat("t", registry.MaxVarchar+1), one, at(0)},
			{"at", "umeng", "x", "", one, time.Time{}},
		} {
			held, err := h.HoldReceipt(ctx, c.provider, c.id, c.token, c.c, c.at)
			requireInvalid(t, err, c.field)
			assert.False(t, held)
		}
		_, _, err := h.AdoptReceipts(ctx, 0, at(0))
		requireInvalid(t, err, "limit")
		_, _, err = h.AdoptReceipts(ctx, 1, time.Time{})
		requireInvalid(t, err, "held_before")
		adopted, dropped, err := h.AdoptReceipts(ctx, 100, farFuture())
		require.NoError(t, err)
		assert.Equal(t, [2]int{0, 0}, [2]int{adopted, dropped}, "nothing was held")
	})

	t.Run("ConcurrentAdoptionsCountOnce", func(t *testing.T) {
		// Four instances adopt the same held receipts at once: each is
		// recorded by one of them.
		stores := f.shared(t, 4)
		h := holder(t, stores[0])
		ctx := t.Context()
		m := pushMessage("adopted once", "")
		createPush(t, stores[0], m, pending("once-a", registry.PlatformAndroid, 0, at(0), "a1"))
		const receipts = 12
		for range receipts {
			held, err := h.HoldReceipt(ctx, "umeng", "ul-once", "", registry.ReceiptCounts{Arrived: 1}, at(0))
			require.NoError(t, err)
			require.True(t, held)
		}
		acceptAs(t, stores[0], "once-a", "ul-once")
		var wg sync.WaitGroup
		var mu sync.Mutex
		total := 0
		for _, s := range stores {
			wg.Go(func() {
				for range 3 {
					n, _, err := holder(t, s).AdoptReceipts(ctx, 5, at(0))
					assert.NoError(t, err)
					mu.Lock()
					total += n
					mu.Unlock()
				}
			})
		}
		wg.Wait()
		assert.Equal(t, receipts, total, "adoptions reported")
		_, ga, err := stores[0].ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(receipts), ga.Arrived, "each held receipt counted once")
	})
}
