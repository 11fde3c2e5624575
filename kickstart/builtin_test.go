package kickstart

import (
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
)

func TestBuiltinsGolden(t *testing.T) {
	for _, r := range renderings(t) {
		t.Run(r.name, func(t *testing.T) {
			testenv.Golden(t, filepath.Join("testdata", r.name+".golden"), r.text)
		})
	}
}

// TestBuiltinFiles checks that the kind table and builtin/ agree, and that
// each built-in passes Check.
func TestBuiltinFiles(t *testing.T) {
	entries, err := fs.ReadDir(builtinFiles, "builtin")
	if err != nil {
		t.Fatal(err)
	}
	var files, names []string
	for _, e := range entries {
		files = append(files, strings.TrimSuffix(e.Name(), ".tmpl"))
	}
	for _, b := range Builtins() {
		names = append(names, b.Name)
		if err := Check(b); err != nil {
			t.Errorf("Check(%s): %v", b.Name, err)
		}
	}
	want := []string{"debian12-preseed", "deploy", "rhel9-kickstart", "ubuntu-autoinstall"}
	if diff := cmp.Diff(want, files); diff != "" {
		t.Errorf("builtin/ (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(want, names); diff != "" {
		t.Errorf("Builtins (-want +got):\n%s", diff)
	}
}

func TestBuiltinsAreCopies(t *testing.T) {
	b := Builtins()
	b[0].Text = "changed"
	if Builtins()[0].Text == "changed" {
		t.Error("Builtins returned a shared template")
	}
}
