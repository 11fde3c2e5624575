package bootenv

import (
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
)

func TestModinfo(t *testing.T) {
	got, err := modinfo(testenv.FakeModule("license=GPL", "depends=libphy,mdio", "name=e1000", "alias=pci:v1", "alias=pci:v2"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"license": "GPL", "depends": "libphy,mdio", "name": "e1000", "alias": "pci:v1"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("modinfo (-want +got):\n%s", diff)
	}
	for _, bad := range [][]byte{nil, []byte("not elf"), testenv.FakeModule()[:64]} {
		if _, err := modinfo(bad); err == nil {
			t.Errorf("modinfo(%q) gave no error", bad)
		}
	}
}

func TestResolveModules(t *testing.T) {
	dir := t.TempDir()
	idx := map[string]string{}
	for name, depends := range map[string]string{
		"e1000": "libphy,mdio_bus", "libphy": "mdio-bus", "mdio_bus": "", "loop_a": "loop_b", "loop_b": "loop_a", "needs_ghost": "ghost",
	} {
		idx[name] = filepath.Join(dir, name+".ko")
		if err := os.WriteFile(idx[name], testenv.FakeModule("depends="+depends), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	for _, tc := range []struct {
		name, module string
		want         []string // load order; nil for an error
	}{
		{"dependencies first", "e1000", []string{"mdio_bus", "libphy", "e1000"}},
		{"dash folded", "mdio-bus", []string{"mdio_bus"}},
		{"cycle", "loop_a", nil},
		{"missing dependency", "needs_ghost", nil},
		{"missing module", "ghost", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			mods, err := ResolveModules(idx, tc.module)
			if tc.want == nil {
				if err == nil {
					t.Fatalf("no error, got %d modules", len(mods))
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, m := range mods {
				got = append(got, m.Name)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("order (-want +got):\n%s", diff)
			}
		})
	}
}

func TestIndexModules(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"kernel/net/e1000.ko", "kernel/fs/ext-4.ko.xz", "kernel/x/notes.txt", "modules.order"} {
		p := filepath.Join(dir, f)
		os.MkdirAll(filepath.Dir(p), 0o755)
		os.WriteFile(p, nil, 0o644)
	}
	idx, err := IndexModules(dir)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"e1000": filepath.Join(dir, "kernel/net/e1000.ko"),
		"ext_4": filepath.Join(dir, "kernel/fs/ext-4.ko.xz"),
	}
	if diff := cmp.Diff(want, idx); diff != "" {
		t.Errorf("index (-want +got):\n%s", diff)
	}
}

// TestReadCompressedModule decompresses .ko.gz in Go and .ko.xz with xz,
// when xz is installed.
func TestReadCompressedModule(t *testing.T) {
	ko := testenv.FakeModule("depends=")
	dir := t.TempDir()
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(ko)
	z.Close()
	files := map[string][]byte{"a.ko": ko, "b.ko.gz": gz.Bytes()}
	if xz, err := exec.LookPath("xz"); err == nil {
		cmd := exec.Command(xz, "-c")
		cmd.Stdin = bytes.NewReader(ko)
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		files["c.ko.xz"] = out
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
		got, err := decompressModule(p, data)
		if err != nil {
			t.Errorf("%s: %v", name, err)
		} else if !bytes.Equal(got, ko) {
			t.Errorf("%s: decompressed bytes differ", name)
		}
	}
}

func FuzzModinfo(f *testing.F) {
	f.Add(testenv.FakeModule("depends=a,b", "name=x"))
	f.Add(testenv.FakeModule())
	f.Add([]byte("\x7fELF"))
	f.Fuzz(func(t *testing.T, b []byte) {
		info, err := modinfo(b)
		if err == nil && info == nil {
			t.Error("nil map without error")
		}
	})
}
