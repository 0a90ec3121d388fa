package vendorhttp

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/tuisong/push/provider"
)

// BaseURLProblem says why raw cannot be the base URL of a vendor API, or
// returns "" when it can: an http or https URL with a host and an
// optional path, and no user info, query or fragment (the clients append
// paths and, for Umeng, a signed query to it).
func BaseURLProblem(raw string) string {
	u, err := url.Parse(raw)
	switch {
	case err != nil:
		return "is not a URL"
	case u.Scheme != "http" && u.Scheme != "https":
		return fmt.Sprintf("scheme must be http or https, got %q", u.Scheme)
	case u.Host == "":
		return "has no host"
	case u.RawQuery != "" || u.Fragment != "" || u.User != nil:
		return "must not carry user info, a query or a fragment"
	}
	return ""
}

// TransportError is the error of a failed HTTP exchange with the vendor
// named provider. written says whether the request had been written in
// full: after that, the vendor may have acted on it, so the failure is
// Indeterminate; before, Temporary. err is scrubbed as ScrubError does.
func TransportError(providerName, op string, err error, written bool, secrets ...string) error {
	return provider.TransportError(providerName, op, ScrubError(err, secrets...), written)
}

// ScrubError returns err without the secrets its text may hold. The URL
// that net/http puts in its errors keeps its scheme, host and path only
// (a query may carry a sign, user info a password), and every non-empty
// secret left in the text is replaced by "REDACTED". An error whose text
// changed is replaced by one that has the scrubbed text and still matches
// the original with errors.Is (context.DeadlineExceeded, say), without
// handing the original out through Unwrap.
func ScrubError(err error, secrets ...string) error {
	if err == nil {
		return nil
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		cp := *ue
		cp.URL = redactURL(ue.URL)
		err = &cp
	}
	text := err.Error()
	if s := provider.RedactAll(text, secrets...); s != text {
		return &redactedError{msg: s, orig: err}
	}
	return err
}

// redactedError stands in for an error whose text held a secret.
type redactedError struct {
	msg  string
	orig error
}

func (e *redactedError) Error() string        { return e.msg }
func (e *redactedError) Is(target error) bool { return errors.Is(e.orig, target) }

// redactURL drops the query and user info of raw.
func redactURL(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(url redacted)"
	}
	u.RawQuery = ""
	u.ForceQuery = false
	u.User = nil
	return u.String()
}

// ScrubBytes returns b with every non-empty secret replaced by
// "REDACTED"; b itself is not changed. The vendors' secrets, tokens and
// signs are letters, digits and a few marks, so a JSON body stays JSON. A
// JSON body may also spell a secret with escapes ("\u0064…", "\/" in a
// base64 credential): when one of its decoded strings holds a secret, the
// body is re-encoded with it replaced (its members then in key order).
func ScrubBytes(b []byte, secrets ...string) []byte {
	some := false
	for _, s := range secrets {
		if s == "" {
			continue
		}
		some = true
		if bytes.Contains(b, []byte(s)) {
			b = bytes.ReplaceAll(b, []byte(s), []byte("REDACTED"))
		}
	}
	if some && bytes.IndexByte(b, '\\') >= 0 {
		b = scrubEscaped(b, secrets)
	}
	return b
}

// scrubEscaped is ScrubBytes for secrets that a JSON body spells with
// escapes: it decodes b, and when a string (a member's name or a value)
// holds a secret, re-encodes it with every secret replaced. A body that
// is not exactly one JSON value, or whose objects hold names that only
// case tells apart (which the clients' decoding reads by document order,
// lost in re-encoding), is replaced whole by RedactedBody when it may
// spell a secret: what it meant cannot be kept safely. A body that holds
// no secret so spelled is returned as it is.
func scrubEscaped(b []byte, secrets []string) []byte {
	if !json.Valid(b) {
		if mayHold(b, secrets) {
			return []byte(RedactedBody)
		}
		return b
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber() // numbers as written
	var v any
	if dec.Decode(&v) != nil {
		return b
	}
	found, folded := false, false
	redact := func(s string) string {
		r := provider.RedactAll(s, secrets...)
		found = found || r != s
		return r
	}
	v = redactStrings(v, redact, &folded)
	if !found {
		return b
	}
	if folded {
		return []byte(RedactedBody)
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if enc.Encode(v) != nil {
		return []byte(RedactedBody)
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n"))
}

// RedactedBody replaces a vendor's answer that spelled a secret in a way
// that cannot be redacted in place (see ScrubBytes). It is not JSON, so a
// client reads the answer as unreadable.
const RedactedBody = "(answer withheld: it held a secret)"

// redactStrings applies redact to every string of a decoded JSON value,
// member names included, and sets *folded when an object holds two names
// that differ only in case.
func redactStrings(v any, redact func(string) string, folded *bool) any {
	switch x := v.(type) {
	case string:
		return redact(x)
	case []any:
		for i := range x {
			x[i] = redactStrings(x[i], redact, folded)
		}
		return x
	case map[string]any:
		out := make(map[string]any, len(x))
		lower := make(map[string]bool, len(x))
		for k, e := range x {
			if l := strings.ToLower(k); lower[l] {
				*folded = true
			} else {
				lower[l] = true
			}
			out[redact(k)] = redactStrings(e, redact, folded)
		}
		return out
	}
	return v
}

// mayHold reports whether b, not valid JSON, may spell a secret with JSON
// escapes: each JSON string in it is decoded on its own.
func mayHold(b []byte, secrets []string) bool {
	for _, m := range jsonString.FindAll(b, -1) {
		var s string
		if json.Unmarshal(m, &s) == nil && provider.RedactAll(s, secrets...) != s {
			return true
		}
	}
	return false
}

// jsonString matches a JSON string literal.
var jsonString = regexp.MustCompile(`"(?:[^"\\]|\\.)*"`)

// Truncate shortens s to at most n bytes, and "…", without splitting a
// UTF-8 sequence: a vendor's message kept in an error stays readable and
// bounded.
func Truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	cut := n
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}

// Clip shortens vendor text for an error or a log line: valid UTF-8 (bad
// bytes become U+FFFD), at most 64 characters and "…".
func Clip(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	if r := []rune(s); len(r) > 64 {
		return string(r[:64]) + "…"
	}
	return s
}

// WriteJSON answers a vendor's callback (a receipt post) with status and
// v as JSON.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v) // the client went away; nothing to do
}
