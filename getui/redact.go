package getui

import "github.com/tuisong/push/provider"

var _ provider.Redactor = (*Client)(nil)

// Redact returns s with the master secret and the auth token in use
// replaced by "REDACTED".
func (c *Client) Redact(s string) string {
	if c.unbuilt() {
		return s
	}
	c.tokens.mu.Lock()
	tok := ""
	if c.tokens.cur != nil {
		tok = c.tokens.cur.value()
	}
	c.tokens.mu.Unlock()
	return provider.RedactAll(s, c.secret(), tok)
}
