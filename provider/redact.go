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

// MaskToken hides a device token so that it still tells a user's
// devices apart in a listing, a log or a stored answer without being
// usable: its first and last four characters around "…" for a token of 16
// characters or more, only "…" and its last two for a shorter one ("…"
// alone under eight), and "" for none. Most vendors' tokens are 32 to 200
// characters, so the hidden middle keeps anybody from pushing to it; a
// JPush registration id, commonly 19 characters, keeps 11 hidden.
// Surrounding spaces are ignored.
func MaskToken(token string) string {
	token = strings.TrimSpace(token)
	r := []rune(token)
	n := len(r)
	switch {
	case n == 0:
		return ""
	case n < 8:
		return "…"
	case n < 16:
		return "…" + string(r[n-2:])
	}
	return string(r[:4]) + "…" + string(r[n-4:])
}
