package lab

import (
	"fmt"
	"net/netip"
	"os/exec"
	"path/filepath"
	"regexp"
	"testing"
	"time"

	"github.com/provision/provision/internal/testenv"
)

// Reservation is a fixed address a DHCP server gives one MAC.
type Reservation struct {
	MAC string
	IP  netip.Addr
}

// StartDnsmasq runs dnsmasq (Debian's dnsmasq-base) as the network's own
// DHCP server, the one a site already has: in a namespace of its own,
// joined to the bridge, at address at of n's subnet, handing out the
// reservations and a small pool, with no boot options and no DNS. It is
// what a proxyDHCP appliance lives beside. Cleanup stops it.
func (n *Net) StartDnsmasq(t testing.TB, at netip.Addr, reservations ...Reservation) *Proc {
	t.Helper()
	bin := testenv.NeedCommand(t, "dnsmasq")
	ns := n.BridgeNS[:len(n.BridgeNS)-len("-br")] + "-dhcp"
	mustRun(t, "ip", "netns", "add", ns)
	t.Cleanup(func() { exec.Command("ip", "netns", "del", ns).Run() })
	for _, args := range [][]string{
		{"ip", "-n", ns, "link", "set", "lo", "up"},
		{"ip", "-n", n.BridgeNS, "link", "add", "dhcpup", "type", "veth", "peer", "name", "dhcp0", "netns", ns},
		{"ip", "-n", n.BridgeNS, "link", "set", "dhcpup", "master", BridgeIface, "up"},
		{"ip", "-n", ns, "addr", "add", netip.PrefixFrom(at, n.Prefix.Bits()).String(), "dev", "dhcp0"},
		{"ip", "-n", ns, "link", "set", "dhcp0", "up"},
	} {
		mustRun(t, args...)
	}
	dir := t.TempDir()
	first, last := n.Addr(200), n.Addr(220)
	args := []string{"ip", "netns", "exec", ns, bin, "--keep-in-foreground", "--log-facility=-", "--log-dhcp",
		"--conf-file=/dev/null", "--port=0", "--interface=dhcp0", "--bind-interfaces", "--user=root",
		"--dhcp-leasefile=" + filepath.Join(dir, "leases"), "--pid-file=" + filepath.Join(dir, "pid"),
		fmt.Sprintf("--dhcp-range=%s,%s,255.255.255.0,1h", first, last), "--dhcp-authoritative"}
	for _, r := range reservations {
		args = append(args, fmt.Sprintf("--dhcp-host=%s,%s", r.MAC, r.IP))
	}
	p := startProc(t, "dnsmasq", 0, args...)
	if _, err := p.WaitFor(regexp.MustCompile(`DHCP, IP range`), 10*time.Second); err != nil {
		t.Fatalf("lab: dnsmasq did not start: %v\n%s", err, p.Timed())
	}
	return p
}
