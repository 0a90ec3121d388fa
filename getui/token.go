package getui

import (
	"fmt"

	"github.com/tuisong/push/provider"
)

// cidShape is a Getui cid's: 32 lowercase hex digits, on both platforms.
var cidShape = provider.TokenShape{
	What: "a Getui cid (32 lowercase hex digits)", Min: 32, Max: 32,
	Byte:    func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' },
	NotByte: "a character that is no lowercase hex digit",
}

// CheckToken reports whether token has the shape of a Getui cid (client
// id), which Getui refuses otherwise: 32 lowercase hex digits, on both
// platforms. The error names the shape, never the token. pushctl checks
// imported devices with it; a Client does for push.Service
// (provider.TokenChecker).
func CheckToken(p provider.Platform, token string) error {
	if p != provider.IOS && p != provider.Android {
		return fmt.Errorf("platform %q is not ios or android", p)
	}
	return cidShape.Check(token)
}

// CheckToken implements provider.TokenChecker with the package's
// CheckToken.
func (c *Client) CheckToken(p provider.Platform, token string) error { return CheckToken(p, token) }
