package hosts

import (
	"net"
	"net/netip"
	"strings"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/registry"
)

// DHCP serves the DHCP server: reservations and subnets from the Snapshot.
type DHCP struct {
	Reg Registry
}

var _ dhcp.Hosts = DHCP{}

// HostByMAC implements dhcp.Hosts.
func (d DHCP) HostByMAC(mac net.HardwareAddr) (dhcp.Host, bool) {
	snap := d.Reg.Snapshot()
	sys, ok := snap.SystemByMAC(mac)
	if !ok {
		return dhcp.Host{}, false
	}
	ip, err := netip.ParseAddr(sys.IP)
	if err != nil {
		return dhcp.Host{}, false
	}
	sub, ok := snap.SubnetFor(ip)
	if !ok {
		return dhcp.Host{}, false
	}
	h := dhcp.Host{Name: sys.Name, Hostname: strings.TrimSuffix(sys.Hostname, "."+snap.Zone), MAC: mac, IP: ip,
		Subnet: dhcpSubnet(snap, sub), Netboot: sys.Netboot, Loader: dhcp.LoaderIPXE}
	if p, ok := snap.Profile(sys.Profile); ok && p.Loader == "pxelinux" {
		h.Loader = dhcp.LoaderPXELinux
	}
	return h, true
}

// SubnetFor implements dhcp.Hosts.
func (d DHCP) SubnetFor(ip netip.Addr) (dhcp.Subnet, bool) {
	snap := d.Reg.Snapshot()
	sub, ok := snap.SubnetFor(ip)
	if !ok {
		return dhcp.Subnet{}, false
	}
	return dhcpSubnet(snap, sub), true
}

// dhcpSubnet converts a registry subnet (validated, canonical text).
func dhcpSubnet(snap *registry.Snapshot, s *registry.Subnet) dhcp.Subnet {
	out := dhcp.Subnet{Name: s.Name, Domain: snap.Zone}
	out.Prefix, _ = netip.ParsePrefix(s.CIDR)
	out.Gateway, _ = netip.ParseAddr(s.Gateway)
	out.NextServer, _ = netip.ParseAddr(s.NextServer)
	for _, d := range s.DNSServers {
		if a, err := netip.ParseAddr(d); err == nil {
			out.DNS = append(out.DNS, a)
		}
	}
	if first, last, ok := strings.Cut(s.Pool, "-"); ok {
		out.PoolStart, _ = netip.ParseAddr(first)
		out.PoolEnd, _ = netip.ParseAddr(last)
	}
	return out
}
