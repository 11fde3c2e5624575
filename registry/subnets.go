package registry

import (
	"net/netip"
	"strings"
)

// parseSubnet validates a subnet and returns it canonical and parsed.
func parseSubnet(sub Subnet) (*subnetEntry, error) {
	if err := CheckObjectName("subnet", sub.Name); err != nil {
		return nil, err
	}
	if sub.Site != "" {
		if err := CheckSiteName(sub.Site); err != nil {
			return nil, invalidf("subnet %s: %v", sub.Name, err)
		}
	}
	e := &subnetEntry{Subnet: sub}
	p, err := netip.ParsePrefix(strings.TrimSpace(sub.CIDR))
	if err != nil || !p.Addr().Is4() {
		return nil, invalidf("subnet %s: cidr %q is not an IPv4 prefix like 10.0.0.0/24", sub.Name, sub.CIDR)
	}
	if p.Masked() != p {
		return nil, invalidf("subnet %s: cidr %s has host bits set; did you mean %s?", sub.Name, p, p.Masked())
	}
	if p.Bits() > 30 {
		return nil, invalidf("subnet %s: cidr %s leaves no room for hosts (use /30 or larger)", sub.Name, p)
	}
	e.prefix, e.CIDR = p, p.String()
	if err := e.parseGateway(); err != nil {
		return nil, err
	}
	if err := e.parsePool(); err != nil {
		return nil, err
	}
	if err := e.parseServers(); err != nil {
		return nil, err
	}
	return e, nil
}

func (e *subnetEntry) parseGateway() error {
	if e.Gateway == "" {
		return nil
	}
	gw, err := parseIPv4("subnet "+e.Name+": gateway", e.Gateway)
	if err != nil {
		return err
	}
	if !e.prefix.Contains(gw) || gw == e.prefix.Addr() || gw == broadcast(e.prefix) {
		return invalidf("subnet %s: gateway %s must be a host address inside %s", e.Name, gw, e.prefix)
	}
	e.gateway, e.Gateway = gw, gw.String()
	return nil
}

func (e *subnetEntry) parsePool() error {
	if e.Pool == "" {
		return nil
	}
	first, last, ok := strings.Cut(e.Pool, "-")
	if !ok {
		return invalidf("subnet %s: pool %q must be FIRST-LAST", e.Name, e.Pool)
	}
	a, err := parseIPv4("subnet "+e.Name+": pool start", first)
	if err != nil {
		return err
	}
	b, err := parseIPv4("subnet "+e.Name+": pool end", last)
	if err != nil {
		return err
	}
	if b.Less(a) {
		return invalidf("subnet %s: pool %s-%s ends before it starts", e.Name, a, b)
	}
	for _, x := range []netip.Addr{a, b} {
		if !e.prefix.Contains(x) || x == e.prefix.Addr() || x == broadcast(e.prefix) {
			return invalidf("subnet %s: pool address %s must be a host address inside %s", e.Name, x, e.prefix)
		}
	}
	e.poolFirst, e.poolLast, e.Pool = a, b, a.String()+"-"+b.String()
	if e.gateway.IsValid() && e.inPool(e.gateway) {
		return invalidf("subnet %s: gateway %s lies inside the pool %s", e.Name, e.gateway, e.Pool)
	}
	return nil
}

func (e *subnetEntry) parseServers() error {
	for i, d := range e.DNSServers {
		c, err := CanonicalIPv4("subnet "+e.Name+": dns server", d)
		if err != nil {
			return err
		}
		e.DNSServers[i] = c
	}
	if e.NextServer != "" {
		c, err := CanonicalIPv4("subnet "+e.Name+": next server", e.NextServer)
		if err != nil {
			return err
		}
		e.NextServer = c
	}
	return nil
}

func (e *subnetEntry) inPool(ip netip.Addr) bool {
	return e.poolFirst.IsValid() && !ip.Less(e.poolFirst) && !e.poolLast.Less(ip)
}

// reservedRole says why ip cannot be a host's static address in this
// subnet, or "" if it can.
func (e *subnetEntry) reservedRole(ip netip.Addr) string {
	switch {
	case ip == e.prefix.Addr():
		return "the network address"
	case ip == broadcast(e.prefix):
		return "the broadcast address"
	case e.gateway.IsValid() && ip == e.gateway:
		return "the gateway"
	case e.inPool(ip):
		return "inside the dynamic pool " + e.Pool
	}
	return ""
}

func broadcast(p netip.Prefix) netip.Addr {
	b := p.Addr().As4()
	host := uint32(1)<<(32-p.Bits()) - 1
	v := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3]) | host
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}
