package bind

import (
	"net"
	"net/netip"
	"strings"
	"sync/atomic"

	"github.com/provision/provision/dhcp"
	"github.com/provision/provision/registry"
)

// DHCP serves the DHCP server: reservations and subnets from the Snapshot.
// It is a dhcp.SnapshotHosts: each packet is answered from one snapshot,
// whose subnets are converted once, not once per packet.
type DHCP struct {
	Reg Registry
	// Site is the appliance's (serve --site): subnets of another site are
	// not served, as if they did not exist, nor the systems on them.
	Site string
	last *atomic.Pointer[dhcpView] // the view of the latest snapshot seen; nil: none kept
}

var _ dhcp.SnapshotHosts = DHCP{}

// NewDHCP returns a DHCP that keeps the view of the latest snapshot.
func NewDHCP(reg Registry, site string) DHCP {
	return DHCP{Reg: reg, Site: site, last: new(atomic.Pointer[dhcpView])}
}

// dhcpView is one snapshot with its subnets in dhcp's form.
type dhcpView struct {
	snap    *registry.Snapshot
	subnets map[string]dhcp.Subnet // by name
}

// Snapshot implements dhcp.SnapshotHosts.
func (d DHCP) Snapshot() dhcp.Hosts { return d.view() }

func (d DHCP) view() *dhcpView {
	snap := d.Reg.Snapshot()
	if d.last != nil {
		if v := d.last.Load(); v != nil && v.snap == snap {
			return v
		}
	}
	v := &dhcpView{snap: snap, subnets: map[string]dhcp.Subnet{}}
	for _, sub := range snap.Subnets() {
		if Serves(d.Site, sub) {
			v.subnets[sub.Name] = dhcpSubnet(snap, sub)
		}
	}
	if d.last != nil {
		d.last.Store(v)
	}
	return v
}

// HostByMAC implements dhcp.Hosts, on the current snapshot.
func (d DHCP) HostByMAC(mac net.HardwareAddr) (dhcp.Host, bool) { return d.view().HostByMAC(mac) }

// SubnetFor implements dhcp.Hosts, on the current snapshot.
func (d DHCP) SubnetFor(ip netip.Addr) (dhcp.Subnet, bool) { return d.view().SubnetFor(ip) }

func (v *dhcpView) HostByMAC(mac net.HardwareAddr) (dhcp.Host, bool) {
	sys, ok := v.snap.SystemByMAC(mac)
	if !ok {
		return dhcp.Host{}, false
	}
	ip, err := netip.ParseAddr(sys.IP)
	if err != nil {
		return dhcp.Host{}, false
	}
	sub, ok := v.SubnetFor(ip)
	if !ok {
		return dhcp.Host{}, false
	}
	h := dhcp.Host{Name: sys.Name, Hostname: strings.TrimSuffix(sys.Hostname, "."+v.snap.Zone), MAC: mac, IP: ip,
		Subnet: sub, Netboot: sys.Netboot, Loader: dhcp.LoaderIPXE}
	if p, ok := v.snap.Profile(sys.Profile); ok {
		switch p.Loader {
		case "pxelinux":
			h.Loader = dhcp.LoaderPXELinux
		case "grub":
			h.Loader, h.SecureBoot = dhcp.LoaderGRUB, p.SecureBoot
		}
	}
	return h, true
}

func (v *dhcpView) SubnetFor(ip netip.Addr) (dhcp.Subnet, bool) {
	sub, ok := v.snap.SubnetFor(ip)
	if !ok {
		return dhcp.Subnet{}, false
	}
	s, ok := v.subnets[sub.Name]
	return s, ok
}

// Serves reports whether an appliance of site serves DHCP on sub: a
// subnet of no site is every appliance's.
func Serves(site string, sub *registry.Subnet) bool { return sub.Site == "" || sub.Site == site }

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
