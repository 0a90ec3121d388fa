package umengtest

import (
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
)

// Token lengths of the real service: Android device tokens are 44 characters
// of the URL-safe base64 alphabet, iOS tokens 64 hex digits (the APNs token).
const (
	androidTokenLen = 44
	iosTokenLen     = 64
)

// AndroidToken returns a well-formed Android device token derived from seed:
// the same seed always gives the same token, different seeds different ones.
// Use it to make tokens the fake's format check accepts.
func AndroidToken(seed string) string {
	sum := sha256.Sum256([]byte("android:" + seed))
	// 33 bytes encode to exactly 44 base64 characters without padding.
	raw := append(sum[:], sum[0])
	return base64.RawURLEncoding.EncodeToString(raw)
}

// IOSToken returns a well-formed iOS device token (64 lowercase hex digits)
// derived from seed, deterministic like AndroidToken.
func IOSToken(seed string) string {
	sum := sha256.Sum256([]byte("ios:" + seed))
	return hex.EncodeToString(sum[:])
}

// wellFormedToken reports whether token has the shape of a device token of
// platform.
func wellFormedToken(platform, token string) bool {
	switch platform {
	case PlatformAndroid:
		if len(token) != androidTokenLen {
			return false
		}
		for _, c := range []byte(token) {
			if !isAlnum(c) && c != '-' && c != '_' {
				return false
			}
		}
		return true
	case PlatformIOS:
		if len(token) != iosTokenLen {
			return false
		}
		for _, c := range []byte(token) {
			if !isHex(c) {
				return false
			}
		}
		return true
	}
	return false
}

func isAlnum(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

func isHex(c byte) bool {
	return c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F'
}
