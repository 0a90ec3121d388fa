package push_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/getui"
	"github.com/tuisong/push/getui/getuitest"
	"github.com/tuisong/push/internal/dbtest"
	"github.com/tuisong/push/jpush"
	"github.com/tuisong/push/jpush/jpushtest"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
	"github.com/tuisong/push/registry/sqlstore"
)

// retryVendor is a fake vendor whose push can lose its answer after
// delivering, and a factory of Clients of it: each Client is another
// process's, with nothing in memory.
type retryVendor struct {
	name      string
	tokens    []string // one user's devices: one delivery
	newClient func(t *testing.T) provider.Provider
	loseNext  func(t *testing.T)
	shown     func(token string) int
	prefix    string // of the vendor's RetryToken
}

func retryVendors(t *testing.T, clk *clock) []retryVendor {
	jfake := jpushtest.NewServer(t, jpushtest.Config{Now: clk.Now})
	japp := jpushtest.DefaultApps()[0]
	gfake := getuitest.NewServer(t, getuitest.Config{Now: clk.Now})
	gapp := getuitest.DefaultApps()[0]
	return []retryVendor{
		{
			name:   jpush.Name,
			tokens: []string{jpushtest.RegistrationID("mi-1")},
			newClient: func(t *testing.T) provider.Provider {
				c, err := jpush.New(jpush.Config{AppKey: japp.AppKey, MasterSecret: japp.MasterSecret, BaseURL: jfake.URL,
					ReportBaseURL: jfake.URL, Now: clk.Now, Timeout: 300 * time.Millisecond})
				require.NoError(t, err)
				return c
			},
			loseNext: func(t *testing.T) {
				require.NoError(t, jfake.FailNext(1, jpushtest.Fault{Path: "/v3/push", AfterAccept: true, Timeout: true}))
			},
			shown:  jfake.DeliveryCount,
			prefix: "cid1:",
		},
		{
			name:   getui.Name,
			tokens: []string{getuitest.CID("huawei-1"), getuitest.CID("huawei-2")}, // a list push
			newClient: func(t *testing.T) provider.Provider {
				c, err := getui.New(getui.Config{AppID: gapp.AppID, AppKey: gapp.AppKey, MasterSecret: getui.NewSecret(gapp.MasterSecret),
					BaseURL: gfake.BaseURL(), Now: clk.Now, Timeout: 300 * time.Millisecond})
				require.NoError(t, err)
				return c
			},
			loseNext: func(t *testing.T) {
				require.NoError(t, gfake.FailNext(1, getuitest.Fault{API: "/push/list/cid", AfterAccept: true, Timeout: true}))
			},
			shown:  gfake.DeliveryCount,
			prefix: "task1:",
		},
	}
}

// eachRetryVendor runs test on every database, for each vendor of
// retryVendors, with a user whose devices are the vendor's tokens and
// instance, which makes a Service of its own Client (another process) on
// the store given.
func eachRetryVendor(t *testing.T, test func(t *testing.T, st *sqlstore.Store, clk *clock, v retryVendor, user string,
	instance func(registry.Store) *push.Service)) {
	for _, d := range dbtest.Dialects() {
		t.Run(string(d), func(t *testing.T) {
			clk := newClock()
			st := dbtest.NewStore(t, d)
			for i, v := range retryVendors(t, clk) {
				t.Run(v.name, func(t *testing.T) {
					instance := func(store registry.Store) *push.Service {
						svc, err := push.New(push.Config{Store: store, Providers: []provider.Provider{v.newClient(t)}, Now: clk.Now,
							Retry: push.RetryPolicy{Base: time.Second, Jitter: -1}})
						require.NoError(t, err)
						return svc
					}
					user := fmt.Sprint("u-", t.Name()[:strings.Index(t.Name(), "/")], "-", i)
					for j, tok := range v.tokens {
						_, err := instance(st).RegisterDevice(t.Context(), push.Device{UserNum: user, UUID: fmt.Sprint(user, "-", j),
							Platform: "android", PushPlatform: v.name, PushToken: tok})
						require.NoError(t, err)
					}
					test(t, st, clk, v, user, instance)
				})
			}
		})
	}
}

// pushedOnceBy pushes to user through a, checks the vendor delivered it
// and the token stored with the delivery, and returns the delivery.
func pushedOnceBy(t *testing.T, a *push.Service, st *sqlstore.Store, v retryVendor, user string) registry.Delivery {
	t.Helper()
	res, err := a.Push(t.Context(), push.Message{UserNums: []string{user}, Title: "到货提醒", Content: "您关注的商品已到货"})
	require.NoError(t, err)
	for _, tok := range v.tokens {
		require.Equal(t, 1, v.shown(tok), "the vendor delivered")
	}
	ds, err := st.ListDeliveries(t.Context(), res.PushMessageID)
	require.NoError(t, err)
	require.Len(t, ds, 1)
	assert.True(t, strings.HasPrefix(ds[0].RetryToken, v.prefix), "the stored token %q", ds[0].RetryToken)
	return ds[0]
}

// retriedOnceBy has b retry the delivery d after a while, and checks that
// each device was shown the push once and that the delivery ended.
func retriedOnceBy(t *testing.T, b *push.Service, st *sqlstore.Store, clk *clock, v retryVendor, d registry.Delivery, wait time.Duration) {
	t.Helper()
	clk.Advance(wait)
	n, err := b.RetryPending(t.Context(), 10)
	require.NoError(t, err)
	assert.Equal(t, 1, n, "instance B retried the delivery")
	for _, tok := range v.tokens {
		assert.Equal(t, 1, v.shown(tok), "shown once, though another instance sent it again")
	}
	ds, err := st.ListDeliveries(t.Context(), d.PushMessageID)
	require.NoError(t, err)
	assert.Contains(t, []registry.DeliveryState{registry.DeliveryAccepted, registry.DeliveryDone}, ds[0].State)
	assert.Empty(t, ds[0].RetryToken, "nothing is left to retry")
}

// TestRetryByAnotherInstanceIsDeduplicated: instance A pushes, the vendor
// delivers and the answer is lost, so the delivery is pending again, with
// the provider's RetryToken stored beside it. Instance B, another process
// whose JPush or Getui Client never saw the first try, retries it: the
// vendor recognises the retry (JPush by its cid, Getui by its list task)
// and every device is shown the push once. On every database.
func TestRetryByAnotherInstanceIsDeduplicated(t *testing.T) {
	eachRetryVendor(t, func(t *testing.T, st *sqlstore.Store, clk *clock, v retryVendor, user string, instance func(registry.Store) *push.Service) {
		a, b := instance(st), instance(st)
		v.loseNext(t)
		d := pushedOnceBy(t, a, st, v, user)
		assert.Equal(t, registry.DeliveryPending, d.State, "the answer was lost: the delivery waits for a retry")
		assert.Equal(t, provider.Indeterminate, provider.ParseKind(d.ErrorKind))
		retriedOnceBy(t, b, st, clk, v, d, time.Minute)
	})
}

// TestRetryTokenKeptBetweenTries: the Service gives every try of a
// delivery the RetryToken its provider's last error left; an accepted try
// clears it; a
// token the store could not keep whole (too long, not UTF-8, with a NUL) is
// dropped, and the outcome is written all the same.
func TestRetryTokenKeptBetweenTries(t *testing.T) {
	tries := []struct {
		err  error
		want string // stored after the try
	}{
		{&provider.Error{Provider: "umeng", Op: "send", Kind: provider.Indeterminate, RetryToken: "v1:first"}, "v1:first"},
		{&provider.Error{Provider: "umeng", Op: "send", Kind: provider.Temporary, RetryToken: strings.Repeat("x", provider.MaxRetryToken+1)}, ""},
		{&provider.Error{Provider: "umeng", Op: "send", Kind: provider.Temporary, RetryToken: "v1:second"}, "v1:second"},
		{&provider.Error{Provider: "umeng", Op: "send", Kind: provider.Temporary, RetryToken: "v1:\xff"}, ""},
		{&provider.Error{Provider: "umeng", Op: "send", Kind: provider.Temporary, RetryToken: "v1:third"}, "v1:third"},
		{&provider.Error{Provider: "umeng", Op: "send", Kind: provider.Temporary, RetryToken: "v1:\x00"}, ""},
		{&provider.Error{Provider: "umeng", Op: "send", Kind: provider.Temporary, RetryToken: "v1:fourth"}, "v1:fourth"},
		{nil, ""},
	}
	f := newFixture(t, providertest.MockConfig{}, func(cfg *push.Config) {
		cfg.Retry = push.RetryPolicy{Base: time.Second, Jitter: -1, MaxAttempts: len(tries) + 1}
	})
	ctx := t.Context()
	f.register(t, "u1", "d1", "android", "tok-1")
	for _, try := range tries {
		if try.err != nil {
			f.mock.Enqueue(providertest.Result{Err: try.err})
		} else {
			f.mock.Enqueue(providertest.Result{Receipt: &provider.Receipt{ID: "task-1"}})
		}
	}
	res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.NoError(t, err)
	id := res.PushMessageID
	given := []string{""}
	for i, try := range tries {
		ds, err := f.store.ListDeliveries(ctx, id)
		require.NoError(t, err)
		require.Len(t, ds, 1)
		require.Equal(t, try.want, ds[0].RetryToken, "after try %d", i+1)
		if i == len(tries)-1 {
			break
		}
		require.Equal(t, registry.DeliveryPending, ds[0].State, "after try %d", i+1)
		given = append(given, ds[0].RetryToken)
		f.clk.Advance(time.Hour)
		n, err := f.svc.RetryPending(ctx, 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
	}
	var sent []string
	for _, r := range f.mock.Requests() {
		sent = append(sent, r.RetryToken)
	}
	assert.Equal(t, given, sent, "each try is given what the one before left")
}

// crashedStore is the Store of an instance that dies after its vendor
// call and before the outcome is written: every FinishDelivery fails.
type crashedStore struct{ *sqlstore.Store }

func (crashedStore) FinishDelivery(context.Context, *registry.Delivery) error {
	return errors.New("the instance died")
}

// TestCrashMidCallIsDeduplicated: instance A stores the delivery's retry
// token before its call (provider.RetryTokenIssuer, registry.RetryTokens:
// JPush's cid, Getui's list task), the vendor delivers, and A dies before
// it writes the outcome. Once the delivery's lease runs out, instance B,
// another process, retries it with that token: the vendor recognises the
// retry and each device is shown the push once. On every database.
func TestCrashMidCallIsDeduplicated(t *testing.T) {
	eachRetryVendor(t, func(t *testing.T, st *sqlstore.Store, clk *clock, v retryVendor, user string, instance func(registry.Store) *push.Service) {
		a, b := instance(crashedStore{st}), instance(st)
		d := pushedOnceBy(t, a, st, v, user)
		require.NotEmpty(t, d.ClaimToken, "A's outcome was never written")
		retriedOnceBy(t, b, st, clk, v, d, time.Hour)
	})
}

// lostClaimStore is a memstore whose claims are all taken over the moment
// a retry token is written.
type lostClaimStore struct{ *memstore.Store }

func (lostClaimStore) SetRetryToken(context.Context, *registry.Delivery, string) error {
	return fmt.Errorf("delivery 1: %w", registry.ErrClaimLost)
}

// TestRetryTokenIssuedBeforeTheCall: with a provider that issues retry
// tokens (provider.RetryTokenIssuer), the Service asks before every try,
// giving the token the last try left, stores a token that differs from
// the stored one before the vendor call and sends it with the call. A
// provider that cannot issue one is called all the same, without; a
// delivery taken over before its call is not sent, and its outcome is
// left to the instance that holds it (Deferred).
func TestRetryTokenIssuedBeforeTheCall(t *testing.T) {
	t.Run("stored, then sent", func(t *testing.T) {
		var issued []string
		var mu sync.Mutex
		f := newFixture(t, providertest.MockConfig{IssueRetryToken: func(r *provider.Request) (string, error) {
			mu.Lock()
			defer mu.Unlock()
			issued = append(issued, r.RetryToken)
			if r.RetryToken != "" {
				return "v2:" + r.IdempotencyKey, nil // the one brought can no longer be used
			}
			return "v1:" + r.IdempotencyKey, nil
		}}, func(cfg *push.Config) { cfg.Retry = push.RetryPolicy{Base: time.Second, Jitter: -1, MaxAttempts: 3} })
		ctx := t.Context()
		f.register(t, "u1", "d1", "android", "tok-1")
		var stored []string
		f.mock.SetSendFunc(func(ctx context.Context, r *provider.Request) (*provider.Receipt, error) {
			ms, err := f.store.ListPushMessages(ctx, registry.PushMessageQuery{})
			require.NoError(t, err)
			ds, err := f.store.ListDeliveries(ctx, ms[0].ID)
			require.NoError(t, err)
			stored = append(stored, ds[0].RetryToken)
			if len(stored) == 1 {
				return nil, &provider.Error{Kind: provider.Indeterminate, RetryToken: r.RetryToken}
			}
			return &provider.Receipt{ID: "task-1"}, nil
		})
		res, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
		require.NoError(t, err)
		require.Equal(t, 1, res.Pending())
		f.clk.Advance(time.Hour)
		_, err = f.svc.RetryPending(ctx, 10)
		require.NoError(t, err)

		reqs := f.mock.Requests()
		require.Len(t, reqs, 2)
		key := reqs[0].IdempotencyKey
		assert.Equal(t, []string{"", "v1:" + key}, issued, "asked before each try, given the token the last one left")
		assert.Equal(t, []string{"v1:" + key, "v2:" + key}, stored, "in the store before each call, the replacement included")
		assert.Equal(t, "v1:"+key, reqs[0].RetryToken)
		assert.Equal(t, "v2:"+key, reqs[1].RetryToken)
		d := onlyDelivery(t, f.store, res.PushMessageID)
		assert.Equal(t, registry.DeliveryDone, d.State)
		assert.Empty(t, d.RetryToken, "cleared once accepted")
	})

	t.Run("none to be had", func(t *testing.T) {
		for name, issue := range map[string]func(*provider.Request) (string, error){
			"error":    func(*provider.Request) (string, error) { return "", errors.New("vendor down") },
			"unusable": func(*provider.Request) (string, error) { return "v1:\x00", nil },
			"too long": func(*provider.Request) (string, error) { return strings.Repeat("x", provider.MaxRetryToken+1), nil },
			"no token": func(*provider.Request) (string, error) { return "", nil },
		} {
			t.Run(name, func(t *testing.T) {
				f := newFixture(t, providertest.MockConfig{IssueRetryToken: issue}, nil)
				f.register(t, "u1", "d1", "android", "tok-1")
				res, err := f.svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
				require.NoError(t, err)
				assert.Equal(t, 1, res.Accepted(), "sent all the same")
				require.Len(t, f.mock.Requests(), 1)
				assert.Empty(t, f.mock.Requests()[0].RetryToken)
			})
		}
	})

	t.Run("taken over before the call", func(t *testing.T) {
		clk := newClock()
		st, err := memstore.New(memstore.Config{Now: clk.Now})
		require.NoError(t, err)
		m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng",
			IssueRetryToken: func(*provider.Request) (string, error) { return "v1:t", nil }})
		require.NoError(t, err)
		svc, err := push.New(push.Config{Store: lostClaimStore{st}, Providers: []provider.Provider{m}, Now: clk.Now})
		require.NoError(t, err)
		_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: "tok-1"})
		require.NoError(t, err)
		res, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
		require.NoError(t, err)
		assert.Zero(t, m.Calls(), "not sent: another instance holds it")
		require.Len(t, res.Deliveries, 1)
		assert.True(t, res.Deliveries[0].Deferred, "its outcome is the other instance's")
		assert.Zero(t, res.Accepted())
		assert.Zero(t, res.Failed())
	})
}

// TestCrashAfterAStaleTokenIsDeduplicated: a JPush retry a day after the
// first try brings a cid JPush no longer keeps; the Client takes another,
// and the Service stores that one before the call too. Instance B dies
// mid-call after JPush delivered with the new cid; instance C's retry
// sends that cid and JPush shows the push no third time.
func TestCrashAfterAStaleTokenIsDeduplicated(t *testing.T) {
	eachRetryVendor(t, func(t *testing.T, st *sqlstore.Store, clk *clock, v retryVendor, user string, instance func(registry.Store) *push.Service) {
		if v.name != jpush.Name {
			t.Skip("only a JPush cid is kept for less than the push lives")
		}
		a, b, c := instance(st), instance(crashedStore{st}), instance(st)
		v.loseNext(t)
		first := pushedOnceBy(t, a, st, v, user)
		require.Equal(t, registry.DeliveryPending, first.State)

		clk.Advance(24 * time.Hour)
		n, err := b.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		require.Equal(t, 2, v.shown(v.tokens[0]), "the old cid could not be reused: shown again")
		ds, err := st.ListDeliveries(t.Context(), first.PushMessageID)
		require.NoError(t, err)
		require.NotEqual(t, first.RetryToken, ds[0].RetryToken, "the new cid was stored before B's call")

		clk.Advance(time.Hour)
		n, err = c.RetryPending(t.Context(), 10)
		require.NoError(t, err)
		require.Equal(t, 1, n)
		assert.Equal(t, 2, v.shown(v.tokens[0]), "C's retry of B's try is deduplicated")
	})
}
