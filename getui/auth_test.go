package getui_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

var start = time.Date(2026, 12, 2, 9, 0, 0, 0, time.UTC)

func single(p provider.Platform, token string) *provider.Request {
	return &provider.Request{Platform: p, Audience: provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{token}},
		Notification: provider.Notification{Title: "Order shipped", Body: "Your order 42 is on its way"}}
}

// TestAuthSharedByConcurrentFirstSends: 20 goroutines sending at once
// through a fresh Client make one auth call between them.
func TestAuthSharedByConcurrentFirstSends(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	// Hold the auth call until all 20 wait for it.
	release := fake.Stall("/auth")
	var wg sync.WaitGroup
	errs := make([]error, 20)
	for i := range errs {
		wg.Go(func() {
			_, errs[i] = c.Send(context.Background(), single(provider.Android, cid(provider.Android, i)))
		})
	}
	require.NoError(t, fake.WaitStalled(context.Background(), 1))
	time.Sleep(50 * time.Millisecond) // let every sender reach the token wait
	release()
	wg.Wait()
	for i, err := range errs {
		require.NoError(t, err, "send %d", i)
	}
	assert.Equal(t, 1, fake.Arrived("/auth"), "one auth call for 20 concurrent first sends")
	assert.Equal(t, 20, fake.Arrived("/push/single/cid"))
}

// TestAuthWaiterGivesUpAlone: a sender whose ctx ends while it waits for
// the shared auth call fails with Temporary; the auth call goes on and the
// others get the token.
func TestAuthWaiterGivesUpAlone(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	release := fake.Stall("/auth")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, err := c.Send(ctx, single(provider.IOS, cid(provider.IOS, 0)))
		done <- err
	}()
	require.NoError(t, fake.WaitStalled(context.Background(), 1))
	cancel()
	err := <-done
	assert.Equal(t, provider.Temporary, provider.KindOf(err))
	assert.Zero(t, fake.DeliveringCalls())
	release()
	_, err = c.Send(context.Background(), single(provider.IOS, cid(provider.IOS, 1)))
	require.NoError(t, err)
	assert.Equal(t, 1, fake.Arrived("/auth"), "the abandoned auth call still served the next send")
}

// TestTokenRefreshedAheadOfExpiry: a token is reused until
// TokenRefreshAhead before its expire_time, then replaced.
func TestTokenRefreshedAheadOfExpiry(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now, TokenLifetime: time.Hour},
		func(cfg *getui.Config) { cfg.TokenRefreshAhead = 5 * time.Minute })
	send := func() {
		t.Helper()
		_, err := c.Send(context.Background(), single(provider.Android, cid(provider.Android, 0)))
		require.NoError(t, err)
	}
	send()
	clk.Advance(54 * time.Minute)
	send()
	assert.Equal(t, 1, fake.Arrived("/auth"), "the token is still good for more than 5 minutes")
	clk.Advance(2 * time.Minute) // 4 minutes left
	send()
	assert.Equal(t, 2, fake.Arrived("/auth"), "refreshed ahead of expiry")
	for _, r := range fake.RequestsTo("/push/single/cid") {
		assert.True(t, r.Authorized)
		assert.Zero(t, r.Code, "no call was refused for its token")
	}
}

// TestFailedRefreshKeepsTheOldToken: when the refresh ahead of expiry is
// refused (auth rate), the token that has not expired yet still serves;
// once it has expired, the refusal is the send's error.
func TestFailedRefreshKeepsTheOldToken(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now, TokenLifetime: time.Hour},
		func(cfg *getui.Config) { cfg.TokenRefreshAhead = 5 * time.Minute })
	_, err := c.Send(context.Background(), single(provider.Android, cid(provider.Android, 0)))
	require.NoError(t, err)
	clk.Advance(58 * time.Minute)
	require.NoError(t, fake.FailNext(2, getuitest.Fault{API: "/auth", Code: getui.CodeAuthRate}))
	_, err = c.Send(context.Background(), single(provider.Android, cid(provider.Android, 1)))
	require.NoError(t, err, "the old token still serves")
	assert.Equal(t, 2, fake.Arrived("/auth"))
	clk.Advance(2 * time.Minute)
	_, err = c.Send(context.Background(), single(provider.Android, cid(provider.Android, 2)))
	assert.Equal(t, provider.RateLimited, provider.KindOf(err))
	assert.Equal(t, 3, fake.Arrived("/auth"))
	_, err = c.Send(context.Background(), single(provider.Android, cid(provider.Android, 3)))
	require.NoError(t, err)
}

// TestTokenExpiredByServer: the fake forgets every token (10001); the
// client fetches a new one and repeats the call once, then succeeds.
func TestTokenExpiredByServer(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	_, err := c.Send(context.Background(), single(provider.Android, cid(provider.Android, 0)))
	require.NoError(t, err)
	fake.ExpireTokens()
	rc, err := c.Send(context.Background(), single(provider.Android, cid(provider.Android, 1)))
	require.NoError(t, err)
	assert.NotEmpty(t, rc.ID)
	assert.Equal(t, 2, fake.Arrived("/auth"))
	calls := fake.RequestsTo("/push/single/cid")
	require.Len(t, calls, 3)
	assert.Equal(t, getuitest.CodeTokenExpired, calls[1].Code)
	assert.Zero(t, calls[2].Code)
	assert.Equal(t, 1, fake.DeliveryCount(cid(provider.Android, 1)), "delivered once")
}

// TestHostSwitchWithFake: after MoveHost the fake answers 301; the client
// switches host and the next send succeeds there.
func TestHostSwitchWithFake(t *testing.T) {
	clk := newClock(start)
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	require.NoError(t, fake.MoveHost("/v2-east"))
	_, err := c.Send(context.Background(), single(provider.Android, cid(provider.Android, 0)))
	assert.Equal(t, provider.Temporary, provider.KindOf(err))
	assert.Equal(t, "301", provider.CodeOf(err))
	assert.Equal(t, fake.URL+"/v2-east", c.BaseURL())
	_, err = c.Send(context.Background(), single(provider.Android, cid(provider.Android, 0)))
	require.NoError(t, err)
	assert.Equal(t, 1, fake.DeliveryCount(cid(provider.Android, 0)))
}

// TestAuthRateLimited: the fake's auth limit (10003) is RateLimited.
func TestAuthRateLimited(t *testing.T) {
	clk := newClock(start)
	fake := getuitest.NewServer(t, getuitest.Config{Now: clk.Now, AuthRateLimit: 2})
	app := getuitest.DefaultApps()[0]
	for i := range 3 {
		c, err := getui.New(getui.Config{AppID: app.AppID, AppKey: app.AppKey, MasterSecret: getui.NewSecret(app.MasterSecret), BaseURL: fake.BaseURL(), Now: clk.Now})
		require.NoError(t, err)
		_, err = c.Send(context.Background(), single(provider.Android, cid(provider.Android, i)))
		if i < 2 {
			require.NoError(t, err)
			continue
		}
		assert.Equal(t, provider.RateLimited, provider.KindOf(err))
		assert.Equal(t, "10003", provider.CodeOf(err))
	}
}

// TestWrongSecretIsAuth: the fake checks the sign strictly.
func TestWrongSecretIsAuth(t *testing.T) {
	clk := newClock(start)
	_, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	app := getuitest.DefaultApps()[0]
	for name, cfg := range map[string]getui.Config{
		"secret":  {AppID: app.AppID, AppKey: app.AppKey, MasterSecret: getui.NewSecret("wrong-master-secret"), BaseURL: fake.BaseURL(), Now: clk.Now},
		"app key": {AppID: app.AppID, AppKey: "wrong", MasterSecret: getui.NewSecret(app.MasterSecret), BaseURL: fake.BaseURL(), Now: clk.Now},
		"clock": {AppID: app.AppID, AppKey: app.AppKey, MasterSecret: getui.NewSecret(app.MasterSecret), BaseURL: fake.BaseURL(),
			Now: func() time.Time { return clk.Now().Add(time.Hour) }},
	} {
		t.Run(name, func(t *testing.T) {
			c, err := getui.New(cfg)
			require.NoError(t, err)
			_, err = c.Send(context.Background(), single(provider.Android, cid(provider.Android, 0)))
			assert.Equal(t, provider.Auth, provider.KindOf(err), "%v", err)
		})
	}
	assert.Zero(t, fake.DeliveringCalls())
}
