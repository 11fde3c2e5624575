package lab

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"

	"github.com/provision/provision/bootenv"
)

// Modules an initramfs loads, each with its dependencies. netModules is
// the driver of QEMU's e1000 NIC; installerModules adds the virtio disk:
// virtio_blk, and virtio_pci, its PCI transport, which is no dependency of
// virtio_blk and has to be named. In Debian's 6.1 kernel all are modules.
var (
	netModules       = []string{"e1000"}
	installerModules = []string{"e1000", "virtio_pci", "virtio_blk"}
)

// cachedModules is what the cache keeps of a kernel package (with their
// dependencies): every module some initramfs needs.
var cachedModules = installerModules

// kernelDir is one unpacked kernel in the cache: its package (kernel.deb),
// vmlinuz, and under modules/
// the plain .ko files of cachedModules and their dependencies, listed in
// load order in modules/order.
type kernelDir struct{ dir string }

func (k kernelDir) vmlinuz() string { return filepath.Join(k.dir, "vmlinuz") }

// deb is the kernel package the entry was unpacked from.
func (k kernelDir) deb() string { return filepath.Join(k.dir, "kernel.deb") }

// cachedNames reads modules/order: the names of the modules the entry holds.
func (k kernelDir) cachedNames() ([]string, error) {
	order, err := os.ReadFile(filepath.Join(k.dir, "modules", "order"))
	if err != nil {
		return nil, err
	}
	return strings.Fields(string(order)), nil
}

// modules returns the named modules and their dependencies from the
// cache, dependencies first, resolved from the cached files' .modinfo as
// they were from the package's.
func (k kernelDir) modules(names ...string) ([]bootenv.Module, error) {
	cached, err := k.cachedNames()
	if err != nil {
		return nil, err
	}
	idx := map[string]string{}
	for _, n := range cached {
		idx[n] = filepath.Join(k.dir, "modules", n+".ko")
	}
	return bootenv.ResolveModules(idx, names...)
}

// debianKernel returns the cached kernel for the current candidate of the
// package linux-image-amd64 depends on, downloading and unpacking it the
// first time, or again when its entry lacks some of cachedModules (an entry
// written before they were added). A lock file serialises processes
// sharing the cache. When apt cannot tell or fetch the current one (stale
// or missing package lists, no network), the newest kernel already cached
// that holds the modules named by need serves instead.
func (e *Env) debianKernel(need ...string) (kernelDir, error) {
	root, err := CacheDir()
	if err == nil {
		err = os.MkdirAll(root, 0o755)
	}
	if err != nil {
		return kernelDir{}, fmt.Errorf("lab: %w", err)
	}
	unlock, err := lockDir(root)
	if err != nil {
		return kernelDir{}, fmt.Errorf("lab: %w", err)
	}
	defer unlock()
	k, err := e.currentKernel(root)
	if err == nil {
		return k, nil
	}
	if errors.Is(err, ErrMissing) {
		return kernelDir{}, err
	}
	if k, ok := newestCached(root, need...); ok {
		e.logf("using cached kernel %s: %v", k.dir, err)
		return k, nil
	}
	return kernelDir{}, &MissingError{
		Reason: fmt.Sprintf("no Debian kernel with %s in %s: %v", strings.Join(need, ", "), root, err),
		Fix:    "run apt-get update, with network access to a Debian mirror",
	}
}

// aptKernel is apt's answer for the current kernel package, asked once a
// process: two apt-cache runs cost a second of CPU, and a test binary's
// labs asked it fifty times, one after another under the cache's lock.
var aptKernel = sync.OnceValues(func() ([2]string, error) {
	pkg, version, err := bootenv.CurrentKernelPackage()
	return [2]string{pkg, version}, err
})

// currentKernel returns the cache entry of the kernel apt would download
// now, fetching it if it is not cached yet.
func (e *Env) currentKernel(root string) (kernelDir, error) {
	for _, c := range [][2]string{{"apt-cache", "apt"}, {"apt-get", "apt"}, {"dpkg", "dpkg"}} {
		if _, err := needCommand(c[0], c[1]); err != nil {
			return kernelDir{}, err
		}
	}
	current, err := aptKernel()
	if err != nil {
		return kernelDir{}, err
	}
	pkg, version := current[0], current[1]
	k := kernelDir{dir: filepath.Join(root, pkg+"_"+version)}
	if k.has(cachedModules...) {
		return k, nil
	}
	return k, e.fetchKernel(root, pkg, version, k.dir)
}

// fetchKernel downloads and unpacks pkg in a scratch directory under root,
// keeps vmlinuz and the boot modules, and moves the result to dst
// (installEntry).
func (e *Env) fetchKernel(root, pkg, version, dst string) error {
	scratch, err := os.MkdirTemp(root, ".fetch-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(scratch)
	if _, err := e.commandIn(scratch, "apt-get", "download", "-q", "-o", "APT::Sandbox::User=root", pkg+"="+version); err != nil {
		return err
	}
	debs, _ := filepath.Glob(filepath.Join(scratch, "*.deb"))
	if len(debs) != 1 {
		return fmt.Errorf("apt-get download %s: got %d .deb files", pkg, len(debs))
	}
	tree := filepath.Join(scratch, "tree")
	if _, err := e.commandIn("", "dpkg", "-x", debs[0], tree); err != nil {
		return err
	}
	out := filepath.Join(scratch, "out")
	if err := keepBootFiles(tree, debs[0], out); err != nil {
		return fmt.Errorf("%s: %w", pkg, err)
	}
	return installEntry(out, dst)
}

// keepBootFiles copies vmlinuz and the boot modules of an unpacked kernel
// package (tree) into the cache layout at out, and moves the package (deb)
// there too: a diskless image is added from it (image add
// --kernel-package), and the appliance takes its modules.
func keepBootFiles(tree, deb, out string) error {
	vmlinuz, err := oneMatch(tree, "boot/vmlinuz-*")
	if err != nil {
		return err
	}
	// Debian 12 puts modules in /lib/modules, Debian 13 in /usr/lib/modules.
	modDir, err := oneMatch(tree, "lib/modules/*", "usr/lib/modules/*")
	if err != nil {
		return err
	}
	idx, err := bootenv.IndexModules(modDir)
	if err != nil {
		return err
	}
	mods, err := bootenv.ResolveModules(idx, cachedModules...)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Join(out, "modules"), 0o755); err != nil {
		return err
	}
	var order []string
	for _, m := range mods {
		order = append(order, m.Name)
		if err := os.WriteFile(filepath.Join(out, "modules", m.Name+".ko"), m.Data, 0o644); err != nil {
			return err
		}
	}
	if err := os.Rename(vmlinuz, filepath.Join(out, "vmlinuz")); err != nil {
		return err
	}
	if err := os.Rename(deb, filepath.Join(out, "kernel.deb")); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(out, "modules", "order"), []byte(strings.Join(order, "\n")+"\n"), 0o644)
}

// oneMatch returns the single path under dir that the first matching
// pattern finds.
func oneMatch(dir string, patterns ...string) (string, error) {
	for _, p := range patterns {
		m, _ := filepath.Glob(filepath.Join(dir, p))
		switch len(m) {
		case 0:
			continue
		case 1:
			return m[0], nil
		default:
			return "", fmt.Errorf("%d matches for %s", len(m), p)
		}
	}
	return "", fmt.Errorf("no %s", strings.Join(patterns, " or "))
}

// commandIn runs a program in dir (this one if dir is "") until it ends
// or the Env's context does, and returns its standard output; the
// error carries its standard error.
func (e *Env) commandIn(dir, name string, args ...string) (string, error) {
	var stderr bytes.Buffer
	cmd := exec.CommandContext(e.ctx, name, args...)
	cmd.Dir = dir
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s %s: %w: %s", name, strings.Join(args, " "), err, bytes.TrimSpace(stderr.Bytes()))
	}
	return string(out), nil
}
