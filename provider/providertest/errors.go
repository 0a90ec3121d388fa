package providertest

import (
	"context"
	"errors"

	"github.com/tuisong/push/provider"
)

// scriptedMessage is the Message of errors made by Mock.Err, so a log line
// shows at once that a failure was scripted, not real.
const scriptedMessage = "scripted failure"

// Err returns a *provider.Error of this Mock for Op "send" with the given
// kind and vendor code, for scripting failures:
//
//	m.FailNext(1, m.Err(provider.InvalidToken, "5000"))
//
// The caller may set further fields, such as RetryAfter, before handing it
// to the Mock.
func (m *Mock) Err(kind provider.Kind, code string) *provider.Error {
	return &provider.Error{Provider: m.name, Op: "send", Kind: kind, Code: code, Message: scriptedMessage}
}

// own returns a copy of the *provider.Error in err with Provider set to this
// Mock, as a real provider names itself on its validation errors.
func (m *Mock) own(err error) error {
	var pe *provider.Error
	if !errors.As(err, &pe) {
		return m.asProviderError("validate", err)
	}
	c := *pe
	c.Provider = m.name
	return &c
}

// wrap returns a *provider.Error of this Mock for op with kind and cause.
func (m *Mock) wrap(op string, kind provider.Kind, cause error) error {
	return &provider.Error{Provider: m.name, Op: op, Kind: kind, Err: cause}
}

// asProviderError keeps the contract that every error is or wraps a
// *provider.Error: err is returned unchanged when it already does, and
// wrapped otherwise. A ctx error means the request reached the "vendor"
// before ctx ended, hence Indeterminate.
func (m *Mock) asProviderError(op string, err error) error {
	var pe *provider.Error
	if errors.As(err, &pe) {
		return err
	}
	kind := provider.Unknown
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		kind = provider.Indeterminate
	}
	return m.wrap(op, kind, err)
}
