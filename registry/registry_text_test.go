package registry_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"

	"github.com/tuisong/push/registry"
)

func TestSanitizeText(t *testing.T) {
	assert.Equal(t, "ok", registry.SanitizeText("ok", 10))
	assert.Equal(t, "a\uFFFDb", registry.SanitizeText("a\xffb", 10), "invalid UTF-8 is replaced")
	assert.Equal(t, "a\uFFFDb", registry.SanitizeText("a\x00b", 10), "NUL is replaced: PostgreSQL refuses it")
	long := strings.Repeat("推", 10) // 30 bytes
	got := registry.SanitizeText(long, 11)
	assert.LessOrEqual(t, len(got), 11)
	assert.True(t, utf8.ValidString(got), "cut on a character boundary")
	assert.Equal(t, "推推…", got)
	assert.Equal(t, "…", registry.SanitizeText(long, 3))
}

func TestValidationRefusesNUL(t *testing.T) {
	err := registry.ValidateCenterMessage(&registry.CenterMessage{Content: "a\x00b", Receivers: "u1"})
	var ve *registry.ValidationError
	if assert.ErrorAs(t, err, &ve) {
		assert.Equal(t, "content", ve.Field)
	}
	err = registry.ValidateDevice(&registry.Device{UUID: "u\x00", Platform: "ios", PushToken: "t"}, "u1")
	if assert.ErrorAs(t, err, &ve) {
		assert.Equal(t, "uuid", ve.Field)
	}
}

func TestFitVarchar(t *testing.T) {
	fits := strings.Repeat("长", registry.MaxVarchar) // 255 characters, 765 bytes
	assert.Equal(t, fits, registry.FitVarchar(fits), "what fits is kept, however many bytes")
	assert.Equal(t, "", registry.FitVarchar(""))
	for _, s := range []string{fits + "长", "a\xffb", "a\x00b", strings.Repeat("x", 1000)} {
		got := registry.FitVarchar(s)
		assert.True(t, utf8.ValidString(got), "%q", got)
		assert.NotContains(t, got, "\x00")
		assert.LessOrEqual(t, len(got), registry.MaxVarchar, "cut at 255 bytes")
		assert.Equal(t, got, registry.FitVarchar(got), "fitting twice changes nothing")
	}
	assert.Equal(t, "a\uFFFDb", registry.FitVarchar("a\xffb"))
}
