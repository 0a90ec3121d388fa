package umeng

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/tuisong/push/internal/vendorhttp"
	"github.com/tuisong/push/provider"
)

// maxMessageBytes caps the vendor message kept on an error, so that a large
// or hostile answer cannot flood logs.
const maxMessageBytes = 512

// envelope is the outer shape of every Umeng answer:
// {"ret":"SUCCESS"|"FAIL","data":{…}}.
type envelope struct {
	Ret  string          `json:"ret"`
	Data json.RawMessage `json:"data"`
}

// failure is data of a FAIL answer. error_code arrives as a string or a
// number, so it is kept raw.
type failure struct {
	ErrorCode json.RawMessage `json:"error_code"`
	ErrorMsg  string          `json:"error_msg"`
}

// answer is a successful answer: data and the whole body, both with any
// secret removed.
type answer struct {
	data json.RawMessage
	raw  json.RawMessage
	// partial is a send Umeng answered with codePartialSend: it sent the
	// push to some of the device tokens and refused the others.
	partial bool
}

// codePartialSend is Umeng's "device-token部分失败": a listcast reached
// some of its tokens, not all, and Umeng does not say which failed. The
// send happened, so it is an answer, not an error: a retry, or a split to
// find the dead tokens, would show the push twice on every device that
// got it.
const codePartialSend = "4026"

// decodeAnswer turns an HTTP answer into data or a *provider.Error.
// secrets, and the value of any "secret=" query parameter (a receipt_url
// echoed), are removed from everything it returns.
func decodeAnswer(op string, status int, header http.Header, body []byte, now time.Time, secrets ...string) (*answer, error) {
	body = redactReceiptSecretBytes(vendorhttp.ScrubBytes(body, secrets...))
	var env envelope
	parsed := json.Unmarshal(body, &env) == nil && env.Ret != ""
	if parsed && status >= 200 && status < 300 && env.Ret == "SUCCESS" {
		return &answer{data: env.Data, raw: body}, nil
	}

	pe := &provider.Error{Provider: Name, Op: op, HTTPStatus: status, RetryAfter: retryAfter(header, now)}
	var f failure
	if parsed && len(env.Data) > 0 && json.Unmarshal(env.Data, &f) == nil {
		pe.Code = codeString(f.ErrorCode)
		pe.Message = vendorhttp.Truncate(provider.RedactAll(f.ErrorMsg, secrets...), maxMessageBytes)
	}
	if op == opSend && parsed && pe.Code == codePartialSend {
		return &answer{data: env.Data, raw: body, partial: true}, nil
	}
	kind, known := kindOfCode(pe.Code)
	switch {
	case status == http.StatusTooManyRequests:
		pe.Kind = provider.RateLimited
	case pe.Code != "" && known:
		pe.Kind = kind
	case parsed && env.Ret != "SUCCESS" && status < 300:
		// An explicit refusal without a code we know: Umeng did not
		// accept the request, but nothing says whether a retry helps.
		pe.Kind = provider.Unknown
	default:
		pe.Kind = kindOfHTTPStatus(status)
	}
	if pe.Message == "" && !parsed {
		pe.Message = "unreadable answer"
	}
	if pe.Message == "" && parsed && env.Ret == "SUCCESS" {
		pe.Message = "success answer with HTTP status " + strconv.Itoa(status)
	}
	return nil, pe
}

// codeString renders error_code, a JSON string or number, as text.
func codeString(raw json.RawMessage) string {
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

// retryAfter reads a Retry-After header given in seconds or as an HTTP date.
func retryAfter(h http.Header, now time.Time) time.Duration {
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0
	}
	if secs, err := strconv.Atoi(v); err == nil {
		if secs < 0 {
			return 0
		}
		return time.Duration(secs) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}

// flexInt decodes a JSON number or a string holding one, as Umeng sends
// counts and states either way. null and "" leave it unset.
type flexInt struct {
	n   int
	set bool
}

// UnmarshalJSON accepts 3, "3", "", and null.
func (f *flexInt) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if string(b) == "null" {
		return nil
	}
	if len(b) > 0 && b[0] == '"' {
		var s string
		if err := json.Unmarshal(b, &s); err != nil {
			return err
		}
		b = []byte(strings.TrimSpace(s))
		if len(b) == 0 {
			return nil
		}
	}
	n, err := strconv.Atoi(string(b))
	if err != nil {
		return err
	}
	*f = flexInt{n: n, set: true}
	return nil
}
