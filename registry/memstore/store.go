package memstore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/tuisong/push/registry"
)

// Config configures a Store. The zero Config is valid.
type Config struct {
	// Now is the Store's clock, used for CreatedAt, UpdatedAt and
	// Device.TokenDisabledAt. Claims never read it: they use the Now of
	// their registry.ClaimParams. Default: time.Now.
	Now func() time.Time
}

// Store is an in-memory registry.Store. It is safe for concurrent use by
// many goroutines. Make one with New: a Store New did not make (a zero
// Store{} or a nil *Store) holds nothing, every method returns an error
// matching registry.ErrNotBuilt and does nothing else, and push.New and
// messagecenter.New refuse it (see CheckBuilt).
type Store struct {
	now func() time.Time

	mu sync.Mutex

	devices     map[int64]*registry.Device
	deviceByKey map[deviceKey]*registry.Device
	lastDevice  int64

	// links is ordered by ID because IDs are handed out in append order;
	// ListTargets relies on that for its keyset paging.
	links      []*registry.UserDevice
	linkByID   map[int64]*registry.UserDevice
	linkByPair map[linkKey]*registry.UserDevice
	// linksByDevice serves the one-active-user rule without a scan.
	linksByDevice map[int64][]*registry.UserDevice
	// linksByUser, each in ID order, serves ListTargets without a scan of
	// every link.
	linksByUser map[string][]*registry.UserDevice

	messages        map[int64]*registry.PushMessage
	messageByDedupe map[string]int64
	lastMessage     int64
	// messagesByUser lists, in ID order, the messages addressed to each
	// user (PushMessage.UserNums).
	messagesByUser map[string][]int64

	// deliveries is ordered by ID, like links.
	deliveries          []*registry.Delivery
	deliveryByID        map[int64]*registry.Delivery
	deliveriesByMessage map[int64][]*registry.Delivery
	idempotencyKeys     map[string]bool
	// tallies keeps each message's summary current without re-reading its
	// deliveries (see registry.Tally).
	tallies map[tallyKey]*registry.Tally
	// receipts holds the receipt counters of deliveries, by delivery id.
	receipts map[int64]registry.ReceiptCounts
	// receiptEvents holds the receipts of devices counted (RecordReceipts
	// with a token), so that one posted again is not counted again.
	receiptEvents map[receiptEvent]bool
	// held holds the receipts kept until their delivery is known
	// (registry.ReceiptHolder), oldest first.
	held    []heldReceipt
	heldSeq int64 // the id of the last receipt held
	// fanouts holds the pushes whose deliveries are still being recorded
	// in stages (registry.Fanouts), by message id.
	fanouts map[int64]*fanout

	// center is ordered by ID, like links.
	center     []*registry.CenterMessage
	centerByID map[int64]*registry.CenterMessage
}

type deviceKey struct{ platform, uuid string }

// tallyKey names the tally of one platform of a push message.
type tallyKey struct {
	message  int64
	platform string
}

type linkKey struct {
	userNum  string
	deviceID int64
}

var _ registry.Store = (*Store)(nil)

// New returns an empty Store. Every Config, the zero one included, is valid
// today, so the error is always nil; it keeps New interchangeable with
// sqlstore.New in a host's wiring code.
func New(cfg Config) (*Store, error) {
	now := cfg.Now
	if now == nil {
		now = time.Now
	}
	return &Store{
		now:                 now,
		devices:             map[int64]*registry.Device{},
		deviceByKey:         map[deviceKey]*registry.Device{},
		linkByID:            map[int64]*registry.UserDevice{},
		linkByPair:          map[linkKey]*registry.UserDevice{},
		linksByDevice:       map[int64][]*registry.UserDevice{},
		linksByUser:         map[string][]*registry.UserDevice{},
		messages:            map[int64]*registry.PushMessage{},
		messageByDedupe:     map[string]int64{},
		messagesByUser:      map[string][]int64{},
		deliveryByID:        map[int64]*registry.Delivery{},
		deliveriesByMessage: map[int64][]*registry.Delivery{},
		idempotencyKeys:     map[string]bool{},
		tallies:             map[tallyKey]*registry.Tally{},
		receipts:            map[int64]registry.ReceiptCounts{},
		receiptEvents:       map[receiptEvent]bool{},
		fanouts:             map[int64]*fanout{},
		centerByID:          map[int64]*registry.CenterMessage{},
	}, nil
}

// stamp is the Store's clock reading for CreatedAt/UpdatedAt, without the
// monotonic reading a database would not keep either.
func (s *Store) stamp() time.Time { return s.now().Round(0) }

// begin checks ctx before an operation touches the data, so that an ended
// context changes nothing, as it would for a database call.
func begin(ctx context.Context, op string) error {
	if err := ctx.Err(); err != nil {
		return wrap(op, err)
	}
	return nil
}

func wrap(op string, err error) error { return fmt.Errorf("memstore: %s: %w", op, err) }
