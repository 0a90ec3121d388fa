// Package textclip shortens text for errors, logs and summary columns.
package textclip

import "unicode/utf8"

// Runes is s cut to at most max characters, the cut marked with "…" (one
// of the max) so that a shortened value is never mistaken for a whole one.
func Runes(s string, max int) string {
	if utf8.RuneCountInString(s) <= max {
		return s
	}
	return string([]rune(s)[:max-1]) + "…"
}
