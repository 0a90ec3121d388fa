package provider

import "strings"

// Redactor is implemented by providers that hold credentials. Redact
// returns s with every credential the provider holds (app secrets, the
// forms they take on the wire such as a Basic authorization, auth tokens
// currently in use) replaced by "REDACTED". A provider already keeps its
// own secrets out of its errors; a host that runs several providers passes
// every vendor text through all of them, so that a vendor echoing the
// secret of another app or provider cannot leak it. Redact must be cheap,
// safe for concurrent use, and never reveal a credential in any other way.
type Redactor interface {
	Redact(s string) string
}

// RedactAll replaces every non-empty secret in s by "REDACTED". Providers
// use it to implement Redactor.
func RedactAll(s string, secrets ...string) string {
	for _, sec := range secrets {
		if sec != "" {
			s = strings.ReplaceAll(s, sec, "REDACTED")
		}
	}
	return s
}

// MaskToken returns a device token shortened so that it identifies the
// device in a log or a stored answer without being usable: its first six
// characters and "…", or "…" alone for a token of eight characters or
// fewer.
func MaskToken(token string) string {
	if len(token) <= 8 {
		return "…"
	}
	r := []rune(token)
	if len(r) <= 8 {
		return "…"
	}
	return string(r[:6]) + "…"
}
