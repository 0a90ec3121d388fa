// Package redacted prints values that hold secrets through their own
// String and GoString only, whatever the fmt verb, and encodes them as
// JSON through their LogValue.
package redacted

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strconv"
)

// Value is a type whose String and GoString leave its secrets out.
type Value interface {
	fmt.Stringer
	fmt.GoStringer
}

// Format is the body of a Format method for v: %#v prints GoString, %q a
// quoted String, and every other verb or flag String, so that no verb (a
// %d or %x makes fmt print a struct's fields) can reach a secret.
func Format(f fmt.State, verb rune, v Value) {
	var s string
	switch {
	case verb == 'v' && f.Flag('#'):
		s = v.GoString()
	case verb == 'q':
		s = strconv.Quote(v.String())
	default:
		s = v.String()
	}
	_, _ = io.WriteString(f, s)
}

// JSON encodes the attributes of v, a group such as a LogValue method
// returns, as a JSON object with the attributes in order. It is the
// MarshalJSON of the types that keep secrets: slog calls LogValue only on
// an attribute's own value, and its JSON handler encodes a value nested in
// a slice, map or struct with encoding/json, which would otherwise write
// every field, the secret included.
func JSON(v slog.Value) ([]byte, error) {
	v = v.Resolve()
	if v.Kind() != slog.KindGroup {
		return json.Marshal(v.Any())
	}
	var b bytes.Buffer
	b.WriteByte('{')
	for i, a := range v.Group() {
		if i > 0 {
			b.WriteByte(',')
		}
		k, err := json.Marshal(a.Key)
		if err != nil {
			return nil, err
		}
		b.Write(k)
		b.WriteByte(':')
		val, err := json.Marshal(a.Value.Resolve().Any())
		if err != nil {
			return nil, err
		}
		b.Write(val)
	}
	b.WriteByte('}')
	return b.Bytes(), nil
}
