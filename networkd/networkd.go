package networkd

import (
	"fmt"
	"slices"
	"strings"
)

// The kinds of Link.
const (
	Physical = "physical"
	Bond     = "bond"
	VLAN     = "vlan"
)

// Link is one interface of the machine.
type Link struct {
	Name       string   // a bond's or VLAN's interface name; a NIC's label
	Kind       string   // Physical, Bond or VLAN
	MAC        string   // Physical: its permanent MAC, aa:bb:cc:dd:ee:ff
	BondMode   string   // Bond: balance-rr, active-backup, balance-xor, broadcast, 802.3ad, balance-tlb, balance-alb
	VLANParent string   // VLAN: the Name of its NIC or bond
	Members    []string // Bond: the Names of its NICs
	VLANID     int      // VLAN: 1-4094
	MTU        int      // 0: the kernel's default
	Addresses  []string // CIDR form, 10.0.0.5/24
	Gateway    string   // "" for none
	DNS        []string // name servers
}

// File is one file of /etc/systemd/network.
type File struct {
	Name    string // e.g. 10-bond0.netdev
	Content string
}

// Files returns the .netdev and .network files of links, sorted by name.
// Every Link a bond or VLAN names must be in links.
func Files(links []Link) ([]File, error) {
	byName := map[string]Link{}
	for _, l := range links {
		if err := check(l); err != nil {
			return nil, err
		}
		if _, dup := byName[l.Name]; dup {
			return nil, fmt.Errorf("link %s: named twice", l.Name)
		}
		byName[l.Name] = l
	}
	bondOf, vlansOf := map[string]string{}, map[string][]string{}
	for _, l := range links {
		for _, m := range l.Members {
			if byName[m].Kind != Physical {
				return nil, fmt.Errorf("link %s: member %s is not a physical link", l.Name, m)
			}
			bondOf[m] = l.Name
		}
		if l.Kind == VLAN {
			if p, ok := byName[l.VLANParent]; !ok || p.Kind == VLAN {
				return nil, fmt.Errorf("link %s: parent %s is not a physical link or bond", l.Name, l.VLANParent)
			}
			vlansOf[l.VLANParent] = append(vlansOf[l.VLANParent], l.Name)
		}
	}
	var files []File
	for _, l := range links {
		if l.Kind != Physical {
			files = append(files, File{"10-" + l.Name + ".netdev", netdev(l)})
		}
		used := l.Kind != Physical || bondOf[l.Name] != "" || len(vlansOf[l.Name]) > 0 || len(l.Addresses) > 0 || l.MTU != 0
		if used {
			files = append(files, File{"20-" + l.Name + ".network", network(l, bondOf[l.Name], vlansOf[l.Name])})
		}
	}
	slices.SortFunc(files, func(a, b File) int { return strings.Compare(a.Name, b.Name) })
	return files, nil
}

// netdev is a bond's or VLAN's .netdev file (systemd.netdev(5)).
func netdev(l Link) string {
	var b section
	b.head("NetDev")
	b.kv("Name", l.Name)
	b.kv("Kind", l.Kind) // "bond" and "vlan" are systemd's names of the kinds too
	if l.Kind == Bond {
		b.head("Bond")
		b.kv("Mode", l.BondMode)
		// MII link monitoring: without it the driver does not notice a
		// member losing link, and active-backup never fails over.
		b.kv("MIIMonitorSec", "100ms")
		return b.String()
	}
	b.head("VLAN")
	b.kv("Id", fmt.Sprint(l.VLANID))
	return b.String()
}

// network is the .network file (systemd.network(5)) of l, a member of
// bond (if not "") and the parent of vlans.
func network(l Link, bond string, vlans []string) string {
	var b section
	b.head("Match")
	if l.Kind == Physical {
		b.kv("PermanentMACAddress", l.MAC)
	} else {
		b.kv("Name", l.Name)
	}
	online := requiredForOnline(l, bond)
	if l.MTU != 0 || online != "" {
		b.head("Link")
	}
	if l.MTU != 0 {
		b.kv("MTUBytes", fmt.Sprint(l.MTU))
	}
	if online != "" {
		b.kv("RequiredForOnline", online)
	}
	b.head("Network")
	if bond != "" || len(l.Addresses) == 0 {
		// No IPv6 link-local address on a bond member or a bare VLAN
		// carrier (netplan does the same).
		b.kv("LinkLocalAddressing", "no")
	}
	if l.Kind != Physical {
		// A bond or VLAN is configured whether or not it has carrier yet,
		// and keeps its addresses over a carrier loss (implied by this
		// setting) while members come and go.
		b.kv("ConfigureWithoutCarrier", "yes")
	}
	if bond != "" {
		b.kv("Bond", bond)
	}
	for _, a := range l.Addresses {
		b.kv("Address", a)
	}
	if l.Gateway != "" {
		b.kv("Gateway", l.Gateway)
	}
	for _, d := range l.DNS {
		b.kv("DNS", d)
	}
	for _, v := range vlans {
		b.kv("VLAN", v)
	}
	return b.String()
}

// requiredForOnline is when systemd-networkd-wait-online counts l as up,
// "" for its default (an address, or enslaved for a bond member): a bond
// member not at all (its bond stands for it, and one member without link
// must not hold the boot for wait-online's timeout), a link with no
// address of its own (a VLANs' carrier) when it has carrier.
func requiredForOnline(l Link, bond string) string {
	switch {
	case bond != "":
		return "no"
	case len(l.Addresses) == 0:
		return "carrier"
	}
	return ""
}

// section writes an INI-style unit file: sections separated by a blank line.
type section struct{ strings.Builder }

func (b *section) head(name string) {
	if b.Len() > 0 {
		b.WriteString("\n")
	}
	b.WriteString("[" + name + "]\n")
}

func (b *section) kv(k, v string) { b.WriteString(k + "=" + v + "\n") }
