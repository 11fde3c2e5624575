package dhcp

import (
	"net"
	"net/netip"
	"strings"
	"time"

	"github.com/insomniacslk/dhcp/dhcpv4"
)

// answer builds a DHCPOFFER or DHCPACK giving ip (zero for DHCPINFORM).
func answer(req *dhcpv4.DHCPv4, t dhcpv4.MessageType, b binding, ip netip.Addr, env Env) (*dhcpv4.DHCPv4, error) {
	resp := newReply(req, t, env.Config)
	if t == dhcpv4.MessageTypeAck {
		if ci := addr4(req.ClientIPAddr); ci.IsValid() {
			resp.ClientIPAddr = ci.AsSlice()
		}
	}
	if ip.IsValid() {
		resp.YourIPAddr = ip.AsSlice()
		lt := leaseTime(b.subnet, env.Config)
		resp.UpdateOption(dhcpv4.OptIPAddressLeaseTime(lt))         // option 51
		resp.UpdateOption(dhcpv4.OptRenewTimeValue(lt / 2))         // option 58, T1
		resp.UpdateOption(dhcpv4.OptRebindingTimeValue(lt * 7 / 8)) // option 59, T2
	}
	networkOptions(resp, b, env.Config)
	f, ok, err := chooseBoot(req, b.host, env.Config)
	if ok {
		setBoot(resp, f, nextServer(b.subnet, env.Config))
	}
	return resp, err
}

// networkOptions sets options 1, 3, 6, 12, 15 and 28.
func networkOptions(resp *dhcpv4.DHCPv4, b binding, cfg Config) {
	s := b.subnet
	resp.UpdateOption(dhcpv4.OptSubnetMask(net.CIDRMask(s.Prefix.Bits(), 32))) // option 1
	if s.Prefix.Addr().Is4() && s.Prefix.Bits() <= 30 {
		resp.UpdateOption(dhcpv4.OptBroadcastAddress(broadcast(s.Prefix))) // option 28
	}
	if s.Gateway.Is4() {
		resp.UpdateOption(dhcpv4.OptRouter(s.Gateway.AsSlice())) // option 3
	}
	var dns []net.IP
	for _, a := range s.DNS {
		if a.Is4() {
			dns = append(dns, a.AsSlice())
		}
	}
	if len(dns) == 0 {
		dns = []net.IP{cfg.ServerIP.AsSlice()} // the appliance
	}
	resp.UpdateOption(dhcpv4.OptDNS(dns...)) // option 6
	if b.host != nil {
		name := b.host.Hostname
		if name == "" {
			name = b.host.Name
		}
		if name != "" {
			resp.UpdateOption(dhcpv4.OptHostName(name)) // option 12
		}
	}
	if s.Domain != "" {
		resp.UpdateOption(dhcpv4.OptDomainName(s.Domain)) // option 15
	}
}

func leaseTime(s Subnet, cfg Config) time.Duration {
	switch {
	case s.LeaseTime > 0:
		return s.LeaseTime
	case cfg.LeaseTime > 0:
		return cfg.LeaseTime
	}
	return DefaultLeaseTime
}

func nextServer(s Subnet, cfg Config) netip.Addr {
	if s.NextServer.Is4() {
		return s.NextServer
	}
	return cfg.ServerIP
}

func httpBase(cfg Config) string {
	if cfg.HTTPBase != "" {
		return strings.TrimRight(cfg.HTTPBase, "/")
	}
	return "http://" + cfg.ServerIP.String()
}

// broadcast is the directed broadcast address of an IPv4 prefix (RFC 919):
// the network with every host bit set.
func broadcast(p netip.Prefix) net.IP {
	a := p.Masked().Addr().As4()
	mask := net.CIDRMask(p.Bits(), 32)
	for i := range a {
		a[i] |= ^mask[i]
	}
	return net.IP(a[:])
}
