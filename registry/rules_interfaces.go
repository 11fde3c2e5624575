package registry

import (
	"cmp"
	"errors"
	"net/netip"
	"slices"
	"strconv"
	"strings"
)

// The rules of a system's interfaces. normalizeInterfaces checks the
// interfaces among themselves (names, kinds, bonds, VLANs, the primary)
// and derives System.MACs from them; checkIfaceAddresses checks their
// extra addresses against the fleet; checkIfaceRemoval refuses to drop
// the interface that carries the system's IP. A system without
// interfaces (MACs only) is left as it is: see System.Ifaces.

// MTU bounds: IPv4's minimum (RFC 791) and a common jumbo frame limit.
const (
	minMTU     = 68
	maxMTU     = 9216
	defaultMTU = 1500 // Ethernet's, a NIC's and a bond's MTU when none is given
)

// CheckIfaceName checks a Linux interface name: 1 to 15 bytes (IFNAMSIZ
// less the NUL) of letters, digits, '_', '.' and '-', not "." or "..".
func CheckIfaceName(name string) error {
	if name == "" || len(name) > 15 || name == "." || name == ".." ||
		strings.IndexFunc(name, func(r rune) bool { return !ifaceNameChar(r) }) >= 0 {
		return invalidf("interface name %q: want 1 to 15 of A-Z a-z 0-9 _ . - (not . or ..)", name)
	}
	return nil
}

func ifaceNameChar(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-'
}

// normalizeInterfaces checks sys's interfaces, puts them in canonical
// form (MACs and addresses spelled one way, the first interface primary
// when none is) and sets sys.MACs to their physical MACs; MACs given as
// well must be those.
func normalizeInterfaces(sys *System) error {
	if len(sys.Interfaces) == 0 {
		return nil
	}
	ifs := sys.Interfaces
	for n := range ifs {
		if err := normalizeIface(sys.Name, &ifs[n]); err != nil {
			return err
		}
	}
	if !slices.ContainsFunc(ifs, func(i Interface) bool { return i.Primary }) {
		ifs[0].Primary = true
	}
	byName := map[string]*Interface{}
	for n := range ifs {
		i := &ifs[n]
		if o := byName[i.Name]; o != nil {
			return invalidf("system %s: two interfaces are named %s", sys.Name, i.Name)
		}
		byName[i.Name] = i
	}
	if err := checkIfaceLinks(sys.Name, ifs, byName); err != nil {
		return err
	}
	return deriveMACs(sys)
}

// normalizeIface checks the fields of one interface for its kind.
func normalizeIface(sysName string, i *Interface) error {
	if err := CheckIfaceName(i.Name); err != nil {
		return invalidf("system %s: %v", sysName, err)
	}
	bad := func(format string, a ...any) error {
		return invalidf("system %s: interface %s: "+format, append([]any{sysName, i.Name}, a...)...)
	}
	kind := i.Kind()
	if i.MAC != "" && kind != IfacePhysical {
		return bad("a %s has no mac of its own (only a physical interface has one)", kind)
	}
	if (i.VLANParent != "" || i.VLANID != 0) && kind != IfaceVLAN {
		return bad("a bond cannot be a vlan too")
	}
	switch kind {
	case IfacePhysical:
		if i.MAC == "" {
			return bad("a physical interface needs a mac (or give a bond mode and members, or a vlan parent and id)")
		}
		m, err := CanonicalMAC(i.MAC)
		if err != nil {
			return bad("%v", err)
		}
		i.MAC = m
	case IfaceBond:
		if !slices.Contains(BondModes, i.BondMode) {
			return bad("bond mode %q: want one of %s", i.BondMode, strings.Join(BondModes, ", "))
		}
		if len(i.Members) == 0 {
			return bad("a bond needs at least one member")
		}
	case IfaceVLAN:
		if i.VLANParent == "" {
			return bad("a vlan needs a parent interface")
		}
		if i.VLANID < 1 || i.VLANID > 4094 {
			return bad("vlan id %d: want 1 to 4094", i.VLANID)
		}
	}
	if i.MTU != 0 && (i.MTU < minMTU || i.MTU > maxMTU) {
		return bad("mtu %d: want %d to %d (0: the default)", i.MTU, minMTU, maxMTU)
	}
	if i.IP == "" {
		return nil
	}
	if i.Primary {
		return bad("the primary interface carries the system's ip; an extra ip goes on another interface")
	}
	ip, err := CanonicalIPv4("ip", i.IP)
	if err != nil {
		return bad("%v", err)
	}
	i.IP = ip
	return nil
}

// checkIfaceLinks checks what interfaces say of each other: MACs, bond
// members, VLAN parents and the primary.
func checkIfaceLinks(sysName string, ifs []Interface, byName map[string]*Interface) error {
	primaries, macs, bondOf, vlans := 0, map[string]string{}, map[string]string{}, map[string]string{}
	for _, i := range ifs {
		bad := func(format string, a ...any) error {
			return invalidf("system %s: interface %s: "+format, append([]any{sysName, i.Name}, a...)...)
		}
		if i.Primary {
			primaries++
		}
		switch i.Kind() {
		case IfacePhysical:
			if o, ok := macs[i.MAC]; ok {
				return bad("mac %s is already interface %s's", i.MAC, o)
			}
			macs[i.MAC] = i.Name
		case IfaceBond:
			for _, m := range i.Members {
				switch mi := byName[m]; {
				case mi == nil:
					return bad("bond member %s is not an interface of system %s", m, sysName)
				case mi.Kind() != IfacePhysical:
					return bad("bond member %s is a %s: members are physical interfaces", m, mi.Kind())
				case bondOf[m] != "":
					return bad("bond member %s is already a member of %s", m, bondOf[m])
				}
				bondOf[m] = i.Name
			}
		case IfaceVLAN:
			p := byName[i.VLANParent]
			if p == nil || p.Kind() == IfaceVLAN {
				return bad("vlan parent %s is not a physical interface or bond of system %s", i.VLANParent, sysName)
			}
			key := i.VLANParent + "." + strconv.Itoa(i.VLANID)
			if o, ok := vlans[key]; ok {
				return bad("vlan %d on %s is already interface %s", i.VLANID, i.VLANParent, o)
			}
			vlans[key] = i.Name
		}
	}
	if primaries > 1 {
		return invalidf("system %s: %d interfaces are primary: one carries the system's ip", sysName, primaries)
	}
	if err := checkMembers(sysName, ifs, bondOf); err != nil {
		return err
	}
	return checkVLANMTU(sysName, ifs, byName)
}

// checkVLANMTU keeps a VLAN's MTU within its parent's (Linux refuses a
// larger one).
func checkVLANMTU(sysName string, ifs []Interface, byName map[string]*Interface) error {
	for _, i := range ifs {
		if i.Kind() != IfaceVLAN {
			continue
		}
		p := byName[i.VLANParent]
		if pm := cmp.Or(p.MTU, defaultMTU); i.MTU > pm {
			return invalidf("system %s: interface %s: mtu %d is more than its parent %s's (%d): Linux refuses a vlan larger than its parent; give %s --mtu %d too",
				sysName, i.Name, i.MTU, p.Name, pm, p.Name, i.MTU)
		}
	}
	return nil
}

// checkMembers keeps a bond member to its bond: it carries no address,
// is not primary and is no VLAN's parent.
func checkMembers(sysName string, ifs []Interface, bondOf map[string]string) error {
	for _, i := range ifs {
		bond := bondOf[i.Name]
		if i.Kind() == IfaceVLAN && bondOf[i.VLANParent] != "" {
			return invalidf("system %s: interface %s: vlan parent %s is a member of bond %s: put the vlan on %s", sysName, i.Name, i.VLANParent, bondOf[i.VLANParent], bondOf[i.VLANParent])
		}
		if bond == "" {
			continue
		}
		if i.Primary {
			return invalidf("system %s: interface %s is primary (it carries the system's ip) and a member of bond %s: make %s primary", sysName, i.Name, bond, bond)
		}
		if i.IP != "" {
			return invalidf("system %s: interface %s is a member of bond %s and cannot carry ip %s", sysName, i.Name, bond, i.IP)
		}
	}
	return nil
}

// deriveMACs sets sys.MACs to its physical interfaces' MACs; MACs given
// must be the same ones (any spelling, any order).
func deriveMACs(sys *System) error {
	want := MACsOf(sys.Interfaces)
	if len(sys.MACs) > 0 {
		var got []string
		for _, m := range sys.MACs {
			c, err := CanonicalMAC(m)
			if err != nil {
				return err
			}
			if !slices.Contains(got, c) {
				got = append(got, c)
			}
		}
		if !sameSet(got, want) {
			return invalidf("system %s: macs %s are not its physical interfaces' (%s): with interfaces, change MACs with `system interface add/remove`",
				sys.Name, strings.Join(got, ","), strings.Join(want, ","))
		}
	}
	sys.MACs = want
	return nil
}

func sameSet(a, b []string) bool {
	return len(a) == len(b) && !slices.ContainsFunc(a, func(x string) bool { return !slices.Contains(b, x) })
}

// checkIfaceRemoval refuses an edit (in, as sent) that drops the
// interface carrying old's IP unless it names another primary.
func checkIfaceRemoval(old *System, in System) error {
	if old == nil {
		return nil
	}
	p := old.PrimaryInterface()
	if p.Name == "" || slices.ContainsFunc(in.Ifaces(), func(i Interface) bool { return i.Name == p.Name }) ||
		slices.ContainsFunc(in.Interfaces, func(i Interface) bool { return i.Primary }) {
		return nil
	}
	return invalidf("system %s: interface %s carries the system's ip %s (primary): make another interface primary before removing it", old.Name, p.Name, old.IP)
}

// checkIfaceAddresses applies the conflict rules of the system IP to
// each extra address: inside a subnet, not reserved there, used by no
// other system (IP, BMC or extra address) and not twice by this one.
func (s *Snapshot) checkIfaceAddresses(sys *System, other func(*System) bool) error {
	seen := map[string]string{sys.IP: "the system's ip"}
	if sys.BMC != nil {
		seen[sys.BMC.Address] = "the bmc address"
	}
	for _, i := range sys.Interfaces {
		if i.IP == "" {
			continue
		}
		if o, ok := seen[i.IP]; ok {
			return conflictf("system %s: interface %s: ip %s is already %s", sys.Name, i.Name, i.IP, o)
		}
		seen[i.IP] = "interface " + i.Name + "'s"
		ip := netip.MustParseAddr(i.IP)
		if err := s.checkAddressFree("ip", ip, other); err != nil {
			return prefixed(err, "system "+sys.Name+": interface "+i.Name+": ")
		}
		if err := s.checkStaticIP(ip); err != nil {
			return prefixed(err, "system "+sys.Name+": interface "+i.Name+": ")
		}
	}
	return nil
}

// ifaceOwning names the interface of sys whose extra address is ip.
func ifaceOwning(sys *System, ip netip.Addr) string {
	for _, i := range sys.Interfaces {
		if i.IP == ip.String() {
			return i.Name
		}
	}
	return ""
}

// extraAddrs is sys's extra interface addresses.
func extraAddrs(sys *System) []netip.Addr {
	var out []netip.Addr
	for _, i := range sys.Interfaces {
		if i.IP != "" {
			out = append(out, netip.MustParseAddr(i.IP))
		}
	}
	return out
}

// prefixed is err (a registry *Error) with its message prefixed, its
// kind kept.
func prefixed(err error, prefix string) error {
	var e *Error
	if errors.As(err, &e) {
		return &Error{e.Kind, prefix + e.Msg}
	}
	return err
}
