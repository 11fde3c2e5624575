package registrytest

import (
	"go/parser"
	"go/token"
	"io/fs"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

const importPath = "github.com/provision/provision/registry/registrytest"

// No file of a product package imports registrytest: it imports testing,
// and a test kit is never linked into a product binary.
func TestOnlyTestsImportIt(t *testing.T) {
	root := filepath.Join("..", "..")
	var checked int
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); path != root && (strings.HasPrefix(n, ".") || n == "testdata" || n == "registrytest") {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		f, err := parser.ParseFile(token.NewFileSet(), path, nil, parser.ImportsOnly)
		if err != nil {
			return err
		}
		checked++
		for _, im := range f.Imports {
			if p, _ := strconv.Unquote(im.Path.Value); p == importPath {
				t.Errorf("%s imports %s: only test files may", path, importPath)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if checked < 100 {
		t.Fatalf("checked %d files: not the module's root?", checked)
	}
}

func TestSeeded(t *testing.T) {
	r := Seeded(t)
	snap := r.Snapshot()
	sys, ok := snap.SystemByName("web001")
	if !ok || sys.Profile != "web" || sys.IP != "10.0.0.11" || snap.Zone != Zone {
		t.Fatalf("web001: %+v %v, zone %s", sys, ok, snap.Zone)
	}
}
