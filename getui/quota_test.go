package getui_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/provider"
)

func quotaPush(i int) *provider.Request {
	return &provider.Request{Platform: provider.Android,
		Audience:     provider.Audience{Kind: provider.AudienceTokens, Tokens: []string{cid(provider.Android, i)}},
		Notification: provider.Notification{Title: "t", Body: "b"}, IdempotencyKey: fmt.Sprintf("quota-%010d", i)}
}

// taskPush is a broadcast push (/push/tag), or with all a push to every
// device (/push/all), under idempotency key key.
func taskPush(key string, all bool) *provider.Request {
	r := &provider.Request{Platform: provider.Android, Audience: provider.Audience{Kind: provider.AudienceBroadcast},
		Notification: provider.Notification{Title: "t", Body: "b"}, IdempotencyKey: key}
	if all {
		r.Overrides = map[string]any{getui.Name: &getui.Options{AllDevices: true}}
	}
	return r
}

// TestAuthQuotaDefault: auth calls that keep failing spend the default
// bucket of 100 a minute; the next send then makes no call at all and is
// RateLimited (Op auth) with the wait for the next token (600ms), which a
// caller retries later without spending an attempt. When a token comes
// back, auth succeeds and the send goes out.
func TestAuthQuotaDefault(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	require.NoError(t, fake.FailNext(100, getuitest.Fault{API: "/auth", HTTPStatus: 502}))
	for i := range 100 {
		_, err := c.Send(ctx, quotaPush(i))
		require.ErrorIs(t, err, provider.Temporary, "send %d: auth fails at the fake", i+1)
	}
	require.Equal(t, 100, fake.Arrived("/auth"))

	_, err := c.Send(ctx, quotaPush(100))
	require.ErrorIs(t, err, provider.RateLimited)
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, "auth", pe.Op)
	assert.InDelta(t, float64(600*time.Millisecond), float64(pe.RetryAfter), float64(time.Millisecond))
	assert.Equal(t, 100, fake.Arrived("/auth"), "no auth call over the quota")
	assert.Zero(t, fake.Arrived("/push/single/cid"))

	clk.Advance(pe.RetryAfter)
	_, err = c.Send(ctx, quotaPush(101))
	require.NoError(t, err)
	assert.Equal(t, 101, fake.Arrived("/auth"))
}

// TestAuthQuotaSharedToken: concurrent senders share one token, so 50 of
// them spend one auth call, even with a bucket of one.
func TestAuthQuotaSharedToken(t *testing.T) {
	ctx := context.Background()
	c, fake := newAgainstFake(t, getuitest.Config{}, func(cfg *getui.Config) {
		cfg.AuthQuota = provider.Quota{Calls: 1, Per: time.Hour}
	})
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			_, err := c.Send(ctx, quotaPush(i))
			assert.NoError(t, err)
		})
	}
	wg.Wait()
	assert.Equal(t, 1, fake.Arrived("/auth"))
}

// TestAuthQuotaUnlimited: switched off, the 101st failing auth is still
// tried.
func TestAuthQuotaUnlimited(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, func(cfg *getui.Config) {
		cfg.AuthQuota = provider.Quota{Unlimited: true}
	})
	require.NoError(t, fake.FailNext(101, getuitest.Fault{API: "/auth", HTTPStatus: 502}))
	for i := range 101 {
		_, err := c.Send(ctx, quotaPush(i))
		require.ErrorIs(t, err, provider.Temporary, "send %d", i+1)
	}
	assert.Equal(t, 101, fake.Arrived("/auth"))
}

// TestTaskQuota: the pushes to all and to a tag share one bucket (Getui's
// 100 a day per app by default); over it a broadcast or filter push makes
// no call and is RateLimited with the wait for the next token, while
// pushes to cids go on.
func TestTaskQuota(t *testing.T) {
	assert.Equal(t, provider.Quota{Calls: 100, Per: 24 * time.Hour}, getui.DefaultTaskQuota())
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, func(cfg *getui.Config) {
		cfg.TaskQuota = provider.Quota{Calls: 2, Per: 24 * time.Hour}
	})
	broadcast := func(i int, all bool) *provider.Request { return taskPush(fmt.Sprintf("task-%010d", i), all) }
	_, err := c.Send(ctx, broadcast(1, false))
	require.NoError(t, err)
	_, err = c.Send(ctx, broadcast(2, true))
	require.NoError(t, err)
	_, err = c.Send(ctx, broadcast(3, false))
	require.ErrorIs(t, err, provider.RateLimited)
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 12*time.Hour, pe.RetryAfter.Round(time.Second))
	assert.Contains(t, err.Error(), "nothing was sent")
	assert.Equal(t, 1, fake.Arrived("/push/tag"), "no call over the quota")
	assert.Equal(t, 1, fake.Arrived("/push/all"))

	_, err = c.Send(ctx, quotaPush(1))
	require.NoError(t, err, "a push to a cid takes no task token")

	clk.Advance(pe.RetryAfter)
	_, err = c.Send(ctx, broadcast(4, false))
	require.NoError(t, err)
	assert.Equal(t, 2, fake.Arrived("/push/tag"))

	_, err = getui.New(getui.Config{AppID: "a", AppKey: "k", MasterSecret: getui.NewSecret("s3cret-of-the-app"), TaskQuota: provider.Quota{Calls: -1}})
	require.ErrorContains(t, err, "task_quota")
	_, err = getui.New(getui.Config{AppID: "a", AppKey: "k", MasterSecret: getui.NewSecret("s3cret-of-the-app"), TaskRate: provider.Quota{Calls: -1}})
	require.ErrorContains(t, err, "task_rate")
}

// TestTaskRate: by default the pushes to all and to a tag also keep
// Getui's 5 a minute: the sixth of a minute makes no call and waits 12 s.
func TestTaskRate(t *testing.T) {
	assert.Equal(t, provider.Quota{Calls: 5, Per: time.Minute}, getui.DefaultTaskRate())
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now}, nil)
	tag := func(i int) *provider.Request { return taskPush(fmt.Sprintf("rate-%010d", i), false) }
	for i := range 5 {
		_, err := c.Send(ctx, tag(i))
		require.NoError(t, err)
	}
	_, err := c.Send(ctx, tag(5))
	require.ErrorIs(t, err, provider.RateLimited)
	var pe *provider.Error
	require.ErrorAs(t, err, &pe)
	assert.Equal(t, 12*time.Second, pe.RetryAfter.Round(time.Millisecond))
	assert.Contains(t, err.Error(), provider.Quota{Calls: 5, Per: time.Minute}.String())
	assert.Equal(t, 5, fake.Arrived("/push/tag"))
	clk.Advance(pe.RetryAfter)
	_, err = c.Send(ctx, tag(6))
	require.NoError(t, err)
	assert.Equal(t, 6, fake.Arrived("/push/tag"))
}

// TestFakeKeepsTheTaskDailyLimit: with the client's bucket switched off,
// the fake refuses the pushes to all and to a tag over its daily limit
// (30007 and 30010, HTTP 403), which the client reports as
// QuotaExceeded; a retry of a push it took is answered as before and not
// counted; the next day (China Standard Time) the count starts again.
func TestFakeKeepsTheTaskDailyLimit(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC)) // 16:00 in Beijing
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now, TaskDailyLimit: 2}, func(cfg *getui.Config) {
		cfg.TaskQuota, cfg.TaskRate = provider.Quota{Unlimited: true}, provider.Quota{Unlimited: true}
	})
	push := func(key string, all bool) error {
		_, err := c.Send(ctx, taskPush(key, all))
		return err
	}
	require.NoError(t, push("day-0000000001", false))
	require.NoError(t, push("day-0000000002", true))
	require.NoError(t, push("day-0000000001", false), "a retry of a push taken is not counted")
	for _, tc := range []struct {
		all  bool
		code string
	}{{false, "30010"}, {true, "30007"}} {
		err := push("day-0000000003", tc.all)
		require.ErrorIs(t, err, provider.QuotaExceeded)
		var pe *provider.Error
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, tc.code, pe.Code)
		assert.Equal(t, 403, pe.HTTPStatus)
	}
	assert.Equal(t, 3, fake.Arrived("/push/tag"))
	assert.Equal(t, 2, fake.Arrived("/push/all"))
	clk.Advance(8 * time.Hour) // past midnight in Beijing
	require.NoError(t, push("day-0000000004", false))
}

// TestFakeKeepsTheTaskMinuteLimit: with TaskMinuteLimit set and the
// client's buckets off, the fake refuses the pushes to all and to a tag
// beyond it in any 60 seconds with 30014 (HTTP 403), which the client
// reports as RateLimited; a refused push is not counted, nor is a retry
// of one taken; 60 seconds after the first, the next is taken.
func TestFakeKeepsTheTaskMinuteLimit(t *testing.T) {
	ctx := context.Background()
	clk := newClock(time.Date(2026, 12, 1, 8, 0, 0, 0, time.UTC))
	c, fake := newAgainstFake(t, getuitest.Config{Now: clk.Now, TaskMinuteLimit: 2}, func(cfg *getui.Config) {
		cfg.TaskQuota, cfg.TaskRate = provider.Quota{Unlimited: true}, provider.Quota{Unlimited: true}
	})
	push := func(key string, all bool) error {
		_, err := c.Send(ctx, taskPush(key, all))
		return err
	}
	require.NoError(t, push("min-0000000001", false))
	clk.Advance(30 * time.Second)
	require.NoError(t, push("min-0000000002", true))
	require.NoError(t, push("min-0000000001", false), "a retry of a push taken is not counted")
	for _, all := range []bool{false, true} {
		err := push("min-0000000003", all)
		require.ErrorIs(t, err, provider.RateLimited)
		var pe *provider.Error
		require.ErrorAs(t, err, &pe)
		assert.Equal(t, "30014", pe.Code)
		assert.Equal(t, 403, pe.HTTPStatus)
	}
	clk.Advance(30 * time.Second) // the first is a minute old
	require.NoError(t, push("min-0000000003", false))
	require.ErrorIs(t, push("min-0000000004", false), provider.RateLimited, "the second and third are within the minute")
	assert.Equal(t, 5, fake.Arrived("/push/tag"))
	assert.Equal(t, 2, fake.Arrived("/push/all"))
}
