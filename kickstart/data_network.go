package kickstart

// Interface is one of the host's network interfaces, as the registry
// models it: a physical NIC (by MAC), a bond of NICs or a VLAN.
type Interface struct {
	Name       string   // eth0, bond0, bond0.100; a NIC's name is a label (see package networkd)
	Kind       string   // physical, bond or vlan
	MAC        string   // physical: aa:bb:cc:dd:ee:ff
	BondMode   string   // bond: active-backup, 802.3ad...
	Members    []string // bond: its NICs' names
	VLANParent string   // vlan: its NIC's or bond's name
	VLANID     int      // vlan: 1-4094
	MTU        int      // 0: the default
	Primary    bool     // carries System.IP
	Address    string   // "IP/prefix": the system IP on the primary, an extra address, or ""
}

// File is a file for the installed system, as a name and its content:
// for Networkd, a file of /etc/systemd/network.
type File struct {
	Name    string // e.g. 10-bond0.netdev
	Content string
}
