package sqlstore_test

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry/sqlstore"
)

// TestCensusAtItsBounds: a census is taken when the tables hold exactly
// censusRowsPerUser (16) rows a user, and when it names exactly as many
// devices as the census may name (SetCensusMax); one device more
// declines it.
func TestCensusAtItsBounds(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		var devs []legacyDevice
		for i := range 8 {
			devs = append(devs, legacyDevice{fmt.Sprintf("P%d", i), "ios", "umeng", "same-token"})
		}
		insertLegacy(t, db, d, "U1", devs) // 8 devices and 8 links: 16 rows
		s.SetCensusMax(8)
		c, err := s.TakeCensus(ctx, 1)
		require.NoError(t, err)
		require.NotNil(t, c, "16 rows for one user, 8 devices named where 8 may be")
		assert.Equal(t, 8, c.Len())

		s.SetCensusMax(7)
		c, err = s.TakeCensus(ctx, 1)
		require.NoError(t, err)
		assert.Nil(t, c, "8 devices named where 7 may be")
	})
}
