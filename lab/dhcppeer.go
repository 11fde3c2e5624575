package lab

import (
	"fmt"
	"net/netip"
	"path/filepath"
	"regexp"
	"time"
)

// Reservation is a fixed address a DHCP server gives one MAC.
type Reservation struct {
	MAC string
	IP  netip.Addr
}

// StartDnsmasq runs dnsmasq (Debian's dnsmasq-base) as the network's own
// DHCP server, the one a site already has: in a namespace of its own,
// joined to n's bridge, at address at of n's subnet, handing out the
// reservations and a small pool, with no boot options and no DNS. It is
// what a proxyDHCP appliance lives beside. Close stops it.
func (e *Env) StartDnsmasq(n *Net, at netip.Addr, reservations ...Reservation) (*Proc, error) {
	bin, err := needCommand("dnsmasq", "dnsmasq-base")
	if err != nil {
		return nil, err
	}
	ns := n.BridgeNS[:len(n.BridgeNS)-len("-br")] + "-dhcp"
	if err := e.addNamespace(ns); err != nil {
		return nil, err
	}
	err = runAll(
		[]string{"ip", "-n", ns, "link", "set", "lo", "up"},
		[]string{"ip", "-n", n.BridgeNS, "link", "add", "dhcpup", "type", "veth", "peer", "name", "dhcp0", "netns", ns},
		[]string{"ip", "-n", n.BridgeNS, "link", "set", "dhcpup", "master", BridgeIface, "up"},
		[]string{"ip", "-n", ns, "addr", "add", netip.PrefixFrom(at, n.Prefix.Bits()).String(), "dev", "dhcp0"},
		[]string{"ip", "-n", ns, "link", "set", "dhcp0", "up"},
	)
	if err != nil {
		return nil, err
	}
	dir, err := e.TempDir()
	if err != nil {
		return nil, err
	}
	first, last := n.Addr(200), n.Addr(220)
	args := []string{"ip", "netns", "exec", ns, bin, "--keep-in-foreground", "--log-facility=-", "--log-dhcp",
		"--conf-file=/dev/null", "--port=0", "--interface=dhcp0", "--bind-interfaces", "--user=root",
		"--dhcp-leasefile=" + filepath.Join(dir, "leases"), "--pid-file=" + filepath.Join(dir, "pid"),
		fmt.Sprintf("--dhcp-range=%s,%s,255.255.255.0,1h", first, last), "--dhcp-authoritative"}
	for _, r := range reservations {
		args = append(args, fmt.Sprintf("--dhcp-host=%s,%s", r.MAC, r.IP))
	}
	p, err := e.start("dnsmasq", 0, args...)
	if err != nil {
		return nil, err
	}
	if _, err := p.WaitFor(regexp.MustCompile(`DHCP, IP range`), 10*time.Second); err != nil {
		return nil, fmt.Errorf("lab: dnsmasq did not start: %w\n%s", err, p.Timed())
	}
	return p, nil
}
