// Package isnil tells whether a value handed in as an interface is nil
// underneath.
package isnil

import "reflect"

// Value reports whether v is nil, or an interface holding a nil pointer,
// map, func, channel or slice: what a constructor whose error was dropped
// returns, say, or a func type left unset. A method called on it would
// panic where the caller cannot see why.
func Value(v any) bool {
	if v == nil {
		return true
	}
	switch rv := reflect.ValueOf(v); rv.Kind() {
	case reflect.Pointer, reflect.Map, reflect.Func, reflect.Chan, reflect.Slice:
		return rv.IsNil()
	}
	return false
}
