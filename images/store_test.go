package images

import (
	"crypto/sha256"
	"encoding/hex"
	"io"
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
