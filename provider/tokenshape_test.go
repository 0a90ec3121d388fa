package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/provider"
)

func TestTokenShape(t *testing.T) {
	hex := provider.TokenShape{What: "a hex token (4 to 8 digits)", Min: 4, Max: 8, Even: true,
		Byte: func(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }, NotByte: "a character that is no hex digit"}
	for _, ok := range []string{"abcd", "0123456789"[:6], "deadbeef"} {
		assert.NoError(t, hex.Check(ok), ok)
	}
	for token, want := range map[string]string{
		"abc":       "is 3 characters, not a hex token (4 to 8 digits)",
		"abcde":     "is 5 characters, not a hex token (4 to 8 digits)",
		"abcdef012": "is 9 characters, not a hex token (4 to 8 digits)",
		"abcz":      "holds a character that is no hex digit: not a hex token (4 to 8 digits)",
	} {
		assert.EqualError(t, hex.Check(token), want, token)
	}
}
