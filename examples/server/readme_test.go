package main

import (
	"go/parser"
	"go/token"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tuisong/push/internal/serverenv"
)

// readmeSection returns the text of README.md from the heading to the next
// heading of the same level.
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	require.GreaterOrEqual(t, i, 0, "README has %q", heading)
	s = s[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// librarySnippet returns the Go file of README's library section.
func librarySnippet(t *testing.T) string {
	t.Helper()
	sec := readmeSection(t, "## The library")
	start := strings.Index(sec, "```go\n")
	require.GreaterOrEqual(t, start, 0)
	code := sec[start+len("```go\n"):]
	end := strings.Index(code, "```")
	require.GreaterOrEqual(t, end, 0)
	return code[:end]
}

// TestReadmeLibrarySnippet checks that README's library snippet is a Go
// file that imports the SQLite driver it opens.
func TestReadmeLibrarySnippet(t *testing.T) {
	code := librarySnippet(t)
	f, err := parser.ParseFile(token.NewFileSet(), "README.go", code, parser.ParseComments)
	require.NoError(t, err, "the snippet is a whole Go file")
	imports := map[string]string{}
	for _, im := range f.Imports {
		path, err := strconv.Unquote(im.Path.Value)
		require.NoError(t, err)
		name := ""
		if im.Name != nil {
			name = im.Name.Name
		}
		imports[path] = name
	}
	require.Contains(t, code, `sql.Open("sqlite"`)
	name, ok := imports["modernc.org/sqlite"]
	assert.True(t, ok && name == "_", "the snippet opens sqlite, so it imports _ \"modernc.org/sqlite\"")
	assert.Contains(t, code, "Authenticate:", "the snippet shows the Authenticate hook")
	assert.Contains(t, code, "DrainTimeout()", "the snippet shows how long a shutdown may drain")
}

// TestReadmeLibrarySnippetBuilds type-checks README's library snippet
// against this module with go vet, so that a renamed field or function,
// or a changed signature, breaks the build here rather than a reader's.
// The snippet goes in a directory of the module whose name starts with a
// dot, which ./... leaves out.
func TestReadmeLibrarySnippetBuilds(t *testing.T) {
	code := librarySnippet(t)
	goBin, err := exec.LookPath("go") // go test puts its own first on PATH
	require.NoError(t, err)
	dir, err := os.MkdirTemp(filepath.Join("..", ".."), ".readme-snippet-")
	require.NoError(t, err)
	t.Cleanup(func() { os.RemoveAll(dir) })
	require.NoError(t, os.WriteFile(filepath.Join(dir, "main.go"), []byte(code), 0o600))
	vet := exec.CommandContext(t.Context(), goBin, "vet", "./"+filepath.Base(dir))
	vet.Dir = filepath.Join("..", "..")
	out, err := vet.CombinedOutput()
	require.NoError(t, err, "go vet of README's library snippet:\n%s", out)
}

// TestReadmeNamesTheMockUmeng checks that README tells host tests to name
// the Mock "umeng", the push_platform of devices registered without one.
func TestReadmeNamesTheMockUmeng(t *testing.T) {
	sec := readmeSection(t, "## Testing a host app")
	assert.Contains(t, sec, `providertest.NewMock(providertest.MockConfig{Name: "umeng"})`)
}

// TestReadmeDocumentsEveryVariable checks that README's configuration
// table and this package's documentation name every variable the server
// reads.
func TestReadmeDocumentsEveryVariable(t *testing.T) {
	read := map[string]bool{}
	_, err := loadConfig(func(name string) string { read[name] = true; return "" })
	require.NoError(t, err)
	require.Contains(t, read, "GETUI_MASTER_SECRET")
	sec := readmeSection(t, "## Configuration of examples/server")
	doc, err := os.ReadFile("main.go")
	require.NoError(t, err)
	for name := range read {
		assert.Contains(t, sec, "`"+name+"`", "README's table documents %s", name)
		if strings.HasPrefix(name, "JPUSH_") || strings.HasPrefix(name, "GETUI_") {
			assert.Contains(t, string(doc), name, "the package documentation names %s", name)
		}
	}
	providers := readmeSection(t, "## Providers")
	for _, p := range []string{"Umeng", "JPush", "Getui"} {
		assert.Contains(t, providers, p)
	}
}

// TestReadmeQuotesTheUpperCaseTokensFix: the statement the README gives to
// lower-case iOS tokens is the one the start-up warning suggests.
func TestReadmeQuotesTheUpperCaseTokensFix(t *testing.T) {
	b, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	readme := strings.Join(strings.Fields(string(b)), " ")
	assert.Contains(t, readme, "`"+serverenv.UpperCaseTokensFix+"`")
}
