package fakeserver_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/fakeserver"
)

// waitCtx bounds a wait that must succeed, so a broken Gate fails the test
// instead of hanging it.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// pass runs g.Pass for key in the background; the channel yields its
// result.
func pass(ctx context.Context, g *fakeserver.Gate, key string) chan string {
	done := make(chan string, 1)
	go func() { done <- g.Pass(ctx, key) }()
	return done
}

// finished reports whether a pass started by pass has returned by now,
// without waiting for it.
func finished(done chan string) bool {
	select {
	case why := <-done:
		done <- why // back into its buffer, for the caller's later receive
		return true
	default:
		return false
	}
}

func TestGatePassesWithoutStall(t *testing.T) {
	g := fakeserver.NewGate(testID, make(chan struct{}))
	assert.Empty(t, g.Pass(t.Context(), "/send"))
	assert.Zero(t, g.Stalled())
}

func TestStallHoldsUntilRelease(t *testing.T) {
	g := fakeserver.NewGate(testID, make(chan struct{}))
	release := g.Stall()
	done := pass(t.Context(), g, "/send")
	require.NoError(t, g.WaitStalled(waitCtx(t), 1))
	assert.Equal(t, 1, g.Stalled())
	assert.False(t, finished(done), "held while the stall is in force")
	release()
	assert.Empty(t, <-done)
	assert.Zero(t, g.Stalled())
}

func TestStallNesting(t *testing.T) {
	for _, order := range []string{"first released first", "last released first"} {
		t.Run(order, func(t *testing.T) {
			g := fakeserver.NewGate(testID, make(chan struct{}))
			r1, r2 := g.Stall(), g.Stall()
			if order == "last released first" {
				r1, r2 = r2, r1
			}
			done := pass(t.Context(), g, "/send")
			require.NoError(t, g.WaitStalled(waitCtx(t), 1))
			r1()
			assert.Equal(t, 1, g.Stalled(), "still held by the other stall, and counted without a gap")
			assert.False(t, finished(done))
			r2()
			assert.Empty(t, <-done)
			assert.Zero(t, g.Stalled())
		})
	}
}

func TestStallDoubleReleaseIsHarmless(t *testing.T) {
	g := fakeserver.NewGate(testID, make(chan struct{}))
	r1, r2 := g.Stall(), g.Stall()
	r1()
	r1() // must not count as releasing the second stall
	done := pass(t.Context(), g, "/send")
	require.NoError(t, g.WaitStalled(waitCtx(t), 1))
	assert.False(t, finished(done), "the second stall still holds")
	r2()
	r2()
	assert.Empty(t, <-done)
	assert.Empty(t, g.Pass(t.Context(), "/send"), "no stall is left over")
}

func TestStallMadeAfterReleaseDoesNotCatchTheFreedRequest(t *testing.T) {
	for range 50 {
		g := fakeserver.NewGate(testID, make(chan struct{}))
		release := g.Stall()
		done := pass(waitCtx(t), g, "/send")
		require.NoError(t, g.WaitStalled(waitCtx(t), 1))
		release()
		defer g.Stall()() // at once, before the freed request may have run on
		require.Empty(t, <-done, "freed by the release, whatever came after it")
	}
}

func TestStallMadeWhileHeldKeepsHolding(t *testing.T) {
	for range 50 {
		g := fakeserver.NewGate(testID, make(chan struct{}))
		first := g.Stall()
		ctx, cancel := context.WithCancel(t.Context())
		done := pass(ctx, g, "/send")
		require.NoError(t, g.WaitStalled(waitCtx(t), 1))
		second := g.Stall("/send")
		first()
		assert.Equal(t, 1, g.Stalled())
		cancel()
		require.Equal(t, "abandoned while stalled", <-done, "the second stall still held it")
		second()
	}
}

func TestStallByKey(t *testing.T) {
	g := fakeserver.NewGate(testID, make(chan struct{}))
	release := g.Stall("/status", "/cancel")
	defer release()
	assert.Empty(t, g.Pass(t.Context(), "/send"), "a key the stall does not name flows")
	done := pass(t.Context(), g, "/cancel")
	require.NoError(t, g.WaitStalled(waitCtx(t), 1))
	release()
	assert.Empty(t, <-done)
}

func TestStallAbandoned(t *testing.T) {
	t.Run("client gives up", func(t *testing.T) {
		g := fakeserver.NewGate(testID, make(chan struct{}))
		defer g.Stall()()
		ctx, cancel := context.WithCancel(t.Context())
		done := pass(ctx, g, "/send")
		require.NoError(t, g.WaitStalled(waitCtx(t), 1))
		cancel()
		assert.Equal(t, "abandoned while stalled", <-done)
		assert.Zero(t, g.Stalled())
	})
	t.Run("server closes", func(t *testing.T) {
		closing := make(chan struct{})
		g := fakeserver.NewGate(testID, closing)
		defer g.Stall()()
		done := pass(t.Context(), g, "/send")
		require.NoError(t, g.WaitStalled(waitCtx(t), 1))
		close(closing)
		assert.Equal(t, "abandoned while stalled", <-done)
		assert.Zero(t, g.Stalled())
	})
}

func TestWaitStalledEndsWithContext(t *testing.T) {
	g := fakeserver.NewGate(testID, make(chan struct{}))
	defer g.Stall()()
	done := pass(t.Context(), g, "/send")
	require.NoError(t, g.WaitStalled(waitCtx(t), 1))

	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	err := g.WaitStalled(ctx, 2)
	require.ErrorIs(t, err, context.Canceled)
	assert.EqualError(t, err, "fake: waiting for 2 stalled requests, have 1: context canceled")

	ctx, cancel = context.WithTimeout(t.Context(), time.Millisecond)
	defer cancel()
	require.ErrorIs(t, g.WaitStalled(ctx, 2), context.DeadlineExceeded)
	assert.False(t, finished(done))
}

func TestLatency(t *testing.T) {
	g := fakeserver.NewGate(testID, make(chan struct{}))
	err := g.SetLatency(-time.Second)
	require.ErrorIs(t, err, errInvalid)
	assert.Contains(t, err.Error(), "SetLatency d must not be negative, got -1s")
	assert.Zero(t, g.Latency(), "a refused latency changes nothing")

	require.NoError(t, g.SetLatency(time.Hour))
	assert.Equal(t, time.Hour, g.Latency())
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.Equal(t, "abandoned during latency", g.Pass(ctx, "/send"))

	g.ClearLatency()
	assert.Zero(t, g.Latency())
	assert.Empty(t, g.Pass(ctx, "/send"), "no latency, no stall: even a cancelled request flows")
}

func TestDelay(t *testing.T) {
	ended, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name    string
		ctx     context.Context
		d       time.Duration
		timeout bool
		want    string
	}{
		{"nothing", t.Context(), 0, false, ""},
		{"delay runs its course", t.Context(), time.Millisecond, false, ""},
		{"client gone during delay", ended, time.Hour, false, "abandoned during an injected delay"},
		{"timeout after delay", t.Context(), time.Millisecond, true, "connection dropped by an injected timeout"},
		{"timeout ends with client", ended, 0, true, "connection dropped by an injected timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			g := fakeserver.NewGate(testID, make(chan struct{}))
			assert.Equal(t, tt.want, g.Delay(tt.ctx, tt.d, tt.timeout))
		})
	}
}

func TestHold(t *testing.T) {
	g := fakeserver.NewGate(testID, make(chan struct{}))
	assert.True(t, g.Hold(t.Context(), time.Millisecond), "a hold runs its course")
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	assert.False(t, g.Hold(ctx, 0), "a hold without limit ends with the client")
}

func TestHoldEndsWhenServerCloses(t *testing.T) {
	closing := make(chan struct{})
	g := fakeserver.NewGate(testID, closing)
	close(closing)
	assert.False(t, g.Hold(t.Context(), 0), "a hold without limit ends on close")
	assert.False(t, g.Hold(t.Context(), time.Hour))
}

func TestGateConcurrentUse(t *testing.T) {
	const requests = 16
	g := fakeserver.NewGate(testID, make(chan struct{}))
	releases := []func(){g.Stall(), g.Stall("/send")}
	var wg sync.WaitGroup
	results := make(chan string, requests)
	for range requests {
		wg.Go(func() { results <- g.Pass(t.Context(), "/send") })
	}
	require.NoError(t, g.WaitStalled(waitCtx(t), requests))
	assert.Equal(t, requests, g.Stalled())
	// Releases, new stalls on other keys and latency changes race with
	// the held requests.
	for _, r := range releases {
		wg.Go(r)
		wg.Go(r)
		wg.Go(func() { g.Stall("/status")() })
		wg.Go(func() { assert.NoError(t, g.SetLatency(0)) })
	}
	wg.Wait()
	close(results)
	for why := range results {
		assert.Empty(t, why)
	}
	assert.Zero(t, g.Stalled())
}
