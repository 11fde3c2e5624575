package collect

import (
	"log/slog"
	"path/filepath"
	"strings"

	"github.com/jaypipes/ghw"
	"github.com/jaypipes/ghw/pkg/block"
	"github.com/jaypipes/ghw/pkg/cpu"
	"github.com/jaypipes/ghw/pkg/memory"

	"github.com/provision/provision/inventory"
)

// ghwOptions point ghw at the root, without its warnings on the console
// and without the external tools (ethtool, lsblk) the initramfs lacks.
func (c *collector) ghwOptions() []any {
	return []any{ghw.WithChroot(c.root), ghw.WithLogger(slog.New(slog.DiscardHandler)), ghw.WithDisableTools()}
}

func (c *collector) cpu() inventory.CPU {
	info, err := cpu.New(c.ghwOptions()...)
	if err != nil {
		c.errorf("cpu: %v", err)
		return inventory.CPU{}
	}
	x := inventory.CPU{Sockets: len(info.Processors), Cores: int(info.TotalCores), Threads: int(info.TotalHardwareThreads)}
	if len(info.Processors) > 0 {
		x.Model = info.Processors[0].Model
	}
	return x
}

// memory is the installed memory in MiB (ghw's total physical bytes:
// the memory blocks of /sys/devices/system/memory, else what the kernel
// logged at boot, else the usable memory).
func (c *collector) memory() int64 {
	info, err := memory.New(c.ghwOptions()...)
	if err != nil {
		c.errorf("memory: %v", err)
		return 0
	}
	b := info.TotalPhysicalBytes
	if b <= 0 {
		b = info.TotalUsableBytes
	}
	return b >> 20
}

// disks are the block devices that are hard disks or SSDs (not
// partitions, loops, RAM disks, optical or floppy drives, device mapper
// or md arrays).
func (c *collector) disks() []inventory.Disk {
	info, err := block.New(c.ghwOptions()...)
	if err != nil {
		c.errorf("disks: %v", err)
		return nil
	}
	var ds []inventory.Disk
	for _, d := range info.Disks {
		if d.DriveType != block.DriveTypeHDD && d.DriveType != block.DriveTypeSSD {
			continue
		}
		sys := c.path(filepath.Join("/sys/block", d.Name))
		ds = append(ds, inventory.Disk{
			Name:       d.Name,
			Path:       "/dev/" + d.Name,
			Model:      first(known(d.Model), readSys(filepath.Join(sys, "device/model"))),
			Serial:     first(known(d.SerialNumber), diskSerial(sys)),
			WWN:        first(known(d.WWN), readSys(filepath.Join(sys, "device/wwid")), readSys(filepath.Join(sys, "wwid"))),
			SizeBytes:  int64(d.SizeBytes),
			Rotational: d.DriveType == block.DriveTypeHDD,
			Removable:  d.IsRemovable,
		})
	}
	return ds
}

// diskSerial is a disk's serial as sysfs has it without udev: virtio-blk
// (/sys/block/vda/serial), NVMe and some SCSI (device/serial), else the
// SCSI unit serial number VPD page (0x80).
func diskSerial(sys string) string {
	if s := first(readSys(filepath.Join(sys, "serial")), readSys(filepath.Join(sys, "device/serial"))); s != "" {
		return s
	}
	return vpd80(readRaw(filepath.Join(sys, "device/vpd_pg80")))
}

// vpd80 is the product serial number of a Unit Serial Number VPD page
// (SPC-4 7.8.19): 4 header bytes, then the serial, its length in byte 3.
func vpd80(p []byte) string {
	if len(p) < 4 || p[1] != 0x80 {
		return ""
	}
	n := min(int(p[3]), len(p)-4)
	return strings.TrimSpace(string(p[4 : 4+n]))
}

// known is s, or "" for ghw's "unknown".
func known(s string) string {
	if s == "unknown" {
		return ""
	}
	return strings.TrimSpace(s)
}

// first is the first of ss that is not "".
func first(ss ...string) string {
	for _, s := range ss {
		if s != "" {
			return s
		}
	}
	return ""
}
