package push_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// TestARetryReachesNoNewOwner: a push left pending for a retry is not sent
// to a phone its user no longer holds when the retry comes, on every store:
// another user logged in on it, another user's install took its token
// over, its user logged out, or its token was disabled. A device the user
// still holds gets the retry; a push none of whose devices is held any
// more fails, with the reason, and is not sent.
func TestARetryReachesNoNewOwner(t *testing.T) {
	const tokA, tokB = "token-of-phone-a-000000000000000000000000000", "token-of-phone-b-000000000000000000000000000"
	stores := map[string]func(t *testing.T) registry.Store{
		"memstore": func(t *testing.T) registry.Store {
			st, err := memstore.New(memstore.Config{})
			require.NoError(t, err)
			return st
		},
	}
	for _, d := range dbtest.Dialects() {
		stores[string(d)] = func(t *testing.T) registry.Store { return dbtest.NewStore(t, d) }
	}
	type change func(t *testing.T, svc *push.Service, phoneA push.Registration)
	changes := map[string]change{
		"another user logs in on the phone": func(t *testing.T, svc *push.Service, _ push.Registration) {
			_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "bob", UUID: "phone-a", Platform: "android", PushToken: tokA})
			require.NoError(t, err)
		},
		"another user's install takes the token over": func(t *testing.T, svc *push.Service, _ push.Registration) {
			_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "bob", UUID: "phone-a-new", Platform: "android", PushToken: tokA})
			require.NoError(t, err)
		},
		"the user logs out": func(t *testing.T, svc *push.Service, phoneA push.Registration) {
			require.NoError(t, svc.Logout(t.Context(), "alice", phoneA.UserDeviceID))
		},
		"the token is disabled": func(t *testing.T, svc *push.Service, _ push.Registration) {
			_, err := svc.Store().DisableTokens(t.Context(), "umeng", "android", []string{tokA}, "test")
			require.NoError(t, err)
		},
	}
	for name, newStore := range stores {
		for what, changeIt := range changes {
			for _, second := range []bool{false, true} {
				t.Run(name+"/"+what+map[bool]string{true: "/with a second phone"}[second], func(t *testing.T) {
					ctx := t.Context()
					clk := newClock()
					m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
					require.NoError(t, err)
					svc, err := push.New(push.Config{Store: newStore(t), Providers: []provider.Provider{m}, Now: clk.Now,
						Retry: push.RetryPolicy{Base: 30 * time.Second, Jitter: -1, MaxAttempts: 3}})
					require.NoError(t, err)
					phoneA, err := svc.RegisterDevice(ctx, push.Device{UserNum: "alice", UUID: "phone-a", Platform: "android", PushToken: tokA})
					require.NoError(t, err)
					if second {
						_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "alice", UUID: "phone-b", Platform: "android", PushToken: tokB})
						require.NoError(t, err)
					}
					m.FailNext(1, m.Err(provider.Temporary, "busy"))
					res, err := svc.Push(ctx, push.Message{UserNums: []string{"alice"}, Title: "alice's salary", Content: "for alice only"})
					require.NoError(t, err)
					require.Equal(t, 1, res.Pending())

					changeIt(t, svc, phoneA)
					clk.Advance(time.Minute)
					_, err = svc.RetryPending(ctx, 10)
					require.NoError(t, err)

					reqs := m.Requests()
					ds, err := svc.Store().ListDeliveries(ctx, res.PushMessageID)
					require.NoError(t, err)
					require.Len(t, ds, 1)
					if !second {
						assert.Len(t, reqs, 1, "no retry call: nobody of the push holds the phone")
						assert.Equal(t, registry.DeliveryFailed, ds[0].State)
						assert.Contains(t, ds[0].Response, "no user of the push holds its devices any more")
						return
					}
					require.Len(t, reqs, 2, "the retry goes to the phone alice still holds")
					assert.Equal(t, []string{tokB}, reqs[1].Audience.Tokens)
					assert.NotEqual(t, registry.DeliveryPending, ds[0].State)
				})
			}
		}
	}
}

// hangingHolders is a store whose PushHolders answers only when its ctx
// ends, as a statement the database plans badly.
type hangingHolders struct {
	*memstore.Store
	reads *atomic.Int32
}

func (h hangingHolders) PushHolders(ctx context.Context, _ int64, _ []string) ([]registry.Target, bool, error) {
	h.reads.Add(1)
	<-ctx.Done()
	return nil, false, ctx.Err()
}

// retryOnHangingHolders is a fixture on a hangingHolders store with
// writeTimeout, holding a push whose one delivery failed a first try and
// is due for a retry, and the store's count of holders reads.
func retryOnHangingHolders(t *testing.T, writeTimeout time.Duration) (*fixture, *atomic.Int32, *push.Result) {
	t.Helper()
	reads := new(atomic.Int32)
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.Store = hangingHolders{c.Store.(*memstore.Store), reads}
		c.WriteTimeout = writeTimeout
	})
	f.register(t, "u1", "d1", "android", "tok-1")
	f.mock.FailNext(1, &provider.Error{Provider: "umeng", Kind: provider.Temporary, Err: errors.New("busy")})
	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, registry.DeliveryPending, res.Deliveries[0].State)
	f.clk.Advance(time.Hour)
	return f, reads, res
}

// TestHoldersReadIsBounded: a retry whose holders the store does not
// read within WriteTimeout is given back, unsent and unfailed, and the
// pass goes on (it waited as long as the read, minutes on PostgreSQL with
// a bad plan, while every other delivery waited too); it is due again
// after the retry policy's backoff, not at the next pass (a read that
// fails every time was made again on every pass until the push expired).
func TestHoldersReadIsBounded(t *testing.T) {
	f, reads, res := retryOnHangingHolders(t, 100*time.Millisecond)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	_, err := f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	require.NoError(t, ctx.Err(), "the pass ended at the read's bound")
	assert.Equal(t, 1, f.mock.Calls(), "not sent again: its holders are unknown")
	ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.DeliveryPending, ds[0].State, "given back, to be tried later")
	assert.Equal(t, 1, ds[0].Attempts, "the read's attempt refunded")
	assert.True(t, ds[0].NextAttemptAt.After(f.clk.Now()), "due after a backoff")
	require.EqualValues(t, 1, reads.Load())
	n, err := f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n, "not claimed again at once")
	assert.EqualValues(t, 1, reads.Load())
	f.clk.Advance(time.Hour)
	_, err = f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.EqualValues(t, 2, reads.Load(), "tried again after the backoff")
}

// TestHoldersReadStoppedByTheCallerIsDueAtOnce: a pass stopped while it
// reads a retry's holders (a shutdown) gives the delivery back due at
// once, as RetryPending says of what it did not send (it was given back
// after a backoff, as a read that failed).
func TestHoldersReadStoppedByTheCallerIsDueAtOnce(t *testing.T) {
	f, reads, res := retryOnHangingHolders(t, 10*time.Second)
	ctx, cancel := context.WithCancel(t.Context())
	go func() {
		for reads.Load() == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	_, err := f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.DeliveryPending, ds[0].State)
	assert.False(t, ds[0].NextAttemptAt.After(f.clk.Now()), "due at once")
}
