package bootenv

import (
	"os"
	"path/filepath"
	"testing"
)

// A Debian package is an ar archive whose first member is debian-binary;
// a kernel image, a short file or a missing one is not.
func TestIsDeb(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"linux-image.deb": "!<arch>\ndebian-binary   1700000000  0     0     100644  4         `\n2.0\n",
		"vmlinuz":         "MZ\x00\x00 a kernel image, not a package of one",
		"short":           "!<arch>\n",
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		if got, want := IsDeb(filepath.Join(dir, name)), name == "linux-image.deb"; got != want {
			t.Errorf("IsDeb(%s) = %v, want %v", name, got, want)
		}
	}
	if IsDeb(filepath.Join(dir, "missing")) {
		t.Error("IsDeb of a missing file is true")
	}
}
