package push_test

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
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
	var lookups atomic.Int32
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) { c.Store = dedupeLookups{c.Store, &lookups} })
	svc, ms, m := f.svc, f.store, f.mock
	f.register(t, "u1", "d1", "android", "tok1")
	for _, key := range []string{"k\x00", "k\xff", strings.Repeat("k", registry.MaxVarchar+1)} {
		_, err := svc.Push(t.Context(), push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c", DedupeKey: key})
		var fe *push.FieldError
		require.ErrorAs(t, err, &fe, "%q", key)
		assert.Equal(t, "dedupe_key", fe.Field)
	}
	assert.Zero(t, lookups.Load(), "refused before the look-up")
	assert.Zero(t, m.Calls())
	_, err := ms.GetPushMessage(t.Context(), 1)
	assert.ErrorIs(t, err, registry.ErrNotFound, "nothing recorded")
}
