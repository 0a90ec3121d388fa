package push_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/umeng"
	"github.com/tuisong/push/umeng/umengtest"
)

// quotaService is a Service on memstore whose Umeng client keeps its
// quotas (default unless mod sets them) and whose fake has no limits of
// its own, so that every refusal seen is the client's.
func quotaService(t *testing.T, clk *clock, mod func(*umeng.Config)) (*push.Service, registry.Store, *umengtest.Server) {
	t.Helper()
	fake := umengtest.NewServer(t, umengtest.Config{Now: clk.Now, NoRateLimits: true})
	ucfg := fake.ClientConfig()
	ucfg.Now = clk.Now
	if mod != nil {
		mod(&ucfg)
	}
	um, err := umeng.New(ucfg)
	require.NoError(t, err)
	st, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{um}, Now: clk.Now,
		Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}})
	require.NoError(t, err)
	return svc, st, fake
}

func broadcastsSent(fake *umengtest.Server) int {
	n := 0
	for _, r := range fake.Sends() {
		if r.Type == "broadcast" {
			n++
		}
	}
	return n
}

// TestBroadcastQuotaReschedules: the 11th broadcast of a day reaches no
// vendor; its delivery is pending, not failed, its attempt refunded, due
// when the bucket has a token again (24h/10 later). RetryPending before
// then sends nothing; at that time it sends it.
func TestBroadcastQuotaReschedules(t *testing.T) {
	clk := newClock()
	svc, st, fake := quotaService(t, clk, nil)
	ctx := t.Context()
	for i := range 10 {
		res, err := svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: fmt.Sprint("b", i)})
		require.NoError(t, err)
		require.Equal(t, registry.DeliveryAccepted, res.Deliveries[0].State, "broadcast %d", i+1)
	}
	res, err := svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "the 11th"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	assert.Equal(t, registry.DeliveryPending, res.Deliveries[0].State)
	assert.ErrorIs(t, res.Deliveries[0].Err, provider.RateLimited)
	assert.Equal(t, 10, broadcastsSent(fake), "nothing sent to the vendor for the 11th")

	ds, err := st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	d := ds[0]
	assert.Equal(t, registry.DeliveryPending, d.State)
	assert.Zero(t, d.Attempts, "the attempt is not spent")
	assert.Equal(t, "rate_limited", d.ErrorKind)
	wantDue := clk.Now().Add(24 * time.Hour / 10)
	assert.WithinDuration(t, wantDue, d.NextAttemptAt, time.Second)

	clk.Advance(time.Hour)
	n, err := svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n, "not due before the bucket has a token")
	assert.Equal(t, 10, broadcastsSent(fake))

	clk.Advance(wantDue.Sub(clk.Now()) + time.Second)
	n, err = svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, 11, broadcastsSent(fake))
	ds, err = st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.DeliveryAccepted, ds[0].State)
	assert.Equal(t, 1, ds[0].Attempts)
}

// TestBroadcastQuotaPastExpiry: when the next token comes after the
// push's expiry, the delivery fails as expired, and nothing is sent.
func TestBroadcastQuotaPastExpiry(t *testing.T) {
	clk := newClock()
	svc, st, fake := quotaService(t, clk, func(cfg *umeng.Config) {
		cfg.Quotas.Broadcast = provider.Quota{Calls: 1, Per: 24 * time.Hour}
	})
	ctx := t.Context()
	_, err := svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "first"})
	require.NoError(t, err)
	res, err := svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "second",
		ExpireAt: clk.Now().Add(time.Hour)})
	require.NoError(t, err)
	assert.Equal(t, registry.DeliveryFailed, res.Deliveries[0].State)
	ds, err := st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, string(provider.StateExpired), ds[0].VendorState)
	assert.Contains(t, ds[0].Response, "expired")
	assert.Equal(t, 1, broadcastsSent(fake))
}

// TestBroadcastQuotaConfigured: a higher configured limit sends the 11th.
func TestBroadcastQuotaConfigured(t *testing.T) {
	clk := newClock()
	svc, _, fake := quotaService(t, clk, func(cfg *umeng.Config) {
		cfg.Quotas.Broadcast = provider.Quota{Calls: 20, Per: 24 * time.Hour}
	})
	for i := range 11 {
		res, err := svc.Broadcast(t.Context(), push.Broadcast{Platform: "android", Title: "t", Content: fmt.Sprint("b", i)})
		require.NoError(t, err)
		require.Equal(t, registry.DeliveryAccepted, res.Deliveries[0].State, "broadcast %d", i+1)
	}
	assert.Equal(t, 11, broadcastsSent(fake))
}

// TestBroadcastQuotaConcurrent: 30 broadcasts at once; exactly 10 reach
// Umeng, the other 20 are pending for later, none failed.
func TestBroadcastQuotaConcurrent(t *testing.T) {
	clk := newClock()
	svc, _, fake := quotaService(t, clk, nil)
	var mu sync.Mutex
	states := map[registry.DeliveryState]int{}
	var wg sync.WaitGroup
	for i := range 30 {
		wg.Go(func() {
			res, err := svc.Broadcast(t.Context(), push.Broadcast{Platform: "android", Title: "t", Content: fmt.Sprint("b", i)})
			if !assert.NoError(t, err) {
				return
			}
			mu.Lock()
			states[res.Deliveries[0].State]++
			mu.Unlock()
		})
	}
	wg.Wait()
	assert.Equal(t, map[registry.DeliveryState]int{registry.DeliveryAccepted: 10, registry.DeliveryPending: 20}, states)
	assert.Equal(t, 10, broadcastsSent(fake))
}
