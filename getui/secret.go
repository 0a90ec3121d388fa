package getui

import (
	"fmt"
	"io"
	"log/slog"
)

// Secret holds a credential so that nothing prints it: the value sits in a
// closure, which fmt, even through a verb it cannot apply (%p, %d on a
// struct, where it prints fields by reflection without calling Format),
// and reflection-based printers show as an address at most. Make one with
// NewSecret; the zero Secret is empty.
type Secret struct {
	reveal func() string
}

// NewSecret wraps s.
func NewSecret(s string) Secret {
	if s == "" {
		return Secret{}
	}
	return Secret{reveal: func() string { return s }}
}

// value returns the wrapped credential, "" for the zero Secret.
func (s Secret) value() string {
	if s.reveal == nil {
		return ""
	}
	return s.reveal()
}

// IsZero reports whether s holds nothing.
func (s Secret) IsZero() bool { return s.value() == "" }

// String returns "REDACTED", or "" for the zero Secret.
func (s Secret) String() string {
	if s.IsZero() {
		return ""
	}
	return "REDACTED"
}

// Format prints String whatever the verb.
func (s Secret) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, s.String()) }

// LogValue makes slog record String.
func (s Secret) LogValue() slog.Value { return slog.StringValue(s.String()) }

// MarshalText encodes String, so a Config written as JSON or text does not
// carry the secret.
func (s Secret) MarshalText() ([]byte, error) { return []byte(s.String()), nil }
