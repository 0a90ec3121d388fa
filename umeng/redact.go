package umeng

import (
	"net/url"
	"regexp"
	"strings"

	"github.com/tuisong/push/provider"
)

var _ provider.Redactor = (*Client)(nil)

// Redact returns s with the App Master Secret of both apps, and the
// receipt secret of any receipt_url (the value of its query parameter
// "secret", see ReceiptURLWithSecret), replaced by "REDACTED".
func (c *Client) Redact(s string) string {
	if c.unbuilt() {
		return redactReceiptSecrets(s)
	}
	return redactReceiptSecrets(provider.RedactAll(s, c.otherSecrets()...))
}

// otherSecrets returns the secrets every call scrubs from what it returns
// (see scrubbedSecrets). The slice is shared: callers must not change it.
func (c *Client) otherSecrets() []string { return c.creds.others() }

// scrubbedSecrets returns the App Master Secrets of both apps (a call made
// for one app scrubs the other's from the answer too, in case Umeng echoes
// it), and the receipt secrets the apps' Defaults and ClassDefaults carry in
// their receipt_url, decoded and as written, when they are long enough to be
// replaced wherever they appear (redactReceiptSecrets catches them, however
// short, after "secret=").
func scrubbedSecrets(ios, android App) []string {
	out := []string{ios.AppMasterSecret, android.AppMasterSecret}
	for _, a := range []App{ios, android} {
		out = append(out, receiptSecrets(a.Defaults.ReceiptURL)...)
		for _, o := range a.ClassDefaults {
			out = append(out, receiptSecrets(o.ReceiptURL)...)
		}
	}
	return out
}

// minBareSecret is the shortest receipt secret that is replaced wherever
// it appears: a shorter one could be a piece of any word.
const minBareSecret = 8

// receiptSecrets returns the values of the query parameter "secret" of
// the URL raw, decoded and as written, that are at least minBareSecret
// bytes long.
func receiptSecrets(raw string) []string {
	_, query, ok := strings.Cut(raw, "?")
	if !ok {
		return nil
	}
	query, _, _ = strings.Cut(query, "#")
	var out []string
	for part := range strings.SplitSeq(query, "&") {
		k, v, _ := strings.Cut(part, "=")
		if key, err := url.QueryUnescape(k); err != nil || key != "secret" {
			continue
		}
		if len(v) >= minBareSecret {
			out = append(out, v)
		}
		if d, err := url.QueryUnescape(v); err == nil && d != v && len(d) >= minBareSecret {
			out = append(out, d)
		}
	}
	return out
}

// receiptSecretParam matches the value of a query parameter named
// "secret" (or ending in "secret", such as an app_master_secret) in text:
// a receipt_url that Umeng echoes in an answer or an error message.
var receiptSecretParam = regexp.MustCompile(`(?i)(secret=)[^&"'\s\\<>#]+`)

// mayHoldSecretParam reports whether text may hold a match of
// receiptSecretParam, cheaply: whether it holds "ecret=" in any ASCII case.
// Only the "s" of "secret" has a non-ASCII case fold (U+017F), so every
// match holds these six bytes.
func mayHoldSecretParam[T string | []byte](text T) bool {
	for i := 5; i < len(text); i++ {
		if text[i] == '=' && text[i-5]|0x20 == 'e' && text[i-4]|0x20 == 'c' && text[i-3]|0x20 == 'r' &&
			text[i-2]|0x20 == 'e' && text[i-1]|0x20 == 't' {
			return true
		}
	}
	return false
}

// redactReceiptSecrets replaces the value of every "secret=" query
// parameter in s by "REDACTED".
func redactReceiptSecrets(s string) string {
	if !mayHoldSecretParam(s) {
		return s
	}
	return receiptSecretParam.ReplaceAllString(s, "${1}REDACTED")
}

// redactReceiptSecretBytes is redactReceiptSecrets for an answer's body.
func redactReceiptSecretBytes(b []byte) []byte {
	if !mayHoldSecretParam(b) {
		return b
	}
	return receiptSecretParam.ReplaceAll(b, []byte("${1}REDACTED"))
}
