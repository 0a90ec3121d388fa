package jpush

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// maxMessageBytes caps the vendor message kept on an error.
const maxMessageBytes = 512

// errorBody is JPush's error answer:
// {"error":{"code":1011,"message":"…"},"msg_id":…}. code arrives as a number
// or a string and msg_id, when present, as either too.
type errorBody struct {
	Error *struct {
		Code    json.RawMessage `json:"code"`
		Message string          `json:"message"`
	} `json:"error"`
	MsgID json.RawMessage `json:"msg_id"`
}

// answer is a successful answer, with any secret removed.
type answer struct {
	status int
	raw    json.RawMessage
}

// decodeAnswer turns an HTTP answer into an answer or a *provider.Error. A
// body with an "error" member is a failure whatever else it carries,
// msg_id included.
func decodeAnswer(op string, status int, header http.Header, body []byte, tokens []string, secrets ...string) (*answer, error) {
	body = vendorhttp.ScrubBytes(body, secrets...)
	trimmed := bytes.TrimSpace(body)
	var eb errorBody
	parsed := len(trimmed) > 0 && json.Valid(trimmed)
	hasError := parsed && trimmed[0] == '{' && json.Unmarshal(trimmed, &eb) == nil && eb.Error != nil
	if status >= 200 && status < 300 && !hasError {
		if len(trimmed) > 0 && !parsed {
			return nil, &provider.Error{Provider: Name, Op: op, Kind: provider.Indeterminate, HTTPStatus: status,
				Message: "unreadable answer"}
		}
		return &answer{status: status, raw: json.RawMessage(trimmed)}, nil
	}

	pe := &provider.Error{Provider: Name, Op: op, HTTPStatus: status}
	code := 0
	if hasError {
		pe.Code = flexString(eb.Error.Code)
		code, _ = strconv.Atoi(pe.Code)
		pe.Message = vendorhttp.Truncate(provider.RedactAll(eb.Error.Message, secrets...), maxMessageBytes)
	}
	kind, known := kindOfCode(code, pe.Message, len(tokens) > 0)
	switch {
	case status == http.StatusTooManyRequests:
		pe.Kind = provider.RateLimited
	case pe.Code != "" && known:
		pe.Kind = kind
	case hasError && status >= 200 && status < 300:
		// An explicit refusal with a code we do not know.
		pe.Kind = provider.Unknown
	default:
		pe.Kind = kindOfHTTPStatus(status)
	}
	if pe.Kind == provider.RateLimited {
		pe.RetryAfter = ParseRateLimit(header).Reset
	}
	switch {
	case pe.Kind == provider.InvalidToken && code == CodeNoTarget:
		// JPush found none of the ids: each is unknown or dead.
		for _, t := range tokens {
			pe.Failures = append(pe.Failures, provider.TokenFailure{Token: t, Kind: provider.InvalidToken, Code: pe.Code, Message: pe.Message})
		}
	case pe.Kind == provider.InvalidToken && code == CodeInvalidParam:
		// JPush names the id it refuses ("The registration_id … is
		// invalid!"): that one is dead, and the rest of the batch can be
		// sent again at once rather than halved until it is found. The
		// words of the message as received (before RedactAll) are
		// matched whole, so that no id is blamed for being part of one.
		words := map[string]bool{}
		for _, w := range strings.FieldsFunc(eb.Error.Message, func(r rune) bool {
			return unicode.IsSpace(r) || strings.ContainsRune(`"'!,:;()[]{}`, r)
		}) {
			words[w] = true
		}
		for _, t := range tokens {
			if words[t] {
				pe.Failures = append(pe.Failures, provider.TokenFailure{Token: t, Kind: provider.InvalidToken, Code: pe.Code, Message: pe.Message})
			}
		}
	}
	if pe.Message == "" && !parsed {
		pe.Message = "unreadable answer"
	}
	return nil, pe
}

// RateLimit is what JPush says about an app's API rate in its answer
// headers. JPush's documentation names the quota header X-Rate-Limit-Quota
// while its server SDKs read X-Rate-Limit-Limit; ParseRateLimit reads
// either.
type RateLimit struct {
	Limit     int           // calls allowed per window; -1 when absent
	Remaining int           // calls left in the window; -1 when absent
	Reset     time.Duration // until the window resets; 0 when absent
}

// ParseRateLimit reads X-Rate-Limit-Quota (or X-Rate-Limit-Limit),
// X-Rate-Limit-Remaining and X-Rate-Limit-Reset (seconds). A missing or
// unreadable header leaves its field at its "absent" value.
func ParseRateLimit(h http.Header) RateLimit {
	rl := RateLimit{Limit: -1, Remaining: -1}
	if n, ok := headerInt(h, "X-Rate-Limit-Quota"); ok {
		rl.Limit = n
	} else if n, ok := headerInt(h, "X-Rate-Limit-Limit"); ok {
		rl.Limit = n
	}
	if n, ok := headerInt(h, "X-Rate-Limit-Remaining"); ok {
		rl.Remaining = n
	}
	if n, ok := headerInt(h, "X-Rate-Limit-Reset"); ok && n > 0 {
		rl.Reset = time.Duration(n) * time.Second
	}
	return rl
}

func headerInt(h http.Header, name string) (int, bool) {
	v := strings.TrimSpace(h.Get(name))
	if v == "" {
		return 0, false
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		return 0, false
	}
	return n, true
}

// flexString renders a JSON string or number as text; "" for anything else.
func flexString(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if json.Unmarshal(raw, &n) == nil {
		return n.String()
	}
	return ""
}
