package jpush

import (
	"fmt"

	"github.com/tuisong/push/provider"
)

// ridShape is a JPush registration id's: 11 to 64 letters and digits
// (JPush documents no format; its ids are 19 characters), the same on
// both platforms.
var ridShape = provider.TokenShape{
	What: "a JPush registration id (11 to 64 letters and digits)", Min: 11, Max: 64,
	Byte:    func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' },
	NotByte: "a character other than a letter or digit",
}

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
	return ridShape.Check(token)
}

// CheckToken implements provider.TokenChecker with the package's
// CheckToken.
func (c *Client) CheckToken(p provider.Platform, token string) error { return CheckToken(p, token) }
