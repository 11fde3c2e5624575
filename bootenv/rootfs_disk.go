package bootenv

import (
	"archive/tar"
	"fmt"
	"slices"
	"strconv"
	"strings"
)

// Boot loaders a disk image's rootfs can install (DiskRoot.Check).
const (
	LoaderBIOS       = "bios"        // GRUB for BIOS (grub-pc-bin)
	LoaderUEFI       = "uefi"        // GRUB for UEFI (grub-efi-amd64-bin)
	LoaderUEFISecure = "uefi-secure" // shim and Debian's signed GRUB (shim-signed, grub-efi-amd64-signed)
)

// DiskRoot is what InspectRootfs finds of a root that boots from a disk:
// its kernels and initramfs images, and GRUB.
type DiskRoot struct {
	Kernels     []string // VERSION of each boot/vmlinuz-VERSION
	Initrds     []string // VERSION of each boot/initrd.img-VERSION
	GrubInstall bool     // usr/sbin/grub-install
	GrubBIOS    bool     // usr/lib/grub/i386-pc/
	GrubEFI     bool     // usr/lib/grub/x86_64-efi/
	GrubSigned  bool     // usr/lib/grub/x86_64-efi-signed/
	Shim        bool     // usr/lib/shim/shimx64.efi.signed
}

// note records a tar member that a disk root needs.
func (d *DiskRoot) note(name string, typ byte) {
	file := typ == tar.TypeReg || typ == tar.TypeLink
	switch {
	case file && strings.HasPrefix(name, "boot/vmlinuz-"):
		d.Kernels = append(d.Kernels, strings.TrimPrefix(name, "boot/vmlinuz-"))
	case file && strings.HasPrefix(name, "boot/initrd.img-"):
		d.Initrds = append(d.Initrds, strings.TrimPrefix(name, "boot/initrd.img-"))
	case file && name == "usr/sbin/grub-install":
		d.GrubInstall = true
	case file && name == "usr/lib/shim/shimx64.efi.signed":
		d.Shim = true
	case strings.HasPrefix(name, "usr/lib/grub/i386-pc/"):
		d.GrubBIOS = true
	case strings.HasPrefix(name, "usr/lib/grub/x86_64-efi/"):
		d.GrubEFI = true
	case strings.HasPrefix(name, "usr/lib/grub/x86_64-efi-signed/"):
		d.GrubSigned = true
	}
}

// Check says whether the root boots from a disk: it returns the newest
// kernel that has its initramfs and the boot loaders it can install, or
// an error naming what is missing and the Debian package that has it.
func (d DiskRoot) Check() (kernel string, loaders []string, err error) {
	if len(d.Kernels) == 0 {
		return "", nil, fmt.Errorf("rootfs has no /boot/vmlinuz-*: a disk image boots its own kernel (Debian package linux-image-amd64)")
	}
	for _, v := range d.Kernels {
		if slices.Contains(d.Initrds, v) && (kernel == "" || versionLess(kernel, v)) {
			kernel = v
		}
	}
	if kernel == "" {
		return "", nil, fmt.Errorf("rootfs has /boot/vmlinuz-%s but no /boot/initrd.img-%s: a disk image boots its own kernel with its initramfs (Debian package initramfs-tools)", d.Kernels[0], d.Kernels[0])
	}
	if !d.GrubInstall {
		return "", nil, fmt.Errorf("rootfs has no /usr/sbin/grub-install: a disk image installs its own boot loader (Debian package grub2-common)")
	}
	if d.GrubBIOS {
		loaders = append(loaders, LoaderBIOS)
	}
	if d.GrubEFI {
		loaders = append(loaders, LoaderUEFI)
	}
	if d.GrubSigned && d.Shim {
		loaders = append(loaders, LoaderUEFISecure)
	}
	if len(loaders) == 0 {
		return "", nil, fmt.Errorf("rootfs has no GRUB for BIOS (/usr/lib/grub/i386-pc/, Debian package grub-pc-bin) or UEFI (/usr/lib/grub/x86_64-efi/, grub-efi-amd64-bin)")
	}
	return kernel, loaders, nil
}

// versionLess compares kernel versions by their runs of digits as
// numbers: 6.1.0-9-amd64 before 6.1.0-28-amd64.
func versionLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := leadingDigits(a), leadingDigits(b)
		switch {
		case da != "" && db != "":
			x, _ := strconv.ParseUint(da, 10, 64)
			y, _ := strconv.ParseUint(db, 10, 64)
			if x != y {
				return x < y
			}
			a, b = a[len(da):], b[len(db):]
		case a[0] != b[0]:
			return a[0] < b[0]
		default:
			a, b = a[1:], b[1:]
		}
	}
	return len(a) < len(b)
}

func leadingDigits(s string) string {
	i := 0
	for i < len(s) && '0' <= s[i] && s[i] <= '9' {
		i++
	}
	return s[:i]
}
