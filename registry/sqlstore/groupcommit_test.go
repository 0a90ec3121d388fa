package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestFinishCenterMessageConcurrently finishes 40 claimed rows at once,
// so that they are written in shared transactions, with two finishes
// under a wrong claim token among them: those two fail alone with
// ErrClaimLost and leave their rows claimed; every other row is finished
// with its own outcome.
func TestFinishCenterMessageConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ctx := t.Context()
		const n = 40
		for i := range n {
			require.NoError(t, s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Title: "t", Content: "c", NotifyMode: "push", Receivers: fmt.Sprint("u", i)}))
		}
		rows, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: n, Lease: time.Hour})
		require.NoError(t, err)
		require.Len(t, rows, n)
		lost := map[int64]bool{rows[3].ID: true, rows[17].ID: true}
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range rows {
			wg.Go(func() {
				m := rows[i]
				if lost[m.ID] {
					m.ClaimToken += "-stale"
				}
				m.SendState, m.SendResult, m.Remark = registry.SendStateSent, fmt.Sprint("push_message#", m.ID), ""
				errs[i] = s.FinishCenterMessage(ctx, &m)
			})
		}
		wg.Wait()
		for i, m := range rows {
			got, err := s.GetCenterMessage(ctx, m.ID)
			require.NoError(t, err)
			if lost[m.ID] {
				assert.ErrorIs(t, errs[i], registry.ErrClaimLost, "row %d", m.ID)
				assert.Equal(t, registry.SendStateUnsent, got.SendState, "row %d", m.ID)
				assert.Equal(t, m.ClaimToken, got.ClaimToken, "row %d keeps its claim", m.ID)
				continue
			}
			require.NoError(t, errs[i], "row %d", m.ID)
			assert.Equal(t, registry.SendStateSent, got.SendState, "row %d", m.ID)
			assert.Equal(t, fmt.Sprint("push_message#", m.ID), got.SendResult, "row %d", m.ID)
			assert.Empty(t, got.ClaimToken, "row %d", m.ID)
		}
	})
}

// TestCreatePushMessageConcurrently records 30 pushes at once, so that they
// are written in shared transactions; two of them reuse the dedupe key of
// another. Exactly one push per key is stored, each duplicate fails alone
// with ErrConflict and changes nothing, and every stored push has its own
// deliveries, ids and tallies.
func TestCreatePushMessageConcurrently(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		const n = 30
		key := func(i int) string {
			if i == 7 || i == 21 {
				i = 5 // the duplicates
			}
			return fmt.Sprint("dedupe-", i)
		}
		msgs := make([]*registry.PushMessage, n)
		dss := make([][]*registry.Delivery, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		for i := range n {
			msgs[i] = &registry.PushMessage{Title: fmt.Sprint("t", i), Content: "c", PushType: registry.PushTypeUsers, DedupeKey: key(i)}
			dss[i] = []*registry.Delivery{
				delivery(fmt.Sprint("k", i, "-a"), registry.PlatformAndroid, base, fmt.Sprint("tokA", i)),
				delivery(fmt.Sprint("k", i, "-i"), registry.PlatformIOS, base, fmt.Sprint("tokI", i)),
			}
			wg.Go(func() { errs[i] = s.CreatePushMessage(ctx, msgs[i], dss[i]) })
		}
		wg.Wait()
		winners := map[string]int{}
		for i := range n {
			if errs[i] != nil {
				require.ErrorIs(t, errs[i], registry.ErrConflict, "push %d", i)
				assert.Zero(t, msgs[i].ID, "push %d: a failed create changes nothing", i)
				assert.Zero(t, dss[i][0].ID, "push %d", i)
				continue
			}
			winners[key(i)]++
			got, err := s.GetPushMessage(ctx, msgs[i].ID)
			require.NoError(t, err)
			assert.Equal(t, fmt.Sprint("t", i), got.Title)
			ds, err := s.ListDeliveries(ctx, msgs[i].ID)
			require.NoError(t, err)
			require.Len(t, ds, 2, "push %d", i)
			assert.Equal(t, dss[i][0].ID, ds[0].ID)
			assert.Equal(t, []string{fmt.Sprint("tokA", i)}, ds[0].Tokens)
			assert.Equal(t, msgs[i].ID, dss[i][1].PushMessageID)
			assert.Equal(t, fmt.Sprint("tokI", i), got.IOS.DeviceTokens)
		}
		assert.Len(t, winners, n-2)
		for k, c := range winners {
			assert.Equal(t, 1, c, "key %s", k)
		}
		assert.Equal(t, n-2, count(t, db, "sys_push_messages"))
		assert.Equal(t, 2*(n-2), count(t, db, "sys_push_deliveries"))
	})
}
