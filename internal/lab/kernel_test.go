package lab

import (
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestNewestCached(t *testing.T) {
	root := t.TempDir()
	if _, ok := newestCached(root); ok {
		t.Error("empty cache gave a kernel")
	}
	now := time.Now()
	for i, name := range []string{"linux-image-6.1.0-1-amd64_1", "linux-image-6.1.0-2-amd64_2", "linux-image-6.1.0-3-amd64_3"} {
		dir := filepath.Join(root, name)
		if err := os.MkdirAll(filepath.Join(dir, "modules"), 0o755); err != nil {
			t.Fatal(err)
		}
		if i < 2 { // the newest one is incomplete
			os.WriteFile(filepath.Join(dir, "modules", "order"), []byte("e1000\n"), 0o644)
		}
		os.Chtimes(dir, now, now.Add(time.Duration(i)*time.Hour))
	}
	k, ok := newestCached(root)
	if want := filepath.Join(root, "linux-image-6.1.0-2-amd64_2"); !ok || k.dir != want {
		t.Errorf("newestCached = %q, %v; want %q", k.dir, ok, want)
	}
}
