package lab

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
)

func TestNewestCached(t *testing.T) {
	root := t.TempDir()
	if _, ok := newestCached(root); ok {
		t.Error("empty cache gave a kernel")
	}
	now := time.Now()
	for i, tc := range []struct{ name, order string }{
		{"linux-image-6.1.0-1-amd64_1", "e1000 virtio virtio_pci virtio_blk\n"},
		{"linux-image-6.1.0-2-amd64_2", "e1000\n"}, // written before virtio was cached
		{"linux-image-6.1.0-3-amd64_3", ""},        // the newest one is incomplete
	} {
		dir := filepath.Join(root, tc.name)
		if err := os.MkdirAll(filepath.Join(dir, "modules"), 0o755); err != nil {
			t.Fatal(err)
		}
		if tc.order != "" {
			os.WriteFile(filepath.Join(dir, "modules", "order"), []byte(tc.order), 0o644)
			os.WriteFile(filepath.Join(dir, "kernel.deb"), nil, 0o644)
		}
		os.Chtimes(dir, now, now.Add(time.Duration(i)*time.Hour))
	}
	for _, tc := range []struct {
		need []string
		want string
	}{
		{nil, "linux-image-6.1.0-2-amd64_2"},
		{netModules, "linux-image-6.1.0-2-amd64_2"},
		{installerModules, "linux-image-6.1.0-1-amd64_1"},
	} {
		k, ok := newestCached(root, tc.need...)
		if want := filepath.Join(root, tc.want); !ok || k.dir != want {
			t.Errorf("newestCached(%v) = %q, %v; want %q", tc.need, k.dir, ok, want)
		}
	}
}

// fakeKernelTree writes what dpkg -x makes of a kernel package: vmlinuz
// and modules (fake ELF with the dependencies of Debian 6.1's).
func fakeKernelTree(t *testing.T, vmlinuz string) string {
	t.Helper()
	tree := t.TempDir()
	mods := filepath.Join(tree, "lib/modules/6.1.0-9-amd64/kernel/drivers")
	files := map[string][]byte{
		"boot/vmlinuz-6.1.0-9-amd64":              []byte(vmlinuz),
		"lib/modules/6.1.0-9-amd64/modules.order": nil,
	}
	for name, depends := range map[string]string{
		"net/ethernet/intel/e1000/e1000": "",
		"virtio/virtio":                  "virtio_ring",
		"virtio/virtio_ring":             "",
		"virtio/virtio_pci":              "virtio_ring,virtio_pci_modern_dev,virtio_pci_legacy_dev,virtio",
		"virtio/virtio_pci_modern_dev":   "",
		"virtio/virtio_pci_legacy_dev":   "",
		"block/virtio_blk":               "virtio,virtio_ring",
		"block/loop":                     "",
	} {
		files[strings.TrimPrefix(filepath.Join(mods, name+".ko"), tree+"/")] = testenv.FakeModule("depends=" + depends)
	}
	for name, data := range files {
		p := filepath.Join(tree, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return tree
}

func TestKeepBootFiles(t *testing.T) {
	out := filepath.Join(t.TempDir(), "out")
	if err := keepBootFiles(fakeKernelTree(t, "kernel"), fakeDeb(t), out); err != nil {
		t.Fatal(err)
	}
	k := kernelDir{dir: out}
	got, err := k.cachedNames()
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"e1000", "virtio_ring", "virtio_pci_modern_dev", "virtio_pci_legacy_dev", "virtio", "virtio_pci", "virtio_blk"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("modules/order (-want +got):\n%s", diff)
	}
	if !k.has(cachedModules...) {
		t.Error("new entry lacks cachedModules")
	}
	for _, tc := range []struct {
		names []string
		want  []string
	}{
		{netModules, []string{"e1000"}},
		{installerModules, want},
		{[]string{"virtio_blk"}, []string{"virtio_ring", "virtio", "virtio_blk"}},
	} {
		mods, err := k.modules(tc.names...)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, m := range mods {
			names = append(names, m.Name)
		}
		if diff := cmp.Diff(tc.want, names); diff != "" {
			t.Errorf("modules(%v) (-want +got):\n%s", tc.names, diff)
		}
	}
}

// TestInstallEntryExtends replaces an entry written when only e1000 was
// cached: it then holds every module, and its old files are replaced.
func TestInstallEntryExtends(t *testing.T) {
	root := t.TempDir()
	dst := filepath.Join(root, "linux-image-6.1.0-9-amd64_1")
	old := kernelDir{dir: dst}
	os.MkdirAll(filepath.Join(dst, "modules"), 0o755)
	os.WriteFile(old.vmlinuz(), []byte("kernel"), 0o644)
	os.WriteFile(filepath.Join(dst, "modules", "e1000.ko"), testenv.FakeModule("depends="), 0o644)
	os.WriteFile(filepath.Join(dst, "modules", "order"), []byte("e1000\n"), 0o644)
	os.WriteFile(old.deb(), nil, 0o644)
	if !old.has(netModules...) || old.has(cachedModules...) {
		t.Fatal("old entry: want e1000 only")
	}
	for i, dir := range []string{filepath.Join(root, "new"), filepath.Join(root, "again")} {
		if err := keepBootFiles(fakeKernelTree(t, "kernel"), fakeDeb(t), dir); err != nil {
			t.Fatal(err)
		}
		if err := installEntry(dir, dst); err != nil {
			t.Fatalf("install %d: %v", i, err)
		}
	}
	if !old.has(cachedModules...) {
		t.Error("extended entry lacks cachedModules")
	}
	if _, err := old.modules(installerModules...); err != nil {
		t.Error(err)
	}
	if b, err := os.ReadFile(old.vmlinuz()); err != nil || string(b) != "kernel" {
		t.Errorf("vmlinuz = %q, %v", b, err)
	}
	fresh := filepath.Join(root, "linux-image-6.1.0-10-amd64_1")
	out := filepath.Join(root, "out")
	if err := keepBootFiles(fakeKernelTree(t, "kernel"), fakeDeb(t), out); err != nil {
		t.Fatal(err)
	}
	if err := installEntry(out, fresh); err != nil {
		t.Fatal(err)
	}
	if !(kernelDir{dir: fresh}).has(cachedModules...) {
		t.Error("new entry lacks cachedModules")
	}
}

// fakeDeb returns the path of a file standing in for a kernel package.
func fakeDeb(t *testing.T) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "linux-image.deb")
	if err := os.WriteFile(p, []byte("!<arch>\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}
