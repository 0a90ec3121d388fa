package sqlstore

import (
	"context"
	"database/sql"
	"sync"
)

// stmtCache keeps the statements a SQLite Store runs prepared, on the
// *sql.DB the Store was built on: SQLite (modernc.org/sqlite) compiles a
// statement anew each time one is run without being prepared, which cost
// about a fifth of the CPU of a Scanner pass (issue #9). database/sql
// prepares a cached statement once on each connection it runs on, and
// Tx.StmtContext reuses that preparation inside the Store's
// transactions.
//
// The cache holds at most maxCachedStmts statements; later ones (queries
// with IN-lists of many lengths) run unprepared, as before. A statement
// that fails to prepare runs unprepared too, so that its own error is the
// one reported.
type stmtCache struct {
	db    *sql.DB
	mu    sync.Mutex
	stmts map[string]*sql.Stmt
	noted map[string]bool // met in a transaction, to prepare (see get)
}

// maxCachedStmts bounds a stmtCache.
const maxCachedStmts = 256

func newStmtCache(db *sql.DB) *stmtCache {
	return &stmtCache{db: db, stmts: map[string]*sql.Stmt{}, noted: map[string]bool{}}
}

// get returns the statement of query prepared for q — the cache's
// *sql.DB or one of its transactions — or nil when query is to run
// unprepared.
//
// A query first met inside a transaction is not prepared then: preparing
// on the pool takes a connection of its own, and the transaction may hold
// the last one (a host's MaxOpenConns(1)). It is noted, and prepareNoted
// prepares it before the Store's next transaction begins.
func (c *stmtCache) get(ctx context.Context, q DBTX, query string) *sql.Stmt {
	if c == nil {
		return nil
	}
	tx, inTx := q.(*sql.Tx)
	if !inTx && q != DBTX(c.db) {
		return nil // a *sql.Conn or a host's DBTX: not ours to prepare on
	}
	c.mu.Lock()
	st, ok := c.stmts[query]
	if !ok && inTx {
		if len(c.stmts)+len(c.noted) < maxCachedStmts {
			c.noted[query] = true
		}
		c.mu.Unlock()
		return nil
	}
	c.mu.Unlock()
	if !ok {
		if st = c.prepare(ctx, query); st == nil {
			return nil
		}
	}
	if inTx {
		return tx.StmtContext(ctx, st)
	}
	return st
}

// prepare prepares query on the pool and caches it, unless the cache is
// full or the preparation fails (then it returns nil).
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	c.mu.Lock()
	full := len(c.stmts) >= maxCachedStmts
	c.mu.Unlock()
	if full {
		return nil
	}
	st, err := c.db.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.stmts[query]; ok {
		_ = st.Close() // another caller prepared it first
		return old
	}
	c.stmts[query] = st
	return st
}

// prepareNoted prepares the queries get noted inside transactions. The
// Store calls it holding no connection, before it begins a transaction.
func (c *stmtCache) prepareNoted(ctx context.Context) {
	if c == nil {
		return
	}
	c.mu.Lock()
	if len(c.noted) == 0 {
		c.mu.Unlock()
		return
	}
	noted := c.noted
	c.noted = map[string]bool{}
	c.mu.Unlock()
	for query := range noted {
		c.prepare(ctx, query)
	}
}
