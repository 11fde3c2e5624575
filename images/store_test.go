package images

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestStorePutOpen(t *testing.T) {
	s, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	content := strings.Repeat("kernel", 1000)
	sum := sha256.Sum256([]byte(content))
	want := hex.EncodeToString(sum[:])
	if _, _, err := s.Put(strings.NewReader(content), strings.Repeat("0", 64)); err == nil {
		t.Fatal("a wrong expected digest was accepted")
	}
	if s.Has(want) {
		t.Fatal("a refused upload was kept")
	}
	d, n, err := s.Put(strings.NewReader(content), want)
	if err != nil || d != want || n != int64(len(content)) {
		t.Fatalf("put: %s %d %v", d, n, err)
	}
	f, err := s.Open(d)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	b, _ := io.ReadAll(f)
	if string(b) != content {
		t.Fatal("content differs")
	}
	for _, bad := range []string{"../../etc/passwd", "", strings.ToUpper(want), want[:63]} {
		if _, err := s.Open(bad); err != ErrNotFound {
			t.Errorf("open %q: %v", bad, err)
		}
	}
}

// List names every stored file, as a backup does, and nothing being
// written.
func TestStoreList(t *testing.T) {
	s, err := NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if got, err := s.List(); err != nil || len(got) != 0 {
		t.Fatalf("empty store: List = %v, %v", got, err)
	}
	a, _, err := s.Put(strings.NewReader("kernel"), "")
	if err != nil {
		t.Fatal(err)
	}
	b, _, err := s.Put(strings.NewReader("initrd"), "")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(s.TempDir(), "partial"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	got, err := s.List()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{a: "sha256/" + a[:2] + "/" + a, b: "sha256/" + b[:2] + "/" + b}
	if len(got) != len(want) {
		t.Fatalf("List = %v, want the 2 files put", got)
	}
	for _, f := range got {
		if want[f.Digest] != f.Rel {
			t.Errorf("file %s: Rel %q, want %q", f.Digest, f.Rel, want[f.Digest])
		}
		if b, err := os.ReadFile(f.Path); err != nil || len(b) == 0 {
			t.Errorf("file %s: Path %s: %v", f.Digest, f.Path, err)
		}
	}
}
