package bootenv

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/internal/testenv"
)

// diskRootTar is a root's tar with the members named, "dir/" ones as
// directories.
func diskRootTar(t *testing.T, names ...string) []byte {
	t.Helper()
	m := map[string]string{"sbin/init": "#!/bin/sh\n"}
	for _, n := range names {
		m["./"+n] = n
	}
	return tarOf(t, m)
}

func TestInspectRootfsDisk(t *testing.T) {
	bootable := []string{"boot/vmlinuz-6.1.0-9-amd64", "boot/initrd.img-6.1.0-9-amd64",
		"boot/vmlinuz-6.1.0-28-amd64", "boot/initrd.img-6.1.0-28-amd64", "boot/vmlinuz-6.1.0-30-amd64",
		"usr/sbin/grub-install", "usr/lib/grub/i386-pc/boot.img", "usr/lib/grub/x86_64-efi/normal.mod"}
	signed := append(append([]string{}, bootable...), "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed", "usr/lib/shim/shimx64.efi.signed")
	without := func(drop ...string) []string {
		var out []string
		for _, n := range bootable {
			keep := true
			for _, d := range drop {
				keep = keep && !strings.HasPrefix(n, d)
			}
			if keep {
				out = append(out, n)
			}
		}
		return out
	}
	for _, tt := range []struct {
		name    string
		members []string
		kernel  string
		loaders []string
		err     string
	}{
		// 6.1.0-30 has no initramfs: the newest with one is 6.1.0-28, not 6.1.0-9.
		{"bios and uefi", bootable, "6.1.0-28-amd64", []string{LoaderBIOS, LoaderUEFI}, ""},
		{"secure boot", signed, "6.1.0-28-amd64", []string{LoaderBIOS, LoaderUEFI, LoaderUEFISecure}, ""},
		{"signed grub without shim", append(append([]string{}, bootable...), "usr/lib/grub/x86_64-efi-signed/grubx64.efi.signed"),
			"6.1.0-28-amd64", []string{LoaderBIOS, LoaderUEFI}, ""},
		{"uefi only", without("usr/lib/grub/i386-pc"), "6.1.0-28-amd64", []string{LoaderUEFI}, ""},
		{"no kernel", without("boot/vmlinuz"), "", nil, "rootfs has no /boot/vmlinuz-*: a disk image boots its own kernel"},
		{"no initramfs", without("boot/initrd"), "", nil, "but no /boot/initrd.img-"},
		{"no grub-install", without("usr/sbin/grub-install"), "", nil, "rootfs has no /usr/sbin/grub-install"},
		{"no grub", without("usr/lib/grub"), "", nil, "rootfs has no GRUB for BIOS"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			info, err := InspectRootfs(bytes.NewReader(diskRootTar(t, tt.members...)))
			if err != nil {
				t.Fatal(err)
			}
			kernel, loaders, err := info.Disk.Check()
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("got %v, want %q", err, tt.err)
				}
				return
			}
			if err != nil || kernel != tt.kernel || !cmp.Equal(loaders, tt.loaders) {
				t.Errorf("got %s %v %v, want %s %v", kernel, loaders, err, tt.kernel, tt.loaders)
			}
		})
	}
}

func TestVersionLess(t *testing.T) {
	for _, tt := range []struct {
		a, b string
		want bool
	}{
		{"6.1.0-9-amd64", "6.1.0-28-amd64", true},
		{"6.1.0-28-amd64", "6.1.0-9-amd64", false},
		{"6.1.0-28-amd64", "6.12.0-1-amd64", true},
		{"6.1.0-28-amd64", "6.1.0-28-amd64", false},
		{"6.1.0-28-amd64", "6.1.0-28-cloud-amd64", true},
	} {
		if got := versionLess(tt.a, tt.b); got != tt.want {
			t.Errorf("versionLess(%s, %s) = %v", tt.a, tt.b, got)
		}
	}
}

// FromTree takes the modules a deploy needs: a module of the package with
// its dependencies, a built-in one from modules.builtin, and refuses one
// that is neither, naming it.
func TestFromTreeNeeds(t *testing.T) {
	tree := t.TempDir()
	dir := filepath.Join(tree, "lib/modules/6.1.0-9-amd64")
	mods := filepath.Join(dir, "kernel")
	os.MkdirAll(mods, 0o755)
	os.MkdirAll(filepath.Join(tree, "boot"), 0o755)
	os.WriteFile(filepath.Join(tree, "boot/vmlinuz-6.1.0-9-amd64"), []byte("kernel"), 0o644)
	os.WriteFile(filepath.Join(mods, "e1000.ko"), testenv.FakeModule("depends="), 0o644)
	os.WriteFile(filepath.Join(mods, "ext4.ko"), testenv.FakeModule("depends=jbd2"), 0o644)
	os.WriteFile(filepath.Join(mods, "jbd2.ko"), testenv.FakeModule("depends="), 0o644)
	os.WriteFile(filepath.Join(dir, "modules.builtin"), []byte("kernel/fs/efivarfs/efivarfs.ko\n"), 0o644)
	k, err := FromTree(tree, "ext4", "efivarfs")
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, m := range k.Modules {
		names = append(names, m.Name)
	}
	if diff := cmp.Diff([]string{"e1000", "jbd2", "ext4"}, names); diff != "" {
		t.Errorf("modules (-want +got):\n%s", diff)
	}
	if _, err := FromTree(tree, "ext4", "raid1"); err == nil || !strings.Contains(err.Error(), "module raid1 is neither in the package nor built in") {
		t.Errorf("a missing module gave %v", err)
	}
}

// DeployExtra brings each deploy tool from this machine, where the
// deployer looks for it, with its libraries, and mke2fs's configuration.
func TestDeployExtra(t *testing.T) {
	testenv.NeedCommand(t, "ldd")
	for _, tool := range DeployTools {
		if findTool(tool.Name) == "" {
			testenv.Missing(t, tool.Name+" is not installed (Debian package "+tool.Package+")")
		}
	}
	extra, err := DeployExtra()
	if err != nil {
		t.Fatal(err)
	}
	for _, tool := range DeployTools {
		want, _ := os.ReadFile(findTool(tool.Name))
		if got, ok := extra[filepath.Join(tool.Dir, tool.Name)]; !ok || !bytes.Equal(got, want) {
			t.Errorf("%s/%s: %d bytes, want this machine's %d", tool.Dir, tool.Name, len(got), len(want))
		}
	}
	var libc, libfdisk bool
	for p := range extra {
		libc = libc || strings.Contains(p, "/libc.so")
		libfdisk = libfdisk || strings.Contains(p, "/libfdisk.so")
	}
	if !libc || !libfdisk {
		t.Errorf("the libraries are missing: libc %v, sfdisk's libfdisk %v", libc, libfdisk)
	}
	if _, err := os.Stat(mke2fsConf); err == nil && extra[mke2fsConf] == nil {
		t.Errorf("%s is not carried", mke2fsConf)
	}
	t.Setenv("PATH", "/usr/bin") // the tools in /usr/sbin are found all the same
	if _, err := DeployExtra(); err != nil {
		t.Errorf("with PATH=/usr/bin: %v", err)
	}
}

func TestDeployExtraNamesThePackage(t *testing.T) {
	if _, err := deployExtra([]DeployTool{{"no-such-tool", "/usr/sbin", "no-such-package"}}); err == nil || !strings.Contains(err.Error(), "install Debian package no-such-package") {
		t.Errorf("a missing tool gave %v", err)
	}
}
