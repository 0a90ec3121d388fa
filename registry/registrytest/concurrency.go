package registrytest

import (
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// workers is how many goroutines, each with its own store over the same
// data (Factory.NewShared), race in the concurrency tests.
const workers = 8

// testConcurrency proves the claim rules hold between instances: no row is
// claimed twice, an expired lease frees a row for another instance, and
// concurrent writes keep the one-active-user rule and the summaries.
func testConcurrency(t *testing.T, f Factory) {
	t.Run("CenterClaimsAreExclusive", func(t *testing.T) {
		const rows = 1000
		stores := f.shared(t, workers)
		want := parallel(t, stores, rows, func(s registry.Store, i int) (int64, error) {
			m := centerMessage(fmt.Sprintf("row %04d", i), i%3)
			err := s.EnqueueCenterMessage(t.Context(), m)
			return m.ID, err
		})

		got := claimUntilEmpty(t, stores, func(s registry.Store) ([]int64, error) {
			claimed, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 25))
			if err != nil {
				return nil, err
			}
			// Finishing while others claim proves a sent row is never
			// handed out again.
			for i := range claimed {
				claimed[i].SendState, claimed[i].SendResult = registry.SendStateSent, "done"
				if err := s.FinishCenterMessage(t.Context(), &claimed[i]); err != nil {
					return nil, err
				}
			}
			return ids(claimed, centerID), nil
		})

		requireEachOnce(t, want, got)
		requireNoDueCenterMessages(t, stores[0])
	})

	t.Run("DeliveryClaimsAreExclusive", func(t *testing.T) {
		const messages, perMessage = 10, 100
		stores := f.shared(t, workers)
		var want []int64
		for _, batch := range parallelBatches(t, stores, messages, func(s registry.Store, i int) ([]int64, error) {
			ds := make([]*registry.Delivery, perMessage)
			for j := range ds {
				ds[j] = pending(fmt.Sprintf("m%02d-d%03d", i, j), registry.PlatformAndroid, j, at(-time.Duration(j)*time.Second), fmt.Sprintf("tok-%d-%d", i, j))
			}
			err := s.CreatePushMessage(t.Context(), pushMessage(fmt.Sprintf("message %d", i), ""), ds)
			return ids(values(ds), deliveryID), err
		}) {
			want = append(want, batch...)
		}

		got := claimUntilEmpty(t, stores, func(s registry.Store) ([]int64, error) {
			claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 25))
			return ids(claimed, deliveryID), err
		})

		requireEachOnce(t, want, got)
		left, err := stores[0].ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		assert.Empty(t, left)
	})

	t.Run("ExpiredLeaseIsClaimableAgain", func(t *testing.T) {
		stores := f.shared(t, 2)
		a, b := stores[0], stores[1]
		enqueue(t, a, centerMessage("lease", 0))
		m := pushMessage("lease", "")
		createPush(t, a, m, pending("lease", registry.PlatformIOS, 0, at(0), "t"))

		firstCenter, err := a.ClaimCenterMessages(t.Context(), centerClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, firstCenter, 1)
		firstDelivery, err := a.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
		require.NoError(t, err)
		require.Len(t, firstDelivery, 1)

		held, err := b.ClaimCenterMessages(t.Context(), centerClaim(at(lease-time.Second), 10))
		require.NoError(t, err)
		assert.Empty(t, held, "center row taken while its lease runs")
		heldDelivery, err := b.ClaimDeliveries(t.Context(), sendClaim(at(lease-time.Second), 10))
		require.NoError(t, err)
		assert.Empty(t, heldDelivery, "delivery taken while its lease runs")

		secondCenter, err := b.ClaimCenterMessages(t.Context(), centerClaim(at(lease+time.Second), 10))
		require.NoError(t, err)
		require.Len(t, secondCenter, 1)
		secondDelivery, err := b.ClaimDeliveries(t.Context(), sendClaim(at(lease+time.Second), 10))
		require.NoError(t, err)
		require.Len(t, secondDelivery, 1)

		oldCenter := firstCenter[0]
		oldCenter.SendState = registry.SendStateSent
		assert.ErrorIs(t, a.FinishCenterMessage(t.Context(), &oldCenter), registry.ErrClaimLost)
		oldDelivery := firstDelivery[0]
		oldDelivery.State = registry.DeliveryDone
		assert.ErrorIs(t, a.FinishDelivery(t.Context(), &oldDelivery), registry.ErrClaimLost)

		newCenter := secondCenter[0]
		newCenter.SendState = registry.SendStateSent
		require.NoError(t, b.FinishCenterMessage(t.Context(), &newCenter))
		newDelivery := secondDelivery[0]
		newDelivery.State, newDelivery.Ret = registry.DeliveryDone, registry.RetSuccess
		require.NoError(t, b.FinishDelivery(t.Context(), &newDelivery))
		got, err := a.GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetSuccess, got.IOS.Ret)
	})

	t.Run("ConcurrentFinishesKeepTheSummaryWhole", func(t *testing.T) {
		const n = 40
		stores := f.shared(t, workers)
		m := pushMessage("many finishes", "")
		ds := make([]*registry.Delivery, n)
		var receipts []string
		for i := range ds {
			ds[i] = pending(fmt.Sprintf("fin-%02d", i), registry.PlatformIOS, i, at(0), fmt.Sprintf("t%02d", i))
			receipts = append(receipts, fmt.Sprintf("r%02d", i))
		}
		createPush(t, stores[0], m, ds...)
		claimed, err := stores[0].ClaimDeliveries(t.Context(), sendClaim(at(0), n))
		require.NoError(t, err)
		require.Len(t, claimed, n)

		parallel(t, stores, n, func(s registry.Store, i int) (int64, error) {
			d := claimed[i]
			d.State, d.VendorState, d.Ret = registry.DeliveryDone, "accepted", registry.RetSuccess
			d.ReceiptID, d.SentAt = fmt.Sprintf("r%02d", d.Seq), ptr(at(time.Second))
			return d.ID, s.FinishDelivery(t.Context(), &d)
		})

		got, err := stores[0].GetPushMessage(t.Context(), m.ID)
		require.NoError(t, err)
		assert.Equal(t, registry.RetSuccess, got.IOS.Ret, "a finish overwrote the summary with a stale view")
		assert.Equal(t, "accepted", got.IOS.Status)
		assert.Equal(t, strings.Join(receipts, ","), got.IOS.TaskID)
	})

	t.Run("ConcurrentFirstRegistrationsMakeOneDevice", func(t *testing.T) { testFirstRegistrations(t, f) })

	t.Run("ConcurrentTokenTakeoversLeaveOneHolder", func(t *testing.T) { testTokenTakeovers(t, f) })

	t.Run("ConcurrentRegistrationsKeepOneActiveUser", func(t *testing.T) {
		const n = 40
		stores := f.shared(t, workers)
		d := newDevice("contested", registry.PlatformAndroid, "contested-token")
		_, first := register(t, stores[0], d, "contender-first")
		users := []string{"contender-first"}
		for i := range n {
			users = append(users, fmt.Sprintf("contender-%02d", i))
		}

		links := parallel(t, stores, n, func(s registry.Store, i int) (int64, error) {
			_, l, err := s.RegisterDevice(t.Context(), d, users[i+1])
			return l.ID, err
		})

		active := 0
		for _, id := range append(links, first.ID) {
			l, err := stores[0].GetUserDevice(t.Context(), id)
			require.NoError(t, err)
			if l.Active {
				active++
			}
		}
		assert.Equal(t, 1, active, "active links to one device")
		assert.Len(t, targetsOf(t, stores[0], users...), 1)
	})
}

// testFirstRegistrations proves that instances registering one new device
// at once make one device: the losers of the race to insert it find the
// winner's row and update it.
func testFirstRegistrations(t *testing.T, f Factory) {
	const n = 16
	stores := f.shared(t, workers)
	users := make([]string, n)
	for i := range users {
		users[i] = fmt.Sprintf("first-%02d", i)
	}

	var (
		mu      sync.Mutex
		devices = map[int64]bool{}
	)
	links := parallel(t, stores, n, func(s registry.Store, i int) (int64, error) {
		dev, l, err := s.RegisterDevice(t.Context(), newDevice("first-uuid", registry.PlatformIOS, "first-token"), users[i])
		mu.Lock()
		devices[dev.ID] = true
		mu.Unlock()
		return l.ID, err
	})

	assert.Len(t, devices, 1, "devices made of one (platform, uuid)")
	active := 0
	for _, id := range links {
		l, err := stores[0].GetUserDevice(t.Context(), id)
		require.NoError(t, err)
		if l.Active {
			active++
		}
	}
	assert.Equal(t, 1, active, "active links to the device")
	assert.Len(t, targetsOf(t, stores[0], users...), 1)
}

// parallel runs do(store, i) for i in [0, n) from one goroutine per store
// and returns the ids it reports, in no particular order. It fails the
// test if any call failed.
func parallel(t *testing.T, stores []registry.Store, n int, do func(s registry.Store, i int) (int64, error)) []int64 {
	t.Helper()
	var out []int64
	for _, batch := range parallelBatches(t, stores, n, func(s registry.Store, i int) ([]int64, error) {
		id, err := do(s, i)
		return []int64{id}, err
	}) {
		out = append(out, batch...)
	}
	return out
}

// parallelBatches is parallel for calls that report many ids.
func parallelBatches(t *testing.T, stores []registry.Store, n int, do func(s registry.Store, i int) ([]int64, error)) [][]int64 {
	t.Helper()
	var (
		mu   sync.Mutex
		out  [][]int64
		errs []error
		wg   sync.WaitGroup
	)
	for w, s := range stores {
		wg.Go(func() {
			for i := w; i < n; i += len(stores) {
				got, err := do(s, i)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("call %d: %w", i, err))
				} else {
					out = append(out, got)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	return out
}

// claimUntilEmpty runs claim in a loop on every store at once until each
// gets an empty batch, and returns every id claimed, repeats included.
func claimUntilEmpty(t *testing.T, stores []registry.Store, claim func(s registry.Store) ([]int64, error)) []int64 {
	t.Helper()
	// Far more rounds than any test needs: a store that hands out rows
	// forever ends the test instead of hanging it.
	const maxRounds = 1000
	var (
		mu   sync.Mutex
		all  []int64
		errs []error
		wg   sync.WaitGroup
	)
	for w, s := range stores {
		wg.Go(func() {
			for round := range maxRounds {
				got, err := claim(s)
				mu.Lock()
				all = append(all, got...)
				if err != nil {
					errs = append(errs, fmt.Errorf("worker %d, round %d: %w", w, round, err))
				}
				mu.Unlock()
				if err != nil || len(got) == 0 {
					return
				}
			}
			mu.Lock()
			errs = append(errs, fmt.Errorf("worker %d still claiming after %d rounds", w, maxRounds))
			mu.Unlock()
		})
	}
	wg.Wait()
	require.Empty(t, errs)
	return all
}

// requireEachOnce checks that got holds every id of want exactly once.
func requireEachOnce(t *testing.T, want, got []int64) {
	t.Helper()
	count := map[int64]int{}
	for _, id := range got {
		count[id]++
	}
	var twice []int64
	for id, n := range count {
		if n > 1 {
			twice = append(twice, id)
		}
	}
	require.Empty(t, sortedIDs(twice), "rows claimed more than once")
	require.Equal(t, sortedIDs(want), sortedIDs(got), "rows claimed")
}

// testTokenTakeovers proves the token rule under concurrency: when
// instances register one push token on new devices at the same moment
// (its push platform spelled in any case),
// the token stays enabled on exactly one of them, and no caller sees the
// deadlocks or serialization failures the race causes inside the store.
func testTokenTakeovers(t *testing.T, f Factory) {
	const trials, racers = 20, 3
	stores := f.shared(t, racers)
	for trial := range trials {
		token := fmt.Sprintf("race-token-%02d", trial)
		devs := make([]int64, racers)
		errs := make([]error, racers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for r := range racers {
			wg.Go(func() {
				<-start
				d := newDevice(fmt.Sprintf("race-%02d-%d", trial, r), registry.PlatformAndroid, token)
				// The push platform in the spellings the takeover takes for
				// one: the racers must still wait for each other.
				d.PushPlatform = []string{"umeng", "Umeng", " UMENG "}[r%3]
				dev, _, err := stores[r].RegisterDevice(t.Context(), d, fmt.Sprintf("racer-%02d-%d", trial, r))
				devs[r], errs[r] = dev.ID, err
			})
		}
		close(start)
		wg.Wait()
		for r, err := range errs {
			require.NoError(t, err, "trial %d, racer %d", trial, r)
		}
		assert.Equal(t, 1, enabledHolders(t, stores[0], devs), "trial %d: devices with the token enabled", trial)
	}

	t.Run("Burst", func(t *testing.T) {
		const n = 10
		stores := f.shared(t, n)
		devs := make([]int64, n)
		errs := make([]error, n)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				<-start
				// Three devices, each registered by several users at once,
				// all with one token.
				d := newDevice(fmt.Sprintf("burst-%d", i%3), registry.PlatformIOS, "burst-token")
				dev, _, err := stores[i].RegisterDevice(t.Context(), d, fmt.Sprintf("burst-user-%d", i))
				devs[i], errs[i] = dev.ID, err
			})
		}
		close(start)
		wg.Wait()
		for i, err := range errs {
			require.NoError(t, err, "registration %d", i)
		}
		assert.Equal(t, 1, enabledHolders(t, stores[0], devs), "devices with the token enabled")
	})
}

// enabledHolders counts the distinct devices of ids whose token is enabled.
func enabledHolders(t *testing.T, s registry.Store, ids []int64) int {
	t.Helper()
	seen := map[int64]bool{}
	n := 0
	for _, id := range ids {
		if seen[id] {
			continue
		}
		seen[id] = true
		d, err := s.GetDevice(t.Context(), id)
		require.NoError(t, err)
		if d.TokenDisabledAt == nil {
			n++
		}
	}
	return n
}
