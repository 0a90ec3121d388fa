package vendorhttp

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/provider"
)

func TestBaseURLProblem(t *testing.T) {
	for _, tc := range []struct{ raw, want string }{
		{"https://msgapi.umeng.com", ""},
		{"http://127.0.0.1:8080/prefix", ""},
		{"ftp://example.com", `scheme must be http or https, got "ftp"`},
		{"msgapi.umeng.com", `scheme must be http or https, got ""`},
		{"https://", "has no host"},
		{"https://example.com/?a=1", "must not carry user info, a query or a fragment"},
		{"https://example.com/#top", "must not carry user info, a query or a fragment"},
		{"https://user:pw@example.com", "must not carry user info, a query or a fragment"},
		{"http://[::1", "is not a URL"},
	} {
		assert.Equal(t, tc.want, BaseURLProblem(tc.raw), tc.raw)
	}
}

func TestTransportErrorKindFollowsWritten(t *testing.T) {
	cause := errors.New("connection reset")
	var pe *provider.Error
	require.ErrorAs(t, TransportError("umeng", "send", cause, false), &pe)
	assert.Equal(t, provider.Temporary, pe.Kind, "a request never written in full was not acted on")
	assert.Equal(t, "umeng", pe.Provider)
	assert.Equal(t, "send", pe.Op)
	require.ErrorAs(t, TransportError("umeng", "send", cause, true), &pe)
	assert.Equal(t, provider.Indeterminate, pe.Kind, "the vendor may have acted on a written request")
	assert.ErrorIs(t, pe, cause)
}

func TestScrubErrorRemovesSecretsAndKeepsIs(t *testing.T) {
	const secret = "s3cr3t-master-key"
	err := &url.Error{Op: "Post", URL: "https://user:pw@api.example.com/v1/send?sign=abcdef&appkey=k",
		Err: fmt.Errorf("dial: %w (while using %s)", context.DeadlineExceeded, secret)}
	got := ScrubError(err, "", secret)
	text := got.Error()
	assert.NotContains(t, text, secret)
	assert.NotContains(t, text, "sign=abcdef", "the query, which carries Umeng's sign, is dropped")
	assert.NotContains(t, text, "pw@", "user info is dropped")
	assert.Contains(t, text, "https://api.example.com/v1/send")
	assert.Contains(t, text, "REDACTED")
	assert.ErrorIs(t, got, context.DeadlineExceeded, "errors.Is still sees the cause")
	assert.Nil(t, errors.Unwrap(got), "the original text is not handed out through Unwrap")

	plain := errors.New("no secret here")
	assert.Same(t, plain, ScrubError(plain, secret), "an error without secrets is returned as it is")
	assert.NoError(t, ScrubError(nil, secret))
}

func TestScrubBytes(t *testing.T) {
	body := []byte(`{"msg":"bad sign abc123 for abc123","ok":false}`)
	assert.Equal(t, `{"msg":"bad sign REDACTED for REDACTED","ok":false}`, string(ScrubBytes(body, "", "abc123")))
	assert.Equal(t, `{"msg":"bad sign abc123 for abc123","ok":false}`, string(body), "the input is not changed")
	assert.Equal(t, string(body), string(ScrubBytes(body)))

	// A secret spelled with JSON escapes, in a value, a name or a base64
	// credential's "\/", is found in the decoded body.
	const secret, basic = "demojpushmastersecret00000000001", "YWJj/ZGVm+Z2hp"
	escaped := `{"error":{"code":"\u0064\u0065mojpushmastersecret00000000001","message":"auth ` +
		`YWJj\/ZGVm+Z2hp","n":1.50},"demo\u006apushmastersecret00000000001":true}`
	got := string(ScrubBytes([]byte(escaped), secret, basic))
	assert.JSONEq(t, `{"error":{"code":"REDACTED","message":"auth REDACTED","n":1.50},"REDACTED":true}`, got)
	assert.NotContains(t, got, "mastersecret")
	assert.Contains(t, got, "1.50", "numbers as written")
	// Escapes without a secret, or a body that is not JSON, stay as they are.
	plain := `{"msg":"line\nbreak \u4f60\u597d"}`
	assert.Equal(t, plain, string(ScrubBytes([]byte(plain), secret)))
	assert.Equal(t, `not json \u0064`, string(ScrubBytes([]byte(`not json \u0064`), secret)))

	// What re-encoding would change is withheld whole: trailing data,
	// two values, names that only case tells apart.
	for _, body := range []string{
		`{"code":"\u0064emojpushmastersecret00000000001"}}`,
		`{"a":1}{"code":"\u0064emojpushmastersecret00000000001"}`,
		`{"code":0,"Code":1,"msg":"\u0064emojpushmastersecret00000000001"}`,
	} {
		assert.Equal(t, RedactedBody, string(ScrubBytes([]byte(body), secret)), body)
	}
	// Without a secret so spelled, such a body is left alone.
	odd := `{"code":0,"Code":1,"msg":"\u00e9"}`
	assert.Equal(t, odd, string(ScrubBytes([]byte(odd), secret)))
}

func TestTruncate(t *testing.T) {
	assert.Equal(t, "short", Truncate("short", 5))
	assert.Equal(t, "sho…", Truncate("short", 3))
	// "推送" is two 3-byte runes: a cut inside the second keeps the first whole.
	assert.Equal(t, "推…", Truncate("推送", 4))
	assert.Equal(t, "…", Truncate("推送", 2))
}

func TestClip(t *testing.T) {
	assert.Equal(t, "short", Clip("short"))
	assert.Equal(t, "a\uFFFDb", Clip("a\xffb"), "bytes that are not UTF-8 are replaced")
	long := strings.Repeat("推", 70)
	assert.Equal(t, strings.Repeat("推", 64)+"…", Clip(long))
}

func TestWriteJSON(t *testing.T) {
	w := httptest.NewRecorder()
	WriteJSON(w, http.StatusForbidden, map[string]string{"ret": "FAIL"})
	assert.Equal(t, http.StatusForbidden, w.Code)
	assert.Equal(t, "application/json; charset=utf-8", w.Header().Get("Content-Type"))
	assert.JSONEq(t, `{"ret":"FAIL"}`, w.Body.String())
}
