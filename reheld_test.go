package push_test

import (
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
