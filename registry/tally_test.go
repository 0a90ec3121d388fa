package registry_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// tallyGen makes random deliveries and outcomes, drawing from small sets
// so that ties (equal send times, equal seqs, equally advanced vendor
// states) and long values (receipt ids and responses past 255 characters)
// come up often.
type tallyGen struct {
	r      *rand.Rand
	nextID int64
}

var (
	genStates       = []registry.DeliveryState{registry.DeliveryPending, registry.DeliveryAccepted, registry.DeliveryDone, registry.DeliveryFailed}
	genVendorStates = []string{"", "queued", "scheduled", "sending", "done", "failed", "accepted", "canceled", "odd"}
)

func (g *tallyGen) pick(n int) int { return g.r.IntN(n) }

func (g *tallyGen) receipt() string {
	switch g.pick(6) {
	case 0, 1:
		return ""
	case 2:
		return strings.Repeat("任", 40+g.pick(120))
	default:
		return fmt.Sprintf("uf-%d", g.pick(1000))
	}
}

func (g *tallyGen) sentAt() *time.Time {
	switch g.pick(5) {
	case 0:
		return nil
	case 1:
		t := time.UnixMilli(-int64(1 + g.pick(3)))
		return &t
	default:
		// Few distinct milliseconds: ties are common. Sub-millisecond
		// parts do not count.
		t := time.UnixMilli(int64(g.pick(6))).Add(time.Duration(g.pick(999)) * time.Microsecond)
		return &t
	}
}

func (g *tallyGen) response() string {
	switch g.pick(4) {
	case 0:
		return ""
	case 1:
		return strings.Repeat("响应", 100+g.pick(60))
	default:
		return fmt.Sprintf("response %d", g.pick(100))
	}
}

// outcome gives d a random outcome, as a finish would.
func (g *tallyGen) outcome(d *registry.Delivery) {
	d.State = genStates[g.pick(len(genStates))]
	d.VendorState = genVendorStates[g.pick(len(genVendorStates))]
	if g.pick(3) > 0 {
		d.ReceiptID = g.receipt()
	}
	if g.pick(3) > 0 {
		d.SentAt = g.sentAt()
	}
	d.Response = g.response()
}

func (g *tallyGen) delivery(platform string) registry.Delivery {
	g.nextID++
	d := registry.Delivery{
		ID: g.nextID, Platform: platform, Provider: []string{"getui", "jpush", "umeng"}[g.pick(3)],
		Seq: g.pick(8), Tokens: []string{fmt.Sprintf("t%d", g.nextID)}, State: registry.DeliveryPending,
	}
	if g.pick(2) == 0 {
		g.outcome(&d)
	}
	return d
}

// TestTallyFollowsSummarize is the Tally's property: after any sequence of
// finishes, splits and JSON round trips, Summary is Summarize, whether
// Update could follow a change or the tally was computed anew.
func TestTallyFollowsSummarize(t *testing.T) {
	const runs, steps = 400, 60
	rebuilds, updates := 0, 0
	for run := range runs {
		g := &tallyGen{r: rand.New(rand.NewPCG(uint64(run), 9))}
		var ds []registry.Delivery
		for range 1 + g.pick(12) {
			ds = append(ds, g.delivery(registry.PlatformIOS))
			if g.pick(4) == 0 {
				ds = append(ds, g.delivery(registry.PlatformAndroid))
			}
		}
		tally := registry.NewTally(registry.PlatformIOS, ds)
		check := func(step string) {
			t.Helper()
			want := registry.Summarize(registry.PlatformIOS, ds)
			require.Equal(t, want, tally.Summary(want.DeviceTokens), "run %d, %s", run, step)
		}
		check("new")
		for step := range steps {
			i := g.pick(len(ds))
			old := ds[i]
			if old.State == registry.DeliverySplit || old.Platform != registry.PlatformIOS {
				continue
			}
			nd := old
			if g.pick(15) == 0 {
				nd.State = registry.DeliverySplit
			} else {
				g.outcome(&nd)
			}
			ds[i] = nd
			updates++
			if !tally.Update(&old, &nd) {
				rebuilds++
				tally = registry.NewTally(registry.PlatformIOS, ds)
			}
			if g.pick(5) == 0 {
				b, err := json.Marshal(tally)
				require.NoError(t, err)
				var back registry.Tally
				require.NoError(t, json.Unmarshal(b, &back))
				tally = back
			}
			check(fmt.Sprintf("step %d: %+v -> %+v", step, old, nd))
		}
	}
	t.Logf("%d updates, %d rebuilds", updates, rebuilds)
	assert.Less(t, rebuilds, updates/4, "random outcomes rarely need a rebuild")
}

// TestTallyTypicalPushNeedsNoRebuild: the life of a big push (every
// delivery sent and accepted with a task id, then polled through queued
// and sending to done, some failing) is followed by Update alone, and the
// tally stays small. (Only a push whose polled deliveries mix equally
// advanced states, queued and scheduled, may need a rebuild when the first
// of one of them moves on.)
func TestTallyTypicalPushNeedsNoRebuild(t *testing.T) {
	const n = 400
	ds := make([]registry.Delivery, n)
	for i := range ds {
		ds[i] = registry.Delivery{ID: int64(i + 1), Provider: "umeng", Platform: registry.PlatformAndroid, Seq: i,
			Tokens: []string{"a", "b"}, State: registry.DeliveryPending}
	}
	tally := registry.NewTally(registry.PlatformAndroid, ds)
	base := time.Date(2030, 6, 15, 8, 0, 0, 0, time.UTC)
	finish := func(i int, edit func(d *registry.Delivery)) {
		t.Helper()
		old := ds[i]
		edit(&ds[i])
		require.True(t, tally.Update(&old, &ds[i]), "delivery %d: %+v", i, ds[i])
		want := registry.Summarize(registry.PlatformAndroid, ds)
		require.Equal(t, want, tally.Summary(want.DeviceTokens), "delivery %d", i)
	}
	for i := range ds {
		finish(i, func(d *registry.Delivery) {
			sent := base.Add(time.Duration(i/3) * time.Millisecond)
			d.SentAt, d.Response = &sent, fmt.Sprintf(`{"ret":"SUCCESS","task_id":"uf-%d"}`, i)
			if i%50 == 7 {
				d.State, d.Response = registry.DeliveryFailed, "rate limited for good"
				return
			}
			d.State, d.VendorState, d.ReceiptID = registry.DeliveryAccepted, "queued", fmt.Sprintf("uf-%d", i)
		})
	}
	for _, vs := range []string{"sending", "done"} {
		for i := range ds {
			if ds[i].State != registry.DeliveryAccepted {
				continue
			}
			finish(i, func(d *registry.Delivery) {
				d.VendorState = vs
				if vs == "done" {
					d.State = registry.DeliveryDone
				}
			})
		}
	}
	b, err := json.Marshal(tally)
	require.NoError(t, err)
	assert.Less(t, len(b), 8000, "the tally of %d deliveries is small: %s", n, b)
}

// TestTallyUpdateRefusesAnotherDelivery: old and new must be one delivery.
func TestTallyUpdateRefusesAnotherDelivery(t *testing.T) {
	a := registry.Delivery{ID: 1, Provider: "umeng", Platform: registry.PlatformIOS, State: registry.DeliveryPending}
	tally := registry.NewTally(registry.PlatformIOS, []registry.Delivery{a})
	for name, edit := range map[string]func(d *registry.Delivery){
		"id":       func(d *registry.Delivery) { d.ID = 2 },
		"provider": func(d *registry.Delivery) { d.Provider = "jpush" },
		"seq":      func(d *registry.Delivery) { d.Seq = 3 },
		"platform": func(d *registry.Delivery) { d.Platform = registry.PlatformAndroid },
	} {
		b := a
		edit(&b)
		c := tally
		assert.False(t, c.Update(&a, &b), name)
	}
	assert.False(t, tally.Update(nil, &a))
	assert.False(t, tally.Update(&a, nil))
}

// TestTallyOfAnEarlierReleaseIsRebuilt: a tally kept before a done
// delivery's sending was reported as accepted counts it under "sending";
// an update of that delivery reports the tally out of step, so that the
// caller computes it anew, rather than drop a count it does not hold.
func TestTallyOfAnEarlierReleaseIsRebuilt(t *testing.T) {
	old := registry.Delivery{ID: 1, Provider: "jpush", Platform: registry.PlatformIOS, State: registry.DeliveryDone,
		VendorState: "sending", Tokens: []string{"a"}}
	tally := registry.Tally{Accepted: 1, Finals: map[string]int{"sending": 1}}
	next := old
	next.Response = "counts"
	assert.False(t, tally.Update(&old, &next), "accepted was never counted")

	tally = registry.NewTally(registry.PlatformIOS, []registry.Delivery{old})
	assert.Equal(t, map[string]int{"accepted": 1}, tally.Finals)
	assert.True(t, tally.Update(&old, &next))
	assert.Equal(t, map[string]int{"accepted": 1}, tally.Finals)
}

// TestSummarizeJoinsTokensAsJoin: the summary's device_tokens are every
// token of the platform's deliveries, in their order, joined by commas,
// empty tokens included, as strings.Join would join them.
func TestSummarizeJoinsTokensAsJoin(t *testing.T) {
	ds := []registry.Delivery{
		{ID: 1, Provider: "umeng", Platform: registry.PlatformAndroid, Seq: 0, Tokens: []string{"", "a"}, State: registry.DeliveryPending},
		{ID: 2, Provider: "umeng", Platform: registry.PlatformAndroid, Seq: 1, Tokens: []string{""}, State: registry.DeliveryPending},
		{ID: 3, Provider: "umeng", Platform: registry.PlatformAndroid, Seq: 2, Tokens: []string{"b", ""}, State: registry.DeliveryPending},
		{ID: 4, Provider: "umeng", Platform: registry.PlatformIOS, Seq: 0, Tokens: []string{"ios"}, State: registry.DeliveryPending},
	}
	assert.Equal(t, strings.Join([]string{"", "a", "", "b", ""}, ","), registry.Summarize(registry.PlatformAndroid, ds).DeviceTokens)
	assert.Equal(t, "ios", registry.Summarize(registry.PlatformIOS, ds).DeviceTokens)
	assert.Empty(t, registry.Summarize(registry.PlatformIOS, ds[:3]).DeviceTokens)
}
