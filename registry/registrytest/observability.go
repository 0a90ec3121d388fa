package registrytest

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// testTraceParent covers the W3C traceparent a push keeps, so that a
// retry by any instance links to the trace of the call that recorded it.
func testTraceParent(t *testing.T, f Factory) {
	const tp = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
	t.Run("RoundTrip", func(t *testing.T) {
		s := f.New(t)
		m := pushMessage("traced", "traced-key")
		m.TraceParent = tp
		createPush(t, s, m, pending("traced", registry.PlatformIOS, 0, at(0), "t"))
		for _, get := range []func() (registry.PushMessage, error){
			func() (registry.PushMessage, error) { return s.GetPushMessage(t.Context(), m.ID) },
			func() (registry.PushMessage, error) { return s.GetPushMessageByDedupeKey(t.Context(), "traced-key") },
		} {
			got, err := get()
			require.NoError(t, err)
			assert.Equal(t, tp, got.TraceParent)
		}
		plain := pushMessage("untraced", "")
		createPush(t, s, plain, pending("untraced", registry.PlatformIOS, 0, at(0), "t"))
		got, err := s.GetPushMessage(t.Context(), plain.ID)
		require.NoError(t, err)
		assert.Empty(t, got.TraceParent)
	})

	t.Run("RefusesInvalidValues", func(t *testing.T) {
		s := f.New(t)
		for name, v := range map[string]string{
			"too long":  tp + strings.Repeat("0", registry.MaxTraceParent-len(tp)+1),
			"non-ASCII": "00-追踪",
			"space":     "00 " + tp[3:],
		} {
			m := pushMessage("bad trace "+name, "")
			m.TraceParent = v
			err := s.CreatePushMessage(t.Context(), m, []*registry.Delivery{pending("bad-trace-"+name, registry.PlatformIOS, 0, at(0), "t")})
			requireInvalid(t, err, "trace_parent")
		}
		requireNoDueDeliveries(t, s)
	})
}

// testBacklog covers registry.BacklogCounter, for stores that implement
// it: due and unsent deliveries and center rows are counted, claimed or
// not, and nothing else.
func testBacklog(t *testing.T, f Factory) {
	s := f.New(t)
	bc, ok := s.(registry.BacklogCounter)
	if !ok {
		t.Skip("the store does not implement registry.BacklogCounter")
	}
	backlog := func(now time.Time) (int64, int64) {
		t.Helper()
		d, c, err := bc.Backlog(t.Context(), now)
		require.NoError(t, err)
		return d, c
	}
	d, c := backlog(at(0))
	assert.Equal(t, [2]int64{0, 0}, [2]int64{d, c}, "an empty store has no backlog")

	createPush(t, s, pushMessage("backlog", ""),
		pending("due", registry.PlatformIOS, 0, at(0), "t1"),
		pending("later", registry.PlatformIOS, 1, at(10*time.Minute), "t2"),
		pending("done", registry.PlatformAndroid, 0, at(0), "t3"))
	enqueue(t, s, centerMessage("due row", 0))
	later := centerMessage("later row", 0)
	later.SendAt = ptr(at(time.Hour))
	enqueue(t, s, later)

	d, c = backlog(at(0))
	assert.Equal(t, [2]int64{2, 1}, [2]int64{d, c}, "due now: two deliveries, one row")
	d, c = backlog(at(2 * time.Hour))
	assert.Equal(t, [2]int64{3, 2}, [2]int64{d, c}, "everything is due later")

	// Claimed but not sent still counts; finished no longer does.
	claimed, err := s.ClaimDeliveries(t.Context(), sendClaim(at(0), 10))
	require.NoError(t, err)
	require.Len(t, claimed, 2)
	dd := find(t, claimed, "done")
	dd.State, dd.Ret = registry.DeliveryDone, registry.RetSuccess
	require.NoError(t, s.FinishDelivery(t.Context(), &dd))
	rows, err := s.ClaimCenterMessages(t.Context(), centerClaim(at(0), 10))
	require.NoError(t, err)
	require.Len(t, rows, 1)
	d, c = backlog(at(0))
	assert.Equal(t, [2]int64{1, 1}, [2]int64{d, c}, "the claimed row and delivery are still unsent")
	rows[0].SendState = registry.SendStateSent
	require.NoError(t, s.FinishCenterMessage(t.Context(), &rows[0]))
	d, c = backlog(at(2 * time.Hour))
	assert.Equal(t, [2]int64{2, 1}, [2]int64{d, c}, "sent and done work is not backlog")

	_, _, err = bc.Backlog(t.Context(), time.Time{})
	requireInvalid(t, err, "now")
}
