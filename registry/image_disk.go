package registry

import (
	"slices"
	"strings"
)

// Boot loaders a disk image can install (DiskBoot.Loaders).
const (
	BootBIOS       = "bios"        // GRUB for BIOS: usr/lib/grub/i386-pc
	BootUEFI       = "uefi"        // GRUB for UEFI: usr/lib/grub/x86_64-efi
	BootUEFISecure = "uefi-secure" // shim and Debian's signed GRUB
)

// DiskBoot is how a disk image's rootfs boots from a disk, as the
// appliance found it when the image was added: its kernel and the boot
// loaders grub-install can put on the disk.
type DiskBoot struct {
	// Kernel is the version of the newest boot/vmlinuz-VERSION that has
	// its boot/initrd.img-VERSION.
	Kernel  string   `json:"kernel" yaml:"kernel"`
	Loaders []string `json:"loaders" yaml:"loaders"` // BootBIOS, BootUEFI, BootUEFISecure
}

// checkDiskBoot checks an image's DiskBoot: a disk image's only.
func checkDiskBoot(img *Image) error {
	if img.Disk == nil {
		return nil
	}
	if img.Kind != KindDisk {
		return invalidf("image %s: a %s image has no disk boot (its kernel and boot loaders): that is a disk image's", img.Name, img.Kind)
	}
	for _, l := range img.Disk.Loaders {
		if l != BootBIOS && l != BootUEFI && l != BootUEFISecure {
			return invalidf("image %s: boot loader %q must be %s, %s or %s", img.Name, l, BootBIOS, BootUEFI, BootUEFISecure)
		}
	}
	if img.Disk.Kernel == "" || strings.ContainsAny(img.Disk.Kernel, "/ \t\n") {
		return invalidf("image %s: disk boot kernel %q is not a kernel version", img.Name, img.Disk.Kernel)
	}
	d := *img.Disk
	d.Loaders = slices.Clone(d.Loaders)
	img.Disk = &d
	return nil
}
