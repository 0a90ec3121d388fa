package registry

import (
	"errors"
	"fmt"
)

var (
	// ErrNotFound means the row does not exist.
	ErrNotFound = errors.New("registry: not found")
	// ErrConflict means the write collides with the current state of a row
	// (a unique key, a dedupe key, a lost claim).
	ErrConflict = errors.New("registry: conflict")
	// ErrClaimLost means the claim token no longer holds the row: its lease
	// expired and another worker may own it. Nothing was written.
	ErrClaimLost = fmt.Errorf("%w: claim no longer held", ErrConflict)
	// ErrNotOwner means the user-device link belongs to another user.
	ErrNotOwner = errors.New("registry: user-device link belongs to another user")
	// ErrInvalid is matched by every *ValidationError.
	ErrInvalid = errors.New("registry: invalid value")
	// ErrCommit marks the error of a write whose transaction failed at
	// its commit, after every statement ran: unlike a statement's failure,
	// it may have committed all the same when the connection broke while
	// the server committed. Stores wrap the commit's error with it; its
	// text is the step's name, "commit".
	ErrCommit = errors.New("commit")
	// ErrNotBuilt is matched by the error of CheckBuilt (see
	// BuildChecker) and of every method of a store its constructor did
	// not make, such as a zero sqlstore.Store{} or a nil *memstore.Store:
	// the method does nothing else.
	ErrNotBuilt = errors.New("registry: not built by its constructor")
)

// ValidationError names a field whose value cannot be stored. Stores return
// it before writing anything.
type ValidationError struct {
	Field  string // column-oriented name, e.g. "title" or "device.push_token"
	Reason string
}

func (e *ValidationError) Error() string { return "registry: " + e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true for every *ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &ValidationError{Field: field, Reason: fmt.Sprintf(format, args...)}
}
