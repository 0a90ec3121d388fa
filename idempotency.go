package push

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"net/http"
	"slices"
	"strings"

	"github.com/tuisong/push/registry"
)

// HeaderIdempotencyKey is the request header that carries the idempotency
// key of POST /api/v1.1/user/push_message, as the IETF draft
// draft-ietf-httpapi-idempotency-key-header names it. The body parameter
// idempotency_key carries it for clients that cannot set headers.
const HeaderIdempotencyKey = "Idempotency-Key"

// MaxIdempotencyKey is the longest idempotency key the handler accepts, in
// bytes, after surrounding spaces and tabs are trimmed.
const MaxIdempotencyKey = 128

// idempotencyPrefix starts the dedupe_key of every push made through the
// HTTP API with an idempotency key. The message center's keys start with
// "message_center#": the two never meet.
const idempotencyPrefix = "http#"

// idempotencyKey returns the request's idempotency key: the
// Idempotency-Key header or the idempotency_key body parameter, or both
// when they are equal; "" when the request has none. A key that is blank,
// longer than MaxIdempotencyKey bytes or not printable ASCII, a header
// sent twice, or a header and a parameter that differ is a *FieldError
// naming idempotency_key. The key itself is never quoted in the error: it
// is the client's, and answers and logs need not hold it.
func idempotencyKey(r *http.Request, p params) (string, error) {
	const field = "idempotency_key"
	var header, body string
	var inHeader, inBody bool
	switch vs := r.Header.Values(HeaderIdempotencyKey); len(vs) {
	case 0:
	case 1:
		v, err := unquoteKey(trimKey(vs[0]))
		if err != nil {
			return "", invalid(field, "the %s header %v", HeaderIdempotencyKey, err)
		}
		if header, err = checkKey(trimKey(v)); err != nil {
			return "", invalid(field, "the %s header %v", HeaderIdempotencyKey, err)
		}
		inHeader = true
	default:
		return "", invalid(field, "the %s header is sent %d times; send it once", HeaderIdempotencyKey, len(vs))
	}
	if err := p.strings(field); err != nil {
		return "", err
	}
	if v, ok := p.present(field); ok {
		var err error
		if body, err = checkKey(trimKey(v)); err != nil {
			return "", invalid(field, "%v", err)
		}
		inBody = true
	}
	switch {
	case inHeader && inBody && header != body:
		return "", invalid(field, "the %s header and the idempotency_key parameter differ; send one, or the same key in both", HeaderIdempotencyKey)
	case inHeader:
		return header, nil
	}
	return body, nil
}

// trimKey drops the spaces and tabs around a key (HTTP's optional white
// space); any other control character is refused by checkKey.
func trimKey(v string) string { return strings.Trim(v, " \t") }

// checkKey checks a trimmed key: 1..MaxIdempotencyKey bytes of printable
// ASCII (0x20-0x7E).
func checkKey(v string) (string, error) {
	if v == "" {
		return "", errors.New("is empty")
	}
	if len(v) > MaxIdempotencyKey {
		return "", fmt.Errorf("is %d bytes, more than %d", len(v), MaxIdempotencyKey)
	}
	for i := 0; i < len(v); i++ {
		if c := v[i]; c < 0x20 || c > 0x7e {
			return "", fmt.Errorf("must be printable ASCII (0x20-0x7E), but byte %d is 0x%02X", i+1, c)
		}
	}
	return v, nil
}

// unquoteKey reads a header value sent as the draft's Structured Field
// string ("…", with \" and \\ escaped); a value without the quotes is
// taken as it is, as most clients send it.
func unquoteKey(v string) (string, error) {
	if !strings.HasPrefix(v, `"`) {
		return v, nil
	}
	var b strings.Builder
	for i := 1; i < len(v); i++ {
		switch c := v[i]; c {
		case '\\':
			if i+1 == len(v) || (v[i+1] != '"' && v[i+1] != '\\') {
				return "", errors.New(`is a quoted string with an escape other than \" or \\`)
			}
			i++
			b.WriteByte(v[i])
		case '"':
			if i != len(v)-1 {
				return "", errors.New("has data after its quoted string")
			}
			return b.String(), nil
		default:
			b.WriteByte(c)
		}
	}
	return "", errors.New("is a quoted string without its closing quote")
}

// present returns a body parameter as its text and whether the request
// holds it at all: an empty value is present, a JSON null is not.
func (p params) present(name string) (string, bool) {
	if p.json == nil {
		vs, ok := p.form[name]
		if !ok || len(vs) == 0 {
			return "", false
		}
		return vs[0], true
	}
	if v, ok := p.json[name]; !ok || string(v) == "null" {
		return "", false
	}
	return p.str(name), true
}

// idempotencyScope is what a key is scoped to: the identified caller, or,
// for a request Identify does not identify, the exact set of users it
// pushes to.
func idempotencyScope(p params, users []string) []string {
	if p.identified {
		return []string{"caller", p.caller}
	}
	sorted := slices.Clone(users)
	slices.Sort(sorted)
	return append([]string{"users"}, sorted...)
}

// dedupeKeyOf returns the Message.DedupeKey of a push made with
// idempotency key key in scope: "http#" and the SHA-256 of both, in hex
// (69 characters, within the dedupe_key column's 255). Neither the key
// nor a user_num is stored.
func dedupeKeyOf(scope []string, key string) string {
	h := sha256.New()
	writeField(h, "push/http-idempotency-key/v1")
	for _, s := range scope {
		writeField(h, s)
	}
	writeField(h, key)
	return idempotencyPrefix + hex.EncodeToString(h.Sum(nil))
}

// writeField writes s to h with its length first, so that no two lists
// of fields hash the same bytes.
func writeField(h hash.Hash, s string) {
	_, _ = fmt.Fprintf(h, "%d:%s", len(s), s) // a hash.Hash never fails a write
}

// samePush reports whether the push message id, found under m's
// DedupeKey, is what m would have recorded: the same title, content,
// extra, class and overrides, as Push stores them. Its users need no
// check: for a caller Identify does not identify they are in the key, and
// an identified caller pushes to itself only.
func (h *Handler) samePush(ctx context.Context, id int64, m Message) (bool, error) {
	stored, err := h.svc.store.GetPushMessage(ctx, id)
	if err != nil {
		return false, fmt.Errorf("push: read the push of an idempotency key: %w", err)
	}
	// Push accepted these very values a moment ago: they cannot fail here.
	extra, err := messageExtra(m.Extra, m.RawExtra)
	if err != nil {
		return false, err
	}
	overrides, err := h.svc.checkOptions(m.Class, m.Overrides)
	if err != nil {
		return false, err
	}
	return stored.PushType == registry.PushTypeUsers && stored.Title == m.Title && stored.Content == m.Content &&
		stored.Extra == extra && stored.Class == string(m.Class) && sameOverrides(stored.Overrides, overrides), nil
}

// sameOverrides reports whether the overrides stored with a push are
// overrides, stored in canonical form (checkOptions). A push stored before
// overrides were kept that way holds its caller's spelling: that one is
// made canonical (storedOverrides) to compare.
func sameOverrides(stored, overrides string) bool {
	if stored == overrides {
		return true
	}
	var byProvider map[string]json.RawMessage
	if json.Unmarshal([]byte(stored), &byProvider) != nil {
		return false
	}
	canon, err := storedOverrides(byProvider)
	return err == nil && canon == overrides
}
