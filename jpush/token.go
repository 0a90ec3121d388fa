package jpush

import (
	"errors"
	"fmt"

	"github.com/tuisong/push/provider"
)

// CheckToken reports whether token has the shape of a JPush registration
// id, which JPush refuses otherwise (code 1003): 11 to 64 letters and
// digits (JPush documents no format; its ids are 19 characters). The
// shape is the same on both platforms. The error names the shape, never
// the token. pushctl checks imported devices with it; a Client does for
// push.Service (provider.TokenChecker).
func CheckToken(p provider.Platform, token string) error {
	if p != provider.IOS && p != provider.Android {
		return fmt.Errorf("platform %q is not ios or android", p)
	}
	if len(token) < 11 || len(token) > 64 {
		return fmt.Errorf("is %d characters, not a JPush registration id (11 to 64 letters and digits)", len(token))
	}
	for _, c := range []byte(token) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z') {
			return errors.New("holds a character other than a letter or digit: not a JPush registration id")
		}
	}
	return nil
}

// CheckToken implements provider.TokenChecker with the package's
// CheckToken.
func (c *Client) CheckToken(p provider.Platform, token string) error { return CheckToken(p, token) }
