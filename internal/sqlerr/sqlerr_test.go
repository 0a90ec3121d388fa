package sqlerr

import (
	"errors"
	"fmt"
	"io"
	"testing"

	"github.com/stretchr/testify/assert"
)

// pgError stands in for pgconn.PgError, which reports its SQLSTATE by a
// method.
type pgError struct{ state string }

func (e *pgError) Error() string    { return "ERROR: something (SQLSTATE " + e.state + ")" }
func (e *pgError) SQLState() string { return e.state }

// pgMsgError is a pgError with its server message.
type pgMsgError struct {
	pgError
	msg string
}

func (e *pgMsgError) Error() string { return "ERROR: " + e.msg + " (SQLSTATE " + e.state + ")" }

// wrapped is an error whose text is its own, as pgconn's lock error.
type wrapped struct{ msg string }

func (e *wrapped) Error() string { return e.msg }

// TestStateAndNumber reads the SQLSTATE of pgx errors by their method and
// of go-sql-driver/mysql errors by their text, anywhere in the chain.
func TestStateAndNumber(t *testing.T) {
	wrapped := fmt.Errorf("sqlstore: claim: %w", &pgError{"57P01"})
	assert.Equal(t, "57P01", State(wrapped))
	assert.Equal(t, "", MySQLNumber(wrapped))

	my := fmt.Errorf("sqlstore: finish: %w", errors.New("Error 1053 (08S01): Server shutdown in progress"))
	assert.Equal(t, "08S01", State(my))
	assert.Equal(t, "1053", MySQLNumber(my))

	noState := errors.New("Error 1927: Connection was killed")
	assert.Equal(t, "", State(noState))
	assert.Equal(t, "1927", MySQLNumber(noState))

	assert.Equal(t, "", State(errors.New("no such table: x")))
	assert.Equal(t, "", MySQLNumber(errors.New("sqlstore: Error 1053 in text, not at its start")))
}

// TestUnavailable: a database shutting down, starting, out of connections,
// refusing the login or cut off is unavailable; a refused statement (a
// privilege missing on a table included) is not.
func TestUnavailable(t *testing.T) {
	for _, err := range []error{
		&pgError{"57P01"}, &pgError{"57P02"}, &pgError{"57P03"}, &pgError{"08006"}, &pgError{"08001"}, &pgError{"53300"},
		fmt.Errorf("x: %w", &pgError{"57P01"}),
		errors.New("Error 1053 (08S01): Server shutdown in progress"),
		errors.New("Error 1040 (08004): Too many connections"),
		errors.New("Error 1927 (70100): Connection was killed"),
		errors.New("Error 4031 (HY000): The client was disconnected by the server because of inactivity"),
		errors.New("Error 2013 (08S01): Lost connection"),
		fmt.Errorf("sqlstore: create: %w", errors.New("invalid connection")),
		&pgError{"55P03"},
		&pgMsgError{pgError{"55000"}, `database "h73_x" is not currently accepting connections`},
		errors.New("Error 1203 (42000): User push already has more than 'max_user_connections' active connections"),
		errors.New("Error 1205 (HY000): Lock wait timeout exceeded; try restarting transaction"),
		errors.New("Error 1226 (42000): User 'push' has exceeded the 'max_user_connections' resource"),
		// The login refused: not the request's fault, and over once the
		// operator restores the account.
		&pgMsgError{pgError{"28000"}, `role "push" is not permitted to log in`}, &pgError{"28P01"},
		errors.New("Error 1045 (28000): Access denied for user 'push'@'10.0.0.7' (using password: YES)"),
		errors.New("Error 1044 (42000): Access denied for user 'push'@'%' to database 'push'"),
		errors.New("Error 4151 (HY000): Access denied, this account is locked"),
		// A cut mid-statement, joined with the rollback's error as the
		// stores report it: the outage is inside the join.
		fmt.Errorf("sqlstore: FinishDelivery: %w", errors.Join(fmt.Errorf("update delivery: %w", io.ErrUnexpectedEOF), errors.New("rollback: conn closed"))),
		fmt.Errorf("sqlstore: CreatePushMessage: %w", errors.Join(fmt.Errorf("insert push message: %w", errors.New("invalid connection")), fmt.Errorf("rollback: %w", errors.New("invalid connection")))),
		errors.Join(errors.New("rollback failed"), errors.New("Error 1053 (08S01): Server shutdown in progress")),
		errors.Join(errors.New("x"), &pgError{"57P01"}),
		fmt.Errorf("commit: %w", &wrapped{"conn closed"}),
		fmt.Errorf("select targets: %w", io.ErrUnexpectedEOF),
	} {
		assert.True(t, Unavailable(err), "%v", err)
	}
	for _, err := range []error{
		nil, errors.New("boom"), &pgError{"23505"}, &pgError{"40P01"}, &pgError{"57014"}, &pgError{"42P01"},
		errors.New("Error 1062 (23000): Duplicate entry"), errors.New("Error 1213 (40001): Deadlock found"),
		errors.New("Error 1142 (42000): UPDATE command denied to user 'push'@'%' for table 'sys_devices'"), &pgError{"42501"},
		errors.New("sqlstore: invalid connection string"),
		&pgMsgError{pgError{"55000"}, "cannot refresh materialized view concurrently"},
		errors.Join(errors.New("boom"), errors.New("rollback: sql: transaction has already been committed or rolled back")),
		errors.New("sqlstore: conn closed in the text, not the whole of it"),
		fmt.Errorf("a custom store's iterator: %w", io.EOF), // not a driver's lost connection
	} {
		assert.False(t, Unavailable(err), "%v", err)
	}
}
