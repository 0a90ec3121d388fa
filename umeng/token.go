package umeng

import (
	"errors"
	"fmt"

	"github.com/tuisong/push/provider"
)

// Shapes of Umeng's device tokens (the team's protocol notes, as
// umengtest checks them): an Android token is 44 characters of base64, an
// iOS token the APNs device token in hex, 64 digits. APNs tokens may grow
// (Apple allows up to 100 bytes), so longer even runs of hex digits are
// taken too; base64's other alphabet ('+', '/', '=') is taken on Android.
const (
	androidTokenLen = 44
	iosTokenMinLen  = 64
	iosTokenMaxLen  = 200
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
		if len(token) != androidTokenLen {
			return fmt.Errorf("is %d characters, not a Umeng Android device token (44 characters of base64)", len(token))
		}
		for _, c := range []byte(token) {
			if !isAlnum(c) && c != '-' && c != '_' && c != '+' && c != '/' && c != '=' {
				return errors.New("holds a character base64 does not use: not a Umeng Android device token (44 characters of base64)")
			}
		}
		return nil
	case provider.IOS:
		if len(token) < iosTokenMinLen || len(token) > iosTokenMaxLen || len(token)%2 != 0 {
			return fmt.Errorf("is %d characters, not a Umeng iOS device token (the APNs token in hex: 64 digits)", len(token))
		}
		for _, c := range []byte(token) {
			if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
				return errors.New("holds a character that is no hex digit: not a Umeng iOS device token (the APNs token in hex: 64 digits)")
			}
		}
		return nil
	}
	return fmt.Errorf("platform %q is not ios or android", p)
}

// CheckToken implements provider.TokenChecker with the package's
// CheckToken.
func (c *Client) CheckToken(p provider.Platform, token string) error { return CheckToken(p, token) }

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}
