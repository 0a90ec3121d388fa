package registry

import (
	"strings"
	"unicode/utf8"
)

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

// FitVarchar returns s when a store keeps it in a VARCHAR(255) column as it
// is (UTF-8, no NUL, at most MaxVarchar characters); otherwise s made to
// fit by SanitizeText, cut at MaxVarchar bytes. Stores use it on values
// another program wrote, so that a row read can always be written back.
func FitVarchar(s string) string {
	if utf8.ValidString(s) && strings.IndexByte(s, 0) < 0 && utf8.RuneCountInString(s) <= MaxVarchar {
		return s
	}
	return SanitizeText(s, MaxVarchar)
}

// UsableToken reports whether t can be kept in a delivery's tokens column
// as one token: not empty, UTF-8 without NUL, free of commas and white
// space (the column keeps tokens comma-joined). ValidateDelivery refuses a
// delivery holding any other; callers use it to leave out a token another
// program wrote rather than fail the write of the rest.
func UsableToken(t string) bool {
	return t != "" && !strings.ContainsAny(t, ", \t\r\n\x00") && utf8.ValidString(t)
}
