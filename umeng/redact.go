package umeng

import "github.com/tuisong/push/provider"

var _ provider.Redactor = (*Client)(nil)

// Redact returns s with the App Master Secret of both apps replaced by
// "REDACTED".
func (c *Client) Redact(s string) string { return provider.RedactAll(s, c.otherSecrets()...) }

// otherSecrets returns the App Master Secrets of both apps: a call made
// for one app scrubs the other's from the answer too, in case Umeng
// echoes it.
func (c *Client) otherSecrets() []string {
	return []string{c.creds.app(provider.IOS).AppMasterSecret, c.creds.app(provider.Android).AppMasterSecret}
}
