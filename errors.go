package push

import (
	"errors"
	"fmt"
)

var (
	// ErrInvalid is matched (errors.Is) by every *FieldError.
	ErrInvalid = errors.New("push: invalid input")
	// ErrNoDevices means none of the users has an active device with a
	// usable token that a configured provider serves. Nothing was recorded
	// and nothing was sent. When the users do have active devices, the
	// error wrapping it says how many were skipped (their push_platform,
	// "umeng" when the row has none, names no configured provider; or that
	// provider does not serve their platform; or their token is unusable).
	ErrNoDevices = errors.New("push: no active device for the users")
	// ErrUnknownProvider means a name matched no configured provider.
	ErrUnknownProvider = errors.New("push: unknown provider")
	// ErrNotBuilt is matched (errors.Is) by the error of every method of a
	// Service that New did not make: a zero Service{} or a nil *Service.
	// Such a Service has no store and no provider, so the method does
	// nothing else. A Handler that NewHandler did not make answers 500 and
	// logs an error wrapping it.
	ErrNotBuilt = errors.New("push: not built by its constructor")
)

// FieldError names an input field that failed validation. Nothing was
// written when a Service method returns one.
type FieldError struct {
	Field  string // the product brief's parameter name, e.g. "user_num", "platform"
	Reason string
}

func (e *FieldError) Error() string { return "push: " + e.Field + ": " + e.Reason }

// Is makes errors.Is(err, ErrInvalid) true.
func (e *FieldError) Is(target error) bool { return target == ErrInvalid }

func invalid(field, format string, args ...any) error {
	return &FieldError{Field: field, Reason: fmt.Sprintf(format, args...)}
}

// notBuilt is the error of method (such as "Service.Push") called on a
// value its constructor, ctor, did not make.
func notBuilt(method, ctor string) error {
	return fmt.Errorf("%w: %s needs a value made by %s, not a zero value or nil", ErrNotBuilt, method, ctor)
}
