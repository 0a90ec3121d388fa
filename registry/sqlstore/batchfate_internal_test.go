package sqlstore

import (
	"context"
	"errors"
	"testing"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/storeretry"
	"github.com/tuisong/push/registry"
)

// TestCallsOfABatchOfUnknownFateKeepItsError: a batch of guarded writes
// whose commit lost its connection may have been written; each call is
// then written again alone. A call that alone finds its claim released
// gets the batch's error, of unknown fate, not a lost claim: the batch's
// commit may be what released it, and its caller's retry then takes the
// outcome as written. Before, MariaDB's KILL during such a commit left
// outcomes that were recorded reported as never recorded. A call that
// alone is written, or a batch that failed for a known reason, keeps its
// own result.
func TestCallsOfABatchOfUnknownFateKeepItsError(t *testing.T) {
	errLost := errors.New("claim gone")
	isLost := func(err error) bool { return errors.Is(err, errLost) }
	for _, tt := range []struct {
		name      string
		commitErr error // of the batch's transaction
		alone     []error
		want      []func(t *testing.T, err error)
	}{
		{
			name:      "the connection lost while committing",
			commitErr: mysql.ErrInvalidConn,
			alone:     []error{errLost, nil},
			want: []func(t *testing.T, err error){
				func(t *testing.T, err error) {
					assert.ErrorIs(t, err, registry.ErrCommit)
					assert.True(t, storeretry.FateUnknown(err), "the batch's fate, unknown: %v", err)
					assert.NotErrorIs(t, err, errLost)
				},
				func(t *testing.T, err error) { assert.NoError(t, err, "written alone") },
			},
		},
		{
			name:      "a commit refused for a known reason",
			commitErr: errors.New("refused"),
			alone:     []error{errLost, nil},
			want: []func(t *testing.T, err error){
				func(t *testing.T, err error) {
					assert.ErrorIs(t, err, errLost, "the batch was not written: the claim was lost")
				},
				func(t *testing.T, err error) { assert.NoError(t, err) },
			},
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			db, mock, err := sqlmock.New()
			require.NoError(t, err)
			defer db.Close()
			s, err := New(db, Options{Dialect: DialectMySQL})
			require.NoError(t, err)

			mock.ExpectBegin()
			mock.ExpectCommit().WillReturnError(tt.commitErr)
			for range tt.alone {
				// A lost claim fails its call alone, not the transaction.
				mock.ExpectBegin()
				mock.ExpectCommit()
			}
			batch := []*groupReq[int]{{v: 0, done: make(chan struct{})}, {v: 1, done: make(chan struct{})}}
			set := func(context.Context, DBTX, []int) error { return nil }
			one := func(_ context.Context, _ DBTX, v int) error { return tt.alone[v] }
			var written []int
			writeBatch(s, batch, set, one, isLost, func(v int) { written = append(written, v) })
			for i, r := range batch {
				tt.want[i](t, r.err)
			}
			assert.Equal(t, []int{1}, written)
			assert.NoError(t, mock.ExpectationsWereMet())
		})
	}
}
