package sqlstore

import (
	"context"
	"errors"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestBatchWrittenCallByCallThatFailsIsWrittenAloneAgain: a batch whose
// set write changed too few rows (errSetShort: a lost claim) is written
// call by call in one transaction; when a call then fails that
// transaction (an error not its own), each call is written again in a
// transaction of its own, so that the bad one fails alone: the others
// are written and the lost claim is reported as such.
func TestBatchWrittenCallByCallThatFailsIsWrittenAloneAgain(t *testing.T) {
	db, mock, err := sqlmock.New()
	require.NoError(t, err)
	defer db.Close()
	s, err := New(db, Options{Dialect: DialectMySQL})
	require.NoError(t, err)
	errLost := errors.New("claim gone")
	errBad := errors.New("a bad row")
	isLost := func(err error) bool { return errors.Is(err, errLost) }

	mock.ExpectBegin() // the set write, short
	mock.ExpectRollback()
	mock.ExpectBegin() // call by call, failed by call 1
	mock.ExpectRollback()
	mock.ExpectBegin() // call 0 alone
	mock.ExpectCommit()
	mock.ExpectBegin() // call 1 alone
	mock.ExpectRollback()
	mock.ExpectBegin() // call 2 alone: its claim lost
	mock.ExpectCommit()
	batch := []*groupReq[int]{{v: 0, done: make(chan struct{})}, {v: 1, done: make(chan struct{})}, {v: 2, done: make(chan struct{})}}
	set := func(context.Context, DBTX, []int) error { return errSetShort }
	one := func(_ context.Context, _ DBTX, v int) error {
		return []error{nil, errBad, errLost}[v]
	}
	var written []int
	writeBatch(s, batch, set, one, isLost, func(v int) { written = append(written, v) })
	assert.NoError(t, batch[0].err, "written alone")
	assert.ErrorIs(t, batch[1].err, errBad, "the bad call fails alone")
	assert.ErrorIs(t, batch[2].err, errLost)
	assert.Equal(t, []int{0}, written)
	assert.NoError(t, mock.ExpectationsWereMet())
}
