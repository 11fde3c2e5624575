package labtest

import (
	"testing"

	"github.com/provision/provision/lab"
)

// Assets is lab.Env.Assets: a Debian kernel and the marker initramfs,
// built in t.TempDir().
func Assets(t testing.TB) (kernel, initrd string) {
	t.Helper()
	kernel, initrd, err := env(t).Assets()
	check(t, err)
	return kernel, initrd
}

// InstallerAssets is lab.Env.InstallerAssets: the kernel and the lab
// installer's initramfs.
func InstallerAssets(t testing.TB) (kernel, initrd string) {
	t.Helper()
	kernel, initrd, err := env(t).InstallerAssets()
	check(t, err)
	return kernel, initrd
}

// KernelPackage is lab.Env.KernelPackage: the cached Debian kernel
// package whose kernel Assets returns.
func KernelPackage(t testing.TB) string {
	t.Helper()
	deb, err := env(t).KernelPackage()
	check(t, err)
	return deb
}

// DebianInstaller is lab.DebianInstaller: the real Debian 12 installer's
// kernel and initrd.
func DebianInstaller(t testing.TB) (kernel, initrd string) {
	t.Helper()
	kernel, initrd, err := lab.DebianInstaller()
	check(t, err)
	return kernel, initrd
}
