package push_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/memstore"
)

// dedupeLookups is a store that counts its look-ups by dedupe key.
type dedupeLookups struct {
	registry.Store
	n *atomic.Int32
}

func (s dedupeLookups) GetPushMessageByDedupeKey(ctx context.Context, key string) (registry.PushMessage, error) {
	s.n.Add(1)
	return s.Store.GetPushMessageByDedupeKey(ctx, key)
}

// TestDedupeKeyNoColumnHoldsIsRefusedBeforeItIsLookedUp: a DedupeKey
// that is not UTF-8, holds a NUL or is longer than the column is a
// *FieldError naming dedupe_key before the store is asked about it (a
// look-up PostgreSQL would fail with an error of its own), and nothing is
// recorded or sent.
func TestDedupeKeyNoColumnHoldsIsRefusedBeforeItIsLookedUp(t *testing.T) {
	clk := newClock()
	ms, err := memstore.New(memstore.Config{Now: clk.Now})
	require.NoError(t, err)
	var lookups atomic.Int32
	m, err := providertest.NewMock(providertest.MockConfig{Name: "umeng"})
	require.NoError(t, err)
	svc, err := push.New(push.Config{Store: dedupeLookups{ms, &lookups}, Providers: []provider.Provider{m}, Now: clk.Now,
		Retry: push.RetryPolicy{Base: 30 * time.Second, Jitter: -1, MaxAttempts: 3}})
	require.NoError(t, err)
	_, err = svc.RegisterDevice(t.Context(), push.Device{UserNum: "u1", UUID: "d1", Platform: "android", PushToken: "tok1"})
	require.NoError(t, err)
	for _, key := range []string{"k\x00", "k\xff", strings.Repeat("k", registry.MaxVarchar+1)} {
		_, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: key})
		var fe *push.FieldError
		require.ErrorAs(t, err, &fe, "%q", key)
		assert.Equal(t, "dedupe_key", fe.Field)
	}
	assert.Zero(t, lookups.Load(), "refused before the look-up")
	assert.Zero(t, m.Calls())
}
