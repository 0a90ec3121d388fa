package umeng

import (
	"fmt"
	"strings"

	"github.com/tuisong/push/provider"
)

// Shapes of Umeng's device tokens (the team's protocol notes, as
// umengtest checks them): an Android token is 44 characters of base64, an
// iOS token the APNs device token in hex, 64 digits. APNs tokens may grow
// (Apple allows up to 100 bytes), so longer even runs of hex digits are
// taken too; base64's other alphabet ('+', '/', '=') is taken on Android.
var (
	androidTokenShape = provider.TokenShape{
		What: "a Umeng Android device token (44 characters of base64)", Min: 44, Max: 44,
		Byte: func(c byte) bool {
			return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
				c == '-' || c == '_' || c == '+' || c == '/' || c == '='
		},
		NotByte: "a character base64 does not use",
	}
	iosTokenShape = provider.TokenShape{
		What: "a Umeng iOS device token (the APNs token in hex: 64 digits)", Min: 64, Max: 200, Even: true,
		Byte:    func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F' },
		NotByte: "a character that is no hex digit",
	}
)

// CheckToken reports whether token has the shape of a Umeng device token
// of platform p, which Umeng's send API refuses otherwise: on Android 44
// characters of base64 (Umeng's are letters, digits, '-' and '_'), on
// iOS an even number of hex digits, 64 to 200 (the APNs token). The error
// names the shape, never the token. pushctl checks imported devices with
// it; a Client does for push.Service (provider.TokenChecker).
func CheckToken(p provider.Platform, token string) error {
	switch p {
	case provider.Android:
		return androidTokenShape.Check(token)
	case provider.IOS:
		return iosTokenShape.Check(token)
	}
	return fmt.Errorf("platform %q is not ios or android", p)
}

// CanonicalToken returns the spelling of a Umeng device token of
// platform p that push.Service stores: an iOS token (the APNs token in
// hex, which apps write in either case) in lower case, as the Umeng SDK
// reports it; any other token as it is (an Android token is base64, whose
// case is part of it).
func CanonicalToken(p provider.Platform, token string) string {
	if p == provider.IOS {
		return strings.ToLower(token)
	}
	return token
}

// CanonicalToken implements provider.TokenCanonicalizer with the
// package's CanonicalToken.
func (c *Client) CanonicalToken(p provider.Platform, token string) string {
	return CanonicalToken(p, token)
}

// CheckToken implements provider.TokenChecker with the package's
// CheckToken.
func (c *Client) CheckToken(p provider.Platform, token string) error { return CheckToken(p, token) }
