package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"testing"
)

// Every test server of package api serves through validated (or a
// specChecker's handler), so every answer an API test gets is checked
// against the description.
func TestAPITestsValidate(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	servers := 0
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if arg, ok := newServerArg(n); ok {
				servers++
				if !checked(arg) {
					t.Errorf("%s: httptest.NewServer of a handler not wrapped in validated(t, ...): its answers are not checked against api/openapi.yaml", fset.Position(n.Pos()))
				}
			}
			return true
		})
	}
	if servers < 5 {
		t.Fatalf("found %d test servers: the test no longer sees how they are made", servers)
	}
}

// newServerArg is the handler of a call httptest.NewServer(h).
func newServerArg(n ast.Node) (ast.Expr, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok || len(call.Args) != 1 {
		return nil, false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	if !ok || sel.Sel.Name != "NewServer" {
		return nil, false
	}
	if pkg, ok := sel.X.(*ast.Ident); !ok || pkg.Name != "httptest" {
		return nil, false
	}
	return call.Args[0], true
}

// checked says whether h is validated(...) or c.handler(...).
func checked(h ast.Expr) bool {
	call, ok := h.(*ast.CallExpr)
	if !ok {
		return false
	}
	switch f := call.Fun.(type) {
	case *ast.Ident:
		return f.Name == "validated"
	case *ast.SelectorExpr:
		return f.Sel.Name == "handler"
	}
	return false
}
