package getui_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/testclock"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
)

// newClock makes the clock that drives timestamps, token expiry and ttl
// without sleeping; the client and the fake share it, and the fake's
// handlers read it while a test moves it.
var newClock = testclock.New

func newAgainstFake(t *testing.T, cfg getuitest.Config, mod func(*getui.Config)) (*getui.Client, *getuitest.Server) {
	t.Helper()
	fake := getuitest.NewServer(t, cfg)
	app := getuitest.DefaultApps()[0]
	gcfg := getui.Config{AppID: app.AppID, AppKey: app.AppKey, MasterSecret: getui.NewSecret(app.MasterSecret), BaseURL: fake.BaseURL(), Now: cfg.Now}
	if mod != nil {
		mod(&gcfg)
	}
	c, err := getui.New(gcfg)
	require.NoError(t, err)
	return c, fake
}

func cid(p provider.Platform, i int) string { return getuitest.CID(fmt.Sprintf("%s-%d", p, i)) }

// deliveringAPIs are the calls the conformance suite counts.
var deliveringAPIs = []string{"/push/single/cid", "/push/single/alias", "/push/list/cid", "/push/list/alias", "/push/all", "/push/tag"}

// TestConformance runs the provider conformance suite against the client
// talking to the independent fake Getui.
func TestConformance(t *testing.T) {
	providertest.Run(t, func(t *testing.T) *providertest.Harness {
		c, fake := newAgainstFake(t, getuitest.Config{}, nil)
		return &providertest.Harness{
			Provider:  c,
			Platforms: provider.Platforms(),
			Token:     cid,
			Calls:     fake.DeliveringCalls,
			Fault: func(k provider.Kind) bool {
				// The suite faults a one-cid send: /push/single/cid.
				f := getuitest.Fault{API: "/push/single/cid"}
				switch k {
				case provider.Temporary:
					f.Code = getui.CodeStarting
				case provider.RateLimited:
					f.Code = getui.CodeCallRate
				case provider.Auth:
					f.Code = getui.CodeBlacklisted
				case provider.InvalidToken:
					f.Code, f.Msg = getui.CodeInvalidParams, "target user is invalid"
				case provider.InvalidRequest:
					f.Code, f.Msg = getui.CodeInvalidParams, "push_message is invalid"
				case provider.Indeterminate:
					f.Timeout, f.AfterAccept, f.Delay = true, true, 10*time.Millisecond
				case provider.Unknown:
					f.Code = getui.CodeFailed
				default:
					return false
				}
				return fake.FailNext(1, f) == nil
			},
			Invalidate: func(_ provider.Platform, token string) { fake.MarkInvalid(token) },
			Stall: func() (<-chan struct{}, func()) {
				release := fake.Stall(deliveringAPIs...)
				stalled := make(chan struct{})
				go func() {
					if fake.WaitStalled(context.Background(), 1) == nil {
						close(stalled)
					}
				}()
				return stalled, release
			},
		}
	})
}
