package collect

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/provision/provision/inventory"
)

// Options says where and how long to look.
type Options struct {
	// Root is where /sys, /proc and /dev are ("" is /): a test may point
	// it at a copy.
	Root string
	// MAC is the interface the machine booted from (provision.mac=).
	MAC string
	// LLDPWait is how long to listen for LLDP frames on each NIC
	// (DefaultLLDPWait when 0; negative: do not listen).
	LLDPWait time.Duration
	// IPMIDevice is the in-band IPMI device (DefaultIPMIDevice when "";
	// "-": do not ask a BMC).
	IPMIDevice string
	// Agent is the agent's version, recorded in the inventory.
	Agent string
}

// Defaults of Options.
const (
	DefaultLLDPWait   = 40 * time.Second
	DefaultIPMIDevice = "/dev/ipmi0"
)

// Collect gathers the inventory of the machine it runs on. What it
// cannot gather goes into the inventory's Errors, one line each.
func Collect(ctx context.Context, o Options) inventory.Inventory {
	c := &collector{o: o, root: o.Root}
	if c.root == "" {
		c.root = "/"
	}
	inv := inventory.Inventory{MAC: strings.ToLower(o.MAC), Agent: o.Agent}
	inv.BootMode = c.bootMode()
	inv.DMI = c.dmi()
	inv.CPU = c.cpu()
	inv.MemoryMiB = c.memory()
	inv.Disks = c.disks()
	inv.NICs = c.nics()
	inv.PCI = c.pci()
	c.lldp(ctx, inv.NICs)
	inv.BMC = c.bmc(ctx)
	inv.Errors = c.errs
	return inv.Clean()
}

// collector holds what Collect has found wrong so far.
type collector struct {
	o    Options
	root string
	errs []string
}

func (c *collector) errorf(format string, args ...any) {
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

// path is name (an absolute path) under the root.
func (c *collector) path(name string) string { return filepath.Join(c.root, name) }

// bootMode is uefi when the kernel was started by UEFI firmware.
func (c *collector) bootMode() string {
	if _, err := os.Stat(c.path("/sys/firmware/efi")); err == nil {
		return inventory.BootUEFI
	}
	return inventory.BootBIOS
}

// readSys is the trimmed content of a sysfs file, "" when it cannot be
// read.
func readSys(path string) string {
	b, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	return strings.TrimSpace(string(b))
}
