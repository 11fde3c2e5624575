package registry

import (
	"fmt"
	"path"
	"regexp"
	"slices"
	"strings"

	"github.com/provision/provision/kickstart"
)

// Storage is the disk layout a profile's disk image is deployed with:
// GPT, an ESP, a BIOS boot partition, swap when SwapMiB is set, and an
// ext4 root, on one disk or, with RAID1, the root and the swap each on an
// mdadm RAID1 over two. Nil
// means the defaults: the first disk, no swap, the root on the rest.
type Storage struct {
	// Disks select the disks by the deployer's rules: "first" (the
	// default), "second", "smallest", "largest", a path under /dev/
	// (/dev/vda, /dev/disk/by-path/...) or "serial:SERIAL". One disk, or
	// two with RAID1 (default then: "first", "second").
	Disks   []string `json:"disks,omitempty" yaml:"disks,omitempty"`
	RAID1   bool     `json:"raid1,omitempty" yaml:"raid1,omitempty"`       // a software RAID1 root and swap (mdadm) over two disks
	SwapMiB int64    `json:"swap_mib,omitempty" yaml:"swap_mib,omitempty"` // 0: no swap partition
	RootMiB int64    `json:"root_mib,omitempty" yaml:"root_mib,omitempty"` // 0: the rest of the disk
}

// Bounds of a storage layout's sizes, in MiB.
const (
	MaxSwapMiB = 1 << 20 // 1 TiB
	MinRootMiB = 1 << 10 // 1 GiB: a Debian root with its kernel and GRUB
	MaxRootMiB = 1 << 30 // 1 PiB
	maxSerial  = 64
)

// Disk selectors that name no particular disk.
var diskSelectors = []string{"first", "second", "smallest", "largest"}

var (
	devPathChars = regexp.MustCompile(`^/dev/[A-Za-z0-9._:+@/=-]+$`)
	serialChars  = regexp.MustCompile(`^[!#%&()*+,./0-9:;<=>?@A-Z\[\]^_a-z{|}~-]+$`) // printable ASCII but space, quotes, \ and $
)

// Layout returns the layout a template sees: st with the default disks
// filled in (nil st is the default layout).
func (st *Storage) Layout() kickstart.Storage {
	if st == nil {
		st = &Storage{}
	}
	l := kickstart.Storage{Disks: slices.Clone(st.Disks), RAID1: st.RAID1, SwapMiB: st.SwapMiB, RootMiB: st.RootMiB}
	if len(l.Disks) == 0 {
		l.Disks = []string{"first"}
		if st.RAID1 {
			l.Disks = append(l.Disks, "second")
		}
	}
	return l
}

// checkStorage checks a profile's storage layout and keeps its own copy;
// an empty layout is no layout (the defaults).
func (s *Snapshot) checkStorage(p *Profile) error {
	if p.Storage == nil {
		return nil
	}
	if st := p.Storage; len(st.Disks) == 0 && !st.RAID1 && st.SwapMiB == 0 && st.RootMiB == 0 {
		p.Storage = nil
		return nil
	}
	st := *p.Storage
	st.Disks = slices.Clone(st.Disks)
	p.Storage = &st
	if img := s.images[p.Image]; img == nil || img.Kind != KindDisk {
		return invalidf("profile %s: a storage layout is for a disk image, and image %s is not one", p.Name, p.Image)
	}
	for _, d := range st.Disks {
		if err := checkDiskSelector(d); err != nil {
			return invalidf("profile %s: disk %q: %v", p.Name, d, err)
		}
	}
	switch {
	case st.RAID1 && len(st.Disks) != 0 && len(st.Disks) != 2:
		return invalidf("profile %s: a RAID1 root is over two disks, not %d", p.Name, len(st.Disks))
	case st.RAID1 && len(st.Disks) == 2 && st.Disks[0] == st.Disks[1]:
		return invalidf("profile %s: the two RAID1 disks are both %q", p.Name, st.Disks[0])
	case !st.RAID1 && len(st.Disks) > 1:
		return invalidf("profile %s: %d disks without RAID1: the root is on one disk", p.Name, len(st.Disks))
	case st.SwapMiB < 0 || st.SwapMiB > MaxSwapMiB:
		return invalidf("profile %s: swap %d MiB must be from 0 to %d MiB (1 TiB)", p.Name, st.SwapMiB, MaxSwapMiB)
	case st.RootMiB != 0 && (st.RootMiB < MinRootMiB || st.RootMiB > MaxRootMiB):
		return invalidf("profile %s: root %d MiB must be 0 (the rest of the disk) or from %d MiB to %d MiB", p.Name, st.RootMiB, MinRootMiB, MaxRootMiB)
	}
	return nil
}

// checkDiskSelector says what is wrong with a disk selector.
func checkDiskSelector(d string) error {
	switch {
	case slices.Contains(diskSelectors, d):
		return nil
	case strings.HasPrefix(d, "/dev/"):
		if len(d) > 255 || path.Clean(d) != d || !devPathChars.MatchString(d) {
			return fmt.Errorf("a disk path is a clean path under /dev/ of letters, digits and ._:+@=-")
		}
		return nil
	case strings.HasPrefix(d, "serial:"):
		serial := strings.TrimPrefix(d, "serial:")
		if len(serial) > maxSerial || !serialChars.MatchString(serial) {
			return fmt.Errorf("a serial is at most %d printable bytes without spaces, quotes, backslashes or $", maxSerial)
		}
		return nil
	}
	return fmt.Errorf("want first, second, smallest, largest, a path under /dev/ or serial:SERIAL")
}
