package lab

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// CacheDir is where Assets keeps unpacked kernels between runs:
// $PROVISION_LAB_CACHE if set, else /var/cache/provision-lab for root, else
// provision-lab in the user's cache directory ($XDG_CACHE_HOME).
func CacheDir() (string, error) {
	if d := os.Getenv("PROVISION_LAB_CACHE"); d != "" {
		return d, nil
	}
	if os.Geteuid() == 0 {
		return "/var/cache/provision-lab", nil
	}
	d, err := os.UserCacheDir()
	if err != nil {
		return "", errors.New("lab: no cache directory: set PROVISION_LAB_CACHE")
	}
	return filepath.Join(d, "provision-lab"), nil
}

// has reports whether the entry is complete (modules/order is written
// last, so an entry without it is half written) and holds the named
// modules. An entry written before a module was added to cachedModules
// lacks it: currentKernel then fetches the package again and extends it.
func (k kernelDir) has(names ...string) bool {
	cached, err := k.cachedNames()
	if err != nil {
		return false
	}
	if _, err := os.Stat(k.deb()); err != nil {
		return false // written before the package was kept
	}
	for _, n := range names {
		if !slices.Contains(cached, n) {
			return false
		}
	}
	return true
}

// newestCached returns the most recently written complete cache entry
// that holds the modules named by need.
func newestCached(root string, need ...string) (kernelDir, bool) {
	dirs, _ := filepath.Glob(filepath.Join(root, "linux-image-*"))
	var best kernelDir
	var bestTime time.Time
	for _, d := range dirs {
		k := kernelDir{dir: d}
		fi, err := os.Stat(d)
		if err == nil && k.has(need...) && fi.ModTime().After(bestTime) {
			best, bestTime = k, fi.ModTime()
		}
	}
	return best, best.dir != ""
}

// installEntry moves a freshly built entry (out) to dst. A new dst is the
// renamed out. An existing one (an older entry of the same package with
// fewer modules) is extended in place: each file is renamed over its old
// copy, modules/order last, so a test process reading the entry at the
// same time sees either the old complete entry or the new one.
func installEntry(out, dst string) error {
	if _, err := os.Stat(dst); errors.Is(err, fs.ErrNotExist) {
		return os.Rename(out, dst)
	}
	if err := os.MkdirAll(filepath.Join(dst, "modules"), 0o755); err != nil {
		return err
	}
	files, err := filepath.Glob(filepath.Join(out, "modules", "*.ko"))
	if err != nil {
		return err
	}
	for _, f := range append(files, filepath.Join(out, "vmlinuz"), filepath.Join(out, "kernel.deb"), filepath.Join(out, "modules", "order")) {
		rel, err := filepath.Rel(out, f)
		if err != nil {
			return err
		}
		if err := os.Rename(f, filepath.Join(dst, rel)); err != nil {
			return err
		}
	}
	return nil
}

// lockDir takes an exclusive flock(2) on dir/.lock until unlock is called.
func lockDir(dir string) (unlock func(), err error) {
	f, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		f.Close()
		return nil, fmt.Errorf("lock %s: %w", f.Name(), err)
	}
	return func() { f.Close() }, nil
}
