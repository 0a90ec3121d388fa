package provider_test

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/provider"
)

func TestRedactAllAndMaskToken(t *testing.T) {
	assert.Equal(t, "a REDACTED b REDACTED", provider.RedactAll("a s1 b s2", "s1", "", "s2"))
	assert.Equal(t, "unchanged", provider.RedactAll("unchanged"))
	long := "AqX9" + strings.Repeat("x", 56) + "GHIJ"
	for _, c := range []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"abc", "…"},
		{"abcdefg", "…"},
		{"abcdefgh", "…gh"},
		{"abcdefghijklmno", "…no"},
		{"abcdefghijklmnop", "abcd…mnop"},
		{long, "AqX9…GHIJ"},
		{"令牌令牌令牌令牌令牌令牌令牌令牌令", "令牌令牌…牌令牌令"},
	} {
		got := provider.MaskToken(c.in)
		assert.Equal(t, c.want, got, "MaskToken(%q)", c.in)
		if len(c.in) >= 8 {
			assert.NotContains(t, got, c.in[:len(c.in)/2+1], "no more than half the token")
		}
	}
}
