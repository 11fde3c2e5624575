package registry

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/provision/provision/kickstart"
)

// diskImage is a disk image as the appliance stores it after Prepare.
func diskImage(name string) Image {
	return Image{Name: name, Kind: KindDisk, Files: map[string]File{
		"kernel": {SHA256: sha}, "initrd": {SHA256: sha}, "rootfs": {SHA256: sha}, "kernel-package": {SHA256: sha}},
		Disk: &DiskBoot{Kernel: "6.1.0-28-amd64", Loaders: []string{BootBIOS, BootUEFI}}}
}

// A disk image has a rootfs and a kernel package (and the kernel and
// initrd the appliance builds from it); its disk boot, only its own,
// names known boot loaders.
func TestDiskImageFiles(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	if _, err := r.AddImage(ctx, diskImage("bookworm")); err != nil {
		t.Fatalf("a disk image: %v", err)
	}
	noPkg := diskImage("nopkg")
	delete(noPkg.Files, "kernel-package")
	noRoot := diskImage("noroot")
	delete(noRoot.Files, "rootfs")
	badLoader := diskImage("badloader")
	badLoader.Disk.Loaders = []string{"coreboot"}
	noKernel := diskImage("nokernel")
	noKernel.Disk.Kernel = ""
	disklessDisk := Image{Name: "live", Kind: KindDiskless, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}, "rootfs": {SHA256: sha}},
		Disk: &DiskBoot{Kernel: "6.1.0-28-amd64", Loaders: []string{BootBIOS}}}
	for _, tt := range []struct {
		img  Image
		want string
	}{
		{noPkg, "image nopkg: a disk image needs a kernel-package file"},
		{noRoot, "image noroot: a disk image needs a rootfs file"},
		{badLoader, `image badloader: boot loader "coreboot" must be bios, uefi or uefi-secure`},
		{noKernel, `image nokernel: disk boot kernel "" is not a kernel version`},
		{disklessDisk, "image live: a diskless image has no disk boot"},
		{Image{Name: "odd", Kind: "floppy"}, `image odd: kind "floppy" must be install, diskless or disk`},
	} {
		t.Run(tt.img.Name, func(t *testing.T) {
			_, err := r.AddImage(ctx, tt.img)
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalid with %q", err, tt.want)
			}
		})
	}
}

func TestStorageRules(t *testing.T) {
	r, _ := openTest(t)
	ctx := context.Background()
	must(t, func() error { _, err := r.AddImage(ctx, diskImage("bookworm")); return err })
	long := strings.Repeat("x", 65)
	for _, tt := range []struct {
		name string
		st   Storage
		want string // "" accepted
	}{
		{"defaults", Storage{}, ""},
		{"one path", Storage{Disks: []string{"/dev/disk/by-path/pci-0000:00:04.0-scsi-0:0:0:0"}}, ""},
		{"serial", Storage{Disks: []string{"serial:WD-WCC4N0123456"}, SwapMiB: 2048, RootMiB: 20480}, ""},
		{"raid default disks", Storage{RAID1: true}, ""},
		{"raid two", Storage{RAID1: true, Disks: []string{"smallest", "largest"}}, ""},
		{"unknown word", Storage{Disks: []string{"biggest"}}, `profile p: disk "biggest": want first, second, smallest, largest`},
		{"relative path", Storage{Disks: []string{"vda"}}, `profile p: disk "vda": want first`},
		{"climbs out", Storage{Disks: []string{"/dev/../etc/passwd"}}, `profile p: disk "/dev/../etc/passwd": a disk path is a clean path under /dev/`},
		{"shell in path", Storage{Disks: []string{"/dev/sda;reboot"}}, `profile p: disk "/dev/sda;reboot": a disk path`},
		{"bare /dev/", Storage{Disks: []string{"/dev/"}}, `profile p: disk "/dev/": a disk path`},
		{"serial with space", Storage{Disks: []string{"serial:WD 1"}}, `profile p: disk "serial:WD 1": a serial is at most 64 printable bytes`},
		{"serial with quote", Storage{Disks: []string{`serial:a"b`}}, "a serial is at most 64"},
		{"serial with dollar", Storage{Disks: []string{"serial:$(reboot)"}}, "a serial is at most 64"},
		{"serial too long", Storage{Disks: []string{"serial:" + long}}, "a serial is at most 64"},
		{"empty serial", Storage{Disks: []string{"serial:"}}, "a serial is at most 64"},
		{"two without raid", Storage{Disks: []string{"first", "second"}}, "profile p: 2 disks without RAID1: the root is on one disk"},
		{"raid one disk", Storage{RAID1: true, Disks: []string{"first"}}, "profile p: a RAID1 root is over two disks, not 1"},
		{"raid three", Storage{RAID1: true, Disks: []string{"first", "second", "largest"}}, "not 3"},
		{"raid same disk", Storage{RAID1: true, Disks: []string{"/dev/vda", "/dev/vda"}}, `profile p: the two RAID1 disks are both "/dev/vda"`},
		{"negative swap", Storage{SwapMiB: -1}, "profile p: swap -1 MiB must be from 0 to 1048576 MiB"},
		{"huge swap", Storage{SwapMiB: MaxSwapMiB + 1}, "swap 1048577 MiB"},
		{"tiny root", Storage{RootMiB: 512}, "profile p: root 512 MiB must be 0 (the rest of the disk) or from 1024 MiB"},
		{"negative root", Storage{RootMiB: -5}, "root -5 MiB"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			st := tt.st
			_, err := r.AddProfile(ctx, Profile{Name: "p", Image: "bookworm", Storage: &st})
			if tt.want == "" {
				if err != nil {
					t.Fatal(err)
				}
				must(t, func() error { return r.RemoveProfile(ctx, "p") })
				return
			}
			if !errors.Is(err, ErrInvalid) || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("got %v, want ErrInvalid with %q", err, tt.want)
			}
		})
	}
}

// A storage layout is a disk image's: refused on a profile of another
// image; an image cannot stop being a disk image under a profile with one
// (its deploy template refuses it first). An empty layout is no layout.
func TestStorageNeedsADiskImage(t *testing.T) {
	r, path := openTest(t)
	ctx := context.Background()
	must(t, func() error { _, err := r.AddImage(ctx, diskImage("bookworm")); return err })
	_, err := r.AddProfile(ctx, Profile{Name: "p", Image: "centos", Storage: &Storage{SwapMiB: 1024}})
	if want := "profile p: a storage layout is for a disk image, and image centos is not one"; err == nil || !strings.Contains(err.Error(), want) {
		t.Errorf("a layout on an install image's profile: %v", err)
	}
	if _, err := r.AddProfile(ctx, Profile{Name: "plain", Image: "centos", Storage: &Storage{}}); err != nil {
		t.Errorf("an empty layout on an install image's profile: %v", err)
	}
	st := &Storage{RAID1: true, SwapMiB: 1024}
	must(t, func() error {
		_, err := r.AddProfile(ctx, Profile{Name: "deploy", Image: "bookworm", Storage: st})
		return err
	})
	st.SwapMiB = 7 // the caller's copy is not the registry's
	asInstall := Image{Name: "bookworm", Kind: KindInstall, Files: map[string]File{"kernel": {SHA256: sha}, "initrd": {SHA256: sha}}}
	if _, err = r.EditImage(ctx, "bookworm", asInstall); !errors.Is(err, ErrInvalid) {
		t.Errorf("a disk image made an install image under a layout: %v", err)
	}
	back := reopen(t, path).Snapshot()
	p, _ := back.Profile("deploy")
	plain, _ := back.Profile("plain")
	if diff := cmp.Diff(&Storage{RAID1: true, SwapMiB: 1024}, p.Storage); diff != "" || plain.Storage != nil {
		t.Errorf("stored layout (-want +got):\n%s\nempty layout stored as %+v", diff, plain.Storage)
	}
	img, _ := back.Image("bookworm")
	if diff := cmp.Diff(diskImage("bookworm").Disk, img.Disk); diff != "" {
		t.Errorf("stored disk boot (-want +got):\n%s", diff)
	}
	// An export carries both, and imports them back unchanged.
	doc, err := back.Export(false)
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"storage:", "raid1: true", "swap_mib: 1024", "loaders:", "- uefi"} {
		if !strings.Contains(string(doc), want) {
			t.Errorf("the export lacks %q:\n%s", want, doc)
		}
	}
	if rep, err := r.Import(ctx, doc, false); err != nil {
		t.Errorf("import of the export: %v (%+v)", err, rep)
	}
}

// Templates see the layout with its default disks filled in.
func TestStorageLayout(t *testing.T) {
	for _, tt := range []struct {
		name string
		st   *Storage
		want kickstart.Storage
	}{
		{"none", nil, kickstart.Storage{Disks: []string{"first"}}},
		{"raid", &Storage{RAID1: true}, kickstart.Storage{Disks: []string{"first", "second"}, RAID1: true}},
		{"given", &Storage{Disks: []string{"serial:X"}, SwapMiB: 512, RootMiB: 4096},
			kickstart.Storage{Disks: []string{"serial:X"}, SwapMiB: 512, RootMiB: 4096}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, tt.st.Layout()); diff != "" {
				t.Errorf("layout (-want +got):\n%s", diff)
			}
		})
	}
	snap := newSnapshot("internal")
	snap.profiles["deploy"] = &Profile{Name: "deploy", Image: "bookworm", Storage: &Storage{RAID1: true, SwapMiB: 2048}}
	sys := &System{Name: "web01", MACs: []string{"52:54:00:00:00:01"}, IP: "10.0.0.21", Profile: "deploy"}
	got := snap.TemplateData(sys, kickstart.URLs{}).Profile.Storage
	if diff := cmp.Diff(kickstart.Storage{Disks: []string{"first", "second"}, RAID1: true, SwapMiB: 2048}, got); diff != "" {
		t.Errorf("template data's layout (-want +got):\n%s", diff)
	}
}
