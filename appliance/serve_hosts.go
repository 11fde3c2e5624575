package appliance

import (
	"net"
	"net/netip"
	"os"
	"strings"

	"github.com/provision/provision/api"
)

// ownHosts accepts, in a request's Host header (api.HostName's form), the
// appliance's names and addresses: its --address, the hosts of its
// listeners, its host name and --name, localhost, --api-host, and any
// address of this machine's interfaces or a loopback one. Any other name
// is refused by the API and the dashboard: a page whose DNS name was
// rebound to the appliance's address reads nothing through a browser.
func (a *Appliance) ownHosts() func(host string) bool {
	names := map[string]bool{"localhost": true}
	add := func(n string) {
		if n = api.HostName(n); n != "" {
			names[n] = true
		}
	}
	add(a.cfg.Address)
	add(a.cfg.Name)
	if h, err := os.Hostname(); err == nil {
		add(h)
		if short, _, ok := strings.Cut(h, "."); ok {
			add(short)
		}
	}
	for _, l := range []string{a.cfg.HTTP, a.cfg.API, a.addrs.HTTP, a.addrs.API} {
		if h, _, err := net.SplitHostPort(l); err == nil {
			add(h)
		}
	}
	for _, h := range a.cfg.APIHosts {
		add(h)
	}
	return func(host string) bool {
		if names[host] {
			return true
		}
		ip, err := netip.ParseAddr(host)
		if err != nil {
			return false
		}
		return ip.IsLoopback() || localAddress(ip)
	}
}

// localAddress reports whether ip is an address of one of this machine's
// interfaces (those of a wildcard listener).
func localAddress(ip netip.Addr) bool {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			if p, ok := netip.AddrFromSlice(n.IP); ok && p.Unmap() == ip.Unmap() {
				return true
			}
		}
	}
	return false
}

// apiURL is the API listener's URL: its host, or the appliance's address
// when it listens on every address (api: :8443).
func (a *Appliance) apiURL() string {
	host, port, err := net.SplitHostPort(a.addrs.API)
	if err != nil {
		return "https://" + a.cfg.API
	}
	if ip, err := netip.ParseAddr(host); err == nil && ip.IsUnspecified() {
		host = a.cfg.Address
	}
	return "https://" + net.JoinHostPort(host, port)
}
