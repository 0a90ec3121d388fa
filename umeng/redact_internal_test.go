package umeng

import (
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestMayHoldSecretParamCoversTheRegexp: the cheap check in front of
// receiptSecretParam never says no where the pattern matches.
func TestMayHoldSecretParamCoversTheRegexp(t *testing.T) {
	for _, s := range []string{
		"", "secret=", "x?secret=abc", "SECRET=abc", "SeCrEt=1", "app_master_secret=zz",
		"\u017fecret=abc", // the long s folds to s
		"secret =abc", "secre=abc", "ecret=", "cret=abc", "secret", "=secret",
		`{"receipt_url":"https://h/r?secret=abc"}`,
	} {
		for _, text := range []string{s, "prefix " + s, s + " suffix"} {
			matched := receiptSecretParam.MatchString(text)
			if matched {
				assert.True(t, mayHoldSecretParam(text), "%q", text)
				assert.True(t, mayHoldSecretParam([]byte(text)), "%q", text)
			}
			if !mayHoldSecretParam(text) {
				assert.Equal(t, text, redactReceiptSecrets(text))
				assert.Equal(t, text, string(redactReceiptSecretBytes([]byte(text))))
			}
		}
	}
	assert.Equal(t, "u?secret=REDACTED", redactReceiptSecrets("u?secret=abc"))
	assert.Equal(t, "u?\u017fecret=REDACTED", redactReceiptSecrets("u?\u017fecret=abc"))
	assert.False(t, mayHoldSecretParam("no param here"))
}

// FuzzMayHoldSecretParam checks the same on any text.
func FuzzMayHoldSecretParam(f *testing.F) {
	for _, s := range []string{"secret=x", "SECRET=y", "\u017fecret=z", "plain"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if receiptSecretParam.MatchString(s) && !mayHoldSecretParam(s) {
			t.Fatalf("%q matches the pattern but the check says no", s)
		}
	})
}
