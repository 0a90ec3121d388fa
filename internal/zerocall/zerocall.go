// Package zerocall calls the exported methods of a value with zero
// arguments: the tests that a value its constructor did not make (a zero
// struct or a nil pointer) answers each method with an error, or a
// harmless result, and never panics.
package zerocall

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// Declared returns, sorted, the exported methods declared on typ or *typ
// in the Go files of dir that are not tests: the package's API, without
// the methods its export_test.go files add.
func Declared(t testing.TB, dir, typ string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	fset := token.NewFileSet()
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".go") || strings.HasSuffix(e.Name(), "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, filepath.Join(dir, e.Name()), nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		for _, d := range f.Decls {
			fn, ok := d.(*ast.FuncDecl)
			if !ok || fn.Recv == nil || !fn.Name.IsExported() {
				continue
			}
			recv := fn.Recv.List[0].Type
			if star, ok := recv.(*ast.StarExpr); ok {
				recv = star.X
			}
			if id, ok := recv.(*ast.Ident); ok && id.Name == typ {
				names = append(names, fn.Name.Name)
			}
		}
	}
	slices.Sort(names)
	return names
}

// Call calls each of the methods of v, with the zero value of each
// argument but a live context.Context, and returns by method name the
// error each returned: nil for a method that returned none or has no error
// result. A call that panics fails t, naming the method, and is left out
// of the map; so is a name v has no method of, after failing t.
func Call(t testing.TB, v any, methods []string) map[string]error {
	t.Helper()
	errType := reflect.TypeFor[error]()
	ctxType := reflect.TypeFor[context.Context]()
	rv := reflect.ValueOf(v)
	out := map[string]error{}
	for _, name := range methods {
		m := rv.MethodByName(name)
		if !m.IsValid() {
			t.Errorf("%T has no method %s", v, name)
			continue
		}
		args := make([]reflect.Value, m.Type().NumIn())
		for j := range args {
			in := m.Type().In(j)
			args[j] = reflect.Zero(in)
			if in == ctxType {
				args[j] = reflect.ValueOf(context.Background())
			}
		}
		func() {
			defer func() {
				if r := recover(); r != nil {
					t.Errorf("%T.%s panicked: %v", v, name, r)
				}
			}()
			var got error
			for _, o := range m.Call(args) {
				if o.Type() == errType && !o.IsNil() {
					got = o.Interface().(error)
				}
			}
			out[name] = got
		}()
	}
	return out
}

// Without returns names without those in drop.
func Without(names []string, drop ...string) []string {
	return slices.DeleteFunc(slices.Clone(names), func(n string) bool { return slices.Contains(drop, n) })
}
