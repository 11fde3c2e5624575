package appliance

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/bootenv"
	"github.com/provision/provision/images"
	"github.com/provision/provision/internal/testenv"
	"github.com/provision/provision/lab/labtest"
	"github.com/provision/provision/registry"
)

// bootableRoot is the tar of a root that boots from a disk, minus the
// members whose names start with one of drop.
func bootableRoot(t *testing.T, drop ...string) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, name := range []string{"./sbin/init", "./boot/vmlinuz-6.1.0-28-amd64", "./boot/initrd.img-6.1.0-28-amd64",
		"./usr/sbin/grub-install", "./usr/lib/grub/i386-pc/boot.img", "./usr/lib/grub/x86_64-efi/normal.mod"} {
		skip := false
		for _, d := range drop {
			skip = skip || strings.HasPrefix(name, "./"+d)
		}
		if !skip {
			tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: name, Mode: 0o755, Size: int64(len(name))})
			tw.Write([]byte(name))
		}
	}
	tw.Close()
	return buf.Bytes()
}

// unpackInitrd unpacks a gzip newc initrd into a new directory with GNU cpio.
func unpackInitrd(t *testing.T, blobs *images.Store, digest string) string {
	t.Helper()
	f, err := blobs.Open(digest)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	cmd := exec.Command("cpio", "-idm", "--quiet")
	cmd.Dir, cmd.Stdin = dir, z
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cpio: %v\n%s", err, out)
	}
	return dir
}

// TestPrepareDiskImage builds a disk image's boot environment from the
// real Debian kernel package: it carries every deploy tool of this
// machine with its libraries and the deploy modules (a diskless image's
// from the same package does not), the image records its kernel and boot
// loaders, and a rootfs that cannot boot from a disk is refused, naming
// what it lacks.
func TestPrepareDiskImage(t *testing.T) {
	testenv.NeedCommand(t, "cpio")
	testenv.NeedCommand(t, "dpkg-deb")
	testenv.NeedCommand(t, "ldd")
	if err := bootenv.Static("/bin/busybox"); err != nil {
		testenv.Missing(t, "busybox-static is not installed: "+err.Error())
	}
	deb := labtest.KernelPackage(t)
	blobs, err := images.NewStore(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	put := func(data []byte) registry.File {
		digest, size, err := blobs.Put(bytes.NewReader(data), "")
		if err != nil {
			t.Fatal(err)
		}
		return registry.File{SHA256: digest, Size: size}
	}
	debData, err := os.ReadFile(deb)
	if err != nil {
		t.Fatal(err)
	}
	pkg := put(debData)
	b := &bootenvBuilder{busybox: "/bin/busybox", zonecfg: "/bin/busybox", blobs: blobs, tmp: t.TempDir()}
	ctx := context.Background()
	img := registry.Image{Name: "web", Kind: registry.KindDisk, Files: map[string]registry.File{"rootfs": put(bootableRoot(t)), "kernel-package": pkg}}
	if err := b.Prepare(ctx, &img); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(&registry.DiskBoot{Kernel: "6.1.0-28-amd64", Loaders: []string{"bios", "uefi"}}, img.Disk); diff != "" {
		t.Errorf("disk boot (-want +got):\n%s", diff)
	}
	if !strings.Contains(img.Bootenv, "deploy tools sfdisk wipefs blkid blockdev mkfs.ext4 mkfs.vfat mdadm zstd") {
		t.Errorf("bootenv %q does not say it carries the deploy tools", img.Bootenv)
	}
	dir := unpackInitrd(t, blobs, img.Files["initrd"].SHA256)
	for _, tool := range bootenv.DeployTools {
		host, err := exec.LookPath(filepath.Join(tool.Dir, tool.Name))
		if err != nil {
			t.Fatalf("%s: %v", tool.Name, err)
		}
		files, err := bootenv.Program(host)
		if err != nil {
			t.Fatal(err)
		}
		for p, want := range files {
			if p == host {
				p = filepath.Join(tool.Dir, tool.Name)
			}
			got, err := os.ReadFile(filepath.Join(dir, p))
			if err != nil || !bytes.Equal(got, want) {
				t.Errorf("%s: %s is not this machine's (%v)", tool.Name, p, err)
			}
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "etc/mke2fs.conf")); err != nil {
		t.Errorf("mke2fs.conf: %v", err)
	}
	order, _ := os.ReadFile(filepath.Join(dir, "lib/modules/order"))
	loaded := strings.Fields(string(order))
	for _, m := range append(append([]string{}, bootenv.DeployModules...), "jbd2", "mbcache", "fat") {
		if _, err := os.Stat(filepath.Join(dir, "lib/modules", m+".ko")); err != nil || !strings.Contains(" "+strings.Join(loaded, " ")+" ", " "+m+" ") {
			t.Errorf("module %s is not loaded from the boot environment: %v", m, err)
		}
	}

	// An image made diskless (through the API, with what it had) loses
	// its disk boot.
	live := registry.Image{Name: "live", Kind: registry.KindDiskless, Files: map[string]registry.File{"rootfs": put(bootableRoot(t)), "kernel-package": pkg},
		Disk: img.Disk}
	if err := b.Prepare(ctx, &live); err != nil {
		t.Fatal(err)
	}
	ldir := unpackInitrd(t, blobs, live.Files["initrd"].SHA256)
	for _, p := range []string{"usr/sbin/sfdisk", "usr/sbin/mdadm", "lib/modules/ext4.ko", "lib/modules/raid1.ko"} {
		if _, err := os.Stat(filepath.Join(ldir, p)); err == nil {
			t.Errorf("a diskless image's boot environment has %s", p)
		}
	}
	if live.Disk != nil || strings.Contains(live.Bootenv, "deploy") {
		t.Errorf("a diskless image got disk boot %+v, bootenv %q", live.Disk, live.Bootenv)
	}

	for _, tt := range []struct {
		name  string
		files map[string]registry.File
		want  string
	}{
		{"no kernel", map[string]registry.File{"rootfs": put(bootableRoot(t, "boot/vmlinuz")), "kernel-package": pkg},
			"image bad: rootfs has no /boot/vmlinuz-*: a disk image boots its own kernel"},
		{"no grub-install", map[string]registry.File{"rootfs": put(bootableRoot(t, "usr/sbin/grub-install")), "kernel-package": pkg},
			"image bad: rootfs has no /usr/sbin/grub-install"},
		{"no kernel package", map[string]registry.File{"rootfs": put(bootableRoot(t))},
			"image bad: a disk image needs a kernel-package"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			bad := registry.Image{Name: "bad", Kind: registry.KindDisk, Files: tt.files}
			if err := b.Prepare(ctx, &bad); err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want %q", err, tt.want)
			}
		})
	}
}
