package networkd

import (
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
)

// BondModes are the values of [Bond] Mode= (systemd.netdev(5)), the Linux
// bonding driver's modes as ip-link(8) names them too.
var BondModes = []string{"balance-rr", "active-backup", "balance-xor", "broadcast", "802.3ad", "balance-tlb", "balance-alb"}

// check refuses a Link whose values would not make a valid file: every
// value is written into a line of a unit file, so none may hold a
// newline or other control character, and a name becomes a file name.
func check(l Link) error {
	if l.Name == "" || len(l.Name) > 15 || l.Name == "." || l.Name == ".." || strings.ContainsFunc(l.Name, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '_' || r == '.' || r == '-')
	}) {
		return fmt.Errorf("link %q: not an interface name (1-15 of A-Z a-z 0-9 _ . -)", l.Name)
	}
	bad := func(format string, a ...any) error {
		return fmt.Errorf("link %s: "+format, append([]any{l.Name}, a...)...)
	}
	switch l.Kind {
	case Physical:
		if hw, err := net.ParseMAC(l.MAC); err != nil || len(hw) != 6 || hw.String() != l.MAC {
			return bad("mac %q: want aa:bb:cc:dd:ee:ff", l.MAC)
		}
	case Bond:
		if !slices.Contains(BondModes, l.BondMode) {
			return bad("bond mode %q: want one of %s", l.BondMode, strings.Join(BondModes, ", "))
		}
		if len(l.Members) == 0 {
			return bad("a bond needs members")
		}
	case VLAN:
		if l.VLANID < 1 || l.VLANID > 4094 {
			return bad("vlan id %d: want 1 to 4094", l.VLANID)
		}
	default:
		return bad("kind %q: want physical, bond or vlan", l.Kind)
	}
	if l.MTU < 0 {
		return bad("mtu %d", l.MTU)
	}
	for _, a := range l.Addresses {
		if p, err := netip.ParsePrefix(a); err != nil || p.String() != a {
			return bad("address %q: want CIDR form, 10.0.0.5/24", a)
		}
	}
	addrs := slices.Clone(l.DNS)
	if l.Gateway != "" {
		addrs = append(addrs, l.Gateway)
	}
	for _, a := range addrs {
		if ip, err := netip.ParseAddr(a); err != nil || ip.String() != a {
			return bad("address %q: not an IP address", a)
		}
	}
	return nil
}
