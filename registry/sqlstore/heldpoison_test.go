package sqlstore_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// poisonTrigger makes the database refuse to delete the held receipts of
// token "poison", as a write that fails every time, on dialect d; the
// returned statement drops it.
func poisonTrigger(d sqlstore.Dialect) (create []string, drop string) {
	switch d {
	case sqlstore.DialectPostgres:
		return []string{
			`CREATE FUNCTION poison_held() RETURNS trigger AS $$ BEGIN
				IF OLD.token = 'poison' THEN RAISE EXCEPTION 'poisoned row'; END IF; RETURN OLD; END $$ LANGUAGE plpgsql`,
			`CREATE TRIGGER poison_held BEFORE DELETE ON sys_push_receipts_held FOR EACH ROW EXECUTE FUNCTION poison_held()`,
		}, `DROP TRIGGER poison_held ON sys_push_receipts_held`
	case sqlstore.DialectMySQL:
		return []string{`CREATE TRIGGER poison_held BEFORE DELETE ON sys_push_receipts_held FOR EACH ROW BEGIN
			IF OLD.token = 'poison' THEN SIGNAL SQLSTATE '45000' SET MESSAGE_TEXT = 'poisoned row'; END IF; END`}, `DROP TRIGGER poison_held`
	}
	return []string{`CREATE TRIGGER poison_held BEFORE DELETE ON sys_push_receipts_held WHEN OLD.token = 'poison'
		BEGIN SELECT RAISE(ABORT, 'poisoned row'); END`}, `DROP TRIGGER poison_held`
}

// TestHeldReceiptWhoseRecordingKeepsFailingStaysHeld: a held receipt whose
// adoption fails every time (here the database refuses it) stays held and
// is tried again on every lap, with the error named; the receipts beside
// it are adopted, once; when the fault goes, it is adopted too.
func TestHeldReceiptWhoseRecordingKeepsFailingStaysHeld(t *testing.T) {
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		m := &registry.PushMessage{Title: "t", Content: "c", PushType: registry.PushTypeUsers, UserNums: []string{"u1"}}
		tokens := []string{"good1", "poison", "good2"}
		require.NoError(t, s.CreatePushMessage(ctx, m, []*registry.Delivery{{Provider: "umeng", Platform: registry.PlatformAndroid,
			Audience: registry.AudienceTokens, Tokens: tokens, IdempotencyKey: "k-poison", State: registry.DeliveryPending, NextAttemptAt: base}}))
		for _, tok := range tokens {
			held, err := s.HoldReceipt(ctx, "umeng", "ul-poison", tok, registry.ReceiptCounts{Arrived: 1}, base)
			require.NoError(t, err)
			require.True(t, held, tok)
		}
		claimed, err := s.ClaimDeliveries(ctx, registry.ClaimParams{Now: base, Limit: 10, Lease: time.Minute, Kind: registry.ClaimSend})
		require.NoError(t, err)
		require.Len(t, claimed, 1)
		dl := claimed[0]
		dl.State, dl.ReceiptID, dl.Ret, dl.SentAt = registry.DeliveryAccepted, "ul-poison", registry.RetSuccess, &base
		require.NoError(t, s.FinishDelivery(ctx, &dl))

		create, drop := poisonTrigger(d)
		for _, stmt := range create {
			_, err := db.ExecContext(ctx, stmt)
			require.NoError(t, err)
		}
		arrived := func() int64 {
			_, android, err := s.ReceiptTotals(ctx, m.ID)
			require.NoError(t, err)
			return android.Arrived
		}
		for lap := range 2 {
			a, err := s.AdoptReceipts(ctx, 0, 100)
			require.Error(t, err, "lap %d", lap)
			assert.Contains(t, err.Error(), "held receipt")
			assert.Contains(t, err.Error(), "poisoned row")
			want := registry.Adoption{}
			if lap == 0 {
				want.Adopted = 2
			}
			assert.Equal(t, want, a, "lap %d: the others adopted once, the walk at its end", lap)
			assert.Equal(t, int64(2), arrived(), "lap %d", lap)
		}

		_, err = db.ExecContext(ctx, drop)
		require.NoError(t, err)
		a, err := s.AdoptReceipts(ctx, 0, 100)
		require.NoError(t, err)
		assert.Equal(t, registry.Adoption{Adopted: 1}, a)
		assert.Equal(t, int64(3), arrived())
	})
}
