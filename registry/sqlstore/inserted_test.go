package sqlstore_test

import (
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// TestRegisterDeviceInsertedOnceWhenFirstRegistrationsRace: first
// registrations of one device with different tokens (which do not take
// turns on a token's lock) at once make one device, and exactly one of
// them reports that it inserted it; the others updated it. A
// registration of a stored device inserts nothing.
func TestRegisterDeviceInsertedOnceWhenFirstRegistrationsRace(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, _ := newStore(t, d)
		ctx := t.Context()
		const devices, racers = 10, 8
		for dev := range devices {
			uuid := fmt.Sprint("raced-", dev)
			var (
				mu       sync.Mutex
				ids      = map[int64]bool{}
				inserted int
				wg       sync.WaitGroup
				start    = make(chan struct{})
			)
			for i := range racers {
				wg.Go(func() {
					<-start
					got, _, ins, err := s.RegisterDeviceInserted(ctx, device(uuid, registry.PlatformAndroid, fmt.Sprint("tok-", dev, "-", i)),
						fmt.Sprint("u", i))
					assert.NoError(t, err)
					mu.Lock()
					defer mu.Unlock()
					ids[got.ID] = true
					if ins {
						inserted++
					}
				})
			}
			close(start)
			wg.Wait()
			assert.Len(t, ids, 1, "%s: one device", uuid)
			assert.Equal(t, 1, inserted, "%s: inserted by one registration", uuid)
		}
		_, _, ins, err := s.RegisterDeviceInserted(ctx, device("raced-0", registry.PlatformAndroid, "tok-again"), "u1")
		require.NoError(t, err)
		assert.False(t, ins, "a stored device")
		_, _, ins, err = s.RegisterDeviceInserted(ctx, device("new", registry.PlatformAndroid, "tok-new"), "u1")
		require.NoError(t, err)
		assert.True(t, ins, "a new device")
	})
}
