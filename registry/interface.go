package registry

import (
	"fmt"
	"slices"

	"github.com/provision/provision/networkd"
)

// Interface is one of a system's network interfaces: a physical NIC (by
// its MAC), a bond of physical NICs, or a VLAN on a NIC or a bond. Its
// kind follows from the fields set (see Kind). A physical interface's
// name is a label: the deployed system matches the NIC by its MAC and
// keeps the kernel's name for it; bonds and VLANs are created with their
// names.
type Interface struct {
	Name       string   `json:"name" yaml:"name"`                                   // eth0, bond0, bond0.100: a Linux interface name (1-15 bytes, [A-Za-z0-9_.-], not "." or "..")
	MAC        string   `json:"mac,omitempty" yaml:"mac,omitempty"`                 // physical only
	BondMode   string   `json:"bond_mode,omitempty" yaml:"bond_mode,omitempty"`     // bond only: one of BondModes
	Members    []string `json:"members,omitempty" yaml:"members,omitempty"`         // bond only: names of physical interfaces
	VLANParent string   `json:"vlan_parent,omitempty" yaml:"vlan_parent,omitempty"` // vlan only
	VLANID     int      `json:"vlan_id,omitempty" yaml:"vlan_id,omitempty"`         // vlan only: 1-4094
	MTU        int      `json:"mtu,omitempty" yaml:"mtu,omitempty"`                 // 0: the default
	Primary    bool     `json:"primary,omitempty" yaml:"primary,omitempty"`         // carries System.IP
	IP         string   `json:"ip,omitempty" yaml:"ip,omitempty"`                   // an extra address on a non-primary interface
}

// The kinds of interface.
const (
	IfacePhysical = "physical"
	IfaceBond     = "bond"
	IfaceVLAN     = "vlan"
)

// BondModes are the Linux bonding driver's modes, by the names that
// systemd.netdev(5) [Bond] Mode= and ip-link(8) take: the ones package
// networkd writes, so the registry accepts nothing it cannot render.
var BondModes = networkd.BondModes

// Kind is "bond" when the interface has a bond mode or members, "vlan"
// when it has a VLAN parent or id, else "physical".
func (i Interface) Kind() string {
	switch {
	case i.BondMode != "" || len(i.Members) > 0:
		return IfaceBond
	case i.VLANParent != "" || i.VLANID != 0:
		return IfaceVLAN
	}
	return IfacePhysical
}

// Ifaces returns s's interfaces: those stored, or for a system that has
// none (every system stored before interfaces, and one added with --mac
// only) one physical interface per MAC, eth0, eth1..., eth0 primary.
func (s *System) Ifaces() []Interface {
	if len(s.Interfaces) > 0 {
		return cloneIfaces(s.Interfaces)
	}
	out := make([]Interface, len(s.MACs))
	for n, m := range s.MACs {
		out[n] = Interface{Name: fmt.Sprintf("eth%d", n), MAC: m, Primary: n == 0}
	}
	return out
}

// PrimaryInterface is the interface that carries s's IP (the zero
// Interface for a system with no MAC, which the registry never stores).
func (s *System) PrimaryInterface() Interface {
	ifs := s.Ifaces()
	if n := slices.IndexFunc(ifs, func(i Interface) bool { return i.Primary }); n >= 0 {
		return ifs[n]
	}
	if len(ifs) > 0 {
		return ifs[0]
	}
	return Interface{}
}

// MACsOf is the MACs of ifs' physical interfaces, in order: what
// System.MACs is for a system with these interfaces.
func MACsOf(ifs []Interface) []string {
	var macs []string
	for _, i := range ifs {
		if i.Kind() == IfacePhysical {
			macs = append(macs, i.MAC)
		}
	}
	return macs
}

func cloneIfaces(ifs []Interface) []Interface {
	if ifs == nil {
		return nil
	}
	out := slices.Clone(ifs)
	for n := range out {
		out[n].Members = slices.Clone(out[n].Members)
	}
	return out
}
