package lab

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/provision/provision/bootenv"
)

// busyboxPath is where Debian's busybox-static installs its binary.
const busyboxPath = "/bin/busybox"

// Assets returns the paths of a Debian kernel (from the cache, see
// CacheDir) and of an initramfs built in a new temporary directory:
// busybox, e1000.ko with its dependencies, and the /init that prints the
// markers.
func (e *Env) Assets() (kernel, initrd string, err error) {
	return e.assets(netModules, buildInitramfs)
}

// InstallerAssets is Assets for the lab installer: its initramfs also
// holds the virtio disk modules and the boot sector, and its /init
// fetches provision.ks=, writes the disk, reports and reboots (see the
// package documentation for its markers and the disk layout).
func (e *Env) InstallerAssets() (kernel, initrd string, err error) {
	return e.assets(installerModules, buildInstallerInitramfs)
}

// assets builds an initramfs from busybox and the named modules (with
// their dependencies) of the cached kernel.
func (e *Env) assets(names []string, build func(busybox []byte, modules []bootenv.Module) ([]byte, error)) (kernel, initrd string, err error) {
	k, err := e.debianKernel(names...)
	if err != nil {
		return "", "", err
	}
	busybox, err := staticBusybox()
	if err != nil {
		return "", "", err
	}
	modules, err := k.modules(names...)
	if err != nil {
		return "", "", fmt.Errorf("lab: kernel cache %s: %w", k.dir, err)
	}
	img, err := build(busybox, modules)
	if err != nil {
		return "", "", fmt.Errorf("lab: %w", err)
	}
	dir, err := e.TempDir()
	if err != nil {
		return "", "", err
	}
	initrd = filepath.Join(dir, "initrd.gz")
	if err := os.WriteFile(initrd, img, 0o644); err != nil {
		return "", "", fmt.Errorf("lab: %w", err)
	}
	return k.vmlinuz(), initrd, nil
}

// debianInstallerDir is where the Debian package
// debian-installer-12-netboot-amd64 puts d-i's netboot kernel and initrd.
const debianInstallerDir = "/usr/lib/debian-installer/images/12/amd64/text/debian-installer/amd64"

// DebianInstaller returns the paths of the real Debian 12 installer's
// kernel and initrd (package debian-installer-12-netboot-amd64), or a
// *MissingError when they are not installed. d-i wants about 1 GiB of
// guest memory (VMOptions.MemoryMiB).
func DebianInstaller() (kernel, initrd string, err error) {
	kernel = filepath.Join(debianInstallerDir, "linux")
	initrd = filepath.Join(debianInstallerDir, "initrd.gz")
	for _, f := range []string{kernel, initrd} {
		if err := needFile(f, "debian-installer-12-netboot-amd64"); err != nil {
			return "", "", err
		}
	}
	return kernel, initrd, nil
}

// staticBusybox returns the bytes of busybox-static, or a *MissingError
// when /bin/busybox is absent or is the dynamically linked one (package
// busybox).
func staticBusybox() ([]byte, error) {
	missing := func(err error) error {
		return &MissingError{Reason: "busybox-static is not installed: " + err.Error(), Fix: "apt-get install busybox-static"}
	}
	data, err := os.ReadFile(busyboxPath)
	if err != nil {
		return nil, missing(err)
	}
	if err := bootenv.Static(busyboxPath); err != nil {
		return nil, missing(err)
	}
	return data, nil
}

// KernelPackage returns the path of the cached Debian kernel package (the
// .deb) whose kernel Assets returns: what a diskless image is added from.
func (e *Env) KernelPackage() (string, error) {
	k, err := e.debianKernel(cachedModules...)
	if err != nil {
		return "", err
	}
	return k.deb(), nil
}
