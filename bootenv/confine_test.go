package bootenv

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// buildKernelDeb makes a linux-image package with dpkg-deb -b: an e1000
// module and boot/vmlinuz-VERSION, which is a symbolic link to link when
// link is not empty.
func buildKernelDeb(t *testing.T, link string) string {
	t.Helper()
	const version = "6.1.0-9-amd64"
	tree := filepath.Join(t.TempDir(), "pkg")
	mods := filepath.Join(tree, "lib/modules", version, "kernel/drivers/net")
	for _, d := range []string{mods, filepath.Join(tree, "boot"), filepath.Join(tree, "DEBIAN")} {
		if err := os.MkdirAll(d, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	control := "Package: linux-image-test\nVersion: 1\nArchitecture: amd64\nMaintainer: test <t@example.com>\nDescription: test kernel\n"
	os.WriteFile(filepath.Join(tree, "DEBIAN/control"), []byte(control), 0o644)
	os.WriteFile(filepath.Join(mods, "e1000.ko"), testenv.FakeModule("depends="), 0o644)
	vmlinuz := filepath.Join(tree, "boot", "vmlinuz-"+version)
	if link == "" {
		os.WriteFile(vmlinuz, []byte("kernel"), 0o644)
	} else if err := os.Symlink(link, vmlinuz); err != nil {
		t.Fatal(err)
	}
	deb := filepath.Join(t.TempDir(), "linux-image-test.deb")
	if out, err := exec.Command("dpkg-deb", "--root-owner-group", "-b", tree, deb).CombinedOutput(); err != nil {
		t.Fatalf("dpkg-deb -b: %v: %s", err, out)
	}
	return deb
}

// TestFromPackageRefusesLinks: a kernel package whose boot/vmlinuz is a
// symbolic link (to /etc/passwd, or climbing out with ..) is refused,
// naming the member, instead of publishing the file it points at.
func TestFromPackageRefusesLinks(t *testing.T) {
	testenv.NeedCommand(t, "dpkg-deb")
	k, err := FromPackage(buildKernelDeb(t, ""), t.TempDir())
	if err != nil || string(k.Vmlinuz) != "kernel" {
		t.Fatalf("a regular package: %v", err)
	}
	for _, link := range []string{"/etc/passwd", "../../x", "../../../../../../../etc/passwd"} {
		t.Run(link, func(t *testing.T) {
			k, err := FromPackage(buildKernelDeb(t, link), t.TempDir())
			if err == nil {
				t.Fatalf("accepted: vmlinuz is %d bytes: %.40q", len(k.Vmlinuz), k.Vmlinuz)
			}
			if !strings.Contains(err.Error(), "boot/vmlinuz-6.1.0-9-amd64") {
				t.Errorf("the error does not name the member: %v", err)
			}
		})
	}
}

// TestFromTreeRefusesLinkedModules: a module that is a symbolic link is
// not taken, even when it points at a module inside the package.
func TestFromTreeRefusesLinkedModules(t *testing.T) {
	tree := t.TempDir()
	mods := filepath.Join(tree, "lib/modules/6.1.0-9-amd64/kernel/drivers")
	os.MkdirAll(mods, 0o755)
	os.MkdirAll(filepath.Join(tree, "boot"), 0o755)
	os.WriteFile(filepath.Join(tree, "boot/vmlinuz-6.1.0-9-amd64"), []byte("kernel"), 0o644)
	os.WriteFile(filepath.Join(tree, "elsewhere.ko"), testenv.FakeModule("depends="), 0o644)
	os.Symlink("../../../../../elsewhere.ko", filepath.Join(mods, "e1000.ko"))
	if k, err := FromTree(tree); err == nil {
		t.Fatalf("a linked module was taken: %d modules", len(k.Modules))
	}
}
