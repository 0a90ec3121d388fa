package jpush

import "github.com/tuisong/push/provider"

var _ provider.Redactor = (*Client)(nil)

// Redact returns s with the master secret, and the Basic authorization
// credentials made from it, replaced by "REDACTED".
func (c *Client) Redact(s string) string {
	if c.unbuilt() {
		return s
	}
	secret, basic := c.creds.secret()
	return provider.RedactAll(s, basic, secret)
}
