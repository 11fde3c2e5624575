package bootenv

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/provision/provision/internal/testenv"
)

func TestBuildHoldsTheBootEnvironment(t *testing.T) {
	cpio := testenv.NeedCommand(t, "cpio")
	cfg := Config{Busybox: []byte("busybox"), Zonecfg: []byte("zonecfg"),
		Modules: []Module{{Name: "libphy", Data: []byte("phy")}, {Name: "e1000", Data: []byte("e1000")}},
		Extra:   map[string][]byte{"/usr/bin/zstd": []byte("zstd"), "/lib/x86_64-linux-gnu/libzstd.so.1": []byte("lib")}}
	img, err := Build(cfg)
	if err != nil {
		t.Fatal(err)
	}
	again, _ := Build(cfg)
	if !bytes.Equal(img, again) {
		t.Error("two builds from equal inputs differ")
	}
	z, err := gzip.NewReader(bytes.NewReader(img))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command(cpio, "-idm", "--quiet")
	cmd.Dir, cmd.Stdin = dir, z
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GNU cpio cannot unpack it: %v\n%s", err, out)
	}
	for path, want := range map[string]string{
		"bin/busybox": "busybox", "bin/zonecfg": "zonecfg", "lib/modules/e1000.ko": "e1000",
		"lib/modules/order": "libphy\ne1000\n", "usr/bin/zstd": "zstd", "lib/x86_64-linux-gnu/libzstd.so.1": "lib",
	} {
		got, err := os.ReadFile(filepath.Join(dir, path))
		if err != nil || string(got) != want {
			t.Errorf("%s = %q, %v; want %q", path, got, err, want)
		}
	}
	for _, exe := range []string{"init", "lib/provision/boot-hooks", "etc/udhcpc.script", "bin/zonecfg"} {
		if fi, err := os.Stat(filepath.Join(dir, exe)); err != nil || fi.Mode()&0o100 == 0 {
			t.Errorf("%s is not executable: %v", exe, err)
		}
	}
	if _, err := Build(Config{Busybox: []byte("b")}); err == nil {
		t.Error("a boot environment without zonecfg was built")
	}
	if _, err := Build(Config{Busybox: []byte("b"), Zonecfg: []byte("z"), Modules: []Module{{Name: "../x"}}}); err == nil {
		t.Error("a bad module name was accepted")
	}
}

// The scripts parse with the shell that runs them.
func TestScriptsParse(t *testing.T) {
	sh := testenv.NeedCommand(t, "busybox")
	for _, f := range []string{"files/init", "files/boot-hooks", "files/udhcpc.script"} {
		if out, err := exec.Command(sh, "sh", "-n", f).CombinedOutput(); err != nil {
			t.Errorf("%s: %v\n%s", f, err, out)
		}
	}
	broken := filepath.Join(t.TempDir(), "broken")
	os.WriteFile(broken, []byte("if then fi\n"), 0o644)
	if exec.Command(sh, "sh", "-n", broken).Run() == nil {
		t.Error("sh -n accepts a broken script: this test cannot fail")
	}
}

func tarOf(t *testing.T, members map[string]string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for name, data := range members {
		tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o644, Size: int64(len(data))})
		tw.Write([]byte(data))
	}
	tw.Close()
	return buf.Bytes()
}

func TestInspectRootfs(t *testing.T) {
	plain := tarOf(t, map[string]string{"sbin/init": "#!/bin/sh\n", "etc/big": strings.Repeat("x", 5000)})
	var gz bytes.Buffer
	z := gzip.NewWriter(&gz)
	z.Write(plain)
	z.Close()
	for _, tc := range []struct {
		name   string
		data   []byte
		format string
	}{{"tar", plain, FormatTar}, {"gzip", gz.Bytes(), FormatGzip}} {
		info, err := InspectRootfs(bytes.NewReader(tc.data))
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		if info.Format != tc.format || info.Entries != 2 || info.Unpacked != 4096+8192 {
			t.Errorf("%s: %+v", tc.name, info)
		}
	}
	if zstd, err := exec.LookPath("zstd"); err == nil {
		cmd := exec.Command(zstd, "-q", "-c")
		cmd.Stdin = bytes.NewReader(plain)
		zs, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		info, err := InspectRootfs(bytes.NewReader(zs))
		if err != nil || info.Format != FormatZstd || info.Entries != 2 {
			t.Errorf("zstd: %+v, %v", info, err)
		}
		if _, err := InspectRootfs(bytes.NewReader(zs[:len(zs)/2])); err == nil {
			t.Error("a truncated zstd archive was accepted")
		}
	} else {
		testenv.Missing(t, "zstd is not installed")
	}
	for name, data := range map[string][]byte{
		"climbs out":  tarOf(t, map[string]string{"../etc/passwd": "x"}),
		"absolute":    tarOf(t, map[string]string{"/etc/passwd": "x"}),
		"not a tar":   []byte(strings.Repeat("not a tar archive ", 100)),
		"empty":       tarOf(t, nil),
		"broken gzip": {0x1f, 0x8b, 0, 0},
	} {
		if _, err := InspectRootfs(bytes.NewReader(data)); err == nil {
			t.Errorf("%s: accepted", name)
		} else {
			t.Logf("%s: %v", name, err)
		}
	}
}

func TestFromTree(t *testing.T) {
	tree := t.TempDir()
	mods := filepath.Join(tree, "lib/modules/6.1.0-9-amd64/kernel/drivers")
	os.MkdirAll(mods, 0o755)
	os.MkdirAll(filepath.Join(tree, "boot"), 0o755)
	os.WriteFile(filepath.Join(tree, "boot/vmlinuz-6.1.0-9-amd64"), []byte("kernel"), 0o644)
	os.WriteFile(filepath.Join(mods, "e1000.ko"), testenv.FakeModule("depends="), 0o644)
	os.WriteFile(filepath.Join(mods, "virtio_blk.ko"), testenv.FakeModule("depends=virtio,virtio_ring"), 0o644)
	os.WriteFile(filepath.Join(mods, "virtio.ko"), testenv.FakeModule("depends=virtio_ring"), 0o644)
	os.WriteFile(filepath.Join(mods, "virtio_ring.ko"), testenv.FakeModule("depends="), 0o644)
	k, err := FromTree(tree)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range k.Modules {
		names = append(names, m.Name)
	}
	if k.Version != "6.1.0-9-amd64" || string(k.Vmlinuz) != "kernel" || strings.Join(names, " ") != "e1000 virtio_ring virtio virtio_blk" {
		t.Errorf("got %s %q %v", k.Version, k.Vmlinuz, names)
	}
	os.Remove(filepath.Join(mods, "virtio.ko"))
	if _, err := FromTree(tree); err == nil || !strings.Contains(err.Error(), "virtio") {
		t.Errorf("a missing dependency gave %v", err)
	}
	if _, err := FromTree(t.TempDir()); err == nil {
		t.Error("an empty tree gave a kernel")
	}
}

func TestProgramBringsItsLibraries(t *testing.T) {
	zstd, err := exec.LookPath("zstd")
	if err != nil {
		testenv.Missing(t, "zstd is not installed")
	}
	testenv.NeedCommand(t, "ldd")
	files, err := Program(zstd)
	if err != nil {
		t.Fatal(err)
	}
	var loader, libc bool
	for p := range files {
		loader = loader || strings.Contains(p, "ld-linux")
		libc = libc || strings.Contains(p, "libc.so")
	}
	if _, ok := files[zstd]; !ok || !loader || !libc {
		t.Errorf("Program(%s) gave %d files without the program, its loader or libc", zstd, len(files))
	}
	if err := Static("/bin/busybox"); err != nil {
		t.Logf("busybox: %v", err)
	}
	if err := Static(zstd); err == nil {
		t.Errorf("%s is called static", zstd)
	}
}
