package main

import (
	"bytes"
	"io"
	"strings"

	"github.com/rivo/uniseg"
)

// table lays out the tab-separated lines written to it as text/tabwriter
// does with padding 2 (each cell that ends in a tab left-aligned in its
// column, the last cell of a line as it is), but measures a cell by the
// columns it takes on a terminal: tabwriter counts runes, so a device
// name in Chinese (two columns a character) pushed the columns after it
// out of line. Columns are aligned over each run of lines that hold a
// tab; a line without one is printed as it is.
type table struct {
	out io.Writer
	buf bytes.Buffer
}

func newTable(out io.Writer) *table { return &table{out: out} }

func (t *table) Write(p []byte) (int, error) { return t.buf.Write(p) }

// Flush writes the table out.
func (t *table) Flush() error {
	var out strings.Builder
	lines := strings.SplitAfter(t.buf.String(), "\n")
	t.buf.Reset()
	for i := 0; i < len(lines); {
		if !strings.Contains(lines[i], "\t") {
			out.WriteString(lines[i])
			i++
			continue
		}
		j := i
		var widths []int
		for ; j < len(lines) && strings.Contains(lines[j], "\t"); j++ {
			cells := strings.Split(lines[j], "\t")
			for c, cell := range cells[:len(cells)-1] {
				if c == len(widths) {
					widths = append(widths, 0)
				}
				widths[c] = max(widths[c], uniseg.StringWidth(cell))
			}
		}
		for _, line := range lines[i:j] {
			cells := strings.Split(line, "\t")
			for c, cell := range cells[:len(cells)-1] {
				out.WriteString(cell)
				out.WriteString(strings.Repeat(" ", widths[c]-uniseg.StringWidth(cell)+2))
			}
			out.WriteString(cells[len(cells)-1])
		}
		i = j
	}
	_, err := io.WriteString(t.out, out.String())
	return err
}
