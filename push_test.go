package push_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/internal/syncbuf"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/registry/sqlstore"
	"github.com/tuisong/push/umeng"
)

// clock is a manual clock for tests.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 11, 28, 10, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }

func (c *clock) Advance(d time.Duration) { c.mu.Lock(); c.t = c.t.Add(d); c.mu.Unlock() }

type fixture struct {
	svc   *push.Service
	store *memstore.Store
	mock  *providertest.Mock
	clk   *clock
}

func newFixture(t *testing.T, mcfg providertest.MockConfig, mod func(*push.Config)) *fixture {
	t.Helper()
	clk := newClock()
	st, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	if mcfg.Name == "" {
		mcfg.Name = "umeng"
	}
	m, err := providertest.NewMock(mcfg)
	require.NoError(t, err)
	cfg := push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now,
		Retry: push.RetryPolicy{Base: 30 * time.Second, Jitter: -1, MaxAttempts: 3}}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := push.New(cfg)
	require.NoError(t, err)
	return &fixture{svc: svc, store: st, mock: m, clk: clk}
}

func (f *fixture) register(t *testing.T, user, uuid, platform, token string) push.Registration {
	t.Helper()
	r, err := f.svc.RegisterDevice(context.Background(), push.Device{UserNum: user, UUID: uuid, Platform: platform, PushToken: token})
	require.NoError(t, err)
	return r
}

func TestNewValidatesConfig(t *testing.T) {
	st, _ := memstore.New(memstore.Config{})
	m, _ := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	m2, _ := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	tests := []struct {
		name  string
		cfg   push.Config
		field string
	}{
		{"no store", push.Config{Providers: []provider.Provider{m}}, "store"},
		{"no providers", push.Config{Store: st}, "providers"},
		{"nil provider", push.Config{Store: st, Providers: []provider.Provider{nil}}, "providers"},
		// A constructor's error dropped: a nil pointer in a non-nil interface.
		{"typed nil store", push.Config{Store: (*memstore.Store)(nil), Providers: []provider.Provider{m}}, "store"},
		{"typed nil provider", push.Config{Store: st, Providers: []provider.Provider{(*umeng.Client)(nil)}}, "providers"},
		{"duplicate names", push.Config{Store: st, Providers: []provider.Provider{m, m2}}, "providers"},
		{"unknown default", push.Config{Store: st, Providers: []provider.Provider{m}, DefaultProvider: "jpush"}, "default_provider"},
		{"negative lease", push.Config{Store: st, Providers: []provider.Provider{m}, Lease: -1}, "lease"},
		{"negative concurrency", push.Config{Store: st, Providers: []provider.Provider{m}, SendConcurrency: -1}, "send_concurrency"},
		{"jitter above one", push.Config{Store: st, Providers: []provider.Provider{m}, Retry: push.RetryPolicy{Jitter: 2}}, "retry.jitter"},
		{"base above max", push.Config{Store: st, Providers: []provider.Provider{m}, Retry: push.RetryPolicy{Base: time.Hour, Max: time.Minute}}, "retry.base"},
		// Base left to its default of 30s would exceed Max.
		{"max below default base", push.Config{Store: st, Providers: []provider.Provider{m}, Retry: push.RetryPolicy{Max: 10 * time.Second}}, "retry.max"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := push.New(tt.cfg)
			var fe *push.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
			assert.ErrorIs(t, err, push.ErrInvalid)
		})
	}
}

// TestNewNamesAnUnsetDefaultProvider: with two providers and neither of
// them Umeng, the error says that DefaultProvider is unset and what it
// fell back to (a new user read about a field never set).
func TestNewNamesAnUnsetDefaultProvider(t *testing.T) {
	st, _ := memstore.New(memstore.Config{})
	jp, _ := providertest.NewMock(providertest.MockConfig{Name: "jpush"})
	gt, _ := providertest.NewMock(providertest.MockConfig{Name: "getui"})
	_, err := push.New(push.Config{Store: st, Providers: []provider.Provider{jp, gt}})
	require.ErrorIs(t, err, push.ErrInvalid)
	assert.EqualError(t, err, `push: default_provider: unset, so "umeng", which is not among the providers [getui jpush]: `+
		`set DefaultProvider to one of them`)
	_, err = push.New(push.Config{Store: st, Providers: []provider.Provider{jp, gt}, DefaultProvider: "getui"})
	require.NoError(t, err)
}

func TestRegisterDeviceValidation(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	ok := push.Device{UserNum: "u1", UUID: "d1", Platform: "ios", PushToken: "tok"}
	tests := []struct {
		name  string
		mod   func(*push.Device)
		field string
	}{
		{"bad platform", func(d *push.Device) { d.Platform = "windows" }, "platform"},
		{"unknown push platform", func(d *push.Device) { d.PushPlatform = "jpush" }, "push_platform"},
		{"no user", func(d *push.Device) { d.UserNum = "" }, "user_num"},
		{"no uuid", func(d *push.Device) { d.UUID = " " }, "uuid"},
		{"tab in uuid", func(d *push.Device) { d.UUID = "d\t1" }, "uuid"},
		{"line break in uuid", func(d *push.Device) { d.UUID = "d\n1" }, "uuid"},
		{"zero-width space in uuid", func(d *push.Device) { d.UUID = "d\u200b1" }, "uuid"},
		{"line separator in uuid", func(d *push.Device) { d.UUID = "d\u20281" }, "uuid"},
		{"no-break space in uuid", func(d *push.Device) { d.UUID = "d\u00a01" }, "uuid"},
		{"ideographic space in uuid", func(d *push.Device) { d.UUID = "d\u30001" }, "uuid"},
		{"Hangul filler in uuid", func(d *push.Device) { d.UUID = "d\u31641" }, "uuid"},
		{"variation selector in uuid", func(d *push.Device) { d.UUID = "d\ufe0f1" }, "uuid"},
		{"Hangul filler in user_num", func(d *push.Device) { d.UserNum = "u\u31641" }, "user_num"},
		{"halfwidth Hangul filler in user_num", func(d *push.Device) { d.UserNum = "u\uffa01" }, "user_num"},
		{"variation selector in user_num", func(d *push.Device) { d.UserNum = "u1\ufe0f" }, "user_num"},
		{"variation selector first in user_num", func(d *push.Device) { d.UserNum = "\ufe0fu1" }, "user_num"},
		{"two variation selectors in user_num", func(d *push.Device) { d.UserNum = "李\ufe0f\ufe0f" }, "user_num"},
		{"emoji selector after a Han character", func(d *push.Device) { d.UserNum = "李\ufe0f" }, "user_num"},
		{"emoji selector after a Cyrillic letter", func(d *push.Device) { d.UserNum = "\u0430\ufe0f" }, "user_num"},
		{"emoji selector after a combining mark", func(d *push.Device) { d.UserNum = "e\u0301\ufe0f" }, "user_num"},
		{"emoji selector after the blank braille pattern", func(d *push.Device) { d.UserNum = "u\u2800\ufe0f" }, "user_num"},
		{"blank braille pattern in user_num", func(d *push.Device) { d.UserNum = "u1\u2800" }, "user_num"},
		{"Mongolian selector after a Han character", func(d *push.Device) { d.UserNum = "李\u180b" }, "user_num"},
		{"ideographic selector after a letter", func(d *push.Device) { d.UserNum = "u1\U000E0100" }, "user_num"},
		{"combining grapheme joiner in user_num", func(d *push.Device) { d.UserNum = "u\u034f1" }, "user_num"},
		{"supplementary variation selector in user_num", func(d *push.Device) { d.UserNum = "u1\U000E0100" }, "user_num"},
		{"line break in user_num", func(d *push.Device) { d.UserNum = "u\n1" }, "user_num"},
		{"no token", func(d *push.Device) { d.PushToken = "" }, "push_token"},
		{"comma in token", func(d *push.Device) { d.PushToken = "a,b" }, "push_token"},
		{"punctuation no vendor uses in token", func(d *push.Device) { d.PushToken = "bad-token!" }, "push_token"},
		{"non-ASCII token", func(d *push.Device) { d.PushToken = "tok推" }, "push_token"},
		{"quote in token", func(d *push.Device) { d.PushToken = `tok"` }, "push_token"},
		{"comma in user_num", func(d *push.Device) { d.UserNum = "a,b" }, "user_num"},
		{"space in user_num", func(d *push.Device) { d.UserNum = "a b" }, "user_num"},
		{"full-width comma in user_num", func(d *push.Device) { d.UserNum = "a，b" }, "user_num"},
		{"long name", func(d *push.Device) { d.Name = string(make([]rune, 256)) }, "name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := ok
			tt.mod(&d)
			_, err := f.svc.RegisterDevice(context.Background(), d)
			var fe *push.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
		})
	}
	for _, mod := range []func(*push.Device){
		func(d *push.Device) { d.Platform = strings.Repeat("x", 100000) },
		func(d *push.Device) { d.PushPlatform = strings.Repeat("x", 100000) },
	} {
		d := ok
		mod(&d)
		_, err := f.svc.RegisterDevice(context.Background(), d)
		require.Error(t, err)
		assert.Less(t, len(err.Error()), 300, "a huge value is not echoed whole")
	}
	page, err := f.store.ListTargets(context.Background(), registry.TargetQuery{UserNums: []string{"u1"}})
	require.NoError(t, err)
	assert.Empty(t, page, "a refused registration must write nothing")
	// A variation selector after a character it varies is taken: an
	// emoji's, a Mongolian letter's.
	for i, u := range []string{"李雷❤\ufe0f", "\u182a\u180b", "room1\ufe0f\u20e3", "葛\U000E0100", "≤\ufe00"} {
		_, err := f.svc.RegisterDevice(context.Background(), push.Device{UserNum: u, UUID: fmt.Sprintf("vs-%d\ufe0f", i), Platform: "ios", PushToken: fmt.Sprint("tok-vs-", i)})
		assert.ErrorContains(t, err, "uuid", "%q: a selector after an ASCII digit of the uuid", u)
		_, err = f.svc.RegisterDevice(context.Background(), push.Device{UserNum: u, UUID: fmt.Sprintf("vs-%d", i), Platform: "ios", PushToken: fmt.Sprint("tok-vs-", i)})
		assert.NoError(t, err, "%q", u)
	}
}

// TestAFieldTheStoreRefusesIsNamedOnce: a title or content longer than
// its column is a *FieldError saying so once ("push: record push message:
// push: title: …" said push twice), and nothing is recorded.
func TestAFieldTheStoreRefusesIsNamedOnce(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "tok")
	_, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: strings.Repeat("标", 300), Content: "c"})
	assert.EqualError(t, err, "push: title: is 300 characters, longer than 255")
	_, err = f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: strings.Repeat("x", 70000)})
	assert.EqualError(t, err, "push: content: is 70000 bytes, longer than 65535")
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "content", fe.Field)
	assert.Zero(t, f.mock.Calls())
	page, err := f.svc.ListPushMessages(t.Context(), push.PushMessageFilter{})
	require.NoError(t, err)
	assert.Empty(t, page.Messages, "nothing recorded")
}

// TestRegisterMatchesPlatformsInAnyCase: "iOS" and "Umeng", as clients
// send them, were refused 400; they are stored as the providers spell
// them, and the device is pushed to.
func TestRegisterMatchesPlatformsInAnyCase(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	reg, err := f.svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "iOS", PushPlatform: " Umeng ", PushToken: "tok"})
	require.NoError(t, err)
	d, err := f.store.GetDevice(t.Context(), reg.DeviceID)
	require.NoError(t, err)
	assert.Equal(t, "ios", d.Platform)
	assert.Equal(t, "umeng", d.PushPlatform)
	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Accepted())
}

func TestRegisterMovesDeviceToNewUserAndLogout(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	a := f.register(t, "alice", "dev-1", "ios", "tok-1")
	b := f.register(t, "bob", "dev-1", "ios", "tok-1")
	assert.Equal(t, "dev-1", b.DeviceUUID)
	assert.Equal(t, a.DeviceID, b.DeviceID)
	assert.NotEqual(t, a.UserDeviceID, b.UserDeviceID)

	_, err := f.svc.Push(ctx, push.Message{UserNums: []string{"alice"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, push.ErrNoDevices, "alice was logged out by bob's login")

	err = f.svc.Logout(ctx, "alice", b.UserDeviceID)
	require.ErrorIs(t, err, registry.ErrNotOwner)
	err = f.svc.Logout(ctx, "bob", 99999)
	require.ErrorIs(t, err, registry.ErrNotFound)
	err = f.svc.Logout(ctx, "bob", 0)
	require.ErrorIs(t, err, push.ErrInvalid)

	require.NoError(t, f.svc.Logout(ctx, "bob", b.UserDeviceID))
	require.NoError(t, f.svc.Logout(ctx, "bob", b.UserDeviceID), "logging out twice succeeds")
	_, err = f.svc.Push(ctx, push.Message{UserNums: []string{"bob"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, push.ErrNoDevices)
	assert.Zero(t, f.mock.Calls())
}

func TestPushChunksByProviderAndPlatform(t *testing.T) {
	ctx := context.Background()
	caps := provider.Capabilities{MaxTokens: 2, Audiences: []provider.AudienceKind{provider.AudienceTokens, provider.AudienceBroadcast}}
	f := newFixture(t, providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{
		provider.IOS: caps, provider.Android: caps}}, nil)
	for i := range 5 {
		f.register(t, fmt.Sprintf("u%d", i), fmt.Sprintf("ios-%d", i), "ios", fmt.Sprintf("itok%d", i))
	}
	f.register(t, "u0", "and-0", "android", "atok0")

	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u0", "u1", "u2", "u3", "u4", "u0"}, Title: "标题 🎉",
		Content: "内容", Extra: map[string]string{"order": "42"}})
	require.NoError(t, err)
	assert.Equal(t, 6, res.Devices)
	require.Len(t, res.Deliveries, 4, "3 iOS chunks of at most 2 tokens, 1 Android chunk")
	assert.Equal(t, 4, res.Accepted())

	reqs := f.mock.Requests()
	require.Len(t, reqs, 4)
	keys := map[string]bool{}
	perPlatform := map[provider.Platform]int{}
	for _, r := range reqs {
		assert.LessOrEqual(t, len(r.Audience.Tokens), 2)
		assert.Equal(t, "标题 🎉", r.Notification.Title)
		assert.Equal(t, map[string]string{"order": "42"}, r.Notification.Extras)
		assert.False(t, keys[r.IdempotencyKey], "idempotency keys are unique per delivery")
		keys[r.IdempotencyKey] = true
		perPlatform[r.Platform] += len(r.Audience.Tokens)
	}
	assert.Equal(t, map[provider.Platform]int{provider.IOS: 5, provider.Android: 1}, perPlatform)

	st, err := f.svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, string(provider.StateAccepted), st.IOSStatus)
	assert.Equal(t, string(provider.StateAccepted), st.AndroidStatus)
	assert.Equal(t, registry.RetSuccess, st.IOS.Ret)
	assert.Equal(t, "itok0,itok1,itok2,itok3,itok4", st.IOS.DeviceTokens)
	assert.Equal(t, "atok0", st.Android.DeviceTokens)
}

func TestPushIsDurableBeforeNetwork(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok")
	var seen registry.PushMessage
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		m, err := f.store.GetPushMessage(ctx, 1)
		if err != nil {
			return nil, err
		}
		seen = m
		return &provider.Receipt{ID: "x1", Provider: "umeng", Platform: r.Platform}, nil
	})
	_, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, "tok", seen.Android.DeviceTokens, "the push row was committed before the vendor call")
	assert.Equal(t, registry.StatusPending, seen.Android.Status)
}

func TestPushErrorKindsDriveBehaviour(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok1")

	// InvalidToken: the token is disabled and skipped until re-registration.
	f.mock.FailNext(1, f.mock.Err(provider.InvalidToken, "5000"))
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Failed())
	assert.ErrorIs(t, res.FirstError(), provider.InvalidToken)
	_, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, push.ErrNoDevices)
	assert.EqualError(t, err, "push: no active device for the users: 1 active device(s) with a disabled token "+
		"(0 registered by another device since, 1 reported invalid by the vendor; registering the device again enables its token)")
	f.register(t, "u1", "d1", "android", "tok2")

	// Auth: failed at once with the code recorded.
	f.mock.FailNext(1, f.mock.Err(provider.Auth, "2027"))
	res, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	ds, err := f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, registry.DeliveryFailed, ds[0].State)
	assert.Equal(t, "2027", ds[0].ErrorCode)
	assert.Equal(t, "auth", ds[0].ErrorKind)
	st, _ := f.svc.PushStatus(ctx, res.PushMessageID)
	assert.Equal(t, registry.RetFail, st.Android.Ret)

	// RateLimited: rescheduled after RetryAfter without spending an attempt.
	rl := f.mock.Err(provider.RateLimited, "2050")
	rl.RetryAfter = 5 * time.Minute
	f.mock.FailNext(1, rl)
	res, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	ds, _ = f.store.ListDeliveries(ctx, res.PushMessageID)
	assert.Equal(t, registry.DeliveryPending, ds[0].State)
	assert.Equal(t, 0, ds[0].Attempts)
	assert.Equal(t, f.clk.Now().Add(5*time.Minute), ds[0].NextAttemptAt)
}

func TestRetryPendingUsesBackoffAndSameKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "tok1")
	f.mock.FailNext(3, f.mock.Err(provider.Temporary, ""))

	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Pending())
	ds, _ := f.store.ListDeliveries(ctx, res.PushMessageID)
	assert.Equal(t, f.clk.Now().Add(30*time.Second), ds[0].NextAttemptAt, "first backoff is Base")

	n, err := f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n, "not due before the backoff")

	f.clk.Advance(30 * time.Second)
	n, err = f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ds, _ = f.store.ListDeliveries(ctx, res.PushMessageID)
	assert.Equal(t, 2, ds[0].Attempts)
	assert.Equal(t, f.clk.Now().Add(time.Minute), ds[0].NextAttemptAt, "second backoff doubles")

	f.clk.Advance(time.Minute)
	_, err = f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	ds, _ = f.store.ListDeliveries(ctx, res.PushMessageID)
	assert.Equal(t, registry.DeliveryFailed, ds[0].State, "MaxAttempts 3 spent")
	assert.Contains(t, ds[0].Response, "attempts exhausted")

	reqs := f.mock.Requests()
	require.Len(t, reqs, 3)
	for _, r := range reqs {
		assert.Equal(t, reqs[0].IdempotencyKey, r.IdempotencyKey, "every retry carries the same key")
	}
}

func TestCrashedSenderIsFinishedAfterLease(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.Lease = time.Minute; c.SendTimeout = 50 * time.Millisecond })
	f.register(t, "u1", "d1", "ios", "tok1")
	// A vendor that stalls past SendTimeout: the answer is lost. (The
	// caller's ctx ending too does not cut the call short.)
	stalled, cancel := context.WithCancel(ctx)
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		cancel()
		<-ctx.Done()
		return nil, ctx.Err()
	})
	res, err := f.svc.Push(stalled, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Pending(), "the outcome was recorded although the caller's ctx ended")
	assert.ErrorIs(t, res.Deliveries[0].Err, provider.Indeterminate)

	f.mock.SetSendFunc(nil)
	f.clk.Advance(time.Hour)
	n, err := f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	st, _ := f.svc.PushStatus(ctx, res.PushMessageID)
	assert.Equal(t, registry.RetSuccess, st.IOS.Ret)
	reqs := f.mock.Requests()
	require.Len(t, reqs, 2)
	assert.Equal(t, reqs[0].IdempotencyKey, reqs[1].IdempotencyKey)
}

func TestPollReceiptsUntilFinal(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceBroadcast}}, func(c *push.Config) {
		c.PollInterval = time.Minute
	})
	res, err := f.svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	id := res.Deliveries[0].ReceiptID
	st, _ := f.svc.PushStatus(ctx, res.PushMessageID)
	assert.Equal(t, "queued", st.AndroidStatus)
	assert.Empty(t, st.IOSStatus)
	m, _ := f.store.GetPushMessage(ctx, res.PushMessageID)
	assert.Equal(t, registry.PushTypeBroadcast, m.PushType)

	n, err := f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n, "not due before PollInterval")

	f.mock.SetStatus(id, provider.Status{State: provider.StateSending})
	f.clk.Advance(time.Minute)
	n, err = f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	st, _ = f.svc.PushStatus(ctx, res.PushMessageID)
	assert.Equal(t, "sending", st.AndroidStatus)

	f.mock.SetStatus(id, provider.Status{State: provider.StateDone})
	f.clk.Advance(time.Minute)
	_, err = f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	st, _ = f.svc.PushStatus(ctx, res.PushMessageID)
	assert.Equal(t, "done", st.AndroidStatus)

	f.clk.Advance(time.Minute)
	n, _ = f.svc.PollReceipts(ctx, 10)
	assert.Zero(t, n, "a final receipt is not polled again")
}

func TestPollingStopsAtExpiry(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceBroadcast}}, nil)
	res, err := f.svc.Broadcast(ctx, push.Broadcast{Platform: "ios", Title: "t", Content: "c", ExpireAt: f.clk.Now().Add(90 * time.Second)})
	require.NoError(t, err)
	f.clk.Advance(2 * time.Minute)
	_, err = f.svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	st, _ := f.svc.PushStatus(ctx, res.PushMessageID)
	assert.Equal(t, string(provider.StateExpired), st.IOSStatus)
}

func TestPushDedupeKey(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "tok1")
	m := push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: "order#7"}
	r1, err := f.svc.Push(ctx, m)
	require.NoError(t, err)
	r2, err := f.svc.Push(ctx, m)
	require.NoError(t, err)
	assert.True(t, r2.Duplicate)
	assert.Equal(t, r1.PushMessageID, r2.PushMessageID)
	assert.Equal(t, 1, f.mock.Calls())
}

// TestPushDedupeKeyOfAFailedPushSaysWhy: the Result of a push found by its
// dedupe key carries each failed delivery's recorded error, as the call
// that sent it did.
// TestNoDeviceSaysATokenWasTakenOver: a user whose only phone's token
// another device registered since has no target, and the error says so.
func TestNoDeviceSaysATokenWasTakenOver(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "r1", "old-phone", "android", "shared-token")
	f.register(t, "r2", "new-phone", "android", "shared-token")
	_, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"r1"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, push.ErrNoDevices)
	assert.Contains(t, err.Error(), "1 active device(s) with a disabled token (1 registered by another device since, 0 reported invalid")
	assert.Zero(t, f.mock.Calls())

	// r3 registers r2's phone: r2 is logged out of it.
	f.register(t, "r3", "new-phone", "android", "shared-token")
	_, err = f.svc.Push(t.Context(), push.Message{UserNums: []string{"r2"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, push.ErrNoDevices)
	assert.EqualError(t, err, "push: no active device for the users: 1 device(s) the user(s) are logged out of (a logout, or another user registered the device since)")
}

func TestPushDedupeKeyOfAFailedPushSaysWhy(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "tok1")
	f.mock.FailNext(1, &provider.Error{Provider: "umeng", Op: "send", Kind: provider.Auth, Code: "2015", Message: "bad_app_key"})
	m := push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: "order#8"}
	r1, err := f.svc.Push(ctx, m)
	require.NoError(t, err)
	require.ErrorIs(t, r1.FirstError(), provider.Auth)
	r2, err := f.svc.Push(ctx, m)
	require.NoError(t, err)
	require.True(t, r2.Duplicate)
	err = r2.FirstError()
	require.ErrorIs(t, err, provider.Auth)
	assert.Equal(t, "2015", provider.CodeOf(err))
	assert.Contains(t, err.Error(), "bad_app_key")
	assert.Equal(t, 1, f.mock.Calls())
}

func TestPushValidation(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	long := make([]byte, 300)
	for i := range long {
		long[i] = 'x'
	}
	tests := []struct {
		name  string
		m     push.Message
		field string
	}{
		{"no users", push.Message{Title: "t", Content: "c"}, "user_num"},
		{"blank users", push.Message{UserNums: []string{" ", ""}, Title: "t", Content: "c"}, "user_num"},
		{"no title", push.Message{UserNums: []string{"u"}, Content: "c"}, "title"},
		{"no content", push.Message{UserNums: []string{"u"}, Title: "t"}, "content"},
		{"long title", push.Message{UserNums: []string{"u"}, Title: string(long), Content: "c"}, "title"},
		{"long extra", push.Message{UserNums: []string{"u"}, Title: "t", Content: "c", Extra: map[string]string{"k": string(long)}}, "extra"},
		{"empty extra key", push.Message{UserNums: []string{"u"}, Title: "t", Content: "c", Extra: map[string]string{"": "v"}}, "extra"},
		// Encoded, both keys would become "k\uFFFD": one value lost.
		{"extra keys not UTF-8", push.Message{UserNums: []string{"u"}, Title: "t", Content: "c", Extra: map[string]string{"k\xff": "1", "k\xfe": "2"}}, "extra"},
		{"extra value not UTF-8", push.Message{UserNums: []string{"u"}, Title: "t", Content: "c", Extra: map[string]string{"k": "v\xff"}}, "extra"},
	}
	f.register(t, "u", "d", "ios", "tok")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := f.svc.Push(context.Background(), tt.m)
			var fe *push.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, tt.field, fe.Field)
		})
	}
	assert.Zero(t, f.mock.Calls())
	_, err := f.svc.PushStatus(context.Background(), 1)
	assert.ErrorIs(t, err, registry.ErrNotFound, "nothing was recorded")
}

func TestBroadcastValidation(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	_, err := f.svc.Broadcast(context.Background(), push.Broadcast{Platform: "web", Title: "t", Content: "c"})
	assert.ErrorIs(t, err, push.ErrInvalid)
	_, err = f.svc.Broadcast(context.Background(), push.Broadcast{Platform: "ios", Provider: "jpush", Title: "t", Content: "c"})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "provider", fe.Field)
}

func TestBackoff(t *testing.T) {
	p := push.RetryPolicy{Base: time.Second, Max: 10 * time.Second, Jitter: -1}
	for attempt, want := range map[int]time.Duration{1: time.Second, 2: 2 * time.Second, 3: 4 * time.Second, 4: 8 * time.Second, 5: 10 * time.Second, 50: 10 * time.Second} {
		assert.Equal(t, want, p.Backoff(attempt, 0), "attempt %d", attempt)
	}
	assert.Equal(t, time.Minute, p.Backoff(1, time.Minute), "Retry-After wins when longer")
	j := push.RetryPolicy{Base: 10 * time.Second, Jitter: 0.5, Rand: func() float64 { return 1 }}
	assert.Equal(t, 5*time.Second, j.Backoff(1, 0), "jitter takes up to half off")
	for _, r := range []float64{7, -3, math.NaN(), math.Inf(1)} {
		bad := push.RetryPolicy{Base: 10 * time.Second, Jitter: 0.5, Rand: func() float64 { return r }}
		got := bad.Backoff(1, 0)
		assert.True(t, got >= 5*time.Second && got <= 10*time.Second, "Rand %v: a faulty Rand stays within the jitter, got %v", r, got)
	}
	assert.Equal(t, 2*time.Hour, push.RetryPolicy{Base: 2 * time.Hour, Jitter: -1}.Backoff(1, 0), "the default cap never undercuts Base")
	assert.True(t, push.RetryPolicy{MaxAttempts: 2}.Exhausted(2))
	assert.False(t, push.RetryPolicy{MaxAttempts: 2}.Exhausted(1))
}

func TestParseExtra(t *testing.T) {
	assert.Nil(t, push.ParseExtra(""))
	assert.Equal(t, map[string]string{"a": "1", "b": "x", "c": `{"d":true}`}, push.ParseExtra(`{"a":1,"b":"x","c":{"d":true}}`))
	assert.Equal(t, map[string]string{"extra": "order=42"}, push.ParseExtra("order=42"))
	assert.Equal(t, map[string]string{"extra": "[1]"}, push.ParseExtra("[1]"))
}

// TestRetryPendingLeavesDeliveriesAnotherInstanceTook: four deliveries
// are due and each call takes a whole SendTimeout; with one send slot the
// pass claims two first, and the other two once the second delivery has
// its slot. The second pair's lease runs out while the
// third call is in flight, and another instance claims what is due then:
// only the fourth, the third's lease having been renewed before its call.
// The first instance then leaves the fourth to its new holder instead of
// sending it too.
func TestRetryPendingLeavesDeliveriesAnotherInstanceTook(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.SendConcurrency = 1
		c.Lease = time.Minute
		c.SendTimeout = 30 * time.Second
	})
	users := []string{"u1", "u2", "u3", "u4"}
	for _, u := range users {
		f.register(t, u, "d"+u, "ios", "tok"+u)
	}
	f.mock.FailNext(len(users), f.mock.Err(provider.Temporary, ""))
	var ids []int64
	for _, u := range users {
		res, err := f.svc.Push(ctx, push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
		ids = append(ids, res.PushMessageID)
	}
	f.clk.Advance(time.Hour)
	var taken []registry.Delivery
	calls := 0
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		calls++
		switch calls {
		case 2:
			// A call's slot is given back when it returns, before its
			// outcome is written: wait for that write (it lands within
			// WriteTimeout) and for the second claim before the clock
			// moves on.
			waitSent(t, f.store, ids[0])
			waitClaimed(t, f.store, ids[3])
		case 3:
			waitSent(t, f.store, ids[1])
		}
		f.clk.Advance(30 * time.Second) // a whole SendTimeout
		if calls == 3 {
			var err error
			taken, err = f.store.ClaimDeliveries(ctx, registry.ClaimParams{Now: f.clk.Now(), Limit: 10, Lease: time.Minute, Kind: registry.ClaimSend})
			if err != nil {
				return nil, err
			}
		}
		return &provider.Receipt{ID: "x", Provider: "umeng", Platform: r.Platform}, nil
	})
	n, err := f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Equal(t, 4, n, "all four claimed")
	require.Len(t, taken, 1, "the other instance took only the one not yet sent")
	assert.Equal(t, ids[3], taken[0].PushMessageID)
	assert.Equal(t, 3, calls, "the first instance sent three; the fourth is the new holder's")
	ds, err := f.store.ListDeliveries(ctx, taken[0].PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, taken[0].ClaimToken, ds[0].ClaimToken, "left untouched for its new holder")
	assert.Equal(t, registry.DeliveryPending, ds[0].State)
}

// waitClaimed waits until push id's one delivery is claimed.
func waitClaimed(t *testing.T, st registry.Store, id int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		ds, err := st.ListDeliveries(context.Background(), id)
		if err == nil && len(ds) == 1 && ds[0].ClaimToken != "" {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("push %d's delivery was not claimed: %v %v", id, ds, err)
			return
		}
	}
}

// TestRetryPendingStoppedBeforeItsClaimsLogsNoFailure: a pass whose ctx
// ended before it started claims nothing, and says so as a stop (its
// error is the ctx's), not as a failure in the log.
func TestRetryPendingStoppedBeforeItsClaimsLogsNoFailure(t *testing.T) {
	logs := &syncbuf.Buffer{}
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.Logger = slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
	})
	f.register(t, "u1", "d1", "ios", "tok1")
	f.mock.FailNext(1, f.mock.Err(provider.Temporary, ""))
	_, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	f.clk.Advance(time.Hour)
	before := len(logs.String())
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	n, err := f.svc.RetryPending(ctx, 10)
	require.ErrorIs(t, err, context.Canceled)
	assert.Zero(t, n)
	assert.Empty(t, logs.String()[before:], "a stop is not logged as a failure")
	assert.Equal(t, 1, f.mock.Calls(), "nothing sent")
	n, err = f.svc.RetryPending(context.Background(), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "the next pass claims it")
}

// waitSent waits, in real time, for the outcome of the one delivery of
// the push id to be recorded.
func waitSent(t *testing.T, st registry.Store, id int64) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		ds, err := st.ListDeliveries(context.Background(), id)
		if err == nil && len(ds) == 1 && ds[0].State != registry.DeliveryPending {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("the outcome of push %d's delivery was not recorded: %v %v", id, ds, err)
			return
		}
	}
}

// TestRetryPendingRenewsAnExpiredLeaseNobodyTook: a batch outlives its
// lease, but no other instance claimed the rest: the renewal proves it, and
// the pass sends them all. (The pass is limited to the two, so that it
// makes no second claim while the calls jump the clock further than any
// call bounded by SendTimeout could.)
func TestRetryPendingRenewsAnExpiredLeaseNobodyTook(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.SendConcurrency = 1
		c.Lease = time.Minute
		c.SendTimeout = 30 * time.Second
	})
	f.register(t, "u1", "d1", "ios", "tok1")
	f.register(t, "u2", "d2", "ios", "tok2")
	f.mock.FailNext(2, f.mock.Err(provider.Temporary, ""))
	for _, u := range []string{"u1", "u2"} {
		_, err := f.svc.Push(ctx, push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
	}
	f.clk.Advance(time.Hour)
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		f.clk.Advance(2 * time.Minute) // longer than the lease
		return &provider.Receipt{ID: "x", Provider: "umeng", Platform: r.Platform}, nil
	})
	n, err := f.svc.RetryPending(ctx, 2)
	require.NoError(t, err)
	assert.Equal(t, 2, n)
	assert.Equal(t, 4, f.mock.Calls(), "both retried in this pass")
	n, err = f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n)
}

// TestPushRenewsTheLeaseOfEachCall: a slow vendor eats the lease the
// deliveries were created with. Each delivery's claim is renewed just
// before its call, so the Push call sends every one of them itself, each
// exactly once, and no lease runs out while its call is in flight.
func TestPushRenewsTheLeaseOfEachCall(t *testing.T) {
	ctx := context.Background()
	caps := provider.Capabilities{MaxTokens: 1, Audiences: []provider.AudienceKind{provider.AudienceTokens}}
	f := newFixture(t, providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{provider.IOS: caps, provider.Android: caps}},
		func(c *push.Config) { c.SendConcurrency = 1; c.Lease = time.Minute; c.SendTimeout = 30 * time.Second })
	for i := range 3 {
		f.register(t, fmt.Sprintf("u%d", i), fmt.Sprintf("d%d", i), "ios", fmt.Sprintf("tok%d", i))
	}
	var leaseLeft []time.Duration // of each delivery, when its slow call returns
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		f.clk.Advance(45 * time.Second) // a slow vendor eats most of a lease
		ds, err := f.store.ListDeliveries(ctx, 1)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.IdempotencyKey == r.IdempotencyKey && d.LeaseUntil != nil {
				leaseLeft = append(leaseLeft, d.LeaseUntil.Sub(f.clk.Now()))
			}
		}
		return &provider.Receipt{ID: "x", Provider: "umeng", Platform: r.Platform}, nil
	})
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u0", "u1", "u2"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 3)
	assert.Equal(t, 3, res.Accepted(), "all sent by the Push call")
	for _, d := range res.Deliveries {
		assert.False(t, d.Deferred)
	}
	require.Len(t, leaseLeft, 3)
	for i, left := range leaseLeft {
		assert.Positive(t, left, "delivery %d was still held when its call returned", i)
	}
	n, err := f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Zero(t, n, "nothing left for the next pass")
	sent := map[string]int{}
	for _, r := range f.mock.Requests() {
		sent[r.Audience.Tokens[0]]++
	}
	assert.Equal(t, map[string]int{"tok0": 1, "tok1": 1, "tok2": 1}, sent, "each chunk sent exactly once")
	ds, err := f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	for _, d := range ds {
		assert.Equal(t, 1, d.Attempts)
	}
	st, err := f.svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetSuccess, st.IOS.Ret)
}

func TestInvalidTokenInAChunkIsFoundByHalving(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	for i := range 3 {
		f.register(t, fmt.Sprintf("u%d", i), fmt.Sprintf("d%d", i), "android", fmt.Sprintf("tok%d", i))
	}
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		for _, tok := range r.Audience.Tokens {
			if tok == "tok1" {
				return nil, f.mock.Err(provider.InvalidToken, "4020") // the vendor names no token
			}
		}
		return &provider.Receipt{ID: "ok-" + r.IdempotencyKey, Provider: "umeng", Platform: r.Platform}, nil
	})
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u0", "u1", "u2"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	// [tok0 tok1 tok2] refused → [tok0 tok1] refused, [tok2] accepted →
	// [tok0] accepted, [tok1] refused: three deliveries in the end.
	require.Len(t, res.Deliveries, 3, "the chunk of 3 became [tok0], [tok1] and [tok2]")
	assert.Equal(t, 2, res.Accepted())
	assert.Equal(t, 1, res.Failed())
	reqs := f.mock.Requests()
	require.Len(t, reqs, 5, "the chunk, its two halves, and the halves of the refused half")
	var sizes []int
	for _, r := range reqs[1:] {
		sizes = append(sizes, len(r.Audience.Tokens))
		assert.Regexp(t, `^`+regexp.QuoteMeta(reqs[0].IdempotencyKey)+`(\.\d)+$`, r.IdempotencyKey, "keys derive from the chunk's")
	}
	assert.ElementsMatch(t, []int{2, 1, 1, 1}, sizes)
	st, err := f.svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	// Listed in the order of the deliveries: the parts of a later split
	// come after those of an earlier one.
	assert.ElementsMatch(t, []string{"tok0", "tok1", "tok2"}, strings.Split(st.Android.DeviceTokens, ","), "each token listed once")
	assert.Equal(t, registry.RetPartial, st.Android.Ret)
	targets, err := f.store.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"u0", "u1", "u2"}})
	require.NoError(t, err)
	require.Len(t, targets, 2, "only the dead token was disabled")
	for _, tg := range targets {
		assert.NotEqual(t, "tok1", tg.Token)
	}
}

func TestVendorTextIsStoredSafely(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "tok1")
	f.mock.Enqueue(providertest.Result{Receipt: &provider.Receipt{ID: "id-\xff", Provider: "umeng", Platform: provider.IOS,
		Raw: []byte("{\"msg\":\"\xb3\xc9\xb9\xa6\"}")}}) // GBK bytes, not UTF-8
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1, res.Accepted())
	ds, err := f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.DeliveryDone, ds[0].State, "the outcome was recorded, not refused")
	assert.True(t, utf8.ValidString(ds[0].Response))
	assert.True(t, utf8.ValidString(ds[0].ReceiptID))
	assert.Empty(t, ds[0].ClaimToken)
}

func TestPushTrimsAndChecksInput(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	_, err := f.svc.RegisterDevice(ctx, push.Device{UserNum: " u9 ", UUID: " d9\n", Platform: " ios", PushToken: "tok9 "})
	require.NoError(t, err)
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u9"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Devices, "user_num, uuid, platform and token are trimmed on both paths")
	assert.Equal(t, []string{"tok9"}, f.mock.Requests()[0].Audience.Tokens)

	_, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u9"}, Title: "t", Content: "c", ExpireAt: f.clk.Now().Add(-time.Second)})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "expire_at", fe.Field)
	_, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u9"}, Title: "t", Content: "c", Extra: map[string]string{"a": "b"}, RawExtra: `{"a":"b"}`})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "extra", fe.Field)
	assert.Equal(t, 1, f.mock.Calls(), "refused input sent nothing")

	// An extra of URLs keeps its length: no HTML escaping.
	url := "https://m.example.com/goods?id=42&from=push&utm=a&b=c"
	res, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u9"}, Title: "t", Content: "c", Extra: map[string]string{"url": url}})
	require.NoError(t, err)
	m, err := f.store.GetPushMessage(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, `{"url":"`+url+`"}`, m.Extra)

	raw := `{"id":42,"url":"` + url + `"}`
	res, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u9"}, Title: "t", Content: "c", RawExtra: raw})
	require.NoError(t, err)
	m, err = f.store.GetPushMessage(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, raw, m.Extra, "RawExtra is stored as given")
	assert.Equal(t, map[string]string{"id": "42", "url": url}, f.mock.Requests()[2].Notification.Extras)
}

func TestLeaseMustExceedSendTimeout(t *testing.T) {
	st, _ := memstore.New(memstore.Config{})
	m, _ := providertest.NewMock(providertest.MockConfig{})
	_, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Lease: time.Minute, SendTimeout: time.Minute})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "lease", fe.Field)
}

func TestPollHonoursRetryAfter(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{Pollable: []provider.AudienceKind{provider.AudienceBroadcast}}, func(c *push.Config) {
		c.PollInterval = time.Minute
	})
	res, err := f.svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "c"})
	require.NoError(t, err)
	m := &rateLimitedPoller{Mock: f.mock, wait: 10 * time.Minute}
	f2svc, err := push.New(push.Config{Store: f.store, Providers: []provider.Provider{m}, Now: f.clk.Now, PollInterval: time.Minute})
	require.NoError(t, err)
	f.clk.Advance(time.Minute)
	n, err := f2svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	require.Equal(t, 1, n)
	ds, err := f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, f.clk.Now().Add(10*time.Minute), ds[0].NextAttemptAt, "the vendor's Retry-After, not the poll interval")
}

// rateLimitedPoller answers every status query with a rate limit.
type rateLimitedPoller struct {
	*providertest.Mock
	wait time.Duration
}

func (p *rateLimitedPoller) Status(ctx context.Context, pl provider.Platform, id string) (*provider.Status, error) {
	e := p.Err(provider.RateLimited, "2050")
	e.Op, e.RetryAfter = "status", p.wait
	return nil, e
}

func TestSplitSharesSendConcurrency(t *testing.T) {
	ctx := context.Background()
	caps := provider.Capabilities{MaxTokens: 4, Audiences: []provider.AudienceKind{provider.AudienceTokens}}
	f := newFixture(t, providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{provider.IOS: caps, provider.Android: caps}},
		func(c *push.Config) { c.SendConcurrency = 2 })
	var users []string
	for i := range 8 {
		u := fmt.Sprintf("u%d", i)
		users = append(users, u)
		f.register(t, u, "d"+u, "android", "tok"+u)
	}
	var mu sync.Mutex
	inFlight, peak := 0, 0
	release := make(chan struct{})
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		select { // overlap the calls as much as the Service allows
		case <-release:
		case <-time.After(20 * time.Millisecond):
		}
		mu.Lock()
		inFlight--
		mu.Unlock()
		if len(r.Audience.Tokens) > 1 {
			return nil, f.mock.Err(provider.InvalidToken, "4020")
		}
		return &provider.Receipt{ID: r.IdempotencyKey, Provider: "umeng", Platform: r.Platform}, nil
	})
	res, err := f.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c"})
	close(release)
	require.NoError(t, err)
	assert.Equal(t, 8, res.Accepted(), "two chunks of 4, each split into 4 singles")
	assert.LessOrEqual(t, peak, 2, "splits share the push's SendConcurrency")

	dup, err := f.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c", DedupeKey: "same"})
	require.NoError(t, err)
	again, err := f.svc.Push(ctx, push.Message{UserNums: users, Title: "t", Content: "c", DedupeKey: "same"})
	require.NoError(t, err)
	assert.True(t, again.Duplicate)
	assert.Equal(t, dup.Devices, again.Devices, "split deliveries are not counted twice")
	assert.Len(t, again.Deliveries, len(dup.Deliveries))
}

func TestSendTimeoutBoundsTheVendorCall(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.SendTimeout = 50 * time.Millisecond; c.Lease = time.Minute })
	f.register(t, "u1", "d1", "ios", "tok1")
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		_, ok := ctx.Deadline()
		if !ok {
			return nil, errors.New("no deadline")
		}
		<-ctx.Done() // a vendor that never answers
		return nil, ctx.Err()
	})
	res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	assert.Equal(t, registry.DeliveryPending, res.Deliveries[0].State)
	assert.ErrorIs(t, res.Deliveries[0].Err, provider.Indeterminate, "cut off by SendTimeout, retried later")
}

func TestPushSkipsUnusableLegacyRows(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db, _ := dbtest.Open(t, sqlstore.DialectSQLite)
	st, err := sqlstore.New(db, sqlstore.Options{Dialect: sqlstore.DialectSQLite, Now: clk.Now})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(ctx))
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Now: clk.Now})
	require.NoError(t, err)
	// Rows an older system wrote: odd spellings, a padded token, a token
	// no vendor takes, a platform nobody pushes to.
	for i, row := range []struct{ platform, token string }{
		{"iOS", "itok "}, {"Android", "a,b"}, {"windows", "wtok"}, {" android", "atok"},
	} {
		res, err := db.ExecContext(ctx, `INSERT INTO sys_devices (name, platform, uuid, push_device_token, push_platform, created_at, updated_at)
			VALUES ('legacy', ?, ?, ?, 'umeng', '2020-01-01 00:00:00', '2020-01-01 00:00:00')`, row.platform, fmt.Sprint("legacy-", i), row.token)
		require.NoError(t, err)
		id, err := res.LastInsertId()
		require.NoError(t, err)
		_, err = db.ExecContext(ctx, `INSERT INTO sys_user_devices (user_num, device_id, state, created_at, updated_at)
			VALUES ('old', ?, 1, '2020-01-01 00:00:00', '2020-01-01 00:00:00')`, id)
		require.NoError(t, err)
	}
	_, err = svc.RegisterDevice(ctx, push.Device{UserNum: "new", UUID: "n1", Platform: "ios", PushToken: "ntok"})
	require.NoError(t, err)

	res, err := svc.Push(ctx, push.Message{UserNums: []string{"old", "new"}, Title: "t", Content: "c"})
	require.NoError(t, err, "one unusable legacy row must not fail the push for everyone")
	assert.Equal(t, 3, res.Devices, "itok (trimmed), atok and ntok")
	assert.Equal(t, 1, res.Skipped, "the token with a comma")
	got := map[string][]string{}
	for _, r := range m.Requests() {
		got[string(r.Platform)] = append(got[string(r.Platform)], r.Audience.Tokens...)
	}
	assert.ElementsMatch(t, []string{"itok", "ntok"}, got["ios"])
	assert.Equal(t, []string{"atok"}, got["android"])
}

// TestProviderServingOnePlatform: a provider configured for one platform
// only (an Umeng client with the Android app alone) is accepted, and the
// devices of the other platform are skipped and counted, not failed.
func TestProviderServingOnePlatform(t *testing.T) {
	st, _ := memstore.New(memstore.Config{})
	um, err := umeng.New(umeng.Config{Android: umeng.App{AppKey: "android-appkey-000000000", AppMasterSecret: "android-secret"}})
	require.NoError(t, err)
	_, err = push.New(push.Config{Store: st, Providers: []provider.Provider{um}})
	require.NoError(t, err, "an Android-only Umeng client is a valid provider")

	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	_, err = push.New(push.Config{Store: st, Providers: []provider.Provider{onePlatform{m, ""}}})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe, "a provider that serves no platform")
	assert.Equal(t, "providers", fe.Field)

	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.Providers = []provider.Provider{onePlatform{c.Providers[0].(*providertest.Mock), provider.Android}}
	})
	// Registering an iPhone is refused: no push could reach it.
	_, err = f.svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "iphone", Platform: "ios", PushToken: "itok"})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "platform", fe.Field)
	assert.EqualError(t, err, `push: platform: provider "umeng" does not serve "ios" devices here (it serves [android])`)
	// One registered before (the iOS app was configured then) is skipped.
	iphone := func(user, uuid, token string) {
		_, _, err := f.store.RegisterDevice(t.Context(), &registry.Device{UUID: uuid, Platform: "ios", PushToken: token, PushPlatform: "umeng"}, user)
		require.NoError(t, err)
	}
	iphone("u1", "iphone", "itok")
	f.register(t, "u1", "mate", "android", "atok")
	res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1, res.Devices)
	assert.Equal(t, 1, res.Skipped, "the iPhone: no provider serves iOS")
	assert.Equal(t, 1, res.Accepted())
	reqs := f.mock.Requests()
	require.Len(t, reqs, 1)
	assert.Equal(t, provider.Android, reqs[0].Platform)

	iphone("u2", "ipad", "itok2")
	_, err = f.svc.Push(t.Context(), push.Message{UserNums: []string{"u2"}, Title: "t", Content: "c"})
	assert.ErrorIs(t, err, push.ErrNoDevices, "u2 has only an iOS device")
	assert.EqualError(t, err, `push: no active device for the users: 1 active device skipped: 1 on "ios" through "umeng", `+
		`which does not serve "ios" here (configured providers: umeng; a device row without a push_platform is "umeng")`)
	_, err = f.svc.Broadcast(t.Context(), push.Broadcast{Platform: "ios", Title: "t", Content: "c"})
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "platform", fe.Field)
}

// TestRetryAfterNeverOutlivesTheExpiry: a vendor asking to be called again
// after the push expires ends the delivery as expired, instead of leaving
// it pending for as long as the vendor said.
func TestRetryAfterNeverOutlivesTheExpiry(t *testing.T) {
	for _, kind := range []provider.Kind{provider.RateLimited, provider.Temporary, provider.QuotaExceeded} {
		t.Run(kind.String(), func(t *testing.T) {
			f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.Expiry = 24 * time.Hour })
			f.register(t, "u1", "d1", "android", "atok")
			f.mock.FailNext(1, &provider.Error{Provider: "umeng", Op: "send", Kind: kind, RetryAfter: 250 * 365 * 24 * time.Hour})
			res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			require.Len(t, res.Deliveries, 1)
			assert.Equal(t, registry.DeliveryFailed, res.Deliveries[0].State)
			ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Equal(t, string(provider.StateExpired), ds[0].VendorState)
			assert.Contains(t, ds[0].Response, "expired")
			st, err := f.svc.PushStatus(t.Context(), res.PushMessageID)
			require.NoError(t, err)
			assert.Equal(t, registry.RetFail, st.Android.Ret)
		})
	}
}

// onePlatform is a provider that serves only its platform (none when it is
// empty), as a vendor client configured with one app does.
type onePlatform struct {
	*providertest.Mock
	only provider.Platform
}

func (o onePlatform) Capabilities(p provider.Platform) provider.Capabilities {
	if p != o.only {
		return provider.Capabilities{}
	}
	return o.Mock.Capabilities(p)
}

// countingTargets counts the ListTargets calls of a store and the most
// users one call named.
type countingTargets struct {
	registry.Store
	mu       sync.Mutex
	calls    int
	maxUsers int
}

func (c *countingTargets) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	c.mu.Lock()
	c.calls++
	c.maxUsers = max(c.maxUsers, len(q.UserNums))
	c.mu.Unlock()
	return c.Store.ListTargets(ctx, q)
}

// TestPushCollectsTargetsInLinearTime: a push to many users asks the store
// for the targets of at most 500 users at a time, and pages through each
// chunk once: the number of queries grows with the audience, not with its
// square.
func TestPushCollectsTargetsInLinearTime(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	const users = 2600 // 6 chunks: 5 of 500 users, one of 100; each one short page
	var nums []string
	for i := range users {
		u := fmt.Sprintf("u%05d", i)
		nums = append(nums, u)
		f.register(t, u, "d"+u, "android", "tok"+u)
	}
	cs := &countingTargets{Store: f.store}
	svc, err := push.New(push.Config{Store: cs, Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	res, err := svc.Push(t.Context(), push.Message{UserNums: nums, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, users, res.Devices)
	assert.LessOrEqual(t, cs.maxUsers, 500, "users per query")
	assert.Equal(t, 6, cs.calls, "one short page per chunk of 500 users")
}

// slowFirstTargets delays the first chunk's listing and fails the chunk
// that names user failFor, if set.
type slowFirstTargets struct {
	registry.Store
	first   string
	failFor string

	mu                      sync.Mutex
	inFlight, peak, started int
	overlapped              bool // the second chunk's listing started while the first's waited
}

func (s *slowFirstTargets) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	s.mu.Lock()
	s.inFlight++
	s.started++
	s.peak = max(s.peak, s.inFlight)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.inFlight--
		s.mu.Unlock()
	}()
	if slices.Contains(q.UserNums, s.failFor) {
		return nil, errors.New("listing failed")
	}
	if slices.Contains(q.UserNums, s.first) {
		// The next chunk is listed meanwhile: wait until its listing has
		// started (at most 5 s: a listing one chunk at a time would not
		// start it before this one ends).
		for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
			s.mu.Lock()
			s.overlapped = s.started > 1
			s.mu.Unlock()
			if s.overlapped {
				break
			}
		}
	}
	return s.Store.ListTargets(ctx, q)
}

// The chunks of a large audience are listed two at a time, and their
// targets still come in chunk order: the first chunk, listed last, comes
// first. A chunk that fails fails the push before anything is recorded,
// with no goroutine left behind.
func TestPushListsChunksConcurrentlyInOrder(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{
		provider.Android: {MaxTokens: 2000, Audiences: providertest.DefaultCapabilities().Audiences},
	}}, nil)
	var nums []string
	for i := range 1200 { // 3 chunks of at most 500 users
		u := fmt.Sprintf("u%05d", i)
		nums = append(nums, u)
		f.register(t, u, "d"+u, "android", "tok"+u)
	}
	slow := &slowFirstTargets{Store: f.store, first: nums[0]}
	svc, err := push.New(push.Config{Store: slow, Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	res, err := svc.Push(t.Context(), push.Message{UserNums: nums, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Equal(t, 1200, res.Devices)
	assert.True(t, slow.overlapped, "the second chunk was listed while the first was")
	assert.LessOrEqual(t, slow.peak, 2, "two chunks listed at once, never more")
	reqs := f.mock.Requests()
	require.Len(t, reqs, 1, "one batch of 1,200 tokens")
	want := make([]string, len(nums))
	for i, u := range nums {
		want[i] = "tok" + u
	}
	assert.Equal(t, want, reqs[0].Audience.Tokens, "the tokens in chunk order, whatever chunk was listed first")

	before := runtime.NumGoroutine()
	failing, err := push.New(push.Config{Store: &slowFirstTargets{Store: f.store, first: nums[0], failFor: nums[700]},
		Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	_, err = failing.Push(t.Context(), push.Message{UserNums: nums, Title: "t2", Content: "c"})
	require.ErrorContains(t, err, "listing failed")
	ids, err := f.store.ListPushMessages(t.Context(), registry.PushMessageQuery{Limit: 10})
	require.NoError(t, err)
	assert.Len(t, ids, 1, "the failed push recorded nothing")
	// Poll by hand: assert.Eventually runs its condition on goroutines of
	// its own, which would be counted.
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before && time.Now().Before(deadline); {
		time.Sleep(10 * time.Millisecond)
	}
	assert.LessOrEqual(t, runtime.NumGoroutine(), before, "no lister left behind")
}

// rewriteTargets is a store whose ListTargets passes every target through
// rewrite, and fails for a query that names the user failFor.
type rewriteTargets struct {
	registry.Store
	rewrite func(registry.Target) registry.Target
	failFor string
}

func (r *rewriteTargets) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	for _, u := range q.UserNums {
		if u == r.failFor {
			return nil, errors.New("disk on fire")
		}
	}
	page, err := r.Store.ListTargets(ctx, q)
	for i := range page {
		page[i] = r.rewrite(page[i])
	}
	return page, err
}

// registerUsers registers n users u00000… with one Android device each and
// returns their nums.
func registerUsers(t *testing.T, f *fixture, n int) []string {
	t.Helper()
	nums := make([]string, n)
	for i := range nums {
		nums[i] = fmt.Sprintf("u%05d", i)
		f.register(t, nums[i], "d"+nums[i], "android", fmt.Sprintf("tok%05d", i))
	}
	return nums
}

// TestPushMergesChunksInOrder: a push to more users than one ListTargets
// query takes reads several chunks of them, and its deliveries hold each
// token once, at its first place in the users' order, even when the
// repeat comes from another chunk.
func TestPushMergesChunksInOrder(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	nums := registerUsers(t, f, 1700) // chunks of 500, 500, 500 and 200 users
	// Users 1000… hold the tokens of users 0…699 again (rows other
	// programs wrote): those repeats are dropped.
	rt := &rewriteTargets{Store: f.store, rewrite: func(tg registry.Target) registry.Target {
		var i int
		_, err := fmt.Sscanf(tg.UserNum, "u%05d", &i)
		require.NoError(t, err)
		tg.Token = fmt.Sprintf("tok%05d", i%1000)
		return tg
	}}
	svc, err := push.New(push.Config{Store: rt, Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	res, err := svc.Push(t.Context(), push.Message{UserNums: nums, Title: "t", Content: "c"})
	require.NoError(t, err)
	assert.Equal(t, 1000, res.Devices)
	ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 2, "1000 tokens in deliveries of at most 500")
	var got []string
	for _, d := range ds {
		got = append(got, d.Tokens...)
	}
	want := make([]string, 1000)
	for i := range want {
		want[i] = fmt.Sprintf("tok%05d", i)
	}
	assert.Equal(t, want, got)
	assert.Len(t, f.mock.Requests(), 2)
}

// TestPushFailsWhenALaterChunkCannotBeRead: when the targets of one chunk
// of users cannot be read, Push fails with that error and records and
// sends nothing, whatever the chunks before it found.
func TestPushFailsWhenALaterChunkCannotBeRead(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	nums := registerUsers(t, f, 1700)
	rt := &rewriteTargets{Store: f.store, rewrite: func(tg registry.Target) registry.Target { return tg }, failFor: nums[1234]}
	svc, err := push.New(push.Config{Store: rt, Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	res, err := svc.Push(t.Context(), push.Message{UserNums: nums, Title: "t", Content: "c"})
	require.ErrorContains(t, err, "disk on fire")
	assert.Nil(t, res)
	assert.Empty(t, f.mock.Requests())
	msgs, err := f.store.ListPushMessages(t.Context(), registry.PushMessageQuery{})
	require.NoError(t, err)
	assert.Empty(t, msgs)
}

// TestReceiptFailingEveryTokenFailsTheDelivery: a vendor that takes a
// request and reports that it sent it to none of its tokens (Getui's
// successed_ignore for devices inactive for 90 days) leaves a failed
// delivery, its tokens disabled; one that sent it to some of them leaves
// it accepted, the others disabled.
func TestReceiptFailingEveryTokenFailsTheDelivery(t *testing.T) {
	ctx := context.Background()
	caps := provider.Capabilities{MaxTokens: 10, Audiences: []provider.AudienceKind{provider.AudienceTokens}}
	f := newFixture(t, providertest.MockConfig{Capabilities: map[provider.Platform]provider.Capabilities{provider.IOS: caps, provider.Android: caps}}, nil)
	f.register(t, "u1", "d1", "android", "tok1")
	f.register(t, "u2", "d2", "android", "tok2")
	f.register(t, "u3", "d3", "android", "tok3")
	inactive := map[string]bool{"tok1": true, "tok2": true}
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		rc := &provider.Receipt{ID: "task-" + r.IdempotencyKey, Provider: "umeng", Platform: r.Platform}
		for _, tok := range r.Audience.Tokens {
			if inactive[tok] {
				rc.Failures = append(rc.Failures, provider.TokenFailure{Token: tok, Kind: provider.InvalidToken, Message: "successed_ignore"})
			}
		}
		return rc, nil
	})

	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1", "u3"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	assert.Equal(t, 1, res.Accepted(), "sent to tok3")

	res, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u2"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	assert.Equal(t, registry.DeliveryFailed, res.Deliveries[0].State, "sent to none of its tokens")
	assert.Equal(t, 1, res.Failed())
	ds, err := f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, registry.RetFail, ds[0].Ret)
	assert.Equal(t, provider.InvalidToken.String(), ds[0].ErrorKind)
	st, err := f.svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.RetFail, st.Android.Ret)

	_, err = f.svc.Push(ctx, push.Message{UserNums: []string{"u1", "u2"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, push.ErrNoDevices, "the inactive tokens were disabled")
}

// TestNoDevicesSaysWhatWasSkipped: users whose active devices no
// configured provider serves get ErrNoDevices saying how many were
// skipped and why (it read as if they had no device), in Go and over HTTP;
// users with no device at all get ErrNoDevices alone.
func TestNoDevicesSaysWhatWasSkipped(t *testing.T) {
	st, err := memstore.New(memstore.Config{})
	require.NoError(t, err)
	// A row another program wrote without a push_platform: "umeng".
	_, _, err = st.RegisterDevice(t.Context(), &registry.Device{UUID: "legacy-1", Platform: "android", PushToken: "legacytoken1"}, "legacy-user")
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "jpush"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}})
	require.NoError(t, err)

	_, err = svc.Push(t.Context(), push.Message{UserNums: []string{"legacy-user"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, push.ErrNoDevices)
	assert.Equal(t, `push: no active device for the users: 1 active device skipped: 1 on "android" through "umeng", which is not configured `+
		`(configured providers: jpush; a device row without a push_platform is "umeng")`, err.Error())
	_, err = svc.Push(t.Context(), push.Message{UserNums: []string{"nobody"}, Title: "t", Content: "c"})
	assert.Equal(t, push.ErrNoDevices, err, "no device at all")

	h, err := push.NewHandler(push.HandlerConfig{Service: svc})
	require.NoError(t, err)
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodPost, push.PathPushMessage, strings.NewReader(`{"user_num":"legacy-user","title":"t","content":"c"}`))
	req.Header.Set("Content-Type", "application/json")
	h.ServeHTTP(rec, req)
	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Contains(t, rec.Body.String(), `"code":"no_active_device"`)
	assert.Contains(t, rec.Body.String(), "1 active device skipped")
	assert.Zero(t, m.Calls())
}

// TestBroadcastUnknownProviderSaysItOnce: a Broadcast naming a provider
// that is not configured is a *FieldError for "provider" whose message
// says what is wrong once ("push: provider: push: unknown provider" said
// it twice).
func TestBroadcastUnknownProviderSaysItOnce(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	_, err := f.svc.Broadcast(context.Background(), push.Broadcast{Platform: "ios", Provider: "apns", Title: "t", Content: "c"})
	var fe *push.FieldError
	require.ErrorAs(t, err, &fe)
	assert.Equal(t, "provider", fe.Field)
	assert.Equal(t, `push: provider: unknown provider "apns" (configured: [umeng])`, err.Error())
}

// A retry or poll pass asked to claim nothing is refused, naming the
// limit, and claims nothing.
func TestPassesRefuseALimitBelowOne(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "ios", "tok1")
	f.mock.FailNext(1, f.mock.Err(provider.Temporary, ""))
	res, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	f.clk.Advance(time.Hour)
	for _, pass := range []func(context.Context, int) (int, error){f.svc.RetryPending, f.svc.PollReceipts} {
		for _, limit := range []int{0, -1} {
			n, err := pass(context.Background(), limit)
			require.ErrorIs(t, err, push.ErrInvalid)
			var fe *push.FieldError
			require.ErrorAs(t, err, &fe)
			assert.Equal(t, "limit", fe.Field)
			assert.Zero(t, n)
		}
	}
	ds, err := f.store.ListDeliveries(context.Background(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Empty(t, ds[0].ClaimToken, "nothing claimed")
	assert.Equal(t, 1, f.mock.Calls(), "nothing sent")
}

// blockingStatus holds every Status call until release is closed, and
// reports each call's arrival on in.
type blockingStatus struct {
	*providertest.Mock
	release chan struct{}
	in      chan struct{}
}

func (p *blockingStatus) Status(ctx context.Context, pl provider.Platform, id string) (*provider.Status, error) {
	p.in <- struct{}{}
	<-p.release
	return p.Mock.Status(ctx, pl, id)
}

// A poll pass polls SendConcurrency receipts at once and holds only a
// round of twice that: while the vendor is slow, the rest stay unclaimed
// for the other instances' passes.
func TestPollPassHoldsOnlyWhatItPolls(t *testing.T) {
	clk := newClock()
	mem, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Pollable: []provider.AudienceKind{provider.AudienceTokens}})
	require.NoError(t, err)
	// Room for more calls than receipts, so that a receipt polled twice
	// fails the count below instead of hanging its Status call.
	p := &blockingStatus{Mock: m, release: make(chan struct{}), in: make(chan struct{}, 100)}
	svc, err := push.New(push.Config{Store: mem, Providers: []provider.Provider{p}, Now: clk.Now, PollInterval: time.Minute, SendConcurrency: 2})
	require.NoError(t, err)
	var ids []int64
	for i := range 10 {
		u := fmt.Sprintf("u%d", i)
		_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: "d-" + u, Platform: "android", PushToken: "tok-" + u})
		require.NoError(t, err)
		res, err := svc.Push(t.Context(), push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
		ids = append(ids, res.PushMessageID)
	}
	clk.Advance(time.Minute)

	done := make(chan int, 1)
	go func() {
		n, err := svc.PollReceipts(context.Background(), 100)
		assert.NoError(t, err)
		done <- n
	}()
	// Released however the test ends, so that no poll is left waiting.
	defer func() {
		select {
		case <-p.release:
		default:
			close(p.release)
		}
	}()
	for range 2 {
		select {
		case <-p.in:
		case <-time.After(10 * time.Second):
			t.Fatal("the pass did not poll two receipts at once")
		}
	}
	claimed := 0
	for _, id := range ids {
		ds, err := mem.ListDeliveries(t.Context(), id)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		if ds[0].ClaimToken != "" {
			claimed++
		}
	}
	assert.Equal(t, 4, claimed, "two polls in flight and two waiting for their slots")
	close(p.release)
	assert.Equal(t, 10, <-done)
	assert.Len(t, p.in, 8, "every other receipt polled once")
}

// batchStatus is the Mock answering status calls many ids at a time
// (provider.BatchStatusQuerier), at most max an answer; fail, when set,
// fails the next call whole.
type batchStatus struct {
	*providertest.Mock
	max int

	mu      sync.Mutex
	batches [][]string
	single  int
	fail    error
}

func (p *batchStatus) MaxStatusIDs() int { return p.max }

func (p *batchStatus) Status(ctx context.Context, pl provider.Platform, id string) (*provider.Status, error) {
	p.mu.Lock()
	p.single++
	p.mu.Unlock()
	return p.Mock.Status(ctx, pl, id)
}

func (p *batchStatus) Statuses(ctx context.Context, pl provider.Platform, ids []string) ([]provider.StatusResult, error) {
	p.mu.Lock()
	p.batches = append(p.batches, slices.Clone(ids))
	fail := p.fail
	p.fail = nil
	p.mu.Unlock()
	if len(ids) > p.max {
		return nil, p.Err(provider.InvalidRequest, "too many ids")
	}
	if fail != nil {
		return nil, fail
	}
	out := make([]provider.StatusResult, len(ids))
	for i, id := range ids {
		out[i].Status, out[i].Err = p.Mock.Status(ctx, pl, id)
	}
	return out, nil
}

// A provider that answers many receipts a call is polled a round at a
// time: one call for the due receipts of a platform, at most its
// MaxStatusIDs each; each receipt's answer is recorded on it alone, and a
// failed call reschedules every receipt it asked about.
func TestPollPassBatchesStatusCalls(t *testing.T) {
	clk := newClock()
	mem, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Pollable: []provider.AudienceKind{provider.AudienceTokens}})
	require.NoError(t, err)
	p := &batchStatus{Mock: m, max: 3}
	svc, err := push.New(push.Config{Store: mem, Providers: []provider.Provider{p}, Now: clk.Now, PollInterval: time.Minute, SendConcurrency: 2})
	require.NoError(t, err)
	var ids []int64
	for i := range 5 {
		u := fmt.Sprintf("u%d", i)
		_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: u, UUID: "d-" + u, Platform: "android", PushToken: "tok-" + u})
		require.NoError(t, err)
		res, err := svc.Push(t.Context(), push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
		ids = append(ids, res.PushMessageID)
	}
	delivery := func(id int64) registry.Delivery {
		ds, err := mem.ListDeliveries(t.Context(), id)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		return ds[0]
	}
	// The first receipt's task is done; the others still queued.
	m.SetStatus(delivery(ids[0]).ReceiptID, provider.Status{State: provider.StateDone, Sent: 1})
	clk.Advance(time.Minute)

	n, err := svc.PollReceipts(t.Context(), 100)
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	// The first round (twice SendConcurrency: 4) makes a call of 3 (the
	// most a call takes) and polls the fourth alone; the second round
	// takes the last one, alone too.
	require.Len(t, p.batches, 1, "%v", p.batches)
	assert.Len(t, p.batches[0], 3)
	assert.Equal(t, 2, p.single, "a receipt left alone is polled with Status")
	assert.Equal(t, registry.DeliveryDone, delivery(ids[0]).State, "its own answer: done")
	for _, id := range ids[1:] {
		d := delivery(id)
		assert.Equal(t, registry.DeliveryAccepted, d.State)
		assert.Equal(t, string(provider.StateQueued), d.VendorState)
		assert.Equal(t, clk.Now().Add(time.Minute), d.NextAttemptAt, "polled again after the interval")
	}

	// A call that fails whole reschedules what it asked about, with the
	// error's kind; nothing ends.
	p.batches, p.single = nil, 0
	p.fail = m.Err(provider.Temporary, "503")
	clk.Advance(time.Minute)
	n, err = svc.PollReceipts(t.Context(), 100)
	require.NoError(t, err)
	assert.Equal(t, 4, n)
	failed := 0
	for _, id := range ids[1:] {
		d := delivery(id)
		assert.Equal(t, registry.DeliveryAccepted, d.State)
		if d.ErrorKind == provider.Temporary.String() {
			failed++
			assert.Equal(t, clk.Now().Add(time.Minute), d.NextAttemptAt)
		}
	}
	require.Len(t, p.batches, 1, "the 4 due: a call of 3, and one alone")
	assert.Equal(t, 3, failed, "each receipt of the failed call carries its error, the one polled alone none")
}

// unreadableMessages is a memstore whose push messages cannot be read (a
// lock wait timeout): not ErrNotFound, so RetryPending gives the delivery
// back, due at once.
type unreadableMessages struct {
	*memstore.Store
	reads atomic.Int64
}

func (s *unreadableMessages) GetPushMessage(ctx context.Context, id int64) (registry.PushMessage, error) {
	s.reads.Add(1)
	return registry.PushMessage{}, errors.New("lock wait timeout exceeded")
}

// A pass claims each due delivery at most once: one it gives back (due at
// once) is the next pass's, not its own next round's. (With rounds it was
// claimed again round after round up to limit, and the Scanner, seeing its
// limit reached, called RetryPending again forever.)
func TestRetryPendingDoesNotReclaimWhatItGaveBack(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil) // SendConcurrency 4: a first round of 8
	users := []string{"u0", "u1", "u2", "u3", "u4", "u5", "u6", "u7", "u8", "u9"}
	for _, u := range users {
		f.register(t, u, "d"+u, "ios", "tok"+u)
	}
	f.mock.FailNext(len(users), f.mock.Err(provider.Temporary, ""))
	for _, u := range users {
		_, err := f.svc.Push(context.Background(), push.Message{UserNums: []string{u}, Title: "t", Content: "c"})
		require.NoError(t, err)
	}
	f.clk.Advance(time.Hour)
	st := &unreadableMessages{Store: f.store}
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	n, err := svc.RetryPending(context.Background(), 500)
	require.NoError(t, err)
	assert.LessOrEqual(t, n, len(users), "none claimed twice in a pass")
	assert.LessOrEqual(t, st.reads.Load(), int64(len(users)), "each message read once")
}

// ctxStatus answers Status only when its ctx ends, with ctx's error, and
// reports each call's arrival on in.
type ctxStatus struct {
	*providertest.Mock
	in chan struct{}
}

func (p *ctxStatus) Status(ctx context.Context, _ provider.Platform, _ string) (*provider.Status, error) {
	p.in <- struct{}{}
	<-ctx.Done()
	return nil, ctx.Err()
}

// A poll stopped mid-call (its pass's ctx ended: the instance shuts down)
// is due again at once, for the next pass of any instance, not a whole
// PollInterval later: the poll changed nothing.
func TestAStoppedPollIsDueAgainAtOnce(t *testing.T) {
	clk := newClock()
	mem, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Pollable: []provider.AudienceKind{provider.AudienceTokens}})
	require.NoError(t, err)
	p := &ctxStatus{Mock: m, in: make(chan struct{}, 10)}
	svc, err := push.New(push.Config{Store: mem, Providers: []provider.Provider{p}, Now: clk.Now, PollInterval: time.Hour})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: "tok-1"})
	require.NoError(t, err)
	res, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	clk.Advance(time.Hour)

	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_, _ = svc.PollReceipts(ctx, 10)
	}()
	select {
	case <-p.in:
	case <-time.After(10 * time.Second):
		t.Fatal("no poll started")
	}
	cancel()
	<-done
	ds, err := mem.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.Equal(t, registry.DeliveryAccepted, ds[0].State, "still polled")
	assert.Empty(t, ds[0].ClaimToken, "given back")
	assert.False(t, ds[0].NextAttemptAt.After(clk.Now()), "due at once, not at %v", ds[0].NextAttemptAt)
}

// authRefusingStatus answers the first refuse status calls with an auth
// error, as a vendor does after its credentials were rotated.
type authRefusingStatus struct {
	*providertest.Mock
	mu     sync.Mutex
	refuse int
}

func (a *authRefusingStatus) Status(ctx context.Context, p provider.Platform, id string) (*provider.Status, error) {
	a.mu.Lock()
	refuse := a.refuse > 0
	a.refuse--
	a.mu.Unlock()
	if refuse {
		return nil, &provider.Error{Provider: a.Name(), Op: "status", Kind: provider.Auth, Code: "2027", Message: "signature mismatch"}
	}
	return a.Mock.Status(ctx, p, id)
}

// TestPollingGoesOnAfterAnAuthRefusal: a status call refused for auth
// says nothing of the task; polling goes on at its interval (the error
// kept on the delivery) and reaches the task's final state once the
// credentials work again, instead of ending with the push "accepted".
func TestPollingGoesOnAfterAnAuthRefusal(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	st, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng", Pollable: []provider.AudienceKind{provider.AudienceBroadcast}})
	require.NoError(t, err)
	p := &authRefusingStatus{Mock: m, refuse: 2}
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{p}, Now: clk.Now, PollInterval: time.Minute})
	require.NoError(t, err)
	res, err := svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "c"})
	require.NoError(t, err)
	id := res.Deliveries[0].ReceiptID
	m.SetStatus(id, provider.Status{State: provider.StateDone})

	for range 2 {
		clk.Advance(time.Minute)
		n, err := svc.PollReceipts(ctx, 10)
		require.NoError(t, err)
		assert.Equal(t, 1, n)
		ds, err := st.ListDeliveries(ctx, res.PushMessageID)
		require.NoError(t, err)
		assert.Equal(t, registry.DeliveryAccepted, ds[0].State)
		assert.Equal(t, provider.Auth.String(), ds[0].ErrorKind)
		assert.Equal(t, clk.Now().Add(time.Minute), ds[0].NextAttemptAt, "polled again at the interval")
	}
	clk.Advance(time.Minute)
	_, err = svc.PollReceipts(ctx, 10)
	require.NoError(t, err)
	status, err := svc.PushStatus(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, "done", status.AndroidStatus)
}

// TestARateLimitWaitsAsTheVendorSays: a rate or quota refusal with a
// Retry-After is tried again after it, shorter or longer than
// RateLimitDelay; without one, after RateLimitDelay. No attempt is spent.
func TestARateLimitWaitsAsTheVendorSays(t *testing.T) {
	for _, tc := range []struct {
		name  string
		after time.Duration
		want  time.Duration
	}{{"shorter", 5 * time.Second, 5 * time.Second}, {"longer", time.Hour, time.Hour}, {"none", 0, 30 * time.Second}} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t, providertest.MockConfig{}, nil) // Retry.Base 30 s: RateLimitDelay's default
			f.register(t, "u1", "d1", "android", "atok")
			f.mock.FailNext(1, &provider.Error{Provider: "umeng", Op: "send", Kind: provider.RateLimited, RetryAfter: tc.after})
			res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			ds, err := f.store.ListDeliveries(t.Context(), res.PushMessageID)
			require.NoError(t, err)
			require.Len(t, ds, 1)
			assert.Equal(t, registry.DeliveryPending, ds[0].State)
			assert.Equal(t, f.clk.Now().Add(tc.want), ds[0].NextAttemptAt)
			assert.Zero(t, ds[0].Attempts, "no attempt spent")
		})
	}
}

// TestRetryOfAnExpiredPushIsNotASend: a delivery whose push expired before
// its retry ends failed and expired without a vendor call, and is not
// recorded as sent: no sent_at, and a response that says no call was made.
func TestRetryOfAnExpiredPushIsNotASend(t *testing.T) {
	ctx := t.Context()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "atok")
	f.mock.FailNext(1, &provider.Error{Provider: "umeng", Op: "send", Kind: provider.Temporary, HTTPStatus: 503})
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c",
		ExpireAt: f.clk.Now().Add(2 * time.Minute)})
	require.NoError(t, err)
	require.Len(t, res.Deliveries, 1)
	require.Equal(t, registry.DeliveryPending, res.Deliveries[0].State)
	ds, err := f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	require.NotNil(t, ds[0].SentAt, "the first try was a call")
	firstTry := *ds[0].SentAt

	f.clk.Advance(5 * time.Minute)
	_, err = f.svc.RetryPending(ctx, 10)
	require.NoError(t, err)
	assert.Len(t, f.mock.Requests(), 1, "no call for an expired push")
	ds, err = f.store.ListDeliveries(ctx, res.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, registry.DeliveryFailed, ds[0].State)
	assert.Equal(t, string(provider.StateExpired), ds[0].VendorState)
	require.NotNil(t, ds[0].SentAt)
	assert.True(t, firstTry.Equal(*ds[0].SentAt), "sent_at stays the last call's, %v, not %v", firstTry, *ds[0].SentAt)
	assert.Contains(t, ds[0].Response, "no vendor call was made")

}

// TestAVendorsRateLimitIsLoggedAsAnAnswer: a rate-limit refusal the vendor
// answered (a code, a call made) is logged at warn as any refusal; one the
// client made without a call (its own quota) stays at debug, since a large
// push meets it for thousands of deliveries at once.
func TestAVendorsRateLimitIsLoggedAsAnAnswer(t *testing.T) {
	for _, tt := range []struct {
		name  string
		err   func(m *providertest.Mock) error
		level string
	}{
		{"the vendor's", func(m *providertest.Mock) error { return m.Err(provider.RateLimited, "2050") }, "level=WARN"},
		{"the client's own", func(m *providertest.Mock) error {
			return &provider.Error{Provider: "umeng", Op: "send", Kind: provider.RateLimited, Message: "the client's own rate"}
		}, "level=DEBUG"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs syncbuf.Buffer
			f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
				c.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			})
			f.register(t, "u1", "d1", "ios", "tok")
			f.mock.FailNext(1, tt.err(f.mock))
			_, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
			require.NoError(t, err)
			line := ""
			for l := range strings.SplitSeq(logs.String(), "\n") {
				if strings.Contains(l, `msg="delivery sent"`) {
					line = l
				}
			}
			assert.True(t, strings.HasPrefix(line, "time="), line)
			assert.Contains(t, line, tt.level)
			assert.Contains(t, line, "error_kind=rate_limited")
		})
	}
}
