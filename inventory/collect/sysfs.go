package collect

import (
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"

	"github.com/provision/provision/inventory"
)

// dmi reads the SMBIOS identity the kernel exposes. (ghw's product and
// bios packages read the same files and say "unknown" for what they
// cannot read; the serial and UUID need root.)
func (c *collector) dmi() inventory.DMI {
	dir := c.path("/sys/class/dmi/id")
	if _, err := os.Stat(dir); err != nil {
		c.errorf("dmi: %v", err)
		return inventory.DMI{}
	}
	r := func(name string) string { return readSys(filepath.Join(dir, name)) }
	return inventory.DMI{
		Vendor:      r("sys_vendor"),
		Product:     r("product_name"),
		Serial:      r("product_serial"),
		UUID:        strings.ToLower(r("product_uuid")),
		BIOSVendor:  r("bios_vendor"),
		BIOSVersion: r("bios_version"),
		BIOSDate:    r("bios_date"),
	}
}

// nics are the physical network interfaces: those of /sys/class/net
// with a device behind them (not lo, bridges, veths or bonds), by name.
func (c *collector) nics() []inventory.NIC {
	dir := c.path("/sys/class/net")
	ents, err := os.ReadDir(dir)
	if err != nil {
		c.errorf("nics: %v", err)
		return nil
	}
	var ns []inventory.NIC
	for _, e := range ents {
		sys := filepath.Join(dir, e.Name())
		if _, err := os.Stat(filepath.Join(sys, "device")); err != nil {
			continue
		}
		n := inventory.NIC{
			Name:   e.Name(),
			MAC:    strings.ToLower(readSys(filepath.Join(sys, "address"))),
			Driver: linkBase(filepath.Join(sys, "device/driver")),
			Link:   readSys(filepath.Join(sys, "carrier")) == "1",
		}
		if s, err := strconv.Atoi(readSys(filepath.Join(sys, "speed"))); err == nil && s > 0 {
			n.SpeedMbs = s
		}
		ns = append(ns, n)
	}
	sort.Slice(ns, func(i, j int) bool { return ns[i].Name < ns[j].Name })
	return ns
}

// pci lists the PCI functions with their hex ids, as sysfs has them.
func (c *collector) pci() []inventory.PCI {
	dir := c.path("/sys/bus/pci/devices")
	ents, err := os.ReadDir(dir)
	if err != nil {
		if !os.IsNotExist(err) {
			c.errorf("pci: %v", err)
		}
		return nil
	}
	var ps []inventory.PCI
	for _, e := range ents {
		sys := filepath.Join(dir, e.Name())
		ps = append(ps, inventory.PCI{
			Address: e.Name(),
			Class:   readSys(filepath.Join(sys, "class")),
			Vendor:  readSys(filepath.Join(sys, "vendor")),
			Device:  readSys(filepath.Join(sys, "device")),
			Driver:  linkBase(filepath.Join(sys, "driver")),
		})
	}
	return ps
}

// linkBase is the last element of the symbolic link's target ("" when
// there is none): a device's driver.
func linkBase(path string) string {
	t, err := os.Readlink(path)
	if err != nil {
		return ""
	}
	return filepath.Base(t)
}

// readRaw is a sysfs file's bytes, nil when it cannot be read.
func readRaw(path string) []byte {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil
	}
	return b
}
