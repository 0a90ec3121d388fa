package push_test

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	push "github.com/tuisong/push"
	"github.com/tuisong/push/provider/providertest"
	"github.com/tuisong/push/registry"
)

// armingTargets is a store that arms armed once it has listed targets.
type armingTargets struct {
	registry.Store
	armed *atomic.Bool
}

func (s armingTargets) ListTargets(ctx context.Context, q registry.TargetQuery) ([]registry.Target, error) {
	ts, err := s.Store.ListTargets(ctx, q)
	s.armed.Store(true)
	return ts, err
}

// TestPushStoppedBeforeItIsRecordedRecordsNothing: a caller whose ctx
// ends after the targets are listed and before the push is recorded gets
// ctx's error, and nothing is recorded or sent: the commit, once begun,
// runs on its own clock, so the check before it is what keeps a push its
// caller gave up on from being recorded.
func TestPushStoppedBeforeItIsRecordedRecordsNothing(t *testing.T) {
	var armed atomic.Bool
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	f := newFixture(t, providertest.MockConfig{}, func(c *push.Config) {
		c.Store = armingTargets{c.Store, &armed}
		now := c.Now
		c.Now = func() time.Time {
			if armed.Load() {
				cancel() // the Service's next look at its clock, after the listing
			}
			return now()
		}
	})
	f.register(t, "u1", "d1", "android", "tok1")
	_, err := f.svc.Push(ctx, push.Message{UserNums: []string{"u1"}, Title: "t", Content: "c"})
	require.ErrorIs(t, err, context.Canceled)
	assert.True(t, armed.Load(), "the targets were listed")
	_, err = f.store.GetPushMessage(t.Context(), 1)
	assert.ErrorIs(t, err, registry.ErrNotFound, "nothing recorded")
	assert.Zero(t, f.mock.Calls())
}
