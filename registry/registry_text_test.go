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
	long := strings.Repeat("推", 10) // 30 bytes
	got := registry.SanitizeText(long, 11)
	assert.LessOrEqual(t, len(got), 11)
	assert.True(t, utf8.ValidString(got), "cut on a character boundary")
	assert.Equal(t, "推推…", got)
	assert.Equal(t, "…", registry.SanitizeText(long, 3))
}
