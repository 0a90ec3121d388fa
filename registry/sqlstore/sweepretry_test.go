package sqlstore_test

import (
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
)

// TestFailedSweepIsTriedAgainByTheNextClaim: a sweep of the deliveries
// whose next_attempt_at the claim cannot compare (see ClaimDeliveries)
// that fails is not the claim's failure, and the next claim of the kind
// sweeps again, within the minute that would otherwise pass between two
// sweeps.
func TestFailedSweepIsTriedAgainByTheNextClaim(t *testing.T) {
	s, m := pgMockStore(t)
	for i, sweepErr := range []error{errDriver, nil} {
		sweep := m.ExpectExec(`^UPDATE sys_push_deliveries SET next_attempt_at = \$1 WHERE id IN \(SELECT id FROM sys_push_deliveries`)
		if sweepErr != nil {
			sweep.WillReturnError(sweepErr)
		} else {
			sweep.WillReturnResult(sqlmock.NewResult(0, 0))
		}
		m.ExpectBegin()
		m.ExpectExec(`^SET LOCAL enable_sort = off$`).WillReturnResult(sqlmock.NewResult(0, 0))
		m.ExpectQuery(`^WITH due AS \(SELECT id FROM sys_push_deliveries WHERE `).WillReturnRows(sqlmock.NewRows(deliveryRow))
		m.ExpectCommit()
		got, err := s.ClaimDeliveries(t.Context(), registry.ClaimParams{Kind: registry.ClaimSend, Now: at(time.Duration(i) * time.Second),
			Limit: 5, Lease: time.Minute})
		require.NoError(t, err, "claim %d: a failed sweep fails no claim", i)
		require.Empty(t, got)
	}
	require.NoError(t, m.ExpectationsWereMet())
}
