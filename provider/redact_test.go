package provider_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/provider"
)

func TestRedactAllAndMaskToken(t *testing.T) {
	assert.Equal(t, "a REDACTED b REDACTED", provider.RedactAll("a s1 b s2", "s1", "", "s2"))
	assert.Equal(t, "unchanged", provider.RedactAll("unchanged"))
	tests := []struct{ token, want string }{
		{"7fb4e6a44b5d2426e6c948cfb830e390328cbdb149a29bac82367bb7b87471fa", "7fb4e6…"},
		{"推推推推推推推推推", "推推推推推推…"},
		{"12345678", "…"},
		{"", "…"},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, provider.MaskToken(tt.token), tt.token)
	}
}
