package inventory

import (
	"fmt"
	"slices"
	"strings"
)

// Diff lists what changed from old to new, one line each, in a stable
// order: the identity, CPUs and memory, then disks (by serial, else
// name), NICs (by MAC) and their switch ports, the BMC's LAN settings.
// Equal inventories give none.
func Diff(old, new Inventory) []string {
	var out []string
	field := func(what, a, b string) {
		if a != b {
			out = append(out, fmt.Sprintf("%s %s -> %s", what, orNone(a), orNone(b)))
		}
	}
	field("dmi vendor", old.DMI.Vendor, new.DMI.Vendor)
	field("dmi product", old.DMI.Product, new.DMI.Product)
	field("dmi serial", old.DMI.Serial, new.DMI.Serial)
	field("dmi uuid", old.DMI.UUID, new.DMI.UUID)
	field("bios version", old.DMI.BIOSVersion, new.DMI.BIOSVersion)
	field("boot mode", old.BootMode, new.BootMode)
	field("cpu", cpuText(old.CPU), cpuText(new.CPU))
	if old.MemoryMiB != new.MemoryMiB {
		out = append(out, fmt.Sprintf("memory %d MiB -> %d MiB", old.MemoryMiB, new.MemoryMiB))
	}
	out = append(out, diffDisks(old.Disks, new.Disks)...)
	out = append(out, diffNICs(old.NICs, new.NICs)...)
	field("bmc", bmcText(old.BMC), bmcText(new.BMC))
	return out
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func cpuText(c CPU) string {
	if c == (CPU{}) {
		return ""
	}
	return fmt.Sprintf("%s, %d sockets, %d cores, %d threads", c.Model, c.Sockets, c.Cores, c.Threads)
}

func bmcText(b *BMCLAN) string {
	if b == nil {
		return ""
	}
	return fmt.Sprintf("ip %s mac %s gateway %s", b.IP, b.MAC, b.Gateway)
}

func diskKey(d Disk) string {
	if d.Serial != "" {
		return "serial " + d.Serial
	}
	return "name " + d.Name
}

func diskText(d Disk) string {
	s := fmt.Sprintf("%s, %s", orNone(d.Serial), size(d.SizeBytes))
	if d.Model != "" {
		s = d.Model + ", serial " + s
	} else {
		s = "serial " + s
	}
	return s
}

func size(b int64) string {
	const gib = 1 << 30
	if b >= gib && b%gib == 0 || b >= 10*gib {
		return fmt.Sprintf("%d GiB", b/gib)
	}
	return fmt.Sprintf("%d MiB", b>>20)
}

func diffDisks(old, new []Disk) []string {
	var out []string
	was := map[string]Disk{}
	for _, d := range old {
		was[diskKey(d)] = d
	}
	for _, d := range new {
		o, ok := was[diskKey(d)]
		delete(was, diskKey(d))
		switch {
		case !ok:
			out = append(out, fmt.Sprintf("disk %s added: %s", d.Name, diskText(d)))
		case o.Name != d.Name:
			out = append(out, fmt.Sprintf("disk %s (serial %s) is now %s", o.Name, orNone(d.Serial), d.Name))
		}
		if ok && o.SizeBytes != d.SizeBytes {
			out = append(out, fmt.Sprintf("disk %s size %s -> %s", d.Name, size(o.SizeBytes), size(d.SizeBytes)))
		}
	}
	for _, d := range old {
		if _, gone := was[diskKey(d)]; gone {
			out = append(out, fmt.Sprintf("disk %s removed: %s", d.Name, diskText(d)))
		}
	}
	return out
}

func lldpPort(l *LLDP) string {
	if l == nil {
		return ""
	}
	return strings.TrimSpace(l.SwitchName + " " + l.PortID)
}

func diffNICs(old, new []NIC) []string {
	var out []string
	was := map[string]NIC{}
	for _, n := range old {
		was[n.MAC] = n
	}
	for _, n := range new {
		o, ok := was[n.MAC]
		delete(was, n.MAC)
		if !ok {
			out = append(out, fmt.Sprintf("nic %s added (%s)", n.MAC, n.Name))
			continue
		}
		a, b := lldpPort(o.LLDP), lldpPort(n.LLDP)
		if o.LLDP != nil && n.LLDP != nil && o.LLDP.SwitchName == n.LLDP.SwitchName {
			a, b = o.LLDP.PortID, n.LLDP.PortID // the same switch: the port says it
		}
		if a != b {
			out = append(out, fmt.Sprintf("nic %s lldp port %s -> %s", n.MAC, orNone(a), orNone(b)))
		}
		if o.Link != n.Link || o.SpeedMbs != n.SpeedMbs {
			out = append(out, fmt.Sprintf("nic %s link %s -> %s", n.MAC, linkText(o), linkText(n)))
		}
	}
	gone := make([]string, 0, len(was))
	for mac := range was {
		gone = append(gone, mac)
	}
	slices.Sort(gone)
	for _, mac := range gone {
		out = append(out, fmt.Sprintf("nic %s removed (%s)", mac, was[mac].Name))
	}
	return out
}

func linkText(n NIC) string {
	if !n.Link {
		return "down"
	}
	return fmt.Sprintf("up %d Mb/s", n.SpeedMbs)
}
