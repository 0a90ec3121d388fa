package sqlstore_test

import (
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/DATA-DOG/go-sqlmock"
	"github.com/go-sql-driver/mysql"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/registry"
	"github.com/tuisong/push/registry/sqlstore"
)

// errDriver stands for any error the driver returns.
var errDriver = errors.New("driver: connection reset")

// mockStore returns a MySQL-dialect Store on a sqlmock database. Every
// expectation must be met by the end of the test: in particular the
// Rollback of a failed transaction.
func mockStore(t *testing.T) (*sqlstore.Store, sqlmock.Sqlmock, *sql.DB) {
	t.Helper()
	return mockStoreOf(t, sqlstore.DialectMySQL)
}

// mockStoreOf is mockStore of dialect d.
func mockStoreOf(t *testing.T, d sqlstore.Dialect) (*sqlstore.Store, sqlmock.Sqlmock, *sql.DB) {
	t.Helper()
	db, mock, err := sqlmock.New()
	require.NoError(t, err)
	t.Cleanup(func() {
		assert.NoError(t, mock.ExpectationsWereMet(), "every expected statement ran, rollbacks included")
		_ = db.Close()
	})
	s, err := sqlstore.New(db, sqlstore.Options{Dialect: d, Now: fixedClock(base)})
	require.NoError(t, err)
	return s, mock, db
}

// sqlPrefix matches a statement by its start.
func sqlPrefix(s string) string { return "^\\s*" + regexp.QuoteMeta(s) }

var (
	deviceRow = []string{"id", "uuid", "platform", "push_device_token", "push_platform", "name", "os", "os_version", "alias",
		"token_disabled_at", "token_disabled_reason", "created_at", "updated_at"}
	linkRow     = []string{"id", "user_num", "device_id", "state", "created_at", "updated_at"}
	deliveryRow = []string{"id", "push_message_id", "provider", "platform", "seq", "audience", "tokens", "idempotency_key", "state",
		"attempts", "next_attempt_at", "expire_at", "receipt_id", "pollable", "vendor_state", "ret", "response", "error_kind",
		"error_code", "sent_at", "claim_token", "lease_until", "created_at", "updated_at", "retry_token"}
)

// errDeadlock is MySQL's answer to a transaction it rolled back to break
// a deadlock, as go-sql-driver/mysql reports it.
var errDeadlock = &mysql.MySQLError{Number: 1213, SQLState: [5]byte{'4', '0', '0', '0', '1'},
	Message: "Deadlock found when trying to get lock; try restarting transaction"}

// expectFindDevice expects RegisterDevice's look-up of the device, which
// finds the device ids (none: a new device, and then the look-up of a row
// whose platform is spelled otherwise, which finds none either).
func expectFindDevice(m sqlmock.Sqlmock, ids ...int64) {
	rows := sqlmock.NewRows([]string{"id"})
	for _, id := range ids {
		rows.AddRow(id)
	}
	m.ExpectQuery(sqlPrefix("SELECT id FROM sys_devices WHERE platform = ? AND uuid = ? FOR UPDATE")).WillReturnRows(rows)
	if len(ids) == 0 {
		m.ExpectQuery(sqlPrefix("SELECT id FROM sys_devices WHERE uuid = ? AND LOWER(TRIM(platform)) = ? ORDER BY id DESC LIMIT 1 FOR UPDATE")).
			WillReturnRows(sqlmock.NewRows([]string{"id"}))
	}
}

// expectRegisterAfterSave expects the statements of RegisterDevice after
// it saved device 7, for a new link 3, up to its commit.
func expectRegisterAfterSave(m sqlmock.Sqlmock) {
	m.ExpectQuery(sqlPrefix("SELECT id, uuid")).WillReturnRows(sqlmock.NewRows(deviceRow).
		AddRow(7, "u", "ios", "t", "umeng", "", "", "", nil, nil, nil, "2030-06-15 08:00:00", "2030-06-15 08:00:00"))
	m.ExpectExec(sqlPrefix("UPDATE sys_devices SET token_disabled_at")).WillReturnResult(sqlmock.NewResult(0, 0))
	m.ExpectQuery(sqlPrefix("SELECT id, CAST(created_at AS CHAR) FROM sys_user_devices")).WillReturnRows(sqlmock.NewRows([]string{"id", "created_at"}))
	m.ExpectExec(sqlPrefix("INSERT INTO sys_user_devices")).WillReturnResult(sqlmock.NewResult(3, 1))
	m.ExpectExec(sqlPrefix("UPDATE sys_user_devices SET state = 0")).WillReturnResult(sqlmock.NewResult(0, 0))
}

// expectBeginRegister expects the start of RegisterDevice's transaction:
// its begin and the lock of the token.
func expectBeginRegister(m sqlmock.Sqlmock) {
	m.ExpectBegin()
	m.ExpectExec(sqlPrefix("INSERT INTO sys_push_token_locks (token_key) VALUES (?) ON DUPLICATE KEY UPDATE")).
		WillReturnResult(sqlmock.NewResult(0, 1))
}

// expectRegister expects the statements of RegisterDevice of a new
// device 7 and a new link 3, up to its commit.
func expectRegister(m sqlmock.Sqlmock) {
	expectBeginRegister(m)
	expectFindDevice(m)
	m.ExpectExec(sqlPrefix("INSERT INTO sys_devices")).WillReturnResult(sqlmock.NewResult(7, 1))
	expectRegisterAfterSave(m)
}

// finishDelivery is a claimed delivery as FinishDelivery gets it.
func finishDelivery() *registry.Delivery {
	return &registry.Delivery{ID: 5, PushMessageID: 2, Provider: "umeng", Platform: registry.PlatformIOS, State: registry.DeliveryDone, ClaimToken: "tok.5"}
}

// oldDeliveryRow is finishClaimed's read of delivery 5 of message 2 before
// its write: pending, never sent.
var oldDeliveryRow = []string{"push_message_id", "provider", "platform", "seq", "state", "vendor_state", "receipt_id", "sent_at"}

func expectReadOldDelivery(m sqlmock.Sqlmock) {
	m.ExpectQuery(sqlPrefix("SELECT push_message_id, provider, platform, seq, state, vendor_state, receipt_id, CAST(sent_at AS CHAR) FROM sys_push_deliveries")).
		WillReturnRows(sqlmock.NewRows(oldDeliveryRow).AddRow(2, "umeng", "ios", 3, "pending", nil, nil, nil))
}

// expectFinishUntilUpdate expects a finish's statements before its write
// of the delivery: the message's tally is that of its one pending
// delivery 5.
func expectFinishUntilUpdate(m sqlmock.Sqlmock) {
	m.ExpectBegin()
	expectReadOldDelivery(m)
	m.ExpectQuery(sqlPrefix("SELECT id, ios_tally FROM sys_push_messages WHERE id = ? FOR UPDATE")).
		WillReturnRows(sqlmock.NewRows([]string{"id", "ios_tally"}).AddRow(2, `{"p":1}`))
}

// TestDriverErrors: a driver error surfaces wrapped with the operation's
// name and the failing step, matchable with errors.Is; a transaction that
// fails anywhere is rolled back, so nothing is half-written.
func TestDriverErrors(t *testing.T) {
	ctx := t.Context()
	dev := device("u", registry.PlatformIOS, "t")
	claim := registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute, Kind: registry.ClaimSend}
	tests := []struct {
		name   string
		expect func(m sqlmock.Sqlmock)
		run    func(s *sqlstore.Store) error
		want   string // the error's text starts with this
		is     []error
	}{
		{
			name:   "begin fails",
			expect: func(m sqlmock.Sqlmock) { m.ExpectBegin().WillReturnError(errDriver) },
			run:    func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want:   "sqlstore: RegisterDevice: begin: ",
		},
		{
			name: "count held receipts fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT COUNT(*) FROM sys_push_receipts_held")).WillReturnError(errDriver)
			},
			run:  func(s *sqlstore.Store) error { _, err := s.CountHeldReceipts(ctx); return err },
			want: "sqlstore: CountHeldReceipts: count held receipts: ",
		},
		{
			name: "token lock fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				m.ExpectExec(sqlPrefix("INSERT INTO sys_push_token_locks")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want: "sqlstore: RegisterDevice: lock the token: ",
		},
		{
			name: "find device fails",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				m.ExpectQuery(sqlPrefix("SELECT id FROM sys_devices")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want: "sqlstore: RegisterDevice: find device: ",
		},
		{
			name: "device insert fails",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				expectFindDevice(m)
				m.ExpectExec(sqlPrefix("INSERT INTO sys_devices")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want: "sqlstore: RegisterDevice: insert device: ",
		},
		{
			name: "device update fails",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				expectFindDevice(m, 7)
				m.ExpectExec(sqlPrefix("UPDATE sys_devices SET push_device_token")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want: "sqlstore: RegisterDevice: update device: ",
		},
		{
			name: "a known device is updated in place: no insert, no id drawn",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				expectFindDevice(m, 7)
				m.ExpectExec(sqlPrefix("UPDATE sys_devices SET push_device_token")).WillReturnResult(sqlmock.NewResult(0, 1))
				expectRegisterAfterSave(m)
				m.ExpectCommit()
			},
			run: func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
		},
		{
			name: "a new device is upserted: a concurrent first registration's row is updated",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				expectFindDevice(m)
				// The update gives LAST_INSERT_ID the row's id plus 2^62,
				// which tells it from an insert.
				m.ExpectExec(sqlPrefix("INSERT INTO sys_devices") + ".*ON DUPLICATE KEY UPDATE .*id = LAST_INSERT_ID\\(id \\+ 4611686018427387904\\) - 4611686018427387904$").
					WillReturnResult(sqlmock.NewResult(7+1<<62, 2))
				expectRegisterAfterSave(m)
				m.ExpectCommit()
			},
			run: func(s *sqlstore.Store) error {
				dev, _, inserted, err := s.RegisterDeviceInserted(ctx, dev, "A01")
				if err == nil && (inserted || dev.ID != 7) {
					return fmt.Errorf("device %d, inserted %v: want 7, updated", dev.ID, inserted)
				}
				return err
			},
		},
		{
			name: "statement fails mid-transaction",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				expectFindDevice(m)
				m.ExpectExec(sqlPrefix("INSERT INTO sys_devices")).WillReturnResult(sqlmock.NewResult(7, 1))
				m.ExpectQuery(sqlPrefix("SELECT id, uuid")).WillReturnRows(sqlmock.NewRows(deviceRow).
					AddRow(7, "u", "ios", "t", "umeng", "", "", "", nil, nil, nil, "2030-06-15 08:00:00", "2030-06-15 08:00:00"))
				m.ExpectExec(sqlPrefix("UPDATE sys_devices SET token_disabled_at")).WillReturnResult(sqlmock.NewResult(0, 0))
				m.ExpectQuery(sqlPrefix("SELECT id, CAST(created_at AS CHAR) FROM sys_user_devices")).
					WillReturnRows(sqlmock.NewRows([]string{"id", "created_at"}).AddRow(3, "2030-06-14 08:00:00"))
				m.ExpectExec(sqlPrefix("UPDATE sys_user_devices SET state = 1")).WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectExec(sqlPrefix("UPDATE sys_user_devices SET state = 0")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want: "sqlstore: RegisterDevice: deactivate other links: ",
		},
		{
			name: "disabling the token elsewhere fails: nothing is kept",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				expectFindDevice(m)
				m.ExpectExec(sqlPrefix("INSERT INTO sys_devices")).WillReturnResult(sqlmock.NewResult(7, 1))
				m.ExpectQuery(sqlPrefix("SELECT id, uuid")).WillReturnRows(sqlmock.NewRows(deviceRow).
					AddRow(7, "u", "ios", "t", "umeng", "", "", "", nil, nil, nil, "2030-06-15 08:00:00", "2030-06-15 08:00:00"))
				m.ExpectExec(sqlPrefix("UPDATE sys_devices SET token_disabled_at")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want: "sqlstore: RegisterDevice: disable the token on other devices: ",
		},
		{
			name: "commit fails",
			expect: func(m sqlmock.Sqlmock) {
				expectRegister(m)
				m.ExpectCommit().WillReturnError(errDriver)
			},
			run:  func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want: "sqlstore: RegisterDevice: commit: ",
		},
		{
			name: "rollback fails too",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				m.ExpectQuery(sqlPrefix("SELECT id FROM sys_devices")).WillReturnError(errDriver)
				m.ExpectRollback().WillReturnError(sql.ErrConnDone)
			},
			run:  func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
			want: "sqlstore: RegisterDevice: find device: ",
			is:   []error{sql.ErrConnDone},
		},
		{
			name: "deadlock is retried",
			expect: func(m sqlmock.Sqlmock) {
				expectBeginRegister(m)
				m.ExpectQuery(sqlPrefix("SELECT id FROM sys_devices")).WillReturnError(errDeadlock)
				m.ExpectRollback()
				expectRegister(m)
				m.ExpectCommit()
			},
			run: func(s *sqlstore.Store) error { _, _, err := s.RegisterDevice(ctx, dev, "A01"); return err },
		},
		{
			name: "deadlock after deadlock gives up",
			expect: func(m sqlmock.Sqlmock) {
				for range sqlstore.MaxTxAttempts {
					m.ExpectBegin()
					m.ExpectExec(sqlPrefix("UPDATE sys_devices")).WillReturnError(errDeadlock)
					m.ExpectRollback()
				}
			},
			run: func(s *sqlstore.Store) error {
				_, err := s.DisableTokens(ctx, "umeng", "ios", []string{"t"}, "invalid")
				return err
			},
			want: "sqlstore: DisableTokens: disable tokens: Error 1213",
			is:   []error{},
		},
		{
			name: "a later delivery fails: the message is rolled back",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnResult(sqlmock.NewResult(2, 1))
				m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(10, 1))
				m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run: func(s *sqlstore.Store) error {
				m := &registry.PushMessage{Title: "t"}
				ds := []*registry.Delivery{delivery("k1", "ios", base, "a"), delivery("k2", "android", base, "b")}
				err := s.CreatePushMessage(ctx, m, ds)
				if m.ID != 0 || ds[0].ID != 0 || ds[0].PushMessageID != 0 || m.IOS.IsSend {
					return errors.New("m or ds changed by a failed CreatePushMessage")
				}
				return err
			},
			want: "sqlstore: CreatePushMessage: insert delivery: ",
		},
		{
			name: "duplicate dedupe key is a conflict",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).
					WillReturnError(errors.New("Error 1062 (23000): Duplicate entry 'k' for key 'ux_sys_push_messages_dedupe_key'"))
				m.ExpectRollback()
			},
			run: func(s *sqlstore.Store) error {
				return s.CreatePushMessage(ctx, &registry.PushMessage{Title: "t", DedupeKey: "k"}, nil)
			},
			want: `sqlstore: CreatePushMessage: dedupe key "k" exists: registry: conflict: Error 1062`,
			is:   []error{registry.ErrConflict},
		},
		{
			name: "lost claim writes nothing for that delivery",
			expect: func(m sqlmock.Sqlmock) {
				expectFinishUntilUpdate(m)
				m.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(0, 0))
				m.ExpectCommit() // no summary write: the batch changed nothing
			},
			run:  func(s *sqlstore.Store) error { return s.FinishDelivery(ctx, finishDelivery()) },
			want: "sqlstore: FinishDelivery: delivery 5: registry: conflict: claim no longer held",
			is:   []error{registry.ErrClaimLost},
		},
		{
			name: "summary write fails: the delivery's outcome is rolled back",
			expect: func(m sqlmock.Sqlmock) {
				expectFinishUntilUpdate(m)
				m.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_task_id")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { return s.FinishDelivery(ctx, finishDelivery()) },
			want: "sqlstore: FinishDelivery: update summary: ",
		},
		{
			name: "message lock fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				expectReadOldDelivery(m)
				m.ExpectQuery(sqlPrefix("SELECT id, ios_tally FROM sys_push_messages")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { return s.FinishDelivery(ctx, finishDelivery()) },
			want: "sqlstore: FinishDelivery: lock push message: ",
		},
		{
			name: "claim select fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				m.ExpectQuery(sqlPrefix("SELECT id FROM sys_push_deliveries WHERE state = ?")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { _, err := s.ClaimDeliveries(ctx, claim); return err },
			want: "sqlstore: ClaimDeliveries: select due rows: ",
		},
		{
			name: "the pass's first read fails: the step says so, not the NULL fix-up",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT 1 FROM sys_message_center WHERE send_state IS NULL LIMIT 1")).WillReturnError(errDriver)
			},
			run: func(s *sqlstore.Store) error {
				_, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute})
				return err
			},
			want: "sqlstore: ClaimCenterMessages: look for rows: ",
		},
		{
			name: "reading NULL send_state as unsent fails: the rows it locked are let go",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT 1 FROM sys_message_center WHERE send_state IS NULL LIMIT 1")).
					WillReturnRows(sqlmock.NewRows([]string{"1"}).AddRow(1))
				m.ExpectBegin()
				m.ExpectQuery(sqlPrefix("SELECT id FROM sys_message_center WHERE send_state IS NULL LIMIT 500 FOR UPDATE SKIP LOCKED")).
					WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(7))
				m.ExpectExec(sqlPrefix("UPDATE sys_message_center SET send_state = ?, updated_at = ? WHERE id IN (?)")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run: func(s *sqlstore.Store) error {
				_, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute})
				return err
			},
			want: "sqlstore: ClaimCenterMessages: read a NULL send_state as unsent: ",
		},
		{
			name: "claim stamp fails: no row stays claimed",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT 1 FROM sys_message_center WHERE send_state IS NULL")).
					WillReturnRows(sqlmock.NewRows([]string{"1"}))
				m.ExpectBegin()
				m.ExpectQuery(sqlPrefix("SELECT id FROM sys_message_center")).WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(1).AddRow(2))
				m.ExpectExec(sqlPrefix("UPDATE sys_message_center SET claim_token")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run: func(s *sqlstore.Store) error {
				_, err := s.ClaimCenterMessages(ctx, registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute})
				return err
			},
			want: "sqlstore: ClaimCenterMessages: stamp claims: ",
		},
		{
			name: "logout update fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				m.ExpectQuery(sqlPrefix("SELECT id, user_num")).WillReturnRows(sqlmock.NewRows(linkRow).
					AddRow(3, "A01", 7, 1, "2030-06-15 08:00:00", "2030-06-15 08:00:00"))
				m.ExpectExec(sqlPrefix("UPDATE sys_user_devices SET state = 0")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			run:  func(s *sqlstore.Store) error { return s.DeactivateLink(ctx, "A01", 3) },
			want: "sqlstore: DeactivateLink: deactivate link: ",
		},
		{
			name:   "single statement: get",
			expect: func(m sqlmock.Sqlmock) { m.ExpectQuery(sqlPrefix("SELECT id, uuid")).WillReturnError(errDriver) },
			run:    func(s *sqlstore.Store) error { _, err := s.GetDevice(ctx, 1); return err },
			want:   "sqlstore: GetDevice: select device: ",
		},
		{
			name: "single statement: no row",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT id, title")).WillReturnRows(sqlmock.NewRows([]string{"id"}))
			},
			run:  func(s *sqlstore.Store) error { _, err := s.GetPushMessage(ctx, 9); return err },
			want: "sqlstore: GetPushMessage: push message 9: registry: not found",
			is:   []error{registry.ErrNotFound},
		},
		{
			name:   "single statement: list",
			expect: func(m sqlmock.Sqlmock) { m.ExpectQuery(sqlPrefix("SELECT ud.id")).WillReturnError(errDriver) },
			run: func(s *sqlstore.Store) error {
				_, err := s.ListTargets(ctx, registry.TargetQuery{UserNums: []string{"A01"}})
				return err
			},
			want: "sqlstore: ListTargets: select targets: ",
		},
		{
			name: "single statement: enqueue",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectExec(sqlPrefix("INSERT INTO sys_message_center")).WillReturnError(errDriver)
			},
			run: func(s *sqlstore.Store) error {
				return s.EnqueueCenterMessage(ctx, &registry.CenterMessage{Content: "c", Receivers: "A01"})
			},
			want: "sqlstore: EnqueueCenterMessage: insert center message: ",
		},
		{
			name: "finish center message: rows affected fails, rolled back",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				m.ExpectExec(sqlPrefix("UPDATE sys_message_center SET send_state")).WillReturnResult(sqlmock.NewErrorResult(errDriver))
				m.ExpectRollback()
			},
			run: func(s *sqlstore.Store) error {
				return s.FinishCenterMessage(ctx, &registry.CenterMessage{ID: 1, ClaimToken: "x.1"})
			},
			want: "sqlstore: FinishCenterMessage: rows affected: ",
		},
		{
			name: "single statement: deliveries",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT id, push_message_id")).WillReturnError(errDriver)
			},
			run:  func(s *sqlstore.Store) error { _, err := s.ListDeliveries(ctx, 1); return err },
			want: "sqlstore: ListDeliveries: select deliveries: ",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, mock, _ := mockStore(t)
			tt.expect(mock)
			err := tt.run(s)
			if tt.want == "" {
				require.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.Regexp(t, "^"+regexp.QuoteMeta(tt.want), err.Error())
			is := tt.is
			if is == nil {
				is = []error{errDriver}
			}
			for _, target := range is {
				assert.ErrorIs(t, err, target)
			}
		})
	}
}

// TestClaimRetriedAfterDeadlockReturnsEachRowOnce: a claim the database
// aborted halfway through reading its rows back is run again, and returns
// only the rows of the run that committed.
func TestClaimRetriedAfterDeadlockReturnsEachRowOnce(t *testing.T) {
	s, mock, _ := mockStore(t)
	cols := []string{"id", "title", "content", "extra_params_string", "notify_mode", "notify_level", "receivers", "send_state",
		"send_result", "remark", "send_at", "attempts", "next_attempt_at", "claim_token", "lease_until", "created_at", "updated_at",
		"push_class"}
	row := func(id int64) []driver.Value {
		return []driver.Value{id, "t", "c", nil, "push", 0, "A01", 0, nil, nil, nil, 1, nil, "x." + strconv.FormatInt(id, 10),
			"2030-06-15 08:01:00", "2030-06-15 08:00:00", "2030-06-15 08:00:00", nil}
	}
	mock.ExpectQuery(sqlPrefix("SELECT 1 FROM sys_message_center WHERE send_state IS NULL")).WillReturnRows(sqlmock.NewRows([]string{"1"}))
	for attempt := range 2 {
		mock.ExpectBegin()
		mock.ExpectQuery(sqlPrefix("SELECT id FROM sys_message_center")).WillReturnRows(sqlmock.NewRows([]string{"id"}).AddRow(1).AddRow(2))
		mock.ExpectExec(sqlPrefix("UPDATE sys_message_center SET claim_token")).WillReturnResult(sqlmock.NewResult(0, 2))
		rows := sqlmock.NewRows(cols).AddRow(row(1)...).AddRow(row(2)...)
		if attempt == 0 {
			rows = rows.RowError(1, errDeadlock)
			mock.ExpectQuery(sqlPrefix("SELECT id, title")).WillReturnRows(rows)
			mock.ExpectRollback()
			continue
		}
		mock.ExpectQuery(sqlPrefix("SELECT id, title")).WillReturnRows(rows)
		mock.ExpectCommit()
	}
	got, err := s.ClaimCenterMessages(t.Context(), registry.ClaimParams{Now: base, Limit: 5, Lease: time.Minute})
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, []int64{1, 2}, []int64{got[0].ID, got[1].ID})
}

// TestWithTxLeavesTheTransactionToTheHost: inside the host's transaction
// the Store never begins, commits or rolls back; its writes go with the
// host's.
func TestWithTxLeavesTheTransactionToTheHost(t *testing.T) {
	t.Run("sqlmock", func(t *testing.T) {
		s, mock, db := mockStore(t)
		mock.ExpectBegin()
		mock.ExpectExec(sqlPrefix("INSERT INTO sys_message_center")).WillReturnResult(sqlmock.NewResult(4, 1))
		mock.ExpectExec(sqlPrefix("INSERT INTO sys_push_token_locks")).WillReturnResult(sqlmock.NewResult(0, 1))
		mock.ExpectQuery(sqlPrefix("SELECT id FROM sys_devices")).WillReturnError(errDriver)
		mock.ExpectRollback()
		tx, err := db.BeginTx(t.Context(), nil)
		require.NoError(t, err)
		in := s.WithTx(tx)
		m := &registry.CenterMessage{Content: "c", Receivers: "A01"}
		require.NoError(t, in.EnqueueCenterMessage(t.Context(), m))
		assert.Equal(t, int64(4), m.ID)
		_, _, err = in.RegisterDevice(t.Context(), device("u", "ios", "t"), "A01")
		require.ErrorIs(t, err, errDriver)
		require.NoError(t, tx.Rollback())
	})
	forEachDialect(t, func(t *testing.T, d sqlstore.Dialect) {
		s, db := newStore(t, d)
		ctx := t.Context()
		for _, commit := range []bool{false, true} {
			tx, err := db.BeginTx(ctx, nil)
			require.NoError(t, err)
			in := s.WithTx(tx)
			m := &registry.CenterMessage{Content: "enqueued with the host's write", Receivers: "A01", NotifyMode: "push"}
			require.NoError(t, in.EnqueueCenterMessage(ctx, m))
			_, _, err = in.RegisterDevice(ctx, device("tx-"+map[bool]string{false: "a", true: "b"}[commit], "ios", "t"), "A01")
			require.NoError(t, err)
			if commit {
				require.NoError(t, tx.Commit())
			} else {
				require.NoError(t, tx.Rollback())
			}
			_, err = s.GetCenterMessage(ctx, m.ID)
			if commit {
				require.NoError(t, err)
			} else {
				require.ErrorIs(t, err, registry.ErrNotFound, "rolled back with the host's transaction")
			}
		}
		assert.Equal(t, 1, count(t, db, "sys_devices"))
	})
}

// TestMigrateErrors: the migration lock and the connection checks fail
// clearly, and a lock taken is released.
func TestMigrateErrors(t *testing.T) {
	lockName := sqlmock.AnyArg()
	tests := []struct {
		name      string
		dialect   sqlstore.Dialect
		expect    func(m sqlmock.Sqlmock)
		want      string
		noVersion bool // expect leaves out the check of the dialect
	}{
		{
			name:    "the database is PostgreSQL, the Store MySQL's",
			dialect: sqlstore.DialectMySQL,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT version()")).WillReturnRows(sqlmock.NewRows([]string{"v"}).AddRow("PostgreSQL 15.20"))
			},
			want:      `sqlstore: Migrate: the database is PostgreSQL 15.20: Options.Dialect is "mysql", and this database needs "postgres"`,
			noVersion: true,
		},
		{
			name:    "the version unreadable",
			dialect: sqlstore.DialectPostgres,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT version()")).WillReturnError(errDriver)
			},
			want:      `sqlstore: Migrate: the database answers no version(), as MySQL, MariaDB and PostgreSQL do: Options.Dialect is "postgres", which is not the database's (driver: connection reset`,
			noVersion: true,
		},
		{
			name:    "database name unreadable",
			dialect: sqlstore.DialectMySQL,
			expect:  func(m sqlmock.Sqlmock) { m.ExpectQuery(sqlPrefix("SELECT DATABASE()")).WillReturnError(errDriver) },
			want:    "sqlstore: Migrate: lock: driver: connection reset",
		},
		{
			name:    "no database in the DSN",
			dialect: sqlstore.DialectMySQL,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT DATABASE()")).WillReturnRows(sqlmock.NewRows([]string{"d"}).AddRow(nil))
			},
			want: "sqlstore: Migrate: lock: the DSN names no database",
		},
		{
			name:    "lock busy, then taken; utf8mb3 connection refused; lock released",
			dialect: sqlstore.DialectMySQL,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT DATABASE()")).WillReturnRows(sqlmock.NewRows([]string{"d"}).AddRow("test"))
				m.ExpectQuery(sqlPrefix("SELECT GET_LOCK(?, 5)")).WithArgs(lockName).WillReturnRows(sqlmock.NewRows([]string{"l"}).AddRow(0))
				m.ExpectQuery(sqlPrefix("SELECT GET_LOCK(?, 5)")).WithArgs(lockName).WillReturnRows(sqlmock.NewRows([]string{"l"}).AddRow(1))
				m.ExpectQuery(sqlPrefix("SELECT @@character_set_client")).
					WillReturnRows(sqlmock.NewRows([]string{"a", "b"}).AddRow("utf8mb3", "utf8mb3"))
				m.ExpectQuery(sqlPrefix("SELECT RELEASE_LOCK(?)")).WithArgs(lockName).WillReturnRows(sqlmock.NewRows([]string{"r"}).AddRow(1))
			},
			want: "sqlstore: Migrate: the connection's character set is utf8mb3/utf8mb3; 4-byte text such as emoji needs utf8mb4",
		},
		{
			name:    "release fails too",
			dialect: sqlstore.DialectMySQL,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT DATABASE()")).WillReturnRows(sqlmock.NewRows([]string{"d"}).AddRow("test"))
				m.ExpectQuery(sqlPrefix("SELECT GET_LOCK(?, 5)")).WillReturnRows(sqlmock.NewRows([]string{"l"}).AddRow(1))
				m.ExpectQuery(sqlPrefix("SELECT @@character_set_client")).WillReturnError(errDriver)
				m.ExpectQuery(sqlPrefix("SELECT RELEASE_LOCK(?)")).WillReturnError(errDriver)
			},
			want: "sqlstore: Migrate: read character set: driver: connection reset\nunlock: driver: connection reset",
		},
		{
			name:    "postgres advisory lock fails",
			dialect: sqlstore.DialectPostgres,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectExec(sqlPrefix("SELECT pg_advisory_lock($1)")).WillReturnError(errDriver)
			},
			want: "sqlstore: Migrate: lock: driver: connection reset",
		},
		{
			name:    "sqlite without a busy timeout",
			dialect: sqlstore.DialectSQLite,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT sqlite_version()")).WillReturnRows(sqlmock.NewRows([]string{"v"}).AddRow("3.46.0"))
				m.ExpectQuery(sqlPrefix("PRAGMA busy_timeout")).WillReturnRows(sqlmock.NewRows([]string{"timeout"}).AddRow(0))
			},
			want:      "sqlstore: Migrate: the SQLite database was opened with no busy timeout (PRAGMA busy_timeout is 0)",
			noVersion: true,
		},
		{
			name:    "sqlite busy timeout unreadable",
			dialect: sqlstore.DialectSQLite,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectQuery(sqlPrefix("SELECT sqlite_version()")).WillReturnRows(sqlmock.NewRows([]string{"v"}).AddRow("3.46.0"))
				m.ExpectQuery(sqlPrefix("PRAGMA busy_timeout")).WillReturnError(errDriver)
			},
			want:      "sqlstore: Migrate: read busy_timeout: driver: connection reset",
			noVersion: true,
		},
		{
			name:    "sqlite write lock fails",
			dialect: sqlstore.DialectSQLite,
			expect:  func(m sqlmock.Sqlmock) { m.ExpectExec(sqlPrefix("BEGIN IMMEDIATE")).WillReturnError(errDriver) },
			want:    "sqlstore: Migrate: lock: driver: connection reset",
		},
		{
			name:    "sqlite migration fails: rolled back",
			dialect: sqlstore.DialectSQLite,
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectExec(sqlPrefix("BEGIN IMMEDIATE")).WillReturnResult(sqlmock.NewResult(0, 0))
				m.ExpectQuery(sqlPrefix("SELECT COUNT(*) FROM sqlite_master")).WillReturnError(errDriver)
				m.ExpectExec(sqlPrefix("ROLLBACK")).WillReturnResult(sqlmock.NewResult(0, 0))
			},
			want: "sqlstore: Migrate: read push_schema_migrations: driver: connection reset",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, mock, err := sqlmock.New()
			require.NoError(t, err)
			t.Cleanup(func() { _ = db.Close() })
			s, err := sqlstore.New(db, sqlstore.Options{Dialect: tt.dialect})
			require.NoError(t, err)
			if !tt.noVersion {
				expectVersion(mock, tt.dialect)
			}
			tt.expect(mock)
			err = s.Migrate(t.Context())
			require.Error(t, err)
			assert.Regexp(t, "^"+regexp.QuoteMeta(tt.want), err.Error())
			assert.NoError(t, mock.ExpectationsWereMet())
		})
	}
}

// expectVersion expects Migrate's check of the database's dialect, and
// answers it as a database of dialect d.
func expectVersion(m sqlmock.Sqlmock, d sqlstore.Dialect) {
	switch d {
	case sqlstore.DialectSQLite:
		m.ExpectQuery(sqlPrefix("SELECT sqlite_version()")).WillReturnRows(sqlmock.NewRows([]string{"v"}).AddRow("3.46.0"))
		m.ExpectQuery(sqlPrefix("PRAGMA busy_timeout")).WillReturnRows(sqlmock.NewRows([]string{"timeout"}).AddRow(10000))
	case sqlstore.DialectPostgres:
		m.ExpectQuery(sqlPrefix("SELECT version()")).WillReturnRows(sqlmock.NewRows([]string{"v"}).AddRow("PostgreSQL 15.20"))
	default:
		m.ExpectQuery(sqlPrefix("SELECT version()")).WillReturnRows(sqlmock.NewRows([]string{"v"}).AddRow("10.11.19-MariaDB"))
	}
}

// expectParentTokens expects the read of the split delivery 5's tokens.
func expectParentTokens(m sqlmock.Sqlmock, tokens string) {
	m.ExpectQuery(sqlPrefix("SELECT tokens FROM sys_push_deliveries WHERE id = ?")).WithArgs(5).
		WillReturnRows(sqlmock.NewRows([]string{"tokens"}).AddRow(tokens))
}

// TestSplitDeliveryErrors: SplitDelivery takes FinishDelivery's locks, and
// a failure at any statement rolls back the split, the parts inserted
// before it and the summary, and leaves the caller's parts unchanged.
func TestSplitDeliveryErrors(t *testing.T) {
	ctx := t.Context()
	parts := func() []*registry.Delivery {
		return []*registry.Delivery{
			delivery("k.0", registry.PlatformIOS, base, "a"),
			delivery("k.1", registry.PlatformIOS, base, "b"),
		}
	}
	// expectUntilInserts expects the statements before the parts' inserts:
	// the split delivery 5 of message 2 was the 4th of its provider and
	// platform (seq 3).
	expectUntilInserts := func(m sqlmock.Sqlmock) {
		expectFinishUntilUpdate(m)
		m.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries SET state = ?")).
			WithArgs("split", sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(),
				sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), 5, "tok.5").
			WillReturnResult(sqlmock.NewResult(0, 1))
		m.ExpectQuery(sqlPrefix("SELECT MAX(seq) FROM sys_push_deliveries")).WithArgs(2, "umeng", "ios").
			WillReturnRows(sqlmock.NewRows([]string{"max"}).AddRow(3))
	}
	insertPart := func(m sqlmock.Sqlmock, key string, seq int, id int64) *sqlmock.ExpectedExec {
		return m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).
			WithArgs(2, "umeng", "ios", seq, registry.AudienceTokens, sqlmock.AnyArg(), key, "pending", sqlmock.AnyArg(), sqlmock.AnyArg(),
				sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(),
				sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg())
	}
	tests := []struct {
		name   string
		expect func(m sqlmock.Sqlmock)
		want   string
		is     []error
	}{
		{
			name: "lost claim: nothing inserted",
			expect: func(m sqlmock.Sqlmock) {
				expectFinishUntilUpdate(m)
				m.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(0, 0))
				m.ExpectRollback()
			},
			want: "sqlstore: SplitDelivery: delivery 5: registry: conflict: claim no longer held",
			is:   []error{registry.ErrClaimLost},
		},
		{
			name: "message lock fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				expectReadOldDelivery(m)
				m.ExpectQuery(sqlPrefix("SELECT id, ios_tally FROM sys_push_messages")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			want: "sqlstore: SplitDelivery: lock push message: ",
		},
		{
			name: "numbering fails",
			expect: func(m sqlmock.Sqlmock) {
				expectFinishUntilUpdate(m)
				m.ExpectExec(sqlPrefix("UPDATE sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectQuery(sqlPrefix("SELECT MAX(seq)")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			want: "sqlstore: SplitDelivery: number parts: ",
		},
		{
			name: "second part fails: the first and the split are rolled back",
			expect: func(m sqlmock.Sqlmock) {
				expectUntilInserts(m)
				insertPart(m, "k.0", 4, 11).WillReturnResult(sqlmock.NewResult(11, 1))
				insertPart(m, "k.1", 5, 12).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			want: "sqlstore: SplitDelivery: insert delivery: ",
		},
		{
			name: "a part's key is stored already",
			expect: func(m sqlmock.Sqlmock) {
				expectUntilInserts(m)
				insertPart(m, "k.0", 4, 11).
					WillReturnError(errors.New("Error 1062 (23000): Duplicate entry 'k.0' for key 'ux_sys_push_deliveries_idempotency_key'"))
				m.ExpectRollback()
			},
			want: `sqlstore: SplitDelivery: idempotency key "k.0" exists: registry: conflict: Error 1062`,
			is:   []error{registry.ErrConflict},
		},
		{
			name: "summary write fails",
			expect: func(m sqlmock.Sqlmock) {
				expectUntilInserts(m)
				insertPart(m, "k.0", 4, 11).WillReturnResult(sqlmock.NewResult(11, 1))
				insertPart(m, "k.1", 5, 12).WillReturnResult(sqlmock.NewResult(12, 1))
				expectParentTokens(m, "x")
				expectNoFanout(m)
				m.ExpectQuery(sqlPrefix("SELECT id, push_message_id")).WillReturnRows(sqlmock.NewRows([]string{"id"}))
				m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_device_tokens")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			want: "sqlstore: SplitDelivery: update summary: ",
		},
		{
			name: "the summary's tokens would not fit its column",
			expect: func(m sqlmock.Sqlmock) {
				expectUntilInserts(m)
				insertPart(m, "k.0", 4, 11).WillReturnResult(sqlmock.NewResult(11, 1))
				insertPart(m, "k.1", 5, 12).WillReturnResult(sqlmock.NewResult(12, 1))
				expectParentTokens(m, "x") // the parts add tokens: refused, not clipped
				expectNoFanout(m)
				m.ExpectQuery(sqlPrefix("SELECT id, push_message_id")).WillReturnRows(sqlmock.NewRows(deliveryRow).
					AddRow(11, 2, "umeng", "ios", 4, "tokens", strings.Repeat("t", registry.MaxTokensText+1), "k.0", "pending", 0,
						"2030-06-15 08:00:00", nil, nil, 0, nil, nil, nil, nil, nil, nil, nil, nil, "2030-06-15 08:00:00", "2030-06-15 08:00:00", nil))
				m.ExpectRollback()
			},
			want: "sqlstore: SplitDelivery: registry: ios_device_tokens: ",
			is:   []error{registry.ErrInvalid},
		},
		{
			name: "parts that share out the split's tokens: a summary too large is clipped, not refused",
			expect: func(m sqlmock.Sqlmock) {
				expectUntilInserts(m)
				insertPart(m, "k.0", 4, 21).WillReturnResult(sqlmock.NewResult(21, 1))
				insertPart(m, "k.1", 5, 22).WillReturnResult(sqlmock.NewResult(22, 1))
				expectParentTokens(m, "a,b")
				m.ExpectQuery(sqlPrefix("SELECT @@max_allowed_packet")).WillReturnRows(sqlmock.NewRows([]string{"p"}).AddRow(64 << 20))
				expectNoFanout(m)
				m.ExpectQuery(sqlPrefix("SELECT id, push_message_id")).WillReturnRows(sqlmock.NewRows(deliveryRow).
					AddRow(11, 2, "umeng", "ios", 4, "tokens", strings.Repeat("t,", registry.MaxTokensText/2+1)+"t", "k.0", "pending", 0,
						"2030-06-15 08:00:00", nil, nil, 0, nil, nil, nil, nil, nil, nil, nil, nil, "2030-06-15 08:00:00", "2030-06-15 08:00:00", nil))
				m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_device_tokens")).
					WithArgs(sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(),
						sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), 2).
					WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectCommit()
			},
		},
		{
			name: "commit fails",
			expect: func(m sqlmock.Sqlmock) {
				expectUntilInserts(m)
				insertPart(m, "k.0", 4, 11).WillReturnResult(sqlmock.NewResult(11, 1))
				insertPart(m, "k.1", 5, 12).WillReturnResult(sqlmock.NewResult(12, 1))
				expectParentTokens(m, "x")
				expectNoFanout(m)
				m.ExpectQuery(sqlPrefix("SELECT id, push_message_id")).WillReturnRows(sqlmock.NewRows([]string{"id"}))
				m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_device_tokens")).WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectCommit().WillReturnError(errDriver)
			},
			want: "sqlstore: SplitDelivery: commit: ",
		},
		{
			name: "deadlock is retried",
			expect: func(m sqlmock.Sqlmock) {
				expectUntilInserts(m)
				insertPart(m, "k.0", 4, 11).WillReturnError(errDeadlock)
				m.ExpectRollback()
				expectUntilInserts(m)
				insertPart(m, "k.0", 4, 21).WillReturnResult(sqlmock.NewResult(21, 1))
				insertPart(m, "k.1", 5, 22).WillReturnResult(sqlmock.NewResult(22, 1))
				expectParentTokens(m, "x")
				expectNoFanout(m)
				m.ExpectQuery(sqlPrefix("SELECT id, push_message_id")).WillReturnRows(sqlmock.NewRows([]string{"id"}))
				m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_device_tokens")).WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectCommit()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, mock, _ := mockStore(t)
			tt.expect(mock)
			ps := parts()
			before := []registry.Delivery{*ps[0], *ps[1]}

			err := s.SplitDelivery(ctx, finishDelivery(), ps)

			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, []int64{21, 22}, []int64{ps[0].ID, ps[1].ID}, "the ids of the run that committed")
				assert.Equal(t, []int{4, 5}, []int{ps[0].Seq, ps[1].Seq})
				return
			}
			require.Error(t, err)
			assert.Regexp(t, "^"+regexp.QuoteMeta(tt.want), err.Error())
			is := tt.is
			if is == nil {
				is = []error{errDriver}
			}
			for _, target := range is {
				assert.ErrorIs(t, err, target)
			}
			assert.Equal(t, before, []registry.Delivery{*ps[0], *ps[1]}, "a failed split leaves the parts unchanged")
		})
	}
}

// TestAddDeliveriesErrors: a stage of a fanout is written in one
// transaction under the push's lock, guarded by its claim: a failure at
// any statement rolls back the deliveries inserted before it, and leaves
// the caller's deliveries and fanout unchanged.
func TestAddDeliveriesErrors(t *testing.T) {
	ctx := t.Context()
	stage := func() []*registry.Delivery {
		return []*registry.Delivery{
			delivery("s.0", registry.PlatformIOS, base, "a"),
			delivery("s.1", registry.PlatformAndroid, base, "b"),
		}
	}
	lock := func(m sqlmock.Sqlmock, claim string) {
		m.ExpectBegin()
		m.ExpectQuery(sqlPrefix("SELECT fanout_claim, ios_tally, android_tally FROM sys_push_messages WHERE id = ? FOR UPDATE")).WithArgs(2).
			WillReturnRows(sqlmock.NewRows([]string{"fanout_claim", "ios_tally", "android_tally"}).AddRow(claim, "{}", "{}"))
	}
	insert := func(m sqlmock.Sqlmock, key string) *sqlmock.ExpectedExec {
		return m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WithArgs(2, "umeng", sqlmock.AnyArg(), sqlmock.AnyArg(),
			registry.AudienceTokens, sqlmock.AnyArg(), key, "pending", sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(),
			sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(),
			sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg(), sqlmock.AnyArg())
	}
	summary := func(m sqlmock.Sqlmock) *sqlmock.ExpectedExec {
		return m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_task_id = ?"))
	}
	tests := []struct {
		name   string
		expect func(m sqlmock.Sqlmock)
		want   string
		is     error
	}{
		{
			name: "lock fails",
			expect: func(m sqlmock.Sqlmock) {
				m.ExpectBegin()
				m.ExpectQuery(sqlPrefix("SELECT fanout_claim")).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			want: "sqlstore: AddDeliveries: lock push message: ",
			is:   errDriver,
		},
		{
			name: "another instance holds the push: nothing inserted",
			expect: func(m sqlmock.Sqlmock) {
				lock(m, "someone else")
				m.ExpectRollback()
			},
			want: "sqlstore: AddDeliveries: push message 2: ",
			is:   registry.ErrClaimLost,
		},
		{
			name: "second insert fails: the first is rolled back",
			expect: func(m sqlmock.Sqlmock) {
				lock(m, "fo")
				insert(m, "s.0").WillReturnResult(sqlmock.NewResult(11, 1))
				insert(m, "s.1").WillReturnError(errDriver)
				m.ExpectRollback()
			},
			want: "sqlstore: AddDeliveries: insert delivery: ",
			is:   errDriver,
		},
		{
			name: "a key is stored already",
			expect: func(m sqlmock.Sqlmock) {
				lock(m, "fo")
				insert(m, "s.0").WillReturnError(errors.New("Error 1062 (23000): Duplicate entry 's.0' for key 'ux_sys_push_deliveries_idempotency_key'"))
				m.ExpectRollback()
			},
			want: `sqlstore: AddDeliveries: idempotency key "s.0" exists: `,
			is:   registry.ErrConflict,
		},
		{
			name: "summary write fails",
			expect: func(m sqlmock.Sqlmock) {
				lock(m, "fo")
				insert(m, "s.0").WillReturnResult(sqlmock.NewResult(11, 1))
				insert(m, "s.1").WillReturnResult(sqlmock.NewResult(12, 1))
				summary(m).WillReturnError(errDriver)
				m.ExpectRollback()
			},
			want: "sqlstore: AddDeliveries: update summary: ",
			is:   errDriver,
		},
		{
			name: "commit fails",
			expect: func(m sqlmock.Sqlmock) {
				lock(m, "fo")
				insert(m, "s.0").WillReturnResult(sqlmock.NewResult(11, 1))
				insert(m, "s.1").WillReturnResult(sqlmock.NewResult(12, 1))
				summary(m).WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectCommit().WillReturnError(errDriver)
			},
			want: "sqlstore: AddDeliveries: commit: ",
			is:   errDriver,
		},
		{
			name: "deadlock is retried",
			expect: func(m sqlmock.Sqlmock) {
				lock(m, "fo")
				insert(m, "s.0").WillReturnError(errDeadlock)
				m.ExpectRollback()
				lock(m, "fo")
				insert(m, "s.0").WillReturnResult(sqlmock.NewResult(21, 1))
				insert(m, "s.1").WillReturnResult(sqlmock.NewResult(22, 1))
				summary(m).WillReturnResult(sqlmock.NewResult(0, 1))
				m.ExpectCommit()
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, mock, _ := mockStore(t)
			tt.expect(mock)
			ds := stage()
			before := []registry.Delivery{*ds[0], *ds[1]}
			m := &registry.PushMessage{ID: 2, Fanout: &registry.Fanout{After: "u1", ClaimToken: "fo", LeaseUntil: base}}
			next := &registry.Fanout{After: "u5", ClaimToken: "fo", LeaseUntil: base.Add(time.Minute)}

			err := s.AddDeliveries(ctx, m, ds, next)

			if tt.want == "" {
				require.NoError(t, err)
				assert.Equal(t, []int64{21, 22}, []int64{ds[0].ID, ds[1].ID}, "the ids of the run that committed")
				assert.Equal(t, "u5", m.Fanout.After)
				return
			}
			require.Error(t, err)
			assert.Regexp(t, "^"+regexp.QuoteMeta(tt.want), err.Error())
			assert.ErrorIs(t, err, tt.is)
			assert.Equal(t, before, []registry.Delivery{*ds[0], *ds[1]}, "a failed stage leaves its deliveries unchanged")
			assert.Equal(t, "u1", m.Fanout.After, "and the fanout where it was")
		})
	}
}

// A create whose commit fails may have committed all the same (the
// connection lost while the server committed): it is looked for by its
// deliveries' idempotency keys, and answered as written when every key
// is stored on one message, with that message's ids; otherwise with the
// commit's error. (A failed commit was an error, and a caller that tried
// again wrote the push twice.)
func TestCreateWhoseCommitFailedIsLookedFor(t *testing.T) {
	expectCreate := func(m sqlmock.Sqlmock) {
		m.ExpectBegin()
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_messages")).WillReturnResult(sqlmock.NewResult(2, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(10, 1))
		m.ExpectExec(sqlPrefix("INSERT INTO sys_push_deliveries")).WillReturnResult(sqlmock.NewResult(11, 1))
		m.ExpectExec(sqlPrefix("UPDATE sys_push_messages SET ios_tally")).WillReturnResult(sqlmock.NewResult(0, 1))
		m.ExpectCommit().WillReturnError(errDriver)
	}
	const lookup = "SELECT id, push_message_id, idempotency_key FROM sys_push_deliveries WHERE idempotency_key IN (?, ?)"
	create := func(s *sqlstore.Store) (*registry.PushMessage, []*registry.Delivery, error) {
		m := &registry.PushMessage{Title: "t"}
		ds := []*registry.Delivery{delivery("k1", "ios", base, "a"), delivery("k2", "android", base, "b")}
		return m, ds, s.CreatePushMessage(t.Context(), m, ds)
	}
	t.Run("written", func(t *testing.T) {
		s, mock, _ := mockStore(t)
		expectCreate(mock)
		mock.ExpectQuery(sqlPrefix(lookup)).WithArgs("k1", "k2").WillReturnRows(
			sqlmock.NewRows([]string{"id", "push_message_id", "idempotency_key"}).AddRow(11, 2, "k2").AddRow(10, 2, "k1"))
		m, ds, err := create(s)
		require.NoError(t, err)
		assert.Equal(t, int64(2), m.ID)
		assert.Equal(t, []int64{10, 11}, []int64{ds[0].ID, ds[1].ID})
		assert.Equal(t, int64(2), ds[1].PushMessageID)
	})
	for name, rows := range map[string]*sqlmock.Rows{
		"not written": sqlmock.NewRows([]string{"id", "push_message_id", "idempotency_key"}),
		"one key on another message": sqlmock.NewRows([]string{"id", "push_message_id", "idempotency_key"}).
			AddRow(10, 2, "k1").AddRow(40, 9, "k2"),
		"one key missing": sqlmock.NewRows([]string{"id", "push_message_id", "idempotency_key"}).AddRow(10, 2, "k1"),
	} {
		t.Run(name, func(t *testing.T) {
			s, mock, _ := mockStore(t)
			expectCreate(mock)
			mock.ExpectQuery(sqlPrefix(lookup)).WithArgs("k1", "k2").WillReturnRows(rows)
			m, ds, err := create(s)
			require.ErrorIs(t, err, errDriver)
			assert.ErrorContains(t, err, "sqlstore: CreatePushMessage: commit: driver: connection reset")
			assert.Zero(t, m.ID)
			assert.Zero(t, ds[0].ID)
		})
	}
	t.Run("the look-up fails", func(t *testing.T) {
		s, mock, _ := mockStore(t)
		expectCreate(mock)
		mock.ExpectQuery(sqlPrefix(lookup)).WillReturnError(errDriver)
		_, _, err := create(s)
		require.ErrorIs(t, err, errDriver, "the commit's error: the outcome is unknown")
	})
}
