package registrytest

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// Factory makes stores for the suite.
type Factory struct {
	// New returns a fresh, empty store (migrated, if it has a schema). It is
	// called once per subtest that needs isolation, with that subtest's t,
	// so it may register cleanups and skip. Required.
	New func(t *testing.T) registry.Store
	// NewShared returns n stores over one fresh, empty data set, each with
	// its own connections, for the concurrency tests. nil means: call New
	// once and use that store from every goroutine.
	NewShared func(t *testing.T, n int) []registry.Store
	// ForgetTallies, when set, makes the summary of push message id look
	// as if a program that keeps no running account of it had written it
	// (for sqlstore: its tally columns NULL, as in rows from before the
	// migration that added them). The summary columns stay as they are;
	// the next finish must still leave them equal to registry.Summarize.
	// nil skips the subtest that needs it.
	ForgetTallies func(t *testing.T, s registry.Store, id int64)
	// RequireOptional makes the suite fail, naming them, when the store
	// lacks any of package registry's optional interfaces
	// (registry.MissingOptional), instead of skipping the subtests that
	// need them: set it for a store meant to have them all, such as a
	// decorator of sqlstore.Store, which hides them all when it embeds
	// the registry.Store interface.
	RequireOptional bool
}

// shared returns n stores over one fresh data set.
func (f Factory) shared(t *testing.T, n int) []registry.Store {
	t.Helper()
	if f.NewShared == nil {
		s := f.New(t)
		out := make([]registry.Store, n)
		for i := range out {
			out[i] = s
		}
		return out
	}
	out := f.NewShared(t, n)
	require.Len(t, out, n, "Factory.NewShared returned the wrong number of stores")
	return out
}

// Run runs the conformance suite against the stores f makes. Each semantic
// is a subtest named after it (Devices/OneActiveUser,
// Deliveries/FinishWithStaleToken, …), so a failing store shows which rule
// it broke. The suite never sleeps and never reads the real clock: claims
// run at explicit times on a fake base time.
func Run(t *testing.T, f Factory) {
	t.Helper()
	require.NotNil(t, f.New, "registrytest: Factory.New is required")
	if f.RequireOptional {
		t.Run("OptionalInterfaces", func(t *testing.T) {
			assert.Empty(t, registry.MissingOptional(f.New(t)), "optional interfaces the store lacks (RequireOptional)")
		})
	}
	t.Run("Devices", func(t *testing.T) { testDevices(t, f) })
	t.Run("Targets", func(t *testing.T) { testTargets(t, f) })
	t.Run("PushMessages", func(t *testing.T) { testPushMessages(t, f) })
	t.Run("Deliveries", func(t *testing.T) { testDeliveries(t, f) })
	t.Run("Renew", func(t *testing.T) { testRenew(t, f) })
	t.Run("RetryTokens", func(t *testing.T) { testRetryTokens(t, f) })
	t.Run("ConcurrentFinishes", func(t *testing.T) { testConcurrentFinishes(t, f) })
	t.Run("ClassAndOverrides", func(t *testing.T) { testClassAndOverrides(t, f) })
	t.Run("TraceParent", func(t *testing.T) { testTraceParent(t, f) })
	t.Run("Backlog", func(t *testing.T) { testBacklog(t, f) })
	t.Run("Splits", func(t *testing.T) { testSplits(t, f) })
	t.Run("Fanouts", func(t *testing.T) { testFanouts(t, f) })
	t.Run("Receipts", func(t *testing.T) { testReceipts(t, f) })
	t.Run("HeldReceipts", func(t *testing.T) { testHeldReceipts(t, f) })
	t.Run("Summaries", func(t *testing.T) { testSummaries(t, f) })
	t.Run("Identifiers", func(t *testing.T) { testIdentifiers(t, f) })
	t.Run("Reads", func(t *testing.T) { testReads(t, f) })
	t.Run("CenterMessages", func(t *testing.T) { testCenterMessages(t, f) })
	t.Run("CenterLeases", func(t *testing.T) { testCenterLeases(t, f) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, f) })
}
