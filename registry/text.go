package registry

import "strings"

// SanitizeText makes text that came from outside (a vendor's response, a
// notifier's result, an error message) storable on every database: invalid
// UTF-8 and NUL characters become U+FFFD and the value is cut at maxBytes
// on a character boundary, marked with "…". Callers use it for outcome columns, where refusing the write
// would lose the outcome; caller input is validated instead.
func SanitizeText(s string, maxBytes int) string {
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= maxBytes {
		return s
	}
	const mark = "…"
	cut := maxBytes - len(mark)
	for cut > 0 && !isRuneStart(s[cut]) {
		cut--
	}
	return s[:max(cut, 0)] + mark
}

func isRuneStart(b byte) bool { return b&0xC0 != 0x80 }
