package lab

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/internal/testenv"
)

// busyboxPath is where Debian's busybox-static installs its binary.
const busyboxPath = "/bin/busybox"

// Assets returns the paths of a Debian kernel (from the cache, see
// CacheDir) and of an initramfs built for this test in t.TempDir(): busybox,
// e1000.ko with its dependencies, and the /init that prints the markers.
func Assets(t testing.TB) (kernel, initrd string) {
	t.Helper()
	return assets(t, netModules, buildInitramfs)
}

// InstallerAssets is Assets for the lab installer: its initramfs also
// holds the virtio disk modules and the boot sector, and its /init
// fetches provision.ks=, writes the disk, reports and reboots (see the
// package documentation for its markers and the disk layout).
func InstallerAssets(t testing.TB) (kernel, initrd string) {
	t.Helper()
	return assets(t, installerModules, buildInstallerInitramfs)
}

// assets builds an initramfs from busybox and the named modules (with
// their dependencies) of the cached kernel.
func assets(t testing.TB, names []string, build func(busybox []byte, modules []bootenv.Module) ([]byte, error)) (kernel, initrd string) {
	t.Helper()
	k := debianKernel(t, names...)
	busybox := staticBusybox(t)
	modules, err := k.modules(names...)
	if err != nil {
		t.Fatalf("lab: kernel cache %s: %v", k.dir, err)
	}
	img, err := build(busybox, modules)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	initrd = filepath.Join(t.TempDir(), "initrd.gz")
	if err := os.WriteFile(initrd, img, 0o644); err != nil {
		t.Fatalf("lab: %v", err)
	}
	return k.vmlinuz(), initrd
}

// debianInstallerDir is where the Debian package
// debian-installer-12-netboot-amd64 puts d-i's netboot kernel and initrd.
const debianInstallerDir = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64"

// DebianInstaller returns the paths of the real Debian 12 installer's
// kernel and initrd (package debian-installer-12-netboot-amd64), calling
// Missing when they are not installed. d-i wants about 1 GiB of guest
// memory (VMOptions.MemoryMiB).
func DebianInstaller(t testing.TB) (kernel, initrd string) {
	t.Helper()
	kernel = filepath.Join(debianInstallerDir, "linux")
	initrd = filepath.Join(debianInstallerDir, "initrd.gz")
	for _, f := range []string{kernel, initrd} {
		if _, err := os.Stat(f); err != nil {
			testenv.Missing(t, "debian-installer-12-netboot-amd64 is not installed: "+err.Error())
		}
	}
	return kernel, initrd
}

// staticBusybox returns the bytes of busybox-static, calling Missing when
// /bin/busybox is absent or is the dynamically linked one (package busybox).
func staticBusybox(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(busyboxPath)
	if err != nil {
		testenv.Missing(t, "busybox-static is not installed: "+err.Error())
	}
	if err := bootenv.Static(busyboxPath); err != nil {
		testenv.Missing(t, "busybox-static is not installed: "+err.Error())
	}
	return data
}

// KernelPackage returns the path of the cached Debian kernel package (the
// .deb) whose kernel Assets returns: what a diskless image is added from.
func KernelPackage(t testing.TB) string {
	t.Helper()
	return debianKernel(t, cachedModules...).deb()
}
