package sqlstore

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"
)

// maxTxAttempts bounds how often the Store runs a transaction of its own
// that the database rolled back to break a deadlock or a serialization
// failure (or, on SQLite, that found the database busy). Such a
// transaction changed nothing, so running it again is safe; the
// contention that caused it is short-lived. Between attempts the Store
// waits retryDelay.
const maxTxAttempts = 10

// Backoff between attempts of a transaction: the first wait is about
// retryBase, each next one about twice as long, up to retryCap, each
// drawn at random from half to one and a half times that, so that the
// transactions that deadlocked each other do not meet again in step.
const (
	retryBase = 2 * time.Millisecond
	retryCap  = 100 * time.Millisecond
)

// retryDelay is the wait before attempt+1 of a transaction.
func retryDelay(attempt int) time.Duration {
	d := retryCap
	if attempt < 16 {
		d = min(retryBase<<(attempt-1), retryCap)
	}
	return d/2 + rand.N(d)
}

// sleep waits d or until ctx ends, and reports whether the wait was whole.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// inTx runs fn in a transaction. When the Store owns its transactions it
// begins one, commits it when fn succeeds and rolls it back otherwise,
// running it again after a deadlock or serialization failure, with
// backoff, up to maxTxAttempts times. Inside the host's transaction
// (WithTx, or a DBTX without BeginTx) fn runs on it directly, once.
func (s *Store) inTx(ctx context.Context, fn func(q DBTX) error) error {
	if s.begin == nil {
		return fn(s.q)
	}
	for attempt := 1; ; attempt++ {
		err := s.runTx(ctx, fn)
		if err == nil || attempt == maxTxAttempts || ctx.Err() != nil || s.dialect.classify(err) != classRetry {
			return err
		}
		if !sleep(ctx, retryDelay(attempt)) {
			return err
		}
	}
}

func (s *Store) runTx(ctx context.Context, fn func(q DBTX) error) error {
	s.stmts.prepareNoted(ctx)
	defer s.writing()()
	tx, err := s.begin.BeginTx(ctx, s.txOptions())
	if err != nil {
		return step("begin", err)
	}
	if err := fn(tx); err != nil {
		if rbErr := tx.Rollback(); rbErr != nil && !errors.Is(rbErr, sql.ErrTxDone) {
			return errors.Join(err, step("rollback", rbErr))
		}
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: %w", errCommit, err)
	}
	return nil
}

// txOptions: on MySQL the Store's transactions run at READ COMMITTED, so
// that InnoDB takes no gap locks (fewer deadlocks between hosts) and a
// statement after a lock wait reads the rows the lock holder committed.
// PostgreSQL runs at READ COMMITTED by default; SQLite has one level.
func (s *Store) txOptions() *sql.TxOptions {
	if s.dialect == DialectMySQL {
		return &sql.TxOptions{Isolation: sql.LevelReadCommitted}
	}
	return nil
}

func (s *Store) exec(ctx context.Context, q DBTX, query string, args ...any) (sql.Result, error) {
	query = s.dialect.rebind(query)
	if st := s.stmts.get(ctx, q, query); st != nil {
		return st.ExecContext(ctx, args...)
	}
	return q.ExecContext(ctx, query, args...)
}

func (s *Store) query(ctx context.Context, q DBTX, query string, args ...any) (*sql.Rows, error) {
	query = s.dialect.rebind(query)
	if st := s.stmts.get(ctx, q, query); st != nil {
		return st.QueryContext(ctx, args...)
	}
	return q.QueryContext(ctx, query, args...)
}

// queryIDs runs query, whose rows hold one integer id each, and returns
// the ids in row order.
func (s *Store) queryIDs(ctx context.Context, q DBTX, query string, args ...any) ([]int64, error) {
	rows, err := s.query(ctx, q, query, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var ids []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func (s *Store) queryRow(ctx context.Context, q DBTX, query string, args ...any) *sql.Row {
	query = s.dialect.rebind(query)
	if st := s.stmts.get(ctx, q, query); st != nil {
		return st.QueryRowContext(ctx, args...)
	}
	return q.QueryRowContext(ctx, query, args...)
}

// insert runs an INSERT of one row and returns its id: from RETURNING on
// PostgreSQL (pgx has no LastInsertId), from LastInsertId elsewhere.
func (s *Store) insert(ctx context.Context, q DBTX, query string, args ...any) (int64, error) {
	if s.dialect == DialectPostgres {
		var id int64
		if err := s.queryRow(ctx, q, query+" RETURNING id", args...).Scan(&id); err != nil {
			return 0, err
		}
		return id, nil
	}
	res, err := s.exec(ctx, q, query, args...)
	if err != nil {
		return 0, err
	}
	id, err := res.LastInsertId()
	if err != nil {
		return 0, fmt.Errorf("last insert id: %w", err)
	}
	return id, nil
}

// affected returns how many rows a write changed. On MySQL, without the
// DSN's clientFoundRows, a row matched whose values the write leaves as
// they were is not counted: a guarded write that may set a column to the
// value it holds (setClaimedColumn) must not take 0 for a lost claim.
func affected(res sql.Result) (int64, error) {
	n, err := res.RowsAffected()
	if err != nil {
		return 0, fmt.Errorf("rows affected: %w", err)
	}
	return n, nil
}

// writing takes the Store's SQLite write lock and returns its release: on
// SQLite one connection writes at a time, and writers of one process that
// queue on a Go mutex take turns at once, where writers left to SQLite's
// busy handler sleep and retry (when this was added, the bench scanner on
// SQLite drained almost three times as many rows a second with it; see
// bench/RESULTS.md). Readers do not take it: in WAL mode they never
// wait for the writer. Other dialects, and a Store inside the host's
// transaction, take nothing.
func (s *Store) writing() func() {
	if s.wmu == nil || s.begin == nil {
		return func() {}
	}
	s.wmu.Lock()
	return s.wmu.Unlock
}
