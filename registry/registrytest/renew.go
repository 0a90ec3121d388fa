package registrytest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testRenew covers RenewDelivery: a holder extends its lease, so the
// delivery is not claimable until the new lease ends; a stale holder
// cannot take it back.
func testRenew(t *testing.T, f Factory) {
	t.Run("ExtendsTheLease", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("renew", "")
		createPush(t, s, m, pending("renew", registry.PlatformIOS, 0, at(0), "t"))
		claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		d := claimed[0]

		require.NoError(t, s.RenewDelivery(t.Context(), &d, at(lease+time.Hour)))
		require.NoError(t, s.RenewDelivery(t.Context(), &d, at(lease+time.Hour)), "the same lease again (MySQL changes no row)")

		require.NotNil(t, d.LeaseUntil)
		assert.True(t, d.LeaseUntil.Equal(at(lease+time.Hour)), "LeaseUntil set: %v", d.LeaseUntil)
		got, err := s.ClaimDeliveries(t.Context(), sendClaim(at(lease+time.Second), 1))
		require.NoError(t, err)
		assert.Empty(t, keys(got), "held past its first lease")
		list, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		require.Len(t, list, 1)
		require.NotNil(t, list[0].LeaseUntil)
		assert.True(t, list[0].LeaseUntil.Equal(at(lease+time.Hour)), "stored: %v", list[0].LeaseUntil)
		assert.Equal(t, d.ClaimToken, list[0].ClaimToken)

		d.State, d.Ret = registry.DeliveryDone, registry.RetSuccess
		require.NoError(t, s.FinishDelivery(t.Context(), &d), "the renewed claim still finishes")
	})

	t.Run("StaleHolderCannotRenew", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("renew stale", "")
		createPush(t, s, m, pending("renew-stale", registry.PlatformIOS, 0, at(0), "t"))
		first, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 1))
		require.NoError(t, err)
		require.Len(t, first, 1)
		second, err := s.ClaimDeliveries(t.Context(), sendClaim(at(lease+time.Second), 1))
		require.NoError(t, err)
		require.Len(t, second, 1)
		before, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)

		stale := first[0]
		err = s.RenewDelivery(t.Context(), &stale, at(time.Hour))

		require.ErrorIs(t, err, registry.ErrClaimLost)
		after, err := s.ListDeliveries(t.Context(), m.ID)
		require.NoError(t, err)
		assertDeliveries(t, before, after, "a stale renewal changes nothing")
		none := second[0]
		none.ClaimToken = ""
		assert.ErrorIs(t, s.RenewDelivery(t.Context(), &none, at(time.Hour)), registry.ErrClaimLost, "no token")
		assert.ErrorIs(t, s.RenewDelivery(t.Context(), &second[0], time.Time{}), registry.ErrInvalid, "no lease")
	})
}

// testRetryTokens covers registry.RetryTokens, for the stores that
// implement it: the holder writes a token, which the delivery then holds
// and nothing else changes; a stale holder, an empty claim and a token no
// column keeps are refused with nothing written.
func testRetryTokens(t *testing.T, f Factory) {
	s := f.New(t)
	w, ok := s.(registry.RetryTokens)
	if !ok {
		t.Skip("the store does not implement registry.RetryTokens")
	}
	ctx := t.Context()
	m := pushMessage("retry token", "")
	createPush(t, s, m, pending("rt", registry.PlatformAndroid, 0, at(0), "t"))
	first, err := s.ClaimDeliveries(ctx, sendClaim(at(0), 1))
	require.NoError(t, err)
	require.Len(t, first, 1)
	before, err := s.ListDeliveries(ctx, m.ID)
	require.NoError(t, err)

	d := first[0]
	const token = "cid1:1900000000:1900000001:appkey-令牌"
	require.NoError(t, w.SetRetryToken(ctx, &d, token))
	assert.Equal(t, token, d.RetryToken)
	require.NoError(t, w.SetRetryToken(ctx, &d, token), "the same token again (MySQL changes no row)")
	after, err := s.ListDeliveries(ctx, m.ID)
	require.NoError(t, err)
	require.Len(t, after, 1)
	assert.Equal(t, token, after[0].RetryToken, "stored")
	after[0].RetryToken = ""
	assertDeliveries(t, before, after, "nothing but the token changes")

	for _, bad := range []string{strings.Repeat("x", registry.MaxVarchar+1), "cid\x00", "cid\xff"} {
		c := d
		err := w.SetRetryToken(ctx, &c, bad)
		var verr *registry.ValidationError
		require.ErrorAs(t, err, &verr, "%q", bad)
		assert.Equal(t, "delivery.retry_token", verr.Field)
	}
	none := d
	none.ClaimToken = ""
	assert.ErrorIs(t, w.SetRetryToken(ctx, &none, "x"), registry.ErrClaimLost, "no claim")
	second, err := s.ClaimDeliveries(ctx, sendClaim(at(lease+time.Second), 1))
	require.NoError(t, err)
	require.Len(t, second, 1)
	stale := d
	assert.ErrorIs(t, w.SetRetryToken(ctx, &stale, "stale"), registry.ErrClaimLost, "a stale holder")
	list, err := s.ListDeliveries(ctx, m.ID)
	require.NoError(t, err)
	assert.Equal(t, token, list[0].RetryToken, "refused writes change nothing")
	require.NoError(t, w.SetRetryToken(ctx, &second[0], ""), "the holder clears it")
	list, err = s.ListDeliveries(ctx, m.ID)
	require.NoError(t, err)
	assert.Empty(t, list[0].RetryToken)
}

// testConcurrentFinishes finishes the deliveries of one message from many
// goroutines at once, one of them with a stale claim: every other outcome
// is written, the stale one is ErrClaimLost, and the summary is that of
// the stored deliveries.
func testConcurrentFinishes(t *testing.T, f Factory) {
	s := f.New(t)
	m := pushMessage("concurrent finishes", "")
	const n = 40
	var ds []*registry.Delivery
	for i := range n {
		ds = append(ds, pending(fmt.Sprintf("cf-%02d", i), registry.PlatformAndroid, i, at(0), fmt.Sprintf("tok-%02d", i)))
	}
	createPush(t, s, m, ds...)
	claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), n))
	require.NoError(t, err)
	require.Len(t, claimed, n)
	stale := claimed[7]
	stale.ClaimToken = "not-the-claim"

	errs := make([]error, n)
	var wg sync.WaitGroup
	for i := range claimed {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := claimed[i]
			if i == 7 {
				d = stale
			}
			d.State, d.Ret, d.ReceiptID, d.VendorState = registry.DeliveryDone, registry.RetSuccess, fmt.Sprintf("ul-%02d", i), "accepted"
			d.SentAt = ptr(at(time.Duration(i) * time.Second))
			errs[i] = s.FinishDelivery(t.Context(), &d)
		}()
	}
	wg.Wait()
	for i, err := range errs {
		if i == 7 {
			assert.ErrorIs(t, err, registry.ErrClaimLost, "the stale claim")
			continue
		}
		assert.NoError(t, err, "delivery %d", i)
	}
	list, err := s.ListDeliveries(t.Context(), m.ID)
	require.NoError(t, err)
	done := 0
	for _, d := range list {
		if d.State == registry.DeliveryDone {
			done++
		}
	}
	assert.Equal(t, n-1, done)
	got, err := s.GetPushMessage(t.Context(), m.ID)
	require.NoError(t, err)
	assert.Equal(t, registry.Summarize(registry.PlatformAndroid, list), got.Android)
	assert.Equal(t, registry.RetPending, got.Android.Ret, "the stale claim's delivery is still pending")
}
