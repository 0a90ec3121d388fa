package memstore

import (
	"strings"

	"github.com/tuisong/push/registry"
)

// unpad drops the trailing spaces of an identifier (uuid, user_num,
// push_platform, dedupe_key, idempotency_key, token): MySQL's PAD SPACE
// collations cannot tell "u1" from "u1 ", so no store does (see the
// registry's Identifiers).
func unpad(s string) string { return strings.TrimRight(s, " ") }

// platformOf reads a platform the way the SQL store compares rows other
// programs wrote: ASCII letters in lower case, without surrounding spaces.
// It reports whether the result is a platform pushes go to.
func platformOf(p string) (string, bool) {
	p = strings.Map(func(r rune) rune {
		if 'A' <= r && r <= 'Z' {
			return r + 'a' - 'A'
		}
		return r
	}, strings.Trim(p, " "))
	return p, p == registry.PlatformIOS || p == registry.PlatformAndroid
}
