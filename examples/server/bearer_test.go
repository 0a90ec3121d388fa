package main

import (
	"bytes"
	"errors"
	"fmt"
	"go/ast"
	"go/parser"
	"go/printer"
	"go/token"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	push "github.com/tuisong/push"
)

// TestBearer checks bearer's answers: only the token passes, after the
// Bearer scheme in any case (RFC 9110 makes schemes case-insensitive; a
// client sending "bearer" was refused), and every refusal is
// push.ErrUnauthenticated, which the handler answers 401.
func TestBearer(t *testing.T) {
	check := bearer("s3cret")
	for header, ok := range map[string]bool{
		"Bearer s3cret":  true,
		"":               false,
		"Bearer":         false,
		"Bearer ":        false,
		"Bearer s3cre":   false,
		"Bearer s3cretx": false,
		"bearer s3cret":  true,
		"BEARER s3cret":  true,
		"Bearer  s3cret": true,
		"Bearer s3cret ": false,
		"Bearers3cret":   false,
		"Bearer\ts3cret": false,
		"Bearer S3CRET":  false,
		"s3cret":         false,
		"Basic s3cret":   false,
		" Bearer s3cret": false,
	} {
		r := httptest.NewRequest("GET", "/", nil)
		if header != "" {
			r.Header.Set("Authorization", header)
		}
		err := check(r)
		if ok && err != nil {
			t.Errorf("%q: refused: %v", header, err)
		}
		if !ok && !errors.Is(err, push.ErrUnauthenticated) {
			t.Errorf("%q: got %v, want push.ErrUnauthenticated", header, err)
		}
	}
	// Two Authorization headers are refused whatever their order: a proxy
	// might check the one this server would not.
	for _, pair := range [][2]string{{"Bearer s3cret", "Bearer wrong"}, {"Bearer wrong", "Bearer s3cret"}, {"Bearer s3cret", "Bearer s3cret"}} {
		r := httptest.NewRequest("GET", "/", nil)
		r.Header.Add("Authorization", pair[0])
		r.Header.Add("Authorization", pair[1])
		if err := check(r); !errors.Is(err, push.ErrUnauthenticated) {
			t.Errorf("%q: got %v, want push.ErrUnauthenticated", pair, err)
		}
	}
}

// TestTokenComparedInConstantTime reads the server's source: the bearer
// check must compare the Authorization header with subtle.ConstantTimeCompare,
// and no == or != anywhere in the server may compare the header or the
// API token with anything but "" (an emptiness check tells a caller
// nothing). A plain comparison stops at the first differing byte, and its
// timing tells an attacker how much of a guess was right.
func TestTokenComparedInConstantTime(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	srcs := map[string][]byte{}
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		if srcs[name], err = os.ReadFile(name); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range timingProblems(t, srcs) {
		t.Error(p)
	}
}

// TestTimingProblemsFindsAPlainComparison proves the check above can fail.
func TestTimingProblemsFindsAPlainComparison(t *testing.T) {
	for name, src := range map[string]string{
		"plain ==": `package main
func bearer(token string) func(*http.Request) error {
	return func(r *http.Request) error {
		if r.Header.Get("Authorization") != "Bearer "+token { return push.ErrUnauthenticated }
		return nil
	}
}`,
		"constant time but a plain check elsewhere": `package main
func bearer(token string) func(*http.Request) error {
	want := []byte("Bearer " + token)
	return func(r *http.Request) error {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 { return push.ErrUnauthenticated }
		return nil
	}
}
func other(r *http.Request, cfg config) bool { return r.Header.Get("Authorization") == "Bearer "+cfg.APIToken }`,
		"no bearer": `package main`,
	} {
		if len(timingProblems(t, map[string][]byte{"app.go": []byte(src)})) == 0 {
			t.Errorf("%s: no problem found", name)
		}
	}
}

// timingProblems describes each way the sources may compare the bearer
// token in variable time.
func timingProblems(t *testing.T, srcs map[string][]byte) []string {
	t.Helper()
	fset := token.NewFileSet()
	text := func(n ast.Node) string {
		var b bytes.Buffer
		_ = printer.Fprint(&b, fset, n)
		return b.String()
	}
	secret := func(s string) bool {
		return strings.Contains(s, `"Authorization"`) || strings.Contains(s, "APIToken") || strings.Contains(s, "Bearer")
	}
	isConstantTime := func(e ast.Expr) bool {
		call, ok := e.(*ast.CallExpr)
		return ok && text(call.Fun) == "subtle.ConstantTimeCompare"
	}
	var problems []string
	var bearerFound, constantTime bool
	for name, src := range srcs {
		f, err := parser.ParseFile(fset, name, src, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.FuncDecl:
				if n.Name.Name != "bearer" || n.Body == nil {
					return true
				}
				bearerFound = true
				ast.Inspect(n.Body, func(m ast.Node) bool {
					if call, ok := m.(*ast.CallExpr); ok && isConstantTime(call) && len(call.Args) == 2 &&
						strings.Contains(text(call.Args[0])+text(call.Args[1]), `r.Header.Get("Authorization")`) {
						constantTime = true
					}
					return true
				})
			case *ast.BinaryExpr:
				if n.Op != token.EQL && n.Op != token.NEQ || isConstantTime(n.X) || isConstantTime(n.Y) {
					return true
				}
				x, y := text(n.X), text(n.Y)
				if (secret(x) || secret(y)) && x != `""` && y != `""` {
					problems = append(problems, fmt.Sprintf("%s: %s compares a credential with %s, not in constant time",
						fset.Position(n.Pos()), text(n), n.Op))
				}
			}
			return true
		})
	}
	if !bearerFound {
		problems = append(problems, "no func bearer in the server: update this test to the new bearer check")
	} else if !constantTime {
		problems = append(problems, `bearer does not compare r.Header.Get("Authorization") with subtle.ConstantTimeCompare`)
	}
	return problems
}
