package inventory

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/provision/provision/internal/textsafe"
)

// Inventory is one machine's hardware, as its agent found it.
type Inventory struct {
	// MAC is the interface the machine booted from (its agent's
	// provision.mac=): the key of a discovered machine.
	MAC       string  `json:"mac"`
	BootMode  string  `json:"boot_mode"` // BootBIOS or BootUEFI
	DMI       DMI     `json:"dmi"`
	CPU       CPU     `json:"cpu"`
	MemoryMiB int64   `json:"memory_mib"`
	Disks     []Disk  `json:"disks,omitempty"`
	NICs      []NIC   `json:"nics,omitempty"`
	BMC       *BMCLAN `json:"bmc,omitempty"` // nil: no BMC answered in-band
	PCI       []PCI   `json:"pci,omitempty"`
	// Agent is the agent's version; Errors are what it could not gather
	// (one line each: "lldp: no frame on eth1 in 40 s").
	Agent  string   `json:"agent,omitempty"`
	Errors []string `json:"errors,omitempty"`
}

// Boot modes.
const (
	BootBIOS = "bios"
	BootUEFI = "uefi"
)

// DMI is the machine's SMBIOS identity (/sys/class/dmi/id).
type DMI struct {
	Vendor      string `json:"vendor,omitempty"`
	Product     string `json:"product,omitempty"`
	Serial      string `json:"serial,omitempty"`
	UUID        string `json:"uuid,omitempty"`
	BIOSVendor  string `json:"bios_vendor,omitempty"`
	BIOSVersion string `json:"bios_version,omitempty"`
	BIOSDate    string `json:"bios_date,omitempty"`
}

// CPU is the machine's processors.
type CPU struct {
	Model   string `json:"model,omitempty"`
	Sockets int    `json:"sockets"`
	Cores   int    `json:"cores"`   // physical cores, all sockets
	Threads int    `json:"threads"` // hardware threads, all sockets
}

// Disk is one block device that is a disk (not a partition, a loop or a
// RAM disk).
type Disk struct {
	Name       string `json:"name"` // vda, sda, nvme0n1
	Path       string `json:"path"` // /dev/NAME
	Model      string `json:"model,omitempty"`
	Serial     string `json:"serial,omitempty"`
	WWN        string `json:"wwn,omitempty"`
	SizeBytes  int64  `json:"size_bytes"`
	Rotational bool   `json:"rotational"`
	Removable  bool   `json:"removable"`
}

// NIC is one physical network interface.
type NIC struct {
	Name     string `json:"name"` // as the boot environment's kernel named it
	MAC      string `json:"mac"`
	Driver   string `json:"driver,omitempty"`
	SpeedMbs int    `json:"speed_mbs,omitempty"` // 0: unknown or no link
	Link     bool   `json:"link"`
	LLDP     *LLDP  `json:"lldp,omitempty"` // nil: no LLDP frame came
}

// LLDP is the switch port at the other end of a NIC, from its LLDP
// frames (IEEE 802.1AB).
type LLDP struct {
	ChassisID       string `json:"chassis_id,omitempty"`
	SwitchName      string `json:"switch,omitempty"` // system name TLV
	PortID          string `json:"port,omitempty"`
	PortDescription string `json:"port_description,omitempty"`
	VLAN            int    `json:"vlan,omitempty"` // port VLAN ID (802.1 TLV), 0: none
}

// BMCLAN is the BMC's LAN channel, from in-band IPMI (Get LAN
// Configuration Parameters).
type BMCLAN struct {
	Channel int    `json:"channel"`
	IP      string `json:"ip,omitempty"`
	MAC     string `json:"mac,omitempty"`
	Netmask string `json:"netmask,omitempty"`
	Gateway string `json:"gateway,omitempty"`
	Source  string `json:"source,omitempty"` // static, dhcp, bios, other
}

// PCI is one PCI function.
type PCI struct {
	Address string `json:"address"` // 0000:00:02.0
	Class   string `json:"class"`   // hex, as sysfs has it: 0x020000
	Vendor  string `json:"vendor"`  // hex id: 0x1af4
	Device  string `json:"device"`  // hex id: 0x1000
	Driver  string `json:"driver,omitempty"`
}

// Limits on what is kept of an Inventory.
const (
	MaxBytes  = 256 << 10 // a Report, as JSON
	MaxString = 256       // bytes of one string
	MaxDisks  = 64
	MaxNICs   = 64
	MaxPCI    = 256
	MaxErrors = 16
)

// Clean returns inv with every string stripped of control characters and
// cut to MaxString bytes, and each list cut to its limit: what may be
// stored and shown. Clean is idempotent.
func (inv Inventory) Clean() Inventory {
	c := func(s *string) { *s = clip(textsafe.Strip(*s)) }
	for _, s := range []*string{&inv.MAC, &inv.BootMode, &inv.Agent,
		&inv.DMI.Vendor, &inv.DMI.Product, &inv.DMI.Serial, &inv.DMI.UUID,
		&inv.DMI.BIOSVendor, &inv.DMI.BIOSVersion, &inv.DMI.BIOSDate, &inv.CPU.Model} {
		c(s)
	}
	inv.MAC = strings.ToLower(inv.MAC)
	inv.Disks = cut(inv.Disks, MaxDisks)
	for i := range inv.Disks {
		d := &inv.Disks[i]
		for _, s := range []*string{&d.Name, &d.Path, &d.Model, &d.Serial, &d.WWN} {
			c(s)
		}
	}
	inv.NICs = cut(inv.NICs, MaxNICs)
	for i := range inv.NICs {
		n := &inv.NICs[i]
		for _, s := range []*string{&n.Name, &n.MAC, &n.Driver} {
			c(s)
		}
		n.MAC = strings.ToLower(n.MAC)
		if n.LLDP != nil {
			l := *n.LLDP
			for _, s := range []*string{&l.ChassisID, &l.SwitchName, &l.PortID, &l.PortDescription} {
				c(s)
			}
			n.LLDP = &l
		}
	}
	if inv.BMC != nil {
		b := *inv.BMC
		for _, s := range []*string{&b.IP, &b.MAC, &b.Netmask, &b.Gateway, &b.Source} {
			c(s)
		}
		b.MAC = strings.ToLower(b.MAC)
		inv.BMC = &b
	}
	inv.PCI = cut(inv.PCI, MaxPCI)
	for i := range inv.PCI {
		p := &inv.PCI[i]
		for _, s := range []*string{&p.Address, &p.Class, &p.Vendor, &p.Device, &p.Driver} {
			c(s)
		}
	}
	inv.Errors = cut(inv.Errors, MaxErrors)
	for i := range inv.Errors {
		c(&inv.Errors[i])
	}
	return inv
}

// cut returns the first n of xs, copied so that the caller's slice is
// never written to.
func cut[T any](xs []T, n int) []T {
	if len(xs) == 0 {
		return nil
	}
	return append([]T(nil), xs[:min(len(xs), n)]...)
}

// clip cuts s to MaxString bytes, at a rune boundary.
func clip(s string) string {
	if len(s) <= MaxString {
		return s
	}
	s = s[:MaxString]
	for len(s) > 0 && !utf8Start(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if len(s) > 0 && s[len(s)-1] >= 0xC0 { // a lead byte whose rune was cut
		s = s[:len(s)-1]
	}
	return s
}

func utf8Start(b byte) bool { return b < 0x80 || b >= 0xC0 }

// Decode reads one JSON value of at most MaxBytes from r into v,
// refusing unknown fields and anything after it.
func Decode(r io.Reader, v any) error {
	lr := &io.LimitedReader{R: r, N: MaxBytes + 1}
	dec := json.NewDecoder(lr)
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		if lr.N <= 0 {
			return fmt.Errorf("more than %d bytes", MaxBytes)
		}
		return err
	}
	if dec.More() {
		return fmt.Errorf("more than one JSON value")
	}
	return nil
}

// BootNIC returns the NIC with inv.MAC, or nil.
func (inv *Inventory) BootNIC() *NIC {
	for i := range inv.NICs {
		if inv.NICs[i].MAC == inv.MAC {
			return &inv.NICs[i]
		}
	}
	return nil
}

// Neighbour is the switch port the machine is cabled to: the boot NIC's
// LLDP neighbour, else the first NIC's that has one; nil when no NIC
// heard one.
func (inv *Inventory) Neighbour() *LLDP {
	if n := inv.BootNIC(); n != nil && n.LLDP != nil {
		return n.LLDP
	}
	for _, n := range inv.NICs {
		if n.LLDP != nil {
			return n.LLDP
		}
	}
	return nil
}
