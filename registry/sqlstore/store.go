package sqlstore

import (
	"context"
	"database/sql"
	"fmt"
	"sync"
	"time"

	"github.com/tuisong/push/internal/isnil"
	"github.com/tuisong/push/registry"
)

// DBTX is what the Store runs its statements on: a *sql.DB, a *sql.Conn or
// a *sql.Tx satisfy it.
//
// When the value also has BeginTx (as *sql.DB and *sql.Conn do), the Store
// runs every multi-statement operation in a transaction of its own.
// Otherwise the value is taken to be a transaction the host owns: the Store
// runs its statements on it directly and never commits or rolls back.
type DBTX interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// txBeginner is the optional part of a DBTX that lets the Store own its
// transactions.
type txBeginner interface {
	BeginTx(ctx context.Context, opts *sql.TxOptions) (*sql.Tx, error)
}

// connOpener is what Migrate needs: one dedicated connection to hold the
// migration lock on.
type connOpener interface {
	Conn(ctx context.Context) (*sql.Conn, error)
}

// Options configures a Store.
type Options struct {
	// Dialect is the database behind the DBTX: DialectMySQL (MySQL 8 or
	// MariaDB 10.6 and later), DialectPostgres or DialectSQLite. Required.
	Dialect Dialect
	// Location is the zone of every DATETIME value the Store writes and
	// compares. The product brief's columns hold wall-clock times without a zone,
	// so set it to the zone the other programs that write these tables use
	// (the zone of their NOW()). Default: time.UTC.
	//
	// Prefer a zone without daylight saving time (UTC, Asia/Shanghai): in
	// the hour a zone repeats when its clocks go back, a wall-clock time
	// written in the first pass of it reads as the second, so a lease or
	// retry time written then compares up to an hour wrong. On PostgreSQL,
	// columns another system declared timestamptz are read in the
	// session's TimeZone: open such a database with that set to Location
	// (timezone= in the DSN).
	Location *time.Location
	// Now is the clock of created_at, updated_at and token_disabled_at.
	// Claims never read it: they use the Now of their registry.ClaimParams.
	// Default: time.Now.
	Now func() time.Time
}

func (o Options) validate() error {
	switch o.Dialect {
	case DialectMySQL, DialectPostgres, DialectSQLite:
		return nil
	case "":
		return optionError("sqlstore: Options.Dialect is required (mysql, postgres or sqlite)")
	default:
		return optionError(fmt.Sprintf("sqlstore: Options.Dialect %q is not one of mysql, postgres, sqlite", string(o.Dialect)))
	}
}

// optionError is an error of New's arguments. errors.Is(err,
// registry.ErrInvalid) holds for it, so that a host checks a Store's
// configuration errors as it checks push's and messagecenter's (which
// match push.ErrInvalid) and the Store's own refusals of bad values.
type optionError string

func (e optionError) Error() string        { return string(e) }
func (e optionError) Is(target error) bool { return target == registry.ErrInvalid }

// Store is the database/sql implementation of registry.Store. It is safe
// for concurrent use, and any number of Stores, in one process or many,
// may share one database.
//
// Make one with New. A Store New did not make (a zero Store{} or a nil
// *Store) touches no database: every method that returns an error
// returns one matching registry.ErrNotBuilt and does nothing else, and
// push.New and messagecenter.New refuse it (see CheckBuilt).
type Store struct {
	q       DBTX
	begin   txBeginner // nil when q is the host's transaction
	conns   connOpener // nil unless q is a *sql.DB (or has Conn)
	dialect Dialect
	loc     *time.Location
	now     func() time.Time
	// finishes queues concurrent FinishDelivery calls, to write them
	// together (see finishQueued and groupQueue).
	finishes *groupQueue[*registry.Delivery]
	// centerFinishes and creates queue concurrent FinishCenterMessage and
	// CreatePushMessage calls, to write them together (see groupQueue).
	centerFinishes *groupQueue[*registry.CenterMessage]
	creates        *groupQueue[*createReq]
	// wmu is this Store's SQLite write lock, shared with its WithTx
	// copies (see writing); nil on other dialects.
	wmu *sync.Mutex
	// stmts keeps the statements of a SQLite Store prepared (see
	// stmtCache); nil on other dialects and inside a host's transaction.
	stmts *stmtCache
	// swept is when ClaimDeliveries last made due the deliveries of each
	// claim kind whose next_attempt_at it cannot compare (see
	// sweepUnreadable); shared with WithTx copies, which do not sweep.
	swept *sweeps
	// censusMax is the most devices a census names (censusMaxSuspects).
	censusMax int
	// crowded declines censuses for a while after one named too many
	// devices; shared with WithTx copies.
	crowded *crowded
	// ranges says whether chunks of users are listed by range (SQLite).
	ranges *ranges
	// batchTimeout bounds each transaction of a group-commit batch
	// (groupBatchTimeout).
	batchTimeout time.Duration
	// receiptSets keeps the token lists of large deliveries for their
	// receipts (see receiptSets); shared with WithTx copies.
	receiptSets *receiptSets
}

var (
	_ registry.Store        = (*Store)(nil)
	_ registry.TargetCensus = (*Store)(nil)
)

// New returns a Store that runs its statements on db. It neither connects
// nor checks the schema: call Migrate once at start-up for that. A nil db
// or a missing or unknown Options.Dialect is an error matching
// registry.ErrInvalid.
func New(db DBTX, opts Options) (*Store, error) {
	if isnil.Value(db) {
		return nil, optionError("sqlstore: db is nil")
	}
	if err := opts.validate(); err != nil {
		return nil, err
	}
	s := &Store{q: db, dialect: opts.Dialect, loc: opts.Location, now: opts.Now, finishes: newFinishQueue(opts.Dialect),
		centerFinishes: newGroupQueue[*registry.CenterMessage](opts.Dialect).keepOnCancel(), creates: newGroupQueue[*createReq](opts.Dialect),
		swept: &sweeps{}, censusMax: censusMaxSuspects, crowded: &crowded{}, ranges: &ranges{}, batchTimeout: groupBatchTimeout,
		receiptSets: newReceiptSets()}
	if s.dialect == DialectSQLite {
		s.wmu = &sync.Mutex{}
		if db, ok := db.(*sql.DB); ok {
			s.stmts = newStmtCache(db)
		}
	}
	if s.loc == nil {
		s.loc = time.UTC
	}
	if s.now == nil {
		s.now = time.Now
	}
	if b, ok := db.(txBeginner); ok {
		s.begin = b
	}
	if c, ok := db.(connOpener); ok {
		s.conns = c
	}
	return s, nil
}

// WithTx returns a Store whose operations run inside the host's
// transaction tx: nothing is committed or rolled back by the Store, and an
// operation's writes become visible when the host commits. Use it to
// enqueue a center message atomically with the host's own writes.
//
// A failed statement inside tx is the host's to handle: on PostgreSQL it
// aborts tx, and every Store operation reports the error it got. Migrate
// is not available on the returned Store. On MySQL the Store's own
// transactions run at READ COMMITTED; run tx at that level too when it
// calls FinishDelivery, so that the summary it writes reads the other
// deliveries' latest state. On a Store New did not make it returns s
// itself, whose methods fail (see CheckBuilt); with a nil tx, a Store
// whose methods fail the same way.
func (s *Store) WithTx(tx *sql.Tx) *Store {
	if s.unbuilt() {
		return s
	}
	c := *s
	c.q = tx
	if tx == nil {
		c.q = nil // not a DBTX holding a nil *sql.Tx: unbuilt, so every method says so
	}
	c.begin = nil
	c.stmts = nil
	c.conns = nil
	return &c
}

// Dialect reports the dialect the Store was built for; "" for a Store New
// did not make.
func (s *Store) Dialect() Dialect {
	if s.unbuilt() {
		return ""
	}
	return s.dialect
}
