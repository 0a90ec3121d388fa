package push_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// TestAGatewaysErrorPageEndsNoPolling: a poll answered 404 without JPush's
// own error code (a gateway's or a proxy's page, not JPush's refusal) is
// no answer about the pushes: the batch it was for is polled again at the
// interval, not ended as accepted for good.
func TestAGatewaysErrorPageEndsNoPolling(t *testing.T) {
	clk := newClock()
	fake := jpushtest.NewServer(t, jpushtest.Config{Now: clk.Now})
	st, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	cfg := fake.ClientConfig()
	cfg.Now = clk.Now
	jp, err := jpush.New(cfg)
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{jp}, DefaultProvider: "jpush", Now: clk.Now})
	require.NoError(t, err)
	ctx := t.Context()
	var ids []int64
	for _, u := range []string{"a", "b", "c"} {
		_, err = svc.RegisterDevice(ctx, push.Device{UserNum: u, UUID: u, Platform: "android", PushPlatform: "jpush", PushToken: jpushtest.RegistrationID(u)})
		require.NoError(t, err)
		res, err := svc.Push(ctx, push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
		ids = append(ids, res.PushMessageID)
	}
	require.NoError(t, fake.FailNext(1, jpushtest.Fault{Path: "/v3/received/detail", HTTPStatus: http.StatusNotFound}))
	clk.Advance(10*time.Minute + time.Second)
	_, err = svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	for _, id := range ids {
		ds, err := st.ListDeliveries(ctx, id)
		require.NoError(t, err)
		assert.Equal(t, registry.DeliveryAccepted, ds[0].State, "still polled")
		assert.Equal(t, provider.InvalidRequest.String(), ds[0].ErrorKind, "the refusal is noted")
	}
	clk.Advance(10*time.Minute + time.Second)
	n, err := svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 3, n, "the next pass polls them again")
}

// TestEveryInstanceEndsAPushAlike: a JPush push (Getui's are alike) followed until it
// expires ends in the same state whichever instance polls it, the one that
// sent it (whose client remembers the send) or another (whose client does
// not): done, as the vendor stops trying then and reports no final state of
// its own.
func TestEveryInstanceEndsAPushAlike(t *testing.T) {
	for _, otherPolls := range []bool{false, true} {
		clk := newClock()
		fake := jpushtest.NewServer(t, jpushtest.Config{Now: clk.Now})
		st, err := memstore.New(memstore.Config{Now: clk.Now})
		require.NoError(t, err)
		instance := func() *push.Service {
			cfg := fake.ClientConfig()
			cfg.Now = clk.Now
			jp, err := jpush.New(cfg)
			require.NoError(t, err)
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{jp}, DefaultProvider: "jpush", Now: clk.Now})
			require.NoError(t, err)
			return svc
		}
		sender, other := instance(), instance()
		ctx := t.Context()
		_, err = sender.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushPlatform: "jpush",
			PushToken: jpushtest.RegistrationID("d1")})
		require.NoError(t, err)
		res, err := sender.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", ExpireAt: clk.Now().Add(2 * time.Hour)})
		require.NoError(t, err)
		require.NoError(t, res.FirstError())
		poller := sender
		if otherPolls {
			poller = other
		}
		for range 15 {
			clk.Advance(10*time.Minute + time.Second)
			_, err := poller.PollReceipts(ctx, 10)
			require.NoError(t, err)
		}
		ds, err := st.ListDeliveries(ctx, res.PushMessageID)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		assert.Equal(t, registry.DeliveryDone, ds[0].State, "other instance polls: %v", otherPolls)
		assert.Equal(t, string(provider.StateDone), ds[0].VendorState, "other instance polls: %v", otherPolls)
		s, err := sender.PushStatus(ctx, res.PushMessageID)
		require.NoError(t, err)
		assert.Equal(t, "done", s.AndroidStatus, "other instance polls: %v", otherPolls)
	}
}
