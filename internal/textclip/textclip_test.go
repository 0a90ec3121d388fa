package textclip

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
)

func TestRunes(t *testing.T) {
	assert.Equal(t, "abc", Runes("abc", 3))
	assert.Equal(t, "ab…", Runes("abcd", 3))
	assert.Equal(t, "标题…", Runes("标题标题", 3), "characters, not bytes")
	assert.Equal(t, strings.Repeat("x", 31)+"…", Runes(strings.Repeat("x", 60000), 32))
}
