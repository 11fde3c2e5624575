package lab

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
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

// complete reports whether the entry was fully written (it is renamed
// into place only then).
func (k kernelDir) complete() bool {
	_, err := os.Stat(filepath.Join(k.dir, "modules", "order"))
	return err == nil
}

// newestCached returns the most recently written complete cache entry.
func newestCached(root string) (kernelDir, bool) {
	dirs, _ := filepath.Glob(filepath.Join(root, "linux-image-*"))
	var best kernelDir
	var bestTime time.Time
	for _, d := range dirs {
		k := kernelDir{dir: d}
		fi, err := os.Stat(d)
		if err == nil && k.complete() && fi.ModTime().After(bestTime) {
			best, bestTime = k, fi.ModTime()
		}
	}
	return best, best.dir != ""
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
