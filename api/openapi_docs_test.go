package api

import (
	"bytes"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
)

const (
	routesBegin = "<!-- routes: made by TestOpenAPIDocs from api/openapi.yaml; UPDATE_DOCS=1 go test -run TestOpenAPIDocs ./api -->\n"
	routesEnd   = "<!-- end of routes -->"
)

// docs/api.md lists every operation of the description: its table is
// made from api/openapi.yaml, so the two cannot drift.
func TestOpenAPIDocs(t *testing.T) {
	path := filepath.Join("..", "docs", "api.md")
	doc, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	i, j := bytes.Index(doc, []byte(routesBegin)), bytes.Index(doc, []byte(routesEnd))
	if i < 0 || j < i {
		t.Fatalf("%s has no %q ... %q section", path, routesBegin, routesEnd)
	}
	table := routesTable(loadSpec(t))
	if string(doc[i+len(routesBegin):j]) == table {
		return
	}
	if os.Getenv("UPDATE_DOCS") != "1" {
		t.Fatalf("%s's routes are not api/openapi.yaml's: run UPDATE_DOCS=1 go test -run TestOpenAPIDocs ./api", path)
	}
	out := slices.Concat(doc[:i+len(routesBegin)], []byte(table), doc[j:])
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// routesTable is a Markdown table of the operations, by path.
func routesTable(doc *openapi3.T) string {
	var b strings.Builder
	b.WriteString("| method | path | what |\n|---|---|---|\n")
	for _, path := range slices.Sorted(maps.Keys(doc.Paths.Map())) {
		item := doc.Paths.Value(path)
		for _, m := range []string{"GET", "POST", "PUT", "PATCH", "DELETE"} {
			if op := item.GetOperation(m); op != nil {
				fmt.Fprintf(&b, "| `%s` | `%s` | %s |\n", m, path, what(op))
			}
		}
	}
	return b.String()
}

// what is an operation's summary, marked when it needs no token.
func what(op *openapi3.Operation) string {
	s := strings.ReplaceAll(op.Summary, "|", `\|`)
	if op.Security != nil && len(*op.Security) == 0 {
		s += " (no token)"
	}
	return s
}
