package cobbler

import (
	"fmt"
	"net/netip"
	"strings"

	"github.com/provision/provision/registry"
)

// subnetPlan is a subnet of the registry, or one the import adds.
type subnetPlan struct {
	sub                 registry.Subnet
	prefix              netip.Prefix
	gateway             netip.Addr
	poolFirst, poolLast netip.Addr
	existing            bool
	systems             []*systemPlan // the import's systems on it
}

func parseSubnet(sub registry.Subnet) (*subnetPlan, error) {
	sp := &subnetPlan{sub: sub}
	var err error
	if sp.prefix, err = netip.ParsePrefix(strings.TrimSpace(sub.CIDR)); err != nil {
		return nil, err
	}
	if sub.Gateway != "" {
		if sp.gateway, err = netip.ParseAddr(sub.Gateway); err != nil {
			return nil, err
		}
	}
	if first, last, ok := strings.Cut(sub.Pool, "-"); ok {
		if sp.poolFirst, err = netip.ParseAddr(first); err != nil {
			return nil, err
		}
		if sp.poolLast, err = netip.ParseAddr(last); err != nil {
			return nil, err
		}
	}
	return sp, nil
}

// reservedRole says why ip cannot be a system's address in the subnet, as
// the registry's rules do, or "".
func (s *subnetPlan) reservedRole(ip netip.Addr) string {
	switch {
	case ip == s.prefix.Addr():
		return "the network address"
	case ip == broadcast(s.prefix):
		return "the broadcast address"
	case s.gateway.IsValid() && ip == s.gateway:
		return "the gateway"
	case s.poolFirst.IsValid() && !ip.Less(s.poolFirst) && !s.poolLast.Less(ip):
		return "inside the dynamic pool " + s.sub.Pool
	}
	return ""
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Masked().Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := (uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// users counts the import's systems on the subnet.
func (s *subnetPlan) users(p *planner) int {
	n := 0
	for _, sp := range s.systems {
		if !p.isBlocked(sp.label) {
			n++
		}
	}
	return n
}

// subnetName is the name of the subnet the import adds for a network:
// cobbler-10-0-0-0-24.
func subnetName(p netip.Prefix) string {
	return "cobbler-" + strings.ReplaceAll(p.Addr().String(), ".", "-") + fmt.Sprintf("-%d", p.Bits())
}

// planSubnets puts each system that is in no conflict on a subnet: the
// registry's that holds its IP, one the import adds already, or a new one
// of its interface's netmask, gateway and the name servers.
func (p *planner) planSubnets() {
	for _, sp := range p.systems {
		if p.isBlocked(sp.label) || !sp.ip.IsValid() {
			continue
		}
		sub := p.subnetFor(sp.ip)
		if sub == nil {
			if sub = p.newSubnet(sp); sub == nil {
				continue
			}
		}
		if why := sub.reservedRole(sp.ip); why != "" {
			p.conflict([]string{sp.label}, "ip %s of %s is %s of subnet %s", sp.ip, sp.label, why, sub.sub.Name)
			continue
		}
		if sp.bmc.IsValid() {
			if bs := p.subnetFor(sp.bmc); bs != nil {
				if why := bs.reservedRole(sp.bmc); why != "" && !strings.HasPrefix(why, "inside") {
					p.conflict([]string{sp.label}, "bmc address %s of %s is %s of subnet %s", sp.bmc, sp.label, why, bs.sub.Name)
					continue
				}
			}
		}
		if !sub.existing && len(sub.systems) > 0 {
			p.sameNetwork(sub, sp)
		}
		sub.systems = append(sub.systems, sp)
	}
}

func (p *planner) subnetFor(ip netip.Addr) *subnetPlan {
	for _, s := range append(p.reg.subnets, p.subnets...) {
		if s.prefix.Contains(ip) {
			return s
		}
	}
	return nil
}

// newSubnet adds the subnet of sp's interface, unless it overlaps another.
func (p *planner) newSubnet(sp *systemPlan) *subnetPlan {
	if !sp.prefix.IsValid() {
		p.conflict([]string{sp.label}, "ip %s of %s is in no subnet of the registry, and interface %s has no netmask to make one", sp.ip, sp.label, sp.iface.Name)
		return nil
	}
	if sp.prefix.Bits() > 30 || sp.prefix.Bits() < 8 {
		p.conflict([]string{sp.label}, "ip %s of %s: netmask %s (/%d) makes no subnet provision serves (/8 to /30)", sp.ip, sp.label, sp.iface.Netmask, sp.prefix.Bits())
		return nil
	}
	for _, o := range append(p.reg.subnets, p.subnets...) {
		if o.prefix.Overlaps(sp.prefix) {
			p.conflict([]string{sp.label}, "ip %s of %s: its network %s overlaps subnet %s (%s)", sp.ip, sp.label, sp.prefix, o.sub.Name, o.prefix)
			return nil
		}
	}
	s := &subnetPlan{prefix: sp.prefix, sub: registry.Subnet{Name: subnetName(sp.prefix), CIDR: sp.prefix.String(), DNSServers: sp.dns}}
	if gw := sp.gateway; gw.IsValid() {
		if sp.prefix.Contains(gw) && gw != sp.prefix.Addr() && gw != broadcast(sp.prefix) && gw != sp.ip {
			s.gateway, s.sub.Gateway = gw, gw.String()
		} else {
			p.lost("%s: gateway %s (not a host address of %s other than its own)", sp.label, gw, sp.prefix)
		}
	}
	p.subnets = append(p.subnets, s)
	return s
}

// sameNetwork reports where sp sees the subnet the import adds otherwise
// than the system that made it.
func (p *planner) sameNetwork(sub *subnetPlan, sp *systemPlan) {
	maker := sub.systems[0]
	if sp.prefix.IsValid() && sp.prefix != sub.prefix {
		p.lost("%s: netmask %s (subnet %s is %s, as %s has it)", sp.label, sp.iface.Netmask, sub.sub.Name, sub.prefix, maker.sys.Name)
	}
	if sp.gateway.IsValid() && sp.gateway != sub.gateway && sub.prefix.Contains(sp.gateway) {
		p.lost("%s: gateway %s (subnet %s's is %s, as %s has it)", sp.label, sp.gateway, sub.sub.Name, or(sub.sub.Gateway, "none"), maker.sys.Name)
	}
}
