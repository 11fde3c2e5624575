package confine

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
)

func TestOpen(t *testing.T) {
	outside := t.TempDir()
	os.WriteFile(filepath.Join(outside, "secret"), []byte("secret"), 0o600)
	dir := t.TempDir()
	os.MkdirAll(filepath.Join(dir, "boot"), 0o755)
	os.WriteFile(filepath.Join(dir, "boot", "vmlinuz"), []byte("kernel"), 0o644)
	os.Symlink("/etc/passwd", filepath.Join(dir, "boot", "abs"))
	os.Symlink("../../x", filepath.Join(dir, "boot", "up"))
	os.Symlink("vmlinuz", filepath.Join(dir, "boot", "inside"))
	os.Symlink(outside, filepath.Join(dir, "outdir"))
	syscall.Mkfifo(filepath.Join(dir, "fifo"), 0o644)
	root, err := os.OpenRoot(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer root.Close()
	if b, err := ReadFile(root, "boot/vmlinuz"); err != nil || string(b) != "kernel" {
		t.Fatalf("a regular file: %q %v", b, err)
	}
	for _, name := range []string{"boot/abs", "boot/up", "boot/inside", "outdir/secret", "../" + filepath.Base(outside) + "/secret", "fifo", "boot", "boot/../../x"} {
		b, err := ReadFile(root, name)
		if err == nil {
			t.Errorf("%s was read: %q", name, b)
			continue
		}
		if !strings.Contains(err.Error(), name) {
			t.Errorf("%s: the error does not name it: %v", name, err)
		}
	}
	if _, err := ReadFile(root, "boot/abs"); !errors.Is(err, ErrNotRegular) {
		t.Errorf("a link: %v, want ErrNotRegular", err)
	}
}
