package provider

import "fmt"

// TokenShape is the shape of a vendor's device tokens, for a
// TokenChecker: Min to Max bytes (an even number of them with Even), each
// one that Byte takes. Check's errors name the shape (What) and never
// the token.
type TokenShape struct {
	// What names the tokens and their shape, after "not": "a Getui cid
	// (32 lowercase hex digits)".
	What     string
	Min, Max int
	Even     bool
	Byte     func(c byte) bool
	// NotByte names a byte Byte refuses, after "holds": "a character
	// that is no hex digit".
	NotByte string
}

// Check returns nil when token has the shape, else an error that names
// the shape ("is 6 characters, not …" or "holds …: not …").
func (s TokenShape) Check(token string) error {
	if n := len(token); n < s.Min || n > s.Max || s.Even && n%2 != 0 {
		return fmt.Errorf("is %d characters, not %s", n, s.What)
	}
	for i := range len(token) {
		if !s.Byte(token[i]) {
			return fmt.Errorf("holds %s: not %s", s.NotByte, s.What)
		}
	}
	return nil
}
