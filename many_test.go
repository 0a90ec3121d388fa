package push_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// PushMany returns, in order, what Push would have returned for each
// message: a bad message fails alone, nobody's devices is ErrNoDevices, a
// recorded dedupe key is the recorded push (nothing sent), and the others
// are recorded and sent, once each.
func TestPushManyOutcomes(t *testing.T) {
	ctx := context.Background()
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok1")
	f.register(t, "u2", "d2", "ios", "tok2")
	f.register(t, "u3", "d3", "android", "tok3")
	first, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u3"}, Title: "t", Content: "c", DedupeKey: "k3"})
	require.NoError(t, err)
	calls := f.mock.Calls()

	outs := f.svc.PushMany(ctx, []push.PushRequest{
		{Message: push.Message{UserNums: []string{"u1"}, Title: "one", Content: "c", DedupeKey: "k1"}},
		{Message: push.Message{UserNums: []string{"u1"}, Title: "", Content: "c"}},                   // invalid
		{Message: push.Message{UserNums: []string{"nobody"}, Title: "t", Content: "c"}},              // no devices
		{Message: push.Message{UserNums: []string{"u3"}, Title: "t", Content: "c", DedupeKey: "k3"}}, // recorded
		{Message: push.Message{UserNums: []string{"u1", "u2", "u1"}, Title: "both", Content: "c"}},
	}, nil)
	require.Len(t, outs, 5)

	require.NoError(t, outs[0].Err)
	assert.Equal(t, 1, outs[0].Result.Devices)
	assert.Equal(t, 1, outs[0].Result.Accepted())
	var fe *push.FieldError
	require.ErrorAs(t, outs[1].Err, &fe)
	assert.Equal(t, "title", fe.Field)
	assert.Nil(t, outs[1].Result)
	assert.ErrorIs(t, outs[2].Err, push.ErrNoDevices)
	require.NoError(t, outs[3].Err)
	assert.True(t, outs[3].Result.Duplicate)
	assert.Equal(t, first.PushMessageID, outs[3].Result.PushMessageID)
	require.NoError(t, outs[4].Err)
	assert.Equal(t, 2, outs[4].Result.Devices, "u1 named twice counts once")
	assert.Equal(t, 2, outs[4].Result.Accepted(), "one delivery per platform")

	assert.Equal(t, calls+3, f.mock.Calls(), "one call for the first message, two for the last, none for the others")
	ids := map[int64]bool{first.PushMessageID: true}
	for _, i := range []int{0, 4} {
		assert.False(t, ids[outs[i].Result.PushMessageID], "each push is its own record")
		ids[outs[i].Result.PushMessageID] = true
		for _, d := range outs[i].Result.Deliveries {
			stored, err := f.store.ListDeliveries(ctx, outs[i].Result.PushMessageID)
			require.NoError(t, err)
			assert.True(t, containsDelivery(stored, d.DeliveryID), "an outcome names a delivery of its own push")
		}
	}
	// What PushMany recorded reads as a Push's record does.
	st, err := f.svc.PushStatus(ctx, outs[4].Result.PushMessageID)
	require.NoError(t, err)
	assert.Equal(t, "accepted", st.AndroidStatus)
	assert.Equal(t, "accepted", st.IOSStatus)
}

func containsDelivery(ds []registry.Delivery, id int64) bool {
	for _, d := range ds {
		if d.ID == id {
			return true
		}
	}
	return false
}

// Two messages of one PushMany with the same dedupe key make one push:
// the earlier one's, as two Push calls in that order would, whatever the
// timing of the batch's concurrent creates, and whether either goes to
// more than 500 users (pushed on its own, as by Push).
func TestPushManySameKeyTwice(t *testing.T) {
	many := []string{"u1"}
	for i := range 500 {
		many = append(many, fmt.Sprint("x", i))
	}
	for _, tc := range []struct {
		name          string
		first, second []string
	}{
		{"small then small", []string{"u1"}, []string{"u1"}},
		{"small then large", []string{"u1"}, many},
		{"large then small", many, []string{"u1"}},
		{"large then large", many, many},
	} {
		t.Run(tc.name, func(t *testing.T) {
			for i := range 10 {
				f := newFixture(t, providertest.MockConfig{}, nil)
				f.register(t, "u1", "d1", "android", "tok1")
				m := push.Message{UserNums: tc.first, Title: "first", Content: "c", DedupeKey: "same"}
				later := push.Message{UserNums: tc.second, Title: "second", Content: "c", DedupeKey: "same"}
				outs := f.svc.PushMany(t.Context(), []push.PushRequest{{Message: m}, {Message: later}}, nil)
				require.NoError(t, outs[0].Err)
				require.NoError(t, outs[1].Err)
				assert.Equal(t, outs[0].Result.PushMessageID, outs[1].Result.PushMessageID)
				require.False(t, outs[0].Result.Duplicate, "run %d: the first message is the push", i)
				require.True(t, outs[1].Result.Duplicate, "run %d: the later one is its duplicate", i)
				require.Equal(t, 1, f.mock.Calls())
				assert.Equal(t, "first", f.mock.Requests()[0].Notification.Title)
			}
		})
	}
}

// noFinder hides the Store's registry.DedupeKeyFinder: PushMany then looks
// the keys up one by one, with the same outcomes.
type noFinder struct{ registry.Store }

func TestPushManyWithoutDedupeKeyFinder(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok1")
	_, ok := registry.Store(noFinder{f.store}).(registry.DedupeKeyFinder)
	require.False(t, ok)
	svc, err := push.New(push.Config{Store: noFinder{f.store}, Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	first, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: "k"})
	require.NoError(t, err)
	outs := svc.PushMany(t.Context(), []push.PushRequest{
		{Message: push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: "k"}},
		{Message: push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: "other"}},
	}, nil)
	require.NoError(t, outs[0].Err)
	assert.True(t, outs[0].Result.Duplicate)
	assert.Equal(t, first.PushMessageID, outs[0].Result.PushMessageID)
	require.NoError(t, outs[1].Err)
	assert.False(t, outs[1].Result.Duplicate)
	assert.Equal(t, 2, f.mock.Calls())
}

// failingTargets fails every ListTargets call.
type failingTargets struct{ registry.Store }

func (failingTargets) ListTargets(context.Context, registry.TargetQuery) ([]registry.Target, error) {
	return nil, errors.New("database is down")
}

// A store error while listing the targets fails every message still
// waiting for them, and records nothing.
func TestPushManyStoreError(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok1")
	svc, err := push.New(push.Config{Store: failingTargets{f.store}, Providers: []provider.Provider{f.mock}, Now: f.clk.Now})
	require.NoError(t, err)
	outs := svc.PushMany(t.Context(), []push.PushRequest{
		{Message: push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"}},
		{Message: push.Message{UserNums: []string{"u1"}, Title: "", Content: "c"}},
	}, nil)
	assert.ErrorContains(t, outs[0].Err, "database is down")
	var fe *push.FieldError
	assert.ErrorAs(t, outs[1].Err, &fe, "the bad message keeps its own error")
	assert.Zero(t, f.mock.Calls())
	_, err = f.store.GetPushMessage(t.Context(), 1)
	assert.ErrorIs(t, err, registry.ErrNotFound, "nothing recorded")
}

// PushMany keeps to opts.MaxCalls vendor calls at once, across messages,
// and sends the deliveries in the order of the messages; a message to more
// than 500 users is pushed too.
func TestPushManyBoundsItsCalls(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	var reqs []push.PushRequest
	for i := range 12 {
		u := fmt.Sprintf("u%d", i)
		f.register(t, u, "d"+u, "android", "tok"+u)
		reqs = append(reqs, push.PushRequest{Message: push.Message{UserNums: []string{u}, Title: fmt.Sprint(i), Content: "c"}})
	}
	var many []string
	for i := range 501 {
		u := fmt.Sprintf("big%d", i)
		many = append(many, u)
		f.register(t, u, "d"+u, "ios", "tok"+u)
	}
	reqs = append(reqs, push.PushRequest{Message: push.Message{UserNums: many, Title: "big", Content: "c"}})
	var mu sync.Mutex
	inFlight, peak := 0, 0
	var order []string
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		if r.Platform == provider.Android {
			order = append(order, r.Notification.Title)
		}
		mu.Unlock()
		time.Sleep(5 * time.Millisecond) // overlap the calls as much as PushMany allows
		mu.Lock()
		inFlight--
		mu.Unlock()
		return &provider.Receipt{ID: r.IdempotencyKey}, nil
	})
	outs := f.svc.PushMany(t.Context(), reqs, &push.PushManyOptions{MaxCalls: 1})
	for i, o := range outs {
		require.NoError(t, o.Err, "message %d", i)
		assert.Positive(t, o.Result.Accepted(), "message %d", i)
		assert.Zero(t, o.Result.Pending()+o.Result.Failed(), "message %d", i)
	}
	assert.Equal(t, 501, outs[12].Result.Devices)
	assert.Equal(t, []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "10", "11"}, order, "sent in the order of the messages")
	assert.Equal(t, 1, peak, "one call at a time, the large push's included")
}

// PushMany calls that share a CallLimit keep to its bound together: with
// two of them at once, never more calls in flight than the limit, and the
// limit is reached (the two overlap).
func TestPushManySharedCallLimit(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	var batches [2][]push.PushRequest
	for i := range 16 {
		u := fmt.Sprintf("u%d", i)
		f.register(t, u, "d"+u, "android", "tok"+u)
		batches[i%2] = append(batches[i%2], push.PushRequest{Message: push.Message{UserNums: []string{u}, Title: fmt.Sprint(i), Content: "c"}})
	}
	var mu sync.Mutex
	inFlight, peak := 0, 0
	f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
		mu.Lock()
		inFlight++
		peak = max(peak, inFlight)
		mu.Unlock()
		time.Sleep(10 * time.Millisecond)
		mu.Lock()
		inFlight--
		mu.Unlock()
		return &provider.Receipt{ID: r.IdempotencyKey}, nil
	})
	limit := push.NewCallLimit(3)
	var wg sync.WaitGroup
	var outs [2][]push.PushOutcome
	for i := range batches {
		wg.Go(func() {
			// MaxCalls is ignored when Calls is set.
			outs[i] = f.svc.PushMany(t.Context(), batches[i], &push.PushManyOptions{Calls: limit, MaxCalls: 100})
		})
	}
	wg.Wait()
	for i := range outs {
		for j, o := range outs[i] {
			require.NoError(t, o.Err, "batch %d message %d", i, j)
			assert.Equal(t, 1, o.Result.Accepted(), "batch %d message %d", i, j)
		}
	}
	assert.Equal(t, 3, peak, "the two batches together keep to the shared limit")
	assert.Equal(t, 16, f.mock.Calls())
}

// A PushMany whose caller gave up before anything was recorded records
// and sends nothing, and says why.
func TestPushManyCancelledBeforeRecording(t *testing.T) {
	f := newFixture(t, providertest.MockConfig{}, nil)
	f.register(t, "u1", "d1", "android", "tok1")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	outs := f.svc.PushMany(ctx, []push.PushRequest{{Message: push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"}}}, nil)
	require.Error(t, outs[0].Err)
	assert.ErrorIs(t, outs[0].Err, context.Canceled)
	assert.Zero(t, f.mock.Calls(), "nothing sent after the caller gave up")
}

// Two instances (two pools, two Services) run PushMany over the same
// messages at once, on every database: each dedupe key makes one push and
// one vendor call, whichever instance records it, and the other instance
// answers with that push as a duplicate.
func TestPushManyAcrossInstances(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			dbtest.SkipUnlessAvailable(t, d)
			db, dsn := dbtest.Open(t, d)
			ctx := t.Context()
			m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
			require.NoError(t, err)
			var svcs []*push.Service
			for i := range 2 {
				pool := db
				if i > 0 {
					pool = dbtest.OpenPool(t, d, dsn)
				}
				st, err := sqlstore.New(pool, sqlstore.Options{Dialect: d})
				require.NoError(t, err)
				require.NoError(t, st.Migrate(ctx))
				svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}})
				require.NoError(t, err)
				svcs = append(svcs, svc)
			}
			const n = 40
			var reqs []push.PushRequest
			for i := range n {
				u := fmt.Sprintf("u%02d", i)
				_, err := svcs[0].RegisterDevice(ctx, push.Device{UserNum: u, UUID: "d" + u, Platform: "android", PushToken: "tok" + u})
				require.NoError(t, err)
				reqs = append(reqs, push.PushRequest{Message: push.Message{UserNums: []string{u}, Title: "t", Content: "c", DedupeKey: "key-" + u}})
			}
			outs := make([][]push.PushOutcome, 2)
			var wg sync.WaitGroup
			for i, svc := range svcs {
				wg.Go(func() { outs[i] = svc.PushMany(ctx, reqs, nil) })
			}
			wg.Wait()
			for i := range n {
				a, b := outs[0][i], outs[1][i]
				require.NoError(t, a.Err, "message %d", i)
				require.NoError(t, b.Err, "message %d", i)
				assert.Equal(t, a.Result.PushMessageID, b.Result.PushMessageID, "message %d: one push for its key", i)
				assert.True(t, a.Result.Duplicate != b.Result.Duplicate, "message %d: one instance recorded it, the other found it", i)
			}
			assert.Equal(t, n, m.Calls(), "one vendor call per key")
			var pushes int
			require.NoError(t, db.QueryRowContext(ctx, "SELECT COUNT(*) FROM sys_push_messages").Scan(&pushes))
			assert.Equal(t, n, pushes)
		})
	}
}

// A user_num that no database can compare (invalid UTF-8, a NUL, which
// PostgreSQL refuses in any query) fails its own message with a FieldError
// before anything is listed; the other messages of the PushMany, whose
// users are listed in one query, are sent, on every database.
func TestPushManyUnlistableUserFailsAlone(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := t.Context()
			svc, m := newOneUserService(t, d)
			outs := svc.PushMany(ctx, []push.PushRequest{
				{Message: push.Message{UserNums: []string{"u1", "nul\x00"}, Title: "t", Content: "c"}},
				{Message: push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"}},
				{Message: push.Message{UserNums: []string{"bad\xff"}, Title: "t", Content: "c"}},
			}, nil)
			for _, i := range []int{0, 2} {
				var fe *push.FieldError
				require.ErrorAs(t, outs[i].Err, &fe, "message %d", i)
				assert.Equal(t, "user_num", fe.Field)
				assert.Nil(t, outs[i].Result)
			}
			require.NoError(t, outs[1].Err)
			assert.Equal(t, 1, outs[1].Result.Accepted())
			assert.Equal(t, 1, m.Calls(), "only the good message was sent")
		})
	}
}

// A DedupeKey that no database can store (invalid UTF-8, a NUL, which
// PostgreSQL refuses in any query, or longer than the column) fails its
// own message with a FieldError naming dedupe_key before it is looked up;
// the other messages of the PushMany, whose keys are looked up in one
// query, are sent, on every database. Push and Broadcast refuse it alike.
func TestPushManyBadDedupeKeyFailsAlone(t *testing.T) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			ctx := t.Context()
			svc, m := newOneUserService(t, d)
			bad := []string{"bad\xff", "nul\x00", strings.Repeat("k", registry.MaxVarchar+1)}
			reqs := []push.PushRequest{{Message: push.Message{UserNums: []string{"u1"}, Title: "good", Content: "c", DedupeKey: "good-key"}}}
			for _, k := range bad {
				reqs = append(reqs, push.PushRequest{Message: push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: k}})
			}
			outs := svc.PushMany(ctx, reqs, nil)
			require.NoError(t, outs[0].Err)
			assert.Equal(t, 1, outs[0].Result.Accepted())
			for i := range bad {
				var fe *push.FieldError
				require.ErrorAs(t, outs[i+1].Err, &fe, "message %d", i+1)
				assert.Equal(t, "dedupe_key", fe.Field)
				assert.ErrorIs(t, outs[i+1].Err, push.ErrInvalid)
				assert.Nil(t, outs[i+1].Result)
			}
			for _, k := range bad {
				_, err := svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: k})
				var fe *push.FieldError
				require.ErrorAs(t, err, &fe, "Push, key %q", k)
				assert.Equal(t, "dedupe_key", fe.Field)
				_, err = svc.Broadcast(ctx, push.Broadcast{Platform: "android", Title: "t", Content: "c", DedupeKey: k})
				require.ErrorAs(t, err, &fe, "Broadcast, key %q", k)
				assert.Equal(t, "dedupe_key", fe.Field)
			}
			assert.Equal(t, 1, m.Calls(), "only the good message was sent")
		})
	}
}

// newOneUserService returns a Service on a fresh, migrated database of
// dialect d (skipped when it is not available) with a Mock Umeng, and user
// u1 registered on one Android device.
func newOneUserService(t *testing.T, d sqlstore.Dialect) (*push.Service, *providertest.Mock) {
	t.Helper()
	svc, m, _ := newMockSQLService(t, d, nil)
	_, err := svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: "tok1"})
	require.NoError(t, err)
	return svc, m
}

// newMockSQLService returns a Service on a fresh, migrated database of
// dialect d (skipped when it is not available), pushing through a Mock
// "umeng", logging to log (nil: the default), and the database's pool.
func newMockSQLService(t *testing.T, d sqlstore.Dialect, log *slog.Logger) (*push.Service, *providertest.Mock, *sql.DB) {
	t.Helper()
	db, _ := dbtest.Open(t, d)
	st, err := sqlstore.New(db, sqlstore.Options{Dialect: d})
	require.NoError(t, err)
	require.NoError(t, st.Migrate(t.Context()))
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: st, Providers: []provider.Provider{m}, Logger: log})
	require.NoError(t, err)
	return svc, m, db
}
