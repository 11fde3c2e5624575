package appliance

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A loader that cannot be copied is reported with why, instead of the
// appliance saying ready without it.
func TestFillBootFilesReportsMissing(t *testing.T) {
	src := t.TempDir()
	os.WriteFile(filepath.Join(src, "good.kpxe"), []byte("loader"), 0o644)
	os.Mkdir(filepath.Join(src, "dir.efi"), 0o755) // not a file: the copy fails
	dir := t.TempDir()
	missing, err := fillBootFiles(dir, []bootLoader{
		{"good.kpxe", filepath.Join(src, "good.kpxe"), "ipxe"},
		{"absent.0", filepath.Join(src, "absent.0"), "pxelinux"},
		{"dir.efi", filepath.Join(src, "dir.efi"), "ipxe"},
	})
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "good.kpxe")); err != nil || string(b) != "loader" {
		t.Errorf("good.kpxe = %q, %v", b, err)
	}
	if len(missing) != 2 || !strings.Contains(missing[0], "boot file absent.0 is missing") || !strings.Contains(missing[0], "apt-get install pxelinux") ||
		!strings.Contains(missing[1], "boot file dir.efi is missing: copying") {
		t.Errorf("missing = %q", missing)
	}
}
