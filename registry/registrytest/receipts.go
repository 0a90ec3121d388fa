package registrytest

import (
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// accepted returns a token delivery the vendor accepted under receiptID.
func accepted(key, provider, platform string, seq int, receiptID string, tokens ...string) *registry.Delivery {
	d := pending(key, platform, seq, at(0), tokens...)
	d.Provider, d.State, d.ReceiptID, d.Ret = provider, registry.DeliveryAccepted, receiptID, registry.RetSuccess
	return d
}

func testReceipts(t *testing.T, f Factory) {
	t.Run("CountsAddUpPerPlatform", func(t *testing.T) {
		s := f.New(t)
		ios := accepted("r-ios", "umeng", registry.PlatformIOS, 0, "uu-ios", "i1", "i2")
		and0 := accepted("r-and0", "umeng", registry.PlatformAndroid, 0, "ul-and0", "a1", "a2", "a3")
		and1 := accepted("r-and1", "umeng", registry.PlatformAndroid, 1, "ul-and1", "a4")
		m := pushMessage("receipts", "")
		createPush(t, s, m, ios, and0, and1)
		other := accepted("r-other", "umeng", registry.PlatformAndroid, 0, "ul-other", "a9", "a1")
		om := pushMessage("other", "")
		createPush(t, s, om, other)

		gi, ga, err := s.ReceiptTotals(t.Context(), m.ID)
		require.NoError(t, err)
		assert.True(t, gi.IsZero() && ga.IsZero(), "a new push has no receipts: %+v %+v", gi, ga)

		ctx := t.Context()
		for _, tok := range []string{"a1", "a2", "a3"} {
			require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-and0", tok, registry.ReceiptCounts{Arrived: 1}))
		}
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-and0", "a2", registry.ReceiptCounts{Opened: 1}))
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-and1", "", registry.ReceiptCounts{Arrived: 1, Dismissed: 1}))
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "uu-ios", "i1", registry.ReceiptCounts{Arrived: 2, Opened: 1}))
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "uu-ios", "i2", registry.ReceiptCounts{Arrived: 1}))
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-other", "a9", registry.ReceiptCounts{Arrived: 1}))

		// With a token, a device's event counts once per delivery: an event
		// counted above 1 adds 1, and a receipt posted again adds nothing.
		gi, ga, err = s.ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.ReceiptCounts{Arrived: 2, Opened: 1}, gi, "ios")
		assert.Equal(t, registry.ReceiptCounts{Arrived: 4, Opened: 1, Dismissed: 1}, ga, "android")
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-and0", "a1", registry.ReceiptCounts{Arrived: 1}), "posted again")
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-and0", "a2", registry.ReceiptCounts{Arrived: 1, Opened: 1, Dismissed: 1}),
			"one new event among two counted ones")
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "uu-ios", "i1", registry.ReceiptCounts{Arrived: 1, Opened: 1}), "posted again")
		// Without a token there is nothing to tell a repeat by: it counts.
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-and1", "", registry.ReceiptCounts{Arrived: 1}))
		gi, ga, err = s.ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.ReceiptCounts{Arrived: 2, Opened: 1}, gi, "ios, after the repeats")
		assert.Equal(t, registry.ReceiptCounts{Arrived: 5, Opened: 1, Dismissed: 2}, ga, "android, after the repeats")
		// A token's events are its own per delivery: the same token's
		// arrival counts on another push.
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-other", "a1", registry.ReceiptCounts{Arrived: 1}))
		_, ga, err = s.ReceiptTotals(ctx, om.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.ReceiptCounts{Arrived: 2}, ga, "the other push: a9 and a1")

		// The summary and the deliveries are as they were.
		got, err := s.GetPushMessage(ctx, m.ID)
		require.NoError(t, err)
		assert.Equal(t, m.Android, got.Android)
		assert.Equal(t, m.IOS, got.IOS)
	})

	t.Run("UnknownReceiptIsNotFound", func(t *testing.T) {
		s := f.New(t)
		d := accepted("r1", "umeng", registry.PlatformAndroid, 0, "ul-1", "a1")
		m := pushMessage("unknown", "")
		createPush(t, s, m, d)
		ctx := t.Context()
		one := registry.ReceiptCounts{Arrived: 1}
		assert.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "ul-2", "a1", one), registry.ErrNotFound, "unknown receipt id")
		assert.ErrorIs(t, s.RecordReceipts(ctx, "getui", "ul-1", "a1", one), registry.ErrNotFound, "another provider's id")
		assert.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "ul-1", "a2", one), registry.ErrNotFound, "a token it was not sent to")
		assert.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "UL-1", "a1", one), registry.ErrNotFound, "ids compare exactly")
		// A token is one item of the delivery's list, compared exactly.
		list := accepted("r-list", "umeng", registry.PlatformAndroid, 1, "ul-list", "Tok-b1", "tok-b2", "tok-b3")
		lm := pushMessage("list", "")
		createPush(t, s, lm, list)
		for _, tok := range []string{"tok-b1", "TOK-B2", "tok-b", "ok-b2", "tok-b2,tok-b3", "tok-b3,", ",tok-b2", "tok-b2 "} {
			assert.ErrorIs(t, s.RecordReceipts(ctx, "umeng", "ul-list", tok, one), registry.ErrNotFound, "%q", tok)
		}
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-list", "Tok-b1", one), "the first item")
		require.NoError(t, s.RecordReceipts(ctx, "umeng", "ul-list", "tok-b3", one), "the last item")
		_, la, err := s.ReceiptTotals(ctx, lm.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.ReceiptCounts{Arrived: 2}, la)
		_, ga, err := s.ReceiptTotals(ctx, m.ID)
		require.NoError(t, err)
		assert.True(t, ga.IsZero(), "nothing counted: %+v", ga)
		gi, ga, err := s.ReceiptTotals(ctx, m.ID+1000)
		require.NoError(t, err)
		assert.True(t, gi.IsZero() && ga.IsZero(), "unknown message")
	})

	t.Run("InvalidArguments", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("invalid", "")
		createPush(t, s, m, accepted("r1", "umeng", registry.PlatformAndroid, 0, "ul-1", "a1"))
		requireInvalid(t, s.RecordReceipts(t.Context(), "", "ul-1", "", registry.ReceiptCounts{Arrived: 1}), "provider")
		requireInvalid(t, s.RecordReceipts(t.Context(), "umeng", "", "", registry.ReceiptCounts{Arrived: 1}), "receipt_id")
		requireInvalid(t, s.RecordReceipts(t.Context(), "umeng", "ul-1", "", registry.ReceiptCounts{Opened: -1}), "receipts")
		// What PostgreSQL refuses to compare is refused on every store.
		requireInvalid(t, s.RecordReceipts(t.Context(), "umeng", "ul-1\x00", "", registry.ReceiptCounts{Arrived: 1}), "receipt_id")
		requireInvalid(t, s.RecordReceipts(t.Context(), "umeng", "ul-\xff", "", registry.ReceiptCounts{Arrived: 1}), "receipt_id")
		requireInvalid(t, s.RecordReceipts(t.Context(), "um\xffeng", "ul-1", "", registry.ReceiptCounts{Arrived: 1}), "provider")
		requireInvalid(t, s.RecordReceipts(t.Context(), "umeng", strings.Repeat("x", registry.MaxVarchar+1), "", registry.ReceiptCounts{Arrived: 1}), "receipt_id")
		gi, ga, err := s.ReceiptTotals(t.Context(), m.ID)
		require.NoError(t, err)
		assert.True(t, gi.IsZero() && ga.IsZero(), "nothing counted: %+v %+v", gi, ga)
	})

	t.Run("ConcurrentReceiptsCountEachDeviceOnce", func(t *testing.T) {
		// Four stores (instances) record at once every device's arrival,
		// each device's posted by every store: the distinct devices all
		// count, and each once, however the inserts of one receipt race.
		stores := f.shared(t, 4)
		const devices = 10
		tokens := make([]string, devices)
		for i := range tokens {
			tokens[i] = "i" + strconv.Itoa(i)
		}
		m := pushMessage("concurrent receipts", "")
		createPush(t, stores[0], m, accepted("r1", "umeng", registry.PlatformIOS, 0, "uu-1", tokens...))
		var wg sync.WaitGroup
		errs := make(chan error, len(stores)*devices)
		for _, s := range stores {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, tok := range tokens {
					errs <- s.RecordReceipts(t.Context(), "umeng", "uu-1", tok, registry.ReceiptCounts{Arrived: 1})
				}
			}()
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			require.NoError(t, err)
		}
		gi, _, err := stores[0].ReceiptTotals(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, int64(devices), gi.Arrived)
	})
}
