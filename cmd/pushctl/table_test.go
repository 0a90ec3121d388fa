package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/rivo/uniseg"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestTableAlignsWideCharacters: the column after a Chinese device name
// starts where it does after a Latin one, on a terminal (two columns a
// Han character), which text/tabwriter, counting runes, got wrong.
func TestTableAlignsWideCharacters(t *testing.T) {
	var b strings.Builder
	w := newTable(&b)
	fmt.Fprintln(w, "push_message_id=7")
	fmt.Fprintln(w, "ID\tNAME\tTOKEN")
	fmt.Fprintln(w, "1\t李雷的 iPhone\tAm…Wx8y")
	fmt.Fprintln(w, "22\tPixel\t8a…0a9b")
	require.NoError(t, w.Flush())
	lines := strings.Split(strings.TrimSuffix(b.String(), "\n"), "\n")
	require.Len(t, lines, 4)
	assert.Equal(t, "push_message_id=7", lines[0], "a line without a tab as it is")
	assert.Equal(t, "ID  NAME           TOKEN", lines[1])
	col := func(line, cell string) int { return uniseg.StringWidth(line[:strings.Index(line, cell)]) }
	assert.Equal(t, col(lines[1], "TOKEN"), col(lines[2], "Am…"), "%q", b.String())
	assert.Equal(t, col(lines[1], "TOKEN"), col(lines[3], "8a…"), "%q", b.String())
	assert.Equal(t, "1   李雷的 iPhone  Am…Wx8y", lines[2])
}
