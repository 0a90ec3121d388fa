// Package redacted prints values that hold secrets through their own
// String and GoString only, whatever the fmt verb.
package redacted

import (
	"fmt"
	"io"
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
