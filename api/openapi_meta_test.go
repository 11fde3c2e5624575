package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"path/filepath"
	"strconv"
	"strings"
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
				if !checked(arg) && servesAPI(arg) {
					t.Errorf("%s: httptest.NewServer of a handler not wrapped in validated(t, ...): its answers are not checked against api/openapi.yaml", fset.Position(n.Pos()))
				}
			}
			return true
		})
	}
	if servers < 8 {
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

// servesAPI says whether h is the API: a call of Handler in it, or a
// variable assigned one (a receiver of webhooks, say, is not the API).
func servesAPI(h ast.Expr) bool {
	found := false
	ast.Inspect(h, func(n ast.Node) bool {
		switch n := n.(type) {
		case *ast.CallExpr:
			if f, ok := n.Fun.(*ast.Ident); ok && f.Name == "Handler" {
				found = true
			}
		case *ast.Ident:
			if as, ok := declOf(n).(*ast.AssignStmt); ok {
				for _, r := range as.Rhs {
					found = found || servesAPI(r)
				}
			}
		}
		return !found
	})
	return found
}

// declOf is what declares id in its file, or nil.
func declOf(id *ast.Ident) any {
	if id.Obj == nil {
		return nil
	}
	return id.Obj.Decl
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

// muxRoutes lists the patterns package api registers on a mux
// (HandleFunc or Handle with a "METHOD PATH" pattern), read from its
// source so that a route added anywhere in the package is seen.
func muxRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var routes []string
	fset := token.NewFileSet()
	for _, name := range files {
		if strings.HasSuffix(name, "_test.go") {
			continue
		}
		f, err := parser.ParseFile(fset, name, nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			if p, ok := registered(t, fset, n); ok {
				routes = append(routes, p)
			}
			return true
		})
	}
	return routes
}

// registered is the pattern of a call s.route(mux, "GET /x", ...),
// mux.HandleFunc("GET /x", ...) or mux.Handle(...); a pattern that is
// not a string literal fails t, as the test could not check it (but the
// pattern route itself passes on to the mux).
func registered(t *testing.T, fset *token.FileSet, n ast.Node) (string, bool) {
	call, ok := n.(*ast.CallExpr)
	if !ok {
		return "", false
	}
	sel, ok := call.Fun.(*ast.SelectorExpr)
	var arg ast.Expr
	switch {
	case !ok:
		return "", false
	case sel.Sel.Name == "route" && len(call.Args) == 3:
		arg = call.Args[1]
	case (sel.Sel.Name == "HandleFunc" || sel.Sel.Name == "Handle") && len(call.Args) == 2:
		arg = call.Args[0]
	default:
		return "", false
	}
	if id, ok := arg.(*ast.Ident); ok && id.Name == "pattern" {
		return "", false
	}
	lit, ok := arg.(*ast.BasicLit)
	if !ok || lit.Kind != token.STRING {
		t.Errorf("%s: a route whose pattern is not a string literal: write it as one, so TestOpenAPIRoutes can check it", fset.Position(call.Pos()))
		return "", false
	}
	p, err := strconv.Unquote(lit.Value)
	if err != nil {
		t.Fatal(err)
	}
	return p, true
}
