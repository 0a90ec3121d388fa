package push_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/bits"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/umeng/umengtest"
)

// The tests of this file prove that the Service follows what each provider
// declares in its Capabilities (issue #11, item 0): polling policy, token
// failures and halving, per-provider send timeouts, and the maximum time
// to live.

// declared returns a MockConfig named "umeng" whose two platforms declare c
// on top of the default capabilities.
func declared(c provider.Capabilities, pollable ...provider.AudienceKind) providertest.MockConfig {
	base := providertest.DefaultCapabilities()
	if c.MaxTokens == 0 {
		c.MaxTokens = base.MaxTokens
	}
	c.Audiences = base.Audiences
	return providertest.MockConfig{Name: "umeng", Pollable: pollable,
		Capabilities: map[provider.Platform]provider.Capabilities{provider.IOS: c, provider.Android: c}}
}

// onlyDelivery returns the one delivery of push message id.
func onlyDelivery(t *testing.T, st registry.Store, id int64) registry.Delivery {
	t.Helper()
	ds, err := st.ListDeliveries(t.Context(), id)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	return ds[0]
}

// TestPollFollowsTheProviderPolicy: a provider that reports counts
// declares a poll interval and a horizon; the Service polls at that
// interval, not Config.PollInterval, and at the horizon finishes the
// delivery as done with the last counts the vendor reported, a state not
// final (sending) ending as accepted: it showed sending for good.
func TestPollFollowsTheProviderPolicy(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, declared(provider.Capabilities{Polling: provider.Polling{Interval: 10 * time.Minute, Horizon: 45 * time.Minute}},
		provider.AudienceTokens), func(c *push.Config) { c.PollInterval = time.Minute })
	f.register(t, "u1", "d1", "android", "tok1")
	sent := f.clk.Now()
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	d := onlyDelivery(t, f.store, res.PushMessageID)
	require.Equal(t, registry.DeliveryAccepted, d.State)
	assert.Equal(t, sent.Add(10*time.Minute), d.NextAttemptAt, "the provider's interval, not Config.PollInterval")

	f.clk.Advance(time.Minute)
	n, err := f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n, "not due after Config.PollInterval")

	f.mock.SetStatus(d.ReceiptID, provider.Status{State: provider.StateSending, Total: 3, Sent: 1,
		Raw: json.RawMessage(`{"total":3,"sent":1}`)})
	var polls []time.Duration
	for range 10 {
		f.clk.Advance(time.Minute)
		n, err := f.svc.PollReceipts(ctx, 10)
		require.NoError(t, err)
		if n > 0 {
			polls = append(polls, f.clk.Now().Sub(sent))
		}
	}
	assert.Equal(t, []time.Duration{10 * time.Minute}, polls)
	f.clk.Advance(time.Hour)
	for range 4 {
		_, err := f.svc.PollReceipts(ctx, 10)
		require.NoError(t, err)
	}
	d = onlyDelivery(t, f.store, res.PushMessageID)
	assert.Equal(t, registry.DeliveryDone, d.State, "the horizon ends polling")
	assert.Equal(t, string(provider.StateAccepted), d.VendorState, "sending, not final, ends accepted")
	assert.JSONEq(t, `{"total":3,"sent":1}`, d.Response, "with the last counts the vendor reported")
	st, err := f.svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetSuccess, st.Android.Ret)
	assert.Equal(t, string(provider.StateAccepted), st.Android.Status, "not sending for good")
	assert.Equal(t, string(provider.StateAccepted), st.AndroidStatus, "the status column too")
}

// TestPollStopsAtTheHorizonNotAfterIt: the last poll is due at the
// horizon itself, not an interval after it.
func TestPollStopsAtTheHorizonNotAfterIt(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, declared(provider.Capabilities{Polling: provider.Polling{Interval: 10 * time.Minute, Horizon: 25 * time.Minute}},
		provider.AudienceTokens), nil)
	f.register(t, "u1", "d1", "ios", "tok1")
	sent := f.clk.Now()
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	for _, step := range []struct {
		at   time.Duration
		next time.Duration
	}{{10 * time.Minute, 20 * time.Minute}, {20 * time.Minute, 25 * time.Minute}} {
		f.clk.Advance(sent.Add(step.at).Sub(f.clk.Now()))
		n, err := f.svc.PollReceipts(ctx, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n, "polled at %v", step.at)
		d := onlyDelivery(t, f.store, res.PushMessageID)
		require.Equal(t, registry.DeliveryAccepted, d.State)
		assert.Equal(t, sent.Add(step.next), d.NextAttemptAt, "after the poll at %v", step.at)
	}
	f.clk.Advance(5 * time.Minute)
	n, err := f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	d := onlyDelivery(t, f.store, res.PushMessageID)
	assert.Equal(t, registry.DeliveryDone, d.State)
	assert.Equal(t, string(provider.StateAccepted), d.VendorState, "queued, not final, ends accepted")
}

// TestPollDisabled: a provider that declares its receipts not worth
// polling has them done, accepted, at once, and is never polled.
func TestPollDisabled(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, declared(provider.Capabilities{Polling: provider.Polling{Disabled: true}}, provider.AudienceTokens), nil)
	f.register(t, "u1", "d1", "ios", "tok1")
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	d := onlyDelivery(t, f.store, res.PushMessageID)
	assert.True(t, d.Pollable, "the receipt is a task")
	assert.Equal(t, registry.DeliveryDone, d.State)
	assert.Equal(t, string(provider.StateAccepted), d.VendorState)
	f.clk.Advance(time.Hour)
	n, err := f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// TestPollDefaultsKeepFinalStates: the zero Polling (Umeng's) polls at
// Config.PollInterval until a final state or the expiry, as before.
func TestPollDefaultsKeepFinalStates(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceTokens}},
		func(c *push.Config) { c.PollInterval = 2 * time.Minute })
	f.register(t, "u1", "d1", "ios", "tok1")
	sent := f.clk.Now()
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", ExpireAt: sent.Add(time.Hour)})
	require.NoError(t, err)
	d := onlyDelivery(t, f.store, res.PushMessageID)
	assert.Equal(t, sent.Add(2*time.Minute), d.NextAttemptAt)
	f.clk.Advance(59 * time.Minute)
	_, err = f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	d = onlyDelivery(t, f.store, res.PushMessageID)
	require.Equal(t, registry.DeliveryAccepted, d.State, "no horizon: polled until the expiry")
	assert.Equal(t, sent.Add(time.Hour), d.NextAttemptAt, "the last poll is due at the expiry")
	f.clk.Advance(time.Minute)
	_, err = f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	d = onlyDelivery(t, f.store, res.PushMessageID)
	assert.Equal(t, registry.DeliveryDone, d.State)
	assert.Equal(t, string(provider.StateExpired), d.VendorState)
}

// TestPollRealVendorsAtTheirInterval: JPush's and Getui's clients declare
// a ten-minute interval, and the Service polls their receipts at it.
func TestPollRealVendorsAtTheirInterval(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, _ := mixedService(t, clk)
	ctx := t.Context()
	for i, d := range []push.Device{
		{UserNum: "u1", UUID: "j1", Platform: "android", PushPlatform: "jpush", PushToken: jpushtest.RegistrationID("j1")},
		{UserNum: "u1", UUID: "g1", Platform: "ios", PushPlatform: "getui", PushToken: cidOf("g1")},
		{UserNum: "u1", UUID: "g2", Platform: "ios", PushPlatform: "getui", PushToken: cidOf("g2")},
	} {
		_, err := svc.RegisterDevice(ctx, d)
		require.NoError(t, err, i)
	}
	sent := clk.Now()
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.NoError(t, res.FirstError())
	ds, err := st.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 2)
	for _, d := range ds {
		require.Equal(t, registry.DeliveryAccepted, d.State, d.Provider)
		assert.True(t, d.Pollable, d.Provider)
		assert.WithinDuration(t, sent.Add(10*time.Minute), d.NextAttemptAt, 0, "%s: its declared interval", d.Provider)
	}
	clk.Advance(time.Minute)
	n, err := svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n, "not due after a minute")
	clk.Advance(9 * time.Minute)
	n, err = svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 2, n, "both due after ten")
}

// TestSplitByHalving: a vendor that refuses a batch for a dead token
// without saying which (no TokenFailures) makes the Service halve the
// batch: one dead token among 500 costs at most 1 + 2·⌈log2 500⌉ = 19
// calls, not 500, and every other token is reached exactly once.
func TestSplitByHalving(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, providertest.MockConfig{}, nil)
	var users []string
	for i := range 500 {
		users = append(users, fmt.Sprintf("u%03d", i))
		f.register(t, users[i], fmt.Sprintf("d%03d", i), "android", fmt.Sprintf("tok%03d", i))
	}
	f.mock.MarkInvalid("tok137")
	res, err := f.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	limit := 1 + 2*bits.Len(uint(500-1)) // 1 + 2·⌈log2 500⌉
	assert.LessOrEqual(t, f.mock.Calls(), limit, "O(log n) calls")
	assert.Greater(t, f.mock.Calls(), 1)
	reached := map[string]int{}
	for _, r := range f.mock.Requests() {
		if !slices.Contains(r.Audience.Tokens, "tok137") {
			for _, tok := range r.Audience.Tokens {
				reached[tok]++
			}
		}
	}
	assert.Len(t, reached, 499, "every live token reached")
	for tok, n := range reached {
		require.Equal(t, 1, n, "%s reached once", tok)
	}
	assert.Equal(t, 1, res.Failed(), "the dead token's own delivery")
	devices := 0
	for _, o := range res.Deliveries {
		devices += o.Tokens
	}
	assert.Equal(t, 500, devices, "the outcomes cover every token once")
	targets, err := f.store.ListTargets(ctx, registry.TargetQuery{UserNums: users, Limit: 1000})
	require.NoError(t, err)
	assert.Len(t, targets, 499, "only the dead token was disabled")
}

// TestSplitNamedFailures: a vendor that names the tokens it refused
// (TokenFailures) costs one more call: those tokens are disabled, keep
// their refusal in a part of their own, and the rest is sent once.
func TestSplitNamedFailures(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, declared(provider.Capabilities{TokenFailures: true}), nil)
	users := []string{"u0", "u1", "u2", "u3"}
	for i, u := range users {
		f.register(t, u, fmt.Sprintf("d%d", i), "ios", fmt.Sprintf("tok%d", i))
	}
	f.mock.MarkInvalid("tok1", "tok3")
	res, err := f.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	reqs := f.mock.Requests()
	require.Len(t, reqs, 2, "the batch, then the rest once")
	assert.Equal(t, []string{"tok0", "tok2"}, reqs[1].Audience.Tokens)
	require.Len(t, res.Deliveries, 2)
	assert.Equal(t, 1, res.Failed())
	assert.Equal(t, 1, res.Accepted())
	assert.ErrorIs(t, res.FirstError(), provider.InvalidToken)

	ds, err := f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	byState := map[registry.DeliveryState][]string{}
	for _, d := range ds {
		byState[d.State] = append(byState[d.State], strings.Join(d.Tokens, ","))
	}
	assert.Equal(t, map[registry.DeliveryState][]string{
		registry.DeliverySplit:  {"tok0,tok1,tok2,tok3"},
		registry.DeliveryFailed: {"tok1,tok3"},
		registry.DeliveryDone:   {"tok0,tok2"},
	}, byState)
	st, err := f.svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.ElementsMatch(t, []string{"tok0", "tok1", "tok2", "tok3"}, strings.Split(st.IOS.DeviceTokens, ","))
	assert.Equal(t, registry.RetPartial, st.IOS.Ret)
	targets, err := f.store.ListTargets(ctx, registry.TargetQuery{UserNums: users})
	require.NoError(t, err)
	var live []string
	for _, tg := range targets {
		live = append(live, tg.Token)
	}
	assert.ElementsMatch(t, []string{"tok0", "tok2"}, live, "exactly the named tokens are disabled")
}

// TestSplitEveryTokenNamed: when the vendor names every token of the
// batch, nothing is left to send and the delivery fails without a split.
func TestSplitEveryTokenNamed(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, declared(provider.Capabilities{TokenFailures: true}), nil)
	f.register(t, "u0", "d0", "ios", "tok0")
	f.register(t, "u1", "d1", "ios", "tok1")
	f.mock.MarkInvalid("tok0", "tok1")
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u0", "u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1, f.mock.Calls())
	require.Len(t, res.Deliveries, 1)
	assert.Equal(t, registry.DeliveryFailed, res.Deliveries[0].State)
	targets, err := f.store.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u0", "u1"}})
	require.NoError(t, err)
	assert.Empty(t, targets, "both disabled")
}

// TestSplitAgainstJPush: JPush refuses a batch holding a malformed
// registration id with 1003, naming it ("The registration_id … is
// invalid!"); through the real client and the fake, the Service disables
// that id and sends the rest again in one call (it halved the batch, 8 →
// 4 → 2 → 1, seven calls, when the client read no id from the message).
func TestSplitAgainstJPush(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, fakes := mixedService(t, clk)
	ctx := t.Context()
	var users []string
	for i := range 8 {
		users = append(users, fmt.Sprint("u", i))
		if i == 5 {
			// Not 11–64 characters: JPush refuses the batch. A row another
			// program wrote (the Service refuses such a registration).
			_, _, err := st.RegisterDevice(ctx, &registry.Device{UUID: "j5", Platform: "android", PushPlatform: "jpush", PushToken: "short5"}, users[i])
			require.NoError(t, err)
			continue
		}
		tok := jpushtest.RegistrationID(fmt.Sprint("j", i))
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: users[i], UUID: fmt.Sprint("j", i), Platform: "android", PushPlatform: "jpush", PushToken: tok})
		require.NoError(t, err)
	}
	res, err := svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 2, fakes.jpush.Arrived("/v3/push"), "the batch, then the seven others")
	assert.Equal(t, 1, res.Failed())
	for i := range 8 {
		if i != 5 {
			assert.Equal(t, 1, fakes.jpush.DeliveryCount(jpushtest.RegistrationID(fmt.Sprint("j", i))), "device %d reached once", i)
		}
	}
	targets, err := st.ListTargets(ctx, registry.TargetQuery{UserNums: users})
	require.NoError(t, err)
	assert.Len(t, targets, 7, "the malformed id alone is disabled")
}

// TestSplitOnEveryStore: chunks split concurrently, by two pushes at once,
// on every database: every live token is reached exactly once, every dead
// one disabled, and each push lists each of its tokens once.
func TestSplitOnEveryStore(t *testing.T) {
	for _, dialect := range dbtest.Dialects() {
		t.Run(string(dialect), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, dialect)
			st := dbtest.NewStore(t, dialect)
			ctx := t.Context()
			m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Capabilities: map[provider.Platform]provider.Capabilities{
				provider.Android: {MaxTokens: 10, Audiences: []provider.AudienceKind{provider.AudienceTokens}},
			}})
			require.NoError(t, err)
			svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, SendConcurrency: 4})
			require.NoError(t, err)
			groups := [2][]string{}
			var dead []string
			for g := range 2 {
				for i := range 30 {
					u := fmt.Sprintf("g%d-u%02d", g, i)
					tok := fmt.Sprintf("g%d-tok%02d", g, i)
					groups[g] = append(groups[g], u)
					_, err := svc.RegisterDevice(ctx, push.Device{UserNum: u, UUID: "d-" + u, Platform: "android", PushToken: tok})
					require.NoError(t, err)
					if i%10 == 3 {
						dead = append(dead, tok) // one dead token in each chunk of 10
					}
				}
			}
			m.MarkInvalid(dead...)
			var wg sync.WaitGroup
			results := make([]*push.Result, 2)
			for g := range 2 {
				wg.Go(func() {
					res, err := svc.Push(ctx, push.Message{UserNums: groups[g], Title: "t", Content: "c"})
					assert.NoError(t, err)
					results[g] = res
				})
			}
			wg.Wait()
			reached := map[string]int{}
			for _, r := range m.Requests() {
				if !slices.ContainsFunc(r.Audience.Tokens, func(tok string) bool { return slices.Contains(dead, tok) }) {
					for _, tok := range r.Audience.Tokens {
						reached[tok]++
					}
				}
			}
			assert.Len(t, reached, 60-len(dead))
			for tok, n := range reached {
				assert.Equal(t, 1, n, "%s reached once", tok)
			}
			for g, res := range results {
				require.NotNil(t, res)
				assert.Equal(t, 3, res.Failed(), "push %d: one dead token per chunk", g)
				s, err := svc.PushStatus(ctx, res.PushMessageID)
				require.NoError(t, err)
				toks := strings.Split(s.Android.DeviceTokens, ",")
				assert.Len(t, toks, 30, "push %d lists its tokens", g)
				slices.Sort(toks)
				assert.Len(t, slices.Compact(toks), 30, "push %d lists each token once", g)
				assert.Equal(t, registry.RetPartial, s.Android.Ret)
			}
			targets, err := st.ListTargets(ctx, registry.TargetQuery{UserNums: append(slices.Clone(groups[0]), groups[1]...), Limit: 100})
			require.NoError(t, err)
			assert.Len(t, targets, 60-len(dead), "exactly the dead tokens are disabled")
		})
	}
}

// TestSendTimeoutPerProvider: each provider's Send is bounded by its own
// declared SendTimeout (or CallsPerSend times Config.SendTimeout), the
// default Lease covers the longest, and DrainTimeout waits for it.
func TestSendTimeoutPerProvider(t *testing.T) {
	st := newStore(t)
	quick, err := providertest.NewMock(declared(provider.Capabilities{SendTimeout: 50 * time.Millisecond}))
	require.NoError(t, err)
	multi := declaredMock(t, "getui", provider.Capabilities{CallsPerSend: 4})
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{quick, multi}, SendTimeout: 40 * time.Second})
	require.NoError(t, err)
	assert.Equal(t, 160*time.Second+10*time.Second, svc.DrainTimeout(), "four calls of 40s, then the write")

	// The quick provider's send is cut at its own 50ms, not Config's 40s.
	quick.SetSendFunc(func(ctx context.Context, _ *provider.Request) (*provider.Receipt, error) {
		<-ctx.Done()
		return nil, ctx.Err()
	})
	_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "ios", PushToken: "tok1"})
	require.NoError(t, err)
	start := time.Now()
	res, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	assert.ErrorIs(t, res.Deliveries[0].Err, provider.Indeterminate, "cut off by the provider's SendTimeout")
	assert.Less(t, time.Since(start), 30*time.Second, "long before Config.SendTimeout")

	// The longest send timeout must fit in the Lease.
	_, err = push.New(push.Config{Store: st, Providers: []provider.Provider{quick, multi}, SendTimeout: 40 * time.Second, Lease: 2 * time.Minute})
	require.Error(t, err)
	assert.Equal(t, "lease", fieldOf(err))
	assert.Contains(t, err.Error(), `provider "getui"`)
	assert.Contains(t, err.Error(), "2m40s")
	declaredLong := declaredMock(t, "jpush", provider.Capabilities{SendTimeout: 5 * time.Minute})
	svc, err = push.New(push.Config{Store: st, Providers: []provider.Provider{declaredLong}})
	require.NoError(t, err, "the default Lease grows to cover it")
	assert.Equal(t, 5*time.Minute+10*time.Second, svc.DrainTimeout())
	short := declaredMock(t, "jpush", provider.Capabilities{SendTimeout: 30 * time.Second})
	svc, err = push.New(push.Config{Store: st, Providers: []provider.Provider{short}})
	require.NoError(t, err)
	assert.Equal(t, 40*time.Second, svc.DrainTimeout(), "a shorter declaration than Config.SendTimeout: the drain waits for it only")
}

// TestSendTimeoutOfTheRealClients: Getui's client declares four calls of
// its 30s timeout, the longest of the three: the mixed Service drains for
// it.
func TestSendTimeoutOfTheRealClients(t *testing.T) {
	svc, _, _ := mixedService(t, &clock{t: time.Now()})
	assert.Equal(t, 4*30*time.Second+10*time.Second, svc.DrainTimeout())
}

// TestExpiryClampedPerProvider: the request's ExpireTime is clamped to
// the provider's MaxTimeToLive from the send, on the first send and on a
// retry, while the push keeps the caller's expire_at; polling stops at the
// clamp.
func TestExpiryClampedPerProvider(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, declared(provider.Capabilities{MaxTimeToLive: 2 * time.Hour}, provider.AudienceTokens),
		func(c *push.Config) { c.PollInterval = time.Hour })
	f.register(t, "u1", "d1", "ios", "tok1")
	f.register(t, "u2", "d2", "android", "tok2")
	t0 := f.clk.Now()
	asked := t0.Add(72 * time.Hour)
	f.mock.FailNext(1, f.mock.Err(provider.Temporary, "busy")) // the first delivery sent is retried
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1", "u2"}, Title: "t", Content: "c", ExpireAt: asked})
	require.NoError(t, err)
	msg, err := f.store.GetPushMessage(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.NotNil(t, msg.ExpireAt)
	assert.True(t, asked.Equal(*msg.ExpireAt), "the stored expire_at stays the caller's")
	for _, r := range f.mock.Requests() {
		assert.True(t, t0.Add(2*time.Hour).Equal(r.ExpireTime), "clamped to the send plus MaxTimeToLive: %v", r.ExpireTime)
	}

	f.clk.Advance(time.Minute)
	n, err := f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	reqs := f.mock.Requests()
	require.Len(t, reqs, 3)
	assert.True(t, t0.Add(time.Minute+2*time.Hour).Equal(reqs[2].ExpireTime), "a retry clamps from its own send")

	// Polling ends at the clamp, two hours after each send, not at the
	// caller's 72 hours.
	f.clk.Advance(time.Hour)
	_, err = f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	f.clk.Advance(time.Hour)
	_, err = f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	ds, err := f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, registry.DeliveryDone, d.State, "delivery %d", d.ID)
		assert.Equal(t, string(provider.StateExpired), d.VendorState, "the vendor keeps it no longer")
	}
}

// TestExpiryClampedForUmeng: Umeng refuses an expire_time more than 7
// days ahead; a push asking for 10 days is no longer refused but sent
// with Umeng's maximum.
func TestExpiryClampedForUmeng(t *testing.T) {
	clk := &clock{t: time.Now()} // Umeng checks expire_time against the real clock
	svc, _, fakes := mixedService(t, clk)
	ctx := t.Context()
	tok := umengtest.IOSToken("iphone")
	_, err := svc.RegisterDevice(ctx, push.Device{UserNum: "u1", UUID: "i1", Platform: "ios", PushPlatform: "umeng", PushToken: tok})
	require.NoError(t, err)
	res, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", ExpireAt: clk.Now().Add(10 * 24 * time.Hour)})
	require.NoError(t, err, "clamped, not refused")
	require.NoError(t, res.FirstError())
	assert.Equal(t, 1, fakes.umeng.DeliveryCount(tok))
	var expire string
	for _, r := range fakes.umeng.Requests() {
		if r.Path == "/api/send" {
			expire, _ = r.Policy["expire_time"].(string)
		}
	}
	want := clk.Now().Add(7 * 24 * time.Hour).In(time.FixedZone("CST", 8*3600)).Format(time.DateTime)
	assert.Equal(t, want, expire, "Umeng's seven days, in Beijing time")
}

// declaredMock is a Mock named name whose platforms declare c.
func declaredMock(t *testing.T, name string, c provider.Capabilities) *providertest.Mock {
	t.Helper()
	cfg := declared(c)
	cfg.Name = name
	m, err := providertest.NewMock(cfg)
	require.NoError(t, err)
	return m
}

// fieldOf names the field of a *push.FieldError in err, or "".
// newStore is an empty memstore on the real clock.
func newStore(t *testing.T) registry.Store {
	t.Helper()
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	return st
}

// cidOf is the getuitest cid of seed.
func cidOf(seed string) string { return getuitest.CID(seed) }

// TestPollDisabledAfterTheSend: a receipt accepted for polling before its
// provider declared polling disabled (a new version deployed) ends done,
// accepted, at its next poll, without asking the vendor.
func TestPollDisabledAfterTheSend(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceTokens}}, nil)
	f.register(t, "u1", "d1", "ios", "tok1")
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, registry.DeliveryAccepted, onlyDelivery(t, f.store, res.PushMessageID).State)

	// The new version's provider knows no task of the old one: asking it
	// would fail with invalid_request.
	newer, err := providertest.NewMock(declared(provider.Capabilities{Polling: provider.Polling{Disabled: true}}, provider.AudienceTokens))
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: f.store, Providers: []provider.Provider{newer}, Now: f.clk.Now})
	require.NoError(t, err)
	f.clk.Advance(time.Hour)
	n, err := svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	d := onlyDelivery(t, f.store, res.PushMessageID)
	assert.Equal(t, registry.DeliveryDone, d.State)
	assert.Equal(t, string(provider.StateAccepted), d.VendorState)
	assert.Empty(t, d.ErrorKind, "the vendor was not asked")
}

// TestNamedFailuresAgainstGetui: Getui answers a list push per cid
// (TokenFailures): one call reaches the live cids and names the dead one,
// which alone is disabled; nothing is split or sent again.
func TestNamedFailuresAgainstGetui(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, fakes := mixedService(t, clk)
	ctx := t.Context()
	var users []string
	for i := range 3 {
		users = append(users, fmt.Sprint("u", i))
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: users[i], UUID: fmt.Sprint("g", i), Platform: "android",
			PushPlatform: "getui", PushToken: cidOf(fmt.Sprint("g", i))})
		require.NoError(t, err)
	}
	fakes.getui.MarkInvalid(cidOf("g1"))
	res, err := svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1, fakes.getui.DeliveringCalls(), "one list push")
	require.Len(t, res.Deliveries, 1)
	assert.Equal(t, registry.DeliveryAccepted, res.Deliveries[0].State, "accepted for the live cids")
	assert.Equal(t, 1, fakes.getui.DeliveryCount(cidOf("g0")))
	assert.Equal(t, 1, fakes.getui.DeliveryCount(cidOf("g2")))
	targets, err := st.ListTargets(ctx, registry.TargetQuery{UserNums: users})
	require.NoError(t, err)
	var live []string
	for _, tg := range targets {
		live = append(live, tg.Token)
	}
	assert.ElementsMatch(t, []string{cidOf("g0"), cidOf("g2")}, live, "the named cid alone is disabled")
}

// TestJPushReceiptsArePolledTogether: JPush's received/detail takes 100
// msg_ids, and the Service asks about the due receipts of a pass in one
// call; each delivery records its own message's state and entry.
func TestJPushReceiptsArePolledTogether(t *testing.T) {
	clk := &clock{t: time.Now()}
	svc, st, fakes := mixedService(t, clk)
	ctx := t.Context()
	const users = 6
	var ids []int64
	for i := range users {
		u := fmt.Sprint("u", i)
		_, err := svc.RegisterDevice(ctx, push.Device{UserNum: u, UUID: "j" + u, Platform: "android", PushPlatform: "jpush",
			PushToken: jpushtest.RegistrationID("j" + u)})
		require.NoError(t, err)
		res, err := svc.Push(ctx, push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
		require.NoError(t, res.FirstError())
		ids = append(ids, res.PushMessageID)
	}
	clk.Advance(10 * time.Minute)
	before := len(fakes.jpush.Requests())
	n, err := svc.PollReceipts(ctx, 100)
	require.NoError(t, err)
	assert.Equal(t, users, n)
	var polls []jpushtest.Request
	for _, r := range fakes.jpush.Requests()[before:] {
		if r.API == "/v3/received/detail" {
			polls = append(polls, r)
		}
	}
	require.Len(t, polls, 1, "one call for the pass's %d receipts", users)
	q, err := url.ParseQuery(polls[0].Query)
	require.NoError(t, err)
	assert.Len(t, strings.Split(q.Get("msg_ids"), ","), users)
	for _, id := range ids {
		ds, err := st.ListDeliveries(ctx, id)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		d := ds[0]
		assert.Equal(t, registry.DeliveryAccepted, d.State, "polled again until its horizon")
		assert.Equal(t, string(provider.StateSending), d.VendorState, "the fake counted its one device")
		assert.Contains(t, d.Response, d.ReceiptID, "its own entry")
		assert.Equal(t, 1, strings.Count(d.Response, `"msg_id"`), "and no other")
		assert.WithinDuration(t, clk.Now().Add(10*time.Minute), d.NextAttemptAt, 0)
	}
}
