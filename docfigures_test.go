package push_test

import (
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// measuredFigure matches a throughput or latency quoted as a number: rows/s,
// req/s, "tokens a second", µs, "3 ms a row". Such figures go stale with
// every change of the code or the machine; they belong in bench/RESULTS.md,
// with the commit and the machine they were measured on.
var measuredFigure = regexp.MustCompile(`(?i)\d[\d,.]*\s*(rows|reqs?|requests|tokens|pushes|calls|messages|jobs)\s*(/\s*s\b|per\s+sec|a\s+sec)` +
	`|\d[\d,.]*\s*(µs|us|ns)\b|\d[\d,.]*\s*ms\s+(a|per)\s`)

// TestDocCommentsQuoteNoMeasuredFigures: the comments of the root package
// and of messagecenter state what a setting trades off and point to
// bench/RESULTS.md, rather than quote measured figures that go stale.
func TestDocCommentsQuoteNoMeasuredFigures(t *testing.T) {
	for _, dir := range []string{".", "messagecenter"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.go"))
		require.NoError(t, err)
		require.NotEmpty(t, files)
		for _, name := range files {
			if strings.HasSuffix(name, "_test.go") {
				continue
			}
			src, err := os.ReadFile(name)
			require.NoError(t, err)
			fset := token.NewFileSet()
			f, err := parser.ParseFile(fset, name, src, parser.ParseComments)
			require.NoError(t, err)
			for _, g := range f.Comments {
				if m := measuredFigure.FindString(g.Text()); m != "" {
					assert.Fail(t, "a measured figure in a comment", "%s: %q; say what it trades off and point to bench/RESULTS.md",
						fset.Position(g.Pos()), m)
				}
			}
		}
	}
	// The pattern finds what it is for.
	for _, s := range []string{"about 2,350 rows/s", "1,600 req/s", "12 tokens a second", "310 µs", "5 ms a row"} {
		assert.Regexp(t, measuredFigure, s)
	}
	for _, s := range []string{"Default 1 MiB", "Default 30s", "(10 s, or half", "10,000 users", "2·log2(n) calls"} {
		assert.NotRegexp(t, measuredFigure, s)
	}
}
