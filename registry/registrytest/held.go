package registrytest

import (
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

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

// adoptAll walks every window of the held receipts of h, limit at a
// time, from the first, and sums what they did.
func adoptAll(t *testing.T, h registry.ReceiptHolder, limit int) (adopted, dropped int) {
	t.Helper()
	var after int64
	for range 1000 {
		a, err := h.AdoptReceipts(t.Context(), after, limit)
		require.NoError(t, err)
		adopted, dropped = adopted+a.Adopted, dropped+a.Dropped
		if a.Next == 0 {
			return adopted, dropped
		}
		require.Greater(t, a.Next, after, "the walk moves on")
		after = a.Next
	}
	t.Fatal("the walk did not end")
	return
}

func testHeldReceipts(t *testing.T, f Factory) {
	t.Run("HeldUntilTheOutcomeIsRecorded", func(t *testing.T) {
		s := f.New(t)
		h := optional[registry.ReceiptHolder](t, s)
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
		// Nothing to adopt yet.
		a, err := h.AdoptReceipts(ctx, 0, 100)
		require.NoError(t, err)
		assert.Equal(t, registry.Adoption{}, a, "nothing adopted, the whole table looked at")

		acceptAs(t, s, "held-a", "ul-held")
		// A receipt that comes now is not held: it is RecordReceipts's.
		held, err := h.HoldReceipt(ctx, "umeng", "ul-held", "a2", one, at(2*time.Second))
		require.NoError(t, err)
		assert.False(t, held, "the delivery has the id now")
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-held", "a2", one))

		// Adopted window by window, in id order: a1's arrival twice
		// counts once, a9 (a token the push did not go to) is dropped.
		first, err := h.AdoptReceipts(ctx, 0, 2)
		require.NoError(t, err)
		assert.Equal(t, 2, first.Adopted, "the first window")
		assert.NotZero(t, first.Next, "more to look at")
		rest, err := h.AdoptReceipts(ctx, first.Next, 100)
		require.NoError(t, err)
		assert.Equal(t, registry.Adoption{Adopted: 2, Dropped: 1}, rest, "the rest, to the end")
		_, ga, err := s.ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.ReceiptCounts{Arrived: 2, Opened: 1, Dismissed: 1}, ga)
		adopted, dropped := adoptAll(t, h, 100)
		assert.Equal(t, [2]int{0, 0}, [2]int{adopted, dropped}, "each held receipt is gone once adopted")
	})

	t.Run("AWindowIsBoundedWhateverIsHeld", func(t *testing.T) {
		// Receipts of another system's pushes, never claimed, fill the
		// table: each call looks at limit of them, and the walk reaches
		// the one whose delivery came.
		s := f.New(t)
		h := optional[registry.ReceiptHolder](t, s)
		ctx := t.Context()
		for i := range 7 {
			id := "foreign-" + strconv.Itoa(i)
			if i == 5 {
				id = "ul-late"
			}
			held, err := h.HoldReceipt(ctx, "umeng", id, "t1", registry.ReceiptCounts{Arrived: 1}, at(0))
			require.NoError(t, err)
			require.True(t, held)
		}
		m := pushMessage("late", "")
		createPush(t, s, m, pending("late-a", registry.PlatformAndroid, 0, at(0), "t1"))
		acceptAs(t, s, "late-a", "ul-late")
		var after int64
		var windows []registry.Adoption
		for {
			a, err := h.AdoptReceipts(ctx, after, 3)
			require.NoError(t, err)
			windows = append(windows, a)
			if a.Next == 0 {
				break
			}
			after = a.Next
		}
		require.Len(t, windows, 3, "7 receipts, 3 at a time")
		assert.Equal(t, []int{0, 1, 0}, []int{windows[0].Adopted, windows[1].Adopted, windows[2].Adopted}, "the 6th held is in the second window")
		_, ga, err := s.ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(1), ga.Arrived)
	})

	t.Run("HeldReceiptsAreCounted", func(t *testing.T) {
		s := f.New(t)
		h := optional[registry.ReceiptHolder](t, s)
		c := optional[registry.HeldReceiptCounter](t, s)
		ctx := t.Context()
		count := func() int64 {
			t.Helper()
			n, err := c.CountHeldReceipts(ctx)
			require.NoError(t, err)
			return n
		}
		assert.Zero(t, count())
		for i, p := range []string{"umeng", "umeng", "jpush"} {
			held, err := h.HoldReceipt(ctx, p, "counted-"+strconv.Itoa(i), "t1", registry.ReceiptCounts{Arrived: 1}, at(time.Duration(i)*time.Minute))
			require.NoError(t, err)
			require.True(t, held)
		}
		assert.Equal(t, int64(3), count(), "every provider's")
		n, err := h.DropHeldReceipts(ctx, at(time.Minute), 100)
		require.NoError(t, err)
		require.Equal(t, 2, n)
		assert.Equal(t, int64(1), count(), "the dropped ones are no longer counted")
	})

	t.Run("UnclaimedReceiptsExpire", func(t *testing.T) {
		s := f.New(t)
		h := optional[registry.ReceiptHolder](t, s)
		ctx := t.Context()
		for i, id := range []string{"old-1", "old-2", "new-1"} {
			when := at(time.Duration(i) * time.Minute)
			held, err := h.HoldReceipt(ctx, "umeng", id, "t1", registry.ReceiptCounts{Arrived: 1}, when)
			require.NoError(t, err)
			require.True(t, held)
		}
		n, err := h.DropHeldReceipts(ctx, at(time.Minute), 1)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "a limit at a time")
		n, err = h.DropHeldReceipts(ctx, at(time.Minute), 100)
		require.NoError(t, err)
		assert.Equal(t, 1, n, "held at or before held_before")
		// new-1 is still held: its push's outcome, recorded now, gets it,
		// even once it is old enough to drop.
		m := pushMessage("late", "")
		createPush(t, s, m, pending("late-a", registry.PlatformAndroid, 0, at(0), "t1"))
		acceptAs(t, s, "late-a", "new-1")
		n, err = h.DropHeldReceipts(ctx, farFuture(), 100)
		require.NoError(t, err)
		assert.Zero(t, n, "a receipt whose delivery is known is not dropped")
		adopted, dropped := adoptAll(t, h, 100)
		assert.Equal(t, [2]int{1, 0}, [2]int{adopted, dropped})
		_, ga, err := s.ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(1), ga.Arrived)
	})

	t.Run("ALargeDropLimitIsTakenInBatches", func(t *testing.T) {
		// A limit above what one statement's parameters take is no error:
		// the store removes what it can a call, and the caller goes on.
		s := f.New(t)
		h := optional[registry.ReceiptHolder](t, s)
		ctx := t.Context()
		const held = 520
		for i := range held {
			ok, err := h.HoldReceipt(ctx, "umeng", "gone-"+strconv.Itoa(i), "", registry.ReceiptCounts{Arrived: 1}, at(0))
			require.NoError(t, err)
			require.True(t, ok)
		}
		total := 0
		for range held {
			n, err := h.DropHeldReceipts(ctx, farFuture(), 100_000)
			require.NoError(t, err)
			if n == 0 {
				break
			}
			total += n
		}
		assert.Equal(t, held, total)
	})

	t.Run("InvalidArgumentsHoldNothing", func(t *testing.T) {
		s := f.New(t)
		h := optional[registry.ReceiptHolder](t, s)
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
		_, err := h.AdoptReceipts(ctx, 0, 0)
		requireInvalid(t, err, "limit")
		_, err = h.DropHeldReceipts(ctx, at(0), 0)
		requireInvalid(t, err, "limit")
		_, err = h.DropHeldReceipts(ctx, time.Time{}, 1)
		requireInvalid(t, err, "held_before")
		n, err := h.DropHeldReceipts(ctx, farFuture(), 100)
		require.NoError(t, err)
		assert.Zero(t, n, "nothing was held")
	})

	t.Run("ConcurrentAdoptionsCountOnce", func(t *testing.T) {
		// Four instances walk the same held receipts at once: each is
		// recorded by one of them.
		stores := f.shared(t, 4)
		h := optional[registry.ReceiptHolder](t, stores[0])
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
				var after int64
				for range 10 {
					a, err := optional[registry.ReceiptHolder](t, s).AdoptReceipts(ctx, after, 5)
					if !assert.NoError(t, err) {
						return
					}
					mu.Lock()
					total += a.Adopted
					mu.Unlock()
					after = a.Next
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
