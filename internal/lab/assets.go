package lab

import (
	"debug/elf"
	"fmt"
	"os"
	"path/filepath"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

// busyboxPath is where Debian's busybox-static installs its binary.
const busyboxPath = "/bin/busybox"

// Assets returns the paths of a Debian kernel (from the cache, see
// CacheDir) and of an initramfs built for this test in t.TempDir(): busybox,
// e1000.ko with its dependencies, and the /init that prints the markers.
func Assets(t testing.TB) (kernel, initrd string) {
	t.Helper()
	k := debianKernel(t)
	busybox := staticBusybox(t)
	modules, err := k.modules()
	if err != nil {
		t.Fatalf("lab: kernel cache %s: %v", k.dir, err)
	}
	img, err := buildInitramfs(busybox, modules)
	if err != nil {
		t.Fatalf("lab: %v", err)
	}
	initrd = filepath.Join(t.TempDir(), "initrd.gz")
	if err := os.WriteFile(initrd, img, 0o644); err != nil {
		t.Fatalf("lab: %v", err)
	}
	return k.vmlinuz(), initrd
}

// staticBusybox returns the bytes of busybox-static, calling Missing when
// /bin/busybox is absent or is the dynamically linked one (package busybox).
func staticBusybox(t testing.TB) []byte {
	t.Helper()
	data, err := os.ReadFile(busyboxPath)
	if err != nil {
		testenv.Missing(t, "busybox-static is not installed: "+err.Error())
	}
	if err := checkStatic(busyboxPath); err != nil {
		testenv.Missing(t, "busybox-static is not installed: "+err.Error())
	}
	return data
}

// checkStatic fails for an ELF program that needs a dynamic loader.
func checkStatic(file string) error {
	f, err := elf.Open(file)
	if err != nil {
		return err
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			return fmt.Errorf("%s is dynamically linked", file)
		}
	}
	return nil
}
