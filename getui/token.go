package getui

import (
	"errors"
	"fmt"

	"github.com/tuisong/push/provider"
)

// CheckToken reports whether token has the shape of a Getui cid (client
// id), which Getui refuses otherwise: 32 lowercase hex digits, on both
// platforms. The error names the shape, never the token. pushctl checks
// imported devices with it; a Client does for push.Service
// (provider.TokenChecker).
func CheckToken(p provider.Platform, token string) error {
	if p != provider.IOS && p != provider.Android {
		return fmt.Errorf("platform %q is not ios or android", p)
	}
	if len(token) != 32 {
		return fmt.Errorf("is %d characters, not a Getui cid (32 lowercase hex digits)", len(token))
	}
	for _, c := range []byte(token) {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return errors.New("holds a character that is no lowercase hex digit: not a Getui cid (32 lowercase hex digits)")
		}
	}
	return nil
}

// CheckToken implements provider.TokenChecker with the package's
// CheckToken.
func (c *Client) CheckToken(p provider.Platform, token string) error { return CheckToken(p, token) }
